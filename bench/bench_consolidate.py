"""Benchmark ``ledger consolidate``: prints figures, asserts nothing.

1. One weekly period of 1,000 lead units × 50 tasks from the store (the previous period
   consolidated first, so its lights are stored): judging, tables, the workbook, and
   ``pandas.DataFrame.to_excel`` of the same 总表 table in the same run.
   Target: under 20 s, at least 2× faster than pandas.to_excel, memory bounded.
2. 52 weekly periods of history for 200 units × 50 tasks: every period consolidated in
   turn, then the last one again with no stored lights (previous periods judged on the fly).

Store filling (through ``Store.ingest``) is not timed. Run:
``.venv/bin/python bench/bench_consolidate.py [--units N] [--tasks M] [--history-units K] [--periods P]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import xlsxwriter

from ledger import config
from ledger.consolidate.api import consolidate, summarise
from ledger.consolidate.judge import judge
from ledger.periods import parse_period
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.run import Run
from ledger.store import Entry, Received, open_store

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "351"
CST = timezone(timedelta(hours=8))
TEXT = "推进机场综合保障能力提升项目建设，完成航站楼改扩建工程立项、可研批复、招投标和开工建设等工作，确保年底前形成实物工作量。"
PROGRESS = "本周完成项目可研报告评审，组织召开专题协调会{n}次，解决用地问题1项，完成投资{m}万元。"
STATUSES = ("按序时推进", "按序时推进", "滞后", "超序时", "未启动", "已完成")


def make_registry(units: int, tasks: int) -> Registry:
    """*units* lead units with *tasks* tasks each; every fifth task has three milestones,
    every tenth is ongoing, every 25th is co-led with the next unit."""
    info = ProgrammeInfo(PROGRAMME, "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", date(2022, 5, 7))
    out = []
    for u in range(units):
        for k in range(tasks):
            leads = [unit_name(u)] + ([unit_name((u + 1) % units)] if k % 25 == 24 and units > 1 else [])
            milestones, ongoing, deadline = [], False, date(2022, 12, 31)
            if k % 5 == 0:
                milestones = [Milestone(date(2022, 6, 30), "完成立项"), Milestone(date(2022, 9, 30), "完成招投标"),
                              Milestone(date(2022, 12, 31), "开工建设")]
            elif k % 10 == 1:
                ongoing, deadline, milestones = True, date(2022, 6, 30), [Milestone(date(2022, 6, 30), "建立机制")]
            out.append(Task(
                id=f"{PROGRAMME}-A{u % 6 + 1}-{u:04d}-{k:02d}", programme=PROGRAMME, path=["交通枢纽建设工程"],
                text=TEXT, lead_units=leads, cooperating_units=["市财政局", "市发展和改革委员会"],
                deadline_text="2022年12月底前", deadline=deadline, ongoing=ongoing, milestones=milestones,
            ))
    return Registry(info, out)


def unit_name(u: int) -> str:
    return f"测试单位{u:04d}"


def fill(store, registry: Registry, keys: list[str], units: int, *, skip_every: int = 17) -> int:
    """One accepted file per unit and period (every *skip_every*-th unit misses the last period)."""
    by_unit: dict[str, list[Task]] = {}
    for t in registry.tasks:
        for unit in t.lead_units:
            by_unit.setdefault(unit, []).append(t)
    count = 0
    for p, key in enumerate(keys):
        period = parse_period(key, "weekly")
        due = datetime.combine(period.start + timedelta(days=4), datetime.min.time()).replace(hour=15, tzinfo=CST)
        for u in range(units):
            if p == len(keys) - 1 and u % skip_every == 0:
                continue
            unit = unit_name(u)
            entries = []
            for row, t in enumerate(by_unit[unit], start=4):
                k = int(t.id.rsplit("-", 1)[1])
                percent = min(100, 5 + p * 2 + (k * 7 + u) % 40)
                status = STATUSES[(k + u + (p if (k + u) % 10 == 0 else 0)) % len(STATUSES)]  # a tenth change
                progress = PROGRESS.format(n=k % 5, m=(k + p * (u % 3 != 0)) * 10)  # a third copy last week's text
                problems = "=资金未到位" if k % 13 == 0 else "资金到位较慢"
                entries.append(Entry(t.id, row, progress, f"累计完成投资{percent * 50}万元", percent,
                                     "已完成" if percent == 100 else status, problems, "加快推进招标工作", "", ""))
            data = f"{key}/{unit}".encode()
            late = timedelta(hours=3) if u % 11 == 0 else timedelta()
            store.ingest(Received(
                sha256=hashlib.sha256(data).hexdigest(), source_name=f"{key}_{unit}_工作台账.xlsx", data=data,
                detected_type="xlsx", received_at=due + late, received_source="email", sender="u@example.org",
                programme=PROGRAMME, period=key, unit=unit, outcome="accepted", entries=tuple(entries),
            ))
            count += 1
    return count


def week_keys(last: str, n: int) -> list[str]:
    period = parse_period(last, "weekly")
    keys = [period.key]
    for _ in range(n - 1):
        period = period.previous()
        keys.append(period.key)
    return keys[::-1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def one_period(ws: config.Workspace, root: Path, units: int, tasks: int) -> None:
    print(f"\n== one period: {units} units × {tasks} tasks ==")
    registry = make_registry(units, tasks)
    keys = ["2022-W25", "2022-W26"]
    with open_store(root / "one.sqlite") as store:
        t = time.perf_counter()
        files = fill(store, registry, keys, units)
        print(f"{'fill store (not part of the figure)':<46} {time.perf_counter() - t:7.2f} s  {files} files")
        now = datetime(2022, 7, 4, 9, tzinfo=CST)
        t = time.perf_counter()
        consolidate(Run.open(ws, PROGRAMME, keys[0], store=store, registry=registry, now=now), out_dir=root / "w25")
        print(f"{'consolidate previous period (stores lights)':<46} {time.perf_counter() - t:7.2f} s")
        base_rss = rss_mb()

        programme = ws.programme(PROGRAMME)
        period = parse_period(keys[1], "weekly")
        t = time.perf_counter()
        result = judge(Run.open(ws, PROGRAMME, period, registry=registry, store=store, now=now))
        t_judge = time.perf_counter() - t
        t = time.perf_counter()
        summary = summarise(programme, registry, result)
        t_tables = time.perf_counter() - t
        print(f"{'  judge (store reads, period_status, lights)':<46} {t_judge:7.2f} s  {len(result.judgements)} rows")
        print(f"{'  tables (DataFrames)':<46} {t_tables:7.2f} s")

        t = time.perf_counter()
        summary = consolidate(Run.open(ws, PROGRAMME, keys[1], store=store, registry=registry, now=now), out_dir=root / "w26")
        ours = time.perf_counter() - t
        size = summary.path.stat().st_size
        print(f"{'consolidate (judge + save + tables + workbook)':<46} {ours:7.2f} s  "
              f"{size / 2**20:.1f} MiB, {len(summary.overview)} rows")
        write_only = ours - t_judge - t_tables
        print(f"{'  of which writing the workbook (approx.)':<46} {write_only:7.2f} s")
        ours_rss = rss_mb()

        frame = summary.overview
        t = time.perf_counter()
        frame.to_excel(root / "pandas.xlsx", index=False, sheet_name="总表")
        theirs = time.perf_counter() - t
        print(f"{'pandas.DataFrame.to_excel of the same 总表':<46} {theirs:7.2f} s  "
              f"{(root / 'pandas.xlsx').stat().st_size / 2**20:.1f} MiB (engine xlsxwriter {xlsxwriter.__version__})")
        print(f"consolidate is {theirs / ours:.1f}× faster than pandas.to_excel of 总表 alone "
              f"(workbook writing alone: {theirs / max(write_only, 1e-9):.1f}×)")
        print(f"peak RSS: after store fill and previous period {base_rss:.0f} MB, after consolidate {ours_rss:.0f} MB, "
              f"after pandas.to_excel {rss_mb():.0f} MB")
        print(f"target: < 20 s and ≥ 2× pandas — {'met' if ours < 20 and theirs / ours >= 2 else 'NOT met'}")


def history(ws: config.Workspace, root: Path, units: int, tasks: int, periods: int) -> None:
    print(f"\n== history: {units} units × {tasks} tasks, {periods} weekly periods ==")
    registry = make_registry(units, tasks)
    keys = week_keys("2023-W20", periods)
    now = datetime(2023, 6, 1, 9, tzinfo=CST)
    path, archive = root / "history.sqlite", root / "history-archive"  # not one.sqlite's archive
    with open_store(path, archive_dir=archive) as store:
        t = time.perf_counter()
        files = fill(store, registry, keys, units)
        print(f"{'fill store (not part of the figure)':<46} {time.perf_counter() - t:7.2f} s  {files} files")
    fresh = root / "history-nolights.sqlite"
    shutil.copy(path, fresh)  # closed, so the WAL is checkpointed into the file
    with open_store(path, archive_dir=archive) as store:
        t = time.perf_counter()
        for key in keys:
            last = consolidate(Run.open(ws, PROGRAMME, key, store=store, registry=registry, now=now), out_dir=root / "h" / key)
        total = time.perf_counter() - t
        print(f"{'consolidate every period in turn':<46} {total:7.2f} s  {total / periods:.2f} s/period, "
              f"{len(last.overview)} rows each")
        t = time.perf_counter()
        consolidate(Run.open(ws, PROGRAMME, keys[-1], store=store, registry=registry, now=now), out_dir=root / "h2")
        print(f"{'last period again (lights stored)':<46} {time.perf_counter() - t:7.2f} s")
    with open_store(fresh, archive_dir=archive) as store:
        t = time.perf_counter()
        consolidate(Run.open(ws, PROGRAMME, keys[-1], store=store, registry=registry, now=now), out_dir=root / "h3")
        print(f"{'last period, no stored lights (judged back)':<46} {time.perf_counter() - t:7.2f} s")
    print(f"peak RSS {rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--history-units", type=int, default=200)
    parser.add_argument("--periods", type=int, default=52)
    parser.add_argument("--skip-history", action="store_true")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, pandas {pd.__version__}, xlsxwriter {xlsxwriter.__version__}, "
          f"CPUs {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / config.CONFIG_NAME, root / config.CONFIG_NAME)
        ws = config.load(root)
        one_period(ws, root, args.units, args.tasks)
        if not args.skip_history:
            history(ws, root, args.history_units, args.tasks, args.periods)


if __name__ == "__main__":
    main()
