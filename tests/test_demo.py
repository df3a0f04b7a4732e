"""`ledger demo` runs the whole cycle on the shipped sample data, into a scratch workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from ledger.cli import main
from ledger.config import load
from ledger.periods import periods_in_month
from ledger.run import open_workspace_store

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_the_month(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy(REPO / "ledger.toml", root / "ledger.toml")
    shutil.copytree(REPO / "source_data", root / "source_data")
    before = sorted(p.read_bytes() for p in (root / "source_data").rglob("*") if p.is_file())
    res = CliRunner().invoke(main, ["-w", str(root), "demo"])
    assert res.exit_code == 0, res.output
    demo = load(root / "out" / "demo")
    weeks = periods_in_month(2022, 6, "weekly")
    assert [p.key for p in weeks] == ["2022-W22", "2022-W23", "2022-W24", "2022-W25"]
    with open_workspace_store(demo) as store:
        for period in weeks:
            current = store.current_submissions("351", period.key)
            accepted = [s for s in current if s.outcome == "accepted"]
            assert 15 <= len(accepted) <= 25, period.key
            templates = list((demo.out_dir("351", period.key) / "templates").glob("*.xlsx"))
            assert len(templates) == 25
            assert len(list((demo.out_dir("351", period.key) / "receipts").glob("*_回执.txt"))) >= len(current)
    # Some units sign under the table: a warning in their receipt, the report accepted.
    with open_workspace_store(demo) as store:
        signed = [s for period in weeks for s in store.current_submissions("351", period.key)
                  if any(p.code == "note-below-table" for p in s.problems)]
    assert signed and all(s.outcome == "accepted" for s in signed)
    for period in weeks:
        assert period.label() in res.output
    # The reviewed registries of the workspace the demo was started from are untouched.
    assert sorted(p.read_bytes() for p in (root / "source_data").rglob("*") if p.is_file()) == before
