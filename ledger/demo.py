"""``ledger demo``: the cycle on the shipped sample data, in a scratch workspace.

The demo copies the sample workspace that ships with ledger (ledger.toml, units directory,
reviewed registries, sample notices; see :func:`ledger.resources.sample_root`) into the
current workspace's ``out/demo/`` and works only there, so it runs the same in this
repository and in a workspace just made by ``ledger init``, and touches no one's
``source_data/``.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ledger import config
from ledger.problems import Problem
from ledger.progress import QUIET, Progress
from ledger.resources import sample_root
from ledger.run import Run

DEMO_PROGRAMME = "351"
DEMO_MONTH = (2022, 6)
NOTICES = {
    "351": "351_洛城提办文2022-11号.txt",
    "pingtai": "pingtai_洛政2022-17号.txt",
    "yanshi": "yanshi_偃政2023-6号.txt",
    "luoning": "luoning_任务分解表.xlsx",
}


@dataclass
class DemoStep:
    """One thing the demo did, for the summary."""

    title: str
    lines: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def prepare(sample: Path, target: Path) -> config.Workspace:
    """Make a fresh scratch workspace at *target* from the sample workspace at *sample*."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(sample / config.CONFIG_NAME, target / config.CONFIG_NAME)
    shutil.copytree(sample / "source_data", target / "source_data",
                    ignore=shutil.ignore_patterns("*.bak.xlsx", "~$*", ".~lock*"))
    return config.load(target)


def run_demo(target: Path, sample: Path | None = None, progress: Progress = QUIET) -> tuple[config.Workspace, list[DemoStep]]:
    """Run every stage available on the sample data in a scratch workspace at *target*;
    return that workspace and the steps. *progress* is told of each stage as it is done."""
    from ledger.periods import periods_in_month
    from ledger.registry.api import check, import_registry

    ws = prepare(sample or sample_root(), target)
    steps: list[DemoStep] = []
    periods = periods_in_month(*DEMO_MONTH, ws.programme(DEMO_PROGRAMME).reporting.cycle)
    progress.start(len(NOTICES) + 1 + len(PERIOD_STAGES) * len(periods) + 1, "步骤")

    step = DemoStep("从通知导入任务清单")
    for pid, name in NOTICES.items():
        notice = ws.paths.source_data / "notices" / name
        outcome = import_registry(ws, [notice], pid, output=ws.root / "imported" / f"{pid}.xlsx")
        reg = outcome.result.registry
        errors = sum(p.is_error for p in outcome.result.problems)
        step.lines.append(
            f"{pid}：{name} → {len(reg.tasks)} 项任务，{len(reg.lead_units())} 个牵头单位，待审核 {len(outcome.result.problems)} 处（错误 {errors}）"
        )
        step.paths.append(outcome.path)
        progress.advance(f"导入 {name}")
    steps.append(step)

    step = DemoStep("检查已审核的任务清单（source_data）")
    for pid, problems in check(ws).items():
        errors = sum(p.is_error for p in problems)
        step.lines.append(f"{pid}：错误 {errors} 个，提示 {len(problems) - errors} 个")
        step.problems.extend(p for p in problems if p.is_error)
    steps.append(step)
    progress.advance("检查任务清单")
    steps.extend(run_month(ws, DEMO_PROGRAMME, *DEMO_MONTH, progress=progress))
    return ws, steps


#: what run_month tells its progress of, for each period
PERIOD_STAGES = ("生成台账", "收取登记", "汇总")


def run_month(ws: config.Workspace, programme_id: str, year: int, month: int,
              progress: Progress = QUIET) -> list[DemoStep]:
    """Each period of the month: generate, draft mails, simulated replies, collect, status;
    then the month's scores and bulletin."""
    from ledger.collect.api import collect
    from ledger.collect.receipts import write_receipts
    from ledger.consolidate.api import consolidate
    from ledger.consolidate.model import LIGHT_NAMES, LIGHTS
    from ledger.generate import generate
    from ledger.generate.prefill import previous_from_store
    from ledger.mail import DRAFT_HOUR, reminder_reasons, write_drafts, write_reminders
    from ledger.mail.replies import write_replies
    from ledger.periods import CHINA, periods_in_month
    from ledger.registry.addresses import PLACEHOLDER_EMAIL
    from ledger.reporting import OUTCOME_NAMES, STATE_NAMES, due_for, period_status
    from ledger.simulate import simulate_inbox

    cycle = ws.programme(programme_id).reporting.cycle
    steps = []
    with Run.open_month(ws, programme_id, f"{year}-{month:02d}", now=datetime(year, month, 1)) as base:
        for period in periods_in_month(year, month, cycle):
            run = base.for_period(period)
            programme, registry = run.programme, run.registry
            step = DemoStep(f"{programme_id} {period.label()}：生成台账、发通知、收取、登记")
            made = generate(run, previous_for=previous_from_store(run))
            progress.advance(f"{period.label()} {PERIOD_STAGES[0]}")
            templates = {g.unit: g.path for g in made}
            run.now = datetime.combine(period.start, DRAFT_HOUR, tzinfo=CHINA)  # Monday morning: the mails go out
            drafts, problems = write_drafts(run, templates)
            # the sample's addresses are all placeholders (u0001@example.org): said once, not per draft
            placeholders = sum(p.code == PLACEHOLDER_EMAIL.code for p in problems)
            step.problems.extend(p for p in problems if p.code != PLACEHOLDER_EMAIL.code)
            step.lines.append(f"生成工作台账 {len(made)} 个、通知邮件草稿 {len(drafts)} 封"
                              + (f"（其中 {placeholders} 封的收件地址是示例数据的占位地址 example.org，不会送达）"
                                 if placeholders else ""))
            due = {u: due_for(programme, registry, u, period) for u in templates}
            inbox = run.out_dir() / "inbox"
            simulate_inbox(templates, registry, period, due, programme.issued, inbox)
            run.now = max(due.values()) + timedelta(days=1)
            result = collect(run, [inbox])
            write_replies(run, write_receipts(run, result))
            progress.advance(f"{period.label()} {PERIOD_STAGES[1]}")
            outcomes = Counter(f.outcome for f in result.files)
            step.lines.append("收取文件 " + "，".join(f"{OUTCOME_NAMES[k]} {v}" for k, v in sorted(outcomes.items())))
            rows = period_status(run)
            states = Counter(r.state for r in rows)
            step.lines.append("报送情况：" + "，".join(f"{STATE_NAMES[s]} {states.get(s, 0)}" for s in STATE_NAMES))
            reminders, problems = write_reminders(run, reminder_reasons(run, rows))
            step.lines.append(f"催报邮件草稿 {len(reminders)} 封")
            summary = consolidate(run)
            progress.advance(f"{period.label()} {PERIOD_STAGES[2]}")
            lights = Counter(j.light for j in summary.judgements)
            step.lines.append("汇总：" + "，".join(f"{LIGHT_NAMES[k]} {lights.get(k, 0)}" for k in LIGHTS))
            step.paths.extend([made[0].path.parent, drafts[0].path.parent if drafts else inbox,
                               run.out_dir() / "receipts", summary.path])
            steps.append(step)
        steps.append(_assess_month(base))
        progress.advance("月度考核与通报")
    return steps


def _assess_month(base: Run) -> DemoStep:
    """Scores, ranking and the bulletin for the month, dated the first working day after it."""
    from ledger.assess import assess, write_bulletin
    from ledger.periods import shift_off_holiday

    run = base
    step = DemoStep(f"{run.programme.id} {run.period.key} 月度考核与通报")
    result = assess(run)
    top = "、".join(f"{s.unit}（{s.total:g}分）" for s in result.scores[:3])
    step.lines.append(f"{len(result.scores)} 个牵头单位打分；前三名：{top}")
    issued = shift_off_holiday(result.month.end + timedelta(days=1), "after")
    files = write_bulletin(run, issued=issued)
    step.lines.append(f"第 {files.number} 期考核通报，成文日期 {issued.year}年{issued.month}月{issued.day}日")
    step.lines.extend(f"[提示] {w}" for w in files.warnings)
    step.paths.extend(p for p in (result.xlsx, files.docx, files.html, files.pdf, files.chart) if p)
    return step
