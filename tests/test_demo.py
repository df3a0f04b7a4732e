"""`ledger demo` runs the whole cycle on the shipped sample data, into a scratch workspace."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ledger.cli import main
from ledger.config import load
from ledger.periods import periods_in_month
from ledger.resources import sample_root
from ledger.run import open_workspace_store


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_runs_the_month_in_a_new_workspace(tmp_path: Path, monkeypatch) -> None:
    """From a subfolder of a workspace just made by `ledger init`: the demo brings its own sample."""
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    before = files(root)
    sample_before = files(sample_root() / "source_data")
    (root / "out" / "2024-03").mkdir(parents=True)
    monkeypatch.delenv("LEDGER_WORKSPACE", raising=False)
    monkeypatch.chdir(root / "out" / "2024-03")
    res = CliRunner().invoke(main, ["demo"])
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
    # The workspace the demo was started from and the shipped sample are untouched.
    assert {k: v for k, v in files(root).items() if not k.startswith("out")} == before
    assert files(sample_root() / "source_data") == sample_before
