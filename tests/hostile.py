"""Builders for hostile returned files: each writes one file into a directory and returns its path.

The corpus is built by the tests themselves (nothing binary is committed). Each hazard
mirrors a row of docs/reliability.md; the expected problem codes live in test_safety.py.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import struct
import time
import zipfile
from pathlib import Path

from openpyxl import Workbook

from ledger.collect.safety import precheck

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MACRO_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


# --- good files -------------------------------------------------------------------------------


def good_xlsx(directory: Path, name: str = "good.xlsx", tasks: int = 50, sheets: int = 1) -> Path:
    """A 工作台账-shaped workbook: title, header, *tasks* rows of a dozen columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "工作台账"
    ws.append(["某某县重点工作任务推进台账"])
    ws.append(["序号", "任务编号", "任务内容", "牵头单位", "责任人", "完成时限", "本期进展",
               "完成比例", "状态", "存在问题", "下步计划", "备注"])
    for i in range(1, tasks + 1):
        ws.append([i, f"T{i:03d}", f"推进第{i}项重点工作，按月报送进展", "县发改局", "张三", "2025-06-30",
                   "已完成方案制定，正在组织实施", 0.6, "推进中", "无", "继续推进", ""])
    for n in range(2, sheets + 1):
        wb.create_sheet(f"附表{n}").append(["附表", n])
    path = directory / name
    wb.save(path)
    return path


def _rewrite(src: Path, dest: Path, edit: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """Copy a zip part by part; *edit* maps a part to new bytes (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in edit:
                if edit[info.filename] is not None:
                    zout.writestr(info.filename, edit[info.filename])
            else:
                zout.writestr(info, zin.read(info))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dest


def _sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(part)


def with_sheet_rows(directory: Path, name: str, rows_xml: str, dimension: str | None = None) -> Path:
    """A good workbook whose first sheet gets *rows_xml* appended inside <sheetData>."""
    base = good_xlsx(directory, f".base-{name}")
    xml = _sheet_xml(base).replace(b"</sheetData>", rows_xml.encode() + b"</sheetData>")
    if dimension:
        start = xml.index(b"<dimension ")
        end = xml.index(b"/>", start) + 2
        xml = xml[:start] + f'<dimension ref="{dimension}"/>'.encode() + xml[end:]
    dest = _rewrite(base, directory / name, {"xl/worksheets/sheet1.xml": xml})
    base.unlink()
    return dest


def xlsx_from_sheet_xml(directory: Path, name: str, sheet_xml: bytes) -> Path:
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    dest = _rewrite(base, directory / name, {"xl/worksheets/sheet1.xml": sheet_xml})
    base.unlink()
    return dest


# --- size hazards -----------------------------------------------------------------------------


def _streamed_part(directory: Path, name: str, part: str, head: bytes, chunk: bytes, total: int, tail: bytes,
                   zip64: bool = True) -> Path:
    """A good workbook whose *part* is replaced by head + chunk*n + tail, streamed (never in memory)."""
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    dest = directory / name
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info.filename, zin.read(info))
        with zout.open(part, "w", force_zip64=zip64) as fh:
            fh.write(head)
            written = 0
            while written < total:
                fh.write(chunk)
                written += len(chunk)
            fh.write(tail)
    base.unlink()
    return dest


def zip_bomb(directory: Path, name: str = "bomb.xlsx", size: int = 1 << 30) -> Path:
    """1 GiB of sheet XML (repeated empty rows) in a few-MB file."""
    row = b'<row><c t="n"><v>0</v></c></row>' * 32768
    head = f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    return _streamed_part(directory, name, "xl/worksheets/sheet1.xml", head, row, size, b"</sheetData></worksheet>")


def huge_shared_string(directory: Path, name: str = "sst.xlsx", size: int = 512 << 20) -> Path:
    """One 512 MiB string in sharedStrings.xml."""
    head = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>'.encode()
    return _streamed_part(directory, name, "xl/sharedStrings.xml", head, b"a" * (1 << 20), size, b"</t></si></sst>")


def long_shared_string(directory: Path, name: str = "long.xlsx", chars: int = 40_000) -> Path:
    """A 40,000-character string: fits every size limit, too long for a cell."""
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    rng = random.Random(1)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(chars))
    sst = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'.encode()
    dest = _rewrite(base, directory / name, {}, {"xl/sharedStrings.xml": sst})
    base.unlink()
    return dest


def lying_header(directory: Path, name: str = "lying.xlsx") -> Path:
    """The sheet part inflates to 8 MiB but both headers claim 1,000 bytes."""
    part = "xl/worksheets/sheet1.xml"
    dest = _streamed_part(directory, name, part, f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode(),
                          b'<row><c t="n"><v>1</v></c></row>' * 1024, 8 << 20, b"</sheetData></worksheet>",
                          zip64=False)
    with zipfile.ZipFile(dest) as zf:
        local = zf.getinfo(part).header_offset
    data = bytearray(dest.read_bytes())
    struct.pack_into("<I", data, local + 22, 1000)
    central = data.find(b"PK\x01\x02", local)
    while not data[central + 46:].startswith(part.encode()):
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 1000)
    dest.write_bytes(bytes(data))
    return dest


def many_cells(directory: Path, name: str = "cells.xlsx", rows: int = 100_000, cols: int = 30) -> Path:
    """3 M cells within the row and column limits (10:1, like a 10.5 M-cell file: 85 s in openpyxl)."""
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    dest = directory / name
    letters = [chr(65 + i // 26 - 1) + chr(65 + i % 26) if i >= 26 else chr(65 + i) for i in range(cols)]
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, zin.read(info))
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            for start in range(1, rows + 1, 1000):
                fh.write("".join(
                    f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters) + "</row>"
                    for r in range(start, min(start + 1000, rows + 1))
                ).encode())
            fh.write(b"</sheetData></worksheet>")
    base.unlink()
    return dest


def too_many_parts(directory: Path, name: str = "parts.xlsx", extra: int = 1001) -> Path:
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    dest = _rewrite(base, directory / name, {}, {f"xl/media/image{i}.bin": b"x" for i in range(extra)})
    base.unlink()
    return dest


# --- XML hazards ------------------------------------------------------------------------------


def billion_laughs(directory: Path, name: str = "laughs.xlsx") -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    xml = (f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
           f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c>'
           "</row></sheetData></worksheet>")
    return xlsx_from_sheet_xml(directory, name, xml.encode())


def xxe(directory: Path, name: str = "xxe.xlsx") -> Path:
    """An external entity reading /etc/passwd, in sharedStrings, after 4 KiB of comment padding."""
    base = good_xlsx(directory, f".base-{name}", tasks=1)
    sst = (f'<?xml version="1.0"?><!--{"x" * 8192}--><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>').encode()
    dest = _rewrite(base, directory / name, {}, {"xl/sharedStrings.xml": sst})
    base.unlink()
    return dest


# --- damaged files ----------------------------------------------------------------------------


def truncated(directory: Path, name: str = "truncated.xlsx") -> Path:
    base = good_xlsx(directory, f".base-{name}")
    data = base.read_bytes()
    base.unlink()
    dest = directory / name
    dest.write_bytes(data[: len(data) // 2])
    return dest


def flipped(directory: Path, name: str = "flipped.xlsx") -> Path:
    """Bytes inverted inside the compressed worksheet data."""
    dest = good_xlsx(directory, name)
    with zipfile.ZipFile(dest) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(dest.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 40, start + min(info.compress_size, 400), 7):
        data[i] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def empty(directory: Path, name: str = "empty.xlsx") -> Path:
    dest = directory / name
    dest.write_bytes(b"")
    return dest


def sheet_part_missing(directory: Path, name: str = "missing.xlsx") -> Path:
    base = good_xlsx(directory, f".base-{name}", sheets=2)
    dest = _rewrite(base, directory / name, {"xl/worksheets/sheet2.xml": None})
    base.unlink()
    return dest


def duplicate_part(directory: Path, name: str = "dup.xlsx") -> Path:
    import warnings

    base = good_xlsx(directory, f".base-{name}", tasks=1)
    evil = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dest = _rewrite(base, directory / name, {}, {"xl/worksheets/sheet1.xml": evil.encode()})
    base.unlink()
    return dest


# --- containers and wrong names ---------------------------------------------------------------


def macro_renamed(directory: Path, name: str = "macro.xlsx") -> Path:
    """An .xlsm (macro content type + vbaProject.bin) renamed .xlsx."""
    base = good_xlsx(directory, f".base-{name}", tasks=5)
    with zipfile.ZipFile(base) as zf:
        types = zf.read("[Content_Types].xml").replace(XLSX_CT.encode(), MACRO_CT.encode())
    dest = _rewrite(base, directory / name, {"[Content_Types].xml": types}, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 508})
    base.unlink()
    return dest


def xlsx_named_xls(directory: Path, name: str = "renamed.xls") -> Path:
    return good_xlsx(directory, name)


def html_named_xls(directory: Path, name: str = "page.xls") -> Path:
    dest = directory / name
    dest.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><td>任务</td></tr></table></body></html>",
                    encoding="utf-8")
    return dest


def csv_named_xls(directory: Path, name: str = "table.xls") -> Path:
    dest = directory / name
    dest.write_text("序号,任务内容,本期进展\n1,推进重点工作,已完成\n", encoding="gb18030")
    return dest


def mail(directory: Path, name: str = "reply.eml") -> Path:
    dest = directory / name
    dest.write_bytes(b"From: unit@example.cn\r\nTo: office@example.cn\r\nSubject: =?utf-8?b?5Y+w6LSm?=\r\n"
                     b"Date: Fri, 6 Jun 2025 18:00:00 +0800\r\nMIME-Version: 1.0\r\n\r\nbody\r\n")
    return dest


def plain_zip(directory: Path, name: str = "batch.zip") -> Path:
    dest = directory / name
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("readme.txt", "台账见附件")
    return dest


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal compound file (OLE2, 512-byte sectors, no mini stream): header, FAT, directory, data.

    Streams are padded to 4 KiB so they live in regular sectors; enough for readers that
    look at stream names and contents.
    """
    ssize = 512
    streams = {k: v.ljust(4096, b"\0") for k, v in streams.items()}
    data_sectors: list[tuple[int, int]] = []
    next_sector = 2  # 0: FAT, 1: directory
    for content in streams.values():
        n = -(-len(content) // ssize)
        data_sectors.append((next_sector, n))
        next_sector += n
    fat = [0xFFFFFFFD, 0xFFFFFFFE]
    for start, n in data_sectors:
        fat.extend(range(start + 1, start + n))
        fat.append(0xFFFFFFFE)
    assert len(fat) <= ssize // 4
    fat += [0xFFFFFFFF] * (ssize // 4 - len(fat))

    def entry(name: str, kind: int, start: int, size: int, child: int = 0xFFFFFFFF, right: int = 0xFFFFFFFF) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", 0xFFFFFFFF, right, child) + b"\0" * 36
                + struct.pack("<IQ", start, size))

    names = list(streams)
    dir_entries = [entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1)]
    for i, (nm, (start, _)) in enumerate(zip(names, data_sectors, strict=True)):
        dir_entries.append(entry(nm, 2, start, len(streams[nm]), right=i + 2 if i + 1 < len(names) else 0xFFFFFFFF))
    directory = b"".join(dir_entries).ljust(ssize, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<I", 0) + struct.pack("<108I", *[0xFFFFFFFF] * 108))
    assert len(header) == 512
    body = b"".join(c.ljust(n * ssize, b"\0") for c, (_, n) in zip(streams.values(), data_sectors, strict=True))
    return header + struct.pack(f"<{ssize // 4}I", *fat) + directory + body


def encrypted_xlsx(directory: Path, name: str = "locked.xlsx") -> Path:
    """What Excel writes for a password-protected .xlsx: OLE2 with EncryptionInfo/EncryptedPackage."""
    dest = directory / name
    dest.write_bytes(cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x99" * 5000}))
    return dest


def _biff(rtype: int, payload: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(payload)) + payload


def xls(directory: Path, name: str = "old.xls", password: bool = False) -> Path:
    """A BIFF8 workbook stream (BOF … EOF), optionally with FILEPASS like a password-protected .xls."""
    globals_ = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    if password:
        globals_ += _biff(0x002F, b"\x01\x00" + b"\0" * 52)
    globals_ += _biff(0x000A, b"")
    dest = directory / name
    dest.write_bytes(cfb({"Workbook": globals_}))
    return dest


def xls_with_cells(directory: Path, name: str, cells: list[tuple[int, int]], sheet: str = "工作台账") -> Path:
    """A BIFF8 workbook with one sheet holding the number 1 at each zero-based (row, column)."""
    def bof(kind: int) -> bytes:
        return _biff(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0, 0, 0, 0))

    raw = sheet.encode("utf-16-le")
    boundsheet_len = 4 + 8 + len(raw)
    sheet_offset = len(bof(0x0005)) + boundsheet_len + 4  # globals: BOF, BOUNDSHEET8, EOF
    globals_ = bof(0x0005) + _biff(0x0085, struct.pack("<IBBBB", sheet_offset, 0, 0, len(sheet), 1) + raw)
    globals_ += _biff(0x000A, b"")
    body = b"".join(_biff(0x0203, struct.pack("<HHHd", r, c, 0, 1.0)) for r, c in cells)
    dest = directory / name
    dest.write_bytes(cfb({"Workbook": globals_ + bof(0x0010) + body + _biff(0x000A, b"")}))
    return dest


# --- ODS --------------------------------------------------------------------------------------

ODS_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>')
ODS_TAIL = "</office:spreadsheet></office:body></office:document-content>"


def ods(directory: Path, name: str, table_xml: str, prolog: str = "") -> Path:
    dest = directory / name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", (ODS_HEAD.replace("<office:document-content", prolog + "<office:document-content")
                                    + table_xml + ODS_TAIL).encode())
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return dest


def ods_like_libreoffice(rows: int = 50) -> str:
    """Content rows, then the empty trailing rows LibreOffice writes (repeated ~1 M times)."""
    cell = '<table:table-cell office:value-type="string"><text:p>推进中</text:p></table:table-cell>'
    body = "".join(f"<table:table-row>{cell * 8}<table:table-cell table:number-columns-repeated=\"1016\"/></table:table-row>"
                   for _ in range(rows))
    trailing = ('<table:table-row table:number-rows-repeated="1048526">'
                '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    return f'<table:table table:name="工作台账">{body}{trailing}</table:table>'


# --- measuring --------------------------------------------------------------------------------


def measure_corpus(paths: list[str]) -> dict[str, object]:
    """Pre-check each path; seconds per file and the peak RSS (KiB) of this process over what it
    held when it started.

    Meant to run in a child (read_isolated) so the peak belongs to the pre-check alone: a forked
    child starts holding its parent's pages, as many as the tests before made the parent hold.
    """
    with open("/proc/self/statm") as fh:
        start_kib = int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    times = []
    for path in paths:
        start = time.perf_counter()
        precheck(Path(path))
        times.append((Path(path).name, time.perf_counter() - start))
    return {"times": times, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_kib}


def read_codes(path: str) -> tuple[bool, list[str]]:
    """Pre-check and read *path* as collect does: whether it was read, and its problem codes."""
    from ledger.collect.reader import read_returned

    read, problems = read_returned(Path(path))
    return read is not None, [p.code for p in problems]


def calamine_sheet(path: str) -> int:
    """Read the first sheet with python-calamine; the number of rows (for read_isolated tests)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return len(wb.get_sheet_by_index(0).to_python())


def copy_many(src: Path, directory: Path, count: int) -> list[Path]:
    out = []
    for i in range(count):
        dest = directory / f"unit{i:02d}.xlsx"
        shutil.copyfile(src, dest)
        out.append(dest)
    return out


# --- mail and archives that are not to be opened -------------------------------------------------

_MAIL_HEAD = (b"From: =?utf-8?b?5Lqk6YCa6L+Q6L6T5bGA?= <clerk@example.org>\r\nTo: office@example.org\r\n"
              b"Subject: =?utf-8?b?5oql6YCB5bel5L2c5Y+w6LSm?=\r\nDate: Fri, 10 Jun 2022 11:30:00 +0800\r\n"
              b"MIME-Version: 1.0\r\n")


def _attachment(name: str, data: bytes, boundary: bytes) -> bytes:
    import base64

    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (b"--" + boundary + b"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
            b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename*=utf-8''"
            + _quote(name) + b"\r\n\r\n" + encoded)


def _quote(name: str) -> bytes:
    from urllib.parse import quote

    return quote(name).encode("ascii")


def deep_mail(directory: Path, name: str = "deep.eml", depth: int = 1000,
              attachment: tuple[str, bytes] | None = None) -> Path:
    """A mail of *depth* multiparts each inside the one before, a workbook (if given) at the bottom:
    it was a RecursionError that stopped the whole run."""
    out = [_MAIL_HEAD]
    for i in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xe8\xaf\xb7\xe6\x9f\xa5\xe6\x94\xb6\r\n")
    if attachment:
        out.append(_attachment(*attachment, b"b%d" % (depth - 1)))
    out += [b"--b%d--\r\n" % i for i in reversed(range(depth))]
    dest = directory / name
    dest.write_bytes(b"".join(out))
    return dest


def forwarded_mail(directory: Path, name: str = "forwarded.eml", depth: int = 1000) -> Path:
    """A message attached to a message, *depth* times over, without a single boundary line."""
    dest = directory / name
    dest.write_bytes(_MAIL_HEAD + b"Content-Type: message/rfc822\r\n\r\n" * depth + b"Subject: x\r\n\r\nbody\r\n")
    return dest


def wide_mail(directory: Path, name: str = "wide.eml", parts: int = 10_000,
              attachment: tuple[str, bytes] | None = None) -> Path:
    """A mail of *parts* empty parts (360 KB for 10,000: seconds to parse), a workbook (if given) last."""
    body = b"--B\r\n\r\n" * parts + (_attachment(*attachment, b"B") if attachment else b"") + b"--B--\r\n"
    dest = directory / name
    dest.write_bytes(_MAIL_HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body)
    return dest


def many_attachments_mail(directory: Path, name: str = "many.eml", count: int = 150, data: bytes = b"x") -> Path:
    """A mail with *count* attached files of *data* each."""
    body = b"".join(_attachment(f"台账{i:03d}.xlsx", data, b"B") for i in range(count)) + b"--B--\r\n"
    dest = directory / name
    dest.write_bytes(_MAIL_HEAD + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body)
    return dest


def archive_bomb(directory: Path, name: str = "台账合集.zip", member: str = "台账.xlsx", mib: int = 200) -> Path:
    """A plain .zip upload whose one member inflates to *mib* MiB of zeros."""
    dest = directory / name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, \
            zf.open(member, "w", force_zip64=True) as fh:
        chunk = b"\0" * (1 << 20)
        for _ in range(mib):
            fh.write(chunk)
    return dest


def zip_of_many(directory: Path, name: str = "uploads.zip", parts: int = 5000) -> Path:
    """An upload of *parts* small members (over the 1,000 parts a zip may have)."""
    dest = directory / name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
        for i in range(parts):
            zf.writestr(f"f{i:05d}.txt", b"")
    return dest


def zip_in_zip(directory: Path, name: str = "nested.zip") -> Path:
    """A zip holding a zip (of a text file)."""
    inner = directory / ".inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("说明.txt", "台账在内层压缩包中")
    dest = directory / name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
        zf.write(inner, "内层.zip")
    inner.unlink()
    return dest
