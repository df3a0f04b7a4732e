"""`ledger demo` runs the whole cycle on the shipped sample data, into a scratch workspace."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_progress import Recorder

from ledger.cli import main
from ledger.commands import start
from ledger.config import Workspace, load
from ledger.periods import periods_in_month
from ledger.resources import sample_root
from ledger.run import Run, open_workspace_store


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass
class Demo:
    """The demo run once: the workspace it started from, that workspace's and the sample's
    files before, and what it printed."""

    root: Path
    before: dict[str, bytes]
    sample_before: dict[str, bytes]
    output: str
    progress: Recorder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """From a subfolder of a workspace just made by `ledger init`: the demo brings its own sample."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    before, sample_before = files(root), files(sample_root() / "source_data")
    (root / "out" / "2024-03").mkdir(parents=True)
    progress = Recorder()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("LEDGER_WORKSPACE", raising=False)
        mp.chdir(root / "out" / "2024-03")
        mp.setattr(start, "on_terminal", lambda label, **kw: nullcontext(progress))  # as on a terminal
        res = CliRunner().invoke(main, ["demo"])
    assert res.exit_code == 0, res.output
    return Demo(root, before, sample_before, res.output, progress)


def _scratch(demo: Demo) -> Workspace:
    return load(demo.root / "out" / "demo")


def test_demo_tells_its_progress_stage_by_stage(demo: Demo) -> None:
    """`ledger demo` used to be silent for 15-20 s: now each stage is told as it is done, and
    the total it announced is what it did."""
    done = demo.progress
    assert demo.progress.what == "步骤" and done.total == done.count == len(done.done) > 10
    assert done.done[-1][0] == "月度考核与通报"
    assert sum(name.endswith("收取登记") for name, _ in done.done) == len(periods_in_month(2022, 6, "weekly"))


def test_demo_runs_the_month_in_a_new_workspace(demo: Demo) -> None:
    scratch = _scratch(demo)
    weeks = periods_in_month(2022, 6, "weekly")
    assert [p.key for p in weeks] == ["2022-W22", "2022-W23", "2022-W24", "2022-W25"]
    with open_workspace_store(scratch) as store:
        for period in weeks:
            current = store.current_submissions("351", period.key)
            accepted = [s for s in current if s.outcome == "accepted"]
            assert 15 <= len(accepted) <= 25, period.key
            templates = list((scratch.out_dir("351", period.key) / "templates").glob("*.xlsx"))
            assert len(templates) == 25
            assert len(list((scratch.out_dir("351", period.key) / "receipts").glob("*_回执.txt"))) >= len(current)
        # Some units sign under the table: a warning in their receipt, the report accepted.
        signed = [s for period in weeks for s in store.current_submissions("351", period.key)
                  if any(p.code == "note-below-table" for p in s.problems)]
    assert signed and all(s.outcome == "accepted" for s in signed)
    for period in weeks:
        assert period.label() in demo.output
    # The workspace the demo was started from and the shipped sample are untouched.
    assert {k: v for k, v in files(demo.root).items() if not k.startswith("out")} == demo.before
    assert files(sample_root() / "source_data") == demo.sample_before


def test_demo_bulletin_tells_the_truth(demo: Demo) -> None:
    """The demo's June: no unit without an accepted report has a green row, and the praised units
    reported every week on time (docs/rules.md)."""
    from ledger.assess import assess
    from ledger.assess.score import praised

    with Run.open_month(_scratch(demo), "351", "2022-06") as run:
        assessment = assess(run)
    unreported = [j for _, rows in assessment.judgements for j in rows if j.report_state in ("missing", "rejected")]
    assert unreported and all(j.light != "green" for j in unreported)
    praise = praised(assessment.scores, assessment.rules)
    assert praise and all(s.reports == {"on_time": len(assessment.periods)} for s in praise)
    assert all(s.grade == "一般" for s in assessment.scores if s.reported == 0)
    assert all(s.grade != "优秀" for s in assessment.scores if s.unreported)
