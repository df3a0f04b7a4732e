"""The shared 工作台账 layout: statuses, percentages, headers, checksums."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import layout
from ledger.periods import parse_period


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("已办结", "已完成"),
        ("提前完成", "已完成"),
        (" 超进度 ", "超序时"),
        ("正常推进。", "按序时推进"),
        ("未达序时", "滞后"),
        ("暂未开启", "未启动"),
        ("逾期", "逾期未完成"),
        ("常态化", "常态化推进"),
        ("按序时推进", "按序时推进"),
    ],
)
def test_status_synonyms(raw: str, canonical: str) -> None:
    assert layout.normalise_status(raw) == canonical


@pytest.mark.parametrize("raw", ["", None, "差不多", "完成了一半"])
def test_unknown_status(raw: object) -> None:
    assert layout.normalise_status(raw) is None


def test_unit_cannot_choose_overdue() -> None:
    assert layout.OVERDUE in layout.STATUSES
    assert layout.OVERDUE not in layout.UNIT_STATUSES


@pytest.mark.parametrize(
    ("raw", "value", "normalised"),
    [
        (80, 80, False),
        (80.0, 80, False),
        ("80", 80, False),
        ("80%", 80, True),
        ("８０％", 80, True),
        (0.8, 80, True),
        ("0.5", 50, True),
        ("0.5%", 0, True),
        ("八成", 80, True),
        ("十成", 100, True),
        ("百分之八十五", 85, True),
        (100, 100, False),
        (0, 0, False),
    ],
)
def test_percent_forms(raw: object, value: int, normalised: bool) -> None:
    got = layout.parse_percent(raw)
    assert (got.value, got.normalised) == (value, normalised)


@pytest.mark.parametrize("raw", ["2000万", "120", -5, 101, "很多", True])
def test_percent_rejected(raw: object) -> None:
    assert layout.parse_percent(raw).value is None
    assert not layout.parse_percent(raw).empty


def test_percent_empty() -> None:
    assert layout.parse_percent("  ").empty
    assert layout.parse_percent(None).value is None


@given(st.integers(min_value=0, max_value=100))
def test_percent_roundtrip_every_form(n: int) -> None:
    for raw in (n, float(n), str(n), f"{n}%", f"{n}％"):
        assert layout.parse_percent(raw).value == n


def test_status_lookup_keys_need_no_normalising() -> None:
    # normalise_status looks a value up as typed before normalising it; that is only the
    # same answer if every key is what normalising it gives
    assert all(layout._squash(key) == key for key in layout._STATUS_LOOKUP)


#: characters nfkc folds, what they can combine with, whitespace and plain text around them
_NORMALISATION_PRONE = st.sampled_from(
    ["，", "　", "Ａ", "ｶ", "\uff9e", "\uff9f", "①", "㎡", "…", "\u0301", "\u0308", "\u3099", "\u309a",
     "\u1161", "\u11a8", "e", "A", "カ", "가", "\u1100", " ", "\n", "\u00a0", "\u00a8", "ﬁ", "市", "。"])


@given(st.text() | st.text(alphabet=_NORMALISATION_PRONE))
def test_nfkc_and_squash_are_their_plain_definitions(text: str) -> None:
    # squash feeds the checksums stored in generated workbooks: its fast paths must not change a bit
    plain = unicodedata.normalize("NFKC", text)
    assert layout.nfkc(text) == plain
    assert layout.squash(text) == "".join(plain.split())


@pytest.mark.parametrize("around", ["", "a", "\u0301", "가\u11a8", "\u3099\u0308"])
def test_nfkc_folds_every_character_as_nfkc_does(around: str) -> None:
    for char in layout._WIDTH_FOLDS:
        for text in (char, around + char, char + around, around + char + around):
            assert layout.nfkc(text) == unicodedata.normalize("NFKC", text), (hex(ord(char)), around)


def test_find_columns_by_header_not_position() -> None:
    headers = ["备注", "序号", " 任务\n编号", "重点任务", "牵头单位", "配合单位", "责任单位", "完成时限", "时间节点",
               "新插入的列", "本期进展", "累计完成情况(形象进度)", "完成进度", "推进状态", "存在问题及原因",
               "下步工作计划", "需协调解决事项"]
    found = layout.find_columns(headers)
    assert found["note"] == 0
    assert found["task_id"] == 2
    assert found["progress"] == 10
    assert found["cumulative"] == 11
    assert found["percent"] == 12
    assert layout.required_missing(found) == []


def test_required_missing_names_the_column() -> None:
    found = layout.find_columns(["序号", "任务编号", "重点任务"])
    missing = {c.header for c in layout.required_missing(found)}
    assert "推进状态" in missing and "牵头领导" not in missing


def test_checksum_ignores_whitespace_but_not_content() -> None:
    base = layout.row_checksum(["351-A1-01", "建设洛阳站", "市交通运输局", "2022年12月底前", ""])
    assert layout.row_checksum(["351-A1-01", "建设 洛阳站\n", "市交通运输局", "2022年12月底前", None]) == base
    assert layout.row_checksum(["351-A1-01", "建设洛阳东站", "市交通运输局", "2022年12月底前", ""]) != base


def test_names_and_title() -> None:
    period = parse_period("2022-W23", "weekly")
    assert layout.workbook_name("2022-W23", "市交通运输局") == "2022-W23_市交通运输局_工作台账.xlsx"
    assert "/" not in layout.workbook_name("2022-W23", "a/b")
    assert layout.title("洛阳市交通枢纽建设工程", period) == "洛阳市交通枢纽建设工程工作台账（2022年第23周 6月6日—6月10日）"


def test_locked_and_input_columns_partition() -> None:
    assert set(layout.LOCKED_KEYS) | set(layout.INPUT_KEYS) == set(layout.BY_KEY)
    assert "progress" in layout.INPUT_KEYS and "previous" in layout.LOCKED_KEYS
    assert set(layout.CHECKSUM_KEYS) <= set(layout.LOCKED_KEYS)
