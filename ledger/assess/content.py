"""Every number and name of the monthly bulletin, computed from an :class:`Assessment`.

The result is plain data (strings, numbers, lists, dicts) shared by the Word template
and the HTML preview, so both show the same figures. Prose stays in the templates;
only lists of names and variable phrases are joined here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from ledger import layout
from ledger.assess.api import Assessment
from ledger.assess.docx_layout import text_width
from ledger.assess.score import UnitScore, criticised, fmt_points, praised, report_state
from ledger.cnum import cn_numeral
from ledger.config import Programme
from ledger.consolidate.judge import period_name
from ledger.consolidate.model import (
    GREEN,
    LIGHT_FILLS,
    LIGHT_NAMES,
    RED,
    STATUS_GROUPS,
    YELLOW,
    Judgement,
    count_rows,
)
from ledger.due import rule_text
from ledger.periods import Period, cn_date
from ledger.registry.model import Registry, Task
from ledger.rules import GRADES, ScoringRules

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


def bulletin_context(
    assessment: Assessment,
    programme: Programme,
    registry: Registry,
    *,
    number: int,
    issued: date,
) -> dict[str, Any]:
    """The data of one bulletin; see templates/bulletin.docx and bulletin.html.j2.

    Every figure of 一、总体情况, the chart and 附件2 comes from the judgements of the month's
    last period, counted as the 汇总表 of that period counts them (:func:`count_rows`).
    """
    month = assessment.month
    last_period, last_rows = assessment.judgements[-1]
    tasks = {t.id: t for t in registry.tasks}
    month_label = f"{month.label()}份"
    office = programme.reporting.office or programme.issuer
    rules = assessment.rules
    ctx: dict[str, Any] = {
        "programme_title": programme.title,
        "masthead": programme.masthead or f"{programme.title}督查通报",
        "issue_no": number,
        "office": office,
        "issuer": programme.issuer,
        "issue_date": cn_date(issued),
        "month_label": month_label,
        "title": f"关于{programme.title}{month_label}工作推进情况的通报",
        "addressees": programme.addressees,
        "notice_name": notice_name(programme),
        "doc_number": programme.doc_number,
        "requirement": programme.reporting.requirement.strip().rstrip("。；;"),
        "as_of": as_of(last_period),
        "as_of_date": cn_date(last_period.workdays[1]),
        "due_text": due_text(programme),
    }
    ctx["title_lines"] = balanced_lines(ctx["title"])
    ctx["masthead_lines"] = [programme.masthead] if programme.masthead else masthead_lines(ctx["masthead"],
                                                                                              programme.title)
    ctx["overview"] = overview(last_rows, assessment)
    praise = praised(assessment.scores, rules)
    blame = criticised(assessment.scores, rules)
    ctx["praise_rule"] = praise_rule(rules)
    ctx["honour_units"] = [unit_praise(s, assessment, i) for i, s in enumerate(praise, 1)]
    ctx["honour_board"] = board_text(praise)
    ctx["criticism"] = rules.criticism
    ctx["shame_units"] = [{"unit": s.unit, "total": fmt_points(s.total), "grade": s.grade,
                           "reasons": "，".join(reasons)} for s, reasons in blame]
    ctx["shame_board"] = "；".join(f"{s.unit}（{'，'.join(reasons)}）" for s, reasons in blame) or NONE_TEXT
    ctx["lagging"] = lagging(last_rows, tasks)
    ctx["red_count"] = sum(1 for j in last_rows if j.light == RED)
    ctx["yellow_count"] = sum(1 for j in last_rows if j.light == YELLOW)
    ctx["reporting"] = reporting(assessment)
    ctx["scoring"] = scoring_summary(assessment)
    ctx["ranking"] = [ranking_row(s) for s in assessment.scores]
    ctx["detail"] = detail_rows(last_rows, registry, last_period.cycle)
    ctx["attachments"] = [f"{month_label}考核得分及排名表", f"{month_label}任务进展亮灯明细表"]
    ctx["first_attachment"], ctx["more_attachments"] = ctx["attachments"][0], [
        {"no": i, "name": name} for i, name in enumerate(ctx["attachments"][1:], start=2)
    ]
    ctx["copy_to"] = programme.bulletin_copy_to
    ctx["chart_units"] = chart_rows(last_rows)
    ctx["chart_title"] = f"各牵头单位任务亮灯情况（截至{ctx['as_of_date']}）"
    return ctx


def as_of(period: Period) -> str:
    """截至2022年6月24日（第25周）: the period's last working day (its report's week)."""
    day = cn_date(period.workdays[1])
    return f"{day}（{period.short_label()}）" if period.cycle == "weekly" else day


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


def overview(rows: Sequence[Judgement], assessment: Assessment) -> dict[str, Any]:
    """一、总体情况: the last period's task rows by status group and light, shares of all rows."""
    counts = count_rows(rows)
    total = counts["rows"]
    out: dict[str, Any] = {"tasks": counts["tasks"], "total": total, "overdue": counts["overdue"]}
    for key, _name, _statuses in STATUS_GROUPS:
        out[key] = {"count": counts[key], "share": percent_text(counts[key], total)}
    for light in (GREEN, YELLOW, RED):
        out[light] = {"count": counts[light], "share": percent_text(counts[light], total)}
    out["recovered"] = recovered(assessment, rows)
    out["recovered_count"] = len(out["recovered"])
    shown = out["recovered"][:RECOVERED_SHOWN]
    more = "等" if len(out["recovered"]) > len(shown) else ""
    out["recovered_text"] = "、".join(shown) + more
    return out


def recovered(assessment: Assessment, rows: Sequence[Judgement]) -> list[str]:
    """Tasks red (for some lead unit) in an earlier period of the month and no row of them red at its end."""
    was_red = {j.task_id for _, earlier in assessment.judgements[:-1] for j in earlier if j.light == RED}
    red_now = {j.task_id for j in rows if j.light == RED}
    return list(dict.fromkeys(j.task_id for j in rows if j.task_id in was_red and j.task_id not in red_now))


def praise_rule(rules: ScoringRules) -> str:
    """The praise rule in one sentence, as the bulletin states it."""
    return (f"本月各期工作台账均按时报送、没有红灯和逾期未完成任务、考核等次为{rules.praise_grade}的单位中，"
            f"名次在前{rules.honour_size}位的（名次并列的一并）")


def board_text(scores: Sequence[UnitScore]) -> str:
    return "、".join(f"{s.unit}（{fmt_points(s.total)}分）" for s in scores) or NONE_TEXT


def unit_praise(score: UnitScore, assessment: Assessment, index: int) -> dict[str, Any]:
    """Facts behind one unit's praise: reports, task states at the end of the month, early milestones."""
    last_rows = [j for j in assessment.judgements[-1][1] if j.unit == score.unit]
    counts = count_rows(last_rows)
    parts = [f"{name}{counts[key]}项" for key, name, _ in STATUS_GROUPS if counts[key]]
    early = sum(j.early_milestones for _, rows in assessment.judgements for j in rows if j.unit == score.unit)
    return {
        "ordinal": f"（{cn_numeral(index)}）", "unit": score.unit, "report_text": f"按时报送台账{score.periods}期",
        "tasks": len(last_rows), "progress_text": "、".join(parts) or "均在推进中", "early": early,
        "total": fmt_points(score.total), "grade": score.grade,
    }


def lagging(rows: Sequence[Judgement], tasks: dict[str, Task]) -> list[dict[str, Any]]:
    """三、进展滞后的任务: every red and yellow row at the end of the month, red first, registry order
    within a light; unreported and self-reported lagging tasks among them."""
    order = {tid: i for i, tid in enumerate(tasks)}
    shown = sorted((j for j in rows if j.light in (RED, YELLOW)),
                   key=lambda j: (-LIGHT_ORDER[j.light], order.get(j.task_id, len(order))))
    out = []
    for j in shown:
        task = tasks.get(j.task_id)
        facts = []
        if j.percent is not None and not j.unreported:
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
            "ordinal": f"（{cn_numeral(len(out) + 1)}）", "task_id": j.task_id, "light": LIGHT_NAMES[j.light],
            "short_text": short_text(task.text if task else j.task_id), "unit": j.unit,
            "deadline": deadline_text(task), "status": j.status or "—",
            "situation": "，".join(facts) or "进展滞后",
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


def detail_rows(rows: Sequence[Judgement], registry: Registry, cycle: str) -> list[dict[str, Any]]:
    """附件2: every task and lead unit at the end of the month, in registry order; a percentage
    carried from an earlier report names its period."""
    order = {t.id: i for i, t in enumerate(registry.tasks)}
    tasks = {t.id: t for t in registry.tasks}
    ordered = sorted(rows, key=lambda j: (order.get(j.task_id, len(order)), j.task_id))
    out = []
    for n, j in enumerate(ordered, start=1):
        task = tasks.get(j.task_id)
        percent = f"{j.percent}%" if j.percent is not None else "—"
        if j.percent is not None and j.carried and j.carried_from:
            percent += f"（{period_name(j.carried_from, cycle)}）"
        out.append({
            "no": n, "task_id": j.task_id, "text": short_text(task.text, DETAIL_TEXT) if task else "", "unit": j.unit,
            "deadline": deadline_text(task), "percent": percent,
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

