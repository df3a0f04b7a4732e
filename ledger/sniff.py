"""Identify a file by its content, never by its extension.

Units rename files (an .xlsx saved as .xls, HTML or CSV exported "as Excel"), and a
password-protected .xlsx is an OLE2 container, not a zip. The first bytes and the
container's part names tell what a file really is before any reader touches it. A shared
lower layer: collect sniffs returned files with it, the registry the notices it imports.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

Kind = Literal["xlsx", "xlsm", "xlsb", "xls", "ods", "zip", "eml", "msg", "encrypted", "corrupt", "unknown"]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
HEAD_BYTES = 8192
#: above this many central-directory entries the zip is not opened here (precheck rejects it).
SNIFF_MAX_ENTRIES = 5000
ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)
MAIL_HEADERS = {
    b"from", b"to", b"subject", b"date", b"received", b"mime-version",
    b"message-id", b"return-path", b"content-type", b"cc", b"reply-to", b"delivered-to",
}
#: a header field's first line (RFC 5322 2.2; obsolete syntax allows blanks before the colon);
#: its value may be empty there and continue on folded lines
_HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:")


@dataclass(frozen=True)
class Sniffed:
    """What a file is by content (``kind``) and a short English note on why (``detail``)."""

    kind: Kind
    detail: str


#: a file on disk, or its bytes already read (collect reads each file once and judges those bytes)
Source = Path | bytes


def binary(source: Source) -> BinaryIO:
    """A binary file object over *source*."""
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115


def sniff(source: Source) -> Sniffed:
    """Identify *source* from its first bytes and, for containers, its part names."""
    with binary(source) as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        return Sniffed("unknown", "empty")
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(source)
    if head.startswith(OLE2_MAGIC):
        return _sniff_ole2(source)
    return _sniff_other(head)


def read_all(source: Source | str) -> bytes:
    """The bytes of *source*: as given, or read from the file."""
    return source if isinstance(source, bytes) else Path(source).read_bytes()


# --- zip family -----------------------------------------------------------------------------


def zip_directory_size(source: Source) -> tuple[int, int] | None:
    """Entry count and central-directory size from the end record, before zipfile parses anything.

    zipfile builds one object per entry, so a 20 MiB central directory could cost
    hundreds of MB; this reads only the last 64 KiB. None when no end record is found.
    """
    with binary(source) as fh:
        fh.seek(0, 2)
        size = fh.tell()
        tail_len = min(size, 65536 + 22)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            return None
        _, _, _, _, entries, cd_size, _, _ = struct.unpack("<IHHHHIIH", tail[pos:pos + 22])
        locator = tail.rfind(b"PK\x06\x07", 0, pos)
        if locator >= 0 and len(tail) - locator >= 20:
            (zip64_eocd,) = struct.unpack("<Q", tail[locator + 8:locator + 16])
            if 0 <= zip64_eocd < size:
                fh.seek(zip64_eocd)
                rec = fh.read(56)
                if len(rec) == 56 and rec.startswith(b"PK\x06\x06"):
                    entries, cd_size = struct.unpack("<QQ", rec[32:48])
        return entries, cd_size


def _sniff_zip(source: Source) -> Sniffed:
    counted = zip_directory_size(source)
    if counted is None:
        return Sniffed("corrupt", "zip without end-of-central-directory record (truncated?)")
    if counted[0] > SNIFF_MAX_ENTRIES:
        return Sniffed("zip", f"{counted[0]} entries, not inspected")
    try:
        with binary(source) as fh, zipfile.ZipFile(fh) as zf:
            return _classify_zip(zf)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        return Sniffed("corrupt", f"unreadable zip: {exc}")


def _classify_zip(zf: zipfile.ZipFile) -> Sniffed:
    names = set(zf.namelist())
    if "mimetype" in names:
        info = zf.getinfo("mimetype")
        if info.file_size <= 200:
            mimetype = zf.read(info).strip()
            if mimetype in ODS_MIMETYPES:
                return Sniffed("ods", "OpenDocument spreadsheet")
            return Sniffed("unknown", f"OpenDocument but not a spreadsheet: {mimetype[:80].decode('ascii', 'replace')}")
    if "[Content_Types].xml" in names:
        info = zf.getinfo("[Content_Types].xml")
        types = zf.read(info)[:1 << 20] if info.file_size <= 1 << 20 else b""
        has_vba = any(n.lower().endswith("vbaproject.bin") for n in names)
        if "xl/workbook.xml" in names or b"spreadsheetml" in types:
            if has_vba or b"macroEnabled" in types:
                return Sniffed("xlsm", "Office Open XML workbook with macros")
            return Sniffed("xlsx", "Office Open XML workbook")
        if "xl/workbook.bin" in names:
            return Sniffed("xlsb", "Excel binary workbook (.xlsb)")
        if "word/document.xml" in names:
            return Sniffed("unknown", "Word document (.docx)")
        if "ppt/presentation.xml" in names:
            return Sniffed("unknown", "PowerPoint presentation (.pptx)")
        return Sniffed("unknown", "Office Open XML package without a workbook")
    return Sniffed("zip", f"zip archive with {len(names)} entries")


# --- OLE2 (compound file) ---------------------------------------------------------------------


def ole2_names(data: bytes) -> set[str]:
    """The names of the storages and streams of a compound file; ValueError when it is damaged."""
    return {name for name, _, _, _ in ole2_directory(data)}


def _sniff_ole2(source: Source) -> Sniffed:
    try:
        names = ole2_names(read_all(source))
    except ValueError as exc:
        return Sniffed("corrupt", f"damaged OLE2 container: {exc}")
    if {"EncryptionInfo", "EncryptedPackage"} <= names:
        return Sniffed("encrypted", "password-protected Office file (OLE2 EncryptedPackage)")
    if "Workbook" in names or "Book" in names:
        return Sniffed("xls", "Excel 97-2003 workbook (BIFF)")
    if "__properties_version1.0" in names and any(n.startswith("__substg1.0_") for n in names):
        return Sniffed("msg", "Outlook message (.msg)")
    if "WordDocument" in names:
        return Sniffed("unknown", "Word 97-2003 document")
    if "PowerPoint Document" in names:
        return Sniffed("unknown", "PowerPoint 97-2003 presentation")
    return Sniffed("unknown", "OLE2 container without a workbook stream")


_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF


def ole2_directory(data: bytes) -> list[tuple[str, int, int, int]]:
    """Directory entries ``(name, type, start_sector, size)`` of a compound file.

    Parsed by hand (no olefile dependency) with every chain bounded by the file size,
    so a looping or out-of-range FAT raises ValueError instead of hanging.
    """
    fat, ssize = _ole2_fat(data)
    first_dir = struct.unpack_from("<I", data, 48)[0]
    entries = []
    for sector in _ole2_chain(fat, first_dir):
        block = _ole2_sector(data, sector, ssize)
        for off in range(0, ssize, 128):
            raw = block[off:off + 128]
            name_len = struct.unpack_from("<H", raw, 64)[0]
            kind = raw[66]
            if kind == 0 or not 2 <= name_len <= 64:
                continue
            name = raw[:name_len - 2].decode("utf-16-le", "replace")
            start, size = struct.unpack_from("<IQ", raw, 116)
            entries.append((name, kind, start, size))
    return entries


def ole2_stream(data: bytes, name: str) -> bytes:
    """The bytes of stream *name* (regular or mini stream), bounded like :func:`ole2_directory`."""
    fat, ssize = _ole2_fat(data)
    entries = ole2_directory(data)
    matches = [e for e in entries if e[0] == name and e[1] == 2]
    if not matches:
        raise ValueError(f"no stream {name!r}")
    _, _, start, size = matches[0]
    if size > len(data):
        raise ValueError("stream larger than the file")
    cutoff = struct.unpack_from("<I", data, 56)[0]
    if size >= cutoff:
        out = b"".join(_ole2_sector(data, s, ssize) for s in _ole2_chain(fat, start))
        return out[:size]
    root_start = entries[0][2]
    mini_stream = b"".join(_ole2_sector(data, s, ssize) for s in _ole2_chain(fat, root_start))
    first_minifat, n_minifat = struct.unpack_from("<II", data, 60)
    minifat_bytes = b"".join(_ole2_sector(data, s, ssize) for s in _ole2_chain(fat, first_minifat))
    minifat = list(struct.unpack(f"<{len(minifat_bytes) // 4}I", minifat_bytes[: len(minifat_bytes) // 4 * 4]))
    out = b"".join(mini_stream[s * 64:(s + 1) * 64] for s in _ole2_chain(minifat, start))
    return out[:size]


def _ole2_fat(data: bytes) -> tuple[list[int], int]:
    if len(data) < 512 or not data.startswith(OLE2_MAGIC):
        raise ValueError("no OLE2 header")
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        raise ValueError(f"bad sector shift {shift}")
    ssize = 1 << shift
    n_fat, = struct.unpack_from("<I", data, 44)
    first_difat, n_difat = struct.unpack_from("<II", data, 68)
    max_sectors = len(data) // ssize + 1
    if n_fat > max_sectors or n_difat > max_sectors:
        raise ValueError("FAT larger than the file")
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s != _FREESECT][:n_fat]
    sector, seen = first_difat, set()
    while len(fat_sectors) < n_fat and sector not in (_ENDOFCHAIN, _FREESECT):
        if sector in seen or len(seen) > max_sectors:
            raise ValueError("DIFAT loop")
        seen.add(sector)
        block = _ole2_sector(data, sector, ssize)
        ids = struct.unpack(f"<{ssize // 4}I", block)
        fat_sectors.extend(s for s in ids[:-1] if s != _FREESECT)
        sector = ids[-1]
    fat: list[int] = []
    for s in fat_sectors[:n_fat]:
        fat.extend(struct.unpack(f"<{ssize // 4}I", _ole2_sector(data, s, ssize)))
    return fat, ssize


def _ole2_chain(fat: list[int], start: int) -> list[int]:
    chain, sector = [], start
    while sector not in (_ENDOFCHAIN, _FREESECT):
        if sector >= len(fat) or len(chain) > len(fat):
            raise ValueError("sector chain out of range or looping")
        chain.append(sector)
        sector = fat[sector]
    return chain


def _ole2_sector(data: bytes, sector: int, ssize: int) -> bytes:
    begin = (sector + 1) * ssize
    if begin >= len(data):
        raise ValueError(f"sector {sector} beyond end of file")
    return data[begin:begin + ssize].ljust(ssize, b"\0")


# --- text formats -----------------------------------------------------------------------------


def _sniff_other(head: bytes) -> Sniffed:
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n\0").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body")) or b"<html" in text[:1024]:
        return Sniffed("unknown", "HTML page (saved as Excel but not a workbook)")
    if text.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
            return Sniffed("unknown", "Excel 2003 XML spreadsheet")
        return Sniffed("unknown", "XML document")
    if head.startswith(b"%PDF"):
        return Sniffed("unknown", "PDF document")
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c")):
        return Sniffed("unknown", "RAR/7z archive (only zip is supported)")
    if _looks_like_mail(head):
        return Sniffed("eml", "e-mail message (RFC 822)")
    if b"\0" not in head:
        for encoding in ("utf-8", "gb18030"):
            try:
                sample = head.decode(encoding)
            except UnicodeDecodeError:
                continue
            if any(sep in sample for sep in (",", "\t", ";")):
                return Sniffed("unknown", "CSV/text table")
            return Sniffed("unknown", "plain text")
    return Sniffed("unknown", "unrecognised binary file")


def _looks_like_mail(head: bytes) -> bool:
    """A header block (after an mbox ``From `` line, if any): header fields and their folded
    continuation lines, in any order, with at least two of the usual mail headers."""
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    names: list[bytes] = []
    for line in lines:
        line = line.rstrip(b"\r")
        if not line:
            break  # the end of the header block
        if line[:1] in (b" ", b"\t") and names:
            continue  # a folded line goes on with the field above
        m = _HEADER_LINE.match(line)
        if not m:
            return False
        names.append(m.group(1).lower())
    else:
        if len(lines) < 2:  # a header block cut off by the sniffed head is fine, one line is not
            return False
    return len(MAIL_HEADERS.intersection(names)) >= 2


def biff_string(body: bytes, pos: int, cch: int) -> tuple[str, int]:
    """XLUnicodeStringNoCch at *pos* of a BIFF record: flags byte, then 1- or 2-byte characters;
    the text and the position after it."""
    high = body[pos] & 1
    size = cch * (2 if high else 1)
    raw = body[pos + 1:pos + 1 + size]
    return raw.decode("utf-16-le" if high else "latin-1", "replace"), pos + 1 + size
