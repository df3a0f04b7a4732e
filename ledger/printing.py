"""How a worksheet prints legibly: paper, margins, a fixed print scale, column bands.

Offices print the 工作台账 to sign and stamp it, the 汇总表 for the meeting and the registry
for review. Every printed page keeps its body text at :data:`MIN_BODY_PT` or more
(docs/printing.md): a sheet whose columns do not fit the paper at that size is printed in
bands of columns, page after page, with its key columns repeated on each, instead of being
shrunk to one page wide. Widths are in Excel's character units; a column of width *w* prints
7*w* + 5 points wide in LibreOffice (Excel prints the same column narrower, at about 0.75 of
that), so a layout that fits LibreOffice's page fits Excel's and WPS's too.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_BODY_PT = 9.0
MAX_ROW_PT = 409.0
#: paper → (xlsxwriter paper code, long side mm, short side mm)
PAPERS = {"A4": (9, 297.0, 210.0), "A3": (8, 420.0, 297.0)}
MARGINS_IN = {"left": 0.25, "right": 0.25, "top": 0.55, "bottom": 0.6}
FOOTER_TEXT = "第 &P 页 共 &N 页"
FOOTER = "&C" + FOOTER_TEXT
#: a title printed in the page header: its size, the header's distance from the edge, the top margin
TITLE_PT = 16
HEADER_IN = 0.3
TITLE_TOP_IN = 0.85
NOTE_PT = 11
NOTE_TOP_IN = 1.1
#: Excel refuses a page header longer than this
HEADER_MAX = 255
_MM_PER_PT = 25.4 / 72


@functools.lru_cache(maxsize=4096)
def text_lines(text: str, width: float) -> int:
    """Lines *text* wraps to in a column *width* characters wide (CJK counts about double).
    Remembered: a period's workbooks repeat many texts (units, deadlines, 序时进度, the 填报说明)."""
    usable = max(width - 1.5, 1.0)
    total = 0
    if len(text) * 2.1 <= usable and "\n" not in text:
        return 1
    for line in text.split("\n"):
        narrow = len(line.encode("latin-1", "ignore"))  # everything else is drawn about double width
        wide = 2.1 * (len(line) - narrow) + 1.1 * narrow
        total += max(1, math.ceil(wide / usable))
    return total


def row_height(cells: Sequence[tuple[str, float]], points_per_line: float = 14.5, minimum: float = 20) -> float:
    """A row height that shows every (text, column width) cell in full.

    Explicit heights because LibreOffice and WPS do not always grow rows for wrapped
    text when opening a generated file; units may still resize rows. The estimate is
    Excel's (narrower than LibreOffice's), capped at Excel's largest row height.
    """
    lines = 1
    for text, width in cells:
        if text:
            lines = max(lines, text_lines(text, width))
    return min(MAX_ROW_PT, max(minimum, round(lines * points_per_line + 5, 1)))


def column_mm(width: float) -> float:
    """The printed width (mm, at 100 %) of a column *width* characters wide, as LibreOffice prints it."""
    return math.floor(width * 7 + 5) * _MM_PER_PT


def printable_mm(paper: str, landscape: bool = True) -> float:
    """Width of the paper between the left and right margins."""
    _, long_side, short_side = PAPERS[paper]
    width = long_side if landscape else short_side
    return width - (MARGINS_IN["left"] + MARGINS_IN["right"]) * 25.4


def min_scale(font_pt: float) -> int:
    """The smallest print scale (%) that keeps *font_pt* text at :data:`MIN_BODY_PT` or more."""
    return math.ceil(100 * MIN_BODY_PT / font_pt)


@dataclass(frozen=True)
class PrintPlan:
    """How one sheet prints: paper and scale, and where its column bands begin."""

    paper: str
    landscape: bool
    scale: int  # percent
    breaks: tuple[int, ...]  # zero-based first column of each band after the first
    repeat: int  # leading columns repeated on every band (0: none)

    @property
    def bands(self) -> int:
        return len(self.breaks) + 1


def plan(widths: Sequence[float], paper: str, font_pt: float, *, landscape: bool = True,
         bands: Sequence[int] = (), repeat: int = 0) -> PrintPlan:
    """The print plan of columns *widths*: one band at the largest scale up to 100 % when
    they fit at :func:`min_scale`, else the given *bands* (first columns of the bands after
    the first), each with the first *repeat* columns in front of it."""
    room = printable_mm(paper, landscape)
    floor = min_scale(font_pt)
    whole = sum(column_mm(w) for w in widths)
    one = min(100, math.floor(100 * room / whole))
    if one >= floor or not bands:
        return PrintPlan(paper, landscape, max(one, 10), (), 0)
    starts = [0, *bands, len(widths)]
    repeated = sum(column_mm(w) for w in widths[:repeat])
    widest = max(sum(column_mm(w) for w in widths[a:b]) + (repeated if a else 0)
                 for a, b in zip(starts, starts[1:], strict=False))
    scale = min(100, math.floor(100 * room / widest))
    return PrintPlan(paper, landscape, max(scale, 10), tuple(bands), repeat)


def apply(sheet: Any, plan_: PrintPlan, *, repeat_rows: tuple[int, int] | None = None,
          title: str = "", note: str = "", first_row: int = 0, last: tuple[int, int] | None = None) -> None:
    """Page setup of an xlsxwriter worksheet from *plan_*: paper, orientation, margins, the fixed
    scale, the column breaks and repeated columns, *repeat_rows* on each page, the page-number
    footer (not scaled with the sheet, so it stays readable).

    With *title* (and a *note* line under it), the title prints in the page header of every
    page instead of from the sheet, and the print area starts at *first_row* (zero-based) and
    ends at cell *last*: a title merged over the first band's columns would otherwise show cut
    off in the key columns repeated in front of the next band.
    """
    sheet.set_paper(PAPERS[plan_.paper][0])
    if plan_.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    margins = dict(MARGINS_IN, top=NOTE_TOP_IN if note else TITLE_TOP_IN) if title else MARGINS_IN
    sheet.set_margins(**margins)
    sheet.set_print_scale(plan_.scale)
    if plan_.breaks:
        sheet.set_v_pagebreaks(list(plan_.breaks))
    if plan_.repeat:
        sheet.repeat_columns(0, plan_.repeat - 1)
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)
    if title:
        sheet.set_header(page_header(title, note), {"margin": HEADER_IN, "scale_with_doc": False})
        if last is not None:
            sheet.print_area(first_row, 0, *last)
    sheet.set_footer(FOOTER, {"scale_with_doc": False})


def page_header(title: str, note: str = "") -> str:
    """The page-header code of a bold *title* with a smaller *note* line under it (the note cut
    with "…" to keep within Excel's limit)."""
    head = f"&C&B&{TITLE_PT}" + title.replace("&", "&&") + "&B"
    if not note:
        return head
    start = f"\n&{NOTE_PT}"
    room = HEADER_MAX - len(head) - len(start)
    note = note.replace("&", "&&")
    if len(note) > room:
        note = note[:max(room - 1, 0)].rstrip("&") + "…"
    return head + start + note


def apply_openpyxl(sheet: Any, plan_: PrintPlan, *, repeat_rows: str = "", title: str = "") -> None:
    """:func:`apply` for an openpyxl worksheet (the registry workbook is written with openpyxl):
    the same paper, margins, scale, bands and footer; *title* in the page header."""
    from openpyxl.worksheet.pagebreak import Break

    setup = sheet.page_setup
    setup.paperSize = PAPERS[plan_.paper][0]
    setup.orientation = "landscape" if plan_.landscape else "portrait"
    setup.scale = plan_.scale
    sheet.sheet_properties.pageSetUpPr.fitToPage = False
    margins = dict(MARGINS_IN, top=TITLE_TOP_IN) if title else MARGINS_IN
    for side, inches in margins.items():
        setattr(sheet.page_margins, side, inches)
    for column in plan_.breaks:
        sheet.col_breaks.append(Break(id=column))
    if plan_.repeat:
        from openpyxl.utils import get_column_letter

        sheet.print_title_cols = f"A:{get_column_letter(plan_.repeat)}"
    if repeat_rows:
        sheet.print_title_rows = repeat_rows
    if title:
        sheet.oddHeader.center.text = title.replace("&", "&&")
        sheet.oddHeader.center.size = TITLE_PT
        sheet.oddHeader.center.font = ",Bold"
        sheet.page_margins.header = HEADER_IN
    sheet.oddFooter.center.text = FOOTER_TEXT
