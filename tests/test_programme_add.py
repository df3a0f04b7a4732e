"""`ledger programme add`: what a notice says about its programme, and ledger.toml edited in place."""

from __future__ import annotations

import shutil
import tomllib
from datetime import date, time
from pathlib import Path

import notices
import pytest
import yichuan
from click.testing import CliRunner, Result

from ledger import config
from ledger.areas import area_of
from ledger.cli import main
from ledger.config_edit import Entry, add_table
from ledger.errors import ConfigError
from ledger.registry.notice_facts import bulletin_cadence, programme_title, read_facts, receiving_office
from ledger.resources import SKELETON, shipped

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "source_data" / "notices"
SKELETON_TOML = (shipped(SKELETON) / "ledger.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("issuer", "area"), [
    ("宜川县人民政府办公室", "宜川县"),
    ("洛阳市偃师区人民政府", "偃师区"),
    ("延安市宜川县人民政府办公室", "宜川县"),
    ("中共宜川县委办公室", "宜川县"),
    ("洛阳市城市提质工作领导小组办公室", "洛阳市"),  # 城市 is no area
    ("嵩县人民政府", "嵩县"),
    ("洛阳高新区管委会", "洛阳高新区"),
    ("宜川县城市管理局", "宜川县"),
    ("县政府办公室", ""),
    ("各县区人民政府", ""),
    ("市生态环境局宜川分局", ""),
])
def test_area_of_an_issuer(issuer: str, area: str) -> None:
    assert area_of(issuer) == area


def test_scope_defaults_to_the_issuers_area(tmp_path: Path) -> None:
    base = '[programmes.a]\ntitle = "x"\nissued = 2024-03-01\nissuer = "宜川县人民政府办公室"\n'
    (tmp_path / "ledger.toml").write_text(base, encoding="utf-8")
    assert config.load(tmp_path).programme("a").scope == "宜川县"
    (tmp_path / "ledger.toml").write_text(base + 'scope = "洛川县"\n', encoding="utf-8")
    assert config.load(tmp_path).programme("a").scope == "洛川县"
    (tmp_path / "ledger.toml").write_text(base + 'scope = ""\n', encoding="utf-8")  # written empty: not written
    assert config.load(tmp_path).programme("a").scope == "宜川县"
    (tmp_path / "ledger.toml").write_text(base.replace("宜川县人民政府办公室", "县政府办公室"), encoding="utf-8")
    assert config.load(tmp_path).programme("a").scope == ""


# ---- what a notice says ------------------------------------------------------------------------


def facts_of(path: Path) -> dict[str, object]:
    return {f.key: f.value for f in read_facts(path).facts}


def test_county_notice_gives_every_key(tmp_path: Path) -> None:
    found = read_facts(yichuan.write_notice(tmp_path))
    values = {f.key: f.value for f in found.facts}
    assert values == {
        "title": "宜川县2024年重点工作任务", "doc_number": "宜政办〔2024〕9号", "issuer": "宜川县人民政府办公室",
        "issued": date(2024, 3, 1), "scope": "宜川县", "cycle": "monthly", "due_day": 25, "due_time": time(16, 0),
        "office": "宜川县政府督查室", "contact": "李娜", "phone": "0911-4821234", "email": "ycxdcs@163.com",
        "bulletin": "monthly",
        "requirement": "各牵头单位要于每月25日前将重点工作进展情况以工作台账形式报送县政府督查室",
    }
    assert found.missing == []
    reviewed = {f.key for f in found.facts if f.review}
    assert reviewed == {"scope", "due_time", "office"}  # derived or defaulted: the office checks them
    assert len(found.notice.tasks) == 7


def test_word_notice_gives_the_same_facts(tmp_path: Path) -> None:
    text = yichuan.write_notice(tmp_path)
    word = notices.word_notice(tmp_path / "通知.docx", yichuan.NOTICE.splitlines())
    assert facts_of(word) == facts_of(text)


def test_sample_notices(tmp_path: Path) -> None:
    yanshi = read_facts(SAMPLES / "yanshi_偃政2023-6号.txt")
    values = {f.key: f.value for f in yanshi.facts}
    assert (values["scope"], values["cycle"], values["due"]) == ("偃师区", "quarterly", "last_workday")
    assert values["requirement"].startswith("每季度末由牵头单位向区政府汇报重点工作进度")
    assert "office（接收台账的单位，如 县政府督查室）" in yanshi.missing  # 向区政府汇报 names no office
    tizhi = read_facts(SAMPLES / "351_洛城提办文2022-11号.txt")
    values = {f.key: f.value for f in tizhi.facts}
    assert values["scope"] == "洛阳市" and values["bulletin"] == "monthly"  # 实行周督导检查、月考核通报制度
    assert values["title"] == "洛阳市城市提质“351”工程行动六大专项行动"
    # the reporting rules are the annexes' (每周五16时前), not the programme's: defaults, marked
    assert values["cycle"] == "weekly" and any("报送周期" in m for m in tizhi.missing)
    assert "email" not in values  # the annexes' contacts are not the programme's
    assert {p.annex for p in tizhi.proposals} >= {"A1", "A2"}


@pytest.mark.parametrize(("sentence", "office"), [
    ("各牵头单位于每月25日前报送县政府督查室", ("宜川县政府督查室", "报送县政府督查室")),
    ("每月5日前将进展情况报县委县政府督查室备案", ("宜川县委县政府督查室", "报县委县政府督查室")),
    ("每季度末向县政府汇报", ("", "")),
])
def test_receiving_office(sentence: str, office: tuple[str, str]) -> None:
    assert receiving_office(sentence, "宜川县") == office


@pytest.mark.parametrize(("sentences", "cadence"), [
    (["县政府督查室每月通报一次工作进展情况。"], ("monthly", "每月通报")),
    (["建立工作台账，实行周督导检查、月考核通报制度。"], ("monthly", "月考核通报")),
    (["督查室按季度通报考核结果。"], ("quarterly", "按季度通报")),
    (["实施日通报、周例会、月观摩、季考评制度，加强督查。"], None),
    (["每月通报一次。"], None),  # not about the office's 督查: a task's own wording
])
def test_bulletin_cadence(sentences: list[str], cadence: tuple[str, str] | None) -> None:
    assert bulletin_cadence(sentences) == cadence


def test_programme_title_drops_the_documents_word() -> None:
    assert programme_title("宜川县2024年重点工作任务分解方案") == "宜川县2024年重点工作任务"
    assert programme_title("洛阳平台城市建设2022年细化措施") == "洛阳平台城市建设2022年细化措施"
    assert programme_title("实施方案") == "实施方案"


# ---- ledger.toml edited in place ---------------------------------------------------------------

ENTRIES = [Entry("title", "宜川县2024年重点工作任务", "通知标题"), Entry("issued", date(2024, 3, 1)),
           Entry("cycle", "monthly"), Entry("due_day", 25, "通知原文：“每月25日前”"), Entry("due_time", time(16, 0))]


def kept_in_order(old: str, new: str) -> bool:
    lines = iter(new.splitlines())
    return all(any(line == other for other in lines) for line in old.splitlines())


def test_table_goes_after_the_commented_example_and_nothing_else_moves(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    path.write_text(SKELETON_TOML, encoding="utf-8")
    add_table(path, ("programmes", "yc2024"), ENTRIES, ["由 ledger programme add 添加"])
    add_table(path, ("programmes", "yc2025"), ENTRIES)
    text = path.read_text(encoding="utf-8")
    assert kept_in_order(SKELETON_TOML, text)
    assert len(text.splitlines()) == len(SKELETON_TOML.splitlines()) + 2 * (len(ENTRIES) + 2) + 1
    order = [text.index(s) for s in ("# [programmes.example]", "[programmes.yc2024]", "[programmes.yc2025]",
                                     "# ---- 邮件发送")]
    assert order == sorted(order)
    assert "due_day = 25" in text and "# 通知原文：“每月25日前”" in text
    parsed = tomllib.loads(text)["programmes"]
    assert parsed["yc2024"] == {"title": "宜川县2024年重点工作任务", "issued": date(2024, 3, 1), "cycle": "monthly",
                                "due_day": 25, "due_time": "16:00"}
    ws = config.load(tmp_path)
    assert ws.programme("yc2025").reporting.due_day == 25


def test_table_goes_after_the_last_programme(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    shutil.copy(REPO / "ledger.toml", path)
    before = path.read_text(encoding="utf-8")
    add_table(path, ("programmes", "yc2024"), ENTRIES)
    text = path.read_text(encoding="utf-8")
    assert kept_in_order(before, text)
    assert text.index("[programmes.yanshi]") < text.index("[programmes.yc2024]") < text.index("# Lights")
    assert tomllib.loads(text)["lights"] == tomllib.loads(before)["lights"]


def test_windows_line_ends_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    path.write_bytes(SKELETON_TOML.replace("\n", "\r\n").encode("utf-8"))
    add_table(path, ("programmes", "yc2024"), ENTRIES)
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") > len(SKELETON_TOML.splitlines())
    assert config.load(tmp_path).programme("yc2024").reporting.due_day == 25


def test_a_layout_it_cannot_place_gets_tomlkits_append(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    odd = '[programmes.a]\ntitle = "x"\nlist = [\n  "y",\n["z"]\n]\n\n[other]\nk = 1\n'  # ["z"] looks like a header
    path.write_text(odd, encoding="utf-8")
    add_table(path, ("programmes", "b"), ENTRIES)
    parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    assert parsed["programmes"]["a"] == {"title": "x", "list": ["y", ["z"]]} and parsed["other"] == {"k": 1}
    assert parsed["programmes"]["b"]["due_day"] == 25


def test_a_table_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    path.write_text(SKELETON_TOML, encoding="utf-8")
    weekly_by_day = [Entry("title", "x"), Entry("issued", date(2024, 3, 1)), Entry("due_day", 25)]  # weekly: no due_day
    with pytest.raises(ConfigError, match="due_day 只适用于按月或按季度报送"):
        add_table(path, ("programmes", "x"), weekly_by_day, check=lambda doc: config.parse(doc, tmp_path))
    assert path.read_text(encoding="utf-8") == SKELETON_TOML


def test_an_existing_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.toml"
    shutil.copy(REPO / "ledger.toml", path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"已有 \[programmes.351\]"):
        add_table(path, ("programmes", "351"), ENTRIES)
    assert path.read_bytes() == before


# ---- the command --------------------------------------------------------------------------------


def fresh(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    return root


def add(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-w", str(root), "programme", "add", *args], prog_name="ledger")


def test_id_from_the_doc_number_and_refusals_that_change_nothing(tmp_path: Path) -> None:
    root = fresh(tmp_path)
    path = yichuan.write_notice(tmp_path)
    before = (root / "ledger.toml").read_bytes()
    bad = add(root, str(path), "--id", "宜川")
    assert bad.exit_code == 1 and "只能包含英文字母、数字" in bad.output
    assert (root / "ledger.toml").read_bytes() == before
    res = add(root, str(path), "--units")
    assert "[programmes.p2024-9]" in res.output
    assert config.load(root).programme("p2024-9").doc_number == "宜政办〔2024〕9号"
    # --units: the registry is imported with the directory's names at once
    assert "县发展和改革委员会" in res.output and "任务清单已写入 source_data/p2024-9/registry.xlsx" in res.output
    other = tmp_path / "other.txt"
    other.write_text(yichuan.NOTICE.replace("宜政办〔2024〕9号", "宜政办〔2024〕12号"), encoding="utf-8")
    taken = add(root, str(other), "--id", "p2024-9")
    assert taken.exit_code == 1 and "已被" in taken.output and "--id" in taken.output


def test_a_notice_without_tasks_or_date(tmp_path: Path) -> None:
    root = fresh(tmp_path)
    res = add(root, str(SAMPLES / "luoning_宁政办2021-17号.txt"), "--id", "luoning")
    assert res.exit_code == 0, res.output
    assert "没有逐项标注单位的任务" in res.output and "ledger registry import 任务分解表.xlsx -p luoning" in res.output
    assert config.load(root).programme("luoning").scope == "洛宁县"
    undated = tmp_path / "undated.txt"
    undated.write_text(yichuan.NOTICE.replace("2024年3月1日\n", ""), encoding="utf-8")
    before = (root / "ledger.toml").read_bytes()
    res = add(root, str(undated), "--id", "yc")
    assert res.exit_code == 1 and "--issued 2024-03-01" in res.output
    assert (root / "ledger.toml").read_bytes() == before
    res = add(root, str(undated), "--id", "yc", "--issued", "2024-03-04", "--scope", "宜川县")
    assert res.exit_code in (0, 1), res.output
    prog = config.load(root).programme("yc")
    assert prog.issued == date(2024, 3, 4) and prog.scope == "宜川县"


def test_a_notice_without_a_doc_number_is_not_added_twice(tmp_path: Path) -> None:
    root = fresh(tmp_path)
    path = tmp_path / "无文号.txt"
    path.write_text(yichuan.NOTICE.replace("宜政办〔2024〕9号\n", ""), encoding="utf-8")
    first = add(root, str(path))
    assert "[programmes.p20240301]" in first.output
    again = add(root, str(path))
    assert "项目“宜川县2024年重点工作任务”（2024-03-01）已在 ledger.toml 中（编号 p20240301），未重复添加" in again.output
    assert list(config.load(root).programmes) == ["p20240301"]


def test_a_missing_units_directory_is_created_empty(tmp_path: Path) -> None:
    root = fresh(tmp_path)
    (root / "source_data" / "units.xlsx").unlink()
    res = add(root, str(yichuan.write_notice(tmp_path)), "--id", "yc2024")
    assert "已新建空白单位名录 source_data/units.xlsx" in res.output
    assert (root / "source_data" / "yc2024" / "registry.xlsx").is_file()
