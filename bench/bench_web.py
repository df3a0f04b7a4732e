"""Benchmark the web page (``ledger serve``): prints figures, asserts nothing.

1. Rendering 本期 and 任务清单 for one weekly period of 1,000 lead units × 50 tasks (a
   registry workbook on disk, one accepted file per unit in the store, the period
   consolidated): the first request (registry parsed, ``registry check`` run) and the
   median of later ones, through Starlette's TestClient (no network). Target: < 200 ms each.
2. 100 returned workbooks (100 units × 50 tasks) uploaded to a real ``ledger serve`` and
   judged, against ``ledger collect`` on the same files, each into a fresh workspace: all
   files in one request (the form without the page's script), and one file a request, two
   at a time (what the page's script does). Target: within 1.5× of ``ledger collect``.

Building the inputs (registry workbook, store, returned files) is not timed. Run:
``.venv/bin/python bench/bench_web.py [--units N] [--tasks M] [--files F] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import httpx2 as httpx
from starlette.testclient import TestClient

from ledger import config
from ledger.consolidate.api import consolidate
from ledger.periods import CHINA
from ledger.registry.units import Unit, UnitDirectory
from ledger.registry.workbook import write_registry
from ledger.run import Run, open_workspace_store
from ledger.store import Received

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_collect import make_inbox  # noqa: E402
from bench_generate import PERIOD, PROGRAMME, make_registry  # noqa: E402
from office import serving  # noqa: E402

from ledger.web.app import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2022, 6, 10, 15, 0, tzinfo=CHINA)
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def workspace(root: Path, units: list[str]) -> config.Workspace:
    """A workspace whose units directory knows *units* (so the registry checks clean)."""
    root.mkdir(parents=True)
    shutil.copy(ROOT / config.CONFIG_NAME, root / config.CONFIG_NAME)
    (root / "source_data").mkdir()
    shipped = UnitDirectory.load(ROOT / "source_data" / "units.xlsx").units()
    extra = [Unit(name, scope="洛阳市", email=f"u{i:04d}@example.org") for i, name in enumerate(units)]
    UnitDirectory([*shipped, *extra]).save(root / "source_data" / "units.xlsx")
    return config.load(root)


def timed(label: str, seconds: float, note: str = "") -> None:
    print(f"{label:<52} {seconds * 1000:9.1f} ms  {note}")


def rendering(root: Path, units: int, tasks: int, repeat: int) -> None:
    print(f"\n== rendering: {units} units × {tasks} tasks ==")
    registry = make_registry(units, tasks)
    ws = workspace(root, registry.lead_units())
    t = time.perf_counter()
    write_registry(registry, ws.registry_path(PROGRAMME))
    print(f"{'write the registry workbook (not timed below)':<52} {time.perf_counter() - t:9.2f} s")
    with Run.open(ws, PROGRAMME, PERIOD, registry=registry, now=NOW) as run:
        t = time.perf_counter()
        for u, unit in enumerate(registry.lead_units()):
            data = f"{PERIOD}/{unit}".encode()
            run.store.ingest(Received(
                sha256=hashlib.sha256(data).hexdigest(), source_name=f"{PERIOD}_{unit}_工作台账.xlsx", data=data,
                detected_type="xlsx", received_at=NOW - timedelta(hours=2 + u % 3), received_source="email",
                sender="u@example.org", programme=PROGRAMME, period=PERIOD, unit=unit, outcome="accepted"))
        consolidate(run)
        print(f"{'store one file per unit, consolidate (not timed below)':<52} {time.perf_counter() - t:9.2f} s")
    with TestClient(create_app(ws.root, ["testserver"], clock=lambda: NOW, pdf=False)) as client:
        for label, path in (("本期", f"/p/{PROGRAMME}/period/{PERIOD}"), ("任务清单", f"/p/{PROGRAMME}/tasks"),
                            ("本期 lights chart (lights.svg)", f"/p/{PROGRAMME}/period/{PERIOD}/lights.svg"),
                            ("任务清单 filtered by light (red)", f"/p/{PROGRAMME}/tasks?light=red")):
            times = []
            for _ in range(repeat + 1):
                t = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - t)
                if response.status_code != 200:
                    print(f"WARNING: {path} answered {response.status_code}")
            timed(f"{label}: first request", times[0], f"{len(response.content) / 1024:.0f} KiB")
            timed(f"{label}: median of {repeat}", statistics.median(times[1:]),
                  "target < 200 ms" if label in ("本期", "任务清单") else "")


def uploading(root: Path, files: int, tasks: int) -> None:
    print(f"\n== uploading: {files} returned workbooks × {tasks} tasks ==")
    registry = make_registry(files, tasks)
    base = workspace(root / "base", registry.lead_units())
    write_registry(registry, base.registry_path(PROGRAMME))
    inbox = make_inbox(base, registry, root / "inbox")
    received = "2022-06-10 12:00"
    results = {}

    ws = copy_of(base, root / "cli")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ledger", "-w", str(ws.root), "collect", str(root / "inbox"), "-p",
                           PROGRAMME, "--period", PERIOD, "--received-at", received], capture_output=True, text=True)
    results["ledger collect (the command, start-up included)"] = time.perf_counter() - t
    check(ws, files, "ledger collect", done.returncode == 0)

    for label, batch, parallel in (("web: all files in one request", files, 1),
                                   ("web: one file a request, two at a time", 1, 2)):
        ws = copy_of(base, root / label.split(":")[1].strip().replace(" ", "-"))
        with serving(ws.root, root / f"{ws.root.name}.log") as url:
            with httpx.Client(base_url=url, timeout=600) as client:
                page = client.get(f"/p/{PROGRAMME}/period/{PERIOD}")
                csrf = TOKEN.search(page.text).group(1)
                chunks = [inbox[i:i + batch] for i in range(0, len(inbox), batch)]

                def send(chunk: list[Path], client: httpx.Client = client, csrf: str = csrf) -> int:
                    body = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in chunk]
                    response = client.post(f"/p/{PROGRAMME}/period/{PERIOD}/upload", files=body,
                                           data={"csrf_token": csrf, "received_at": received},
                                           headers={"x-ledger-fragment": "1"})
                    return response.status_code

                t = time.perf_counter()
                with ThreadPoolExecutor(parallel) as pool:
                    statuses = list(pool.map(send, chunks))
                results[label] = time.perf_counter() - t
        check(ws, files, label, all(s == 200 for s in statuses))

    cli = results["ledger collect (the command, start-up included)"]
    for label, seconds in results.items():
        ratio = "" if seconds == cli else f"{seconds / cli:.2f}× ledger collect (target ≤ 1.5×)"
        print(f"{label:<52} {seconds:9.2f} s   {ratio}")


def copy_of(base: config.Workspace, target: Path) -> config.Workspace:
    shutil.copytree(base.root, target)
    return config.load(target)


def check(ws: config.Workspace, files: int, label: str, ok: bool) -> None:
    """Every file stored and accepted, or a WARNING."""
    with open_workspace_store(ws) as store:
        stored = store.history(PROGRAMME)
    accepted = sum(s.outcome == "accepted" for s in stored)
    if not ok or accepted != files:
        print(f"WARNING: {label}: {accepted} of {files} files accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, CPUs {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-web-") as tmp:
        rendering(Path(tmp) / "render", args.units, args.tasks, args.repeat)
        uploading(Path(tmp) / "upload", args.files, args.tasks)


if __name__ == "__main__":
    main()
