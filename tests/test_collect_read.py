"""Reading and checking one returned 工作台账: generated for real, filled as a unit would."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import hostile as h
import pytest
import returned as rt
from openpyxl import load_workbook

from ledger import layout
from ledger.collect.checks import Checked, Sent, check_workbook
from ledger.collect.reader import ReadWorkbook, formula_kind, read_returned, read_workbook
from ledger.config import Programme, Workspace, load
from ledger.generate import build_workbook
from ledger.generate.xlsx import build_with_digests
from ledger.periods import Period, parse_period
from ledger.problems import flatten
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.secret import key_id
from ledger.store import Manifest
from ledger.store.model import Entry

#: the workspace key of these tests: workbooks are made with it and checked against it
KEY = b"\x07" * 32
UNIT = "市交通运输局"
OTHER = "市城市管理局"
T1, T2, T3, T4 = "351-A1-01", "351-A1-02", "351-A1-03", "351-A5-01"


def _registry(title: str) -> Registry:
    def task(tid: str, text: str, leads: list[str], **kw: object) -> Task:
        return Task(tid, "351", ["一、交通枢纽建设"], text, lead_units=leads, lead_units_raw=leads, **kw)

    return Registry(ProgrammeInfo("351", title), [
        task(T1, "加快洛阳站综合交通枢纽建设，完成站房改造", [UNIT], deadline=date(2022, 12, 31),
             milestones=[Milestone(date(2022, 6, 10), "完成立项"), Milestone(date(2022, 9, 30), "开工建设")]),
        task(T2, "优化公交线网，新开通公交线路5条", [UNIT, OTHER], cooperating_units=["市公安局"],
             deadline_text="长期坚持", ongoing=True),
        task(T3, "-推进停车设施建设（文字以减号开头）", [UNIT], deadline_text="2022年10月底前",
             deadline=date(2022, 10, 31)),
        task(T4, "整治占道经营", [OTHER], deadline=date(2022, 8, 31)),
    ])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Programme, Registry, Period]:
    root = tmp_path_factory.mktemp("ws")
    shutil.copy(Path(__file__).resolve().parents[1] / "ledger.toml", root / "ledger.toml")
    ws = load(root)
    programme = ws.programme("351")
    return ws, programme, _registry(programme.title), parse_period("2022-W23", "weekly")


def generated(env: tuple, directory: Path, unit: str = UNIT, period_key: str = "2022-W23",
              name: str = "ledger.xlsx") -> Path:
    _, programme, registry, _ = env
    period = parse_period(period_key, "weekly")
    path = directory / name
    path.write_bytes(build_workbook(registry, programme, period, unit, key=KEY))
    return path


def sent_for(env: tuple, *units: str, period_key: str = "2022-W23") -> Sent:
    """The office's record of what it sent *units* (default: 交通运输局) for *period_key*, as generate makes it."""
    _, programme, registry, _ = env
    manifests = {}
    for unit in units or (UNIT,):
        _, digests = build_with_digests(registry, programme, parse_period(period_key, "weekly"), unit, key=KEY)
        manifests[unit] = Manifest("351", period_key, unit, layout.LAYOUT_VERSION, key_id(KEY), tuple(digests))
    return Sent(KEY, manifests)


def read(path: Path) -> ReadWorkbook:
    wb, problems = read_returned(path)
    assert wb is not None, problems
    assert not [p for p in problems if p.is_error]
    return wb


def check(env: tuple, path: Path, sent: Sent | None = None, **kw: object) -> Checked:
    """*path* checked as collect does; by default for a period without records (the seal counts)."""
    _, programme, registry, period = env
    return check_workbook(read(path), file=path.name, registry=registry, programme=programme,
                          period=period, sent=sent or Sent(KEY), **kw)


FILLED = {
    T1: {"progress": "完成站房主体结构", "cumulative": "形象进度60%", "percent": 60, "status": "按序时推进",
         "issues": "拆迁进度慢", "next_steps": "加快拆迁", "coordination": "需市自然资源局协调用地", "note": "无"},
    T2: {"progress": "新开通线路2条", "percent": "/", "status": "常态化推进"},  # ongoing: no percent
    T3: {"progress": "=SUM(1,2) 只是文字", "percent": 30, "status": "滞后", "issues": "+资金未到位",
         "next_steps": "@财政局", "note": "-备注"},
}


def expected_entries(rows: dict[str, int] | None = None) -> list[Entry]:
    rows = rows or {T1: 5, T2: 6, T3: 7}
    return [
        Entry(T1, rows[T1], "完成站房主体结构", "形象进度60%", 60, "按序时推进", "拆迁进度慢", "加快拆迁",
              "需市自然资源局协调用地", "无"),
        Entry(T2, rows[T2], "新开通线路2条", rt.DEFAULTS["cumulative"], None, "常态化推进"),
        Entry(T3, rows[T3], "=SUM(1,2) 只是文字", rt.DEFAULTS["cumulative"], 30, "滞后", "+资金未到位", "@财政局",
              "", "-备注"),
    ]


# --- good files ---------------------------------------------------------------------------------


def test_good_file_accepted_with_exact_entries(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED)
    result = check(env, path)
    assert flatten(result.problems) == []
    assert result.accepted
    assert (result.programme, result.period, result.unit, result.identified_by) == ("351", "2022-W23", UNIT, "metadata")
    assert result.entries == expected_entries()


def test_reader_sees_metadata_names_and_structure(env: tuple, tmp_path: Path) -> None:
    wb = read(rt.fill(generated(env, tmp_path), FILLED))
    assert wb.format == "xlsx"
    assert wb.ledger_sheet == layout.LEDGER_SHEET
    assert wb.sheet_states[layout.META_SHEET] == "veryhidden"
    assert wb.meta["programme"] == "351" and wb.meta["period"] == "2022-W23" and wb.meta["unit"] == UNIT
    assert wb.meta["layout_version"] == str(layout.LAYOUT_VERSION)
    assert [(t, r) for t, r, _ in wb.meta_rows] == [(T1, 5), (T2, 6), (T3, 7)]
    assert wb.defined["LEDGER_UNIT"] == UNIT and wb.defined["LEDGER_PERIOD"] == "2022-W23"
    assert "A1:L1" in wb.merged  # the title over the first page's columns
    assert wb.formulas == [] and wb.unavailable == []
    assert wb.rows[5][1] == T2


def test_column_inserted_and_moved_still_read(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        rt.insert_column(ws, "progress", "责任人", "张三")
        rt.move_column_to_end(ws, "status")

    path = rt.fill(generated(env, tmp_path), FILLED, transform=edit)
    ws = load_workbook(path)[layout.LEDGER_SHEET]
    assert ws["E4"].value == "责任人" and ws.cell(4, ws.max_column).value == "推进状态"
    result = check(env, path)
    assert flatten(result.problems) == []
    assert result.entries == expected_entries()


def test_rows_sorted_still_read(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.sort_tasks(ws, reverse=True))
    result = check(env, path)
    assert flatten(result.problems) == []
    assert result.entries == expected_entries({T1: 7, T2: 6, T3: 5})


def test_meta_sheet_deleted_identified_by_content(env: tuple, tmp_path: Path) -> None:
    """The office's record says what the file must hold; without one (a period generated by an
    earlier ledger) the registry does, and the file is told so."""
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.delete_meta(wb))
    result = check(env, path, sent_for(env))
    assert flatten(result.problems) == [("identified-by-content", None)]
    assert (result.identified_by, result.unit, result.period, result.accepted) == ("content", UNIT, "2022-W23", True)
    assert result.entries == expected_entries()
    result = check(env, path)
    assert flatten(result.problems) == [("identified-by-content", None), ("checked-against-registry", None)]
    assert result.accepted and result.entries == expected_entries()


def test_meta_sheet_deleted_names_kept_identify_by_metadata(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.delete_meta(wb, names=False))
    result = check(env, path, sent_for(env))
    assert flatten(result.problems) == []
    assert result.identified_by == "metadata" and result.entries == expected_entries()


def test_meta_gone_unit_from_tasks_when_info_row_blank(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        rt.delete_meta(wb)
        ws["A2"].value = "填报单位（盖章）："

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert result.unit == UNIT and result.accepted


def test_renamed_extension_read_by_sniffed_kind(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED)
    renamed = path.with_suffix(".xls")
    path.rename(renamed)
    wb = read(renamed)
    assert wb.format == "xlsx"
    assert check(env, renamed).entries == expected_entries()


def test_precheck_runs_first(tmp_path: Path) -> None:
    bad = tmp_path / "fake.xlsx"
    bad.write_text("<html><body>不是表格</body></html>", encoding="utf-8")
    wb, problems = read_returned(bad)
    assert wb is None and flatten(problems) == [("file-not-spreadsheet", None)]


# --- sheet and identification ---------------------------------------------------------------------


def test_sheet_renamed(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws.title = "交通局台账"

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "value")) == [("sheet-renamed", "交通局台账")]
    assert result.accepted and result.entries == expected_entries()


def test_no_ledger_sheet(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws.title = "Sheet1"
        for c in range(1, ws.max_column + 1):
            ws.cell(4, c).value = None

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems) == [("no-ledger-sheet", None)]
    assert not result.accepted and result.identified_by == "none"


def test_wrong_programme_by_metadata(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.set_meta(wb, "programme", "pingtai"))
    result = check(env, path)
    assert flatten(result.problems) == [("wrong-programme", None)]
    assert result.entries == []


def test_wrong_programme_by_content(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        rt.delete_meta(wb)
        ws["A1"].value = "洛阳平台城市建设2022年细化措施工作台账（2022年6月）"
        col = rt.columns(ws)["task_id"]
        for r in rt.task_rows(ws).values():
            ws.cell(r, col).value = f"PT-{r}"

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems) == [("wrong-programme", None)]
    assert result.identified_by == "none"


def test_wrong_period_names_both(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path, period_key="2022-W22"), FILLED))
    assert flatten(result.problems) == [("wrong-period", None)]
    message = result.problems[0].message
    assert "2022年第22周 5月30日—6月3日" in message and "2022年第23周 6月6日—6月10日" in message


def test_wrong_period_by_content(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path, period_key="2022-W22"), FILLED, transform=lambda wb, ws: rt.delete_meta(wb))
    result = check(env, path)
    assert flatten(result.problems) == [("wrong-period", "A1"), ("identified-by-content", None)]
    assert "第22周" in result.problems[0].message


def test_unit_unknown(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.set_meta(wb, "unit", "市某某局"))
    assert flatten(check(env, path).problems, ("code", "value")) == [("unit-unknown", "市某某局")]


def test_unit_in_info_row_differs(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["A2"].value = "填报单位（盖章）：市交通局"

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems) == [("unit-mismatch", "A2")]
    assert result.unit == UNIT and result.accepted


def test_expected_unit_differs(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), FILLED), expected_unit=OTHER)
    assert flatten(result.problems) == [("wrong-unit", None)]
    assert not result.accepted


def test_layout_version_differs(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.set_meta(wb, "layout_version", 99))
    assert flatten(check(env, path, sent_for(env)).problems, ("code", "value")) == [("layout-version", "99")]
    assert flatten(check(env, path).problems, ("code", "value")) == [("layout-version", "99")]  # its checksums say nothing


# --- what the office sent decides -----------------------------------------------------------------

OTHER_KEY = b"\x08" * 32


def test_a_forged_checksum_is_refused(env: tuple, tmp_path: Path) -> None:
    """完成时限 edited and the checksums rebuilt from the source (the plain hash of layouts 1–3, or
    HMAC under a key of one's own): was accepted; refused now, against the record or the seal."""
    for with_key in (None, OTHER_KEY):
        def forge(wb: object, ws: object, k: bytes | None = with_key) -> None:
            rt.forge_locked(wb, ws, T1, "deadline", "2023年12月31日前", with_key=k)

        path = rt.fill(generated(env, tmp_path, name=f"forged-{bool(with_key)}.xlsx"), FILLED, transform=forge)
        assert flatten(check(env, path, sent_for(env)).problems, ("code", "cell", "task")) == [
            ("locked-changed", "M5", T1)]
        assert flatten(check(env, path).problems) == [("not-sealed", None)]


def test_a_task_deleted_with_its_hidden_line_is_missing(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.delete_task(wb, ws, T3))
    result = check(env, path, sent_for(env))
    assert flatten(result.problems, ("code", "task")) == [("task-missing", T3)] and not result.accepted
    assert "351-A1-03" in result.problems[0].message
    assert flatten(check(env, path).problems) == [("not-sealed", None)]  # no record: the seal tells


def test_a_renamed_task_id_is_named(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.rename_task(wb, ws, T3, "351-A1-09"))
    result = check(env, path, sent_for(env))
    assert flatten(result.problems, ("code", "cell", "task", "value")) == [("task-renamed", "B7", T3, "351-A1-09")]
    assert "改回 351-A1-03" in result.problems[0].message and not result.accepted
    assert flatten(check(env, path).problems) == [("not-sealed", None)]


def test_a_file_no_record_matches_is_refused(env: tuple, tmp_path: Path) -> None:
    """The period has records, none for this unit; or no records and a key that is not this workspace's."""
    path = rt.fill(generated(env, tmp_path), FILLED)
    result = check(env, path, sent_for(env, OTHER))
    assert flatten(result.problems, ("code", "value")) == [("no-record", None)] and result.entries == []
    assert UNIT in result.problems[0].message
    result = check(env, path, Sent(OTHER_KEY))
    assert flatten(result.problems) == [("not-sealed", None)] and "不是用本工作区的密钥" in result.problems[0].message


def test_a_layout_3_workbook_is_checked_against_the_record_or_else_the_registry(env: tuple, tmp_path: Path) -> None:
    """Workbooks of an earlier ledger (plain checksums, no seal): against the record's keyed digests
    when the office has one; in a period generated before records, as before, and told so."""
    path = rt.fill(generated(env, tmp_path), FILLED, transform=rt.as_layout_3)
    assert read(path).meta["layout_version"] == "3"
    result = check(env, path, sent_for(env))
    assert flatten(result.problems) == [] and result.entries == expected_entries()
    result = check(env, path)
    assert flatten(result.problems) == [("checked-against-registry", None)] and result.entries == expected_entries()

    def forge(wb: object, ws: object) -> None:
        rt.as_layout_3(wb, ws)
        rt.forge_locked(wb, ws, T1, "deadline", "2023年12月31日前")

    forged = rt.fill(generated(env, tmp_path, name="forged3.xlsx"), FILLED, transform=forge)
    assert ("locked-changed", "M5") in flatten(check(env, forged, sent_for(env)).problems)


# --- columns and rows -----------------------------------------------------------------------------


def test_required_column_missing(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: rt.delete_column(ws, "status"))
    result = check(env, path)
    assert flatten(result.problems, ("code", "value")) == [("column-missing", "推进状态")]
    assert [e.status for e in result.entries] == ["", "", ""]


def test_locked_content_changed(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["C5"].value = "加快洛阳站综合交通枢纽建设"  # shortened task text
        ws["M7"].value = "2022年12月底前"  # later deadline
        ws["P5"].value = "上期进展可改"  # not covered by the checksum

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "cell", "task")) == [("locked-changed", "C5", T1), ("locked-changed", "M7", T3)]
    assert "2022年10月底前" in result.problems[1].message


def test_whitespace_in_locked_cells_is_not_a_change(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["O5"].value = "6月10日前  完成立项\r\n 9月30日前 开工建设 "

    assert flatten(check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit)).problems) == []


def test_locked_changed_without_meta_compares_with_registry(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        rt.delete_meta(wb)
        ws["N6"].value = UNIT  # co-lead dropped

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit), sent_for(env))
    assert flatten(result.problems) == [("identified-by-content", None), ("locked-changed", "N6")]


def test_task_row_deleted(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: ws.delete_rows(6))
    result = check(env, path)
    assert flatten(result.problems, ("code", "task")) == [("task-missing", T2)]
    assert [e.task_id for e in result.entries] == [T1, T3]


def test_row_added_and_empty_rows_ignored(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["E9"].value = "另外完成了一项工作"
        ws["B10"].value = T4  # another unit's task
        ws["Q10"].value = "一、交通枢纽建设"
        ws["E11"].value = "   "  # whitespace only: ignored

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "cell", "row")) == [("row-added", "E9", 9), ("row-added", "B10", 10)]


def test_signature_and_note_lines_below_the_table_are_warnings(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["A9"].value = "填报人：张三"
        ws["R9"].value = "联系电话：0379-12345678"
        ws["A10"].value = "注：第3项资金已申请"
        ws["A11"].value = "注重质量"  # not a note line: an added row
        ws["A12"].value = "审核人："
        ws["B12"].value = 5  # a number: not a note line either

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "cell", "severity")) == [
        ("note-below-table", "A9", "warning"), ("note-below-table", "A10", "warning"),
        ("row-added", "A11", "error"), ("row-added", "A12", "error")]
    assert result.problems[0].value == "填报人：张三 联系电话：0379-12345678"


def test_note_line_between_task_rows_is_an_added_row(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: ws.insert_rows(6)
                                or setattr(ws["A6"], "value", "填报人：张三")))
    assert ("row-added", "A6") in flatten(result.problems)


def test_duplicated_task_row(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        for c in range(1, ws.max_column + 1):
            rt.put(ws, 8, c, ws.cell(5, c).value)

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "cell", "task")) == [("task-duplicate", "B8", T1)]


# --- status, percent, progress --------------------------------------------------------------------


def test_status_checks(env: tuple, tmp_path: Path) -> None:
    values = {T1: {"status": "正常推进"}, T2: {"status": "差不多"}, T3: {"status": None}}
    result = check(env, rt.fill(generated(env, tmp_path), values))
    assert flatten(result.problems) == [("status-normalised", "H5"), ("status-invalid", "H6"), ("status-missing", "H7")]
    assert [e.status for e in result.entries] == ["按序时推进", "", ""]


def test_overdue_chosen_by_unit_is_a_warning(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T1: {"status": "逾期未完成"}}))
    assert flatten(result.problems) == [("status-overdue-chosen", "H5")]
    assert result.accepted and result.entries[0].status == layout.OVERDUE


@pytest.mark.parametrize(
    ("raw", "percent", "codes"),
    [
        (80, 80, []),
        ("80", 80, []),
        ("80%", 80, ["percent-normalised"]),
        (0.8, 80, ["percent-normalised"]),
        ("八成", 80, ["percent-normalised"]),
        ("大部分", None, ["percent-invalid"]),
        (120, None, ["percent-invalid"]),
        (-5, None, ["percent-invalid"]),
        (None, None, ["percent-missing"]),
    ],
)
def test_percent_forms(env: tuple, tmp_path: Path, raw: object, percent: int | None, codes: list[str]) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T1: {"percent": raw}}))
    assert flatten(result.problems) == [(c, "G5") for c in codes]
    assert result.entries[0].percent == percent


def test_not_started_with_empty_percent_is_zero(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T1: {"status": "未启动", "percent": None}}))
    assert flatten(result.problems) == [] and result.entries[0].percent == 0


def test_done_must_be_100_and_100_should_be_done(env: tuple, tmp_path: Path) -> None:
    """…except on an ongoing task (T2), where 100 is a number like any other and never means done."""
    values = {T1: {"status": "已完成", "percent": 90}, T2: {"status": "常态化推进", "percent": 100},
              T3: {"status": "按序时推进", "percent": 100}}
    result = check(env, rt.fill(generated(env, tmp_path), values))
    assert flatten(result.problems, ("code", "cell", "severity")) == [
        ("done-not-100", "G5", "error"), ("percent-100-not-done", "G7", "warning")]


@pytest.mark.parametrize("blank", [None, "", "/", "／", "—", "-", "无"])
def test_an_ongoing_task_may_leave_its_percent_empty(env: tuple, tmp_path: Path, blank: object) -> None:
    """常态化 (T2) may say nothing about a percentage; a dated task (T3) may not."""
    values = {T2: {"status": "常态化推进", "percent": blank}, T3: {"status": "按序时推进", "percent": blank}}
    result = check(env, rt.fill(generated(env, tmp_path), values))
    [t2] = [e for e in result.entries if e.task_id == T2]
    assert (t2.percent, t2.status) == (None, "常态化推进")
    codes = flatten(result.problems, ("code", "task"))
    assert all(task == T3 for _, task in codes) and codes[0][0] in ("percent-missing", "percent-invalid")


def test_done_on_an_ongoing_task_is_taken_as_ongoing(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T2: {"status": "已完成", "percent": 100}}))
    assert flatten(result.problems, ("code", "cell", "severity")) == [("ongoing-not-done", "H6", "warning")]
    assert [(e.percent, e.status) for e in result.entries if e.task_id == T2] == [(100, "常态化推进")]
    assert result.accepted


def _percent_format(code: str, tasks: tuple[str, ...]) -> Callable[[object, object], None]:
    def transform(wb: object, ws: object) -> None:
        col = rt.columns(ws)["percent"]
        rows = rt.task_rows(ws)
        for task in tasks:
            ws.cell(rows[task], col).number_format = code

    return transform


def test_100_percent_typed_in_excel_is_read_from_the_cell_format(env: tuple, tmp_path: Path) -> None:
    """Excel stores "100%" as the number 1 under a percent format: the format makes it 100 whatever
    the status; a plain 1 stays 1 unless the status is 已完成."""
    values = {T1: {"status": "已完成", "percent": 1.0}, T2: {"status": "常态化推进", "percent": 1},
              T3: {"status": "按序时推进", "percent": 1}}
    path = rt.fill(generated(env, tmp_path), values, transform=_percent_format("0%", (T1, T3)))
    result = check(env, path)
    assert flatten(result.problems, ("code", "cell", "severity")) == [
        ("percent-normalised", "G5", "warning"), ("percent-normalised", "G7", "warning"),
        ("percent-100-not-done", "G7", "warning")]
    assert [e.percent for e in result.entries] == [100, 1, 100]


@pytest.mark.parametrize(("code", "percent"), [
    ("0.0%", 100), ("[Red]0%;-0%", 100), ('0"%"', 1), ("0\\%", 1), ("0.00", 1), ("General", 1)])
def test_custom_number_formats(env: tuple, tmp_path: Path, code: str, percent: int) -> None:
    path = rt.fill(generated(env, tmp_path), {T2: {"status": "按序时推进", "percent": 1}},
                   transform=_percent_format(code, (T2,)))
    assert check(env, path).entries[1].percent == percent


def test_plain_1_under_done_is_still_100(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T1: {"status": "已完成", "percent": 1}}))
    assert flatten(result.problems) == [("percent-normalised", "G5")] and result.entries[0].percent == 100


def test_progress_required_unless_done(env: tuple, tmp_path: Path) -> None:
    values = {T1: {"progress": None}, T3: {"progress": "  ", "status": "已完成", "percent": 100}}
    result = check(env, rt.fill(generated(env, tmp_path), values))
    assert flatten(result.problems) == [("progress-missing", "E5")]


# --- merged cells and formulas --------------------------------------------------------------------


def test_merged_input_cells(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=lambda wb, ws: ws.merge_cells("I6:I7")))
    assert flatten(result.problems, ("code", "cell", "value")) == [("merged-input", "I6", "I6:I7")]


def test_formula_without_cached_value_is_an_error(env: tuple, tmp_path: Path) -> None:
    result = check(env, rt.fill(generated(env, tmp_path), {T1: {"percent": rt.Formula("=40+40")}}))
    assert ("formula-in-input", "G5") in flatten(result.problems)
    assert not result.accepted


def test_formula_with_cached_value_is_sent_back_too(env: tuple, tmp_path: Path) -> None:
    """A unit types values: a formula is sent back even when the file holds its result
    (it was a warning, the result taken, before)."""
    path = rt.fill(generated(env, tmp_path), {T1: {"percent": rt.Formula("=40+40")}})
    rt.set_cached_values(path, {"G5": 80})
    wb = read(path)
    assert wb.formulas == ["G5"] and wb.formulas_without_value == [] and wb.formula_text == {"G5": "=40+40"}
    result = check(env, path)
    assert flatten(result.problems, ("code", "cell", "value")) == [("formula-in-input", "G5", "=40+40")]
    assert "不用公式" in result.problems[0].message and "=40+40" in result.problems[0].message
    assert not result.accepted


@pytest.mark.parametrize(("formula", "kind"), [
    ("=40+40", "formula"), ('=HYPERLINK("http://a.example/[1]|x","点我")', "formula"),  # text in quotes does not count
    ("=cmd|' /C calc'!A0", "dde"), ("=MSEXCEL|'\\..\\cmd.exe'!''", "dde"), ('=DDE("soffice";"x";"A1")', "dde"),
    ("=[1]Sheet1!A1", "external"), ("='C:\\报表\\[旧台账.xlsx]Sheet1'!E5", "external"),
    ("=['file:///C:/a.ods'#$Sheet1.A1]", "external"), ("=SUM([.A1:.A3])", "formula"),
])
def test_formulas_that_reach_a_program_or_another_file_are_told_apart(formula: str, kind: str) -> None:
    assert formula_kind(formula) == kind


def test_an_external_link_formula_in_an_ods_file_is_sent_back(env: tuple, tmp_path: Path) -> None:
    """LibreOffice keeps an external-link formula typed in Excel: in .ods it is still told apart and refused."""
    if rt.soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    source = rt.fill(generated(env, tmp_path), {**FILLED, T1: {**FILLED[T1], "progress": rt.Formula("=[1]Sheet1!A1")}})
    saved = rt.convert(source, "ods", tmp_path / "ods", tmp_path / "lo-profile")
    result = check(env, saved)
    assert ("formula-external-link", "E5") in flatten(result.problems) and not result.accepted


# --- LibreOffice round trips ----------------------------------------------------------------------

LO_FORMATS = ("xlsx", "ods", "xls")


@pytest.fixture(scope="module")
def lo_files(env: tuple, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | float]:
    """One filled ledger (with a formula) saved through LibreOffice as .xlsx, .ods and .xls."""
    if rt.soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    base = tmp_path_factory.mktemp("lo")
    values = {**FILLED, T1: {**FILLED[T1], "percent": rt.Formula("=30+30")}}
    source = rt.fill(generated(env, base, name="filled.xlsx"), values)
    files: dict[str, Path | float] = {}
    for fmt in LO_FORMATS:
        start = time.perf_counter()
        files[fmt] = rt.convert(source, fmt, base / fmt, base / f"lo-{fmt}")
        files[f"{fmt}-seconds"] = time.perf_counter() - start
    return files


@pytest.mark.parametrize("fmt", LO_FORMATS)
def test_libreoffice_round_trip(env: tuple, lo_files: dict, fmt: str) -> None:
    path = lo_files[fmt]
    wb = read(path)
    assert wb.format == fmt
    assert wb.meta["unit"] == UNIT and [t for t, _, _ in wb.meta_rows] == [T1, T2, T3]
    assert wb.sheet_states[layout.META_SHEET] == "hidden"  # LibreOffice has no "very hidden"
    assert wb.defined.get("LEDGER_UNIT") == UNIT
    assert "G5" in wb.formulas and wb.formulas_without_value == []
    result = check(env, path)
    text = None if fmt == "xls" else "=30+30"  # BIFF formulas are tokens: the reader does not give their text
    assert flatten(result.problems, ("code", "cell", "value")) == [("formula-in-input", "G5", text)]
    assert not result.accepted
    assert result.identified_by == "metadata"
    assert result.entries == expected_entries()


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_percent_format_survives_libreoffice(env: tuple, tmp_path: Path, fmt: str) -> None:
    """A 1 shown as 100% keeps its meaning in a file saved by LibreOffice (.xlsx style, .ods value type)."""
    if rt.soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    source = rt.fill(generated(env, tmp_path, name="pct.xlsx"), {T2: {"status": "按序时推进", "percent": 1}},
                     transform=_percent_format("0%", (T2,)))
    saved = rt.convert(source, fmt, tmp_path / fmt, tmp_path / "lo-profile")
    assert check(env, saved).entries[1].percent == 100


def test_libreoffice_xls_read_by_content_when_named_xlsx(env: tuple, lo_files: dict, tmp_path: Path) -> None:
    renamed = tmp_path / "saved-as-xls.xlsx"
    shutil.copy(lo_files["xls"], renamed)
    wb = read_workbook(renamed, "xls")
    assert wb.format == "xls" and wb.meta["period"] == "2022-W23"
    assert check(env, renamed).entries == expected_entries()


def test_rows_inserted_above_header_shift_every_cell(env: tuple, tmp_path: Path) -> None:
    path = rt.fill(generated(env, tmp_path), {**FILLED, T1: {**FILLED[T1], "percent": "60%"}},
                   transform=lambda wb, ws: ws.insert_rows(1))
    result = check(env, path)
    assert flatten(result.problems) == [("percent-normalised", "G6")]
    assert result.entries == expected_entries({T1: 6, T2: 7, T3: 8})


def test_unit_typed_into_the_label_cell(env: tuple, tmp_path: Path) -> None:
    def edit(wb: object, ws: object) -> None:
        ws["A2"].value = "填报单位（盖章）：市交通局  填报人：张三"

    result = check(env, rt.fill(generated(env, tmp_path), FILLED, transform=edit))
    assert flatten(result.problems, ("code", "cell", "value")) == [("unit-mismatch", "A2", "市交通局")]


def test_text_longer_than_a_cell_may_hold(env: tuple, tmp_path: Path) -> None:
    _, programme, registry, period = env
    wb = read(rt.fill(generated(env, tmp_path), FILLED))
    wb.rows[layout.FIRST_TASK_ROW][layout.find_columns(wb.rows[layout.HEADER_ROW])["progress"]] = "进" * 32_768  # precheck stops such files
    result = check_workbook(wb, file="x.xlsx", registry=registry, programme=programme, period=period, sent=Sent(KEY))
    assert flatten(result.problems) == [("cell-too-long", "E5")]


def test_messages_name_what_to_do(env: tuple, tmp_path: Path) -> None:
    values = {T1: {"percent": "大部分"}, T2: {"status": "差不多"}}
    result = check(env, rt.fill(generated(env, tmp_path), values))
    rendered = [p.render() for p in result.problems]
    assert all("ledger.xlsx" in line and "工作台账" in line for line in rendered)
    assert "请填写0到100之间的整数" in rendered[0] and "单元格 G5" in rendered[0] and T1 in rendered[0]


def test_damaged_xls_is_a_problem_not_a_crash(env: tuple, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xls"
    garbage.write_bytes(h.cfb({"Workbook": b"\x09\x08\x10\x00" + b"\xff" * 200}))
    wb, problems = read_returned(garbage)
    assert wb is None and flatten(problems) == [("file-corrupt", None)]
    empty, problems = read_returned(h.xls(tmp_path))  # globals only: no sheet at all
    assert empty is not None and problems == []
    _, programme, registry, period = env
    result = check_workbook(empty, file="old.xls", registry=registry, programme=programme, period=period,
                            sent=Sent(KEY))
    assert flatten(result.problems) == [("no-ledger-sheet", None)]


@pytest.mark.parametrize(("code", "percent"), [
    ("0%", True), ("0.00%", True), ("#,##0.0%", True), ("[Blue]0%", True),
    ('0"%"', False), ("0\\%", False), ("0.00", False), ("General", False), ("[$%-409]0", False)])
def test_percent_format_codes(code: str, percent: bool) -> None:
    from ledger.collect.numfmt import is_percent_code

    assert is_percent_code(code) is percent
