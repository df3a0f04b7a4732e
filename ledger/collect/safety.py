"""The pre-check every returned file passes before any reader sees it.

Measured on this machine (see RELIABILITY.md): python-calamine aborts the whole process
on a 5 KB file with a cell at XFD1048576, both readers spend a GiB on zip bombs, and
openpyxl silently drops cells beyond the declared dimension. So before a reader opens
a file, :func:`precheck` looks at it cheaply and with bounded memory:

* the format by content (:mod:`ledger.collect.sniff`), never by extension;
* the zip central directory: part count, declared sizes and compression ratio, so a
  1 GiB bomb is refused without inflating a byte (zipfile enforces the declared size
  and CRC when a part is read, so a lying header surfaces as ``file-corrupt``);
* the prolog of every XML part: no DTD or entity declarations, UTF-8 only;
* the real extent of each worksheet, from the cell references found by a streaming
  byte scan (the declared ``<dimension>`` is ignored), against :class:`Limits`.

Text length per cell is bounded here only roughly (one text node); the exact 32,767
character limit is checked by the reader, which has the decoded strings. ``.xls`` files
(BIFF) get the size limit and an encryption check only: they are read by calamine in a
child process through :func:`read_isolated`, which survives an abort, a memory
blow-up or a hang.
"""

from __future__ import annotations

import html
import io
import multiprocessing
import multiprocessing.connection
import os
import posixpath
import re
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from defusedxml import ElementTree as SafeET

from ledger.collect.sniff import Sniffed, Source, ole2_stream, read_all, sniff, zip_directory_size
from ledger.errors import InputError, LedgerError
from ledger.problems import Problem, ProblemType

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Limits:
    """What a returned workbook may use before any reader sees it (RELIABILITY.md)."""

    max_file_bytes: int = 20 * MiB
    max_parts: int = 1000
    max_part_bytes: int = 100 * MiB
    max_total_bytes: int = 200 * MiB
    bomb_min_bytes: int = 100 * KiB
    bomb_ratio: float = 0.01
    max_rows: int = 100_000
    max_cols: int = 200
    max_cells: int = 2_000_000
    max_cell_chars: int = 32_767
    #: workbook.xml, its rels: parsed whole, so kept small.
    max_meta_bytes: int = 4 * MiB


DEFAULT_LIMITS = Limits()
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384

_FIX = "请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
FILE_EMPTY = ProblemType("file-empty", "error", "文件是空的（0 字节），请重新保存台账后报送")
FILE_TOO_LARGE = ProblemType("file-too-large", "error", "文件大小 {value} 超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
FILE_ENCRYPTED = ProblemType("file-encrypted", "error", "文件已加密，请取消密码后重新报送")
FILE_NOT_SPREADSHEET = ProblemType("file-not-spreadsheet", "error", "文件实际是{what}，不是 Excel 工作簿（只改了扩展名不行），" + _FIX)
FILE_UNSUPPORTED = ProblemType("file-format-unsupported", "error", "不支持{what}格式，" + _FIX)
FILE_CORRUPT = ProblemType("file-corrupt", "error", "文件已损坏或不完整，请重新保存为 .xlsx 后报送")
ZIP_TOO_MANY_PARTS = ProblemType("zip-too-many-parts", "error", "文件内部含 {value} 个部件，超过上限 {limit} 个，" + _FIX)
ZIP_PART_TOO_LARGE = ProblemType("zip-part-too-large", "error", "文件内部部件 {part} 解压后 {value}，超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
ZIP_TOO_LARGE = ProblemType("zip-too-large", "error", "文件解压后共 {value}，超过上限 {limit}，请删除多余内容后另存为 .xlsx 重新报送")
ZIP_BOMB = ProblemType("zip-bomb", "error", "文件内部部件 {part} 压缩比异常（解压后 {value}），疑似压缩炸弹，已拒收；" + _FIX)
XML_DTD_FORBIDDEN = ProblemType("xml-dtd-forbidden", "error", "文件内部部件 {part} 含 DTD 或实体声明，可能被篡改，已拒收；" + _FIX)
SHEET_TOO_MANY_ROWS = ProblemType("sheet-too-many-rows", "error", "工作表用到第 {value} 行，超过上限 {limit} 行，请删除多余的行后重新报送")
SHEET_TOO_WIDE = ProblemType("sheet-too-wide", "error", "工作表用到第 {value} 列，超过上限 {limit} 列，请删除多余的列后重新报送")
SHEET_TOO_MANY_CELLS = ProblemType("sheet-too-many-cells", "error", "工作簿的单元格超过 {limit} 个，请删除多余内容后重新报送")
CELL_OUT_OF_RANGE = ProblemType("cell-out-of-range", "error", "单元格位置“{value}”超出 Excel 表格范围或无效，文件可能被篡改，请重新保存为 .xlsx 后报送")
CELL_TOO_LONG = ProblemType("cell-too-long", "error", "单元格文字超过 {limit} 个字符，请精简后重新报送")
SHEET_PART_MISSING = ProblemType("sheet-part-missing", "error", "工作表的数据部件 {value} 缺失，文件不完整，请在 Excel 中重新保存为 .xlsx 后报送")
MACRO_FILE = ProblemType("macro-file", "warning", "文件含宏，宏已忽略；请另存为 .xlsx")

#: Chinese names for what :func:`sniff` found, keyed by a word of its English detail.
_KIND_NAMES = (
    ("HTML", "网页（HTML）文件"), ("CSV", "CSV/文本文件"), ("plain text", "文本文件"),
    ("Excel 2003 XML", "Excel 2003 XML 表格"), ("XML", "XML 文件"), ("Word", "Word 文档"),
    ("PowerPoint", "PowerPoint 演示文稿"), ("PDF", "PDF 文件"), ("RAR", "RAR/7z 压缩包"),
    ("OpenDocument", "非表格的 OpenDocument 文件"), ("OLE2", "无法识别的 Office 文件"),
    ("xlsb", "Excel 二进制工作簿（.xlsb）"), ("Open XML", "不含工作簿的 Office 文件"),
)


def _kind_name(sniffed: Sniffed) -> str:
    return next((name for key, name in _KIND_NAMES if key in sniffed.detail), "无法识别的文件")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@dataclass
class XlsxFacts:
    """What the pre-check of an .xlsx learnt on its way that the reader needs too, so that the
    reader parses workbook.xml and scans the sheets no second time.

    ``sheets``: sheet name → worksheet part (listed sheets whose part exists); ``defined``:
    workbook-scoped defined names → their text as written; ``merged``: part → merged ranges
    (upper case, as written); ``formula_parts``: parts holding at least one formula.
    """

    sheets: dict[str, str] = field(default_factory=dict)
    defined: dict[str, str] = field(default_factory=dict)
    merged: dict[str, list[str]] = field(default_factory=dict)
    formula_parts: set[str] = field(default_factory=set)


@dataclass
class Inspection:
    """The pre-check's verdict on one file: its kind, its problems and, for .xlsx, its facts."""

    sniffed: Sniffed
    problems: list[Problem]
    facts: XlsxFacts | None = None


class _Stop(Exception):
    """A problem makes further checks of this file (or sheet) pointless."""


@dataclass
class _Check:
    """Problems found so far in one file, with its display name filled in."""

    file: str
    limits: Limits
    problems: list[Problem] = field(default_factory=list)
    cells: int = 0
    facts: XlsxFacts | None = None

    def add(self, ptype: ProblemType, **kw: Any) -> None:
        self.problems.append(ptype(file=self.file, **kw))

    def stop(self, ptype: ProblemType, **kw: Any) -> None:
        self.add(ptype, **kw)
        raise _Stop


def precheck(
    source: Source, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[Sniffed, list[Problem]]:
    """Sniff *source* (a file, or its bytes) and check it against *limits*; error problems
    mean no reader may open it.

    Never raises for hostile content: every failure is a problem naming the file and what
    the unit should do. Raises :class:`InputError` only when the file cannot be read at all.
    """
    found = inspect(source, display_name=display_name, limits=limits)
    return found.sniffed, found.problems


def inspect(source: Source, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Inspection:
    """:func:`precheck`, keeping what it learnt of an .xlsx for the reader (:class:`XlsxFacts`)."""
    ck = _Check(display_name or (source.name if isinstance(source, Path) else "文件"), limits)
    try:
        size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
        if size == 0:
            return Inspection(Sniffed("unknown", "empty"), [FILE_EMPTY(file=ck.file)])
        if size > limits.max_file_bytes:
            return Inspection(Sniffed("unknown", "too large, not inspected"), [
                FILE_TOO_LARGE(file=ck.file, value=_size(size), limit=_size(limits.max_file_bytes))
            ])
        data = read_all(Path(source) if isinstance(source, str) else source)
        sniffed = sniff(data)
    except OSError as exc:
        raise InputError(f"无法读取文件 {ck.file}：{exc.strerror or exc}") from exc
    try:
        _CHECKS[sniffed.kind](data, sniffed, ck)
    except _Stop:
        pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, SafeET.ParseError) as exc:
        ck.add(FILE_CORRUPT, value=f"{type(exc).__name__}: {exc}"[:200])
    return Inspection(sniffed, ck.problems, ck.facts)


# --- per kind ---------------------------------------------------------------------------------


def _check_not_spreadsheet(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    ck.add(FILE_NOT_SPREADSHEET, value=sniffed.detail, what=_kind_name(sniffed))


def _check_unsupported(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    ck.add(FILE_UNSUPPORTED, value=sniffed.detail, what=_kind_name(sniffed))


def _check_encrypted(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    ck.add(FILE_ENCRYPTED, value=sniffed.detail)


def _check_corrupt(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    ck.add(FILE_CORRUPT, value=sniffed.detail)


def _check_nothing(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    """E-mails: size only; their attachments are pre-checked one by one once extracted."""


def _check_archive(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    """A plain zip: bounded like a workbook; its members are pre-checked once extracted."""
    with _open_zip(data, ck) as zf:
        _check_parts(zf, ck)


def _check_xls(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    """BIFF: size is checked already; FILEPASS means a password. Read only via read_isolated."""
    try:
        stream = ole2_stream(data, "Workbook")
    except ValueError:
        return  # old "Book" stream or odd layout: calamine in a child process will judge
    pos = 0
    while pos + 4 <= len(stream):
        rtype = int.from_bytes(stream[pos:pos + 2], "little")
        rlen = int.from_bytes(stream[pos + 2:pos + 4], "little")
        if rtype == 0x002F:  # FILEPASS
            ck.stop(FILE_ENCRYPTED, value="BIFF FILEPASS")
        if rtype == 0x000A:  # EOF of the workbook globals
            return
        pos += 4 + rlen


def _check_xlsx(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    ck.facts = XlsxFacts()
    with _open_zip(data, ck) as zf:
        _check_parts(zf, ck)
        if sniffed.kind == "xlsm":
            ck.add(MACRO_FILE, value=sniffed.detail)
        for part, sheet in _worksheet_parts(zf, ck).items():
            try:
                _scan_xlsx_sheet(zf, part, sheet, ck)
            except _Stop:
                continue
        for part in _shared_string_parts(zf):
            _scan_text_nodes(zf, part, None, ck)


def _check_ods(data: bytes, sniffed: Sniffed, ck: _Check) -> None:
    with _open_zip(data, ck) as zf:
        _check_parts(zf, ck)
        if "content.xml" not in zf.NameToInfo:
            ck.stop(FILE_CORRUPT, value="content.xml missing")
        _scan_ods_content(zf, ck)


_CHECKS: dict[str, Callable[[bytes, Sniffed, _Check], None]] = {
    "xlsx": _check_xlsx, "xlsm": _check_xlsx, "ods": _check_ods, "xls": _check_xls,
    "zip": _check_archive, "eml": _check_nothing, "encrypted": _check_encrypted,
    "corrupt": _check_corrupt, "xlsb": _check_unsupported, "unknown": _check_not_spreadsheet,
}


# --- zip level --------------------------------------------------------------------------------


def _open_zip(data: bytes, ck: _Check) -> zipfile.ZipFile:
    counted = zip_directory_size(data)
    if counted is None:
        ck.stop(FILE_CORRUPT, value="no end-of-central-directory record")
    entries, cd_bytes = counted
    if entries > ck.limits.max_parts or cd_bytes > ck.limits.max_parts * KiB:
        ck.stop(ZIP_TOO_MANY_PARTS, value=entries, limit=ck.limits.max_parts)
    return zipfile.ZipFile(io.BytesIO(data))


def _check_parts(zf: zipfile.ZipFile, ck: _Check) -> None:
    """Count, sizes and ratio as listed in the central directory; then every XML prolog."""
    lim = ck.limits
    infos = zf.infolist()
    if len(infos) > lim.max_parts:
        ck.stop(ZIP_TOO_MANY_PARTS, value=len(infos), limit=lim.max_parts)
    seen: set[str] = set()
    for info in infos:
        key = info.filename.replace("\\", "/").lower()
        if key in seen:
            ck.stop(FILE_CORRUPT, value=f"duplicate part {info.filename}")
        seen.add(key)
        if info.flag_bits & 0x1:
            ck.stop(FILE_ENCRYPTED, value=f"encrypted zip part {info.filename}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            ck.stop(FILE_CORRUPT, value=f"compression method {info.compress_type} in {info.filename}")
        if info.file_size > lim.bomb_min_bytes and info.compress_size < info.file_size * lim.bomb_ratio:
            ck.stop(ZIP_BOMB, part=info.filename, value=_size(info.file_size))
        if info.file_size > lim.max_part_bytes:
            ck.stop(ZIP_PART_TOO_LARGE, part=info.filename, value=_size(info.file_size),
                    limit=_size(lim.max_part_bytes))
    total = sum(i.file_size for i in infos)
    if total > lim.max_total_bytes:
        ck.stop(ZIP_TOO_LARGE, value=_size(total), limit=_size(lim.max_total_bytes))
    for info in infos:
        if not info.is_dir():
            _check_prolog(zf, info, ck)


_PROLOG_HEAD = 4 * KiB
_PROLOG_MAX = 64 * KiB
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")


def _check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ck: _Check) -> None:
    """Refuse DTDs/entities and non-ASCII-compatible encodings in any XML part.

    A DTD can only sit in the prolog, before the root element; the prolog is read until
    the root starts (at most 64 KiB), so padding cannot push a DOCTYPE out of view.
    """
    with zf.open(info) as fh:
        head = fh.read(_PROLOG_HEAD)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\0" in head[:64] and b"<\0" in head[:64]):
            ck.stop(FILE_CORRUPT, value=f"UTF-16 XML part {info.filename}")
        body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not body.startswith(b"<"):
            return  # not XML (images, vbaProject.bin, printer settings)
        while True:
            verdict = _prolog_verdict(head)
            if verdict is not None or len(head) >= _PROLOG_MAX:
                break
            more = fh.read(_PROLOG_HEAD)
            if not more:
                break
            head += more
    if verdict == "dtd" or b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        ck.stop(XML_DTD_FORBIDDEN, part=info.filename)
    if verdict is None and len(head) >= _PROLOG_MAX:
        ck.stop(FILE_CORRUPT, value=f"XML prolog over 64 KiB in {info.filename}")
    declared = _DECL_ENCODING.search(head[:200]) if head.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else None
    if declared and declared.group(1).lower().replace(b"_", b"-") in (b"utf-16", b"utf-32", b"ucs-2", b"utf-16le", b"utf-16be"):
        ck.stop(FILE_CORRUPT, value=f"{declared.group(1).decode('ascii', 'replace')} XML part {info.filename}")


def _prolog_verdict(head: bytes) -> str | None:
    """"root" once the root element starts, "dtd" on any <!...> other than a comment, None if unsure."""
    i = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while i < len(head) and head[i] in b" \t\r\n":
            i += 1
        if i >= len(head):
            return None
        if head.startswith(b"<?", i):
            end = head.find(b"?>", i)
            if end < 0:
                return None
            i = end + 2
        elif head.startswith(b"<!--", i):
            end = head.find(b"-->", i)
            if end < 0:
                return None
            i = end + 3
        elif head.startswith(b"<!", i):
            return "dtd"
        else:
            return "root"


def _read_small(zf: zipfile.ZipFile, name: str, ck: _Check) -> bytes | None:
    info = zf.NameToInfo.get(name)
    if info is None:
        return None
    if info.file_size > ck.limits.max_meta_bytes:
        ck.stop(ZIP_PART_TOO_LARGE, part=name, value=_size(info.file_size), limit=_size(ck.limits.max_meta_bytes))
    return zf.read(info)


# --- workbook structure -----------------------------------------------------------------------

_SHEET_PART = re.compile(r"(^|/)(worksheets|macrosheets|dialogsheets)/[^/]+\.xml$", re.IGNORECASE)
_SHEET_REL_TYPES = ("/worksheet", "/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet")


def _relationships(zf: zipfile.ZipFile, rels_name: str, base: str, ck: _Check) -> dict[str, tuple[str, str]]:
    """``Id -> (type, part name)`` from a .rels part; targets resolved against *base*."""
    data = _read_small(zf, rels_name, ck)
    if data is None:
        return {}
    rels = {}
    for el in SafeET.fromstring(data):
        target = el.get("Target") or ""
        if el.get("TargetMode") == "External":
            continue
        part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        rels[el.get("Id") or ""] = (el.get("Type") or "", part)
    return rels


def _worksheet_parts(zf: zipfile.ZipFile, ck: _Check) -> dict[str, str | None]:
    """Every part a reader could take as a worksheet, with its sheet name when listed.

    A sheet listed in workbook.xml whose part is absent is ``sheet-part-missing``; parts
    that look like worksheets but are not listed are scanned too (a reader may find them).
    """
    workbook = _read_small(zf, "xl/workbook.xml", ck)
    if workbook is None:
        ck.stop(FILE_CORRUPT, value="xl/workbook.xml missing")
    rels = _relationships(zf, "xl/_rels/workbook.xml.rels", "xl", ck)
    parts: dict[str, str | None] = {}
    facts = ck.facts or XlsxFacts()
    for el in SafeET.fromstring(workbook).iter():
        if el.tag.endswith("}definedName") and el.get("localSheetId") is None and el.get("name"):
            facts.defined[el.get("name") or ""] = el.text or ""
        if not el.tag.endswith("}sheet") and el.tag != "sheet":
            continue
        name = el.get("name")
        rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
        rel_type, part = rels.get(rid or "", ("", ""))
        if not rel_type.endswith(_SHEET_REL_TYPES):
            continue  # chart sheets carry no cells
        if part not in zf.NameToInfo:
            ck.add(SHEET_PART_MISSING, sheet=name, value=part)
            continue
        parts[part] = name
        if name is not None:
            facts.sheets.setdefault(name, part)
    for part in zf.NameToInfo:
        if _SHEET_PART.search(part) and part not in parts:
            parts[part] = None
    return parts


def _shared_string_parts(zf: zipfile.ZipFile) -> list[str]:
    return [n for n in zf.NameToInfo if n.lower().endswith("sharedstrings.xml")]


# --- streaming scans --------------------------------------------------------------------------

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


def _col_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _chunks(zf: zipfile.ZipFile, part: str, ck: _Check, sheet: str | None) -> Any:
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


def _scan_text_nodes(zf: zipfile.ZipFile, part: str, sheet: str | None, ck: _Check) -> None:
    """Flag a single text node longer than a cell may hold (the reader checks the exact length)."""
    for region in _chunks(zf, part, ck, sheet):
        _long_text(region, sheet, ck)


def _long_text(region: bytes, sheet: str | None, ck: _Check) -> None:
    max_chars = ck.limits.max_cell_chars
    for m in re.finditer(rb">([^<]{%d,})" % (max_chars + 1), region):
        text = html.unescape(m.group(1).decode("utf-8", "replace"))
        if len(text) > max_chars:
            ck.stop(CELL_TOO_LONG, sheet=sheet, limit=max_chars)


@dataclass
class _Cursor:
    """Where a cell without ``r=`` lands: an upper bound of what calamine computes."""

    row: int = 0
    next_col: int = 1


def _scan_xlsx_sheet(zf: zipfile.ZipFile, part: str, sheet: str | None, ck: _Check) -> None:
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
            _note_structure(region, part, ck.facts)


#: a formula element (``<f>``, ``<x:f …/>``) and a merged range's reference, in sheet XML
F_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
MERGE_REF = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)[\"']")


def _note_structure(region: bytes, part: str, facts: XlsxFacts) -> None:
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
    """Cell start tags; plain byte counts unless a namespace prefix (``<x:c>``) may be in use."""
    n_spaced = region.count(b"<c ")
    if b":c" in region or region.count(b"<c") != n_spaced:
        return len(C_START.findall(region))
    return n_spaced


def _fast_extent(refs: list[tuple[bytes, bytes]], sheet: str, ck: _Check, cursor: _Cursor) -> None:
    """Every cell carries a plain ``r="A1"``: set and max at C speed, Python only on failure."""
    if not refs:
        return
    max_col = max(_col_number(c) for c in set(map(itemgetter(0), refs)))
    max_row = max(map(int, set(map(itemgetter(1), refs))))
    if max_col > ck.limits.max_cols or max_row > ck.limits.max_rows:
        for letters, digits in refs:
            _check_cell(_col_number(letters), int(digits), sheet, ck)
    cursor.row = max(cursor.row, max_row)
    cursor.next_col = _col_number(refs[-1][0]) + 1


def _positional_extent(region: bytes, sheet: str, ck: _Check, cursor: _Cursor) -> None:
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
        else:
            m = _REF.fullmatch(r)
            if m is None:
                ck.stop(CELL_OUT_OF_RANGE, sheet=sheet, value=r.decode("ascii", "replace")[:20])
            col, row = _col_number(m.group(1)), int(m.group(2))
        _check_cell(col, row, sheet, ck)
        cursor.next_col = col + 1


def _attr(attrs: bytes, name: bytes, sheet: str, ck: _Check) -> bytes | None:
    values = [m.group(2) if m.group(2) is not None else m.group(3)
              for m in _ATTR.finditer(attrs) if m.group(1) == name]
    if len(values) > 1:
        ck.stop(FILE_CORRUPT, sheet=sheet, value=f"duplicate attribute {name.decode()}")
    return values[0] if values else None


def _check_cell(col: int, row: int, sheet: str, ck: _Check) -> None:
    ref = f"{_col_letters(col)}{row}"
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


def _repeat(attrs: dict[bytes, bytes], key: bytes, sheet: str, ck: _Check) -> int:
    raw = attrs.get(key, b"1")
    if not raw.isdigit() or int(raw) < 1:
        ck.stop(FILE_CORRUPT, sheet=sheet, value=f"{key.decode()}={raw[:20].decode('ascii', 'replace')}")
    return int(raw)


def _scan_ods_content(zf: zipfile.ZipFile, ck: _Check) -> None:
    """Extent of each table from rows/cells that carry content, repeats included.

    LibreOffice closes every sheet with an empty row repeated ~1,048,576 times; repeats
    only count when the repeated row or cell has content.
    """
    lim = ck.limits
    sheet, row, row_rep, col, row_cells, row_width = "", 0, 1, 0, 0, 0
    for region in _chunks(zf, "content.xml", ck, None):
        tags = ODS_TAG.findall(region)
        if len(tags) != len(ODS_START.findall(region)):
            ck.stop(FILE_CORRUPT, value="malformed table tag in content.xml")
        for closing, kind, raw_attrs, selfclose in tags:
            if closing:
                if kind == b"table-row" and row_cells:
                    ck.cells += row_cells * row_rep
                    _check_ods_extent(row + row_rep, row_width, sheet, ck)
                if kind == b"table-row":
                    row += row_rep
                continue
            attrs = _local_attrs(raw_attrs)
            if kind == b"table":
                sheet = attrs.get(b"name", b"").decode("utf-8", "replace")
                row = 0
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


def _check_ods_extent(rows: int, cols: int, sheet: str, ck: _Check) -> None:
    lim = ck.limits
    if cols > lim.max_cols:
        ck.stop(SHEET_TOO_WIDE, sheet=sheet, value=cols, limit=lim.max_cols)
    if rows > lim.max_rows:
        ck.stop(SHEET_TOO_MANY_ROWS, sheet=sheet, value=rows, limit=lim.max_rows)
    if ck.cells > lim.max_cells:
        ck.stop(SHEET_TOO_MANY_CELLS, sheet=sheet, limit=lim.max_cells)


# --- child process ----------------------------------------------------------------------------


class ReaderCrashed(LedgerError):
    """A reader died, ran out of memory or hung in its child process; the file is unreadable."""


T = TypeVar("T")


def can_fork() -> bool:
    """Whether a child process may be a fork of this one: on Linux (Python's default start
    method there up to 3.13), from a process with no other thread, whose locks a fork would
    copy mid-use. A fork starts in milliseconds with everything already imported and loaded."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods() \
        and threading.active_count() == 1


def _mapped_bytes() -> int:
    """Address space this process maps already (a fork maps all of its parent's)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], memory_mb: int) -> None:
    try:
        import resource

        limit = _mapped_bytes() + memory_mb * MiB  # memory_mb more than the process had
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # no rlimits (Windows): the timeout still applies
    try:
        result = ("ok", func(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent as is
        result = ("raised", exc)
    try:
        conn.send(result)
    except Exception as exc:  # unpicklable result or exception
        conn.send(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
    conn.close()


def read_isolated(func: Callable[..., T], *args: Any, timeout: float = 20, memory_mb: int = 1024) -> T:
    """Run picklable *func(*args)* in a child process with an address-space limit and a timeout.

    calamine can abort the interpreter (SIGABRT on a huge allocation); in a child the
    collect run survives and the file gets a problem. Exceptions raised by *func* are
    re-raised here; a death by signal, MemoryError or timeout raises :class:`ReaderCrashed`.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if can_fork() else "forkserver" if "forkserver" in methods else "spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, func, args, memory_mb), daemon=True)
    proc.start()
    child.close()
    try:
        ready = multiprocessing.connection.wait([parent, proc.sentinel], timeout)
        outcome = None
        if parent in ready:
            try:
                outcome = parent.recv()
            except EOFError:
                outcome = None
        if not ready:
            raise ReaderCrashed(f"读取文件超过 {timeout:g} 秒仍未完成，已中止；请检查文件是否过大或已损坏，另存为 .xlsx 后重新报送")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if outcome is None:
        code = proc.exitcode
        how = f"被信号 {-code} 终止" if code is not None and code < 0 else f"异常退出（代码 {code}）"
        raise ReaderCrashed(f"读取文件时读取程序{how}，文件可能已损坏或被篡改；请另存为 .xlsx 后重新报送")
    status, value = outcome
    if status == "memory":
        raise ReaderCrashed(f"读取文件所需内存超过 {memory_mb} MB，已中止；请删除多余内容、另存为 .xlsx 后重新报送")
    if status == "raised":
        raise value
    return value
