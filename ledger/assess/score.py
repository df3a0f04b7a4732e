"""Monthly score per lead unit (docs/rules.md, "月度考核"), every point explained by one item.

Pure functions over :class:`~ledger.consolidate.model.Judgement` records: no store, no
files. The rules, each shown in the items' notes:

* A period's reporting deduction follows the unit's report state: late −``late``,
  missing −``missing``, rejected (no accepted report) −``rejected``.
* "No real progress" (本期进展 empty or copied from the last period) counts only for
  periods the unit did report (a missing report already costs ``missing``) and not for
  tasks already 已完成; at most ``no_progress_cap`` points a month.
* An overdue task costs ``overdue`` once a month; its overdue periods get no separate
  red (or yellow) deduction, so one failure is not punished twice.
* Early milestones earn ``early_bonus`` each, at most ``bonus_cap`` a month.
* Items past a cap stay listed with 0 points, so the cap itself is visible.
* Tasks the unit did not report on keep the yellow or red of their unreported light, so
  not reporting never costs less than reporting a lagging task honestly.
* Grades follow reporting: a unit with a missing or rejected-unfixed period is at most
  ``missing_grade_cap``; one with no accepted report in the month is ``no_report_grade``
  and ranks after every unit that reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger import layout
from ledger.consolidate.model import RED, YELLOW, Judgement
from ledger.periods import Period
from ledger.rules import GRADES, ScoringRules

REPORT, TASK, BONUS = "report", "task", "bonus"
RULE_NAMES = {
    "late": "逾期报送",
    "missing": "未报送",
    "rejected": "退回未重报",
    "no_progress": "无实质进展",
    "yellow": "黄灯",
    "red": "红灯",
    "overdue": "逾期未完成",
    "early": "提前完成节点",
}
RULE_GROUPS = {
    "late": REPORT, "missing": REPORT, "rejected": REPORT, "no_progress": REPORT,
    "yellow": TASK, "red": TASK, "overdue": TASK, "early": BONUS,
}
RULE_ORDER = tuple(RULE_NAMES)
NO_CHANGE, NEW_UNIT = "—", "新"
# Worst first: the state that counts when a unit's rows of one period disagree.
_STATE_SEVERITY = ("rejected", "missing", "late", "on_time")


@dataclass(frozen=True)
class ScoreItem:
    """One deduction or bonus: which period, which task, which rule, how many points."""

    unit: str
    rule: str  # key of RULE_NAMES
    points: float  # signed: negative deducts, positive adds; 0 when past a cap
    period: str = ""  # period key, e.g. 2022-W23
    period_label: str = ""  # 第23周
    task_id: str = ""
    note: str = ""

    @property
    def group(self) -> str:
        return RULE_GROUPS[self.rule]

    @property
    def rule_name(self) -> str:
        return RULE_NAMES[self.rule]

    def to_row(self) -> dict[str, Any]:
        return {**asdict(self), "group": self.group, "rule_name": self.rule_name}


@dataclass
class UnitScore:
    """A lead unit's score for one month, with the items that make it up."""

    unit: str
    items: list[ScoreItem] = field(default_factory=list)
    start: float = 100
    floor: float = 0
    grade: str = ""
    rank: int = 0
    previous_rank: int | None = None
    change: str = NO_CHANGE
    reports: dict[str, int] = field(default_factory=dict)  # report state -> periods
    red: int = 0  # red task-periods of the month (an overdue task's periods included)
    overdue: int = 0  # overdue tasks of the month
    grade_note: str = ""  # why the grade is below what the points give, if it is

    @property
    def periods(self) -> int:
        return sum(self.reports.values())

    @property
    def reported(self) -> int:
        """Periods of the month with an accepted report (on time or late)."""
        return self.reports.get("on_time", 0) + self.reports.get("late", 0)

    @property
    def unreported(self) -> int:
        """Periods of the month missing or with only a rejected report."""
        return self.reports.get("missing", 0) + self.reports.get("rejected", 0)

    @property
    def all_on_time(self) -> bool:
        return self.periods > 0 and self.reports.get("on_time", 0) == self.periods

    def _sum(self, group: str) -> float:
        return _round(sum(i.points for i in self.items if i.group == group))

    @property
    def report(self) -> float:
        """Points from reporting (台账分): ≤ 0."""
        return self._sum(REPORT)

    @property
    def task(self) -> float:
        """Points from task lights (任务分): ≤ 0."""
        return self._sum(TASK)

    @property
    def bonus(self) -> float:
        """Bonus points (加分): ≥ 0."""
        return self._sum(BONUS)

    @property
    def raw_total(self) -> float:
        return _round(self.start + self.report + self.task + self.bonus)

    @property
    def total(self) -> float:
        return max(self.floor, self.raw_total)

    @property
    def floored(self) -> bool:
        return self.raw_total < self.floor

    def to_row(self) -> dict[str, Any]:
        return {
            "unit": self.unit, "rank": self.rank, "previous_rank": self.previous_rank,
            "change": self.change, "total": self.total, "report": self.report, "task": self.task,
            "bonus": self.bonus, "grade": self.grade, "grade_note": self.grade_note, "floored": self.floored,
            "reports": dict(self.reports), "red": self.red, "overdue": self.overdue,
            "items": [i.to_row() for i in self.items],
        }


def fmt_points(value: float, *, signed: bool = False) -> str:
    """1.0 -> "1", 0.5 -> "0.5"; *signed* adds "+" to positive values."""
    text = f"{_round(value):g}"
    if text == "-0":
        text = "0"
    return f"+{text}" if signed and value > 0 else text


def grade_of(total: float, rules: ScoringRules) -> str:
    """The grade the points give."""
    if total >= rules.excellent:
        return GRADES[0]
    if total >= rules.good:
        return GRADES[1]
    return GRADES[2]


def grade(score: UnitScore, rules: ScoringRules) -> tuple[str, str]:
    """The grade after the reporting rules, and why it is below the points' grade ("" if not)."""
    by_points = grade_of(score.total, rules)
    if score.reported == 0:
        worst = rules.no_report_grade
        return worst, "" if worst == by_points else f"本月没有合格台账，定为{worst}"
    if score.unreported and GRADES.index(by_points) < GRADES.index(rules.missing_grade_cap):
        return rules.missing_grade_cap, f"本月有{score.unreported}期未报送或退回未改，最高为{rules.missing_grade_cap}"
    return by_points, ""


def report_state(rows: Iterable[Judgement]) -> str:
    """The unit's report state in one period (the worst if its rows disagree)."""
    states = {j.report_state for j in rows}
    for state in _STATE_SEVERITY:
        if state in states:
            return state
    return "missing"


def score_units(
    month: Sequence[tuple[Period, Sequence[Judgement]]],
    rules: ScoringRules,
    *,
    previous_ranks: Mapping[str, int] | None = None,
) -> list[UnitScore]:
    """Scores of every unit that has judgements in *month* (periods in time order),
    ranked best first; ``previous_ranks`` None means there is no previous month."""
    order: dict[str, None] = {}
    for _, rows in month:
        for j in rows:
            order.setdefault(j.unit, None)
    scores = [_score_unit(unit, month, rules) for unit in order]
    rank_scores(scores)
    for s in scores:
        s.grade, s.grade_note = grade(s, rules)
        s.previous_rank = previous_ranks.get(s.unit) if previous_ranks is not None else None
        s.change = change_text(s.rank, s.previous_rank, has_previous=previous_ranks is not None)
    return sorted(scores, key=lambda s: s.rank)


def rank_scores(scores: list[UnitScore]) -> None:
    """Competition ranks (1, 2, 2, 4): equal totals share a rank; order within a tie is
    the order the units came in. A unit without any accepted report in the month ranks after
    every unit that reported, whatever its points."""
    def key(i: int) -> tuple[bool, float]:
        return (scores[i].periods > 0 and scores[i].reported == 0, -scores[i].total)

    ordered = sorted(range(len(scores)), key=key)
    for position, i in enumerate(ordered):
        prev = ordered[position - 1] if position else None
        scores[i].rank = scores[prev].rank if prev is not None and key(prev) == key(i) else position + 1


def change_text(rank: int, previous: int | None, *, has_previous: bool) -> str:
    """↑2 (moved up two places), ↓1, — (same place, or no previous month), 新 (not ranked then)."""
    if not has_previous:
        return NO_CHANGE
    if previous is None:
        return NEW_UNIT
    if previous > rank:
        return f"↑{previous - rank}"
    if previous < rank:
        return f"↓{rank - previous}"
    return NO_CHANGE


def _score_unit(unit: str, month: Sequence[tuple[Period, Sequence[Judgement]]], rules: ScoringRules) -> UnitScore:
    score = UnitScore(unit, start=rules.start, floor=rules.floor)
    items: list[ScoreItem] = []
    no_progress = _Cap(rules.no_progress_cap, "无实质进展扣分", "扣")
    early = _Cap(rules.bonus_cap, "加分", "加")
    overdue_seen: set[str] = set()
    overdue_periods: dict[str, list[str]] = {}
    for period, all_rows in month:
        rows = [j for j in all_rows if j.unit == unit]
        if not rows:
            continue
        label = period.short_label()
        state = report_state(rows)
        score.reports[state] = score.reports.get(state, 0) + 1
        item = _report_item(unit, state, period.key, label, rules)
        if item:
            items.append(item)
        for j in rows:
            base = {"unit": unit, "period": period.key, "period_label": label, "task_id": j.task_id}
            if state in ("on_time", "late") and not j.carried and j.status != layout.DONE and (
                j.copied or not j.progress.strip()
            ):
                why = "本期进展照抄上期" if j.copied else "本期进展未填写"
                points, note = no_progress.take(rules.no_progress, why)
                items.append(ScoreItem(rule="no_progress", points=-points, note=note, **base))
            score.red += j.light == RED
            if j.overdue:
                overdue_periods.setdefault(j.task_id, []).append(label)
                if j.task_id not in overdue_seen:
                    overdue_seen.add(j.task_id)
                    items.append(ScoreItem(rule="overdue", points=-rules.overdue, note=_overdue_note(j, rules),
                                           **base))
            elif j.light == RED:
                items.append(ScoreItem(rule="red", points=-rules.red,
                                       note=f"红灯（{j.reason or '进展严重滞后'}），扣{fmt_points(rules.red)}分", **base))
            elif j.light == YELLOW:
                items.append(ScoreItem(rule="yellow", points=-rules.yellow,
                                       note=f"黄灯（{j.reason or '进展滞后'}），扣{fmt_points(rules.yellow)}分",
                                       **base))
            if j.early_milestones > 0:
                wanted = j.early_milestones * rules.early_bonus
                points, note = early.take(wanted, f"提前完成时间节点{j.early_milestones}个")
                items.append(ScoreItem(rule="early", points=points, note=note, **base))
    score.overdue = len(overdue_seen)
    score.items = _explain_overdue(items, overdue_periods)
    score.items.sort(key=lambda i: (_period_index(month, i.period), RULE_ORDER.index(i.rule)))
    return score


def _report_item(unit: str, state: str, period: str, label: str, rules: ScoringRules) -> ScoreItem | None:
    if state == "late":
        return ScoreItem(unit, "late", -rules.late, period, label, note=f"{label}台账逾期报送，扣{fmt_points(rules.late)}分")
    if state == "missing":
        return ScoreItem(unit, "missing", -rules.missing, period, label,
                         note=f"{label}台账未报送，扣{fmt_points(rules.missing)}分")
    if state == "rejected":
        return ScoreItem(unit, "rejected", -rules.rejected, period, label,
                         note=f"{label}台账被退回且未重报，按未报送扣{fmt_points(rules.rejected)}分")
    return None


def _overdue_note(j: Judgement, rules: ScoringRules) -> str:
    what = "任务逾期未完成"
    if j.milestone_due:
        node = f"“{j.milestone_text}”" if j.milestone_text else ""
        what = f"时间节点{node}（{j.milestone_due.year}年{j.milestone_due.month}月{j.milestone_due.day}日）逾期未完成"
    return f"{what}，本月扣{fmt_points(rules.overdue)}分"


def _explain_overdue(items: list[ScoreItem], periods: dict[str, list[str]]) -> list[ScoreItem]:
    """Name, on each overdue item, the periods whose red light is not deducted again."""
    out = []
    for item in items:
        if item.rule == "overdue":
            labels = "、".join(dict.fromkeys(periods.get(item.task_id, [])))
            item = ScoreItem(**{**asdict(item), "note": f"{item.note}（{labels}不再另扣红灯分）"})
        out.append(item)
    return out


class _Cap:
    """A monthly cap on one kind of points: hands out what is left of it and says so."""

    def __init__(self, cap: float, what: str, verb: str) -> None:
        self.left = cap
        self.cap = cap
        self.what = what  # 无实质进展扣分 / 加分
        self.verb = verb  # 扣 / 加

    def take(self, wanted: float, fact: str) -> tuple[float, str]:
        """Points granted of *wanted*, and the note: "<fact>，扣1分" or why fewer."""
        points = _round(max(0.0, min(wanted, self.left)))
        self.left = _round(self.left - points)
        cap = fmt_points(self.cap)
        if points == wanted:
            return points, f"{fact}，{self.verb}{fmt_points(points)}分"
        if points == 0:
            return 0.0, f"{fact}（本月{self.what}已达上限{cap}分，不再{self.verb}分）"
        return points, f"{fact}，{self.verb}{fmt_points(points)}分（本月{self.what}上限{cap}分，本项只计{fmt_points(points)}分）"


def _period_index(month: Sequence[tuple[Period, Sequence[Judgement]]], key: str) -> int:
    for i, (period, _) in enumerate(month):
        if period.key == key:
            return i
    return len(month)


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def praised(scores: Sequence[UnitScore], rules: ScoringRules) -> list[UnitScore]:
    """The units the bulletin praises (docs/rules.md, "表扬与批评"): every period reported on
    time, no red light and no overdue task in the month, graded ``praise_grade``; the best
    ``honour_size`` of them by rank, ties kept together."""
    eligible = sorted((s for s in scores if s.all_on_time and s.red == 0 and s.overdue == 0
                       and s.grade == rules.praise_grade), key=lambda s: s.rank)
    if len(eligible) <= rules.honour_size:
        return eligible
    last = eligible[rules.honour_size - 1].rank if rules.honour_size > 0 else 0
    return [s for s in eligible if s.rank <= last]


def criticised(scores: Sequence[UnitScore], rules: ScoringRules) -> list[tuple[UnitScore, list[str]]]:
    """The units the bulletin criticises, worst first, each with its reasons: periods missing or
    sent back and not fixed, red lights, overdue tasks, and the ``shame_size`` lowest scores
    (ties kept) among units that lost points."""
    losing = sorted((s for s in scores if s.total < s.start), key=lambda s: s.total)
    lowest = {id(s) for s in losing if sum(1 for o in losing if o.total < s.total) < rules.shame_size}
    out = []
    for s in sorted(scores, key=lambda s: (-s.rank, s.total)):
        reasons = []
        for rule, word in (("missing", "未报送"), ("rejected", "退回未改")):
            labels = [i.period_label for i in s.items if i.rule == rule]
            if labels:
                reasons.append(f"{'、'.join(labels)}{word}")
        if s.red:
            reasons.append(f"红灯{s.red}项次")
        if s.overdue:
            reasons.append(f"逾期未完成任务{s.overdue}项")
        if id(s) in lowest:
            reasons.append(f"得分{fmt_points(s.total)}分、排名靠后")
        if reasons:
            out.append((s, reasons))
    return out
