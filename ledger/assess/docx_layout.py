"""公文 page setup for Word documents (GB/T 9704-2012; docs/rules.md, 考核通报).

Used by ``ledger/templates/build_bulletin_template.py`` to build the bulletin template, and
after rendering to fit the masthead and place the signature, which depend on the
rendered text. Official font names are kept (仿宋_GB2312, 方正小标宋简体, 黑体,
楷体_GB2312) and set for East Asian text (``w:eastAsia``), digits in Times New Roman.
"""

from __future__ import annotations

import copy
import io
import math
import zipfile

from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"

BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
PAGE_NO_PT = 14  # 4号
MASTHEAD_PT = 36
LINE_PT = 28.95  # 22 lines in the 225 mm text block
TITLE_LINE_PT = 35
PAGE_MM = (210, 297)
# top, bottom, left, right (mm): text block 156 × 225 mm
MARGINS_MM = (37, 35, 28, 26)
# The landscape pages keep a 225 × 156 mm text block, turned.
LANDSCAPE_MARGINS_MM = (28, 26, 37, 35)
FOOTER_MM = 25  # page number about 7 mm below the text block
TEXT_WIDTH_PT = (PAGE_MM[0] - MARGINS_MM[2] - MARGINS_MM[3]) / 25.4 * 72
PAGE_DASH = "—"  # — 1 —

# Style ids shared by the template builder and the post-rendering fixes.
MASTHEAD_STYLE = "GwMasthead"
OFFICE_STYLE = "GwSignOffice"
DATE_STYLE = "GwSignDate"


# Schema order of w:pPr children (CT_PPrBase), for inserting raw elements in place.
PPR_ORDER = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
    "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
    "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange",
)
TBLPR_ORDER = (
    "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW", "jc",
    "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption",
    "tblDescription", "tblPrChange",
)

TCPR_ORDER = (
    "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
    "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel", "cellMerge", "tcPrChange",
)


def insert_in_order(parent: object, child: object, order: tuple[str, ...]) -> None:
    """Insert *child* into *parent* where the schema wants it (Word rejects misordered XML)."""
    name = child.tag.split("}")[-1]  # type: ignore[attr-defined]
    later = order[order.index(name) + 1:]
    parent.insert_element_before(child, *(f"w:{n}" for n in later))  # type: ignore[attr-defined]


def sort_cell_properties(document: Document) -> None:
    """Put every ``w:tcPr``'s children in schema order (docxtpl's cellbg puts ``w:shd`` first,
    which Word may refuse as unreadable content)."""
    for tcpr in document.element.body.iter(qn("w:tcPr")):
        children = list(tcpr)
        ranked = sorted(children, key=lambda c: TCPR_ORDER.index(c.tag.split("}")[-1])
                        if c.tag.split("}")[-1] in TCPR_ORDER else len(TCPR_ORDER))
        if ranked != children:
            for child in children:
                tcpr.remove(child)
            tcpr.extend(ranked)


def set_fonts(element: object, east_asia: str, latin: str = LATIN) -> None:
    """Set ``w:rFonts`` on a style's or run's ``w:rPr``: *east_asia* for Chinese, *latin* for digits."""
    rpr = element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def page_setup(section: Section, *, landscape: bool = False) -> None:
    """A4 with the 公文 margins, portrait or landscape, and the 22-line grid."""
    width, height = (Mm(PAGE_MM[1]), Mm(PAGE_MM[0])) if landscape else (Mm(PAGE_MM[0]), Mm(PAGE_MM[1]))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = width, height
    top, bottom, left, right = LANDSCAPE_MARGINS_MM if landscape else MARGINS_MM
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(FOOTER_MM if not landscape else 16)
    section.gutter = Mm(0)
    doc_grid(section, None if landscape else LINE_PT)


def doc_grid(section: Section, line_pt: float | None) -> None:
    """The document grid: *line_pt* lines (``type="lines"``), or none."""
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    if line_pt is None:
        grid.set(qn("w:linePitch"), "312")
    else:
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(round(line_pt * 20)))


def page_number_paragraph(paragraph: Paragraph, *, odd: bool) -> None:
    """``— PAGE —`` in 4号 宋体, odd pages right and even pages left, one character in."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    fmt.first_line_indent = Pt(0)
    if odd:
        fmt.right_indent, fmt.left_indent = Pt(PAGE_NO_PT), Pt(0)
    else:
        fmt.left_indent, fmt.right_indent = Pt(PAGE_NO_PT), Pt(0)
    fmt.line_spacing = 1.0
    for text, field in ((f"{PAGE_DASH} ", None), (None, "PAGE"), (f" {PAGE_DASH}", None)):
        if field:
            _field(paragraph, field)
        else:
            run = paragraph.add_run(text)
            _page_font(run)


def _page_font(run: object) -> None:
    set_fonts(run._r, SONGTI, SONGTI)  # type: ignore[attr-defined]
    run.font.size = Pt(PAGE_NO_PT)  # type: ignore[attr-defined]


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A complex field (begin / instrText / separate / cached 1 / end), each part a run."""
    parts = [("begin", None), (None, f" {instruction} "), ("separate", None), (None, "1"), ("end", None)]
    for kind, text in parts:
        run = paragraph.add_run()
        _page_font(run)
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text and text.strip() == instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text or ""


def page_number_footers(document: Document, section: Section) -> None:
    """Odd/even footers with the page number (settings ``w:evenAndOddHeaders``)."""
    document.settings.odd_and_even_pages_header_footer = True
    section.footer.is_linked_to_previous = False
    section.even_page_footer.is_linked_to_previous = False
    for footer, odd in ((section.footer, True), (section.even_page_footer, False)):
        paragraph = footer.paragraphs[0]
        paragraph.style = document.styles["Footer"]
        page_number_paragraph(paragraph, odd=odd)


def plain_footers(document: Document, section: Section) -> None:
    """Odd and even footers of their own without a page number (the 版记 page)."""
    document.settings.odd_and_even_pages_header_footer = True
    for footer in (section.footer, section.even_page_footer):
        footer.is_linked_to_previous = False
        footer.paragraphs[0].style = document.styles["Footer"]


def normalise_zip(data: bytes) -> bytes:
    """The same .docx with fixed zip timestamps, so the same content gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2022, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def text_width(text: str) -> float:
    """Width in CJK character cells: ASCII counts half."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def _style_id(paragraph: Paragraph) -> str:
    ppr = paragraph._p.pPr
    style = ppr.find(qn("w:pStyle")) if ppr is not None else None
    return style.get(qn("w:val")) if style is not None else ""


def _style_size(document: Document, style_id: str, default: float) -> float:
    for style in document.styles:
        if style.style_id == style_id and style.font.size:
            return style.font.size.pt
    return default


def fit_masthead(document: Document) -> None:
    """Shrink the masthead (版头) so it stays on one line (a long programme name would wrap)."""
    for paragraph in document.paragraphs:
        if _style_id(paragraph) != MASTHEAD_STYLE:
            continue
        text = paragraph.text.strip()
        size = _style_size(document, MASTHEAD_STYLE, MASTHEAD_PT)
        if not text:
            continue
        fit = math.floor(TEXT_WIDTH_PT / text_width(text) * 2) / 2 - 0.5
        if fit < size:
            for run in paragraph.runs:
                run.font.size = Pt(max(fit, 12))


def align_signature(document: Document, indent_chars: float = 4) -> None:
    """成文日期右空四字; 发文机关署名以成文日期为准居中 (GB/T 9704 7.3.5.1).

    The office line is right-aligned with the indent that centres it over the date;
    an office name wider than the date starts at the date's start at most.
    """
    office = date = None
    for paragraph in document.paragraphs:
        sid = _style_id(paragraph)
        if sid == OFFICE_STYLE and office is None:
            office = paragraph
        elif sid == DATE_STYLE and date is None:
            date = paragraph
    if office is None or date is None:
        return
    date_w = text_width(date.text.strip())
    office_w = text_width(office.text.strip())
    date.alignment = office.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    date.paragraph_format.right_indent = Pt(indent_chars * BODY_PT)
    office_indent = max(0.0, indent_chars + (date_w - office_w) / 2)
    office.paragraph_format.right_indent = Pt(office_indent * BODY_PT)
    for p in (office, date):
        p.paragraph_format.first_line_indent = Pt(0)


LEAD_IN_ENDS = ("：", ":")


def keep_lead_ins(document: Document) -> None:
    """A body line that ends in "：" (予以通报表扬：, 各牵头单位：) introduces what follows it:
    keep it on the same page as the next paragraph, so no page ends on it."""
    for paragraph in document.paragraphs:
        if paragraph.text.rstrip().endswith(LEAD_IN_ENDS):
            paragraph.paragraph_format.keep_with_next = True


EMPTY_COPY_TO = "抄送：。"


def drop_empty_copy_to(document: Document) -> None:
    """版记 without 抄送 when there is no one to copy: the 抄送 row of the colophon goes and the
    印发 row takes its thick top rule (GB/T 9704 7.4: the first and last rules are thick).

    Works on the footer parts the document's relationships point to: docxtpl renders footers
    into new parts, which ``section.footer`` does not see.
    """
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    for rel in document.part.rels.values():
        if not rel.reltype.endswith("/footer") or rel.is_external:
            continue
        for table in rel.target_part.element.iter(f"{w}tbl"):
            rows = table.findall(f"{w}tr")
            text = "".join(t.text or "" for t in rows[0].iter(f"{w}t")) if rows else ""
            if len(rows) < 2 or text.strip() != EMPTY_COPY_TO:
                continue
            top = rows[0].find(f"{w}tc/{w}tcPr/{w}tcBorders/{w}top")
            table.remove(rows[0])
            borders = rows[1].find(f"{w}tc/{w}tcPr/{w}tcBorders")
            old = borders.find(f"{w}top") if borders is not None else None
            if top is not None and old is not None:
                borders.replace(old, copy.deepcopy(top))
