"""Every number and name of the monthly bulletin, computed from an :class:`Assessment`.

The result is plain data (strings, numbers, lists, dicts) shared by the Word template
and the HTML preview, so both show the same figures. Prose stays in the templates;
only lists of names and variable phrases are joined here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger import layout
from ledger.assess.api import Assessment
from ledger.assess.docx_layout import text_width
from ledger.assess.score import GRADES, UnitScore, fmt_points, report_state
from ledger.cnum import cn_numeral
from ledger.config import Programme
from ledger.consolidate.model import GREEN, LIGHT_FILLS, LIGHT_NAMES, RED, YELLOW, Judgement
from ledger.due import rule_text
from ledger.periods import CYCLE_NAMES, Period, cn_date
from ledger.registry.model import Registry, Task
from ledger.rules import ScoringRules

# Status buckets of 一、总体情况 (docs/rules.md, the statuses of ledger.layout).
BUCKETS = (
    ("done", "已完成", (layout.DONE,)),
    ("on_track", "按序时推进", (layout.AHEAD, layout.ON_SCHEDULE, layout.ONGOING)),
    ("lagging", "进展滞后", (layout.LAGGING, layout.OVERDUE)),
    ("not_started", "未启动", (layout.NOT_STARTED,)),
)
LIGHT_ORDER = {GREEN: 0, YELLOW: 1, RED: 2}
TITLE_LINE_CHARS = 20  # 2号 characters on a 156 mm line (GB/T 9704: 28 × 3号)
DOC_WORDS = ("方案", "措施", "意见", "通知", "办法", "计划", "规划", "要点", "报告", "清单")
SHORT_TEXT = 40
DETAIL_TEXT = 36
MIN_CLAUSE = 6  # a first clause shorter than this runs on to the next
MASTHEAD_LINE_CHARS = 15.5  # characters of a 28 pt masthead on a 156 mm line
NONE_TEXT = "无"
MINUS = "−"  # U+2212, as printed
RECOVERED_SHOWN = 5  # task numbers named in the text; more are "等"


@dataclass(frozen=True)
class TaskState:
    """A task's state at the end of the month: its worst lead unit's judgement."""

    task_id: str
    judgement: Judgement
    units: list[str]


def percent_text(part: int, whole: int) -> str:
    """Share as 33.3% / 50% (one decimal at most)."""
    if not whole:
        return "0%"
    return f"{fmt_points(round(100 * part / whole, 1))}%"


def balanced_lines(text: str, limit: float = TITLE_LINE_CHARS) -> list[str]:
    """Split a title into lines of similar width, none wider than *limit* (GB/T 9704 asks
    multi-line titles to be balanced); never inside a run of digits or after an opening quote."""
    total = text_width(text)
    count = max(1, math.ceil(total / limit))
    if count == 1:
        return [text]
    target = total / count
    lines, line, width = [], "", 0.0
    for i, ch in enumerate(text):
        line += ch
        width += text_width(ch)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        splittable = not (ch.isdigit() and nxt.isdigit()) and ch not in "“《（" and nxt not in "”》）、，。"
        if len(lines) < count - 1 and splittable and nxt and width >= target - 0.5:
            lines.append(line)
            line, width = "", 0.0
    lines.append(line)
    return lines


def masthead_lines(masthead: str, programme_title: str) -> list[str]:
    """The 版头 on one line when it fits at a masthead size, else the programme's name over 督查通报."""
    if text_width(masthead) <= MASTHEAD_LINE_CHARS:
        return [masthead]
    return [programme_title, masthead[len(programme_title):]] if masthead.startswith(programme_title) else [masthead]


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """A task's text cut to its first clause of some length, at most *limit* characters,
    never leaving a bracket or quote open."""
    text = text.strip()
    cut = len(text)
    for i, ch in enumerate(text):
        if ch in "，。；;：:" and i >= MIN_CLAUSE and _balanced(text[:i]):
            cut = i
            break
    short = text[:cut].rstrip("。；;，")
    if len(short) <= limit:
        return short
    short = short[: limit - 1]
    while short and not _balanced(short):
        short = short[:-1]
    return short.rstrip("，、") + "……"


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) for a, b in ("“”", "《》", "（）", "()", "【】"))


def notice_name(programme: Programme) -> str:
    """《…》 name of the notice: the programme title, + 实施方案 unless it already names a document."""
    title = programme.title
    return title if title.endswith(DOC_WORDS) else f"{title}实施方案"


def deadline_text(task: Task | None) -> str:
    """完成时限 as the workbook shows it, without a final 。 (— when there is none)."""
    return (layout.deadline_text(task).rstrip("。") or "—") if task is not None else "—"


def task_states(rows: Sequence[Judgement], registry: Registry) -> list[TaskState]:
    """One state per task (worst light among its lead units), in registry order."""
    grouped: dict[str, list[Judgement]] = {}
    for j in rows:
        grouped.setdefault(j.task_id, []).append(j)
    order = {t.id: i for i, t in enumerate(registry.tasks)}
    states = []
    for task_id, js in grouped.items():
        worst = max(js, key=lambda j: LIGHT_ORDER.get(j.light, 0))
        units = [j.unit for j in js if j.light == worst.light]
        states.append(TaskState(task_id, worst, units))
    states.sort(key=lambda s: (order.get(s.task_id, len(order)), s.task_id))
    return states


def bulletin_context(
    assessment: Assessment,
    programme: Programme,
    registry: Registry,
    *,
    number: int,
    issued: date,
) -> dict[str, Any]:
    """The data of one bulletin; see templates/bulletin.docx and bulletin.html.j2."""
    month = assessment.month
    last_period, last_rows = assessment.judgements[-1]
    tasks = {t.id: t for t in registry.tasks}
    states = task_states(last_rows, registry)
    month_label = f"{month.label()}份"
    office = programme.reporting.office or programme.issuer
    ctx: dict[str, Any] = {
        "programme_title": programme.title,
        "masthead": f"{programme.title}督查通报",
        "issue_no": number,
        "office": office,
        "issuer": programme.issuer,
        "issue_date": cn_date(issued),
        "month_label": month_label,
        "title": f"关于{programme.title}{month_label}工作推进情况的通报",
        "addressees": "各牵头单位",
        "notice_name": notice_name(programme),
        "doc_number": programme.doc_number,
        "cadence_phrase": cadence_phrase(programme),
        "as_of": as_of(last_period),
        "as_of_date": cn_date(last_period.workdays[1]),
        "due_text": due_text(programme),
    }
    ctx["title_lines"] = balanced_lines(ctx["title"])
    ctx["masthead_lines"] = masthead_lines(ctx["masthead"], programme.title)
    ctx["overview"] = overview(states, assessment)
    honour, shame = boards(assessment.scores, assessment.rules)
    ctx["honour_units"] = [unit_praise(s, assessment, i) for i, s in enumerate(honour, 1)]
    ctx["shame_units"] = [{"unit": s.unit, "total": fmt_points(s.total), "grade": s.grade} for s in shame]
    ctx["honour_board"] = board_text(honour)
    ctx["shame_board"] = board_text(shame)
    ctx["lagging"] = lagging(states, tasks)
    ctx["yellow_count"] = sum(1 for s in states if s.judgement.light == YELLOW)
    ctx["reporting"] = reporting(assessment)
    ctx["scoring"] = scoring_summary(assessment)
    ctx["ranking"] = [ranking_row(s) for s in assessment.scores]
    ctx["detail"] = detail_rows(last_rows, registry)
    ctx["attachments"] = [f"{month_label}考核得分及排名表", f"{month_label}任务进展亮灯明细表"]
    ctx["first_attachment"], ctx["more_attachments"] = ctx["attachments"][0], [
        {"no": i, "name": name} for i, name in enumerate(ctx["attachments"][1:], start=2)
    ]
    ctx["copy_to"] = "领导小组组长、副组长，领导小组各成员单位"
    ctx["chart_units"] = chart_rows(last_rows)
    ctx["chart_title"] = f"各牵头单位任务亮灯情况（截至{ctx['as_of_date']}）"
    return ctx


def as_of(period: Period) -> str:
    """截至2022年6月24日（第25周）: the period's last working day (its report's week)."""
    day = cn_date(period.workdays[1])
    return f"{day}（{period.short_label()}）" if period.cycle == "weekly" else day


def cadence_phrase(programme: Programme) -> str:
    """周督导检查、月考核通报 from the reporting cycle and bulletin cadence."""
    cycle = CYCLE_NAMES.get(programme.reporting.cycle, "月")
    bulletin = CYCLE_NAMES.get(programme.reporting.bulletin, "月")
    return f"{cycle}督导检查、{bulletin}考核通报"


def due_text(programme: Programme) -> str:
    """每周五16时 / 每月25日17时 …: when ledgers are due, from the rule of ledger.toml (annexes
    whose rule differs are named: 每周五16时（附件2、4为每周五18时））."""
    main = rule_text(programme.reporting)
    others: dict[str, list[str]] = {}
    for key, reporting in programme.annexes.items():
        text = rule_text(reporting)
        if text != main:
            others.setdefault(text, []).append(key.removeprefix("A"))
    if not others:
        return main
    return main + "（" + "；".join(f"附件{'、'.join(keys)}为{text}" for text, keys in others.items()) + "）"


def overview(states: list[TaskState], assessment: Assessment) -> dict[str, Any]:
    total = len(states)
    out: dict[str, Any] = {"total": total}
    known: set[str] = set()
    for key, _name, statuses in BUCKETS:
        count = sum(1 for s in states if s.judgement.status in statuses)
        known.update(statuses)
        out[key] = {"count": count, "share": percent_text(count, total)}
    unknown = sum(1 for s in states if s.judgement.status not in known)
    out["unknown"] = {"count": unknown, "share": percent_text(unknown, total)}
    out["overdue"] = sum(1 for s in states if s.judgement.overdue or s.judgement.status == layout.OVERDUE)
    for light in (GREEN, YELLOW, RED):
        count = sum(1 for s in states if s.judgement.light == light)
        out[light] = {"count": count, "share": percent_text(count, total)}
    out["recovered"] = recovered(assessment, states)
    out["recovered_count"] = len(out["recovered"])
    shown = out["recovered"][:RECOVERED_SHOWN]
    more = "等" if len(out["recovered"]) > len(shown) else ""
    out["recovered_text"] = "、".join(shown) + more
    return out


def recovered(assessment: Assessment, states: list[TaskState]) -> list[str]:
    """Tasks red in an earlier period of the month and no longer red at its end."""
    was_red = {j.task_id for _, rows in assessment.judgements[:-1] for j in rows if j.light == RED}
    return [s.task_id for s in states if s.task_id in was_red and s.judgement.light != RED]


def boards(scores: list[UnitScore], rules: ScoringRules) -> tuple[list[UnitScore], list[UnitScore]]:
    """红榜: rank within the first ``honour_size`` (ties kept together) and at least 良好.
    黑榜: the ``shame_size`` lowest of the other units that lost points (ties kept together)."""
    honour = [s for s in scores if s.rank <= rules.honour_size and s.total >= rules.good]
    rest = [s for s in scores if s not in honour and s.total < s.start]
    shame = [s for s in rest if sum(1 for o in rest if o.total < s.total) < rules.shame_size]
    shame.sort(key=lambda s: (s.total, -s.rank))
    return honour, shame


def board_text(scores: list[UnitScore]) -> str:
    return "、".join(f"{s.unit}（{fmt_points(s.total)}分）" for s in scores) or NONE_TEXT


def unit_praise(score: UnitScore, assessment: Assessment, index: int) -> dict[str, Any]:
    """Facts behind one unit's praise: reports, task states at the end of the month, early milestones."""
    last_rows = [j for j in assessment.judgements[-1][1] if j.unit == score.unit]
    counts = {key: sum(1 for j in last_rows if j.status in statuses) for key, _, statuses in BUCKETS}
    parts = [f"{name}{counts[key]}项" for key, name, _ in BUCKETS if counts[key]]
    on_time = score.reports.get("on_time", 0)
    periods = sum(score.reports.values())
    report = f"按时报送台账{on_time}期" if on_time == periods else f"按时报送台账{on_time}期（共{periods}期）"
    early = sum(j.early_milestones for _, rows in assessment.judgements for j in rows if j.unit == score.unit)
    return {
        "ordinal": f"（{cn_numeral(index)}）", "unit": score.unit, "report_text": report,
        "tasks": len(last_rows), "progress_text": "、".join(parts) or "均在推进中", "early": early,
        "total": fmt_points(score.total), "grade": score.grade,
    }


def lagging(states: list[TaskState], tasks: dict[str, Task]) -> list[dict[str, Any]]:
    """Red tasks at the end of the month, with lead unit, deadline and reason."""
    out = []
    for s in (s for s in states if s.judgement.light == RED):
        j = s.judgement
        task = tasks.get(s.task_id)
        facts = []
        if j.percent is not None:
            facts.append(f"完成进度{j.percent}%")
        if j.schedule_percent is not None:
            facts.append(f"序时进度{j.schedule_percent}%")
        if j.overdue and j.milestone_due:
            node = f"“{j.milestone_text}”" if j.milestone_text else ""
            facts.append(f"时间节点{node}（{cn_date(j.milestone_due)}）已逾期")
        reason = j.reason.strip().rstrip("。")
        if reason and not any(reason in f for f in facts):
            facts.append(reason)
        out.append({
            "ordinal": f"（{cn_numeral(len(out) + 1)}）", "task_id": s.task_id,
            "short_text": short_text(task.text if task else s.task_id), "unit": "、".join(s.units),
            "deadline": deadline_text(task), "status": j.status or "—",
            "situation": "，".join(facts) or "进展严重滞后",
        })
    return out


def reporting(assessment: Assessment) -> dict[str, Any]:
    """Due / on time / late / missing reports over the month, with the units named."""
    counts = {"on_time": 0, "late": 0, "missing": 0, "rejected": 0}
    named: dict[str, dict[str, list[str]]] = {"late": {}, "missing": {}}
    for period, rows in assessment.judgements:
        units: dict[str, list[Judgement]] = {}
        for j in rows:
            units.setdefault(j.unit, []).append(j)
        for unit, js in units.items():
            state = report_state(js)
            counts[state] += 1
            key = "late" if state == "late" else "missing" if state in ("missing", "rejected") else None
            if key:
                named[key].setdefault(unit, []).append(period.short_label())
    due = sum(counts.values())
    no_progress: dict[str, int] = {}
    for s in assessment.scores:
        n = sum(1 for i in s.items if i.rule == "no_progress")
        if n:
            no_progress[s.unit] = n
    return {
        "periods": len(assessment.periods),
        "period_names": "、".join(p.short_label() for p in assessment.periods),
        "due": due, "on_time": counts["on_time"], "late": counts["late"],
        "missing": counts["missing"] + counts["rejected"], "rejected": counts["rejected"],
        "on_time_rate": percent_text(counts["on_time"], due),
        "late_units": _named(named["late"]), "missing_units": _named(named["missing"]),
        "late_count": len(named["late"]), "missing_count": len(named["missing"]),
        "no_progress_units": "、".join(f"{u}{n}项次" for u, n in no_progress.items()) or NONE_TEXT,
        "no_progress_count": sum(no_progress.values()),
    }


def _named(units: dict[str, list[str]]) -> str:
    return "、".join(f"{u}（{'、'.join(labels)}）" for u, labels in units.items()) or NONE_TEXT


def scoring_summary(assessment: Assessment) -> dict[str, Any]:
    scores = assessment.scores
    totals = [s.total for s in scores]
    rules = assessment.rules
    return {
        "units": len(scores),
        "average": fmt_points(round(sum(totals) / len(totals), 1)) if totals else "0",
        "excellent": sum(1 for s in scores if s.grade == GRADES[0]),
        "good": sum(1 for s in scores if s.grade == GRADES[1]),
        "fair": sum(1 for s in scores if s.grade == GRADES[2]),
        "start": fmt_points(rules.start), "excellent_min": fmt_points(rules.excellent),
        "good_min": fmt_points(rules.good),
        "highest": fmt_points(max(totals)) if totals else "0", "lowest": fmt_points(min(totals)) if totals else "0",
    }


def points_text(value: float, *, signed: bool = False) -> str:
    """Points as printed: a real minus sign (−7), "+5" for a bonus, "0"."""
    return fmt_points(value, signed=signed).replace("-", MINUS)


def ranking_row(s: UnitScore) -> dict[str, Any]:
    return {
        "rank": s.rank, "unit": s.unit, "report": points_text(s.report), "task": points_text(s.task),
        "bonus": points_text(s.bonus, signed=True), "total": points_text(s.total), "grade": s.grade,
        "change": s.change,
    }


def detail_rows(rows: Sequence[Judgement], registry: Registry) -> list[dict[str, Any]]:
    """附件2: every task and lead unit at the end of the month, in registry order."""
    order = {t.id: i for i, t in enumerate(registry.tasks)}
    tasks = {t.id: t for t in registry.tasks}
    ordered = sorted(rows, key=lambda j: (order.get(j.task_id, len(order)), j.task_id))
    out = []
    for n, j in enumerate(ordered, start=1):
        task = tasks.get(j.task_id)
        out.append({
            "no": n, "task_id": j.task_id, "text": short_text(task.text, DETAIL_TEXT) if task else "", "unit": j.unit,
            "deadline": deadline_text(task),
            "percent": f"{j.percent}%" if j.percent is not None else "—",
            "schedule": f"{j.schedule_percent}%" if j.schedule_percent is not None else "—",
            "status": j.status or "—", "light": LIGHT_NAMES.get(j.light, j.light), "light_key": j.light,
            "fill": LIGHT_FILLS[j.light][0] if j.light in LIGHT_FILLS else "FFFFFF", "reason": j.reason or "—",
        })
    return out


def chart_rows(rows: Sequence[Judgement]) -> list[dict[str, Any]]:
    """Per lead unit: how many of its tasks are green, yellow, red (first-seen order)."""
    units: dict[str, dict[str, int]] = {}
    for j in rows:
        counts = units.setdefault(j.unit, {GREEN: 0, YELLOW: 0, RED: 0})
        if j.light in counts:
            counts[j.light] += 1
    return [{"unit": u, **c} for u, c in units.items()]

