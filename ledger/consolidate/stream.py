"""Stream the data rows of big sheets into a workbook xlsxwriter has written.

xlsxwriter writes everything that needs care (styles, conditional formats, filters,
charts, print settings, properties) and two template rows per big sheet: one with each
column's format, one with the quote-prefixed variants. This module then copies the
package and replaces the template rows with the real rows, written as XML straight
into the zip stream (deflate level 3), one chunk at a time. That is 5–8 times faster
than xlsxwriter's per-cell API for a 50,000-row sheet and holds no sheet in memory.

Every text is an inline string (``t="inlineStr"``), never a formula; a text that
starts with ``=``, ``+``, ``-``, ``@`` gets the quote-prefixed style as well.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

from xlsxwriter.utility import xl_col_to_name

TEMPLATE_ROWS = 2
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
MAX_CELL = 32767
MAX_ROW_HEIGHT = 409.0
# Deflate level for every part: level 3 writes 50,000 rows as fast as level 1 within noise
# and 15 % smaller; level 6 (zipfile's default) costs about a second more.
COMPRESS_LEVEL = 3
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CHUNK_ROWS = 500
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_")
_ESCAPED = re.compile(r"_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_CELL_STYLE = re.compile(r'<c r="([A-Z]+)\d+" s="(\d+)"')
_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')
# Separator for a row's joined texts; any printable character would do ("|" in a text
# only sends that row down the careful path).
_SEP = "|"
_STARTS = frozenset("=+-@ ")


@dataclass(frozen=True)
class BulkRows:
    """The data rows of one sheet, streamed in place of its template rows.

    ``first_row`` is the zero-based row of the first data row (where the template rows
    were written); ``kinds`` says per column whether values are "number" or "text";
    ``widths`` (column widths in characters) size each row for wrapped text.
    """

    sheet: str
    first_row: int
    count: int
    kinds: Sequence[str]
    widths: Sequence[float]
    rows: Iterable[Sequence[object]]
    min_height: float = 20.0
    line_height: float = 14.5


def wide_chars(text: str) -> float:
    """*text*'s width in CJK characters: a narrow (ASCII) character is about half of one.

    UTF-8 gives the count of the others cheaply: they take 2–4 bytes (CJK three)."""
    n = len(text)
    return (1.1 * n + (len(text.encode("utf-8")) - n) / 2) / 2.1


def write_templates(sheet, first_row: int, formats: Sequence, quoted: Sequence) -> None:
    """Write the two template rows (plain formats, quote-prefixed formats) at *first_row*."""
    for offset, fmts in enumerate((formats, quoted)):
        for col, fmt in enumerate(fmts):
            sheet.write_string(first_row + offset, col, "x", fmt)


def escape(text: str) -> str:
    """Text as XML character data, Excel's ``_xHHHH_`` escapes for characters XML forbids."""
    if not _SPECIAL.search(text):
        return text
    text = _ESCAPED.sub(lambda m: "_x005F" + m.group(0), text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def finish(base: bytes, target: Path, bulks: Sequence[BulkRows]) -> None:
    """Write *base* (an .xlsx from xlsxwriter) to *target* with the bulk rows streamed in."""
    by_sheet = {b.sheet: b for b in bulks}
    with zipfile.ZipFile(io.BytesIO(base)) as src:
        parts = _sheet_parts(src)
        by_part = {parts[name]: bulk for name, bulk in by_sheet.items()}
        missing = set(by_sheet) - set(parts)
        if missing:
            raise ValueError(f"sheets not in workbook: {sorted(missing)}")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
            for info in src.infolist():
                member = _member(info.filename)
                if info.filename in by_part:
                    with out.open(member, "w", force_zip64=True) as fh:
                        _stream_sheet(src.read(info.filename).decode("utf-8"), by_part[info.filename], fh)
                else:
                    out.writestr(member, src.read(info.filename))


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    try:
        info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]  # until Python 3.12
    except AttributeError:
        info.compress_level = COMPRESS_LEVEL  # type: ignore[attr-defined]  # Python 3.13 and later
    return info


def _sheet_parts(src: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → part name, from workbook.xml and its relationships."""
    book = src.read("xl/workbook.xml").decode("utf-8")
    rels = src.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = dict(re.findall(r'<Relationship Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    out = {}
    for tag in re.findall(r"<sheet [^>]*/>", book):
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag)
        if name and rid and rid.group(1) in targets:
            target = targets[rid.group(1)].lstrip("/")
            out[unescape(name.group(1), {"&quot;": '"', "&apos;": "'"})] = (
                target if target.startswith("xl/") else "xl/" + target)
    return out


def _stream_sheet(xml: str, bulk: BulkRows, fh) -> None:
    """Copy the sheet XML, replacing its template rows with the bulk rows."""
    open_at = xml.index("<sheetData>") + len("<sheetData>")
    close_at = xml.index("</sheetData>")
    body = xml[open_at:close_at]
    first = bulk.first_row + 1  # Excel's one-based row number
    kept, styles, quoted = [], {}, {}
    for m in _ROW.finditer(body):
        r = int(m.group(1))
        if r < first:
            kept.append(m.group(0))
        elif r == first:
            styles = dict(_CELL_STYLE.findall(m.group(0)))
        elif r == first + 1:
            quoted = dict(_CELL_STYLE.findall(m.group(0)))
        else:
            raise ValueError(f"row {r} written below the template rows of {bulk.sheet}")
    ncol = len(bulk.kinds)
    letters = [xl_col_to_name(c) for c in range(ncol)]
    plain = [styles.get(x, "0") for x in letters]
    quote = [quoted.get(x, plain[c]) for c, x in enumerate(letters)]
    last_row = first - 1 + bulk.count if bulk.count else max(first - 1, 1)
    head = _DIMENSION.sub(f'<dimension ref="A1:{letters[-1]}{last_row}"/>', xml[:open_at], count=1)
    fh.write(head.encode("utf-8"))
    fh.write("".join(kept).encode("utf-8"))
    _write_rows(fh, bulk, first, letters, plain, quote)
    fh.write(xml[close_at:].encode("utf-8"))


def _write_rows(fh, bulk: BulkRows, first: int, letters: list[str], plain: list[str], quote: list[str]) -> None:
    """Row XML in chunks; a row whose texts need no escaping, quoting or kept spaces
    (:func:`_needs_care` on the joined row) takes the fast path."""
    specs = [
        (f'<c r="{x}', f'" s="{s}"/>', f'" s="{s}"><v>', f'" s="{s}" t="inlineStr"><is><t>', k == "number",
         1 / max((w - 1.5) / 2.1, 0.5), x, s, q)  # the last number: lines per CJK character
        for x, s, q, k, w in zip(letters, plain, quote, bulk.kinds, bulk.widths, strict=True)
    ]
    spans = f"1:{len(letters)}"
    chunk: list[str] = []
    written = 0
    for n, values in enumerate(bulk.rows):
        r = str(first + n)
        joined = _SEP.join([v for v in values if v.__class__ is str])
        careful = _needs_care(joined)
        cells = []
        add = cells.append
        need = 1.0
        for (pre, blank, number, text, numeric, per_char, letter, style, quoted), v in zip(specs, values, strict=True):
            if v is None or v == "":
                add(f"{pre}{r}{blank}")
            elif numeric and v.__class__ is not str:
                add(f"{pre}{r}{number}{v}</v></c>")
            else:
                if careful or v.__class__ is not str:
                    add(_text_cell(f"{letter}{r}", str(v)[:MAX_CELL], style, quoted))
                else:
                    add(f"{pre}{r}{text}{v}</t></is></c>")
                lines = len(v) * per_char if v.__class__ is str else 1.0
                if lines > need:  # an upper bound: refine it only when it could matter
                    lines = wide_chars(v) * per_char if v.__class__ is str else 1.0
                    if lines > need:
                        need = lines
        if careful and "\n" in joined:
            need = max(math.ceil(wide_chars(v) * spec[5]) + v.count("\n") for spec, v in zip(specs, values, strict=True)
                       if v.__class__ is str and v)
        height = min(MAX_ROW_HEIGHT, max(bulk.min_height, math.ceil(need) * bulk.line_height + 5))
        chunk.append(f'<row r="{r}" spans="{spans}" ht="{height:g}" customHeight="1">{"".join(cells)}</row>')
        written += 1
        if len(chunk) >= _CHUNK_ROWS:
            fh.write("".join(chunk).encode("utf-8"))
            chunk = []
    fh.write("".join(chunk).encode("utf-8"))
    if written != bulk.count:
        raise ValueError(f"{bulk.sheet}: {written} rows streamed, {bulk.count} announced")


def _needs_care(joined: str) -> bool:
    """Whether any text of a row (joined with _SEP) needs escaping, a quote prefix (starts
    like a formula) or kept spaces. ``isprintable`` is false for controls, line breaks,
    tabs and every space but U+0020, which the other tests cover."""
    if not joined.isprintable() or len(joined) > MAX_CELL:
        return True
    if "&" in joined or "<" in joined or ">" in joined or "_x" in joined:
        return True
    if joined[:1] in _STARTS or joined[-1:] == " ":
        return True
    return "|=" in joined or "|+" in joined or "|-" in joined or "|@" in joined or "| " in joined or " |" in joined


def _text_cell(ref: str, text: str, style: str, quoted: str) -> str:
    """An inline string cell, escaped, quote-prefixed when it starts like a formula."""
    if not text:
        return f'<c r="{ref}" s="{style}"/>'
    if text.startswith(FORMULA_STARTS):
        style = quoted
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
