"""Streaming byte scans of worksheet XML (.xlsx) and content.xml (.ods) for the pre-check.

Each part is read in chunks cut just before a ``<`` (:func:`_chunks`), with bounded memory
and without an XML parser: :func:`scan_xlsx_sheet` finds the real extent of a worksheet from
its cell references (the declared ``<dimension>`` is ignored) and notes its merged ranges
and formulas (:func:`note_structure`); :func:`scan_ods_content` does the same for the
tables of an OpenDocument file, repeats included; :func:`scan_text_nodes` flags a text node
longer than a cell may hold. :mod:`ledger.collect.safety` calls them once a file's zip
checks have passed.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from ledger.collect.a1 import cell_ref
from ledger.collect.limits import (
    CELL_OUT_OF_RANGE,
    CELL_TOO_LONG,
    EXCEL_MAX_COLS,
    EXCEL_MAX_ROWS,
    FILE_CORRUPT,
    FILE_ENCRYPTED,
    SHEET_TOO_MANY_CELLS,
    SHEET_TOO_MANY_ROWS,
    SHEET_TOO_SPREAD,
    SHEET_TOO_WIDE,
    Check,
    KiB,
    MiB,
    XlsxFacts,
)
from ledger.sniff import biff_string

# --- .xlsx worksheets -------------------------------------------------------------------------

CHUNK = 1 * MiB
_P = rb"<(?:[A-Za-z_][\w.-]*:)?"
_NAME = rb"[^\s=<>/\"']+"
_VAL = rb"(?:\"[^\"<]*\"|'[^'<]*')"
_ATTRS = rb"((?:\s+" + _NAME + rb"\s*=\s*" + _VAL + rb")*)"
_ATTR = re.compile(rb"\s+(" + _NAME + rb")\s*=\s*(?:\"([^\"<]*)\"|'([^'<]*)')")
C_START = re.compile(_P + rb"c[\s/>]")
ROW_START = re.compile(_P + rb"row[\s/>]")
#: the form every known writer uses (r first); C_REF_FAST allows r anywhere among the attributes.
SIMPLE_REF = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"')
C_REF_FAST = re.compile(
    _P + rb"c(?:\s+(?!r\s*=)" + _NAME + rb"\s*=\s*" + _VAL + rb")*\s+r\s*=\s*\"([A-Z]{1,3})([1-9][0-9]{0,6})\""
)
XLSX_TAG = re.compile(_P + rb"(c|row)" + _ATTRS + rb"\s*(/?)>")
_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n




def _chunks(zf: zipfile.ZipFile, part: str, ck: Check, sheet: str | None) -> Any:
    """Yield regions of *part* that end just before a ``<``: no tag or text node is split."""
    limit = ck.limits.max_cell_chars * 8 + 64 * KiB
    with zf.open(part) as fh:
        carry = b""
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"<")
            if cut <= 0:
                carry = buf
                if len(carry) > limit:
                    ck.stop(CELL_TOO_LONG, sheet=sheet, limit=ck.limits.max_cell_chars)
                continue
            carry = buf[cut:]
            yield buf[:cut]


def scan_text_nodes(zf: zipfile.ZipFile, part: str, sheet: str | None, ck: Check) -> None:
    """Flag a single text node longer than a cell may hold (the reader checks the exact length)."""
    for region in _chunks(zf, part, ck, sheet):
        _long_text(region, sheet, ck)


def _long_text(region: bytes, sheet: str | None, ck: Check) -> None:
    max_chars = ck.limits.max_cell_chars
    for m in re.finditer(rb">([^<]{%d,})" % (max_chars + 1), region):
        text = html.unescape(m.group(1).decode("utf-8", "replace"))
        if len(text) > max_chars:
            ck.stop(CELL_TOO_LONG, sheet=sheet, limit=max_chars)


@dataclass
class _Cursor:
    """Where a cell without ``r=`` lands (an upper bound of what calamine computes), and the
    farthest row and column any cell of the sheet reaches."""

    row: int = 0
    next_col: int = 1
    max_row: int = 0
    max_col: int = 0
    positional: bool = False  # a cell without r=: its place follows from the cells before it


def scan_xlsx_sheet(zf: zipfile.ZipFile, part: str, sheet: str | None, ck: Check) -> None:
    """Find the real extent of a worksheet from its cell references, chunk by chunk."""
    label = sheet or part
    cursor = _Cursor()
    for region in _chunks(zf, part, ck, label):
        n_cells = _count_cells(region)
        refs = SIMPLE_REF.findall(region) if n_cells else []
        if len(refs) != n_cells:
            refs = C_REF_FAST.findall(region)
        if len(refs) == n_cells:
            _fast_extent(refs, label, ck, cursor)
        else:
            _positional_extent(region, label, ck, cursor)
        ck.cells += n_cells
        if ck.cells > ck.limits.max_cells:
            ck.stop(SHEET_TOO_MANY_CELLS, sheet=label, limit=ck.limits.max_cells)
        _long_text(region, label, ck)
        if ck.facts is not None:
            note_structure(region, part, ck.facts)
    if cursor.max_row * cursor.max_col > ck.limits.max_area:
        _check_spread(zf, part, label, ck, cursor)


#: a formula element (``<f>``, ``<x:f …/>``) and a merged range's reference, in sheet XML
F_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
MERGE_REF = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)[\"']")


def note_structure(region: bytes, part: str, facts: XlsxFacts) -> None:
    """Merged ranges and whether the sheet has formulas, for the reader.

    Formulas live in ``<sheetData>``, merged ranges after it (next to the data validations,
    whose ``<formula1>`` must not count): in the region that closes ``sheetData`` each is
    looked for only on its side, after a byte search that is all most regions need.
    """
    data_end, tail = len(region), 0
    name = region.rfind(b"sheetData")
    if name >= 0:
        lt = region.rfind(b"<", 0, name)
        closing = region[lt + 1:lt + 2] == b"/" or region.startswith(b"/>", region.find(b">", name) - 1)
        if lt >= 0 and closing:
            data_end = tail = lt  # </sheetData> or <sheetData/>: the data ends here
    if part not in facts.formula_parts and (region.find(b"<f", 0, data_end) >= 0
                                            or region.find(b":f", 0, data_end) >= 0):
        if F_TAG.search(region, 0, data_end):
            facts.formula_parts.add(part)
    if region.find(b"mergeCell", tail) >= 0:
        facts.merged.setdefault(part, []).extend(
            m.decode("ascii").upper() for m in MERGE_REF.findall(region, tail))


def _count_cells(region: bytes) -> int:
    """Cell start tags; plain byte counts unless a namespace prefix (``<x:c>``) may be in use or
    a tag starting ``<c`` is neither a cell with attributes nor a column (``<cols>``, ``<col ``)."""
    n_spaced = region.count(b"<c ")
    if b":c" in region or region.count(b"<c") != n_spaced + region.count(b"<col"):
        return len(C_START.findall(region))
    return n_spaced


def _fast_extent(refs: list[tuple[bytes, bytes]], sheet: str, ck: Check, cursor: _Cursor) -> None:
    """Every cell carries a plain ``r="A1"``: set and max at C speed, Python only on failure."""
    if not refs:
        return
    max_col = max(_col_number(c) for c in set(map(itemgetter(0), refs)))
    max_row = max(map(int, set(map(itemgetter(1), refs))))
    if max_col > ck.limits.max_cols or max_row > ck.limits.max_rows:
        for letters, digits in refs:
            _check_cell(_col_number(letters), int(digits), sheet, ck)
    cursor.row = max(cursor.row, max_row)
    cursor.max_row = max(cursor.max_row, max_row)
    cursor.max_col = max(cursor.max_col, max_col)
    cursor.next_col = _col_number(refs[-1][0]) + 1


def _positional_extent(region: bytes, sheet: str, ck: Check, cursor: _Cursor) -> None:
    """Cells or rows without ``r=`` (or odd markup): walk every tag in order."""
    tags = XLSX_TAG.findall(region)
    if len(tags) != len(C_START.findall(region)) + len(ROW_START.findall(region)):
        ck.stop(FILE_CORRUPT, sheet=sheet, value="malformed cell or row tag")
    for kind, attrs, _ in tags:
        r = _attr(attrs, b"r", sheet, ck)
        if kind == b"row":
            if r is not None and not r.isdigit():
                ck.stop(CELL_OUT_OF_RANGE, sheet=sheet, value=r.decode("ascii", "replace"))
            cursor.row = int(r) if r is not None else cursor.row + 1
            cursor.next_col = 1
            continue
        if r is None:
            col, row = cursor.next_col, cursor.row
            cursor.positional = True
        else:
            m = _REF.fullmatch(r)
            if m is None:
                ck.stop(CELL_OUT_OF_RANGE, sheet=sheet, value=r.decode("ascii", "replace")[:20])
            col, row = _col_number(m.group(1)), int(m.group(2))
        _check_cell(col, row, sheet, ck)
        cursor.max_row, cursor.max_col = max(cursor.max_row, row), max(cursor.max_col, col)
        cursor.next_col = col + 1


#: the end of a cell's start tag, with what follows when the cell holds no value: ``/>``,
#: ``></c>``, ``><v></v></c>`` or ``><v/></c>`` (formatting only; calamine skips such cells)
_NO_VALUE = rb"\s*(?:(/>|>(?:<(?:[A-Za-z_][\w.-]*:)?v\s*/>|<(?:[A-Za-z_][\w.-]*:)?v></(?:[A-Za-z_][\w.-]*:)?v>)?" \
            rb"</(?:[A-Za-z_][\w.-]*:)?c>)|>)"
#: a cell's start tag in the form every known writer uses (r first), and the cell's end if it has no value
SIMPLE_CELL_TAG = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"' + _ATTRS + _NO_VALUE)
CELL_TAG = re.compile(_P + rb"c" + _ATTRS + _NO_VALUE)


def _check_spread(zf: zipfile.ZipFile, part: str, sheet: str, ck: Check, cursor: _Cursor) -> None:
    """Refuse a sheet whose cells with content span more than ``max_area`` cells from A1.

    calamine holds a sheet as the whole rectangle up to its farthest cell with a value, so one
    value at GR100000 costs 20 million cells. A cell written without a value (``<c r="X9" s="1"/>``,
    ``<c …></c>``, ``<c …><v></v></c>``: formatting only) does not count; any other cell does,
    whatever it holds. With cells placed without ``r=`` every cell counts.
    """
    far_row = far_col = (cursor.max_row, cursor.max_col)
    if not cursor.positional:
        far_row = far_col = (0, 0)
        for region in _chunks(zf, part, ck, sheet):
            for row, col in _valued_cells(region, sheet, ck):
                if row > far_row[0]:
                    far_row = (row, col)
                if col > far_col[1]:
                    far_col = (row, col)
    check_area(far_row, far_col, sheet, ck)


def check_area(far_row: tuple[int, int], far_col: tuple[int, int], sheet: str | None, ck: Check) -> None:
    """Stop if the rectangle from A1 to the farthest row and column is over ``max_area`` cells.

    *far_row* is (row, column) of a cell on the farthest row, *far_col* of one in the farthest
    column (one-based); the problem names both cells.
    """
    rows, cols = far_row[0], far_col[1]
    if rows * cols > ck.limits.max_area:
        cells = dict.fromkeys(cell_ref(r - 1, c - 1) for r, c in (far_row, far_col))
        ck.stop(SHEET_TOO_SPREAD, sheet=sheet, cell=next(iter(cells)), value="、".join(cells), rows=rows, cols=cols,
                area=f"{rows * cols:,}", limit=f"{ck.limits.max_area:,}")


def _valued_cells(region: bytes, sheet: str, ck: Check) -> list[tuple[int, int]]:
    """(row, column) of every cell of *region* that may hold a value."""
    tags = SIMPLE_CELL_TAG.findall(region)
    if len(tags) == _count_cells(region):
        return [(int(digits), _col_number(letters)) for letters, digits, _, closed in tags if not closed]
    found = []
    for attrs, closed in CELL_TAG.findall(region):
        if closed:
            continue
        m = _REF.fullmatch(_attr(attrs, b"r", sheet, ck) or b"")
        if m is None:  # checked by the first pass: cells without r= do not come here
            ck.stop(FILE_CORRUPT, sheet=sheet, value="cell without a reference")
        found.append((int(m.group(2)), _col_number(m.group(1))))
    return found


def _attr(attrs: bytes, name: bytes, sheet: str, ck: Check) -> bytes | None:
    values = [m.group(2) if m.group(2) is not None else m.group(3)
              for m in _ATTR.finditer(attrs) if m.group(1) == name]
    if len(values) > 1:
        ck.stop(FILE_CORRUPT, sheet=sheet, value=f"duplicate attribute {name.decode()}")
    return values[0] if values else None


def _check_cell(col: int, row: int, sheet: str, ck: Check) -> None:
    ref = cell_ref(row - 1, col - 1)
    if not (1 <= col <= EXCEL_MAX_COLS and 1 <= row <= EXCEL_MAX_ROWS):
        ck.stop(CELL_OUT_OF_RANGE, sheet=sheet, cell=ref if col <= 26 ** 4 else None, value=ref if col <= 26 ** 4 else f"第 {row} 行第 {col} 列")
    if col > ck.limits.max_cols:
        ck.stop(SHEET_TOO_WIDE, sheet=sheet, cell=ref, value=col, limit=ck.limits.max_cols)
    if row > ck.limits.max_rows:
        ck.stop(SHEET_TOO_MANY_ROWS, sheet=sheet, cell=ref, value=row, limit=ck.limits.max_rows)


# --- OpenDocument -----------------------------------------------------------------------------

ODS_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(table|table-row|table-cell|covered-table-cell)"
                     + _ATTRS + rb"\s*(/?)>")
ODS_START = re.compile(rb"</?(?:[A-Za-z_][\w.-]*:)?(?:table|table-row|table-cell|covered-table-cell)[\s/>]")
_ODS_CONTENT_ATTRS = (b"value-type", b"formula", b"value", b"string-value", b"date-value", b"boolean-value")


def _local_attrs(attrs: bytes) -> dict[bytes, bytes]:
    out = {}
    for m in _ATTR.finditer(attrs):
        local = m.group(1).rpartition(b":")[2]
        out[local] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def _repeat(attrs: dict[bytes, bytes], key: bytes, sheet: str, ck: Check) -> int:
    raw = attrs.get(key, b"1")
    if not raw.isdigit() or int(raw) < 1:
        ck.stop(FILE_CORRUPT, sheet=sheet, value=f"{key.decode()}={raw[:20].decode('ascii', 'replace')}")
    return int(raw)


def scan_ods_content(zf: zipfile.ZipFile, ck: Check) -> None:
    """Extent of each table from rows/cells that carry content, repeats included.

    LibreOffice closes every sheet with an empty row repeated ~1,048,576 times; repeats
    only count when the repeated row or cell has content.
    """
    lim = ck.limits
    sheet, row, row_rep, col, row_cells, row_width = "", 0, 1, 0, 0, 0
    far_row = far_col = (0, 0)  # of the current table, as for check_area
    for region in _chunks(zf, "content.xml", ck, None):
        tags = ODS_TAG.findall(region)
        if len(tags) != len(ODS_START.findall(region)):
            ck.stop(FILE_CORRUPT, value="malformed table tag in content.xml")
        for closing, kind, raw_attrs, selfclose in tags:
            if closing:
                if kind == b"table-row" and row_cells:
                    ck.cells += row_cells * row_rep
                    _check_ods_extent(row + row_rep, row_width, sheet, ck)
                    far_row = (row + row_rep, row_width)
                    far_col = far_col if far_col[1] >= row_width else (row + row_rep, row_width)
                    check_area(far_row, far_col, sheet, ck)
                if kind == b"table-row":
                    row += row_rep
                continue
            attrs = _local_attrs(raw_attrs)
            if kind == b"table":
                sheet = attrs.get(b"name", b"").decode("utf-8", "replace")
                row, far_row, far_col = 0, (0, 0), (0, 0)
            elif kind == b"table-row":
                row_rep = _repeat(attrs, b"number-rows-repeated", sheet, ck)
                col, row_cells, row_width = 0, 0, 0
                if selfclose:
                    row += row_rep
            else:
                col_rep = _repeat(attrs, b"number-columns-repeated", sheet, ck)
                ck.cells += 1
                if not selfclose or any(a in attrs for a in _ODS_CONTENT_ATTRS):
                    row_cells += col_rep
                    row_width = col + col_rep
                col += col_rep
        if ck.cells > lim.max_cells:
            ck.stop(SHEET_TOO_MANY_CELLS, sheet=sheet or None, limit=lim.max_cells)
        _long_text(region, sheet or None, ck)


def _check_ods_extent(rows: int, cols: int, sheet: str, ck: Check) -> None:
    lim = ck.limits
    if cols > lim.max_cols:
        ck.stop(SHEET_TOO_WIDE, sheet=sheet, value=cols, limit=lim.max_cols)
    if rows > lim.max_rows:
        ck.stop(SHEET_TOO_MANY_ROWS, sheet=sheet, value=rows, limit=lim.max_rows)
    if ck.cells > lim.max_cells:
        ck.stop(SHEET_TOO_MANY_CELLS, sheet=sheet, limit=lim.max_cells)


# --- BIFF (.xls) ------------------------------------------------------------------------------

#: records of one cell with a value, (row, column) first: FORMULA, LABELSST, NUMBER, RK,
#: BOOLERR, LABEL, RSTRING. BLANK and MULBLANK hold formatting only.
_BIFF_CELLS = frozenset({0x0006, 0x00FD, 0x0203, 0x027E, 0x0205, 0x0204, 0x00D6})
_BIFF_MULRK, _BIFF_BOF, _BIFF_EOF, _BIFF_BOUNDSHEET, _BIFF_FILEPASS = 0x00BD, 0x0809, 0x000A, 0x0085, 0x002F


def scan_xls_workbook(stream: bytes, ck: Check) -> None:
    """A password (FILEPASS in the workbook globals), and the extent of each sheet from its cell
    records, record by record without decoding a value (see :func:`check_area`)."""
    names: dict[int, str] = {}  # BOF offset -> sheet name, from BOUNDSHEET8
    sheet: str | None = None
    in_globals = True
    far_row = far_col = (0, 0)
    pos, end = 0, len(stream)
    unpack = struct.unpack_from
    while pos + 4 <= end:
        rtype, rlen = unpack("<HH", stream, pos)
        body = pos + 4
        if rtype in _BIFF_CELLS and rlen >= 4:
            row, col = unpack("<HH", stream, body)
            if row >= far_row[0]:
                far_row = (row + 1, col + 1)
            if col >= far_col[1]:
                far_col = (row + 1, col + 1)
        elif rtype == _BIFF_MULRK and rlen >= 6:
            row, last = unpack("<H", stream, body)[0], unpack("<H", stream, body + rlen - 2)[0]
            if row >= far_row[0]:
                far_row = (row + 1, last + 1)
            if last >= far_col[1]:
                far_col = (row + 1, last + 1)
        elif rtype == _BIFF_BOF:
            sheet, far_row, far_col = names.get(pos), (0, 0), (0, 0)
        elif rtype == _BIFF_EOF:
            check_area(far_row, far_col, sheet, ck)
            in_globals = False
        elif rtype == _BIFF_FILEPASS and in_globals:
            ck.stop(FILE_ENCRYPTED, value="BIFF FILEPASS")
        elif rtype == _BIFF_BOUNDSHEET and rlen >= 8 and in_globals:
            names[unpack("<I", stream, body)[0]] = biff_string(stream[body:body + rlen], 7, stream[body + 6])[0]
        pos = body + rlen
    check_area(far_row, far_col, sheet, ck)
