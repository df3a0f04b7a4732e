"""Benchmark ``ledger generate``: prints figures, asserts nothing.

1,000 lead units × 50 tasks: ``build_workbook`` in memory against a bare xlsxwriter
loop writing the same cells without formats, validations or metadata (the floor),
then ``generate`` writing files with jobs=1 and jobs=2. Target: ≥ 50 workbooks/s on
one core. Run: ``.venv/bin/python bench/bench_generate.py [--units N] [--tasks M]``.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import xlsxwriter

from ledger import config, layout
from ledger.generate import XLSX_OPTIONS, build_workbook, generate, index_registry
from ledger.layout import task_cells
from ledger.periods import parse_period
from ledger.registry.model import Milestone, ProgrammeInfo, Registry, Task
from ledger.run import Run
from ledger.secret import workspace_key

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "351"
PERIOD = "2022-W23"
TEXT = "推进机场综合保障能力提升项目建设，完成航站楼改扩建工程立项、可研批复、招投标和开工建设等工作，确保年底前形成实物工作量。"


def make_registry(units: int, tasks: int) -> Registry:
    """*units* lead units with *tasks* tasks each; every fifth task has three milestones."""
    info = ProgrammeInfo(PROGRAMME, "城市提质", "洛城提办文〔2022〕11号", "领导小组办公室", date(2022, 5, 7))
    out = []
    for u in range(units):
        lead = f"测试单位{u:04d}"
        for k in range(tasks):
            milestones = []
            if k % 5 == 0:
                milestones = [Milestone(date(2022, 6, 10), "完成立项"), Milestone(date(2022, 9, 30), "完成招投标"),
                              Milestone(date(2022, 12, 31), "开工建设")]
            out.append(Task(
                id=f"{PROGRAMME}-A{u % 6 + 1}-{u:04d}-{k:02d}", programme=PROGRAMME, path=["交通枢纽建设工程"],
                text=TEXT, lead_units=[lead], cooperating_units=["市财政局", "市发展和改革委员会"],
                responsible_units=["各县区政府"], leaders=["张明"] if k % 3 == 0 else [],
                deadline_text="2022年12月底前", deadline=date(2022, 12, 31), milestones=milestones,
            ))
    return Registry(info, out)


def bare_workbook(columns, tasks, ref_year: int) -> bytes:
    """The same header and cell values, no formats, validations, protection or metadata."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, XLSX_OPTIONS)
    sheet = wb.add_worksheet(layout.LEDGER_SHEET)
    for c, col in enumerate(columns):
        sheet.write_string(layout.HEADER_ROW, c, col.header)
    for n, task in enumerate(tasks):
        r = layout.FIRST_TASK_ROW + n
        cells = task_cells(task, ref_year, None)
        sheet.write_number(r, 0, n + 1)
        for c, col in enumerate(columns[1:], start=1):
            value = cells.get(col.key)
            if value:
                sheet.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def rate(label: str, count: int, seconds: float) -> float:
    per_s = count / seconds
    print(f"{label:<44} {count:>5} 个  {seconds:7.2f} s  {per_s:7.1f} 个/s  {seconds / count * 1000:6.1f} ms/个")
    return per_s


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, xlsxwriter {xlsxwriter.__version__}, CPUs {os.cpu_count()}")
    print(f"{args.units} units × {args.tasks} tasks")

    t = time.perf_counter()
    registry = make_registry(args.units, args.tasks)
    print(f"{'make registry':<44} {time.perf_counter() - t:7.2f} s")
    t = time.perf_counter()
    index = index_registry(registry)
    print(f"{'index_registry (content hash, grouping)':<44} {time.perf_counter() - t:7.2f} s")

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / config.CONFIG_NAME, root / config.CONFIG_NAME)
        ws = config.load(root)
        programme = ws.programme(PROGRAMME)
        period = parse_period(PERIOD, programme.reporting.cycle)
        units = list(index.tasks_by_unit)

        t = time.perf_counter()
        sizes = [len(bare_workbook(index.columns, index.tasks_by_unit[u], 2022)) for u in units]
        base = rate("baseline: bare xlsxwriter, same cells", len(units), time.perf_counter() - t)
        print(f"{'':<44} mean size {sum(sizes) / len(sizes) / 1024:.1f} KiB")

        t = time.perf_counter()
        key = workspace_key(root)
        sizes = [len(build_workbook(registry, programme, period, u, index=index, key=key)) for u in units]
        full = rate("build_workbook, in memory, 1 core", len(units), time.perf_counter() - t)
        print(f"{'':<44} mean size {sum(sizes) / len(sizes) / 1024:.1f} KiB; "
              f"{full / base:.0%} of the baseline rate")

        for jobs in (1, 2):
            out = root / f"jobs{jobs}"
            t = time.perf_counter()
            results = generate(Run.open(ws, PROGRAMME, PERIOD, registry=registry), out_dir=out, jobs=jobs)
            rate(f"generate jobs={jobs} (incl. index, atomic writes)", len(results), time.perf_counter() - t)

    print(f"peak RSS: this process {peak_rss_mb(resource.RUSAGE_SELF):.0f} MB, "
          f"largest worker {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    print(f"target ≥ 50 workbooks/s on one core: build_workbook {full:.1f}/s")


if __name__ == "__main__":
    main()
