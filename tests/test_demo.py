"""`ledger demo` runs the whole cycle on the shipped sample data, into a scratch workspace."""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_progress import Recorder

from ledger import layout
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


def test_what_the_demo_prints_is_legible(demo: Demo, tmp_path: Path) -> None:
    """The demo's outputs printed through LibreOffice and measured (docs/printing.md): the 工作台账
    of the unit with most tasks, the 汇总表, the imported registry and the June bulletin keep
    their text at 9 pt or more within the paper, and print the pages their layout intends."""
    import printed

    printed.need_tools()
    scratch = _scratch(demo)
    out = scratch.paths.out / "351"
    week = sorted(p for p in out.iterdir() if p.name.startswith("2022-W"))[-1]
    with Run.open(scratch, "351", week.name) as run:
        counts = Counter(u for t in run.registry.tasks for u in dict.fromkeys(t.lead_units))
    unit = counts.most_common(1)[0][0]

    ledger = printed.pages(printed.to_pdf(week / "templates" / layout.workbook_name(week.name, unit), tmp_path / "l"))
    printed.assert_legible(ledger, "工作台账")
    sheet = [p for p in ledger if p.landscape]
    assert sheet and all(not p.landscape for p in ledger[len(sheet):])  # then the 填报说明 on portrait
    first = [p for p in sheet if p.has("本期进展情况")]  # the unit's columns, then the reference ones
    rest = [p for p in sheet if p.has("完成时限", "时间节点")]
    assert first and len(first) == len(rest) and len(first) + len(rest) == len(sheet)
    assert all(p.has("任务编号", "重点任务") and p.has(run.programme.title) for p in sheet)
    assert sheet[0].has("填报单位（盖章）", unit) and sheet[0].has("分管领导（签字）")

    summary = printed.pages(printed.to_pdf(week / "汇总表.xlsx", tmp_path / "s"))
    printed.assert_legible(summary, "汇总表")
    assert not any(p.has("判定状态") for p in summary)  # one verdict per row
    overview = [p for p in summary if p.has("工作推进情况汇总表")]
    assert overview and len([p for p in overview if p.has("判定依据")]) == len(
        [p for p in overview if p.has("存在问题及原因")]) == len(overview) // 2
    for name, last_header in (("按单位（", "报送情况"), ("滞后及逾期（", "需协调解决事项"), ("报送情况（", "说明")):
        pages = [p for p in summary if p.has(name)]
        assert pages and all(p.has(last_header) for p in pages), name  # one page wide

    registry = printed.pages(printed.to_pdf(scratch.root / "imported" / "351.xlsx", tmp_path / "r"))
    printed.assert_legible(registry, "任务清单")
    tasks = [p for p in registry if p.landscape]
    assert tasks and len([p for p in tasks if p.has("审核标记")]) == len([p for p in tasks if p.has("配合单位")])

    bulletin = out / "2022-06" / "2022年6月份考核通报.pdf"
    with Run.open_month(scratch, "351", "2022-06") as month:
        masthead = [month.programme.title, "督查通报"]
    printed.assert_gongwen(printed.pages(bulletin), masthead)


def test_demo_says_how_to_see_it_in_the_browser_and_the_page_shows_it(demo: Demo) -> None:
    from starlette.testclient import TestClient

    from ledger.reporting import period_status
    from ledger.web.app import create_app

    scratch = _scratch(demo)
    assert f"ledger --workspace {scratch.root} serve --open" in demo.output
    with Run.open(scratch, "351", "2022-W25") as run:
        on_time = sum(r.state == "on_time" for r in period_status(run))
    with TestClient(create_app(scratch.root, ["testserver"])) as client:
        home = client.get("/")
        assert "2022年第25周" in home.text
        page = client.get("/p/351/period/2022-W25")
    assert page.status_code == 200
    assert f"按时 {on_time}" in page.text and "下载汇总表" in page.text
