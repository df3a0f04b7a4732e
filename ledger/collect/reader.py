"""Raw reading of one returned 工作台账 workbook: values, metadata, names, merges, formulas.

Values come from python-calamine (fast; formulas give their cached values, nothing is
evaluated). What calamine cannot show is taken from the file's own parts: for .xlsx the
workbook and sheet XML (defined names, formulas, merged cells), for .ods content.xml,
for .xls the BIFF records (formulas, defined names). calamine is opened on the bytes,
so it detects the format by content rather than by the file's extension.

A file must have passed :func:`ledger.collect.safety.precheck` before it gets here;
:func:`read_returned` does both. ``.xls`` is read in a child process
(:func:`~ledger.collect.isolation.read_isolated`) because no pre-check bounds BIFF.
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine as pc
from defusedxml import ElementTree as SafeET

from ledger import layout
from ledger.collect.a1 import cell_ref, parse_ref
from ledger.collect.isolation import ReaderCrashed, read_isolated
from ledger.collect.limits import DEFAULT_LIMITS, FILE_CORRUPT, FILE_NOT_SPREADSHEET, Limits, XlsxFacts
from ledger.collect.numfmt import PercentCells
from ledger.collect.safety import inspect
from ledger.problems import Problem, ProblemType
from ledger.sniff import Source, biff_string, ole2_stream, read_all

READER_CRASHED = ProblemType("reader-crashed", "error", "{detail}")
#: kinds that intake opens as containers, named for a unit when one comes where a workbook should
CONTAINERS = {"zip": "压缩包（.zip）", "eml": "邮件（.eml）"}

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"

#: rows searched for the header row (title and info rows sit above it).
HEADER_SEARCH_ROWS = 20
#: a row is the header row when it names the task id column and at least this many columns.
HEADER_MIN_COLUMNS = 4


@dataclass
class ReadWorkbook:
    """What one returned workbook holds, before any judgement.

    ``rows`` are the ledger sheet's values from A1 (``rows[0][0]`` is A1), ``None`` for
    empty cells. ``formulas`` and ``formulas_without_value`` are A1 references in the
    ledger sheet, ``formula_text`` their formulas where the format gives them (not .xls);
    ``links`` are the formulas of any sheet, and the link parts, that reach another file or
    a program (DDE). ``unavailable`` names what this format does not let the reader see
    ("defined", "formulas", "merged"), so checks do not take absence for a fact.
    """

    sheet_names: list[str]
    ledger_sheet: str | None
    rows: list[list[object]]
    meta: dict[str, str]
    meta_rows: list[tuple[str, int, str]]
    defined: dict[str, str]
    merged: list[str]
    formulas: list[str]
    format: str
    formulas_without_value: list[str] = field(default_factory=list)
    sheet_states: dict[str, str] = field(default_factory=dict)
    meta_sheet_found: bool = False
    unavailable: list[str] = field(default_factory=list)
    #: whether a ledger-sheet cell shows its number as a percentage (None: cannot tell)
    percent: PercentCells | None = field(default=None, repr=False, compare=False)
    formula_text: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    """A formula or a part of a workbook that reaches outside it: to another file
    (``external``) or to a program that Excel would start (``dde``)."""

    kind: str  # external | dde
    text: str  # the formula, or what the link part names
    sheet: str | None = None
    cell: str | None = None


_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_EXTERNAL_REF = re.compile(r"\[\d+\]|\[[^\]]*\.(?:xl\w*|et|ods|csv)\]|(?:file|https?|ftp):|^[a-z]:\\|\\\\",
                           re.IGNORECASE)
_DDE_CALL = re.compile(r"\bDDE\s*\(", re.IGNORECASE)


def formula_kind(text: str) -> str:
    """"dde" for a formula that asks a program for data (``cmd|'/c calc'!A0``, ``DDE(…)``),
    "external" for one that refers to another file (``[1]Sheet1!A1``, ``'file:///…'#$A.A1``),
    else "formula". Text inside string literals does not count."""
    bare = _STRING_LITERAL.sub('""', text)
    if "|" in bare or _DDE_CALL.search(bare):
        return "dde"
    if _EXTERNAL_REF.search(bare.lstrip("=")):
        return "external"
    return "formula"


def outside_links(texts: dict[str, str], sheet: str | None) -> list[Link]:
    """The formulas of *texts* (cell → formula) that reach another file or a program."""
    return [Link(kind, text, sheet, ref) for ref, text in texts.items() if (kind := formula_kind(text)) != "formula"]


#: Characters that no other character NFKC-normalises to (checked over all of Unicode):
#: a cell whose normalised text holds one of them holds it as typed.
_NFKC_PLAIN = frozenset("任务编号")
#: per header text of the task id column, the plain characters a cell naming it must hold.
_TASK_ID_CHARS = tuple(
    frozenset(layout.header_key(name)) & _NFKC_PLAIN
    for name in (layout.BY_KEY["task_id"].header, *layout.BY_KEY["task_id"].aliases)
)


def _may_name_task_id(row: list[object]) -> bool:
    """Cheap necessary condition for :func:`layout.find_columns` to find the task id column
    in *row*: it spares normalising every cell of the task rows (2–3 ms a file)."""
    if not all(_TASK_ID_CHARS):
        return True  # a header text without plain characters: no shortcut
    for value in row:
        if isinstance(value, str):
            for needed in _TASK_ID_CHARS:
                for ch in needed:
                    if ch not in value:
                        break
                else:
                    return True
    return False


def find_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The header row (zero-based) and its column map, found by header text.

    The row naming the most layout columns among the first rows wins; it must name the
    task id column and at least :data:`HEADER_MIN_COLUMNS` columns.
    """
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not _may_name_task_id(row):
            continue
        found = layout.find_columns(row)
        if "task_id" in found and len(found) >= HEADER_MIN_COLUMNS:
            if best is None or len(found) > len(best[1]):
                best = (index, found)
    return best


# --- entry points -----------------------------------------------------------------------------


def read_returned(
    source: Source, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[ReadWorkbook | None, list[Problem]]:
    """Pre-check *source* (a file, or its bytes), then read it by its sniffed kind; ``None``
    when it may not or cannot be read. A file is read from disk once: the pre-check and the
    reader see the same bytes."""
    name = display_name or (Path(source).name if not isinstance(source, bytes) else "文件")
    if not isinstance(source, bytes):
        source = Path(source)
        with contextlib.suppress(OSError):  # the pre-check says what is wrong with the file
            if 0 < source.stat().st_size <= limits.max_file_bytes:
                source = source.read_bytes()
    found = inspect(source, display_name=name, limits=limits)
    problems = found.problems
    if any(p.is_error for p in problems):
        return None, problems
    if found.sniffed.kind in CONTAINERS:  # a zip or an e-mail where a workbook was expected (inside a zip)
        what = CONTAINERS[found.sniffed.kind]
        return None, [*problems, FILE_NOT_SPREADSHEET(file=name, value=found.sniffed.detail, what=what)]
    try:
        return read_workbook(source, found.sniffed.kind, facts=found.facts), problems
    except ReaderCrashed as exc:
        return None, [*problems, READER_CRASHED(file=name, detail=str(exc))]
    except (pc.CalamineError, zipfile.BadZipFile, SafeET.ParseError, ValueError, KeyError, IndexError,
            struct.error, EOFError, RuntimeError, OSError) as exc:
        return None, [*problems, FILE_CORRUPT(file=name, value=f"{type(exc).__name__}: {exc}"[:200])]


def read_workbook(source: Source, kind: str, *, facts: XlsxFacts | None = None) -> ReadWorkbook:
    """Read a pre-checked workbook (a file, or its bytes) of sniffed *kind* (xlsx, xlsm, xls or
    ods); *facts* are what the pre-check learnt of an .xlsx (inspected again when absent)."""
    data = read_all(source)
    if kind == "xls":
        return read_isolated(_read_xls, data)
    if kind in ("xlsx", "xlsm"):
        return _read_xlsx(data, kind, facts)
    if kind == "ods":
        return _read_ods(data)
    raise ValueError(f"cannot read a file of kind {kind!r}")


# --- calamine (values) ------------------------------------------------------------------------


def _sheet_rows(wb: Any, name: str) -> list[list[object]]:
    rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    # _value inlined: this runs for every cell of every file
    return [[None if v == "" else int(v) if v.__class__ is float and v.is_integer() and abs(v) < 2**53 else v
             for v in row] for row in rows]


def _text(v: object) -> str:
    return "" if v is None else str(v).strip()


def _values(data: bytes, fmt: str) -> tuple[ReadWorkbook, Any]:
    """Sheet names, states, ledger rows and meta from calamine; the structure is filled in later."""
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = list(wb.sheet_names)
    states = {m.name: str(m.visible).rsplit(".", 1)[-1].lower() for m in wb.sheets_metadata}
    ledger_sheet, rows = _ledger_rows(wb, names)
    meta: dict[str, str] = {}
    meta_rows: list[tuple[str, int, str]] = []
    if layout.META_SHEET in names:
        meta, meta_rows = parse_meta(_sheet_rows(wb, layout.META_SHEET))
    read = ReadWorkbook(
        sheet_names=names, ledger_sheet=ledger_sheet, rows=rows, meta=meta, meta_rows=meta_rows,
        defined={}, merged=[], formulas=[], format=fmt, sheet_states=states,
        meta_sheet_found=layout.META_SHEET in names,
    )
    return read, wb


def _ledger_rows(wb: Any, names: list[str]) -> tuple[str | None, list[list[object]]]:
    """The ledger sheet by name; else the first other sheet that has the header row."""
    if layout.LEDGER_SHEET in names:
        return layout.LEDGER_SHEET, _sheet_rows(wb, layout.LEDGER_SHEET)
    for name in names:
        if name in (layout.META_SHEET, layout.GUIDE_SHEET):
            continue
        rows = _sheet_rows(wb, name)
        if find_header(rows) is not None:
            return name, rows
    return None, []


def parse_meta(rows: list[list[object]]) -> tuple[dict[str, str], list[tuple[str, int, str]]]:
    """Key/value rows, then (task id, Excel row, checksum) rows under the task marker."""
    meta: dict[str, str] = {}
    task_rows: list[tuple[str, int, str]] = []
    in_tasks = False
    for row in rows:
        cells = [_text(v) for v in (list(row) + [None, None, None])[:3]]
        if not cells[0]:
            continue
        if cells[0] == layout.TASK_ROWS_MARKER:
            in_tasks = True
            continue
        if not in_tasks:
            meta[cells[0]] = cells[1]
        elif cells[1].isdigit():
            task_rows.append((cells[0], int(cells[1]), cells[2]))
    return meta, task_rows


def _merged_from_calamine(wb: Any, sheet: str | None) -> list[str] | None:
    if sheet is None:
        return []
    ranges = wb.get_sheet_by_name(sheet).merged_cell_ranges
    if ranges is None:
        return None
    return [f"{cell_ref(*a)}:{cell_ref(*b)}" for a, b in ranges]


# --- .xlsx ------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, kind: str, facts: XlsxFacts | None) -> ReadWorkbook:
    """Values from calamine; sheet parts, defined names and merged ranges from the pre-check's
    facts; formula cells from the sheet XML, parsed only when the pre-check saw a formula."""
    read, _wb = _values(data, kind)
    if facts is None:  # read without read_returned: inspect it here
        facts = inspect(data).facts or XlsxFacts()
    read.defined = {name: name_constant(text) for name, text in facts.defined.items()}
    part = facts.sheets.get(read.ledger_sheet or "")
    if part:
        read.percent = PercentCells(xlsx=data, part=part)
        read.merged = list(facts.merged.get(part, []))
    names = {p: n for n, p in facts.sheets.items()}
    for fpart in sorted(facts.formula_parts):
        formulas, no_value, texts = _xlsx_formulas(data, fpart)
        if fpart == part:
            read.formulas, read.formulas_without_value, read.formula_text = formulas, no_value, texts
        read.links += outside_links(texts, names.get(fpart))
    read.links += [Link("dde" if what.startswith("DDE ") else "external", what) for what in facts.links.values()]
    return read


def name_constant(text: str) -> str:
    """A defined name's text: a quoted string constant unquoted, anything else as written."""
    text = text.strip()
    for prefix in ("of:", "="):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def _xlsx_formulas(data: bytes, part: str) -> tuple[list[str], list[str], dict[str, str]]:
    """Formula cells, those with no cached value, and each cell's formula, of one sheet part
    (parsed: only for sheets that hold a formula, rare in a returned ledger)."""
    formulas: list[str] = []
    no_value: list[str] = []
    texts: dict[str, str] = {}
    row, next_col = 0, 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read(part)
    for event, el in SafeET.iterparse(io.BytesIO(sheet), events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == f"{MAIN_NS}row":
                r = el.get("r")
                row = int(r) if r and r.isdigit() else row + 1
                next_col = 0
            continue
        if tag == f"{MAIN_NS}c":
            ref = el.get("r")
            if ref:
                r0, c0 = parse_ref(ref)
            else:
                r0, c0 = row - 1, next_col
                ref = cell_ref(r0, c0)
            next_col = c0 + 1
            formula = el.find(f"{MAIN_NS}f")
            if formula is not None:
                formulas.append(ref)
                texts[ref] = "=" + (formula.text or "")
                if not _has_cached_value(el):
                    no_value.append(ref)
            el.clear()
        elif tag == f"{MAIN_NS}row":
            el.clear()
    return formulas, no_value, texts


def _has_cached_value(cell: Any) -> bool:
    """A formula cell's ``<v>``: absent, or empty on a non-text cell (openpyxl writes
    ``<v></v>``), means the file was never calculated; an empty text result is a value."""
    v = cell.find(f"{MAIN_NS}v")
    if v is None:
        return cell.find(f"{MAIN_NS}is") is not None
    return bool(v.text) or cell.get("t") in ("str", "s", "inlineStr")


# --- .ods -------------------------------------------------------------------------------------


def _read_ods(data: bytes) -> ReadWorkbook:
    read, _wb = _values(data, "ods")
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open("content.xml") as fh:
        found = _ods_content(fh, read.ledger_sheet)
    read.formulas, read.formulas_without_value, read.merged = found.formulas, found.no_value, found.merged
    read.formula_text, read.links = found.texts, found.links
    read.defined = found.defined
    read.percent = PercentCells(ods_cells=frozenset(found.percent))
    return read


@dataclass
class _OdsContent:
    """What content.xml says of the ledger sheet beyond its values, and the named expressions."""

    formulas: list[str] = field(default_factory=list)
    no_value: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    percent: list[str] = field(default_factory=list)  # cells of value type "percentage"
    defined: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)  # of every table


def _ods_content(fh: Any, sheet: str | None) -> _OdsContent:
    """Formulas, spans and percentage cells of *sheet*, the document's named expressions, and
    the formulas of any table that reach another file or a program."""
    found = _OdsContent()
    current: str | None = None
    row = col = 0
    row_rep = 1
    cells = (f"{TABLE_NS}table-cell", f"{TABLE_NS}covered-table-cell")
    for event, el in SafeET.iterparse(fh, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == f"{TABLE_NS}table":
                current, row = el.get(f"{TABLE_NS}name"), 0
            elif tag == f"{TABLE_NS}table-row":
                col = 0
                row_rep = int(el.get(f"{TABLE_NS}number-rows-repeated") or 1)
            elif tag in cells:
                if current == sheet and sheet is not None:
                    _ods_cell(el, row, col, found)
                if el.get(f"{TABLE_NS}formula"):
                    formula = (el.get(f"{TABLE_NS}formula") or "").removeprefix("of:")
                    found.links += outside_links({cell_ref(row, col): formula}, current)
            if tag in cells:
                col += int(el.get(f"{TABLE_NS}number-columns-repeated") or 1)
            continue
        if tag == f"{TABLE_NS}table-row":
            row += row_rep
            el.clear()
        elif tag == f"{TABLE_NS}named-expression":
            found.defined[el.get(f"{TABLE_NS}name") or ""] = name_constant(el.get(f"{TABLE_NS}expression") or "")
        elif tag == f"{TABLE_NS}named-range":
            found.defined[el.get(f"{TABLE_NS}name") or ""] = el.get(f"{TABLE_NS}cell-range-address") or ""
    return found


def _ods_cell(el: Any, row: int, col: int, found: _OdsContent) -> None:
    ref = cell_ref(row, col)
    value_type = el.get(f"{OFFICE_NS}value-type")
    formula = el.get(f"{TABLE_NS}formula")
    if formula:
        found.formulas.append(ref)
        found.texts[ref] = formula.removeprefix("of:")
        if value_type is None:
            found.no_value.append(ref)
    if value_type == "percentage":
        found.percent.append(ref)
    rows_spanned = int(el.get(f"{TABLE_NS}number-rows-spanned") or 1)
    cols_spanned = int(el.get(f"{TABLE_NS}number-columns-spanned") or 1)
    if rows_spanned > 1 or cols_spanned > 1:
        found.merged.append(f"{ref}:{cell_ref(row + rows_spanned - 1, col + cols_spanned - 1)}")


# --- .xls -------------------------------------------------------------------------------------


def _read_xls(data: bytes) -> ReadWorkbook:
    """Runs in a child process: calamine for values and merges, BIFF records for the rest."""
    read, wb = _values(data, "xls")
    merged = _merged_from_calamine(wb, read.ledger_sheet)
    if merged is None:
        read.unavailable.append("merged")
    else:
        read.merged = merged
    try:
        stream = ole2_stream(data, "Workbook")
    except ValueError:
        read.unavailable += ["defined", "formulas"]
        return read
    sheets, read.defined = _biff_globals(stream)
    offset = sheets.get(read.ledger_sheet or "")
    if offset is not None:
        read.formulas = _biff_formulas(stream, offset)
    return read


def _biff_records(stream: bytes, pos: int = 0) -> Any:
    while pos + 4 <= len(stream):
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        yield rtype, stream[pos + 4:pos + 4 + rlen]
        pos += 4 + rlen


def _biff_globals(stream: bytes) -> tuple[dict[str, int], dict[str, str]]:
    """Sheet name → BOF offset (BOUNDSHEET8) and string-constant defined names (NAME)."""
    sheets: dict[str, int] = {}
    names: dict[str, str] = {}
    for rtype, body in _biff_records(stream):
        try:
            if rtype == 0x0085 and len(body) >= 8:  # BOUNDSHEET8
                name, _ = biff_string(body, 7, body[6])
                sheets[name] = struct.unpack_from("<I", body, 0)[0]
            elif rtype == 0x0018 and len(body) >= 14:  # NAME
                flags, _, cch, cce = struct.unpack_from("<HBBH", body, 0)
                if flags & 0x20:  # built-in name (print area and the like)
                    continue
                name, pos = biff_string(body, 14, cch)
                if cce >= 3 and body[pos] == 0x17:  # tStr: a string constant
                    names[name], _ = biff_string(body, pos + 2, body[pos + 1])
            elif rtype == 0x000A:  # EOF of the globals
                break
        except (IndexError, struct.error):
            continue  # a damaged record: skip it, the values still come from calamine
    return sheets, names


def _biff_formulas(stream: bytes, offset: int) -> list[str]:
    """A1 references of FORMULA records in the sheet substream at *offset*."""
    found = []
    for rtype, body in _biff_records(stream, offset):
        if rtype == 0x0006 and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body, 0)
            found.append(cell_ref(row, col))
        elif rtype == 0x000A:
            break
    return found
