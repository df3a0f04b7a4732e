"""Benchmark the bounds on hostile files, the store's checks and the start-up clean-up: prints
figures, asserts nothing (the tests bound the same work by timeouts, memory limits and counts).

1. Files, each pre-checked and read as collect reads it (``read_returned``) in a fresh Python
   process that reports the seconds of that call and its peak RSS (an idle process that imported
   the same modules is printed as the baseline): a value far away in .xlsx, .ods and .xls, the
   largest sheet a file may span (2,000,000 cells), formatting far away. With ``--before`` also
   the far .xlsx value without the area limit, i.e. what it cost before (about 1 GB).
2. ``collect`` of a folder of far-value files, then the same folder again: every file is a
   duplicate, taken from the store without being read.
3. The store of ``--entries`` entries: opening it (with its page check), ``PRAGMA quick_check``
   alone, ``ledger store check`` (every page, indexes, every archived original hashed) and a backup.
4. The start-up clean-up over an ``out/`` whose archive holds ``--archive`` originals.
5. The worst of each kind of mail, archive and forged workbook, each collected alone (``collect``
   with its receipt) in a fresh Python process into a workspace whose workbooks were generated
   (and recorded as sent): a mail 1,000 levels deep, one forwarded 1,000 times, one of 100,000
   empty parts, one of 150 attachments, an Outlook message nested 25 deep, a zip upload holding a
   1 GiB bomb, one of 5,000 parts, a zip inside a zip, a 238-byte name, a DDE formula, checksums
   rebuilt after an edit, a task deleted with its hidden line, a task id renamed in both places.

Run: ``.venv/bin/python bench/bench_hostile.py [--files N] [--entries N] [--archive N] [--before]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from ledger import config
from ledger.collect.api import collect
from ledger.fsutil import clean_leftovers
from ledger.periods import CHINA
from ledger.registry.workbook import write_registry
from ledger.run import Run, open_workspace_store
from ledger.store import Entry, Received, open_store
from ledger.store.maintenance import check_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import PERIOD, PROGRAMME, make_registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHEET = "xl/worksheets/sheet1.xml"


# --- files ----------------------------------------------------------------------------------------


def ledger_xlsx(path: Path, extra_xml: str = "", rows: int = 50) -> Path:
    """A 工作台账-shaped .xlsx with *extra_xml* appended to its sheet data."""
    wb = Workbook()
    ws = wb.active
    ws.title = "工作台账"
    ws.append(["序号", "任务编号", "任务内容", "牵头单位", "本期进展", "完成比例", "状态"])
    for i in range(1, rows + 1):
        ws.append([i, f"T{i:03d}", f"第{i}项重点工作", "县发改局", "正在推进", 60, "按序时推进"])
    wb.save(path)
    if extra_xml:
        with zipfile.ZipFile(path) as zin:
            parts = {i.filename: zin.read(i) for i in zin.infolist()}
        parts[SHEET] = parts[SHEET].replace(b"</sheetData>", extra_xml.encode() + b"</sheetData>")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for name, data in parts.items():
                zout.writestr(name, data)
    return path


def far_ods(path: Path) -> Path:
    cell = '<table:table-cell office:value-type="float" office:value="1"/>'
    table = (f'<table:table table:name="工作台账"><table:table-row>{cell}</table:table-row>'
             '<table:table-row table:number-rows-repeated="99998"><table:table-cell/></table:table-row>'
             f'<table:table-row><table:table-cell table:number-columns-repeated="199"/>{cell}</table:table-row>'
             "</table:table>")
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               + table + "</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return path


def far_xls(path: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    import hostile  # the BIFF and compound-file writer of the tests

    return hostile.xls_with_cells(path.parent, path.name, [(0, 0), (65535, 199)])


def inline(ref: str, text: str = "x") -> str:
    return f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}"><c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c></row>'


FILES = {
    "xlsx, one value at GR100000": lambda d: ledger_xlsx(d / "far.xlsx", inline("GR100000")),
    "ods, one value at GR100000": lambda d: far_ods(d / "far.ods"),
    "xls, one value at GR65536": lambda d: far_xls(d / "far.xls"),
    "xlsx, one value at T100000 (2,000,000 cells)": lambda d: ledger_xlsx(d / "near.xlsx", inline("T100000")),
    "xlsx, formatting only at GR100000": lambda d: ledger_xlsx(d / "fmt.xlsx", '<row r="100000"><c r="GR100000" s="1"/></row>'),
}


def measure_one(path: str, unbounded: bool) -> None:
    """In the child: read *path* as collect does; print seconds, peak RSS and problem codes as JSON."""
    from ledger.collect import limits, reader

    if unbounded:
        limits.DEFAULT_LIMITS = limits.Limits(max_area=1 << 62)
    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    read, problems = reader.read_returned(Path(path), limits=limits.DEFAULT_LIMITS)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "idle_mb": idle / 1024,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "read": read is not None, "codes": [p.code for p in problems]}))


def in_child(path: Path, unbounded: bool = False) -> dict:
    done = subprocess.run([sys.executable, __file__, "--measure", str(path)] + (["--unbounded"] if unbounded else []),
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "idle_mb": float("nan"), "read": False,
                "codes": [f"child died ({done.returncode}): {done.stderr.strip()[-120:]}"]}
    return json.loads(done.stdout)


def files(folder: Path, before: bool) -> None:
    print("\n== one file, pre-checked and read in a fresh process ==")
    print(f"{'file':<46} {'verdict':<22} {'s':>6} {'peak MB':>8}")
    cases = list(FILES.items())
    if before:
        cases.append(("xlsx at GR100000, no area limit (before)", FILES["xlsx, one value at GR100000"]))
    idle = None
    for name, build in cases:
        sub = folder / str(len(name))
        sub.mkdir(exist_ok=True)
        found = in_child(build(sub), unbounded="before" in name)
        idle = found["idle_mb"]
        verdict = "read" if found["read"] else ",".join(found["codes"]) or "refused"
        print(f"{name:<46} {verdict:<22} {found['seconds']:6.2f} {found['peak_mb']:8.0f}")
    print(f"(a process that imported the reader and read nothing: {idle:.0f} MB)")


# --- collect, and collect again -------------------------------------------------------------------


def workspace(root: Path) -> config.Workspace:
    root.mkdir(parents=True)
    shutil.copy(ROOT / "ledger.toml", root / "ledger.toml")
    (root / "source_data").mkdir()
    shutil.copy(ROOT / "source_data" / "units.xlsx", root / "source_data" / "units.xlsx")
    ws = config.load(root)
    write_registry(make_registry(2, 3), ws.registry_path(PROGRAMME))
    return ws


def collect_twice(folder: Path, count: int) -> None:
    print(f"\n== collect a folder of {count} files with a value at GR100000, then again ==")
    ws = workspace(folder / "ws")
    inbox = folder / "inbox"
    inbox.mkdir()
    for i in range(count):
        ledger_xlsx(inbox / f"unit{i:03d}.xlsx", inline("GR100000", f"file {i}"))
    now = datetime(2022, 6, 10, 15, 0, tzinfo=CHINA)
    for label in ("first run", "again (all duplicates)"):
        with open_workspace_store(ws) as store:
            start = time.perf_counter()
            result = collect(Run.open(ws, PROGRAMME, PERIOD, now=now, store=store), [inbox], jobs=1)
            seconds = time.perf_counter() - start
        outcomes = sorted({f.outcome for f in result.files})
        print(f"{label:<46} {seconds:7.2f} s  {', '.join(outcomes)}")


# --- the store ------------------------------------------------------------------------------------


def build_store(path: Path, archive: Path, entries: int, tasks: int = 25) -> None:
    with open_store(path, archive_dir=archive) as store:
        batch = []
        for i in range(max(1, entries // tasks)):
            data = f"file {i}".encode()
            unit = f"单位{i % 50}"
            rows = tuple(Entry(f"T-{k}", 4 + k, progress="本期完成了方案编制，正在推进后续事项", percent=50,
                               status="按序时推进") for k in range(tasks))
            batch.append(Received(hashlib.sha256(data).hexdigest(), f"{unit}.xlsx", data, "xlsx",
                                  datetime(2022, 1, 1, tzinfo=UTC) + timedelta(hours=i), "collected", "",
                                  PROGRAMME, f"P{i:06d}", unit, "accepted", (), rows))
            if len(batch) == 200:
                store.ingest_many(batch)
                batch = []
        if batch:
            store.ingest_many(batch)


def best_of(runs: int, func) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def store_checks(folder: Path, entries: int) -> None:
    path, archive = folder / "ledger.sqlite", folder / "archive"
    build_store(path, archive, entries)
    conn = sqlite3.connect(path)
    count = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    print(f"\n== a store of {count:,} entries ({path.stat().st_size / 1e6:.1f} MB) ==")
    print(f"{'PRAGMA quick_check(1) alone (best of 5)':<46} {best_of(5, lambda: conn.execute('PRAGMA quick_check(1)').fetchall()) * 1000:7.1f} ms")
    conn.close()
    print(f"{'open and close, page check included (best of 5)':<46} "
          f"{best_of(5, lambda: open_store(path, archive_dir=archive).close()) * 1000:7.1f} ms")
    print(f"{'ledger store check (every page, every original)':<46} "
          f"{best_of(1, lambda: check_store(path, archive)) * 1000:7.1f} ms")
    with open_store(path, archive_dir=archive) as store:
        print(f"{'ledger store backup':<46} {best_of(1, lambda: store.backup(folder / 'copy.sqlite')) * 1000:7.1f} ms")


# --- start-up clean-up ----------------------------------------------------------------------------


def cleanup(folder: Path, originals: int) -> None:
    out = folder / "out"
    for i in range(originals):
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        target = out / "archive" / digest[:2] / f"{digest}.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x")
    print(f"\n== start-up clean-up over out/ with {originals:,} archived originals ==")
    print(f"{'clean_leftovers (best of 3)':<46} {best_of(3, lambda: clean_leftovers([out])) * 1000:7.1f} ms")


# --- mail, archives, names and forged workbooks ---------------------------------------------------


def _tests() -> tuple:
    """The builders of the tests: hostile files, filled workbooks, Outlook messages."""
    sys.path.insert(0, str(ROOT / "tests"))
    import hostile
    import outlook_msg
    import returned

    return hostile, returned, outlook_msg


def _filled(source: Path, folder: Path, transform=None) -> Path:
    _, returned, _ = _tests()
    path = folder / source.name
    shutil.copyfile(source, path)
    return returned.fill(path, transform=transform)


def _deep_msg(folder: Path, depth: int) -> Path:
    _, _, outlook = _tests()
    sent = datetime(2022, 6, 10, 9, 0, tzinfo=CHINA)
    tree = outlook.message_tree(subject="台账", sender_name="科员", sender="clerk@example.org", sent=sent,
                                attachments=[("台账.xlsx", b"x")], embedded=True)
    for _ in range(depth - 1):
        tree = outlook.message_tree(subject="转发", sender_name="科员", sender="clerk@example.org", sent=sent,
                                    attachments=[("转发.msg", tree)], embedded=True)
    path = folder / "转发.msg"
    path.write_bytes(outlook.msg_file(subject="转发", sender_name="科员", sender="clerk@example.org", sent=sent,
                                      attachments=[("转发.msg", tree)]))
    return path


def worst_cases(book: Path, bomb_mib: int = 1024, parts: int = 100_000) -> dict:
    """Name → builder(folder) of the worst file of each kind; *book* is a generated workbook."""
    hostile, returned, _ = _tests()
    data = book.read_bytes()

    def task(ws, n: int = 0) -> str:
        return list(returned.task_rows(ws))[n]

    return {
        "mail 1,000 levels deep": lambda d: hostile.deep_mail(d, "deep.eml", 1000, (book.name, data)),
        "mail forwarded 1,000 times": lambda d: hostile.forwarded_mail(d, "fwd.eml", 1000),
        f"mail of {parts:,} empty parts": lambda d: hostile.wide_mail(d, "wide.eml", parts, (book.name, data)),
        "mail of 150 attachments": lambda d: hostile.many_attachments_mail(d, "many.eml", 150, data),
        "Outlook message nested 25 deep": lambda d: _deep_msg(d, 25),
        f"zip upload holding a {bomb_mib} MiB bomb": lambda d: hostile.archive_bomb(d, "bomb.zip", book.name, bomb_mib),
        "zip upload of 5,000 parts": lambda d: hostile.zip_of_many(d, "many.zip", 5000),
        "zip inside a zip": lambda d: hostile.zip_in_zip(d, "nested.zip"),
        "a name of 238 bytes": lambda d: _long_name(d),
        "DDE formula in an input cell": lambda d: _filled(book, d, lambda wb, ws: ws.cell(
            returned.task_rows(ws)[task(ws)], returned.columns(ws)["progress"], "=cmd|' /C calc'!A0")),
        "checksums rebuilt after an edit": lambda d: _filled(book, d, lambda wb, ws: returned.forge_locked(
            wb, ws, task(ws), "deadline", "2023年12月31日前")),
        "task deleted with its hidden line": lambda d: _filled(book, d, lambda wb, ws: returned.delete_task(
            wb, ws, task(ws, 1))),
        "task id renamed in both places": lambda d: _filled(book, d, lambda wb, ws: returned.rename_task(
            wb, ws, task(ws, 1), "X-99")),
    }


def _long_name(folder: Path) -> Path:
    path = folder / ("关于报送第二十三周工作台账的函" * 5 + "附件表.xls")
    path.write_text("序号,任务\n1,示例\n", encoding="utf-8")
    return path


def collect_one(ws_root: str, path: str) -> None:
    """In the child: collect *path* alone with its receipt; print seconds, peak RSS and the verdict as JSON."""
    from ledger.collect.receipts import write_receipts

    ws = config.load(Path(ws_root))
    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with open_workspace_store(ws) as store:
        run = Run.open(ws, PROGRAMME, PERIOD, now=datetime(2022, 6, 10, 15, 0, tzinfo=CHINA), store=store)
        result = collect(run, [Path(path)], jobs=1)
        write_receipts(run, result)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "idle_mb": idle / 1024,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "outcomes": [f.outcome for f in result.files],
                      "codes": sorted({p.code for f in result.files for p in f.problems if p.is_error})}))


def containers(folder: Path, bomb_mib: int, parts: int) -> None:
    print("\n== the worst mail, archive, name and forged workbook of each kind, collected alone ==")
    ws = workspace(folder / "ws")
    from ledger.generate import generate

    with Run.open(ws, PROGRAMME, PERIOD) as run:
        book = generate(run)[0].path  # recorded as sent
    print(f"{'file':<36} {'verdict':<34} {'s':>6} {'peak MB':>8}")
    idle = None
    for i, (name, build) in enumerate(worst_cases(book, bomb_mib, parts).items()):
        sub = folder / f"case{i:02d}"
        sub.mkdir()
        path = build(sub)
        done = subprocess.run([sys.executable, __file__, "--collect-one", str(ws.root), str(path)],
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            print(f"{name:<36} child died ({done.returncode}): {done.stderr.strip()[-200:]}")
            continue
        found = json.loads(done.stdout)
        idle = found["idle_mb"]
        verdict = ",".join(found["codes"]) or ",".join(found["outcomes"])
        print(f"{name:<36} {verdict:<34} {found['seconds']:6.2f} {found['peak_mb']:8.0f}")
    if idle is not None:
        print(f"(a process that imported collect and collected nothing: {idle:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="far-value files collected twice")
    parser.add_argument("--entries", type=int, default=50_000, help="entries in the measured store")
    parser.add_argument("--archive", type=int, default=20_000, help="originals in the cleaned-up archive")
    parser.add_argument("--before", action="store_true", help="also read the far value without the area limit")
    parser.add_argument("--bomb-mib", type=int, default=1024, help="what the zip bomb upload inflates to")
    parser.add_argument("--mail-parts", type=int, default=100_000, help="empty parts of the widest mail")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--unbounded", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--collect-one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_one(args.measure, args.unbounded)
        return
    if args.collect_one:
        collect_one(*args.collect_one)
        return
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        root = Path(tmp)
        for name in ("files", "collect", "store", "cleanup", "containers"):
            (root / name).mkdir()
        files(root / "files", args.before)
        collect_twice(root / "collect", args.files)
        store_checks(root / "store", args.entries)
        cleanup(root / "cleanup", args.archive)
        containers(root / "containers", args.bomb_mib, args.mail_parts)
    print(f"\npeak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
