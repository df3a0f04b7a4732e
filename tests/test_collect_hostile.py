"""Hostile and bad returned files through ``collect()`` end to end: real files, a real store.

Each case builds one file (tests/hostile.py for the hazards of docs/reliability.md,
tests/returned.py for a unit's bad edits to a real generated ledger) and collects it
into a store that already holds accepted reports. The file gets its expected problem
codes and outcome, ``collect`` returns normally, the file is recorded with its hash and
problems (unless it belongs to another period or programme), and the accepted data is
byte-for-byte what it was. Times are printed, never asserted.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import hostile as h
import pytest
import returned as rt
from conftest import CG, JT, PERIOD, T1, T2, T3, ZJ, generated, make_workspace, reply_mail, small_registry
from openpyxl.utils import get_column_letter

from ledger.collect import pool, verdict
from ledger.collect.api import CollectResult, collect
from ledger.config import Workspace, load
from ledger.generate import build_workbook, generate
from ledger.periods import CHINA, parse_period
from ledger.registry.model import ProgrammeInfo, Registry, Task
from ledger.run import Run, open_workspace_store
from ledger.secret import workspace_key

JT_NAME = f"{PERIOD}_{JT}_工作台账.xlsx"
BEFORE = datetime(2022, 6, 10, 9, 0, tzinfo=CHINA)
NOW = datetime(2022, 6, 10, 12, 0, tzinfo=CHINA)
LEDGER_PART = "xl/worksheets/sheet1.xml"  # openpyxl writes the ledger sheet (the first) here


# --- workspace and good files ---------------------------------------------------------------------


@dataclass
class Kit:
    """Where a case builds its file, and what it needs to generate real ledgers."""

    dir: Path
    ws: Workspace
    registry: Registry
    good_bytes: bytes

    def good(self, name: str = JT_NAME) -> Path:
        """A copy of 交通运输局's correctly filled ledger."""
        path = self.dir / name
        path.write_bytes(self.good_bytes)
        return path

    def filled(self, values: dict | None = None, *, transform: Callable | None = None, period: str = PERIOD,
               unit: str = JT, name: str = JT_NAME) -> Path:
        """*unit*'s ledger for *period* as generate makes it (recording what it sent), filled with the
        defaults and *values*."""
        path = generated(self.ws, unit, self.dir, period, self.registry).rename(self.dir / name)
        return rt.fill(path, values, transform=transform)

    def injected(self, rows_xml: str = "", *, dimension: str | None = None, name: str = JT_NAME) -> Path:
        """The good ledger with *rows_xml* appended to its sheet data, and optionally a lying dimension."""
        base = self.good(f".base-{name}")
        xml = h._sheet_xml(base, LEDGER_PART).replace(b"</sheetData>", rows_xml.encode() + b"</sheetData>")
        if dimension:
            start = xml.index(b"<dimension ")
            xml = xml[:start] + f'<dimension ref="{dimension}"/>'.encode() + xml[xml.index(b"/>", start) + 2:]
        dest = h._rewrite(base, self.dir / name, {LEDGER_PART: xml})
        base.unlink()
        return dest


@pytest.fixture(scope="session")
def base_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("ws-base"), small_registry()).root


@pytest.fixture(scope="session")
def good_files(base_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Correctly filled ledgers of 交通运输局 and 城市管理局, generated once."""
    ws = load(base_root)
    directory = tmp_path_factory.mktemp("good")
    kit = Kit(directory, ws, small_registry(), b"")
    return {unit: kit.filled(unit=unit, name=f"{PERIOD}_{unit}_工作台账.xlsx").read_bytes() for unit in (JT, CG)}


@pytest.fixture()
def ws(base_root: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(base_root, root)
    return load(root)


@pytest.fixture()
def kit(ws: Workspace, tmp_path: Path, good_files: dict[str, bytes]) -> Kit:
    directory = tmp_path / "build"
    directory.mkdir()
    return Kit(directory, ws, small_registry(), good_files[JT])


# --- builders of the cases not in tests/hostile.py ------------------------------------------------


def _macro(kit: Kit) -> Path:
    """交通运输局's real ledger turned into an .xlsm (macro content type + vbaProject.bin), named .xlsx."""
    base = kit.good(".base.xlsx")
    with zipfile.ZipFile(base) as zf:
        types = zf.read("[Content_Types].xml").replace(h.XLSX_CT.encode(), h.MACRO_CT.encode())
    dest = h._rewrite(base, kit.dir / JT_NAME, {"[Content_Types].xml": types},
                      {"xl/vbaProject.bin": h.cfb({"VBA": b"Attribute VB_Name"})})
    base.unlink()
    return dest


def _part_dropped(kit: Kit) -> Path:
    """The ledger sheet's own XML part removed, still listed in workbook.xml."""
    base = kit.good(".base.xlsx")
    dest = h._rewrite(base, kit.dir / JT_NAME, {LEDGER_PART: None})
    base.unlink()
    return dest


def _mail(kit: Kit, attachment: Path) -> Path:
    path = reply_mail(kit.dir / "交通运输局报送.eml", [(attachment.name, attachment.read_bytes())],
                      date="Fri, 10 Jun 2022 11:30:00 +0800", sender="clerk@example.org")
    attachment.unlink()
    return path


def _zipped(kit: Kit, member: Path, name: str = "交通运输局台账.zip") -> Path:
    dest = kit.dir / name
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
        zf.write(member, member.name)
    member.unlink()
    return dest


def _xlsx_named_xls(kit: Kit) -> Path:
    """A real .xlsx saved under an .xls name (units do this); different bytes from the seeded report."""
    path = kit.filled({T1: {"progress": "另存时把扩展名改成了 .xls"}})
    return path.rename(path.with_suffix(".xls"))


def _formula_cached(kit: Kit) -> Path:
    """A formula as Excel saves it: with its cached result."""
    refs: list[str] = []

    def locate(wb: object, ws: object) -> None:
        refs.append(f"{get_column_letter(rt.columns(ws)['percent'])}{rt.task_rows(ws)[T1]}")

    path = kit.filled({T1: {"percent": rt.Formula("=20+20")}}, transform=locate)
    rt.set_cached_values(path, {refs[0]: 40})
    return path


def _unrecorded(kit: Kit) -> Path:
    """住建局's ledger made elsewhere (another office's ledger, or by hand from a copy): this office
    recorded no workbook sent to 住建局 this period."""
    path = kit.dir / f"{PERIOD}_{ZJ}_工作台账.xlsx"
    path.write_bytes(build_workbook(kit.registry, kit.ws.programme("351"), parse_period(PERIOD, "weekly"), ZJ,
                                    key=workspace_key(kit.ws.root)))
    return rt.fill(path)


def _dde_beside(wb: object, ws: object) -> None:
    """A DDE formula outside the table, in a cell no check reads, and one in the guide sheet."""
    ws["Z1"] = "=MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''"  # type: ignore[index]
    wb["填报说明"]["C3"] = "=cmd|'/c calc'!A0"  # type: ignore[index]


DDE_LINK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<externalLink xmlns='
            b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><ddeLink ddeService="cmd" '
            b'ddeTopic="/c calc"><ddeItems><ddeItem name="A0"/></ddeItems></ddeLink></externalLink>')


def _dde_link_part(kit: Kit) -> Path:
    """The good ledger with the part Excel writes for a DDE link (in any sheet, or none)."""
    base = kit.good(".base.xlsx")
    dest = h._rewrite(base, kit.dir / JT_NAME, {}, add={"xl/externalLinks/externalLink1.xml": DDE_LINK})
    base.unlink()
    return dest


def _merge_status(wb: object, ws: object) -> None:
    """Merge 推进状态 over the first two task rows, as a unit does for "same as above"."""
    rows = sorted(rt.task_rows(ws).values())
    ws.merge_cells(start_row=rows[0], start_column=rt.columns(ws)["status"],  # type: ignore[attr-defined]
                   end_row=rows[1], end_column=rt.columns(ws)["status"])


def _add_row(wb: object, ws: object) -> None:
    last = max(rt.task_rows(ws).values())
    rt.put(ws, last + 1, rt.columns(ws)["progress"], "另外完成了一项工作")


def _retype_header(wb: object, ws: object) -> None:
    """Headers retyped with line breaks, spaces and a bracketed note still name their columns."""
    ws.cell(rt.HEADER_ROW, rt.columns(ws)["task_id"]).value = "任务\n编 号（系统生成）"  # type: ignore[attr-defined]
    ws.cell(rt.HEADER_ROW, rt.columns(ws)["status"]).value = "推进\n状态"  # type: ignore[attr-defined]


def _change_locked(wb: object, ws: object) -> None:
    ws.cell(rt.task_rows(ws)[T1], rt.columns(ws)["text"]).value = "建设综合交通枢纽（已调整）"  # type: ignore[attr-defined]


# --- the corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A file to collect and what must become of it.

    A mail or zip archive that is not opened is a refused file like any other (was: a line
    of the run's problems). ``stored`` False: a file of another period or programme is
    refused without being recorded.
    """

    build: Callable[[Kit], Path]
    codes: tuple[str, ...]
    outcome: str = "rejected"
    stored: bool = True
    unit: str | None = JT


XFD = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
ROW_5M = '<row r="5000000"><c r="A5000000"><v>1</v></c></row>'

CASES: dict[str, Case] = {
    # --- docs/reliability.md: what the pre-check must catch before any reader sees the file
    "zip-bomb-1GiB": Case(lambda k: h.zip_bomb(k.dir, JT_NAME), ("zip-bomb",)),
    "shared-string-512MiB": Case(lambda k: h.huge_shared_string(k.dir, JT_NAME), ("zip-bomb",)),
    "cells-3M": Case(lambda k: h.many_cells(k.dir, JT_NAME), ("sheet-too-many-cells",)),
    "cell-40000-chars": Case(lambda k: h.long_shared_string(k.dir, JT_NAME), ("cell-too-long",)),
    "zip-header-lies": Case(lambda k: h.lying_header(k.dir, JT_NAME), ("file-corrupt",)),
    "zip-1001-parts": Case(lambda k: h.too_many_parts(k.dir, JT_NAME), ("zip-too-many-parts",)),
    "zip-duplicate-part": Case(lambda k: h.duplicate_part(k.dir, JT_NAME), ("file-corrupt",)),
    "billion-laughs": Case(lambda k: h.billion_laughs(k.dir, JT_NAME), ("xml-dtd-forbidden",)),
    "xxe": Case(lambda k: h.xxe(k.dir, JT_NAME), ("xml-dtd-forbidden",)),
    "ods-entity": Case(lambda k: h.ods(k.dir, f"{PERIOD}_{JT}_工作台账.ods", '<table:table table:name="S"/>',
                                       prolog='<!DOCTYPE x [<!ENTITY a "b">]>'), ("xml-dtd-forbidden",)),
    "encrypted-xlsx": Case(lambda k: h.encrypted_xlsx(k.dir, JT_NAME), ("file-encrypted",)),
    "xls-password": Case(lambda k: h.xls(k.dir, JT_NAME.replace(".xlsx", ".xls"), password=True),
                         ("file-encrypted",)),
    "truncated": Case(lambda k: h.truncated(k.dir, JT_NAME), ("file-corrupt",)),
    "zero-bytes": Case(lambda k: h.empty(k.dir, JT_NAME), ("file-empty",)),
    "bytes-flipped": Case(lambda k: h.flipped(k.dir, JT_NAME), ("file-corrupt",)),
    "ledger-part-missing": Case(_part_dropped, ("sheet-part-missing",)),
    "xfd1048576": Case(lambda k: k.injected(XFD), ("sheet-too-wide",)),
    "row-5000000-small-dimension": Case(lambda k: k.injected(ROW_5M, dimension="A1:S7"), ("cell-out-of-range",)),
    "row-200000": Case(lambda k: k.injected('<row r="200000"><c r="B200000"><v>1</v></c></row>'),
                       ("sheet-too-many-rows",)),
    "value-at-GR100000": Case(lambda k: k.injected('<row r="100000"><c r="GR100000" t="inlineStr"><is><t>x</t></is>'
                                                   '</c></row>'), ("sheet-too-spread",)),
    "html-named-xls": Case(lambda k: h.html_named_xls(k.dir, JT_NAME.replace(".xlsx", ".xls")),
                           ("file-not-spreadsheet",)),
    "csv-named-xlsx": Case(lambda k: h.csv_named_xls(k.dir, JT_NAME), ("file-not-spreadsheet",)),
    "xfd-in-mail": Case(lambda k: _mail(k, k.injected(XFD.replace("<v>1</v>", "<v>2</v>"))), ("sheet-too-wide",)),
    "bomb-in-zip": Case(lambda k: _zipped(k, h.zip_bomb(k.dir, JT_NAME)), ("zip-bomb",)),
    # a mail or zip that is not opened is refused on its own: recorded, archived, a receipt (was: a line)
    "zip-archive-bomb": Case(lambda k: h.archive_bomb(k.dir, "台账合集.zip", JT_NAME), ("zip-bomb",), unit=None),
    "zip-upload-5000-parts": Case(lambda k: h.zip_of_many(k.dir, "交通运输局台账.zip"), ("zip-too-many-parts",),
                                  unit=None),
    "zip-in-zip": Case(lambda k: h.zip_in_zip(k.dir, "交通运输局台账.zip"), ("archive-nested",), unit=None),
    "mail-1000-levels-deep": Case(lambda k: h.deep_mail(k.dir, "转发.eml", 1000, (JT_NAME, k.good_bytes)),
                                  ("mail-too-deep",), unit=None),
    "mail-forwarded-1000-times": Case(lambda k: h.forwarded_mail(k.dir, "转发.eml", 1000), ("mail-too-deep",),
                                      unit=None),
    "mail-10000-parts": Case(lambda k: h.wide_mail(k.dir, "报送.eml", 10_000, (JT_NAME, k.good_bytes)),
                             ("mail-too-many-parts",), unit=None),
    "mail-150-attachments": Case(lambda k: h.many_attachments_mail(k.dir, "报送.eml", 150, k.good_bytes[:100]),
                                 ("mail-too-many-attachments",), unit=None),
    # a member named .xlsx that is itself a zip archive (it was "文件已损坏")
    "zip-named-xlsx-in-zip": Case(lambda k: _zipped(k, h.plain_zip(k.dir, JT_NAME)), ("file-not-spreadsheet",)),
    # must pass: the format comes from the bytes, the extent from the cells, macros are ignored
    "xlsx-named-xls": Case(_xlsx_named_xls, (), outcome="accepted"),
    "dimension-claims-XFD1048576": Case(lambda k: k.injected(dimension="A1:XFD1048576"), (), outcome="accepted"),
    "formatting-at-GR100000": Case(lambda k: k.injected('<row r="100000"><c r="GR100000" s="1"/></row>'), (),
                                   outcome="accepted"),
    "macro-renamed-xlsx": Case(_macro, ("macro-file",), outcome="accepted"),
    "header-retyped": Case(lambda k: k.filled({T1: {"progress": "表头被改写"}}, transform=_retype_header), (),
                           outcome="accepted"),
    # BIFF is read by calamine in a child process (a fork when collect's process runs no other thread)
    "xls-without-ledger-sheet": Case(lambda k: h.xls(k.dir, JT_NAME.replace(".xlsx", ".xls")), ("no-ledger-sheet",)),
    # --- content checks on a real generated ledger
    "wrong-programme": Case(lambda k: k.filled(transform=lambda wb, ws: rt.set_meta(wb, "programme", "pingtai")),
                            ("wrong-programme",), stored=False),
    "wrong-period": Case(lambda k: k.filled(period="2022-W24"), ("wrong-period",), "other_period", stored=False),
    "unit-not-a-lead-unit": Case(lambda k: k.filled(transform=lambda wb, ws: rt.set_meta(wb, "unit", "市教育局")),
                                 ("unit-unknown",), unit="市教育局"),
    "locked-content-changed": Case(lambda k: k.filled(transform=_change_locked), ("locked-changed",)),
    # what the unit was sent is the office's record, not what the file says about itself (were accepted)
    "checksum-rebuilt-after-edit": Case(
        lambda k: k.filled(transform=lambda wb, ws: rt.forge_locked(wb, ws, T1, "deadline", "2023年12月31日前")),
        ("locked-changed",)),
    "checksum-rebuilt-with-own-key": Case(
        lambda k: k.filled(transform=lambda wb, ws: rt.forge_locked(wb, ws, T1, "text", "建设交通枢纽（已调整）",
                                                                   with_key=b"\x01" * 32)), ("locked-changed",)),
    "task-row-and-hidden-line-deleted": Case(lambda k: k.filled(transform=lambda wb, ws: rt.delete_task(wb, ws, T2)),
                                             ("task-missing",)),
    "task-id-renamed-in-row-and-hidden-line": Case(
        lambda k: k.filled(transform=lambda wb, ws: rt.rename_task(wb, ws, T3, "351-A1-99")), ("task-renamed",)),
    "workbook-no-record-matches": Case(_unrecorded, ("no-record",), unit=ZJ),
    "task-row-deleted": Case(lambda k: k.filled(transform=lambda wb, ws: ws.delete_rows(rt.task_rows(ws)[T2])),
                             ("task-missing",)),
    "row-added": Case(lambda k: k.filled(transform=_add_row), ("row-added",)),
    "status-outside-vocabulary": Case(lambda k: k.filled({T1: {"status": "差不多"}}), ("status-invalid",)),
    "percent-unparseable": Case(lambda k: k.filled({T2: {"percent": "大部分"}}), ("percent-invalid",)),
    "done-below-100": Case(lambda k: k.filled({T3: {"status": "已完成", "percent": 90}}), ("done-not-100",)),
    "required-fields-empty": Case(lambda k: k.filled({T1: {"progress": None}, T2: {"status": None},
                                                      T3: {"percent": None}}),
                                  ("progress-missing", "status-missing", "percent-missing")),
    # the covered cell reads as empty, and a formula without a result has no value at all
    "merged-input-cells": Case(lambda k: k.filled(transform=_merge_status), ("merged-input", "status-missing")),
    "formula-without-value": Case(lambda k: k.filled({T1: {"percent": rt.Formula("=20+20")}}),
                                  ("formula-in-input", "percent-missing")),
    # a unit types values: a formula is sent back even with its result in the file (was: a warning)
    "formula-with-cached-value": Case(_formula_cached, ("formula-in-input",)),
    # a formula that starts a program (DDE) or reads another file: sent back, wherever it is
    "dde-formula-in-input": Case(lambda k: k.filled({T1: {"progress": rt.Formula("=cmd|' /C calc'!A0")}}),
                                 ("formula-dde", "progress-missing")),
    "external-link-formula": Case(lambda k: k.filled({T2: {"progress": rt.Formula("='C:\\报表\\[旧台账.xlsx]Sheet1'!E5")}}),
                                  ("formula-external-link", "progress-missing")),
    "dde-formula-beside-table": Case(lambda k: k.filled(transform=_dde_beside), ("formula-dde", "formula-dde")),
    "dde-link-part": Case(_dde_link_part, ("file-external-links",)),
}


# --- the store's accepted data --------------------------------------------------------------------


def accepted_data(ws: Workspace) -> bytes:
    """Everything accepted in the store as bytes: the entries table as SQL, the accepted and
    superseded file rows, each period's current accepted submissions with their entries
    (through the Store API), and the archived originals of those files."""
    out: list[str] = []
    conn = sqlite3.connect(ws.paths.store)
    try:
        out += [line for line in conn.iterdump() if line.startswith('INSERT INTO "entries"')]
        rows = conn.execute("SELECT * FROM files WHERE outcome <> 'rejected' ORDER BY id").fetchall()
        out += [repr(r) for r in rows]
        periods = conn.execute("SELECT DISTINCT programme, period FROM files ORDER BY 1, 2").fetchall()
    finally:
        conn.close()
    with open_workspace_store(ws) as store:
        for programme, period in periods:
            for sub in store.current_submissions(programme, period):
                if sub.outcome == "accepted":
                    out.append(repr((sub.id, sub.unit, sub.sha256, store.entries(sub.id))))
                    out.append(hashlib.sha256(sub.archived_path.read_bytes()).hexdigest())
    return "\n".join(out).encode("utf-8")


def _stored_row(ws: Workspace, sha256: str) -> dict | None:
    conn = sqlite3.connect(ws.paths.store)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        audit = conn.execute("SELECT * FROM audit WHERE sha256 = ?", (sha256,)).fetchone()
    finally:
        conn.close()
    return None if row is None else {**dict(row), "audit": dict(audit)}


def _collect(ws: Workspace, folder: Path, now: datetime) -> tuple[CollectResult, float]:
    with open_workspace_store(ws) as store:
        start = time.perf_counter()
        # other_periods: a folder holding only the wrong-period file would stop the run (a typo in --period)
        result = collect(Run.open(ws, "351", PERIOD, now=now, store=store), [folder], other_periods=True)
        return result, time.perf_counter() - start


def _seed(ws: Workspace, tmp_path: Path, good_files: dict[str, bytes]) -> None:
    """Accepted reports of 交通运输局 and 城市管理局, received before the case's file."""
    folder = tmp_path / "earlier"
    folder.mkdir()
    for unit, data in good_files.items():
        (folder / f"{PERIOD}_{unit}_工作台账.xlsx").write_bytes(data)
    result, _ = _collect(ws, folder, BEFORE)
    assert {(f.unit, f.outcome) for f in result.files} == {(CG, "accepted"), (JT, "accepted")}


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file(name: str, ws: Workspace, kit: Kit, tmp_path: Path, good_files: dict[str, bytes]) -> None:
    case = CASES[name]
    _seed(ws, tmp_path, good_files)
    before = accepted_data(ws)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    built = case.build(kit)
    shutil.move(built, inbox / built.name)

    result, seconds = _collect(ws, inbox, NOW)
    print(f"{name}: {seconds * 1000:.0f} ms, peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")

    assert result.problems == []
    [item] = result.files
    codes = [p.code for p in item.problems]
    assert codes == list(case.codes), [p.render() for p in item.problems]
    assert item.outcome == case.outcome
    assert item.unit == case.unit
    for p in item.problems:
        assert p.file and built.name in p.file and _is_chinese(p.message)
    row = _stored_row(ws, item.sha256)
    if case.outcome == "accepted":
        assert row is not None and row["outcome"] == "accepted" and row["unit"] == JT
        assert accepted_data(ws) != before  # 交通运输局's earlier report is superseded
        return
    assert any(p.is_error for p in item.problems)
    assert accepted_data(ws) == before
    if not case.stored:
        assert row is None and item.submission_id is None
        return
    assert row is not None and row["id"] == item.submission_id
    assert (row["outcome"], row["unit"]) == ("rejected", case.unit)
    assert [p["code"] for p in json.loads(row["problems"])] == codes
    assert row["audit"]["verdict"] == "rejected" and row["audit"]["reason_code"] == case.codes[0]
    original = ws.paths.out / "archive" / row["archived_path"]
    assert hashlib.sha256(original.read_bytes()).hexdigest() == item.sha256 == row["sha256"]


def test_xlsx_named_xls_is_read_as_xlsx(ws: Workspace, kit: Kit, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.move(kit.good(JT_NAME.replace(".xlsx", ".xls")), inbox)
    result, _ = _collect(ws, inbox, NOW)
    [item] = result.files
    row = _stored_row(ws, item.sha256)
    assert item.outcome == "accepted" and row is not None and row["detected_type"] == "xlsx"
    with open_workspace_store(ws) as store:
        entries = store.entries(item.submission_id or 0)
    assert [(e.task_id, e.percent, e.status) for e in entries] == [(t, 40, "按序时推进") for t in (T1, T2, T3)]


def test_another_units_ledger_counts_for_that_unit(ws: Workspace, kit: Kit, tmp_path: Path,
                                                     good_files: dict[str, bytes]) -> None:
    """城市管理局's ledger sent under 交通运输局's file name: filed as 城市管理局's, 交通运输局's data untouched."""
    _seed(ws, tmp_path, good_files)
    with open_workspace_store(ws) as store:
        [jt_before] = [s for s in store.current_submissions("351", PERIOD) if s.unit == JT]
    inbox = tmp_path / "inbox"
    kit.filled({"351-A5-01": {"progress": "城管局本期进展"}}, unit=CG, name=JT_NAME)
    inbox.mkdir()
    shutil.move(kit.dir / JT_NAME, inbox)
    result, _ = _collect(ws, inbox, NOW)
    [item] = result.files
    assert (item.unit, item.outcome) == (CG, "accepted")
    with open_workspace_store(ws) as store:
        current = {s.unit: s for s in store.current_submissions("351", PERIOD)}
        assert current[JT].id == jt_before.id
        assert "城管局本期进展" in {e.progress for e in store.entries(current[CG].id)}


def test_one_poisoned_file_among_50(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """49 good ledgers and one with a cell at XFD1048576 (calamine would abort the process), one run.

    Also: the registry is indexed once per run, not scanned for every file (that made
    collecting 1,000 files quadratic)."""
    units = [f"测试单位{i:02d}" for i in range(50)]
    registry = Registry(ProgrammeInfo("351", "测试项目"), [
        Task(f"351-A1-{i:02d}-{k}", "351", ["一、专项行动"], f"第{i}项重点工作之{k}", lead_units=[u],
             lead_units_raw=[u], deadline=date(2022, 12, 31))
        for i, u in enumerate(units) for k in (1, 2)
    ])
    with Run.open(ws, "351", PERIOD, registry=registry) as run:
        made = {g.unit: g.path for g in generate(run)}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, unit in enumerate(units):
        path = inbox / f"{PERIOD}_{unit}_工作台账.xlsx"
        shutil.copyfile(made[unit], path)
        rt.fill(path, {f"351-A1-{i:02d}-1": {"progress": f"{unit}本期进展"}})
    poisoned = inbox / f"{PERIOD}_{units[25]}_工作台账.xlsx"
    xml = h._sheet_xml(poisoned, LEDGER_PART).replace(b"</sheetData>", XFD.encode() + b"</sheetData>")
    h._rewrite(poisoned, tmp_path / poisoned.name, {LEDGER_PART: xml}).replace(poisoned)

    scans: list[str] = []
    for method in ("lead_units", "task", "tasks_led_by"):
        original = getattr(Registry, method)
        monkeypatch.setattr(Registry, method, lambda self, *a, _m=method, _f=original: scans.append(_m) or _f(self, *a))
    with open_workspace_store(ws) as store:
        start = time.perf_counter()
        result = collect(Run.open(ws, "351", PERIOD, now=NOW, store=store, registry=registry), [inbox])
        seconds = time.perf_counter() - start
        monkeypatch.undo()
        current = store.current_submissions("351", PERIOD)
        accepted = {s.unit: store.entries(s.id) for s in current if s.outcome == "accepted"}
    print(f"50 files, one poisoned: {seconds:.2f} s")
    assert len(scans) < 5, scans
    assert [f.file for f in result.files] == sorted(p.name for p in inbox.iterdir())
    verdicts = {f.unit: f.outcome for f in result.files}
    assert len(verdicts) == 50
    assert verdicts.pop(units[25]) == "rejected"
    assert set(verdicts.values()) == {"accepted"}
    [bad] = [f for f in result.files if f.unit == units[25]]
    assert [(p.code, p.cell) for p in bad.problems] == [("sheet-too-wide", "XFD1048576")]
    assert sorted(accepted) == sorted(u for u in units if u != units[25])
    assert all(entries[0].progress == f"{u}本期进展" and len(entries) == 2 for u, entries in accepted.items())
    assert [s.outcome for s in current if s.unit == units[25]] == ["rejected"]


# --- the whole corpus in a child process: worst time and peak memory ------------------------------


def _collect_each(root: str, corpus: str) -> dict:
    """Collect each folder of *corpus* (one file each) into the workspace's store; times and peak RSS.

    Runs in a fresh process whose address space is capped at 4 GiB, so a reader inflating a
    bomb fails here instead of swapping the machine.
    """
    limit = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    ws = load(Path(root))
    out = []
    for folder in sorted(Path(corpus).iterdir()):
        with open_workspace_store(ws) as store:
            start = time.perf_counter()
            result = collect(Run.open(ws, "351", PERIOD, now=NOW, store=store), [folder], other_periods=True)
            seconds = time.perf_counter() - start
        files = [(f.outcome, [p.code for p in f.problems]) for f in result.files]
        out.append((folder.name, files, [p.code for p in result.problems], seconds))
    return {"files": out, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def test_corpus_worst_time_and_memory(ws: Workspace, kit: Kit, tmp_path: Path) -> None:
    """Every case collected in one fresh process: codes as above, peak memory well under a bomb's GiB."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, case in CASES.items():
        built = case.build(kit)
        (corpus / name).mkdir()
        shutil.move(built, corpus / name / built.name)
    # not read_isolated: its child is a daemon, and collect starts its own child for .xls files
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        report = pool.submit(_collect_each, str(ws.root), str(corpus)).result(timeout=600)
    worst = sorted(report["files"], key=lambda f: -f[3])
    peak_mb = report["peak_rss_kib"] / 1024
    print(f"\n{len(CASES)} hostile files; peak RSS {peak_mb:.0f} MB; slowest:")
    for name, _files, _problems, seconds in worst[:5]:
        print(f"  {name:<32} {seconds * 1000:7.0f} ms")
    assert [f[0] for f in report["files"]] == sorted(CASES)
    for name, files, problems, _ in report["files"]:
        case = CASES[name]
        assert (files, problems) == ([(case.outcome, list(case.codes))], []), name
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"


# --- judging in worker processes ------------------------------------------------------------------

#: cases whose files take seconds to build (bombs, 3 M cells): left out of the folders below.
SLOW_CASES = {"zip-bomb-1GiB", "shared-string-512MiB", "cells-3M", "bomb-in-zip", "zip-archive-bomb"}
DIE = "致命"  # a file named with this makes the stand-in reader below kill its worker


def _mixed_inbox(kit: Kit, folder: Path, good_files: dict[str, bytes], cases: list[str]) -> list[str]:
    """One file per case among good ledgers of two units (one of them sent twice), named so that
    the sorted order mixes verdicts and accepted reports supersede one another; the names in order."""
    folder.mkdir()
    built: list[tuple[str, bytes]] = []
    for name in cases:
        path = CASES[name].build(kit)
        built.append((f"{name}{path.suffix}", path.read_bytes()))
        path.unlink()
    for i, unit in enumerate([JT, CG, JT]):
        built.insert(i * 12, (f"good{i}.xlsx", good_files[unit]))
    names = []
    for i, (name, data) in enumerate(built):
        names.append(f"{i:02d}_{JT}_工作台账_{name}")
        (folder / names[-1]).write_bytes(data)
    return names


def _copy_ws(base_root: Path, root: Path) -> Workspace:
    shutil.copytree(base_root, root)
    return load(root)


def _collected(result: CollectResult) -> list[tuple]:
    return [(f.file, f.unit, f.period, f.outcome, [p.as_dict() for p in f.problems], f.received_at,
             f.received_source, f.sha256, f.submission_id, f.identified_by) for f in result.files]


def _store_dump(ws: Workspace) -> tuple[list, list, list]:
    """Every file, entry and audit row (but the audit's wall-clock time) of the store."""
    conn = sqlite3.connect(ws.paths.store)
    try:
        files = conn.execute("SELECT * FROM files ORDER BY id").fetchall()
        entries = conn.execute("SELECT * FROM entries ORDER BY file_id, task_id").fetchall()
        audit = [r[:1] + r[2:] for r in conn.execute("SELECT * FROM audit ORDER BY id")]
    finally:
        conn.close()
    return files, entries, audit


def _run(ws: Workspace, folder: Path, jobs: int) -> CollectResult:
    with open_workspace_store(ws) as store:
        return collect(Run.open(ws, "351", PERIOD, now=NOW, store=store), [folder], jobs=jobs)


@pytest.mark.parametrize("fork", [True, False], ids=["forked-workers", "forkserver-workers"])
def test_workers_give_the_same_verdicts_and_store(fork: bool, ws: Workspace, kit: Kit, tmp_path: Path,
                                                   base_root: Path, good_files: dict[str, bytes],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of 40 files, good and bad (an .xls among them), collected with jobs=1 and jobs=2 into
    two equal stores: the same results in the same order and the same store, row for row. Workers
    are forks of this process when it has no other thread, else started by a forkserver: both."""
    monkeypatch.setattr(pool, "can_fork", lambda: fork)
    cases = [name for name in CASES if name not in SLOW_CASES]
    names = _mixed_inbox(kit, tmp_path / "inbox", good_files, cases)
    assert len(names) >= 20
    judged_here: list[str] = []
    judge = pool.judge_file
    monkeypatch.setattr(pool, "judge_file", lambda item, context: judged_here.append(item.name) or judge(item, context))

    one = _run(ws, tmp_path / "inbox", jobs=1)
    # the same good file again, 24 files on, is judged again: only a copy stored by an earlier run
    # gives its verdict unread, so how far the workers have got cannot change a verdict
    assert judged_here == [f.file for f in one.files] and "duplicate" in {f.outcome for f in one.files}
    judged_here.clear()
    ws2 = _copy_ws(base_root, tmp_path / "ws2")
    two = _run(ws2, tmp_path / "inbox", jobs=2)
    assert judged_here == []  # every file was read and checked in a worker process

    assert _collected(two) == _collected(one)
    assert two.problems == one.problems
    assert _store_dump(ws2) == _store_dump(ws)
    assert {f.outcome for f in two.files} == {"accepted", "rejected", "duplicate", "other_period"}
    with open_workspace_store(ws2) as store:
        assert "superseded" in {s.outcome for s in store.history("351", JT)}  # the order mattered
    # .xls is read by calamine in a child of the worker process (read_isolated), and read fully
    xls = next(f for f in two.files if f.file.endswith("xls-without-ledger-sheet.xls"))
    assert [p.code for p in xls.problems] == ["no-ledger-sheet"]
    assert _stored_row(ws2, xls.sha256)["detected_type"] == "xls"


_JUDGE_IN_WORKER = pool._judge_in_worker  # the real one: forked workers inherit the stand-in


def _die_on_mark(item: object) -> object:
    """Stands in for ``pool._judge_in_worker`` in the workers: a marked file aborts the process,
    as calamine does on a file the pre-check let through."""
    if DIE in item.name:  # type: ignore[attr-defined]
        os._exit(70)
    return _JUDGE_IN_WORKER(item)  # type: ignore[arg-type]


@pytest.mark.parametrize("restarts", [pool.POOL_RESTARTS, 0])
def test_a_dying_worker_loses_no_file(restarts: int, ws: Workspace, kit: Kit, tmp_path: Path, base_root: Path,
                                      good_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two files kill their worker: the first (in the first batch handed out) is judged again
    alone, kills that worker too and is rejected as unreadable; the files out with it are judged
    again and kept. The second, later, kills a fresh pool the same way, or (no restarts left) is
    judged in this process, where the stand-in does not apply. Every other verdict is jobs=1's."""
    cases = ["truncated", "status-outside-vocabulary", "xls-without-ledger-sheet", "percent-unparseable",
             "row-added", "macro-renamed-xlsx", "xfd1048576", "wrong-period", "formula-with-cached-value",
             "unit-not-a-lead-unit", "xlsx-named-xls", "zero-bytes", "locked-content-changed", "csv-named-xlsx",
             "done-below-100", "header-retyped", "xxe"]
    names = _mixed_inbox(kit, tmp_path / "inbox", good_files, cases)
    assert len(names) == 20 and "truncated" in names[1] and "xxe" in names[18]
    marked = {i: names[i].replace("工作台账_", f"工作台账_{DIE}_") for i in (1, 18)}  # rejected anyway by jobs=1
    for i, name in marked.items():
        (tmp_path / "inbox" / names[i]).rename(tmp_path / "inbox" / name)
        names[i] = name
    one = _run(ws, tmp_path / "inbox", jobs=1)
    assert [f.file for f in one.files] == sorted(names)
    monkeypatch.setattr(pool, "POOL_RESTARTS", restarts)
    monkeypatch.setattr(pool, "WINDOW_PER_WORKER", 2)  # at most 4 files out: the second mark is not among them
    monkeypatch.setattr(pool, "_judge_in_worker", _die_on_mark)
    ws2 = _copy_ws(base_root, tmp_path / "ws2")
    two = _run(ws2, tmp_path / "inbox", jobs=2)

    assert [f.file for f in two.files] == [f.file for f in one.files]
    crashed = {f.file for f in two.files if [p.code for p in f.problems] == ["reader-crashed"]}
    assert crashed == ({marked[1], marked[18]} if restarts else {marked[1]})
    for a, b in zip(_collected(one), _collected(two), strict=True):
        if a[0] in crashed:
            assert (a[3], b[3]) == ("rejected", "rejected") and b[4][0]["message"] == verdict.READER_DIED
            assert _stored_row(ws2, b[7])["audit"]["reason_code"] == "reader-crashed"
        else:
            assert b == a


@pytest.mark.parametrize("fork", [True, False])
def test_jobs_policy(fork: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jobs=0 uses a worker a core and one more from AUTO_PARALLEL_FILES files on (AUTO_PARALLEL_FILES_FRESH when the
    workers cannot be forks) and this process below; jobs=1 never starts a worker; jobs=N starts at
    most one worker a file."""
    monkeypatch.setattr(pool, "can_fork", lambda: fork)
    threshold = pool.AUTO_PARALLEL_FILES if fork else pool.AUTO_PARALLEL_FILES_FRESH
    auto, one, three = (pool.Judging(None, tmp_path, jobs) for jobs in (0, 1, 3))  # type: ignore[arg-type]
    assert auto.workers(threshold - 1) == 1
    assert auto.workers(threshold) == pool.auto_workers() == pool._cores() + 1
    assert one.workers(10_000) == 1
    assert (three.workers(2), three.workers(10_000)) == (2, 3)
