"""Table-style 任务分解表: header found by names, categories, merged cells, keys."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.registry.notice import assign_keys
from ledger.registry.table_style import cell_text, find_header, match_column, read_table


def tasks_of(rows, **kw):
    header = find_header(rows)
    assert header is not None
    tasks, problems = read_table(rows, "表.xlsx", header, **kw)
    assign_keys(tasks)
    return tasks, problems


@pytest.mark.parametrize(
    ("cell", "canon"),
    [
        ("序号", "序号"),
        ("序\n号", "序号"),
        ("重点任务", "任务"),
        ("任务内容", "任务"),
        ("具体任务", "任务"),
        ("工作 任务", "任务"),
        ("牵头单位", "牵头单位"),
        ("牵 头\n单 位", "牵头单位"),
        ("牵头部门", "牵头单位"),
        ("责任单位（列第一位的为牵头单位）", "责任单位"),
        ("配合单位", "配合单位"),
        ("牵头市领导", "牵头领导"),
        ("完成时间", "完成时限"),
        ("完成时限（时间节点）", "完成时限"),
        ("时间节点", "时间节点"),
        ("具体措施", "措施"),
        ("备注", None),
        ("洛阳市城市提质工作任务分解表（2022年）", None),
    ],
)
def test_header_names_and_synonyms(cell, canon):
    assert match_column(cell) == canon


def test_header_below_a_title_row_and_blank_rows():
    rows = [
        ["附件1", "", ""],
        ["某某工作任务分解表", "", ""],
        ["", "", ""],
        ["完成时间", "牵头部门", "工作任务"],
        ["年底前", "县住建局", "改造小区。"],
    ]
    header = find_header(rows)
    assert header.row == 3 and header.data_start == 4
    assert header.columns == {"完成时限": 0, "牵头单位": 1, "任务": 2}


def test_no_header_in_the_first_rows():
    rows = [["说明"]] * 10 + [["序号", "重点任务", "牵头单位"]]
    assert find_header(rows) is None
    assert find_header([["序号", "重点任务", "备注"]]) is None  # no unit column


def test_two_row_header_prefers_the_specific_names():
    rows = [
        ["序号", "重点任务", "责任单位", "责任单位", "完成时限"],
        ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"],
        ["1", "甲", "A", "B", "年底前"],
    ]
    header = find_header(rows)
    assert header.data_start == 2
    assert header.columns == {"序号": 0, "任务": 1, "牵头单位": 2, "配合单位": 3, "完成时限": 4}


def test_category_rows_blank_rows_and_keys():
    rows = [
        ["任务分解表", "", "", ""],
        ["序号", "重点任务", "牵头单位", "完成时限"],
        ["一、交通", "", "", ""],  # Excel merge: one non-empty cell
        ["1", "修路。", "市交通局", "2022年6月底前"],
        ["", "", "", ""],
        ["2", "建站。", "市交通局", ""],
        ["二、城建", "二、城建", "二、城建", "二、城建"],  # Word merge: text repeated
        ["3", "改造小区。", "市住建局", "长期坚持"],
    ]
    tasks, problems = tasks_of(rows)
    assert problems == []
    assert [(t.key, t.number, t.headings, t.line) for t in tasks] == [
        ((1,), "1", ["一、交通"], 4), ((2,), "2", ["一、交通"], 6), ((3,), "3", ["二、城建"], 8),
    ]
    assert tasks[0].fields == {"牵头单位": "市交通局", "完成时限": "2022年6月底前"}
    assert tasks[1].fields == {"牵头单位": "市交通局"}


def test_numbering_restarting_per_category_is_prefixed():
    rows = [
        ["序号", "任务内容", "责任单位"],
        ["一", "交通", ""],
        ["1", "修路。", "A"],
        ["2", "建站。", "B"],
        ["二", "城建", ""],
        ["1", "改造。", "C"],
    ]
    tasks, _ = tasks_of(rows, annex=2, headings=["二、工作任务"])
    assert [(t.annex, t.key) for t in tasks] == [(2, (1, 1)), (2, (1, 2)), (2, (2, 1))]
    assert tasks[2].headings == ["二、工作任务", "二、城建"]


def test_dotted_serials_and_running_positions():
    rows = [["序号", "重点任务", "牵头单位"], ["1.1", "甲", "A"], ["1.2", "乙", "B"], ["2.1", "丙", "C"]]
    tasks, _ = tasks_of(rows)
    assert [t.key for t in tasks] == [(1, 1), (1, 2), (2, 1)]
    rows = [["重点任务", "牵头单位"], ["甲", "A"], ["乙", "B"]]
    assert [t.key for t in tasks_of(rows)[0]] == [(1,), (2,)]


def test_merged_task_cell_over_rows_merges_units():
    rows = [
        ["序号", "重点任务", "牵头单位", "责任单位"],
        ["1", "修路。", "市交通局", "甲区"],
        ["1", "修路。", "市交通局", "乙区"],  # vertical merge as python-docx/filled Excel gives it
        ["", "", "", "丙区"],  # a continuation row with only more units
        ["2", "建桥。", "市住建局", ""],
        ["3", "", "市城管局", ""],
    ]
    tasks, problems = tasks_of(rows)
    assert [t.text for t in tasks] == ["修路。", "建桥。"]
    assert tasks[0].fields["责任单位"] == "甲区、乙区、丙区"
    assert [(p.code, p.row) for p in problems] == [("table-row-without-task", 6)]


def test_task_column_merged_over_measures_becomes_a_heading():
    rows = [
        ["序号", "重点任务", "具体措施", "牵头单位", "时间节点", "完成时限"],
        ["1", "交通枢纽建设", "修路。", "A", "6月底前完成设计", "12月底前"],
        ["2", "交通枢纽建设", "建站。", "B", "", "年底前"],
        ["3", "城市更新", "改造。", "C", "", ""],
    ]
    tasks, _ = tasks_of(rows)
    assert [(t.text, t.headings) for t in tasks] == [
        ("修路。", ["交通枢纽建设"]), ("建站。", ["交通枢纽建设"]), ("改造。", ["城市更新"]),
    ]
    assert tasks[0].fields["完成时限"] == "6月底前完成设计；12月底前"


def test_task_and_measure_columns_per_row_are_joined():
    rows = [["重点任务", "工作目标", "责任单位"], ["修路", "建成10公里。", "A"], ["建站", "", "B"]]
    tasks, _ = tasks_of(rows)
    assert [t.text for t in tasks] == ["修路：建成10公里。", "建站"]


def test_units_one_per_line_in_a_cell():
    rows = [["重点任务", "牵头单位", "牵头领导"], ["修路\n和建桥。", "市交通局\n市住建局", "朱 蕾\n薛超峰"]]
    tasks, _ = tasks_of(rows)
    assert tasks[0].text == "修路和建桥。"
    assert tasks[0].fields == {"牵头单位": "市交通局、市住建局", "牵头领导": "朱 蕾、薛超峰"}


def test_cell_text():
    assert cell_text(3.0) == "3"
    assert cell_text(2.5) == "2.5"
    assert cell_text(None) == ""
    assert cell_text(date(2022, 6, 30)) == "2022年6月30日"
    assert cell_text(datetime(2022, 6, 30)) == "2022年6月30日"
    assert cell_text("  甲 ") == "甲"


CELLS = ["", "", "序号", "重点任务", "牵头单位", "责任单位", "完成时限", "一、类别", "1", "2", "1.1", "（一）", "修路。", "甲局", "年底前"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CELLS), min_size=1, max_size=5), max_size=8))
def test_any_grid_reads_without_crashing(rows):
    header = find_header(rows)
    if header is None:
        return
    tasks, problems = read_table(rows, "g.xlsx", header)
    assign_keys(tasks)
    keys = [t.key for t in tasks]
    assert len(keys) == len(set(keys))
    assert all(t.text for t in tasks)


def test_rows_without_units_are_tasks_unless_they_look_like_headings():
    rows = [
        ["重点任务", "牵头单位"],
        ["交通建设", ""],
        ["修路，全年完成改造提升道路二十条以上，打通断头路五条。", ""],
        ["建桥。", "甲局"],
    ]
    tasks, _ = tasks_of(rows)
    assert [(t.text, t.headings, t.fields) for t in tasks] == [
        ("修路，全年完成改造提升道路二十条以上，打通断头路五条。", ["交通建设"], {}),
        ("建桥。", ["交通建设"], {"牵头单位": "甲局"}),
    ]


def test_category_rows_merged_over_some_columns_with_the_serial_apart():
    # As a reader fills merges: 序号 "一" alone, the name over 重点任务…完成时限 (not 备注).
    rows = [
        ["序号", "重点任务", "牵头单位", "配合单位", "责任领导", "完成时限", "备注"],
        ["一", "持续推进城市更新", "持续推进城市更新", "持续推进城市更新", "持续推进城市更新", "持续推进城市更新", ""],
        ["1", "改造小区。", "市住建局", "市财政局", "张三", "2025.8.31", ""],
        ["二", "提升治理", "提升治理", "提升治理", "", "", "备注"],  # merged over fewer columns
        ["2", "整治占道。", "市城管局", "", "李四", "每月底前", ""],
    ]
    tasks, problems = tasks_of(rows)
    assert problems == []
    assert [(t.text, t.headings, t.fields) for t in tasks] == [
        ("改造小区。", ["一、持续推进城市更新"],
         {"牵头单位": "市住建局", "配合单位": "市财政局", "责任领导": "张三", "完成时限": "2025.8.31"}),
        ("整治占道。", ["二、提升治理"], {"牵头单位": "市城管局", "责任领导": "李四", "完成时限": "每月底前"}),
    ]
    assert [t.key for t in tasks] == [(1,), (2,)]


def test_numbered_category_rows_merged_beside_their_serial():
    rows = [
        ["序号", "重点任务", "牵头单位", "完成时限"],
        ["1", "数字城管", "数字城管", "数字城管"],
        ["1.1", "建平台。", "市大数据局", "年底前"],
        ["1.2", "接数据。", "市大数据局", "6月底前"],
        ["2", "智慧交通", "智慧交通", ""],
        ["2.1", "建信号系统。", "市公安局", "年底前"],
    ]
    tasks, problems = tasks_of(rows)
    assert problems == []
    assert [(t.key, t.headings) for t in tasks] == [
        ((1, 1), ["1、数字城管"]), ((1, 2), ["1、数字城管"]), ((2, 1), ["2、智慧交通"]),
    ]


def test_a_task_whose_units_repeat_is_no_category():
    rows = [["序号", "重点任务", "牵头单位", "配合单位"], ["一", "修路。", "甲局", "甲局"], ["二", "建桥。", "乙局", ""]]
    tasks, _ = tasks_of(rows)
    assert [(t.text, t.fields) for t in tasks] == [
        ("修路。", {"牵头单位": "甲局", "配合单位": "甲局"}), ("建桥。", {"牵头单位": "乙局"}),
    ]


def test_label_names_are_one_vocabulary_for_text_and_tables():
    from ledger.registry.raw import FIELD_NAMES, LABEL_ALIASES

    for canon, names in FIELD_NAMES.items():
        for name in names:
            assert match_column(name) == canon
            assert LABEL_ALIASES[name] == ("完成时限" if canon == "时间节点" else canon)
