"""The pre-check against a corpus of hostile files (built here by tests/hostile.py)."""

from __future__ import annotations

import functools
import os
import struct
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import hostile as h
import pytest

from ledger import processes
from ledger.collect import limits, safety
from ledger.collect.isolation import ReaderCrashed, read_isolated
from ledger.collect.limits import DEFAULT_LIMITS, Limits
from ledger.collect.safety import precheck
from ledger.collect.scan import note_structure
from ledger.problems import has_errors
from ledger.sniff import sniff

NS = h.MAIN_NS


def _sheet(body: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return f'<{p}worksheet {xmlns}="{NS}"><{p}sheetData>{body}</{p}sheetData></{p}worksheet>'.encode()


FAR_CELL = '<c r="GR100000" t="inlineStr"><is><t>x</t></is></c>'
NEAR_CELL = '<c r="T100000" t="inlineStr"><is><t>x</t></is></c>'  # 100,000 rows × 20 columns: max_area exactly

# name -> (builder(dir) -> path, sniffed kind, expected problem codes)
CASES = {
    "truncated": (h.truncated, "corrupt", ["file-corrupt"]),
    "flipped": (h.flipped, "xlsx", ["file-corrupt"]),
    "empty": (h.empty, "unknown", ["file-empty"]),
    "lying-header": (h.lying_header, "xlsx", ["file-corrupt"]),
    "too-many-parts": (h.too_many_parts, "xlsx", ["zip-too-many-parts"]),
    "duplicate-part": (h.duplicate_part, "xlsx", ["file-corrupt"]),
    "billion-laughs": (h.billion_laughs, "xlsx", ["xml-dtd-forbidden"]),
    "xxe": (h.xxe, "xlsx", ["xml-dtd-forbidden"]),
    "encrypted": (h.encrypted_xlsx, "encrypted", ["file-encrypted"]),
    "xls-password": (lambda d: h.xls(d, "pw.xls", password=True), "xls", ["file-encrypted"]),
    "long-string": (h.long_shared_string, "xlsx", ["cell-too-long"]),
    "xfd1048576": (lambda d: h.with_sheet_rows(d, "xfd.xlsx", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
                   "xlsx", ["sheet-too-wide"]),
    "row-5000000": (lambda d: h.with_sheet_rows(d, "r5m.xlsx", '<row r="5000000"><c r="A5000000"><v>1</v></c></row>',
                                                dimension="A1:L52"), "xlsx", ["cell-out-of-range"]),
    "row-200000": (lambda d: h.with_sheet_rows(d, "r200k.xlsx", '<row r="200000"><c r="B200000"><v>1</v></c></row>'),
                   "xlsx", ["sheet-too-many-rows"]),
    "prefixed-cells": (lambda d: h.xlsx_from_sheet_xml(d, "xc.xlsx", _sheet(
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="AAA70000"><x:v>1</x:v></x:c></x:row>', "x")),
        "xlsx", ["sheet-too-wide"]),
    "cells-without-r": (lambda d: h.xlsx_from_sheet_xml(d, "nor.xlsx", _sheet("<row>" + "<c><v>1</v></c>" * 300 + "</row>")),
                        "xlsx", ["sheet-too-wide"]),
    "r-hidden-after-fake": (lambda d: h.xlsx_from_sheet_xml(d, "fake.xlsx", _sheet(
        "<row r=\"1\"><c s=\" r='A1'\" r=\"XFD1\"><v>1</v></c></row>")), "xlsx", ["sheet-too-wide"]),
    "four-letter-column": (lambda d: h.xlsx_from_sheet_xml(d, "col4.xlsx", _sheet('<row r="1"><c r="AAAA1"><v>1</v></c></row>')),
                           "xlsx", ["cell-out-of-range"]),
    "malformed-cell-tag": (lambda d: h.xlsx_from_sheet_xml(d, "bad.xlsx", _sheet('<row r="1"><c r=XFD1><v>1</v></c></row>')),
                           "xlsx", ["file-corrupt"]),
    "sheet-part-missing": (h.sheet_part_missing, "xlsx", ["sheet-part-missing"]),
    "macro-renamed": (h.macro_renamed, "xlsm", ["macro-file"]),
    "html-named-xls": (h.html_named_xls, "unknown", ["file-not-spreadsheet"]),
    "csv-named-xls": (h.csv_named_xls, "unknown", ["file-not-spreadsheet"]),
    "ods-wide-content": (lambda d: h.ods(d, "wide.ods", '<table:table table:name="S"><table:table-row>'
                                         '<table:table-cell table:number-columns-repeated="100000" office:value-type="float"'
                                         ' office:value="1"/></table:table-row></table:table>'), "ods", ["sheet-too-wide"]),
    "ods-repeated-rows": (lambda d: h.ods(d, "tall.ods", '<table:table table:name="S"><table:table-row '
                                          'table:number-rows-repeated="500000"><table:table-cell><text:p>x</text:p>'
                                          '</table:table-cell></table:table-row></table:table>'), "ods", ["sheet-too-many-rows"]),
    "ods-dtd": (lambda d: h.ods(d, "dtd.ods", '<table:table table:name="S"/>', prolog='<!DOCTYPE x [<!ENTITY a "b">]>'),
                "ods", ["xml-dtd-forbidden"]),
    # one value far away: the reader would hold 20 million cells (3.7 s, 840 MB before this check)
    "far-value-GR100000": (lambda d: h.with_sheet_rows(d, "far.xlsx", f'<row r="100000">{FAR_CELL}</row>'),
                           "xlsx", ["sheet-too-spread"]),
    "far-value-prefixed": (lambda d: h.xlsx_from_sheet_xml(d, "farx.xlsx", _sheet(
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>'
        '<x:row r="100000"><x:c s="1" r="GR100000"><x:v>1</x:v></x:c></x:row>', "x")), "xlsx", ["sheet-too-spread"]),
    "far-value-without-r": (lambda d: h.xlsx_from_sheet_xml(d, "farnor.xlsx", _sheet(
        '<row r="100000">' + "<c><v>1</v></c>" * 30 + "</row>")), "xlsx", ["sheet-too-spread"]),
    "ods-far-value": (lambda d: h.ods(d, "far.ods", '<table:table table:name="S"><table:table-row>'
                                      '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
                                      '<table:table-row table:number-rows-repeated="99998"><table:table-cell/>'
                                      '</table:table-row><table:table-row><table:table-cell '
                                      'table:number-columns-repeated="199"/><table:table-cell office:value-type="float"'
                                      ' office:value="1"/></table:table-row></table:table>'), "ods", ["sheet-too-spread"]),
    "xls-far-value": (lambda d: h.xls_with_cells(d, "far.xls", [(0, 0), (65535, 199)]), "xls", ["sheet-too-spread"]),
    # must pass: formatting far away holds no value; a table as tall as allowed and 20 columns wide
    "far-formatting-only": (lambda d: h.with_sheet_rows(d, "fmt.xlsx", '<row r="99999"><c r="GP99999" s="1"/>'
                                                         '<c r="GQ99999" s="1"></c></row><row r="100000">'
                                                         '<c r="GR100000" s="1"><v></v></c></row>'),
                            "xlsx", []),
    "far-value-within-area": (lambda d: h.with_sheet_rows(d, "near.xlsx", f'<row r="100000">{NEAR_CELL}</row>'), "xlsx", []),
    "xls-far-within-area": (lambda d: h.xls_with_cells(d, "near.xls", [(0, 0), (65535, 29)]), "xls", []),
    # must pass: the declared dimension is ignored, content decides
    "huge-dimension": (lambda d: h.with_sheet_rows(d, "dim.xlsx", "", dimension="A1:XFD1048576"), "xlsx", []),
    "good-xlsx": (h.good_xlsx, "xlsx", []),
    "xlsx-named-xls": (h.xlsx_named_xls, "xlsx", []),
    "libreoffice-ods": (lambda d: h.ods(d, "good.ods", h.ods_like_libreoffice()), "ods", []),
    "xls": (h.xls, "xls", []),
    "eml": (h.mail, "eml", []),
    "zip": (h.plain_zip, "zip", []),
}

#: slow to build (a few seconds each): built once per test session (per xdist worker)
HEAVY = {
    "zip-bomb-1GiB": (h.zip_bomb, "xlsx", ["zip-bomb"]),
    "shared-string-512MiB": (h.huge_shared_string, "xlsx", ["zip-bomb"]),
    "3M-cells": (h.many_cells, "xlsx", ["sheet-too-many-cells"]),
}


@pytest.fixture(scope="session")
def heavy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("heavy")


def _heavy(name: str, directory: Path) -> Path:
    existing = list(directory.glob(f"{name}.*"))
    if existing:
        return existing[0]
    return HEAVY[name][0](directory, f"{name}.xlsx")


#: what one pre-check may take in its child process: far more than it needs (bench/bench_hostile.py
#: measures each file), so that only a hang or a blow-up fails
PRECHECK_BOUND = {"timeout": 60, "memory_mb": 200}


def _check(path: Path, kind: str, codes: list[str], limits: Limits = DEFAULT_LIMITS) -> None:
    """Pre-check *path* in a child process bounded by PRECHECK_BOUND, and compare the verdict."""
    sniffed, problems = read_isolated(functools.partial(precheck, path, display_name=f"单位/{path.name}",
                                                        limits=limits), **PRECHECK_BOUND)
    assert sniffed.kind == kind, sniffed
    assert [p.code for p in problems] == codes, [p.render() for p in problems]
    for p in problems:
        assert p.file == f"单位/{path.name}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p.message)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hazard(tmp_path: Path, name: str) -> None:
    builder, kind, codes = CASES[name]
    _check(builder(tmp_path), kind, codes)


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_hazard(heavy_dir: Path, name: str) -> None:
    _, kind, codes = HEAVY[name]
    _check(_heavy(name, heavy_dir), kind, codes)


def test_bomb_rejected_from_directory_without_inflating(heavy_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The central directory is enough: not one byte of any part is inflated."""
    inflated: list[int] = []
    real = zipfile._get_decompressor

    class Counting:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self.inner.decompress(data, max_length)  # type: ignore[attr-defined]
            inflated.append(len(out))
            return out

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    bomb = _heavy("zip-bomb-1GiB", heavy_dir)  # built (if this test runs first) before inflating is counted
    monkeypatch.setattr(zipfile, "_get_decompressor", lambda kind: Counting(real(kind)) if real(kind) else None)
    _, problems = precheck(bomb)
    assert [p.code for p in problems] == ["zip-bomb"]
    assert sum(inflated) < 4096  # [Content_Types].xml, read to tell .xlsx from .xlsm
    _, problems = precheck(h.good_xlsx(heavy_dir, "counted.xlsx"))
    assert not problems and sum(inflated) > 0  # the counting sees what a pre-check does inflate


def test_part_size_limits_without_ratio_check(heavy_dir: Path) -> None:
    no_ratio = Limits(bomb_ratio=0)
    _check(_heavy("shared-string-512MiB", heavy_dir), "xlsx", ["zip-part-too-large"], no_ratio)
    _check(_heavy("3M-cells", heavy_dir), "xlsx", ["zip-too-large"], Limits(max_total_bytes=10 << 20))


def test_lowered_limits(tmp_path: Path) -> None:
    good = h.good_xlsx(tmp_path)
    _check(good, "unknown", ["file-too-large"], Limits(max_file_bytes=1000))
    _check(good, "xlsx", ["sheet-too-many-rows"], Limits(max_rows=40))
    _check(good, "xlsx", ["sheet-too-wide"], Limits(max_cols=10))
    _check(good, "xlsx", ["sheet-too-many-cells"], Limits(max_cells=100))


def test_problem_names_sheet_and_cell(tmp_path: Path) -> None:
    path = h.with_sheet_rows(tmp_path, "xfd.xlsx", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    _, [problem] = precheck(path)
    assert (problem.sheet, problem.cell, problem.value) == ("工作台账", "XFD1048576", "16384")
    _, [missing] = precheck(h.sheet_part_missing(tmp_path))
    assert missing.sheet == "附表2"


def test_messages_tell_the_unit_what_to_do(tmp_path: Path) -> None:
    _, [enc] = precheck(h.encrypted_xlsx(tmp_path))
    assert enc.message == "文件已加密，请取消密码后重新报送"
    _, [bad] = precheck(h.truncated(tmp_path))
    assert bad.message == "文件已损坏或不完整，请重新保存为 .xlsx 后报送"
    _, [macro] = precheck(h.macro_renamed(tmp_path))
    assert (macro.severity, macro.message) == ("warning", "文件含宏，宏已忽略；请另存为 .xlsx")
    _, [html] = precheck(h.html_named_xls(tmp_path))
    assert "网页" in html.message


def test_fifty_files_one_poisoned(tmp_path: Path) -> None:
    files = h.copy_many(h.good_xlsx(tmp_path, ".template.xlsx"), tmp_path, 50)
    poisoned = h.with_sheet_rows(tmp_path, "poison.xlsx", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    files[17].write_bytes(poisoned.read_bytes())
    results = read_isolated(_precheck_each, files, **PRECHECK_BOUND)
    flagged = sorted(name for name, problems in results.items() if has_errors(problems))
    assert flagged == ["unit17.xlsx"]


def _precheck_each(files: list[Path]) -> dict[str, list]:
    return {f.name: precheck(f)[1] for f in files}


def test_sniff_ignores_extension(tmp_path: Path) -> None:
    assert sniff(h.xlsx_named_xls(tmp_path)).kind == "xlsx"
    assert sniff(h.encrypted_xlsx(tmp_path, "locked.xls")).kind == "encrypted"
    assert sniff(h.xls(tmp_path, "old.xlsx")).kind == "xls"
    assert sniff(h.mail(tmp_path, "reply.xlsx")).kind == "eml"
    assert sniff(h.empty(tmp_path)).detail == "empty"


def test_read_isolated_returns_and_reraises() -> None:
    assert read_isolated(sum, [1, 2, 3]) == 6
    with pytest.raises(ValueError):
        read_isolated(int, "x")


def test_read_isolated_survives_abort_memory_and_hang() -> None:
    with pytest.raises(ReaderCrashed, match="信号"):
        read_isolated(os.abort)
    with pytest.raises(ReaderCrashed, match="内存"):
        read_isolated(bytearray, 4 << 30, memory_mb=512)
    with pytest.raises(ReaderCrashed, match="秒"):
        read_isolated(time.sleep, 30, timeout=1)


def test_calamine_abort_is_contained(tmp_path: Path) -> None:
    """The measured hazard itself: calamine aborts on XFD1048576; in a child we survive it."""
    path = h.with_sheet_rows(tmp_path, "xfd.xlsx", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    with pytest.raises(ReaderCrashed):
        read_isolated(h.calamine_sheet, str(path), timeout=30)
    assert read_isolated(h.calamine_sheet, str(h.good_xlsx(tmp_path)), timeout=30) == 52


@pytest.mark.parametrize(("cell", "read", "codes"), [(FAR_CELL, False, ["sheet-too-spread"]), (NEAR_CELL, True, [])])
def test_a_far_value_costs_what_the_content_costs(tmp_path: Path, cell: str, read: bool, codes: list[str]) -> None:
    """Read as collect reads it, in a child capped at 300 MB more than it starts with: one value at
    GR100000 made calamine hold 20 million cells (840 MB, the child dies) and is refused unread; at
    T100000 (2 million cells, the most a sheet may span) the file is read."""
    path = h.with_sheet_rows(tmp_path, "sheet.xlsx", f'<row r="100000">{cell}</row>')
    assert read_isolated(h.read_codes, str(path), timeout=60, memory_mb=300) == (read, codes)


def test_corpus_memory(tmp_path: Path, heavy_dir: Path) -> None:
    """Every file of the corpus pre-checked in one fresh child: its peak RSS (times are printed)."""
    paths = []
    for name, (builder, _, _) in CASES.items():
        (tmp_path / name).mkdir()
        paths.append(str(builder(tmp_path / name)))
    paths += [str(_heavy(name, heavy_dir)) for name in HEAVY]
    results = read_isolated(h.measure_corpus, paths, timeout=120, memory_mb=2048)
    name, seconds = max(results["times"], key=lambda t: t[1])
    grown = results["peak_rss_kib"]  # above what the child held when it started
    print(f"slowest pre-check: {name} {seconds:.2f} s; peak RSS {grown // 1024} MB above the child's start")
    assert grown < 200 * 1024, results


# --- facts the pre-check keeps for the reader ------------------------------------------------

_DV = b'<dataValidations count="1"><dataValidation sqref="M4"><formula1>"a,b"</formula1></dataValidation></dataValidations>'


@pytest.mark.parametrize(("regions", "formula", "merged"), [
    # a data validation's <formula1> after the data is not a formula; the merge is found
    ([b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
      b'<mergeCells count="1"><mergeCell ref="a1:c1"/></mergeCells>' + _DV + b"</worksheet>"], False, ["A1:C1"]),
    # a real formula, with a namespace prefix
    ([b'<x:worksheet><x:sheetData><x:row><x:c r="B2"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row></x:sheetData>'
      + _DV + b"</x:worksheet>"], True, []),
    # the data split over two regions: the formula is in the first, which does not close sheetData
    ([b'<worksheet><sheetData><row r="1"><c r="A1"><f t="shared" si="0">B1</f><v>1</v></c></row>',
      b'<row r="2"><c r="A2"><v>2</v></c></row></sheetData><mergeCells><mergeCell ref="B5:C5"/></mergeCells>'
      + _DV + b"</worksheet>"], True, ["B5:C5"]),
    # an empty sheet
    ([b'<worksheet><sheetData/>' + _DV + b'<mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>'],
     False, ["A1:B1"]),
])
def test_precheck_notes_formulas_and_merged_ranges(regions: list[bytes], formula: bool, merged: list[str]) -> None:
    facts = limits.XlsxFacts()
    for region in regions:
        note_structure(region, "xl/worksheets/sheet1.xml", facts)
    assert ("xl/worksheets/sheet1.xml" in facts.formula_parts) is formula
    assert facts.merged.get("xl/worksheets/sheet1.xml", []) == merged


def test_inspect_keeps_sheet_parts_and_defined_names(tmp_path: Path) -> None:
    path = h.xlsx_named_xls(tmp_path)
    found = safety.inspect(path)
    assert not found.problems and found.facts is not None
    assert found.facts.sheets and all(part.startswith("xl/") for part in found.facts.sheets.values())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_no_fork_while_another_thread_runs() -> None:
    alone = threading.active_count() == 1  # usually; a thread left by another test must not fail this one
    assert processes.can_fork() is alone
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not processes.can_fork()
    finally:
        stop.set()
        other.join()
    assert processes.can_fork() is alone


def _central_entry(data: bytes, part: str) -> int:
    """Where the central directory's entry for *part* starts."""
    at = data.find(b"PK\x01\x02")
    while not data[at + 46:].startswith(part.encode()):
        at = data.find(b"PK\x01\x02", at + 4)
        assert at > 0, part
    return at


def test_part_head_reads_what_zipfile_reads(tmp_path: Path) -> None:
    data = h.good_xlsx(tmp_path).read_bytes()
    with zipfile.ZipFile(tmp_path / "good.xlsx") as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        for info in infos:
            for size in (1, 100, 4096, 1 << 20):
                with zf.open(info) as fh:
                    assert safety.part_head(data, info, size) == fh.read(size), (info.filename, size)
    stored = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with zipfile.ZipFile(stored) as zf:
        info = zf.getinfo("xl/workbook.xml")
        assert safety.part_head(stored.read_bytes(), info, 50) == zf.read(info)[:50]


@pytest.mark.parametrize("damage", ["crc", "local-name", "cut-short"])
def test_a_damaged_part_is_refused_as_zipfile_would(tmp_path: Path, damage: str) -> None:
    """The prolog check reads each part's head from the archive's bytes itself: what zipfile
    would refuse on reading a part, it refuses too (file-corrupt), here in a small part no
    other check reads."""
    part = "docProps/app.xml"
    data = bytearray(h.good_xlsx(tmp_path).read_bytes())
    entry = _central_entry(bytes(data), part)
    if damage == "crc":
        data[entry + 16] ^= 0xFF
    elif damage == "local-name":
        local = struct.unpack_from("<I", data, entry + 42)[0]
        assert data[local + 30:local + 30 + len(part)] == part.encode()
        data[local + 30:local + 30 + len(part)] = b"docProps/apq.xml"
    else:  # the directory gives half its compressed size: its stream is cut
        size = struct.unpack_from("<I", data, entry + 20)[0]
        struct.pack_into("<I", data, entry + 20, size // 2)
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data))
    with zipfile.ZipFile(damaged) as zf, pytest.raises((zipfile.BadZipFile, EOFError, zlib.error)):
        zf.read(part)
    _check(damaged, "xlsx", ["file-corrupt"])


def test_a_prolog_whose_stream_ends_before_its_listed_size_is_read_to_its_end_once(tmp_path: Path) -> None:
    """A part all prolog (a comment never closed) whose compressed stream ends before the size the
    directory gives, with the CRC-32 of what is there: zipfile reads it short without an error,
    and so does the prolog check, once, without asking again for bytes that are not there."""
    part = "docProps/app.xml"
    source = h.good_xlsx(tmp_path)
    padded = tmp_path / "padded.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, b'<?xml version="1.0"?>\n<!--' + b"x" * 5000 if info.filename == part else data)
    data = bytearray(padded.read_bytes())
    entry = _central_entry(bytes(data), part)
    struct.pack_into("<I", data, entry + 24, struct.unpack_from("<I", data, entry + 24)[0] + 10_000)
    padded.write_bytes(bytes(data))
    with zipfile.ZipFile(padded) as zf:
        assert len(zf.read(part)) == 5026  # short, and no error
    sniffed, problems = read_isolated(functools.partial(precheck, padded), timeout=20, memory_mb=200)
    assert sniffed.kind == "xlsx" and problems == []
