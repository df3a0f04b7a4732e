"""The pre-check every returned file passes before any reader sees it.

Measured (docs/reliability.md): python-calamine aborts the whole process
on a 5 KB file with a cell at XFD1048576, both readers spend a GiB on zip bombs, and
openpyxl silently drops cells beyond the declared dimension. So before a reader opens
a file, :func:`precheck` looks at it cheaply and with bounded memory:

* the format by content (:mod:`ledger.sniff`), never by extension;
* the zip central directory: part count, declared sizes and compression ratio, so a
  1 GiB bomb is refused without inflating a byte (zipfile enforces the declared size
  and CRC when a part is read, so a lying header surfaces as ``file-corrupt``);
* the prolog of every XML part: no DTD or entity declarations, UTF-8 only;
* the real extent of each worksheet, from the cell references found by a streaming
  byte scan (the declared ``<dimension>`` is ignored), against :class:`Limits`, and the
  rectangle a reader would hold for it (rows × columns up to its farthest value).

Text length per cell is bounded here only roughly (one text node); the exact 32,767
character limit is checked per input cell by :mod:`ledger.collect.checks`, which has the
decoded strings. ``.xls`` files
(BIFF) get the size limit, an encryption check and the rectangle of each sheet from its
cell records only: they are read by calamine in a child process through :func:`read_isolated`,
which survives an abort, a memory blow-up or a hang.

This module holds the pre-check itself (:func:`precheck`, :func:`inspect`), the checks per
kind of file, the zip-level checks and the reading of the workbook structure. The limits and
problem types are in :mod:`ledger.collect.limits`, the streaming byte scans in
:mod:`ledger.collect.scan`, the child-process reader in :mod:`ledger.collect.isolation`.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeET

from ledger.collect.limits import (
    DEFAULT_LIMITS,
    FILE_CORRUPT,
    FILE_EMPTY,
    FILE_ENCRYPTED,
    FILE_NOT_SPREADSHEET,
    FILE_TOO_LARGE,
    FILE_UNSUPPORTED,
    MACRO_FILE,
    SHEET_PART_MISSING,
    XML_DTD_FORBIDDEN,
    ZIP_BOMB,
    ZIP_PART_TOO_LARGE,
    ZIP_TOO_LARGE,
    ZIP_TOO_MANY_PARTS,
    Check,
    KiB,
    Limits,
    Stop,
    XlsxFacts,
    format_size,
)
from ledger.collect.scan import scan_ods_content, scan_text_nodes, scan_xls_workbook, scan_xlsx_sheet
from ledger.errors import InputError
from ledger.problems import Problem
from ledger.sniff import Sniffed, Source, ole2_stream, read_all, sniff, zip_directory_size

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


@dataclass
class Inspection:
    """The pre-check's verdict on one file: its kind, its problems and, for .xlsx, its facts."""

    sniffed: Sniffed
    problems: list[Problem]
    facts: XlsxFacts | None = None


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
    ck = Check(display_name or (source.name if isinstance(source, Path) else "文件"), limits)
    try:
        size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
        if size == 0:
            return Inspection(Sniffed("unknown", "empty"), [FILE_EMPTY(file=ck.file)])
        if size > limits.max_file_bytes:
            return Inspection(Sniffed("unknown", "too large, not inspected"), [
                FILE_TOO_LARGE(file=ck.file, value=format_size(size), limit=format_size(limits.max_file_bytes))
            ])
        data = read_all(source)
        sniffed = sniff(data)
    except OSError as exc:
        raise InputError(f"无法读取文件 {ck.file}：{exc.strerror or exc}") from exc
    try:
        _CHECKS[sniffed.kind](data, sniffed, ck)
    except Stop:
        pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, SafeET.ParseError) as exc:
        ck.add(FILE_CORRUPT, value=f"{type(exc).__name__}: {exc}"[:200])
    return Inspection(sniffed, ck.problems, ck.facts)


# --- per kind ---------------------------------------------------------------------------------


def _check_not_spreadsheet(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    ck.add(FILE_NOT_SPREADSHEET, value=sniffed.detail, what=_kind_name(sniffed))


def _check_unsupported(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    ck.add(FILE_UNSUPPORTED, value=sniffed.detail, what=_kind_name(sniffed))


def _check_encrypted(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    ck.add(FILE_ENCRYPTED, value=sniffed.detail)


def _check_corrupt(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    ck.add(FILE_CORRUPT, value=sniffed.detail)


def _check_nothing(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    """E-mails: size only; their attachments are pre-checked one by one once extracted."""


def _check_archive(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    """A plain zip: bounded like a workbook; its members are pre-checked once extracted."""
    with _open_zip(data, ck) as zf:
        _check_parts(zf, data, ck)


def _check_xls(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    """BIFF: size is checked already; FILEPASS means a password; the cell records give each
    sheet's extent. Read only via read_isolated."""
    for name in ("Workbook", "Book"):
        try:
            stream = ole2_stream(data, name)
        except ValueError:
            continue
        scan_xls_workbook(stream, ck)
        return
    # odd layout: calamine in a child process will judge


def _check_xlsx(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    ck.facts = XlsxFacts()
    with _open_zip(data, ck) as zf:
        _check_parts(zf, data, ck)
        if sniffed.kind == "xlsm":
            ck.add(MACRO_FILE, value=sniffed.detail)
        for part, sheet in _worksheet_parts(zf, ck).items():
            try:
                scan_xlsx_sheet(zf, part, sheet, ck)
            except Stop:
                continue
        for part in _shared_string_parts(zf):
            scan_text_nodes(zf, part, None, ck)
        ck.facts.links = _external_links(zf, ck)


def _check_ods(data: bytes, sniffed: Sniffed, ck: Check) -> None:
    with _open_zip(data, ck) as zf:
        _check_parts(zf, data, ck)
        if "content.xml" not in zf.NameToInfo:
            ck.stop(FILE_CORRUPT, value="content.xml missing")
        scan_ods_content(zf, ck)


_CHECKS: dict[str, Callable[[bytes, Sniffed, Check], None]] = {
    "xlsx": _check_xlsx, "xlsm": _check_xlsx, "ods": _check_ods, "xls": _check_xls,
    "zip": _check_archive, "eml": _check_nothing, "msg": _check_not_spreadsheet, "encrypted": _check_encrypted,
    "corrupt": _check_corrupt, "xlsb": _check_unsupported, "unknown": _check_not_spreadsheet,
}


# --- zip level --------------------------------------------------------------------------------


def _open_zip(data: bytes, ck: Check) -> zipfile.ZipFile:
    counted = zip_directory_size(data)
    if counted is None:
        ck.stop(FILE_CORRUPT, value="no end-of-central-directory record")
    entries, cd_bytes = counted
    if entries > ck.limits.max_parts or cd_bytes > ck.limits.max_parts * KiB:
        ck.stop(ZIP_TOO_MANY_PARTS, value=entries, limit=ck.limits.max_parts)
    return zipfile.ZipFile(io.BytesIO(data))


def _check_parts(zf: zipfile.ZipFile, data: bytes, ck: Check) -> None:
    """Count, sizes and ratio as listed in the central directory; then every XML prolog
    (*data* is the archive's bytes)."""
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
            ck.stop(ZIP_BOMB, part=info.filename, value=format_size(info.file_size))
        if info.file_size > lim.max_part_bytes:
            ck.stop(ZIP_PART_TOO_LARGE, part=info.filename, value=format_size(info.file_size),
                    limit=format_size(lim.max_part_bytes))
    total = sum(i.file_size for i in infos)
    if total > lim.max_total_bytes:
        ck.stop(ZIP_TOO_LARGE, value=format_size(total), limit=format_size(lim.max_total_bytes))
    for info in infos:
        if not info.is_dir():
            _check_prolog(data, info, ck)


_PROLOG_HEAD = 4 * KiB
_PROLOG_MAX = 64 * KiB
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")


def _check_prolog(data: bytes, info: zipfile.ZipInfo, ck: Check) -> None:
    """Refuse DTDs/entities and non-ASCII-compatible encodings in any XML part.

    A DTD can only sit in the prolog, before the root element; the prolog is read until
    the root starts (at most 64 KiB), so padding cannot push a DOCTYPE out of view.
    """
    size = _PROLOG_HEAD
    head = part_head(data, info, size)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\0" in head[:64] and b"<\0" in head[:64]):
        ck.stop(FILE_CORRUPT, value=f"UTF-16 XML part {info.filename}")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith(b"<"):
        return  # not XML (images, vbaProject.bin, printer settings)
    # read on while unsure and the part gave all that was asked: a shorter head is all there is
    while (verdict := _prolog_verdict(head)) is None and len(head) == size < min(_PROLOG_MAX, info.file_size):
        size += _PROLOG_HEAD
        head = part_head(data, info, size)
    if verdict == "dtd" or b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        ck.stop(XML_DTD_FORBIDDEN, part=info.filename)
    if verdict is None and len(head) >= _PROLOG_MAX:
        ck.stop(FILE_CORRUPT, value=f"XML prolog over 64 KiB in {info.filename}")
    declared = _DECL_ENCODING.search(head[:200]) if head.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else None
    if declared and declared.group(1).lower().replace(b"_", b"-") in (b"utf-16", b"utf-32", b"ucs-2", b"utf-16le", b"utf-16be"):
        ck.stop(FILE_CORRUPT, value=f"{declared.group(1).decode('ascii', 'replace')} XML part {info.filename}")


_LOCAL_HEADER = struct.Struct("<4s22xHH")


def part_head(data: bytes, info: zipfile.ZipInfo, size: int) -> bytes:
    """The first *size* bytes of the stored or deflated part *info* of the zip archive *data*
    (all of it when it is shorter), as :meth:`zipfile.ZipFile.open` would read them.

    Read straight from the bytes, three times faster than through zipfile (a prolog check
    looks at 15 parts a workbook), with the checks zipfile makes: the local header is where
    the central directory says and names the same part; the part is as long as the directory
    says, unless its compressed stream ends sooner (``EOFError`` if its bytes are cut short);
    read to its end, its CRC-32 matches.
    """
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise zipfile.BadZipFile(f"local header of {info.filename} outside the archive")
    magic, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, offset)
    if magic != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of {info.filename}")
    start = offset + _LOCAL_HEADER.size
    name = data[start:start + name_len].decode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != info.orig_filename:
        raise zipfile.BadZipFile(f"file name in directory {info.orig_filename!r} and header {name!r} differ")
    raw = data[start + name_len + extra_len:start + name_len + extra_len + info.compress_size]
    want = min(size, info.file_size)
    if info.compress_type == zipfile.ZIP_STORED:
        head, ended = raw[:want], False
    else:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        head = inflate.decompress(raw, want)
        ended = inflate.eof
    if len(head) < want and not ended:
        raise EOFError(f"part {info.filename} is cut short")
    if (len(head) == info.file_size or ended) and zlib.crc32(head) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return head


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


def _read_small(zf: zipfile.ZipFile, name: str, ck: Check) -> bytes | None:
    info = zf.NameToInfo.get(name)
    if info is None:
        return None
    if info.file_size > ck.limits.max_meta_bytes:
        ck.stop(ZIP_PART_TOO_LARGE, part=name, value=format_size(info.file_size), limit=format_size(ck.limits.max_meta_bytes))
    return zf.read(info)


# --- workbook structure -----------------------------------------------------------------------

_SHEET_PART = re.compile(r"(^|/)(worksheets|macrosheets|dialogsheets)/[^/]+\.xml$", re.IGNORECASE)
_SHEET_REL_TYPES = ("/worksheet", "/xlMacrosheet", "/xlIntlMacrosheet", "/dialogsheet")


def _relationships(zf: zipfile.ZipFile, rels_name: str, base: str, ck: Check) -> dict[str, tuple[str, str]]:
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


def _worksheet_parts(zf: zipfile.ZipFile, ck: Check) -> dict[str, str | None]:
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


_LINK_PART = re.compile(r"^xl/externalLinks/[^/]+\.xml$", re.IGNORECASE)


def _external_links(zf: zipfile.ZipFile, ck: Check) -> dict[str, str]:
    """External-link parts → what each names: ``DDE cmd|/c calc`` (a program Excel would start)
    or the other file (its relationship's target). Excel writes one for every formula that
    reaches outside the workbook, in whichever sheet."""
    found = {}
    for part in sorted(n for n in zf.NameToInfo if _LINK_PART.match(n)):
        root = SafeET.fromstring(_read_small(zf, part, ck) or b"<externalLink/>")
        dde = next((el for el in root.iter() if el.tag.endswith("}ddeLink") or el.tag == "ddeLink"), None)
        if dde is not None:
            found[part] = f"DDE {dde.get('ddeService') or ''}|{dde.get('ddeTopic') or ''}"[:120]
            continue
        rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
        data = _read_small(zf, rels_name, ck)
        targets = [el.get("Target") or "" for el in SafeET.fromstring(data)] if data else []
        found[part] = "、".join(t for t in targets if t)[:120] or part
    return found


def _shared_string_parts(zf: zipfile.ZipFile) -> list[str]:
    return [n for n in zf.NameToInfo if n.lower().endswith("sharedstrings.xml")]
