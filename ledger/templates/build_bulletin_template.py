"""Build ``ledger/templates/bulletin.docx``, the Word template of the monthly bulletin (月度考核通报).

Run ``.venv/bin/python ledger/templates/build_bulletin_template.py`` to regenerate it. The
office may then reword the .docx in Word: text outside ``{{ }}`` / ``{% %}`` tags is
free, styles (公文正文, 一级标题 …) carry the fonts. Variables are listed in
``ledger/assess/content.py`` (``bulletin_context``); a misspelt one fails loudly.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from docx import Document  # noqa: E402
from docx.enum.section import WD_SECTION  # noqa: E402
from docx.enum.style import WD_STYLE_TYPE  # noqa: E402
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Mm, Pt, RGBColor  # noqa: E402

from ledger.assess import docx_layout as L  # noqa: E402
from ledger.fsutil import write_bytes_atomic  # noqa: E402

TARGET = HERE / "bulletin.docx"
RED = RGBColor(0xC0, 0x00, 0x00)
CHAR = L.BODY_PT  # one character of 3号 text, in pt

# style id -> (name shown in Word, east-Asian font, size pt, extra settings)
PARAGRAPH_STYLES = {
    "GwBody": ("公文正文", L.FANGSONG, L.BODY_PT, {"indent": 2}),
    "GwPlain": ("公文正文无缩进", L.FANGSONG, L.BODY_PT, {}),
    "GwH1": ("公文一级标题", L.HEITI, L.BODY_PT, {"indent": 2, "outline": 0, "keep": True}),
    "GwTitle": ("公文标题", L.XIAOBIAOSONG, L.TITLE_PT, {"center": True, "line": L.TITLE_LINE_PT}),
    L.MASTHEAD_STYLE: ("版头", L.XIAOBIAOSONG, L.MASTHEAD_PT, {"center": True, "red": True, "line": None}),
    "GwIssueNo": ("期号", L.FANGSONG, L.BODY_PT, {"center": True}),
    "GwIssuer": ("发文机关行", L.FANGSONG, L.BODY_PT, {"rule": True}),
    # the attachment lines stay with the signature below them (keep with next)
    "GwAttach": ("附件说明", L.FANGSONG, L.BODY_PT, {"indent": 2, "keep": True}),
    "GwAttachMore": ("附件说明续行", L.FANGSONG, L.BODY_PT, {"left": 5, "keep": True}),
    L.OFFICE_STYLE: ("发文机关署名", L.FANGSONG, L.BODY_PT, {"right": True, "keep": True}),
    L.DATE_STYLE: ("成文日期", L.FANGSONG, L.BODY_PT, {"right": True}),
    "GwAnnexLabel": ("附件标识", L.HEITI, L.BODY_PT, {"keep": True}),
    "GwAnnexTitle": ("附件标题", L.XIAOBIAOSONG, 18, {"center": True, "line": 30, "keep": True}),
    "GwCaption": ("图注", L.KAITI, 14, {"center": True}),
    "GwFigure": ("图片", L.FANGSONG, L.BODY_PT, {"center": True, "line": None, "keep": True, "nogrid": True}),
    # table text starts at the left (justified CJK text spreads a short line character by character)
    "GwTable": ("表格文字", L.FANGSONG, 12, {"line": None, "nogrid": True, "start": True}),
    "GwTableCenter": ("表格文字居中", L.FANGSONG, 12, {"line": None, "nogrid": True, "center": True}),
    "GwTableHead": ("表头", L.HEITI, 12, {"line": None, "nogrid": True, "center": True}),
    "GwTableSmall": ("明细表文字", L.FANGSONG, 10.5, {"line": None, "nogrid": True, "start": True}),
    "GwTableSmallCenter": ("明细表文字居中", L.FANGSONG, 10.5, {"line": None, "nogrid": True, "center": True}),
    "GwTableSmallHead": ("明细表表头", L.HEITI, 10.5, {"line": None, "nogrid": True, "center": True}),
    "GwCopy": ("版记", L.FANGSONG, 14, {"line": None, "nogrid": True, "sides": 1}),
}
CHARACTER_STYLES = {"GwKai": ("公文二级标题字", L.KAITI), "GwHeiChar": ("黑体字", L.HEITI)}

RANKING = (("名次", "rank", 18), ("单位", "unit", 79), ("台账分", "report", 21), ("任务分", "task", 21),
           ("加分", "bonus", 21), ("总分", "total", 21), ("等次", "grade", 20), ("位次变化", "change", 24))
# Column widths (mm) by content: texts wide, numbers narrow; each table spans the text block
# (156 mm portrait, 225 mm on a landscape page).
DETAIL = (("序号", "no", 8), ("任务编号", "task_id", 23), ("重点任务", "text", 49), ("牵头单位", "unit", 28),
          ("完成时限", "deadline", 26), ("完成进度", "percent", 12), ("序时进度", "schedule", 12),
          ("推进状态", "status", 16), ("亮灯", "light", 10), ("说明", "reason", 41))
CELL_MARGIN_MM = 1.0
LEFT_COLUMNS = {"unit", "text", "reason", "deadline"}
ANNEX_WIDTH_MM = L.PAGE_MM[1] - L.LANDSCAPE_MARGINS_MM[2] - L.LANDSCAPE_MARGINS_MM[3]
assert sum(w for *_, w in RANKING) == sum(w for *_, w in DETAIL) == ANNEX_WIDTH_MM


def build() -> bytes:
    doc = Document()
    _styles(doc)
    section = doc.sections[0]
    L.page_setup(section)
    L.page_number_footers(doc, section)
    _core(doc)
    _body(doc)
    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    L.page_setup(annex, landscape=True)
    _annexes(doc)
    # 版记 on the last page, an even one (GB/T 9704 7.5): Word, WPS and LibreOffice insert the
    # blank page the standard asks for when the annexes end on an even page
    last = doc.add_section(WD_SECTION.EVEN_PAGE)
    L.page_setup(last)
    _colophon(doc, last)
    buf = io.BytesIO()
    doc.save(buf)
    return L.normalise_zip(buf.getvalue())


def _styles(doc) -> None:
    normal = doc.styles["Normal"]
    L.set_fonts(normal.element, L.FANGSONG)
    normal.font.size = Pt(L.BODY_PT)
    _spacing(normal.paragraph_format, L.LINE_PT)
    _east_asia_lang(normal.element)
    for sid, (name, font, size, opts) in PARAGRAPH_STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.element.set(qn("w:styleId"), sid)
        style.base_style = normal
        style.quick_style = True
        L.set_fonts(style.element, font)
        style.font.size = Pt(size)
        fmt = style.paragraph_format
        line = opts.get("line", L.LINE_PT)
        _spacing(fmt, line)
        fmt.first_line_indent = Pt(CHAR * opts["indent"]) if "indent" in opts else Pt(0)
        if "indent" in opts:
            _first_line_chars(style.element, opts["indent"])
        if "left" in opts:
            fmt.left_indent = Pt(CHAR * opts["left"])
        if "sides" in opts:
            fmt.left_indent = fmt.right_indent = Pt(size * opts["sides"])
        fmt.alignment = (WD_ALIGN_PARAGRAPH.CENTER if opts.get("center") else WD_ALIGN_PARAGRAPH.RIGHT
                         if opts.get("right") else WD_ALIGN_PARAGRAPH.LEFT if opts.get("start")
                         else WD_ALIGN_PARAGRAPH.JUSTIFY)
        if opts.get("keep"):
            fmt.keep_with_next = True
        if opts.get("red"):
            style.font.color.rgb = RED
        if opts.get("nogrid"):
            _no_grid(style.element)
        if opts.get("rule"):
            _red_rule(style.element)
            fmt.tab_stops.add_tab_stop(Pt(L.TEXT_WIDTH_PT - CHAR), WD_TAB_ALIGNMENT.RIGHT)
            fmt.left_indent = Pt(CHAR)
            fmt.space_after = Pt(6)
        if "outline" in opts:
            level = OxmlElement("w:outlineLvl")
            level.set(qn("w:val"), str(opts["outline"]))
            L.insert_in_order(style.element.get_or_add_pPr(), level, L.PPR_ORDER)
    for sid, (name, font) in CHARACTER_STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
        style.element.set(qn("w:styleId"), sid)
        L.set_fonts(style.element, font)
    footer = doc.styles["Footer"]
    L.set_fonts(footer.element, L.SONGTI, L.SONGTI)
    footer.font.size = Pt(L.PAGE_NO_PT)
    _spacing(footer.paragraph_format, None)
    _no_grid(footer.element)


def _spacing(fmt, line: float | None) -> None:
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)


def _first_line_chars(style_el, chars: float) -> None:
    """Indent counted in characters too, so Word keeps 2 characters if the size changes."""
    ind = style_el.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(int(chars * 100)))


def _no_grid(style_el) -> None:
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    L.insert_in_order(style_el.get_or_add_pPr(), snap, L.PPR_ORDER)


def _east_asia_lang(style_el) -> None:
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    style_el.get_or_add_rPr().insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")


def _red_rule(style_el) -> None:
    """The red separator line under the 版头 (a bottom border, 1.5 pt)."""
    ppr = style_el.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    L.insert_in_order(ppr, borders, L.PPR_ORDER)


def _core(doc) -> None:
    props = doc.core_properties
    props.title = "{{ title }}"
    props.author = "{{ office }}"
    props.subject = "月度考核通报"
    props.comments = "由 ledger 生成；模板 templates/bulletin.docx"
    props.last_modified_by = "ledger"
    props.revision = 1
    props.created = props.modified = datetime(2022, 1, 1)


def _p(doc, text: str = "", style: str = "GwBody", *, runs: list[tuple[str, str | None]] | None = None):
    paragraph = doc.add_paragraph(style=doc.styles[_name(doc, style)])
    for run_text, char_style in runs or [(text, None)]:
        run = paragraph.add_run(run_text)
        if char_style:
            run.style = doc.styles[CHARACTER_STYLES[char_style][0]]
    return paragraph


def _name(doc, style_id: str) -> str:
    return PARAGRAPH_STYLES[style_id][0] if style_id in PARAGRAPH_STYLES else style_id


def _body(doc) -> None:
    _p(doc, "{%p for line in masthead_lines %}", L.MASTHEAD_STYLE)
    _p(doc, "{{ line }}", L.MASTHEAD_STYLE)
    _p(doc, "{%p endfor %}", L.MASTHEAD_STYLE)
    _p(doc, "第{{ issue_no }}期", "GwIssueNo")
    _p(doc, "{{ office }}\t{{ issue_date }}", "GwIssuer")
    _p(doc, "", "GwPlain")
    _p(doc, "{%p for line in title_lines %}", "GwTitle")
    _p(doc, "{{ line }}", "GwTitle")
    _p(doc, "{%p endfor %}", "GwTitle")
    _p(doc, "", "GwPlain")
    _p(doc, "{{ addressees }}：", "GwPlain")
    _p(doc, "为推动{{ programme_title }}各项任务落地见效，根据《{{ notice_name }}》（{{ doc_number }}）"
            "{% if requirement %}关于“{{ requirement }}”的{% endif %}要求，{{ office }}对{{ month_label }}各牵头单位工作台账报送和任务推进情况"
            "进行了督导考核。现将有关情况通报如下：")

    _p(doc, "一、总体情况", "GwH1")
    _p(doc, "截至{{ as_of }}，纳入督导的{{ overview.tasks }}项任务{% if overview.total != overview.tasks %}"
            "按牵头单位分解为{{ overview.total }}项，其{% endif %}中，已完成{{ overview.completed.count }}项，"
            "占{{ overview.completed.share }}；按序时推进{{ overview.on_track.count }}项，占{{ overview.on_track.share }}；"
            "进展滞后{{ overview.lagging.count }}项，占{{ overview.lagging.share }}；"
            "未启动{{ overview.not_started.count }}项，占{{ overview.not_started.share }}；"
            "牵头单位未报送{{ overview.unreported.count }}项，占{{ overview.unreported.share }}。"
            "{% if overview.overdue %}已过完成时限或时间节点仍未完成的{{ overview.overdue }}项。{% endif %}")
    _p(doc, "从亮灯情况看，绿灯任务{{ overview.green.count }}项（占{{ overview.green.share }}），"
            "黄灯任务{{ overview.yellow.count }}项（占{{ overview.yellow.share }}），"
            "红灯任务{{ overview.red.count }}项（占{{ overview.red.share }}）。"
            "{% if overview.recovered_count %}本月有{{ overview.recovered_count }}项任务由红灯转为黄灯或绿灯"
            "（{{ overview.recovered_text }}）。{% endif %}各牵头单位任务亮灯情况见下图。")
    _p(doc, "{{ chart }}", "GwFigure")
    _p(doc, "{{ chart_title }}", "GwCaption")
    _p(doc, "{%p if chart_note %}", "GwCaption")
    _p(doc, "{{ chart_note }}", "GwCaption")
    _p(doc, "{%p endif %}", "GwCaption")

    _p(doc, "二、进展较好的单位", "GwH1")
    _p(doc, "{%p if honour_units %}")
    _p(doc, "{{ praise_rule }}，予以通报表扬。本月符合条件的单位有{{ honour_units|length }}个：")
    _p(doc, "{%p for u in honour_units %}")
    _p(doc, runs=[("{{ u.ordinal }}{{ u.unit }}。", "GwKai"),
                  ("本月{{ u.report_text }}；牵头的{{ u.tasks }}项任务中{{ u.progress_text }}"
                   "{% if u.early %}，提前完成时间节点{{ u.early }}个{% endif %}；"
                   "考核得分{{ u.total }}分，等次为{{ u.grade }}。", None)])
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p else %}")
    _p(doc, "{{ praise_rule }}，予以通报表扬。本月没有符合条件的单位。")
    _p(doc, "{%p endif %}")

    _p(doc, "三、进展滞后的任务", "GwH1")
    _p(doc, "{%p if lagging %}")
    _p(doc, "截至{{ as_of }}，{% if red_count %}红灯任务{{ red_count }}项{% else %}没有红灯任务{% endif %}"
            "{% if yellow_count %}{% if red_count %}、{% else %}，{% endif %}黄灯任务{{ yellow_count }}项{% endif %}"
            "（含牵头单位未报送的任务），具体如下：")
    _p(doc, "{%p for t in lagging %}")
    _p(doc, runs=[("{{ t.ordinal }}【{{ t.light }}】{{ t.task_id }}“{{ t.short_text }}”。", "GwKai"),
                  ("牵头单位：{{ t.unit }}；完成时限：{{ t.deadline }}；推进状态：{{ t.status }}；"
                   "{{ t.situation }}。", None)])
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p else %}")
    _p(doc, "截至{{ as_of }}，没有红灯和黄灯任务。")
    _p(doc, "{%p endif %}")

    _p(doc, "四、台账报送情况", "GwH1")
    _p(doc, "{{ month_label }}共{{ reporting.periods }}期（{{ reporting.period_names }}），应报送工作台账"
            "{{ reporting.due }}份，按时报送{{ reporting.on_time }}份，逾期报送{{ reporting.late }}份，"
            "未报送{{ reporting.missing }}份{% if reporting.rejected %}（其中退回后未重报{{ reporting.rejected }}份）"
            "{% endif %}，按时报送率{{ reporting.on_time_rate }}。")
    _p(doc, "{%p if reporting.late %}")
    _p(doc, "逾期报送的单位：{{ reporting.late_units }}。")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if reporting.missing %}")
    _p(doc, "未报送的单位：{{ reporting.missing_units }}。")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if reporting.no_progress_count %}")
    _p(doc, "本期进展未填写或照抄上期的：{{ reporting.no_progress_units }}。")
    _p(doc, "{%p endif %}")

    _p(doc, "五、考核得分及排名", "GwH1")
    _p(doc, "按照考核办法（基础分{{ scoring.start }}分，按台账报送和任务推进情况扣分，提前完成时间节点加分），"
            "{{ month_label }}参加考核的牵头单位{{ scoring.units }}个，平均得分{{ scoring.average }}分，"
            "其中优秀{{ scoring.excellent }}个、良好{{ scoring.good }}个、一般{{ scoring.fair }}个。")
    _p(doc, runs=[("通报表扬：", "GwHeiChar"), ("{{ honour_board }}。", None)])
    _p(doc, runs=[("{{ criticism }}：", "GwHeiChar"), ("{{ shame_board }}。", None)])
    _p(doc, "各单位得分及排名见附件1。")

    _p(doc, "六、下步工作要求", "GwH1")
    _p(doc, "一是加快推进滞后任务。红灯、黄灯任务的牵头单位要逐项分析原因，制定整改措施，明确完成时限，"
            "确保尽快赶上序时进度；逾期未完成的任务要书面说明情况。")
    _p(doc, "二是严格台账报送。各牵头单位要于{{ due_text }}前按时报送工作台账，如实填写本期进展，"
            "不得漏报、迟报，不得照抄上期内容。")
    # the last body paragraph and the blank line under it go with the attachment lines and
    # the signature, so the signature never stands on a page without body text
    _p(doc, "三是强化督导考核。{{ office }}将持续跟踪红灯任务推进情况，考核结果按月通报，"
            "对连续排名靠后的单位进行约谈。").paragraph_format.keep_with_next = True
    _p(doc, "", "GwPlain").paragraph_format.keep_with_next = True
    _p(doc, "附件：1.{{ first_attachment }}", "GwAttach")
    _p(doc, "{%p for a in more_attachments %}", "GwAttachMore")
    _p(doc, "{{ a.no }}.{{ a.name }}", "GwAttachMore")
    _p(doc, "{%p endfor %}", "GwAttachMore")
    for _ in range(2):  # the blank lines above the signature go with it
        _p(doc, "", "GwPlain").paragraph_format.keep_with_next = True
    _p(doc, "{{ office }}", L.OFFICE_STYLE)
    _p(doc, "{{ issue_date }}", L.DATE_STYLE)


def _annexes(doc) -> None:
    _p(doc, "附件1", "GwAnnexLabel")
    _p(doc, "{{ month_label }}考核得分及排名表", "GwAnnexTitle")
    _p(doc, "（台账分、任务分为扣分，加分为提前完成时间节点所得；每项扣分、加分的依据见考核得分.xlsx）",
       "GwTableCenter")
    _table(doc, RANKING, "ranking", "r", "GwTable", "GwTableHead", fill=False)
    label = _p(doc, "附件2", "GwAnnexLabel")
    label.paragraph_format.page_break_before = True
    _p(doc, "{{ month_label }}任务进展亮灯明细表", "GwAnnexTitle")
    _p(doc, "（截至{{ as_of_date }}）", "GwTableCenter")
    _table(doc, DETAIL, "detail", "d", "GwTableSmall", "GwTableSmallHead", fill=True)


def _table(doc, columns, items: str, var: str, text_style: str, head_style: str, *, fill: bool) -> None:
    table = doc.add_table(rows=4, cols=len(columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    center = f"{text_style}Center" if f"{text_style}Center" in PARAGRAPH_STYLES else text_style
    for c, (head, key, width) in enumerate(columns):
        table.columns[c].width = Mm(width)
        for r in range(4):
            cell = table.cell(r, c)
            cell.width = Mm(width)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _cell(doc, table.cell(0, c), head, head_style)
        text = f"{{{{ {var}.{key} }}}}"
        if fill and key == "light":
            text = f"{{% cellbg {var}.fill %}}{text}"
        _cell(doc, table.cell(2, c), text, text_style if key in LEFT_COLUMNS else center)
    _cell(doc, table.cell(1, 0), f"{{%tr for {var} in {items} %}}", text_style)
    _cell(doc, table.cell(3, 0), "{%tr endfor %}", text_style)
    _repeat_header(table.rows[0])
    _cell_margins(table, CELL_MARGIN_MM)
    _table_width(table, sum(w for *_, w in columns))
    for r in range(4):
        _cant_split(table.rows[r])


def _cell(doc, cell, text: str, style: str) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.style = doc.styles[_name(doc, style)]
    paragraph.add_run(text)


def _table_width(table, mm: float) -> None:
    """The table's own width (w:tblW) besides its grid and cell widths, which WPS and
    LibreOffice otherwise recompute from the content."""
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(mm / 25.4 * 1440)))
    width.set(qn("w:type"), "dxa")
    old = table._tbl.tblPr.find(qn("w:tblW"))
    if old is not None:
        table._tbl.tblPr.remove(old)
    L.insert_in_order(table._tbl.tblPr, width, L.TBLPR_ORDER)


def _cell_margins(table, mm: float) -> None:
    """Narrow left/right cell margins, so short values (2022年12月底前) stay on one line."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(mm / 25.4 * 1440)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    L.insert_in_order(table._tbl.tblPr, margins, L.TBLPR_ORDER)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    trpr.append(header)


def _cant_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.insert(0, OxmlElement("w:cantSplit"))


def _colophon(doc, section) -> None:
    """版记: 抄送 and 印发 between rules at the foot of the last page (GB/T 9704 7.4).

    It sits in the last section's footers, above the page number: a footer is placed at
    the foot of the page by Word and LibreOffice alike (LibreOffice ignores a bottom-
    aligned page or a table anchored to the bottom).
    """
    _p(doc, "", "GwPlain")  # the last page needs a body paragraph
    L.plain_footers(doc, section)  # the 版记 page has no page number (GB/T 9704 7.5)
    width = Mm(L.PAGE_MM[0] - L.MARGINS_MM[2] - L.MARGINS_MM[3])
    for footer in (section.footer, section.even_page_footer):
        table = footer.add_table(rows=2, cols=1, width=width)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        table.columns[0].width = width
        for row in table.rows:
            row.cells[0].width = width
        _cell(doc, table.cell(0, 0), "抄送：{{ copy_to }}。", "GwCopy")
        printed = table.cell(1, 0).paragraphs[0]
        printed.style = doc.styles[_name(doc, "GwCopy")]
        printed.paragraph_format.tab_stops.add_tab_stop(width - Pt(2 * 14), WD_TAB_ALIGNMENT.RIGHT)
        printed.add_run("{{ office }}\t{{ issue_date }}印发")
        _colophon_borders(table)
        footer.paragraphs[0]._p.addprevious(table._tbl)
        gap = footer.paragraphs[0].paragraph_format
        gap.space_before = Pt(L.PAGE_NO_PT / 2)


def _colophon_borders(table) -> None:
    """Thick rules above and below, a thin one between, no side lines."""
    for r, (top, bottom) in enumerate((("12", "4"), (None, "12"))):
        tcpr = table.cell(r, 0)._tc.get_or_add_tcPr()
        borders = OxmlElement("w:tcBorders")
        for side, size in (("top", top), ("left", None), ("bottom", bottom), ("right", None)):
            el = OxmlElement(f"w:{side}")
            if size:
                for k, v in (("w:val", "single"), ("w:sz", size), ("w:space", "0"), ("w:color", "000000")):
                    el.set(qn(k), v)
            else:
                el.set(qn("w:val"), "nil")
            borders.append(el)
        tcpr.append(borders)


def main() -> None:
    write_bytes_atomic(TARGET, build())
    print(f"已生成 {TARGET}")


if __name__ == "__main__":
    main()
