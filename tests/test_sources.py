"""Reading notice files by their real content: text encodings, .docx, .xlsx, and bad input."""

import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import hostile
import openpyxl
import pytest
from notices import SAMPLE_NOTICES

from ledger.errors import InputError
from ledger.registry.sources import read_notice

# An excerpt of seed 000 (洛城提办文〔2022〕11号), with its PDF artefacts.
EXCERPT = """\
洛阳市城市提质工作领导小组办公室文件

洛城提办文〔2022〕11号

洛阳市城市提质工作领导小组办公室 关于印发《洛阳市城市提质“351”工程行动 六大专项行动实施方案》的通知

各县区、各城市提质工作领导小组成员单位：

现将《洛阳市城市提质“351”工程行动六大专项行动实施方案》印发你们，请根据要求认真贯彻落实。

2022年5月7日

附件 1

洛阳市交通枢纽建设工程实施方案

二、工作任务

(一) 配合省级推进工作专班加强与国铁集团对接，加快推动呼南高铁焦洛平段项目建设前期工作，提高洛阳龙门高铁站枢纽换乘功能。

牵头单位：市发展和改革委员会

配合单位：市轨道集团

完成时限：2022年12月底前

(二) 机场综合保障能力提升项目开工建设。6月底前，完成立项；9月底前，完成招投标；12月底前，开工建设。

牵头单位：市商务局

配合单位：市发改委、财政局、自然资源和规划局、北郊机场公司、市文旅集团

完成时限：2022年12月底前

附件 2

洛阳市城市风貌提升工程实施方案

二、工作任务

（一）严格落实《洛阳市城市风貌管控导则》，扎实做好城市空间、风貌管理。

1. 优化空间管理，严格按照《洛阳市城市风貌管控导则》密度分区的要求进行控制性详细规划单元的划定。

责任单位：市自然资源和规划局

完成时限：2022年8月底前

2.研究制定《洛阳市城镇开发边界内控制性详细规划管理办法》，进一步规范控制性详细规划编制管理。

责任单位：市自然资源和规划局

完成时限：2022年8月底前
"""


def check_excerpt(notice):
    assert notice.doc_number == "洛城提办文〔2022〕11号"
    assert notice.issued == date(2022, 5, 7)
    assert [(t.annex, t.key) for t in notice.tasks] == [(1, (1,)), (1, (2,)), (2, (1,)), (2, (2,))]
    assert notice.tasks[1].fields["配合单位"] == "市发改委、财政局、自然资源和规划局、北郊机场公司、市文旅集团"
    assert notice.tasks[3].headings == ["二、工作任务", "（一）严格落实《洛阳市城市风貌管控导则》，扎实做好城市空间、风貌管理"]


def expect_error(path: Path, *words: str) -> str:
    with pytest.raises(InputError) as err:
        read_notice(path)
    message = str(err.value)
    assert path.name in message
    for word in words:
        assert word in message
    return message


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-8", "utf8.txt"), ("utf-8-sig", "bom.txt"), ("gbk", "gbk.txt"), ("gb18030", "gb.md"), ("utf-16", "uni.txt")],
)
def test_text_encodings(tmp_path, encoding, name):
    path = tmp_path / name
    path.write_bytes(EXCERPT.replace("\n", "\r\n").encode(encoding))
    notice = read_notice(path)
    assert notice.source == name
    check_excerpt(notice)
    assert notice.tasks[0].text.startswith("配合省级推进工作专班")  # no BOM or \r debris


def test_gbk_seed_reads_like_utf8(tmp_path):
    source = SAMPLE_NOTICES["pingtai"]
    path = tmp_path / "平台城市.txt"
    path.write_bytes(source.read_text(encoding="utf-8").encode("gbk"))
    notice = read_notice(path)
    assert len(notice.tasks) == 66 and notice.doc_number == "洛政〔2022〕17号"


def test_markdown_table_in_text(tmp_path):
    path = tmp_path / "表.md"
    path.write_text(
        "# 某某任务分解表\n\n某政〔2023〕2号\n\n| 序号 | 重点任务 | 牵头单位 | 完成时限 |\n|---|---|---|---|\n"
        "| 1 | 修路。 | 市交通局 | 年底前 |\n| 2 | 建桥。 | 市住建局 | 6月底前 |\n",
        encoding="utf-8",
    )
    notice = read_notice(path)
    assert notice.doc_number == "某政〔2023〕2号"
    assert [(t.key, t.text, t.fields["牵头单位"]) for t in notice.tasks] == [((1,), "修路。", "市交通局"), ((2,), "建桥。", "市住建局")]


@pytest.mark.parametrize("content", [b"", b"  \r\n\n\t ", b"\xef\xbb\xbf\r\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "空白.txt"
    path.write_bytes(content)
    expect_error(path, "文件为空")


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 8)
    expect_error(path, "不是文本文件")
    rng = random.Random(7)
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(4000)))
    expect_error(path)


def test_undecodable_text(tmp_path):
    path = tmp_path / "乱码.txt"
    path.write_bytes("牵头单位：".encode() + b"\x80\xff\xfe\x81" * 5)
    expect_error(path, "编码")


def test_text_without_tasks(tmp_path):
    path = tmp_path / "新闻.txt"
    path.write_text("市委召开会议\n\n会议要求，一是加强领导，二是狠抓落实。\n", encoding="utf-8")
    expect_error(path, "未在", "找到任何任务", "请检查")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="找不到文件"):
        read_notice(tmp_path / "nope.txt")


def test_pdf_and_old_formats_are_refused_with_advice(tmp_path):
    pdf = tmp_path / "通知.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    expect_error(pdf, "PDF", ".docx")
    # old Office files are told apart by the stream names of their compound file (ledger.sniff)
    doc = tmp_path / "旧通知.doc"
    doc.write_bytes(hostile.cfb({"WordDocument": b"\xec\xa5" + b"\x00" * 100}))
    expect_error(doc, "旧版 Word", "另存为 .docx")
    locked = tmp_path / "加密.docx"
    locked.write_bytes(hostile.cfb({"EncryptionInfo": b"\x04\x00", "EncryptedPackage": b"\x99" * 100}))
    expect_error(locked, "密码", ".docx")
    damaged = tmp_path / "损坏.doc"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)
    expect_error(damaged, "已损坏")


# --- Word -----------------------------------------------------------------------------------


def test_paragraph_style_docx(tmp_path):
    document = docx.Document()
    for line in EXCERPT.splitlines():
        if line.strip():
            document.add_paragraph(line)
    path = tmp_path / "通知.docx"
    document.save(path)
    check_excerpt(read_notice(path))


def test_docx_with_word_list_numbering(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、工作任务")
    for text, unit in (("修路。", "市交通局"), ("建桥。", "市住建局")):
        document.add_paragraph(text, style="List Number")
        document.add_paragraph(f"牵头单位：{unit}")
    path = tmp_path / "自动编号.docx"
    document.save(path)
    notice = read_notice(path)
    assert [(t.key, t.number, t.text, t.headings) for t in notice.tasks] == [
        ((1,), "1.", "修路。", ["一、工作任务"]), ((2,), "2.", "建桥。", ["一、工作任务"]),
    ]


def add_table(document, rows):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return table


def test_table_style_docx_with_merged_category_row(tmp_path):
    document = docx.Document()
    document.add_paragraph("某县人民政府办公室")
    document.add_paragraph("某政办〔2023〕9号")
    document.add_paragraph("关于印发某某工作任务分解表的通知")
    document.add_paragraph("2023年2月1日")
    document.add_paragraph("附件1")
    document.add_paragraph("某某工作任务分解表")
    table = add_table(
        document,
        [
            ["序号", "工作任务", "牵头\n单位", "配合单位", "完成\n时限"],
            ["", "", "", "", ""],
            ["1", "修路。", "县交通局", "县财政局", "2023年6月底前"],
            ["2", "建桥。", "县住建局", "", "年底前"],
            ["", "", "", "", ""],
            ["3", "改造小区。", "县住建局", "各乡镇", "长期坚持"],
        ],
    )
    table.cell(1, 0).merge(table.cell(1, 4)).text = "一、交通建设"
    table.cell(4, 0).merge(table.cell(4, 4)).text = "二、城市更新"
    path = tmp_path / "分解表.docx"
    document.save(path)
    notice = read_notice(path)
    assert (notice.doc_number, notice.issuer, notice.issued) == ("某政办〔2023〕9号", "某县人民政府办公室", date(2023, 2, 1))
    assert notice.title == "某某工作任务分解表"
    assert notice.annexes == {1: "某某工作任务分解表"}
    assert [(t.annex, t.key, t.headings, t.text) for t in notice.tasks] == [
        (1, (1,), ["一、交通建设"], "修路。"), (1, (2,), ["一、交通建设"], "建桥。"), (1, (3,), ["二、城市更新"], "改造小区。"),
    ]
    assert notice.tasks[0].fields == {"牵头单位": "县交通局", "配合单位": "县财政局", "完成时限": "2023年6月底前"}


def test_docx_paragraph_tasks_and_a_table_together(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、重点任务")
    document.add_paragraph("1. 文字里的任务。")
    document.add_paragraph("牵头单位：甲局")
    add_table(document, [["联系人", "电话"], ["张三", "123"]])  # not a task table
    document.add_paragraph("二、项目清单")
    add_table(document, [["序号", "任务内容", "责任单位"], ["2", "表里的任务。", "乙局"]])
    path = tmp_path / "混合.docx"
    document.save(path)
    notice = read_notice(path)
    assert [(t.text, t.headings, t.key) for t in notice.tasks] == [
        ("文字里的任务。", ["一、重点任务"], (1,)), ("表里的任务。", ["二、项目清单"], (2,)),
    ]


def test_docx_without_tasks(tmp_path):
    document = docx.Document()
    document.add_paragraph("关于召开会议的通知")
    document.add_paragraph("请准时参加。")
    path = tmp_path / "会议通知.docx"
    document.save(path)
    expect_error(path, "未在", "找到任何任务")


def test_text_renamed_docx(tmp_path):
    path = tmp_path / "其实是文本.docx"
    path.write_text(EXCERPT, encoding="utf-8")
    expect_error(path, "不是有效的 Word 文档", "另存为 .docx")


def test_truncated_docx(tmp_path):
    document = docx.Document()
    document.add_paragraph("1. 修路。")
    good = tmp_path / "good.docx"
    document.save(good)
    path = tmp_path / "半截.docx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expect_error(path, "损坏")


def test_zip_that_is_neither_docx_nor_xlsx(tmp_path):
    import zipfile

    path = tmp_path / "归档.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    expect_error(path, ".docx", ".xlsx")


# --- Excel ----------------------------------------------------------------------------------


def make_workbook(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for ref in (merges or {}).get(title, []):
            sheet.merge_cells(ref)
    book.save(path)
    return path


def test_excel_breakdown_with_title_row_and_shuffled_synonym_columns(tmp_path):
    rows = [
        ["某某工作任务分解表（某政〔2023〕3号）", None, None, None, None, None],
        [None] * 6,
        ["完成时间", "责 任\n单 位", "工作任务", "序号", "牵头部门", "牵头市领导"],
        ["一、交通建设", None, None, None, None, None],
        [date(2023, 6, 30), "甲区、乙区", "修路。", 1, "市交通局", "张三"],
        ["年底前", "丙区", "建桥。", 2.0, "市住建局", "张三"],
        [None] * 6,
        ["二、城市更新", None, None, None, None, None],
        ["长期坚持", None, "改造小区。", 3, "市住建局", None],
        [None, None, "更新街区。", 4, None, None],
    ]
    path = make_workbook(
        tmp_path / "分解表.xlsx", {"任务": rows}, {"任务": ["A1:F1", "A4:F4", "A8:F8", "E9:E10", "A9:A10"]}
    )
    notice = read_notice(path)
    assert notice.doc_number == "某政〔2023〕3号"
    assert notice.title.startswith("某某工作任务分解表")
    assert [(t.key, t.number, t.headings, t.text, t.line) for t in notice.tasks] == [
        ((1,), "1", ["一、交通建设"], "修路。", 5),
        ((2,), "2", ["一、交通建设"], "建桥。", 6),
        ((3,), "3", ["二、城市更新"], "改造小区。", 9),
        ((4,), "4", ["二、城市更新"], "更新街区。", 10),
    ]
    assert notice.tasks[0].fields == {
        "完成时限": "2023年6月30日", "责任单位": "甲区、乙区", "牵头单位": "市交通局", "牵头领导": "张三",
    }
    assert notice.tasks[3].fields == {"牵头单位": "市住建局", "完成时限": "长期坚持"}  # vertical merges filled


def test_excel_sheets_are_annexes(tmp_path):
    header = ["序号", "重点任务", "牵头单位"]
    path = make_workbook(
        tmp_path / "两表.xlsx",
        {"说明": [["填表说明"]], "交通": [header, [1, "修路。", "甲"]], "城建": [["附件2"], header, [1, "改造。", "乙"]]},
    )
    notice = read_notice(path)
    assert [(t.annex, t.key) for t in notice.tasks] == [(1, (1,)), (2, (1,))]
    assert notice.annexes == {1: "交通", 2: "城建"}


def test_excel_without_header(tmp_path):
    path = make_workbook(tmp_path / "乱表.xlsx", {"Sheet1": [["名称", "数量"], ["甲", 1]]})
    message = expect_error(path, "表头", "重点任务", "牵头单位", "完成时限")
    assert "Sheet1" in message


def test_workbook_is_found_by_content_not_name(tmp_path):
    path = make_workbook(tmp_path / "x.xlsx", {"表": [["序号", "任务内容", "责任单位"], [1, "修路。", "甲"]]})
    renamed = path.rename(tmp_path / "任务.txt")
    assert [t.text for t in read_notice(renamed).tasks] == ["修路。"]


def test_corrupt_xlsx(tmp_path):
    import zipfile

    path = tmp_path / "坏表.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<nope")
        archive.writestr("xl/workbook.xml", "<not xml")
    expect_error(path, "Excel")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_old_xls_via_calamine(tmp_path):
    header = ["序号", "重点任务", "牵头单位", "完成时限"]
    source = make_workbook(tmp_path / "旧表.xlsx", {"表": [["某某任务分解表"], header, [1, "修路。", "甲局", "年底前"]]})
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "xls",
         "--outdir", str(tmp_path / "xls"), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    notice = read_notice(tmp_path / "xls" / "旧表.xls")
    assert [(t.key, t.text, t.fields) for t in notice.tasks] == [((1,), "修路。", {"牵头单位": "甲局", "完成时限": "年底前"})]


def test_csv_breakdown_in_gbk(tmp_path):
    path = tmp_path / "分解表.csv"
    path.write_bytes("某某任务分解表（某政〔2023〕4号）,,\n序号,重点任务,牵头单位\n1,修路。,甲局\n2,\"建桥，\n再修路。\",乙局\n".encode("gbk"))
    notice = read_notice(path)
    assert notice.doc_number == "某政〔2023〕4号"
    assert [(t.key, t.text) for t in notice.tasks] == [((1,), "修路。"), ((2,), "建桥，再修路。")]
    path.write_text("名称,数量\n甲,1\n", encoding="utf-8")
    expect_error(path, "表头")


def test_docx_section_leader_reaches_the_tasks_of_a_table_under_it(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、重点项目（牵头领导：张三）")
    add_table(document, [["序号", "任务内容", "牵头单位", "牵头领导"], ["1", "修路。", "甲局", ""], ["2", "建桥。", "乙局", "李四"]])
    path = tmp_path / "分节表.docx"
    document.save(path)
    notice = read_notice(path)
    assert [(t.text, t.fields.get("牵头领导")) for t in notice.tasks] == [("修路。", "张三"), ("建桥。", "李四")]
    assert notice.problems == [] and notice.items == 2
