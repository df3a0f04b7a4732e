"""``bulletin``: the 考核通报 read back from .docx (python-docx), .html and .pdf (pdftotext)."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import docx
import printed
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Length, Pt
from lxml import etree
from month import REPO_CONFIG, make_registry, month_judgements  # the hand-built month

from ledger import config
from ledger.assess import chart, write_bulletin
from ledger.assess import docx_layout as L
from ledger.assess.bulletin import render_docx, template_path
from ledger.assess.content import balanced_lines, bulletin_context, short_text
from ledger.assess.pdf import find_soffice
from ledger.consolidate.model import Judgement
from ledger.periods import periods_in_month
from ledger.run import Run
from ledger.store import open_store
from ledger.templating import DEFAULT_TEMPLATES, TemplateVariableError

ISSUED = date(2022, 7, 5)
TITLE = "关于洛阳市城市提质“351”工程行动六大专项行动2022年6月份工作推进情况的通报"
DOC_NUMBER = "洛城提办文〔2022〕11号"
OFFICE = "洛阳市城市提质工作领导小组办公室"
# Figures of the hand-built month (tests/test_assess.py), as the bulletin must say them.
PHRASES = (
    "第1期",
    "2022年7月5日",
    # the notice's own words (ledger.toml requirement), never a phrase the notice does not contain
    f"（{DOC_NUMBER}）关于“建立工作台账，实行周督导检查、月考核通报制度”的要求",
    # the last period's 10 rows (9 tasks, one co-led), counted as its 汇总表 counts them
    "截至2022年6月24日（第25周），纳入督导的9项任务按牵头单位分解为10项，其中，已完成2项，占20%；"
    "按序时推进5项，占50%；进展滞后1项，占10%；未启动0项，占0%；牵头单位未报送2项，占20%。"
    "已过完成时限或时间节点仍未完成的1项。",
    "绿灯任务7项（占70%），黄灯任务1项（占10%），红灯任务2项（占20%）",
    "本月有1项任务由红灯转为黄灯或绿灯（351-A3-02）",
    "本月各期工作台账均按时报送、没有红灯和逾期未完成任务、考核等次为优秀的单位中，名次在前3位的（名次并列的一并），"
    "予以通报表扬。"
    "本月符合条件的单位有3个：",
    "（一）市文物局。本月按时报送台账4期；牵头的1项任务中已完成1项，提前完成时间节点8个；考核得分105分，等次为优秀。",
    "（三）市教育局。",
    "红灯任务2项、黄灯任务1项（含牵头单位未报送的任务），具体如下：",
    "（一）【红灯】351-A2-01“城市风貌管控长效机制”。牵头单位：市自然资源和规划局；完成时限：长期坚持；"
    "推进状态：未报送；连续2期退回未改（沿用第23周数据：常态化推进）。",
    "（二）【红灯】351-A2-02“老城街区更新方案编制”。牵头单位：市自然资源和规划局；完成时限：2022年6月底前；"
    "推进状态：未报送；序时进度90%，时间节点“完成方案”（2022年6月10日）已逾期，节点逾期。",
    "（三）【黄灯】351-A3-02“青年创业扶持资金”。",
    "应报送工作台账24份，按时报送21份，逾期报送1份，未报送2份（其中退回后未重报1份），按时报送率87.5%。",
    "逾期报送的单位：市发展和改革委员会（第23周）。",
    "未报送的单位：市自然资源和规划局（第24周、第25周）。",
    "本期进展未填写或照抄上期的：市人力资源和社会保障局7项次、市自然资源和规划局1项次。",
    "参加考核的牵头单位6个，平均得分96.8分，其中优秀5个、良好1个、一般0个。",
    "通报表扬：市文物局（105分）、市交通运输局（100分）、市教育局（100分）。",
    "黑榜：市自然资源和规划局（第24周未报送，第25周退回未改，红灯5项次，逾期未完成任务1项，得分85分、排名靠后）；"
    "市人力资源和社会保障局（得分95分、排名靠后）；市发展和改革委员会（红灯1项次，得分96分、排名靠后）。",
    "二是严格台账报送。各牵头单位要于每周五16时（附件2、4、5、6为每周五18时）前按时报送工作台账",
    "附件：1.2022年6月份考核得分及排名表",
    "2.2022年6月份任务进展亮灯明细表",
)


def _workspace(root: Path) -> config.Workspace:
    root.mkdir(parents=True)
    shutil.copy(REPO_CONFIG, root / config.CONFIG_NAME)
    return config.load(root)


def _fill(store, weeks: dict[str, list[Judgement]]) -> None:
    for week, rows in weeks.items():
        store.save_lights("351", week, [j.to_row() for j in rows])


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory):
    """One bulletin for June 2022, with its PDF when LibreOffice is there."""
    ws = _workspace(tmp_path_factory.mktemp("bulletin") / "ws")
    store = open_store(ws.paths.store)
    _fill(store, month_judgements())
    files = write_bulletin(Run.open_month(ws, "351", "2022-06", store=store, registry=make_registry()), issued=ISSUED, pdf=True)
    yield ws, store, files
    store.close()


def _docx_text(path: Path) -> str:
    """All paragraph text of the body, tables and footers, one paragraph a line."""
    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += ["\t".join(c.text for c in row.cells) for row in table.rows]
    for section in document.sections:
        for footer in (section.footer, section.even_page_footer):
            lines += [p.text for p in footer.paragraphs]
            lines += ["\t".join(c.text for c in row.cells) for t in footer.tables for row in t.rows]
    return "\n".join(lines)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_files_are_written_next_to_the_scores(made) -> None:
    ws, _, files = made
    folder = ws.out_dir("351", "2022-06")
    assert files.docx == folder / "2022年6月份考核通报.docx"
    assert files.html.parent == folder and files.chart.parent == folder
    assert files.assessment.xlsx == folder / "考核得分.xlsx"
    assert files.number == 1
    assert files.warnings[0] == "2022年5月尚无考核结果，本月不显示位次变化。"


def test_docx_says_the_right_figures_and_names(made) -> None:
    text = _flat(_docx_text(made[2].docx))
    assert _flat(TITLE) in text
    for phrase in PHRASES:
        assert _flat(phrase) in text, phrase
    assert "洛阳市城市提质“351”工程行动六大专项行动督查通报" in text
    assert docx.Document(str(made[2].docx)).core_properties.title == TITLE
    assert "抄送：领导小组组长、副组长，领导小组各成员单位。" in text
    assert f"{OFFICE}2022年7月5日印发" in text
    for heading in ("一、总体情况", "二、进展较好的单位", "三、进展滞后的任务", "四、台账报送情况",
                    "五、考核得分及排名", "六、下步工作要求"):
        assert heading in text


def test_docx_tables_rank_and_detail(made) -> None:
    document = docx.Document(str(made[2].docx))
    ranking, detail = document.tables
    rows = [[c.text for c in r.cells] for r in ranking.rows]
    assert rows[0] == ["名次", "单位", "台账分", "任务分", "加分", "总分", "等次", "位次变化"]
    assert rows[1] == ["1", "市文物局", "0", "0", "+5", "105", "优秀", "—"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "2", "4", "5", "6"]
    assert rows[-1] == ["6", "市自然资源和规划局", "−7", "−8", "0", "85", "良好", "—"]
    detail_rows = [[c.text for c in r.cells] for r in detail.rows]
    assert len(detail_rows) == 1 + 10  # header + every task and lead unit of 第25周
    red = next(r for r in detail_rows if r[1] == "351-A2-02")
    assert red[3:] == ["市自然资源和规划局", "2022年6月底前", "40%（第23周）", "90%", "未报送", "红灯", "节点逾期"]
    cell = next(r for r in detail.rows if r.cells[1].text == "351-A2-02").cells[8]
    assert cell._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == "FFC7CE"
    assert ranking.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_gongwen_page_setup(made) -> None:
    document = docx.Document(str(made[2].docx))
    body, annex, colophon = document.sections
    for section in (body, colophon):
        assert section.orientation == WD_ORIENT.PORTRAIT
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
        assert [round(m.mm, 1) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                          section.right_margin)] == [37, 35, 28, 26]
        grid = section._sectPr.find(qn("w:docGrid"))
        assert grid.get(qn("w:type")) == "lines" and grid.get(qn("w:linePitch")) == "579"
    assert annex.orientation == WD_ORIENT.LANDSCAPE
    assert (round(annex.page_width.mm), round(annex.page_height.mm)) == (297, 210)
    assert round(Length(annex.page_width - annex.left_margin - annex.right_margin).mm) == 225
    # 附件1 and 附件2 are in the landscape section, the body is not.
    section_of = _section_of_paragraphs(document)
    assert section_of["附件1"] == section_of["附件2"] == 1
    assert section_of["一、总体情况"] == 0


def _section_of_paragraphs(document) -> dict[str, int]:
    out, index = {}, 0
    for p in document.paragraphs:
        out.setdefault(p.text, index)
        if p._p.pPr is not None and p._p.pPr.find(qn("w:sectPr")) is not None:
            index += 1
    return out


def test_official_fonts_sizes_and_spacing(made) -> None:
    document = docx.Document(str(made[2].docx))
    styles = {s.style_id: s for s in document.styles}

    def fonts(style_id: str) -> tuple[str, str]:
        rfonts = styles[style_id].element.rPr.find(qn("w:rFonts"))
        return rfonts.get(qn("w:eastAsia")), rfonts.get(qn("w:ascii"))

    normal = styles["Normal"]
    assert fonts("Normal") == ("仿宋_GB2312", "Times New Roman")
    assert normal.font.size == Pt(16)
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert 28 <= normal.paragraph_format.line_spacing.pt <= 29
    assert fonts("GwTitle")[0] == "方正小标宋简体" and styles["GwTitle"].font.size == Pt(22)
    assert fonts("GwH1")[0] == "黑体"
    assert fonts("GwKai")[0] == "楷体_GB2312"
    assert styles["GwBody"].paragraph_format.first_line_indent == Pt(32)  # 2 characters of 3号
    by_text = {p.text: p for p in document.paragraphs}
    assert by_text["一、总体情况"].style.style_id == "GwH1"
    title_lines = [p for p in document.paragraphs if p.style.style_id == "GwTitle"]
    assert "".join(p.text for p in title_lines) == TITLE and len(title_lines) == 2
    ordinal = next(p for p in document.paragraphs if p.text.startswith("（一）市文物局"))
    assert ordinal.runs[0].style.style_id == "GwKai"


def test_page_numbers_alternate_sides(made) -> None:
    document = docx.Document(str(made[2].docx))
    assert document.settings.odd_and_even_pages_header_footer
    section = document.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.alignment == WD_ALIGN_PARAGRAPH.RIGHT and even.alignment == WD_ALIGN_PARAGRAPH.LEFT
    for paragraph in (odd, even):
        xml = paragraph._p.xml
        assert "PAGE" in "".join(t.text for t in paragraph._p.iter(qn("w:instrText")))
        assert xml.count('w:fldCharType="begin"') == 1 and xml.count('w:fldCharType="end"') == 1
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        fonts = paragraph.runs[0]._r.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == "宋体" and paragraph.runs[0].font.size == Pt(14)
    assert document.sections[1].footer.is_linked_to_previous  # landscape pages keep the numbers
    assert not document.sections[2].footer.is_linked_to_previous  # 版记 page: its own footer


def test_masthead_fits_and_signature_is_placed(made) -> None:
    document = docx.Document(str(made[2].docx))
    mast = [p for p in document.paragraphs if p.style.style_id == L.MASTHEAD_STYLE]
    assert [p.text for p in mast] == ["洛阳市城市提质“351”工程行动六大专项行动", "督查通报"]
    size = mast[0].runs[0].font.size.pt
    assert size * L.text_width(mast[0].text) <= L.TEXT_WIDTH_PT and size >= 12
    assert mast[1].runs[0].font.size is None  # short line keeps the style's size
    office = next(p for p in document.paragraphs if p.style.style_id == L.OFFICE_STYLE)
    day = next(p for p in document.paragraphs if p.style.style_id == L.DATE_STYLE)
    assert (office.text, day.text) == (OFFICE, "2022年7月5日")
    assert day.paragraph_format.right_indent == Pt(4 * 16)  # 成文日期右空四字
    assert office.paragraph_format.right_indent == Pt(0)  # a longer office name ends at the margin


def test_xml_children_in_schema_order(made) -> None:
    """Word refuses a document whose w:pPr, w:tblPr or w:tcPr children are out of order."""
    for path in (made[2].docx, template_path(None)):
        with zipfile.ZipFile(path) as z:
            parts = [n for n in z.namelist() if re.fullmatch(r"word/(document|styles|footer\d+)\.xml", n)]
            assert len(parts) >= 4
            for name in parts:
                root = etree.fromstring(z.read(name))
                for parent, order in ((qn("w:pPr"), L.PPR_ORDER), (qn("w:tblPr"), L.TBLPR_ORDER),
                                      (qn("w:tcPr"), L.TCPR_ORDER)):
                    for el in root.iter(parent):
                        names = [c.tag.split("}")[-1] for c in el]
                        known = [n for n in names if n in order]
                        assert known == sorted(known, key=order.index), (path.name, names)
                        assert len(set(names)) == len(names), (path.name, names)


def test_html_has_the_same_figures(made) -> None:
    page = made[2].html.read_text(encoding="utf-8")
    text = _flat(html.unescape(re.sub(r"<[^>]+>", "", page)))
    for phrase in PHRASES:
        assert _flat(phrase) in text, phrase
    assert _flat(TITLE) in text
    assert "<td>105</td>" in page and "<td>+5</td>" in page
    assert 'src="data:image/png;base64,' in page


def test_chart_has_chinese_labels(made) -> None:
    png = made[2].chart.read_bytes()
    assert png.startswith(b"\x89PNG")
    with zipfile.ZipFile(made[2].docx) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(media) == 1 and z.read(media[0]) == png
    if chart.find_cjk_font() is None:
        pytest.skip("没有中文字体（apt-get install fonts-noto-cjk）")
    assert "CJK" in chart.find_cjk_font() or chart.find_cjk_font() in chart.PREFERRED
    assert not any("中文字体" in w for w in made[2].warnings)


def test_pdf_pages_and_text(made) -> None:
    files = made[2]
    if find_soffice() is None:
        assert files.pdf is None and any("LibreOffice" in w for w in files.warnings)
        pytest.skip("LibreOffice 未安装")
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils 未安装")
    assert files.pdf is not None and files.pdf.is_file(), files.warnings
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(files.pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    sizes = ["landscape" if float(w) > float(h) else "portrait"
             for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    # body pages, then 附件1 and 附件2 on landscape pages, then the 版记 page: the last, an even
    # one (with a blank page before it when the annexes end on an even page)
    body = sizes.index("landscape")
    annex = sizes.index("portrait", body) - body
    tail = pages - body - annex
    assert body >= 3 and annex >= 2 and tail in (1, 2) and pages % 2 == 0
    assert sizes == ["portrait"] * body + ["landscape"] * annex + ["portrait"] * tail
    assert len(sizes) == pages
    text = subprocess.run(["pdftotext", "-layout", str(files.pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = _flat(text)
    assert _flat(TITLE) in flat
    assert DOC_NUMBER.replace("〔", "").replace("〕", "") in flat.replace("〔", "").replace("〕", "")
    numbered = body + annex
    assert "—1—" in flat and f"—{numbered}—" in flat and f"—{numbered + 1}—" not in flat
    last = text.split("\f")[pages - 1]
    assert "抄送" in last and "印发" in last


def test_printed_bulletin_keeps_to_the_layout(made, tmp_path: Path) -> None:
    """Measured on the PDF: legible, masthead on one line, no page ending on "：", annex tables
    across the text block, the 版记 on the last, even page."""
    files = made[2]
    printed.need_tools()
    printed.assert_gongwen(printed.pages(files.pdf), bulletin_context(
        files.assessment, made[0].programme("351"), make_registry(), number=1, issued=ISSUED)["masthead_lines"])


def test_missing_variable_fails_loudly(made, tmp_path: Path) -> None:
    ws = made[0]
    ctx = bulletin_context(made[2].assessment, ws.programme("351"), make_registry(), number=1, issued=ISSUED)
    ctx["chart_note"] = ""
    render_docx(ws, ctx, made[2].chart.read_bytes(), ISSUED)  # complete data renders
    del ctx["office"]
    with pytest.raises(TemplateVariableError, match="'office' is undefined"):
        render_docx(ws, ctx, made[2].chart.read_bytes(), ISSUED)
    # A template reworded in Word with a misspelt variable: the workspace's copy wins and fails.
    custom = docx.Document(str(DEFAULT_TEMPLATES / "bulletin.docx"))
    custom.add_paragraph("{{ offfice }}")
    (ws.root / "templates").mkdir(exist_ok=True)
    custom.save(str(ws.root / "templates" / "bulletin.docx"))
    try:
        assert template_path(ws) == ws.root / "templates" / "bulletin.docx"
        with pytest.raises(TemplateVariableError, match="offfice"):
            write_bulletin(Run.open_month(ws, "351", "2022-06", store=made[1], registry=make_registry()), issued=ISSUED, pdf=False, out_dir=ws.root / "broken")
    finally:
        shutil.rmtree(ws.root / "templates")


def test_number_is_kept_per_month_and_next_month_counts_on(made) -> None:
    ws, store, _ = made
    again = write_bulletin(Run.open_month(ws, "351", "2022-06", store=store, registry=make_registry()), issued=ISSUED, pdf=False, out_dir=ws.root / "again")
    assert again.number == 1
    june = month_judgements()["2022-W25"]
    for period in periods_in_month(2022, 7, "weekly"):
        store.save_lights("351", period.key, [{**j.to_row(), "period": period.key} for j in june])
    july = write_bulletin(Run.open_month(ws, "351", "2022-07", store=store, registry=make_registry()), issued=date(2022, 8, 3), pdf=False)  # its own month folder
    assert july.number == 2
    text = _flat(_docx_text(july.docx))
    assert "第2期" in text and "2022年7月份考核得分及排名表" in text
    # July repeats 第25周 five times: 文物局 loses its bonus and ties for first place.
    changes = {s.unit: (s.rank, s.change) for s in july.assessment.scores}
    assert changes == {"市交通运输局": (1, "↑1"), "市文物局": (1, "—"), "市教育局": (1, "↑1"),
                       "市发展和改革委员会": (4, "—"), "市人力资源和社会保障局": (4, "↑1"),
                       "市自然资源和规划局": (6, "—")}
    assert "1\t市交通运输局\t0\t0\t0\t100\t优秀\t↑1" in _docx_text(july.docx)


def test_fallback_chart_without_cjk_font(made, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    rows = [{"unit": "市甲局", "green": 2, "yellow": 1, "red": 0}, {"unit": "市乙局", "green": 0, "yellow": 0, "red": 3}]
    drawn = chart.light_chart(rows)
    assert drawn.font is None and "fonts-noto-cjk" in drawn.warning
    assert drawn.png.startswith(b"\x89PNG")
    assert chart.number_key(rows) == "图中序号：1.市甲局；2.市乙局。"
    ws, store, _ = made
    folder = ws.root / "fallback"
    folder.mkdir()
    (folder / "2022年6月份考核通报.pdf").write_bytes(b"%PDF old")
    files = write_bulletin(Run.open_month(ws, "351", "2022-06", store=store, registry=make_registry()), issued=ISSUED, pdf=False, out_dir=folder)
    assert any("fonts-noto-cjk" in w for w in files.warnings)
    # No stale PDF is left next to the newer Word file.
    assert files.pdf is None and not (folder / "2022年6月份考核通报.pdf").exists()
    assert "已删除上次生成的 2022年6月份考核通报.pdf" in files.warnings[-1]
    assert "图中序号：1.市交通运输局；2.市发展和改革委员会" in _docx_text(files.docx)


def test_text_helpers() -> None:
    assert balanced_lines("短标题") == ["短标题"]
    lines = balanced_lines(TITLE)
    assert "".join(lines) == TITLE and len(lines) == 2
    assert all(L.text_width(line) <= 20 for line in lines)
    assert short_text("谋划实施隋唐洛阳城历史轴线保护展示工程，编制完成《规划》。") == "谋划实施隋唐洛阳城历史轴线保护展示工程"
    assert short_text("开展“四清四严”行动，全面整治。") == "开展“四清四严”行动"
    cut = short_text("编制完成《隋唐洛阳城国家遗址公园建设规划（2022—2035年）》并上报国家文物局审批后组织实施" * 2, 30)
    assert cut.endswith("……") and cut.count("《") == cut.count("》")


def test_a_government_issuer_without_a_quoted_requirement(made) -> None:
    """No `requirement` configured: no quotation marks around words the notice may not contain;
    a county government issuer: no 领导小组 in the 抄送, so the 版记 has no 抄送 row."""
    import dataclasses

    ws = made[0]
    programme = ws.programme("351")
    county = dataclasses.replace(programme, issuer="宜川县人民政府", addressees="各乡镇人民政府，县直各单位",
                                 reporting=dataclasses.replace(programme.reporting, requirement="",
                                                               office="县政府督查室"))
    assert county.bulletin_copy_to == ""
    ctx = bulletin_context(made[2].assessment, county, make_registry(), number=1, issued=ISSUED)
    ctx["chart_note"] = ""
    path = ws.root / "county.docx"
    path.write_bytes(render_docx(ws, ctx, made[2].chart.read_bytes(), ISSUED))
    text = _docx_text(path)
    assert "（洛城提办文〔2022〕11号）要求，县政府督查室对2022年6月份" in _flat(text)
    assert "关于“" not in text and "抄送" not in text and "领导小组" not in text
    assert "各乡镇人民政府，县直各单位：" in text
    assert "县政府督查室\t2022年7月5日印发" in text
    colophon = docx.Document(str(path)).sections[-1].footer.tables[0]
    [row] = colophon.rows  # only 印发, under a thick first rule (GB/T 9704 7.4)
    top = row.cells[0]._tc.tcPr.find(qn("w:tcBorders")).find(qn("w:top"))
    assert top.get(qn("w:sz")) == "12"


def test_a_short_masthead_from_the_config_is_one_line(made) -> None:
    """[programmes.X] masthead: the office's own short 版头, on one line, its size fitted."""
    import dataclasses

    programme = dataclasses.replace(made[0].programme("351"), masthead="城市提质督查通报")
    ctx = bulletin_context(made[2].assessment, programme, make_registry(), number=1, issued=ISSUED)
    assert ctx["masthead_lines"] == ["城市提质督查通报"]
    ctx["chart_note"] = ""
    document = docx.Document(io.BytesIO(render_docx(made[0], ctx, made[2].chart.read_bytes(), ISSUED)))
    heads = [p.text for p in document.paragraphs if p.style.style_id == L.MASTHEAD_STYLE and p.text.strip()]
    assert heads == ["城市提质督查通报"]
    default = bulletin_context(made[2].assessment, made[0].programme("351"), make_registry(), number=1, issued=ISSUED)
    assert default["masthead_lines"] == [made[0].programme("351").title, "督查通报"]  # too long for one line
