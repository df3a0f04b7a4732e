"""The benchmark scripts run end to end on a tiny input, so that they cannot rot unnoticed
(a moved import once broke bench_collect.py). Figures are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

CASES = {
    "bench_generate.py": (["--units", "4", "--tasks", "3"], "build_workbook"),
    "bench_collect.py": (["--units", "4", "--tasks", "3"], "faster than the baseline"),
    "bench_consolidate.py": (["--units", "4", "--tasks", "3", "--history-units", "3", "--periods", "2"],
                             "peak RSS"),
    "bench_hostile.py": (["--files", "2", "--entries", "500", "--archive", "100", "--bomb-mib", "110",
                          "--mail-parts", "1000"], "collected alone"),
    "bench_web.py": (["--units", "4", "--tasks", "3", "--files", "3", "--repeat", "1", "--link-units", "4"],
                     "p95"),
    "bench_cli.py": (["--units", "4", "--tasks", "3", "--rounds", "1"], "min / median / max"),
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_on_a_tiny_input(script: str, tmp_path: Path) -> None:
    args, expected = CASES[script]
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout
    assert "WARNING" not in done.stdout  # e.g. collect did not accept every generated file
