"""The registry workbook round trip: write, edit as a reviewer would, read back."""

from datetime import date

import openpyxl
import pytest

from ledger.errors import InputError
from ledger.problems import flatten
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.registry.workbook import TASK_SHEET, read_registry_file, write_registry


def make_registry() -> Registry:
    info = ProgrammeInfo("351", "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", date(2022, 5, 7))
    tasks = [
        Task(
            id="351-A1-02", programme="351", path=["交通枢纽建设工程", "二、工作任务"],
            text="机场综合保障能力提升项目开工建设。", lead_units=["市商务局"], lead_units_raw=["市商务局"],
            cooperating_units=["市发展和改革委员会", "市财政局"], cooperating_units_raw=["市发改委", "财政局"],
            deadline_text="2022年12月底前", deadline=date(2022, 12, 31),
            milestones=[Milestone(date(2022, 6, 30), "完成立项"), Milestone(date(2022, 9, 30), "完成招投标")],
        ),
        Task(
            id="351-A2-01-04", programme="351", path=["城市风貌提升工程"], text="=HYPERLINK(\"x\") 长期任务",
            lead_units=["市自然资源和规划局", "市住房和城乡建设局"], deadline_text="长期坚持", ongoing=True,
            leaders=["朱蕾"], review=["deadline-ambiguous：请确认"],
        ),
    ]
    return Registry(info, tasks, annexes={"A1": "交通枢纽建设工程", "A2": "城市风貌提升工程"})


def test_round_trip_is_lossless(tmp_path):
    reg = make_registry()
    path = write_registry(reg, tmp_path / "registry.xlsx")
    back, problems = read_registry_file(path, "351")
    assert problems == []
    assert back.programme == reg.programme
    assert back.annexes == reg.annexes
    assert [t.to_json() for t in back.tasks] == [t.to_json() for t in reg.tasks]
    assert back.content_hash() == reg.content_hash()


def test_formula_like_text_stays_text(tmp_path):
    path = write_registry(make_registry(), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)[TASK_SHEET]
    cell = ws["B3"]
    assert cell.value.startswith("=HYPERLINK")
    assert cell.data_type == "s"


def test_reviewer_edits_are_read_and_ids_kept(tmp_path):
    path = write_registry(make_registry(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[TASK_SHEET]
    # A reviewer moves the 备注 column first, fixes a deadline and a unit.
    ws.insert_cols(1)
    ws["A1"] = "备注"
    ws["A2"] = "已与商务局确认"
    ws["F2"] = "2022-11-30"  # 完成时限（日期） moved one column right (E → F)
    ws["D2"] = "市商务局、市文旅集团"
    wb.save(path)
    back, problems = read_registry_file(path, "351")
    assert problems == []
    t = back.tasks[0]
    assert t.id == "351-A1-02"
    assert t.note == "已与商务局确认"
    assert t.deadline == date(2022, 11, 30)
    assert t.lead_units == ["市商务局", "市文旅集团"]


@pytest.mark.parametrize(
    "cell, value, code",
    [("E2", "明年底", "registry-bad-date"), ("F2", "6月底 完成立项", "registry-bad-milestone"),
     ("A3", "351-A1-02", "duplicate-id"), ("A3", None, "missing-id"), ("M2", "也许", "registry-bad-flag")],
)
def test_bad_cells_are_problems_with_their_cell(tmp_path, cell, value, code):
    path = write_registry(make_registry(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[TASK_SHEET][cell] = value
    wb.save(path)
    _, problems = read_registry_file(path, "351")
    assert (code, cell) in flatten(problems)
    assert all(p.file == "r.xlsx" and p.sheet == TASK_SHEET for p in problems)


def test_structural_damage_is_an_input_error(tmp_path):
    path = write_registry(make_registry(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[TASK_SHEET].title = "Sheet1"
    wb.save(path)
    with pytest.raises(InputError, match="任务清单"):
        read_registry_file(path)
    path.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="r.xlsx"):
        read_registry_file(path)


def test_missing_header_named(tmp_path):
    path = write_registry(make_registry(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    wb[TASK_SHEET]["C1"] = "主办单位"
    wb.save(path)
    with pytest.raises(InputError, match="牵头单位"):
        read_registry_file(path)


def test_prints_as_a_review_list_on_a4(tmp_path):
    """A4 landscape at a fixed scale that keeps 11 pt text at 9 pt or more; the review columns on
    the first pages, units and path on pages behind 任务编号; the title in the page header."""
    from ledger.registry.workbook import COLUMNS, REGISTRY_BANDS

    ws = openpyxl.load_workbook(write_registry(make_registry(), tmp_path / "r.xlsx"))[TASK_SHEET]
    assert (ws.page_setup.orientation, int(ws.page_setup.paperSize)) == ("landscape", 9)
    assert 82 <= int(ws.page_setup.scale) <= 100 and not ws.sheet_properties.pageSetUpPr.fitToPage
    assert [b.id for b in ws.col_breaks.brk] == list(REGISTRY_BANDS)
    assert ws.print_title_cols == "$A:$A" and ws.print_title_rows == "$1:$1"
    assert [c.header for c in COLUMNS[:REGISTRY_BANDS[0]]] == [
        "任务编号", "重点任务", "牵头单位", "完成时限（原文）", "完成时限（日期）", "时间节点", "审核标记"]
    assert ws.print_area == f"'{TASK_SHEET}'!$A$1:$L${ws.max_row}"  # the flags and the notice's wording: screen only
    assert "任务清单" in ws.oddHeader.center.text and "&P" in ws.oddFooter.center.text
    a3 = openpyxl.load_workbook(write_registry(make_registry(), tmp_path / "a3.xlsx", paper="A3"))[TASK_SHEET]
    assert int(a3.page_setup.paperSize) == 8
