"""``generate``: the 工作台账 workbooks read back with openpyxl (meaning, not bytes)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from conftest import make_workspace
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.utils import get_column_letter

from ledger import config, layout
from ledger.errors import InputError, WorkspaceError
from ledger.generate import GeneratedWorkbook, build_workbook, generate
from ledger.layout import PreviousReport
from ledger.periods import PeriodError, parse_period
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.registry.workbook import write_registry
from ledger.run import Run
from ledger.secret import key_id, workspace_key

REPO_CONFIG = Path(__file__).resolve().parents[1] / "ledger.toml"
PERIOD = "2022-W23"  # 2022-06-06 .. 2022-06-12, due Friday 2022-06-10
TRANSPORT = "市交通运输局"
NDRC = "市发展和改革委员会"
PLANNING = "市自然资源和规划局"
COUNTIES = "各县区政府"


def _task(tid: str, lead: list[str], **kw) -> Task:
    annex = tid.split("-")[1]
    kw.setdefault("path", [{"A1": "交通枢纽建设工程", "A2": "城市风貌提升工程"}.get(annex, "青年安居乐业工程")])
    return Task(id=tid, programme="351", text=kw.pop("text", f"任务{tid}的内容。"), lead_units=lead, **kw)


def make_registry() -> Registry:
    info = ProgrammeInfo("351", "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", date(2022, 5, 7))
    tasks = [
        _task("351-A1-01", [TRANSPORT], text="机场综合保障能力提升项目。", leaders=["张明", "李华"],
              cooperating_units=["市财政局"], responsible_units=["偃师区政府"],
              deadline_text="2022年12月底前", deadline=date(2022, 12, 31),
              milestones=[Milestone(date(2022, 6, 10), "完成立项"), Milestone(date(2022, 9, 30), "完成招投标"),
                          Milestone(date(2022, 12, 31), "开工建设")]),
        _task("351-A1-02", [TRANSPORT, NDRC], text="综合交通枢纽规划编制。", deadline=date(2022, 6, 30),
              milestones=[Milestone(date(2022, 6, 20), "形成初稿")]),
        _task("351-A2-01", [PLANNING], text="城市风貌管控长效机制。", deadline_text="长期坚持", ongoing=True),
        _task("351-A2-02", [PLANNING], text='=HYPERLINK("http://x") 街区更新', deadline=date(2022, 6, 30),
              milestones=[Milestone(date(2022, 6, 8), "完成方案")]),
        _task("351-A3-01", [COUNTIES], text="青年人才公寓筹集。", deadline=date(2022, 12, 31)),
        _task("351-A3-02", [NDRC], text="青年创业扶持资金。", deadline=date(2022, 10, 31)),
    ]
    return Registry(info, tasks, annexes={"A1": "交通枢纽建设工程", "A2": "城市风貌提升工程"})


@pytest.fixture
def ws(tmp_path: Path) -> config.Workspace:
    return make_workspace(tmp_path / "ws")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[config.Workspace, Registry, list[GeneratedWorkbook]]:
    workspace = make_workspace(tmp_path_factory.mktemp("gen") / "ws")
    registry = make_registry()
    return workspace, registry, generate(Run.open(workspace, "351", PERIOD, registry=registry))


def _by_unit(generated) -> dict[str, GeneratedWorkbook]:
    return {g.unit: g for g in generated[2]}


def _ledger(path: Path, **kw) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(path, **kw)[layout.LEDGER_SHEET]


def _columns(sheet) -> dict[str, int]:
    """Column key → 1-based column, found by header text as the reader will."""
    header = [c.value for c in sheet[layout.HEADER_ROW + 1]]
    return {k: i + 1 for k, i in layout.find_columns(header).items()}


def _task_rows(sheet) -> list[int]:
    cols = _columns(sheet)
    return [r for r in range(layout.FIRST_TASK_ROW + 1, sheet.max_row + 1)
            if sheet.cell(r, cols["task_id"]).value]


def _text(value: object) -> str:
    return str(value) if value is not None else ""


# ---- files and rows ------------------------------------------------------------------------

def test_one_file_per_lead_unit_with_recognisable_names(generated) -> None:
    ws, registry, results = generated
    assert [g.unit for g in results] == registry.lead_units()
    folder = ws.root / "out" / "351" / PERIOD / "templates"
    assert sorted(p.name for p in folder.iterdir()) == sorted(layout.workbook_name(PERIOD, u)
                                                              for u in registry.lead_units())
    transport = _by_unit(generated)[TRANSPORT]
    assert transport.path == folder / f"{PERIOD}_{TRANSPORT}_工作台账.xlsx"
    assert transport.tasks == 2


def test_task_rows_match_the_registry_for_each_unit(generated) -> None:
    _, registry, results = generated
    for result in results:
        sheet = _ledger(result.path)
        cols = _columns(sheet)
        rows = _task_rows(sheet)
        expected = registry.tasks_led_by(result.unit)
        assert [sheet.cell(r, cols["task_id"]).value for r in rows] == [t.id for t in expected]
        for n, (r, task) in enumerate(zip(rows, expected, strict=True), start=1):
            assert sheet.cell(r, cols["seq"]).value == n
            assert sheet.cell(r, cols["text"]).value == task.text
            assert sheet.cell(r, cols["lead"]).value == "、".join(task.lead_units)
            assert sheet.cell(r, cols["category"]).value == task.path[0]
    # The co-led task is in both lead units' workbooks.
    for unit in (TRANSPORT, NDRC):
        sheet = _ledger(_by_unit(generated)[unit].path)
        ids = [sheet.cell(r, _columns(sheet)["task_id"]).value for r in _task_rows(sheet)]
        assert "351-A1-02" in ids


def test_title_info_row_headers_and_cell_texts(generated) -> None:
    sheet = _ledger(_by_unit(generated)[TRANSPORT].path)
    assert sheet["A1"].value == "洛阳市城市提质“351”工程行动六大专项行动工作台账（2022年第23周 6月6日—6月10日）"
    # A4 landscape: the first page carries every column but the reference ones, and the title
    # spans them on screen; on paper the title is the page header (print area from row 2), since
    # in the key columns repeated in front of the reference columns it would show cut off
    band = len([c for c in layout.COLUMNS if not c.reference])
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"A1:{get_column_letter(band)}1" in merged
    assert sheet["A1"].value in sheet.oddHeader.center.text
    assert sheet.print_area.startswith("'工作台账'!$A$2:")
    info_rows = range(layout.INFO_ROW + 1, layout.HEADER_ROW + 1)
    info = [c.value for r in info_rows for c in sheet[r] if c.value]
    assert info[0] == f"填报单位（盖章）：{TRANSPORT}"
    assert [v for v in info[1:] if str(v).endswith("：")] == [f"{f}：" for f in layout.INFO_FIELDS[1:]]
    # the signature rows are on page 1, each field with room for its label
    assert all(c.column <= band for r in info_rows for c in sheet[r] if c.value)
    assert [c.value for c in sheet[layout.HEADER_ROW + 1]] == [c.header for c in layout.COLUMNS]
    cols = _columns(sheet)
    first = _task_rows(sheet)[0]
    assert sheet.cell(first, cols["leaders"]).value == "张明、李华"
    assert sheet.cell(first, cols["cooperating"]).value == "市财政局"
    assert sheet.cell(first, cols["responsible"]).value == "偃师区政府"
    assert sheet.cell(first, cols["deadline"]).value == "2022年12月底前"
    assert sheet.cell(first, cols["milestones"]).value == "6月10日前 完成立项\n9月30日前 完成招投标\n12月31日前 开工建设"
    assert sheet.cell(first + 1, cols["deadline"]).value == "2022年6月30日前"
    widths = {i: d.width for d in sheet.column_dimensions.values() for i in range(d.min, d.max + 1)}
    for c, col in enumerate(layout.COLUMNS, start=1):
        assert widths[c] == pytest.approx(col.width, abs=0.8)  # Excel adds padding to the stored width


def test_ongoing_task_and_group_lead(generated) -> None:
    sheet = _ledger(_by_unit(generated)[PLANNING].path)
    cols = _columns(sheet)
    row = _task_rows(sheet)[0]
    assert sheet.cell(row, cols["task_id"]).value == "351-A2-01"
    assert sheet.cell(row, cols["deadline"]).value == "长期坚持"
    assert sheet.cell(row, cols["milestones"]).value is None
    group = _ledger(_by_unit(generated)[COUNTIES].path)
    assert group.cell(_task_rows(group)[0], _columns(group)["lead"]).value == COUNTIES


def test_formula_like_registry_text_stays_text(generated) -> None:
    sheet = _ledger(_by_unit(generated)[PLANNING].path)
    cell = sheet.cell(_task_rows(sheet)[1], _columns(sheet)["text"])
    assert cell.value == '=HYPERLINK("http://x") 街区更新'
    assert cell.data_type == "s"
    assert cell.quotePrefix


def test_leaders_column_only_when_a_task_names_a_leader(ws) -> None:
    registry = make_registry()
    for t in registry.tasks:
        t.leaders = []
    [result] = generate(Run.open(ws, "351", PERIOD, registry=registry), units=[TRANSPORT])
    headers = [c.value for c in _ledger(result.path)[layout.HEADER_ROW + 1]]
    assert "牵头领导" not in headers
    assert headers == [c.header for c in layout.COLUMNS if c.key != "leaders"]


# ---- protection, validation, print ----------------------------------------------------------

def test_locked_and_unlocked_cells(generated) -> None:
    sheet = _ledger(_by_unit(generated)[TRANSPORT].path)
    cols = _columns(sheet)
    for r in _task_rows(sheet):
        for key, c in cols.items():
            assert sheet.cell(r, c).protection.locked is (key in layout.LOCKED_KEYS), (key, r)
    for c in range(1, len(cols) + 1):
        assert sheet.cell(layout.HEADER_ROW + 1, c).protection.locked
    unit = sheet.cell(layout.INFO_ROW + 1, 1)
    assert unit.value == f"填报单位（盖章）：{TRANSPORT}" and unit.protection.locked
    info = [c for r in range(layout.INFO_ROW + 1, layout.HEADER_ROW + 1) for c in sheet[r]
            if c.value and str(c.value).endswith("：")]
    assert all(c.protection.locked for c in info)
    # The value cell right of each other label is open for typing.
    values = [sheet.cell(c.row, c.column + _merged_width(sheet, c)) for c in info]
    assert [v.protection.locked for v in values] == [False] * (len(layout.INFO_FIELDS) - 1)
    below = sheet.cell(_task_rows(sheet)[-1] + 1, cols["progress"])
    assert below.protection.locked  # no rows for units to add


def _merged_width(sheet, cell) -> int:
    for rng in sheet.merged_cells.ranges:
        if cell.coordinate in rng:
            return rng.max_col - rng.min_col + 1
    return 1


def test_sheets_protected_without_password_rows_and_columns_resizable(generated) -> None:
    wb = openpyxl.load_workbook(_by_unit(generated)[TRANSPORT].path)
    for name in (layout.LEDGER_SHEET, layout.GUIDE_SHEET):
        prot = wb[name].protection
        assert prot.sheet is True
        assert prot.password is None
        assert prot.formatColumns is False and prot.formatRows is False  # False = allowed
        assert prot.insertRows is True and prot.deleteRows is True and prot.insertColumns is True


def test_data_validations(generated) -> None:
    sheet = _ledger(_by_unit(generated)[TRANSPORT].path)
    cols = _columns(sheet)
    rows = _task_rows(sheet)
    by_type = {dv.type: dv for dv in sheet.data_validations.dataValidation}
    assert set(by_type) == {"list", "whole", None}  # None: input message only (共同牵头)
    co_led = by_type[None]
    progress = get_column_letter(cols["progress"])
    assert str(co_led.sqref) == f"{progress}{rows[1]}"  # 351-A1-02 is co-led with 市发改委
    assert co_led.prompt == "共同牵头：市交通运输局、市发展和改革委员会；请报本单位承担部分。"
    lead = sheet.cell(rows[1], cols["lead"])
    assert lead.comment is not None and "请报本单位承担部分" in lead.comment.text
    assert sheet.cell(rows[0], cols["lead"]).comment is None

    status = by_type["list"]
    letter = get_column_letter(cols["status"])
    assert str(status.sqref) == f"{letter}{rows[0]}:{letter}{rows[-1]}"
    assert status.formula1 == '"' + ",".join(layout.UNIT_STATUSES) + '"'
    assert layout.OVERDUE not in status.formula1
    assert not status.showDropDown  # showDropDown=True would hide the arrow
    assert status.showErrorMessage and status.errorTitle and status.error

    percent = by_type["whole"]
    letter = get_column_letter(cols["percent"])
    assert str(percent.sqref) == f"{letter}{rows[0]}:{letter}{rows[-1]}"
    assert (percent.operator in (None, "between"), percent.formula1, percent.formula2) == (True, "0", "100")
    assert percent.showInputMessage and percent.showErrorMessage
    assert "整数" in percent.prompt and percent.promptTitle == "完成进度（%）"
    assert "0到100" in percent.error and percent.errorTitle


def test_ongoing_tasks_take_an_empty_percent_and_say_so(generated) -> None:
    """常态化 rows: no whole-number rule on 完成进度 (empty or "/" is allowed), an input message instead."""
    sheet = _ledger(_by_unit(generated)[PLANNING].path)
    cols, rows = _columns(sheet), _task_rows(sheet)
    ids = [sheet.cell(r, cols["task_id"]).value for r in rows]
    assert ids == ["351-A2-01", "351-A2-02"]  # ongoing, then a dated task
    letter = get_column_letter(cols["percent"])
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation if letter in str(dv.sqref)}
    assert set(rules) == {f"{letter}{rows[0]}", f"{letter}{rows[1]}"}
    ongoing, dated = rules[f"{letter}{rows[0]}"], rules[f"{letter}{rows[1]}"]
    assert ongoing.type is None and "可不填" in ongoing.prompt and "常态化推进" in ongoing.prompt
    assert dated.type == "whole" and (dated.formula1, dated.formula2) == ("0", "100")
    guide = "\n".join(str(c.value) for row in sheet.parent[layout.GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "常态化（长期坚持）任务" in guide and "序时进度" in guide and "共同牵头" in guide


def test_schedule_column_gives_the_period_s_expected_progress(generated) -> None:
    """序时进度 (locked) on 2022-06-12, the last day of week 23: what the unit compares itself with."""
    sheet = _ledger(_by_unit(generated)[TRANSPORT].path)
    cols, rows = _columns(sheet), _task_rows(sheet)
    texts = {sheet.cell(r, cols["task_id"]).value: sheet.cell(r, cols["schedule"]).value for r in rows}
    # 351-A1-01: steps 6/10 (33), 9/30 (67), 12/31 (100); on 6/12 the second step runs from 6/10.
    assert texts["351-A1-01"] == "34%\n9月30日前应达67%"
    # 351-A1-02: milestone 6/20 (50) then deadline 6/30 (100); 36 of 44 days to the first step.
    assert texts["351-A1-02"] == "41%\n6月20日前应达50%"
    assert sheet.cell(rows[0], cols["schedule"]).protection.locked
    planning = _ledger(_by_unit(generated)[PLANNING].path)
    pcols, prows = _columns(planning), _task_rows(planning)
    assert planning.cell(prows[0], pcols["schedule"]).value == "常态化"


def test_print_setup_fonts_and_fills(generated) -> None:
    path = _by_unit(generated)[TRANSPORT].path
    sheet = _ledger(path)
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
    # a fixed scale that keeps 11 pt text at 9 pt or more, never shrunk to fit one page wide
    assert not sheet.sheet_properties.pageSetUpPr or not sheet.sheet_properties.pageSetUpPr.fitToPage
    assert 82 <= int(setup.scale) <= 100
    band = len([c for c in layout.COLUMNS if not c.reference])
    assert [b.id for b in sheet.col_breaks.brk] == [band]  # the reference columns on their own page
    assert sheet.print_title_rows == f"${layout.HEADER_ROW + 1}:${layout.HEADER_ROW + 1}" and sheet.print_title_cols == "$A:$C"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert sheet.freeze_panes == f"A{layout.FIRST_TASK_ROW + 1}"
    assert sheet["A1"].font.name == "方正小标宋简体" and sheet["A1"].font.sz == 18
    header = sheet.cell(layout.HEADER_ROW + 1, 1)
    assert header.font.name == "仿宋" and header.font.b and header.alignment.wrap_text
    cols = _columns(sheet)
    row = _task_rows(sheet)[0]
    locked, typed = sheet.cell(row, cols["text"]), sheet.cell(row, cols["progress"])
    assert (locked.font.name, locked.font.sz) == ("仿宋", 11) and locked.alignment.wrap_text
    assert locked.fill.fgColor.rgb == "FFF2F2F2"
    assert typed.fill.fill_type is None


# ---- metadata ------------------------------------------------------------------------------

def test_very_hidden_meta_sheet_with_keyed_checksums_and_the_record_in_the_store(generated) -> None:
    """The checksums are HMACs under the workspace's key (they were plain hashes that anyone could
    recompute); the seal covers the task list; the store records the same digests as sent."""
    workspace, registry, results = generated
    key = workspace_key(workspace.root)
    with Run.open(workspace, "351", PERIOD) as run:
        records = run.store.manifests("351", PERIOD)
    assert sorted(records) == sorted(r.unit for r in results)
    for result in results:
        wb = openpyxl.load_workbook(result.path)
        meta = wb[layout.META_SHEET]
        assert meta.sheet_state == "veryHidden"
        assert wb.sheetnames[0] == layout.LEDGER_SHEET and wb.active.title == layout.LEDGER_SHEET
        rows = list(meta.iter_rows(values_only=True))
        keys = dict((r[0], r[1]) for r in rows[: len(layout.META_KEYS)])
        assert list(keys) == list(layout.META_KEYS)
        assert keys["programme"] == "351" and keys["period"] == PERIOD and keys["cycle"] == "weekly"
        assert keys["unit"] == result.unit
        assert keys["layout_version"] == layout.LAYOUT_VERSION
        assert keys["registry_hash"] == registry.content_hash()
        assert re.fullmatch(r"ledger \d+\.\d+\.\d+", keys["generator"])
        assert keys["key_id"] == key_id(key)
        assert rows[len(layout.META_KEYS)][0] == layout.TASK_ROWS_MARKER
        task_rows = rows[len(layout.META_KEYS) + 1:]
        assert [r[0] for r in task_rows] == [t.id for t in registry.tasks_led_by(result.unit)]
        sheet = wb[layout.LEDGER_SHEET]
        cols = _columns(sheet)
        for task_id, excel_row, checksum in task_rows:
            assert sheet.cell(excel_row, cols["task_id"]).value == task_id
            values = [sheet.cell(excel_row, cols[k]).value for k in layout.CHECKSUM_KEYS]
            assert layout.row_digest(values, key) == checksum
            assert layout.row_checksum(values) != checksum and layout.row_digest(values, b"\0" * 32) != checksum
        digests = [(r[0], r[2]) for r in task_rows]
        assert keys["mac"] == layout.manifest_mac(key, "351", PERIOD, result.unit, layout.LAYOUT_VERSION, digests)
        record = records[result.unit]
        assert (list(record.tasks), record.layout_version, record.key_id) == (digests, layout.LAYOUT_VERSION,
                                                                              key_id(key))
        assert record.workbook_sha256 == result.sha256


def test_checksum_notices_an_edited_locked_cell(generated) -> None:
    key = workspace_key(generated[0].root)
    wb = openpyxl.load_workbook(_by_unit(generated)[TRANSPORT].path)
    sheet, meta = wb[layout.LEDGER_SHEET], wb[layout.META_SHEET]
    task_id, excel_row, checksum = next(meta.iter_rows(min_row=len(layout.META_KEYS) + 2, values_only=True))
    cols = _columns(sheet)
    values = [sheet.cell(excel_row, cols[k]).value for k in layout.CHECKSUM_KEYS]
    assert layout.row_digest(values, key) == checksum
    values[layout.CHECKSUM_KEYS.index("deadline")] = "2023年12月底前"
    assert layout.row_digest(values, key) != checksum


def test_defined_names_identify_the_file(generated) -> None:
    result = _by_unit(generated)[NDRC]
    names = openpyxl.load_workbook(result.path).defined_names
    got = {k: names[k].attr_text for k in names}
    assert got == {
        "LEDGER_PROGRAMME": '"351"',
        "LEDGER_PERIOD": f'"{PERIOD}"',
        "LEDGER_UNIT": f'"{NDRC}"',
        "LEDGER_LAYOUT_VERSION": f'"{layout.LAYOUT_VERSION}"',
    }


# ---- highlighted milestone, guide, pre-fill --------------------------------------------------

def test_milestone_due_this_period_is_highlighted_with_a_note(generated) -> None:
    path = _by_unit(generated)[TRANSPORT].path
    sheet = _ledger(path, rich_text=True)
    cols = _columns(sheet)
    first, second = _task_rows(sheet)
    cell = sheet.cell(first, cols["milestones"])
    assert isinstance(cell.value, CellRichText)
    red = [b.text.strip() for b in cell.value if isinstance(b, TextBlock) and b.font.b]
    assert red == ["6月10日前 完成立项"]
    assert all(b.font.color.rgb == "FFC00000" for b in cell.value if isinstance(b, TextBlock) and b.font.b)
    assert cell.fill.fgColor.rgb == "FFFFF2CC"
    assert "6月10日前 完成立项" in cell.comment.text and "本期" in cell.comment.text
    # 6月20日 is not in this week: no highlight, no note; the deadline is not this week either.
    plain = sheet.cell(second, cols["milestones"])
    assert plain.value == "6月20日前 形成初稿" and plain.comment is None
    assert plain.fill.fgColor.rgb == "FFF2F2F2"
    # A cell whose only milestone is due is red as a whole.
    planning = _ledger(_by_unit(generated)[PLANNING].path)
    whole = planning.cell(_task_rows(planning)[1], _columns(planning)["milestones"])
    assert whole.value == "6月8日前 完成方案"
    assert whole.font.b and whole.font.color.rgb == "FFC00000" and whole.comment is not None


def _guide_text(path: Path) -> str:
    sheet = openpyxl.load_workbook(path)[layout.GUIDE_SHEET]
    return "\n".join(" ".join(_text(v) for v in row) for row in sheet.iter_rows(values_only=True))


def test_guide_uses_the_annex_when_all_tasks_are_in_one(generated) -> None:
    planning = _guide_text(_by_unit(generated)[PLANNING].path)
    assert "2022年6月10日（星期五）18:00前" in planning
    assert "接收单位 市自然资源和规划局" in planning and "csfm@example.org" in planning
    transport = _guide_text(_by_unit(generated)[TRANSPORT].path)
    assert "2022年6月10日（星期五）16:00前" in transport and "jtsn@example.org" in transport
    # 发改委 leads tasks in A1 and A3: the programme's own office receives.
    ndrc = _guide_text(_by_unit(generated)[NDRC].path)
    assert "接收单位 洛阳市城市提质工作领导小组办公室" in ndrc and "tizhi-office@example.org" in ndrc
    assert "0379-00000000" in ndrc
    for status, meaning in layout.STATUS_MEANINGS.items():
        assert f"{status}：{meaning}" in ndrc
    for rule in ("重命名", "插入或删除行、列", "合并单元格", ".xlsx", "本期进展情况"):
        assert rule in ndrc


def test_prefill_from_the_previous_accepted_report(ws) -> None:
    previous = {
        TRANSPORT: {
            "351-A1-01": PreviousReport("完成可研批复。", "可研已批复", 40, "正常推进"),
            "351-A1-02": PreviousReport("初稿编制中。", "", 150, layout.OVERDUE),
        }
    }
    [result] = generate(Run.open(ws, "351", PERIOD, registry=make_registry()), units=[TRANSPORT], previous_for=lambda unit: previous.get(unit, {}))
    sheet = _ledger(result.path)
    cols = _columns(sheet)
    first, second = _task_rows(sheet)
    got = [sheet.cell(first, cols[k]).value for k in ("previous", "progress", "cumulative", "percent", "status")]
    assert got == ["完成可研批复。", None, "可研已批复", 40, layout.ON_SCHEDULE]
    assert sheet.cell(first, cols["previous"]).protection.locked
    # Out-of-range percentages and the tool-only 逾期未完成 are not carried over.
    got = [sheet.cell(second, cols[k]).value for k in ("previous", "percent", "status")]
    assert got == ["初稿编制中。", None, None]


# ---- determinism, errors, options ------------------------------------------------------------

def test_same_registry_and_period_give_identical_bytes(ws, generated) -> None:
    registry = make_registry()
    programme = ws.programme("351")
    period = parse_period(PERIOD, "weekly")
    key = workspace_key(ws.root)
    one = build_workbook(registry, programme, period, TRANSPORT, key=key)
    assert one == build_workbook(make_registry(), programme, period, TRANSPORT, key=key)
    with zipfile.ZipFile(_by_unit(generated)[TRANSPORT].path) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2022-06-06T00:00:00Z" in core
    same = generated[0]  # the bytes depend on the workspace's key: generated again in that workspace
    first = generate(Run.open(same, "351", PERIOD, registry=registry))
    again = generate(Run.open(same, "351", PERIOD, registry=registry), jobs=2)
    assert [g.sha256 for g in first] == [g.sha256 for g in again] == [g.sha256 for g in generated[2]]
    assert [g.unit for g in again] == registry.lead_units()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_that_fails_on_the_way_replaces_no_workbook(ws, monkeypatch, jobs: int) -> None:
    """The workbooks of a run replace the earlier ones together (one flush to disk): one that
    cannot be built stops the run with every file as it was and nothing left behind."""
    from ledger.generate import run as generate_run

    registry = make_registry()
    first = generate(Run.open(ws, "351", PERIOD, registry=registry))
    folder = first[0].path.parent
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    real = generate_run._Job.build

    def build(self, unit, previous):
        if unit == PLANNING:
            raise RuntimeError("the disk went away")
        return real(self, unit, previous)

    monkeypatch.setattr(generate_run._Job, "build", build)
    edited = make_registry()
    edited.tasks[0].text = "机场综合保障能力提升项目（修订）。"  # every file would change
    with pytest.raises(RuntimeError, match="disk went away"):
        generate(Run.open(ws, "351", PERIOD, registry=edited), jobs=jobs)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


def test_unknown_unit_names_close_lead_units(ws) -> None:
    with pytest.raises(InputError) as err:
        generate(Run.open(ws, "351", PERIOD, registry=make_registry()), units=["市交通厅"])
    assert "市交通厅" in str(err.value) and TRANSPORT in str(err.value)
    # an alias of the units directory is the lead unit it names (the registry's name on the file)
    [made] = generate(Run.open(ws, "351", PERIOD, registry=make_registry()), units=["市交通局"])
    assert made.unit == TRANSPORT and TRANSPORT in made.path.name
    # the workbook builder itself takes only the registry's names
    with pytest.raises(InputError, match="市交通局"):
        build_workbook(make_registry(), ws.programme("351"), parse_period(PERIOD, "weekly"), "市交通局", key=b"k" * 32)


def test_period_must_fit_the_programme_cycle(ws) -> None:
    with pytest.raises(PeriodError, match="2022-W23"):
        generate(Run.open(ws, "351", "2022-06", registry=make_registry()))


def test_registry_read_from_the_workspace_and_its_errors_refused(ws) -> None:
    registry = make_registry()
    write_registry(registry, ws.registry_path("351"))
    results = generate(Run.open(ws, "351", PERIOD), units=[PLANNING])
    assert [r.unit for r in results] == [PLANNING]
    meta = openpyxl.load_workbook(results[0].path)[layout.META_SHEET]
    assert meta.cell(layout.META_KEYS.index("registry_hash") + 1, 2).value == registry.content_hash()
    broken = dataclasses.replace(registry.tasks[1], id=registry.tasks[0].id)
    write_registry(Registry(registry.programme, [registry.tasks[0], broken]), ws.registry_path("351"))
    with pytest.raises(InputError, match="重复"):
        generate(Run.open(ws, "351", PERIOD))


def test_out_dir_stays_inside_the_workspace(ws, tmp_path) -> None:
    [result] = generate(Run.open(ws, "351", PERIOD, registry=make_registry()), units=[NDRC], out_dir=Path("to_send"))
    assert result.path == ws.root.resolve() / "to_send" / layout.workbook_name(PERIOD, NDRC)
    with pytest.raises(WorkspaceError):
        generate(Run.open(ws, "351", PERIOD, registry=make_registry()), units=[NDRC], out_dir=tmp_path / "elsewhere")


# ---- LibreOffice --------------------------------------------------------------------------

def test_libreoffice_opens_the_workbook(generated, tmp_path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    source = tmp_path / "in.xlsx"
    shutil.copy(_by_unit(generated)[TRANSPORT].path, source)
    cmd = [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
           "--convert-to", 'csv:Text - txt - csv (StarCalc):44,34,76', "--outdir", str(tmp_path / "csv"), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    out = tmp_path / "csv" / "in.csv"
    assert done.returncode == 0 and out.is_file(), done.stderr
    text = out.read_text(encoding="utf-8")
    assert "工作台账（2022年第23周 6月6日—6月10日）" in text
    assert "351-A1-01" in text and "6月10日前 完成立项" in text
