"""序时进度: how far along a task should be on a given day (docs/rules.md, "序时进度").

A task's dated steps (its milestones and its deadline) split it into equal shares: after
the first of three steps a third of the task should be done. 序时进度 runs from the
previous step's date (the notice's issue date for the first step) to the current step,
mapped into that step's share, so that a unit's whole-task 完成进度 can be compared with
it; with one step (the deadline) it is the plain elapsed share from the issue date to
the deadline. Generate prints it in the workbook, consolidate judges against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.periods import cn_date
from ledger.registry.model import Task


@dataclass(frozen=True)
class Step:
    """A dated step of a task: a milestone, or the final deadline (``final``)."""

    due: date
    text: str
    share: int  # whole-task 完成进度 expected by this date
    final: bool


def steps(task: Task) -> list[Step]:
    """The task's milestones and deadline in date order, each with its share."""
    dated = {m.due: m.text for m in sorted(task.milestones)}
    if task.deadline and task.deadline not in dated and (not dated or task.deadline > max(dated)):
        dated[task.deadline] = ""
    days = sorted(dated)
    n = len(days)
    return [Step(d, dated[d].strip(), round_half_up(100 * (i + 1) / n), i == n - 1) for i, d in enumerate(days)]


def schedule_percent(plan: list[Step], issued: date, ref: date) -> int | None:
    """序时进度 at *ref*: the elapsed share of the current step, mapped into its share."""
    if not plan:
        return None
    start, low, n = issued, 0.0, len(plan)
    for i, step in enumerate(plan):
        high = 100 * (i + 1) / n
        if ref <= step.due:
            span = (step.due - start).days
            part = 1.0 if span <= 0 else min(max((ref - start).days / span, 0.0), 1.0)
            return round_half_up(low + part * (high - low))
        start, low = step.due, high
    return 100


def current_step(plan: list[Step], ref: date) -> Step | None:
    """The step a task is working towards on *ref*: the first due on or after it, else the last."""
    upcoming = [s for s in plan if s.due >= ref]
    return upcoming[0] if upcoming else (plan[-1] if plan else None)


def round_half_up(x: float) -> int:
    """Half up, not banker's rounding: 26.5 → 27."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def ongoing_now(task: Task, plan: list[Step], ref: date) -> bool:
    """Whether *task* is in its ongoing (常态化) phase on *ref*: an ongoing task past its first
    dated step, or one without any."""
    return task.ongoing and not task.done and (not plan or plan[0].due < ref)


def schedule_text(task: Task, issued: date, ref: date, ref_year: int | None = None) -> str:
    """序时进度 as the workbook shows it on *ref*: "35%" and the share due by the current step
    ("6月30日前应达33%"), 常态化 for an ongoing task, 已完成 for one done at the notice."""
    plan = steps(task)
    if task.done:
        return "已完成"
    if ongoing_now(task, plan, ref):
        return "常态化"
    if not plan:
        return "—"
    percent = schedule_percent(plan, issued, ref)
    step = current_step(plan, ref)
    assert step is not None
    if step.due < ref:
        return f"{percent}%\n已过完成时限"
    return f"{percent}%\n{cn_date(step.due, ref_year)}前应达{step.share}%"
