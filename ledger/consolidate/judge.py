"""The light of each task in one period: 序时进度, 偏差, overdue steps (docs/rules.md).

The reference day is the period's last day; 序时进度 and the steps come from
:mod:`ledger.schedule`, who reported and when from :mod:`ledger.reporting`. A step is
reached when the task is reported 已完成 or its 完成进度 reaches the step's share.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, NamedTuple

from ledger import layout
from ledger.consolidate.model import GREEN, RED, YELLOW, Judgement
from ledger.periods import Period, PeriodError, cn_date, parse_period
from ledger.registry.model import Registry, Task
from ledger.reporting import UnitStatus, period_status
from ledger.rules import LightRules
from ledger.run import Run
from ledger.schedule import Step, current_step, ongoing_now, schedule_percent, steps
from ledger.store import Entry

REASON_MAX = 30
MAX_PERIODS_BACK = 400  # how far periods_since counts back (more than seven years of weeks)
_SPACE = re.compile(r"\s+")
_ON_TRACK = (layout.ON_SCHEDULE, layout.AHEAD, layout.ONGOING)
_BEHIND = (layout.LAGGING, layout.NOT_STARTED)
_FOOT = {layout.LAGGING: "进展滞后", layout.NOT_STARTED: "仍未启动"}


@dataclass(frozen=True)
class UnitReport:
    """What one lead unit's tasks are judged on in one period.

    ``entries`` is this period's accepted report, or the last accepted one when the unit
    has none this period (``carried_from`` names that period, ``carried`` the tasks it
    covers; a current file that leaves a task out carries that task alone); ``previous``
    is the last accepted report before this period, for 照抄上期.
    """

    status: UnitStatus
    entries: Mapping[str, Entry] = field(default_factory=dict)
    carried_from: str = ""
    previous: Mapping[str, Entry] = field(default_factory=dict)
    carried: frozenset[str] = frozenset()  # task ids whose entry comes from ``carried_from``
    unreported_periods: int = 0  # periods running without an accepted report, this one included


class Prior(NamedTuple):
    """What a period needs of the last period's judgement of a task: light, status, streak."""

    light: str
    status: str
    yellow_streak: int

    @classmethod
    def of(cls, j: Judgement | Mapping[str, Any]) -> Prior:
        """From a Judgement or a stored lights row (rows from before ``yellow_streak`` count a yellow as one)."""
        if isinstance(j, Judgement):
            return cls(j.light, j.status, j.yellow_streak)
        light = j.get("light", "")
        return cls(light, j.get("status", ""), int(j.get("yellow_streak", 1 if light == YELLOW else 0)))


@dataclass
class PeriodJudgement:
    """A period's judgements with what they were made from (the summary shows both)."""

    period: Period
    judgements: list[Judgement]
    entries: list[Entry | None]  # parallel to judgements
    reports: dict[str, UnitReport]  # per lead unit, registry order
    previous: dict[tuple[str, str], Prior]  # last period's, by (task id, unit)
    previous_period: Period


def judge_task(
    task: Task,
    unit: str,
    entry: Entry | None,
    *,
    period: Period,
    issued: date,
    rules: LightRules,
    report_state: str = "on_time",
    carried_from: str = "",
    previous_entry: Entry | None = None,
    previous: Prior | Judgement | None = None,
    plan: list[Step] | None = None,
    unreported_periods: int = 1,
    past_due: bool = True,
) -> Judgement:
    """Judge one task of one lead unit (docs/rules.md, "灯号").

    *entry* is the unit's report on the task: this period's, or the last one carried over
    (*carried_from* names its period), or None when the unit never reported on it.
    *unreported_periods* counts the periods running without an accepted report, this one
    included; *past_due* is false while the period's due time has not come. *previous* is
    last period's judgement of the task, *plan* its :func:`steps` when the caller has them.
    """
    ref = period.end
    plan = steps(task) if plan is None else plan
    year = issued.year
    reported = (layout.normalise_status(entry.status) or "") if entry else ""
    if task.ongoing and reported == layout.DONE:
        reported = layout.ONGOING  # an ongoing task is never done
    percent = entry.percent if entry else None
    done = task.done or (not task.ongoing and (reported == layout.DONE or percent == 100))
    current = current_step(plan, ref)
    schedule = schedule_percent(plan, issued, ref)
    deviation = percent - schedule if percent is not None and schedule is not None else None
    overdue = False
    ongoing = ongoing_now(task, plan, ref)
    unreported = report_state not in REPORTED or bool(carried_from) or entry is None

    if done:
        status, light = layout.DONE, GREEN
        reason = "通知印发时已完成" if task.done and entry is None else "已完成"
    elif ongoing:
        status, schedule, deviation, current = layout.ONGOING, None, None, None
        light, reason = GREEN, "常态化推进"
        if reported in _BEHIND:
            light, reason = YELLOW, f"常态化任务，自报{reported}"
    else:
        missed = [s for s in plan if s.due < ref and (percent is None or percent < s.share)]
        status = _judged_status(reported, percent, deviation, rules)
        near = current is not None and 0 <= (current.due - ref).days <= rules.warn_days and (
            percent is None or percent < current.share)
        if plan and plan[-1].due < ref:
            status, light, overdue = layout.OVERDUE, RED, True
            reason = _passed(plan[-1], year, unreported)
        elif missed:
            light, overdue = RED, True
            status = layout.NOT_STARTED if status == layout.NOT_STARTED else layout.LAGGING
            reason = _passed(missed[0], year, unreported)
        elif entry is None:
            light, reason = GREEN, ""  # nothing reported: decided below
        elif deviation is not None and deviation < rules.yellow_min_deviation:
            light, reason = RED, _deviation_reason(deviation, schedule, percent)
        elif deviation is not None and deviation < rules.green_min_deviation:
            light, reason = YELLOW, _deviation_reason(deviation, schedule, percent)
        elif near and status in _BEHIND:
            light, reason = YELLOW, f"{_step_name(current, year)}临近，{_FOOT[status]}"
        elif rules.self_reported_lagging and (
                reported == layout.LAGGING or (reported == layout.NOT_STARTED and (schedule or 0) > 0)):
            light, reason = YELLOW, f"自报{reported}" + (
                "，未填完成进度" if percent is None else f"（序时{schedule}%，实际{percent}%）")
        elif deviation is not None:
            light, reason = GREEN, f"进度正常（序时{schedule}%，实际{percent}%）"
        elif status in _BEHIND:
            light, reason = YELLOW, f"自报{status}，未填完成进度"
        else:
            light, reason = GREEN, "未填完成进度" if plan else "无完成时限"

    if unreported:
        light, reason = _unreported(light, reason, overdue, entry, report_state, carried_from, period, rules,
                                    unreported_periods, past_due, percent, reported)
        status = layout.UNREPORTED  # whatever it was: overdue stays in ``overdue`` and the reason

    streak = (previous.yellow_streak if previous else 0) + 1 if light == YELLOW else 0
    if light == YELLOW and streak >= rules.red_after_yellow_periods and past_due:
        light, reason = RED, f"连续{streak}期黄灯：{reason}"

    carried = bool(carried_from)
    fresh = entry is not None and not carried
    prev_done = previous_entry is not None and not task.ongoing and (
        layout.normalise_status(previous_entry.status) == layout.DONE or previous_entry.percent == 100)
    copied = (fresh and previous_entry is not None and not (done and prev_done)
              and bool(_norm(entry.progress)) and _norm(entry.progress) == _norm(previous_entry.progress))
    early = int(fresh and done and not task.done and task.deadline is not None
                and ref < task.deadline and not prev_done)
    return Judgement(
        programme=task.programme, period=period.key, task_id=task.id, unit=unit,
        light=light, reason=clip(reason), status=status, reported_status=reported,
        percent=percent, schedule_percent=schedule, deviation=deviation, overdue=overdue,
        milestone_due=current.due if current else None,
        milestone_text=(current.text or "完成时限") if current else ("常态化推进" if ongoing else ""),
        report_state=report_state, carried=carried, copied=copied, early_milestones=early,
        progress=entry.progress if entry else "", yellow_streak=streak, carried_from=carried_from,
        unreported=unreported, unreported_periods=unreported_periods if unreported else 0,
    )


#: report states in which the unit's accepted file of the period is there
REPORTED = ("on_time", "late")
_WORSE = {GREEN: 0, YELLOW: 1, RED: 2}


def _unreported(light: str, reason: str, overdue: bool, entry: Entry | None, report_state: str,
                carried_from: str, period: Period, rules: LightRules, periods: int, past_due: bool,
                percent: int | None, reported: str) -> tuple[str, str]:
    """The light of a task its unit did not report on this period: never green (docs/rules.md).

    Yellow the first period; red from ``unreported_red_after`` periods running, when the unit
    never reported on the task, or when a step passed meanwhile (*overdue*, whose reason
    stands); the carried data's own light when it is worse. Before the due time, at most yellow.
    """
    if overdue:
        return RED, reason
    what = {"missing": "未报送", "rejected": "退回未改"}.get(report_state, "本期未报此任务")
    if not past_due and report_state == "missing":
        return YELLOW, "尚未报送（未到截止时间）"
    if entry is None:
        return (RED if rules.never_reported_red else YELLOW), f"{what}，无进展数据"
    running = f"连续{periods}期" if periods > 1 and report_state in ("missing", "rejected") else ""
    shown = f"实际{percent}%" if percent is not None else (reported or "无进度")
    said = f"{running}{what}（沿用{period_name(carried_from, period.cycle)}数据：{shown}）"
    own = RED if periods >= rules.unreported_red_after else YELLOW
    if _WORSE[light] > _WORSE[own]:
        return light, f"{said}；{reason}"
    return own, said


def _judged_status(reported: str, percent: int | None, deviation: int | None, rules: LightRules) -> str:
    """The unit's status, corrected where its own numbers contradict it."""
    behind = deviation is not None and deviation < rules.green_min_deviation
    if reported in _ON_TRACK or reported == layout.OVERDUE:
        return layout.LAGGING if behind or reported == layout.OVERDUE else (
            layout.ON_SCHEDULE if reported == layout.ONGOING else reported)
    if reported:
        return reported
    if percent is None:
        return ""
    if percent == 0:
        return layout.NOT_STARTED
    return layout.LAGGING if behind else layout.ON_SCHEDULE


def judge_units(
    registry: Registry,
    reports: Mapping[str, UnitReport],
    *,
    period: Period,
    issued: date,
    rules: LightRules,
    previous: Mapping[tuple[str, str], Prior] | None = None,
) -> tuple[list[Judgement], list[Entry | None]]:
    """Every (task, lead unit) in registry order, and the entry each was judged on."""
    previous = previous or {}
    judgements: list[Judgement] = []
    used: list[Entry | None] = []
    for task in registry.tasks:
        plan = steps(task)
        for unit in dict.fromkeys(task.lead_units):
            report = reports.get(unit)
            entry = report.entries.get(task.id) if report else None
            judgements.append(judge_task(
                task, unit, entry, period=period, issued=issued, rules=rules,
                report_state=report.status.state if report else "missing",
                carried_from=report.carried_from if report and task.id in report.carried else "",
                previous_entry=report.previous.get(task.id) if report else None,
                previous=previous.get((task.id, unit)), plan=plan,
                unreported_periods=report.unreported_periods if report else 1,
                past_due=report.status.past_due if report else True,
            ))
            used.append(entry)
    return judgements, used


def gather_reports(run: Run) -> dict[str, UnitReport]:
    """Per lead unit: report state, the entries to judge (current or carried), the last report."""
    out: dict[str, UnitReport] = {}
    store, programme_id, key = run.store, run.programme.id, run.period.key
    for st in period_status(run):
        last = store.last_accepted_before(programme_id, key, st.unit)
        previous = {e.task_id: e for e in last[1]} if last else {}
        last_key = last[0].period if last else ""
        if st.state in REPORTED and st.submission_id is not None:
            current = {e.task_id: e for e in store.entries(st.submission_id)}
            # A task missing from this period's file keeps its last accepted values.
            carried = frozenset(k for k in previous if k not in current)
            out[st.unit] = UnitReport(st, {**previous, **current}, last_key if carried else "", previous, carried,
                                      1 if carried else 0)
        else:
            out[st.unit] = UnitReport(st, previous, last_key, previous, frozenset(previous),
                                      periods_since(run.period, last_key, run.programme.issued))
    return out


def periods_since(period: Period, last_key: str, issued: date) -> int:
    """Periods from the one after *last_key* (the unit's last accepted report; "" for none) up to
    *period*, counting back no further than the notice's issue date."""
    count, p = 1, period.previous()
    while p.key != last_key and p.end >= issued and count < MAX_PERIODS_BACK:
        count += 1
        p = p.previous()
    return count


def judge(run: Run, *, depth: int | None = None) -> PeriodJudgement:
    """Judge the run's period without saving; last period's lights come from the store, or are
    judged on the fly when missing (up to ``red_after_yellow_periods`` periods back, which
    is what a yellow streak needs to escalate the same way as in a period-by-period run)."""
    rules = run.ws.lights
    depth = max(1, rules.red_after_yellow_periods) if depth is None else depth
    prev_period = run.period.previous()
    previous = _previous_judgements(run.for_period(prev_period), depth=depth)
    reports = gather_reports(run)
    judgements, used = judge_units(run.registry, reports, period=run.period, issued=run.programme.issued,
                                   rules=rules, previous=previous)
    return PeriodJudgement(run.period, judgements, used, reports, previous, prev_period)


def _previous_judgements(run: Run, *, depth: int) -> dict[tuple[str, str], Prior]:
    """The judgements of the run's period as :class:`Prior`: stored, else judged now."""
    stored = run.store.lights(run.programme.id, run.period.key)
    if stored:
        return {(r["task_id"], r["unit"]): Prior.of(r) for r in stored}
    if depth <= 0 or not run.store.current_submissions(run.programme.id, run.period.key):
        return {}
    past = judge(run, depth=depth - 1)
    return {(j.task_id, j.unit): Prior.of(j) for j in past.judgements}


def light_rows(judgements: Iterable[Judgement]) -> Iterator[dict[str, Any]]:
    """``Judgement.to_row()`` one at a time, without ``asdict``'s deep copies (50,000 rows: 6 s → 0.1 s)."""
    names = [f.name for f in fields(Judgement)]
    for j in judgements:
        row = {n: getattr(j, n) for n in names}
        row["milestone_due"] = j.milestone_due.isoformat() if j.milestone_due else None
        yield row


def judge_and_save(run: Run) -> PeriodJudgement:
    """Judge every task of every lead unit for the run's period and store the lights."""
    result = judge(run)
    run.store.save_lights(run.programme.id, run.period.key, light_rows(result.judgements))
    return result


# --- texts ------------------------------------------------------------------------------

def clip(text: str, limit: int = REASON_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signed(value: int) -> str:
    """−25 / +5 / 0 with a real minus sign, as printed in bulletins."""
    return f"−{-value}" if value < 0 else (f"+{value}" if value > 0 else "0")


def step_line(step: Step, year: int | None) -> str:
    """时间节点 as shown in the summary: 6月30日前 完成立项."""
    return f"{cn_date(step.due, year)}前 {step.text}".strip()


def period_name(key: str, cycle: str) -> str:
    """第25周 for a period key, the key itself when it cannot be read."""
    try:
        return parse_period(key, cycle).short_label()
    except PeriodError:
        return key


def _deviation_reason(deviation: int, schedule: int | None, percent: int | None) -> str:
    return f"偏差{signed(deviation)}个百分点（序时{schedule}%，实际{percent}%）"


def _step_name(step: Step | None, year: int) -> str:
    if step is None:
        return "完成时限"
    if step.final and not step.text:
        return f"完成时限{cn_date(step.due, year)}"
    return f"时间节点{cn_date(step.due, year)}"


def _passed(step: Step, year: int, unreported: bool) -> str:
    if unreported:
        return f"未报送，{_step_name(step, year)}已过"
    if step.text:
        fixed = len(f"时间节点{cn_date(step.due, year)}（）已过仍未完成")
        return f"时间节点{cn_date(step.due, year)}（{clip(step.text, max(REASON_MAX - fixed, 4))}）已过仍未完成"
    return f"{_step_name(step, year)}已过仍未完成"


def _norm(text: str | None) -> str:
    return _SPACE.sub("", text or "")


