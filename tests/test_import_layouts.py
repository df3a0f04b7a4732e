"""Notices in the layouts offices really receive, imported end to end and checked fact by fact.

Each test writes its notice itself: a PDF notice rendered by LibreOffice and extracted by
pdftotext (running title on every page, ``— n —`` page numbers, page breaks inside a
unit list and inside a task), a 任务分解表 with a merged two-row header and partly
merged category rows, and a Word notice with section leaders and a soft line break.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import notices
import openpyxl
import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.registry.importer import import_notices
from ledger.registry.model import Milestone
from ledger.registry.sources import read_notice
from ledger.registry.units import Unit, UnitDirectory

D = date
BREAK = notices.BREAK
COUNTY = "某某县"
COUNTY_UNITS = [
    Unit("县住房和城乡建设局", COUNTY, ("县住建局",)),
    Unit("县交通运输局", COUNTY, ("县交通局",)),
    Unit("县财政局", COUNTY),
    Unit("县自然资源局", COUNTY),
    Unit("县发展和改革委员会", COUNTY, ("县发改委",)),
    Unit("县城市管理局", COUNTY, ("县城管局",)),
    Unit("县公安局", COUNTY),
    Unit("各乡镇人民政府", COUNTY, kind="群组"),
]


def spaceless(text: str) -> str:
    return re.sub(r"\s+", "", text)


def imported(ws, path: Path, pid: str):
    directory = UnitDirectory.load(ws.paths.units)
    return import_notices(ws, [path], directory, pid)


# --- PDF text ----------------------------------------------------------------------------------

TITLE = "某某县2025年城乡建设重点任务分解方案"
FILLER = "各责任单位要细化工作措施，明确时间节点，倒排工期，挂图作战，确保按期保质完成。"

# (text, lead units as written, 牵头领导 of its own, 完成时限) per task; BREAK marks a page break.
PDF_TASKS = {
    "一、城市更新": [
        ("推进老旧小区改造，完成改造小区120个，同步完善道路、管网、绿化和停车设施配套。" + FILLER,
         "县住房和城乡建设局", "", "2025年二季度末"),
        ("实施城市道路提升工程，打通断头路5条，改造背街小巷30条。" + FILLER,
         "县住房和城乡建设局、县交通运输局、" + BREAK + "县自然资源局", "", "2025年3月底前完成方案；2025年9月底前完工"),
        ("开展市容环境整治，规范占道经营和户外广告设置，" + BREAK + "建成示范街区3条。" + FILLER,
         "县城市管理局", "王五", "6月中旬前"),
        ("建立城市体检工作机制，按月调度城市更新项目进展。" + FILLER,
         "县住房和城乡建设局", "", "每月底前报送进展"),
        ("完成城市污水管网改造20公里，消除城区黑臭水体。" + FILLER,
         "县住房和城乡建设局、县财政局", "", "2025年上半年"),
        ("落实城市管理执法责任，持续巩固整治成果。" + FILLER,
         "县城市管理局、县公安局", "", "长期坚持"),
    ],
    "二、交通建设": [
        ("加快国省干线公路改造，完成路面改造15公里。" + FILLER,
         "县交通运输局", "", "2025.8.31"),
        ("推进农村公路提质，新改建农村公路50公里。" + FILLER,
         "县交通运输局、县财政局", "", "2025年12月底前"),
        ("优化城区公交线网，新开通公交线路3条。" + FILLER,
         "县交通运输局", "", "下半年"),
        ("建成县城公共停车场2处，新增停车泊位500个。" + FILLER,
         "县发展和改革委员会、县交通运输局", "", "2025年10月31日前"),
    ],
}
SECTION_LEADERS = {"一、城市更新": "张三", "二、交通建设": "李四"}
EXPECTED_DUE = [D(2025, 6, 30), D(2025, 9, 30), D(2025, 6, 20), None, D(2025, 6, 30), None,
                D(2025, 8, 31), D(2025, 12, 31), D(2025, 12, 31), D(2025, 10, 31)]
EXPECTED_ONGOING = [False, False, False, True, False, True, False, False, False, False]
LOST = "（五）完善城区交通信号设施，责任单位为县公安局，年内完成。"


def pdf_paragraphs() -> list[str]:
    paras = ["某某县人民政府办公室", "某政办〔2025〕8号", f"关于印发{TITLE}的通知", "各乡镇人民政府，县直各单位：",
             f"现将《{TITLE}》印发给你们，请认真贯彻落实。", "2025年3月5日", TITLE]
    for section, tasks in PDF_TASKS.items():
        paras.append(section if section.startswith("一") else f"{section}（牵头领导：{SECTION_LEADERS[section]}）")
        if section.startswith("一"):
            paras.append(f"牵头领导：{SECTION_LEADERS[section]}")
        for n, (text, leads, leader, deadline) in enumerate(tasks, start=1):
            paras.append(f"（{'一二三四五六'[n - 1]}）{text}")
            paras.append(f"牵头单位：{leads}")
            if leader:
                paras.append(f"牵头领导：{leader}")
            coop = "配合单位：县财政局、各乡镇人民政府"
            paras.append(BREAK + coop if (section, n) == ("一、城市更新", 4) else coop)
            paras.append(f"完成时限：{deadline}")
    paras.append(LOST)
    paras += ["三、保障措施", "（一）加强组织领导。各牵头单位要明确专人负责，每月报送工作进展。",
              "（二）强化督导考核。县政府督查室定期督导，结果纳入年度目标考核。"]
    return paras


@pytest.fixture(scope="module")
def pdf_texts(tmp_path_factory) -> dict[str, str]:
    """The PDF notice as pdftotext gives it (plain, -layout) and as copied from a viewer (no form feeds)."""
    root = tmp_path_factory.mktemp("pdf")
    source = notices.word_notice(root / "分解方案.docx", pdf_paragraphs(), header=TITLE, page_numbers=True)
    plain, layout = (notices.pdf_text(source, layout, root / "profile") for layout in (False, True))
    return {"plain": plain, "layout": layout, "copied": plain.replace("\f", "")}


@pytest.mark.parametrize("variant", ["plain", "layout", "copied"])
def test_pdf_text_notice(tmp_path, pdf_texts, variant):
    text = pdf_texts[variant]
    lines = text.split("\n")
    pages = sum(1 for line in lines if re.fullmatch(r"\s*—\s*\d+\s*—\s*", line))
    assert pages >= 3 and text.count("\f") == (0 if variant == "copied" else pages)
    # The page breaks are real: the running title stands at the top of every page, and it
    # cuts a unit list and a task's text between their pieces.
    assert sum(1 for line in lines if spaceless(line).replace("\f", "") == TITLE) >= pages
    assert re.search(rf"县交通运输局、—\d+—{TITLE}县自然资源局", spaceless(text))
    assert re.search(rf"户外广告设置，—\d+—{TITLE}建成示范街区", spaceless(text))
    path = tmp_path / "分解方案.txt"
    path.write_text(text, encoding="utf-8")
    ws = notices.workspace(tmp_path / "ws", "demo", COUNTY, D(2025, 3, 5), COUNTY_UNITS)
    result = imported(ws, path, "demo")
    tasks = result.registry.tasks
    expected = [(s, t) for s, ts in PDF_TASKS.items() for t in ts]
    assert len(tasks) == 10
    assert [(c.items, c.tasks) for c in result.counts] == [(11, 10)]
    notice = read_notice(path)
    assert (notice.title, notice.doc_number, notice.issued) == (TITLE, "某政办〔2025〕8号", D(2025, 3, 5))
    for task, (section, (body, leads, leader, _)) in zip(tasks, expected, strict=True):
        assert spaceless(task.text) == spaceless(body.replace(BREAK, "")), task.id
        assert task.lead_units == leads.replace(BREAK, "").rstrip("、").split("、"), task.id
        assert task.cooperating_units == ["县财政局", "各乡镇人民政府"], task.id
        assert task.leaders == [leader or SECTION_LEADERS[section]], task.id
        assert task.path == [section], task.id
        assert TITLE not in spaceless(task.text + "".join(task.lead_units))
    assert [t.deadline for t in tasks] == EXPECTED_DUE
    assert [t.ongoing for t in tasks] == EXPECTED_ONGOING
    assert tasks[1].milestones == [Milestone(D(2025, 3, 31), "完成方案"), Milestone(D(2025, 9, 30), "完工")]
    codes = sorted(p.code for p in result.problems)
    assert codes == ["deadline-approximate", "item-not-imported"]
    # Problems and tasks name the line an editor shows (a form feed is no line break).
    lost = next(p for p in result.problems if p.code == "item-not-imported")
    assert lines[lost.row - 1].strip().startswith("（五）完善城区交通信号设施")
    approx = next(p for p in result.problems if p.code == "deadline-approximate")
    assert approx.task == tasks[2].id and "6月20日" in approx.message
    assert len({t.id for t in tasks}) == 10
    for raw in notice.tasks:  # each task starts on the line an editor shows for its number
        assert lines[raw.line - 1].strip().startswith(raw.number), raw.number


# --- 任务分解表 with a merged two-row header and category rows ------------------------------------

CITY = "某某市"
CITY_UNITS = [
    Unit("市住房和城乡建设局", CITY, ("市住建局",)),
    Unit("市城市管理局", CITY, ("市城管局",)),
    Unit("市财政局", CITY),
    Unit("市发展和改革委员会", CITY, ("市发改委",)),
    Unit("市自然资源和规划局", CITY),
    Unit("市公安局", CITY),
    Unit("市大数据局", CITY),
    Unit("市政务服务中心", CITY),
    Unit("市司法局", CITY),
    Unit("市金融局", CITY),
    Unit("市委宣传部", CITY),
    Unit("市委网信办", CITY),
    Unit("市文明办", CITY),
    Unit("区委网信办", "某区", ("网信办",)),
    Unit("区文明办", "某区", ("文明办",)),
    Unit("区委宣传部", "某区", ("宣传部",)),
]
WIDTH = 7  # 序号 重点任务 牵头单位 配合单位 责任领导 完成时限 备注


def breakdown_workbook(path: Path) -> Path:
    """Title row; a two-row header (责任单位 over 牵头单位/配合单位, the rest merged down);
    category rows whose name is merged over some columns but not all (not over 序号, once
    not over 完成时限 either), and dates typed as text."""
    rows = [
        ["某某市2025年城市更新重点任务分解表", *[None] * (WIDTH - 1)],
        ["序号", "重点任务", "责任单位", None, "责任领导", "完成时限", "备注"],
        [None, None, "牵头单位", "配合单位", None, None, None],
        ["一", "持续推进城市更新行动", None, None, None, None, None],
        [1, "完成老旧小区改造120个。", "市住建局", "市财政局、市发改委", "张三", "2025.8.31", None],
        [2, "新建城市公园5个。", "市城管局", "市自然资源和规划局", "李四", "2025年二季度末", "含口袋公园"],
        ["二", "提升城市治理水平", None, None, None, None, None],
        [3, "开展占道经营专项整治。", "市城管局", "市公安局", "李四", "每月底前报送进展", None],
        [4, "建成智慧城管平台。", "市城管局", "市大数据局", "李四", "2025/10/31", None],
        ["三", "加强组织保障", None, None, None, None, None],
        [5, "建立月调度机制。", "市住建局", None, "张三", "6月中旬前", None],
        ["四", "推进城市数字化转型（持续推进）", None, None, None, None, None],
        [6, "建设城市运行管理服务平台。", "市大数据局", "市城管局", "王五", "2025-8-31", None],
        [7, "推动政务数据共享。", "市大数据局", None, "王五", "8.31", None],
        [8, None, "市公安局", None, None, "年底前", None],
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分解表"
    for row in rows:
        sheet.append(row)
    for ref in ("A1:G1", "A2:A3", "B2:B3", "C2:D2", "E2:E3", "F2:F3", "G2:G3",
                "B4:F4", "B7:G7", "B10:E10", "B12:F12"):
        sheet.merge_cells(ref)
    book.save(path)
    return path


def test_breakdown_table_with_two_row_header_and_merged_categories(tmp_path):
    path = breakdown_workbook(tmp_path / "分解表.xlsx")
    ws = notices.workspace(tmp_path / "ws", "city", CITY, D(2025, 2, 10), CITY_UNITS)
    result = imported(ws, path, "city")
    tasks = result.registry.tasks
    assert [t.text for t in tasks] == ["完成老旧小区改造120个。", "新建城市公园5个。", "开展占道经营专项整治。",
                                       "建成智慧城管平台。", "建立月调度机制。", "建设城市运行管理服务平台。",
                                       "推动政务数据共享。"]
    assert [t.id for t in tasks] == [f"city-{n:02d}" for n in range(1, 8)]  # category rows shift nothing
    assert [t.path for t in tasks] == [["一、持续推进城市更新行动"]] * 2 + [["二、提升城市治理水平"]] * 2 + [
        ["三、加强组织保障"]] + [["四、推进城市数字化转型（持续推进）"]] * 2
    assert [t.lead_units for t in tasks] == [["市住房和城乡建设局"], ["市城市管理局"], ["市城市管理局"], ["市城市管理局"],
                                             ["市住房和城乡建设局"], ["市大数据局"], ["市大数据局"]]
    assert tasks[0].cooperating_units == ["市财政局", "市发展和改革委员会"]
    assert [t.leaders for t in tasks] == [["张三"], ["李四"], ["李四"], ["李四"], ["张三"], ["王五"], ["王五"]]
    assert [t.deadline for t in tasks] == [D(2025, 8, 31), D(2025, 6, 30), None, D(2025, 10, 31), D(2025, 6, 20),
                                           D(2025, 8, 31), D(2025, 8, 31)]
    assert [t.ongoing for t in tasks] == [False, False, True, False, False, False, False]
    assert all(t.milestones == [] for t in tasks)
    # Row 15 names a unit and a deadline but no task: reported, and counted as seen.
    assert [(c.items, c.tasks) for c in result.counts] == [(8, 7)]
    assert sorted((p.code, p.row) for p in result.problems) == [("deadline-approximate", 11),
                                                               ("table-row-without-task", 15)]


# --- Word notice with section leaders and soft line breaks ----------------------------------------

WORD_NOTICE = [
    "某某市人民政府办公室",
    "某政办〔2025〕12号",
    "关于印发某某市2025年营商环境优化重点任务的通知",
    "各县区人民政府，市直各单位：",
    "现将任务印发给你们，请认真贯彻落实。",
    "2025年2月10日",
    "一、优化政务服务",
    "牵头领导：王五",
    "（一）推行“一网通办”，政务服务事项网上可办率达到95%以上。（牵头单位：市政务服务中心；"
    "配合单位：市委宣传部、网信办、文明办；完成时限：2025年6月底前）",
    "（二）推进“高效办成一件事”，年内新增10个集成办事场景。\n（责任单位：市政务服务中心、市司法局；完成时限：2025年二季度末）",
    "（三）推行告知承诺制，\n3月底前梳理事项清单，9月底前全面实施。（牵头单位：市司法局；完成时限：2025年9月底前）",
    "二、强化要素保障（牵头领导：赵六）",
    "（一）开展用地保障专项行动。（牵头单位：市自然资源和规划局；完成时限：每季度通报一次）",
    "（二）降低企业融资成本。\n牵头单位：市金融局\n牵头领导：钱七\n完成时限：6月中旬前",
    "（三）建立企业诉求直通车制度，责任单位为市工商联。",
    "三、工作要求",
    "（一）各牵头单位要每月报送工作进展。",
]


def test_word_notice_with_section_leaders_and_soft_breaks(tmp_path):
    path = notices.word_notice(tmp_path / "营商环境.docx", WORD_NOTICE)
    ws = notices.workspace(tmp_path / "ws", "biz", "", D(2025, 2, 10), CITY_UNITS)  # no scope configured
    result = imported(ws, path, "biz")
    tasks = result.registry.tasks
    assert [t.id for t in tasks] == ["biz-01-01", "biz-01-02", "biz-01-03", "biz-02-01", "biz-02-02"]
    assert tasks[1].text == "推进“高效办成一件事”，年内新增10个集成办事场景。"  # not lost at the soft break
    assert tasks[1].lead_units == ["市政务服务中心"] and tasks[1].responsible_units == ["市政务服务中心", "市司法局"]
    assert tasks[2].text == "推行告知承诺制，3月底前梳理事项清单，9月底前全面实施。"
    assert [t.leaders for t in tasks] == [["王五"], ["王五"], ["王五"], ["赵六"], ["钱七"]]
    assert [t.path for t in tasks] == [["一、优化政务服务"]] * 3 + [["二、强化要素保障"]] * 2
    # 网信办 and 文明办 share 市委宣传部's level: never the district's units of that name.
    assert tasks[0].cooperating_units == ["市委宣传部", "市委网信办", "市文明办"]
    assert [t.lead_units for t in tasks[2:]] == [["市司法局"], ["市自然资源和规划局"], ["市金融局"]]
    assert [t.deadline for t in tasks] == [D(2025, 6, 30), D(2025, 6, 30), D(2025, 9, 30), None, D(2025, 6, 20)]
    assert [t.ongoing for t in tasks] == [False, False, False, True, False]
    assert tasks[2].milestones == [Milestone(D(2025, 3, 31), "梳理事项清单"), Milestone(D(2025, 9, 30), "全面实施")]
    assert [(c.items, c.tasks) for c in result.counts] == [(6, 5)]
    codes = sorted(p.code for p in result.problems)
    assert codes == ["deadline-approximate", "item-not-imported", "lead-from-responsible"]
    lost = next(p for p in result.problems if p.code == "item-not-imported")
    assert lost.value.startswith("（三）建立企业诉求直通车制度")
    assert not [p for p in result.problems if "领导" in p.message]  # the headings' leaders are used, not flagged


def test_cli_import_reports_items_seen_and_imported(tmp_path):
    path = notices.word_notice(tmp_path / "营商环境.docx", WORD_NOTICE)
    ws = notices.workspace(tmp_path / "ws", "biz", "", D(2025, 2, 10), CITY_UNITS)
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ws.root), "registry", "import", str(path), "-p", "biz"])
    assert res.exit_code == 0, res.output
    assert "营商环境.docx：识别编号条目 6 个，导入任务 5 个" in res.output
    assert "建立企业诉求直通车制度" in res.output and "未作为任务导入" in res.output
    res = runner.invoke(main, ["-w", str(ws.root), "registry", "import", str(path), "-p", "biz", "--force", "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["tasks"]) == 5  # the count goes to stderr: stdout stays JSON
    assert "识别编号条目 6 个，导入任务 5 个" in res.stderr


# --- the office's page on importing stays true ------------------------------------------------------

DOC = (Path(__file__).resolve().parents[1] / "docs" / "registry-import.md").read_text(encoding="utf-8")


def test_import_page_names_every_problem_code_and_the_defaults_it_states():
    from ledger.registry import deadlines, notice, raw, units
    from ledger.registry.importer import LEAD_FROM_RESPONSIBLE

    types = [raw.ITEM_NOT_IMPORTED, raw.ITEM_WITHOUT_UNIT, raw.ROW_WITHOUT_TASK, notice.ORPHAN_LABEL,
             notice.DUPLICATE_NUMBER, LEAD_FROM_RESPONSIBLE, units.UNKNOWN_UNIT, deadlines.DEADLINE_AMBIGUOUS,
             deadlines.DEADLINE_APPROXIMATE, deadlines.DEADLINE_DEFAULTED, deadlines.DEADLINE_UNPARSED]
    for ptype in types:
        assert f"`{ptype.code}`" in DOC, ptype.code
    for names in raw.FIELD_NAMES.values():
        assert all(name in DOC for name in names)
    # Each row of the page's tables of deadline forms: the date it states is what the parser gives.
    for written, day in [("6月上旬", "6月10日"), ("6月中旬", "6月20日"), ("6月初", "6月10日"), ("6月中", "6月20日"),
                         ("10月前", "9月30日"), ("8.3", "8月3日"), ("6月下旬", "6月30日"), ("二季度末", "6月30日")]:
        info = deadlines.parse_deadline(written, issued=D(2025, 1, 1))
        assert f"{info.due.month}月{info.due.day}日" == day and written in DOC and day in DOC, written
    for written in ("每月底前报送", "每季度通报一次", "每周报送", "按月调度", "定期通报", "长期坚持"):
        info = deadlines.parse_deadline(written, issued=D(2025, 1, 1))
        assert info.ongoing and info.due is None and written in DOC, written
