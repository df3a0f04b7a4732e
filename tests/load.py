"""Many units reporting through their links at once, against a real ``ledger serve``: the
workspace, and the driver that sends each unit's report (the web form, or an uploaded workbook)
and times it. Used by tests/test_web_load.py (which counts what was stored) and
bench/bench_web.py (which prints the latencies)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx2 as httpx
import office
import returned as rt
from conftest import make_workspace

from ledger.config import Workspace
from ledger.generate import build_workbook
from ledger.periods import CHINA, parse_period, period_containing
from ledger.registry.model import ProgrammeInfo, Registry, Task
from ledger.secret import workspace_key

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
#: the week that contains today: a real server's clock is the real one, and a link reports the period due now
PERIOD = period_containing(date.today(), "weekly").key


def registry(units: int, tasks: int) -> Registry:
    """*units* lead units with *tasks* tasks each, the first of each unit ongoing (常态化)."""
    out = []
    for u in range(units):
        for k in range(tasks):
            out.append(Task(f"351-A1-{u:03d}-{k:02d}", "351", ["一、专项行动"], f"单位{u}的第{k + 1}项任务",
                            lead_units=[unit_name(u)], lead_units_raw=[unit_name(u)], ongoing=k == 0,
                            deadline_text="长期坚持" if k == 0 else "", deadline=None if k == 0 else date(2022, 12, 31)))
    return Registry(ProgrammeInfo("351", "测试项目"), out)


def unit_name(u: int) -> str:
    return f"测试单位{u:03d}"


@dataclass
class Prepared:
    ws: Workspace
    registry: Registry
    tokens: dict[str, str]  # unit → its link's token
    workbooks: dict[str, Path]  # unit → its filled workbook (for the units that upload)


def prepare(root: Path, units: int, tasks: int = 2) -> Prepared:
    """A workspace of *units* units, a link each, and a filled workbook for every other unit."""
    reg = registry(units, tasks)
    ws = make_workspace(root / "ws", reg)
    tokens = {unit_name(u): office.link(ws, unit_name(u), now=datetime.now(CHINA)) for u in range(units)}
    programme, period = ws.programme("351"), parse_period(PERIOD, "weekly")
    workbooks = {}
    for u in range(1, units, 2):
        unit = unit_name(u)
        path = root / "excel" / f"{PERIOD}_{unit}_工作台账.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build_workbook(reg, programme, period, unit, key=workspace_key(ws.root)))
        workbooks[unit] = rt.fill(path, {t.id: {"progress": f"{unit}用Excel报送", "status": "常态化推进" if t.ongoing
                                                else "按序时推进", "percent": None if t.ongoing else 30}
                                         for t in reg.tasks_led_by(unit)})
    return Prepared(ws, reg, tokens, workbooks)


@dataclass
class Sent:
    unit: str
    kind: str  # form | upload
    status: int
    seconds: float
    verdict: str


def send_all(url: str, prepared: Prepared, *, start: threading.Barrier | None = None,
             timeout_s: float = 300) -> list[Sent]:
    """Every unit's report at once (one thread each, released together): the form for the even
    units, an uploaded workbook for the odd ones. Each unit first opens its page, as a person does."""
    units = list(prepared.tokens)
    barrier = start or threading.Barrier(len(units))

    def one(unit: str) -> Sent:
        token = prepared.tokens[unit]
        with httpx.Client(base_url=url, timeout=timeout_s, follow_redirects=False) as client:
            csrf = TOKEN.search(client.get(f"/u/{token}/{PERIOD}/fill").text).group(1)
            barrier.wait(timeout=timeout_s)
            began = time.perf_counter()
            if unit in prepared.workbooks:
                path = prepared.workbooks[unit]
                answer = client.post(f"/u/{token}/{PERIOD}/upload", data={"csrf_token": csrf},
                                     files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
                kind = "upload"
            else:
                data = {"csrf_token": csrf}
                for i, task in enumerate(prepared.registry.tasks_led_by(unit)):
                    data[f"t{i}-progress"] = f"{unit}在线填报"
                    data[f"t{i}-status"] = "常态化推进" if task.ongoing else "按序时推进"
                    data[f"t{i}-percent"] = "" if task.ongoing else "30"
                answer = client.post(f"/u/{token}/{PERIOD}/fill", data=data)
                kind = "form"
            seconds = time.perf_counter() - began
            verdict = ""
            if answer.status_code == 303:
                shown = client.get(answer.headers["location"]).text
                verdict = "accepted" if "已收到，通过校验" in shown else "other"
        return Sent(unit, kind, answer.status_code, seconds, verdict)

    with ThreadPoolExecutor(len(units)) as pool:
        return list(pool.map(one, units))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(sent: list[Sent], say: Callable[[str], None] = print) -> None:
    for kind in ("form", "upload", "all"):
        times = [s.seconds for s in sent if kind in ("all", s.kind)]
        if times:
            say(f"{kind:<8} n={len(times):3d}  p50 {percentile(times, 50) * 1000:7.0f} ms  "
                f"p95 {percentile(times, 95) * 1000:7.0f} ms  max {max(times) * 1000:7.0f} ms")
