"""The summary's tables as pandas DataFrames, built from one period's judgements.

Column names are stable English keys (what ``--json`` prints and later stages read);
the workbook maps them to Chinese headers. Missing numbers are ``pd.NA`` (Int64).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from ledger import layout
from ledger.consolidate.judge import PeriodJudgement, period_name, step_line
from ledger.consolidate.model import GREEN, LIGHT_NAMES, LIGHTS, RED, YELLOW, Judgement
from ledger.periods import to_china_time
from ledger.registry.model import Registry
from ledger.reporting import NOT_YET_DUE, SOURCE_NAMES, STATE_NAMES
from ledger.schedule import steps

INT_COLUMNS = ("percent", "schedule", "deviation")
ON_SCHEDULE = (layout.ON_SCHEDULE, layout.AHEAD, layout.ONGOING)
# Status shares in a fixed order (统计图).
STATUS_GROUPS = (
    ("已完成", (layout.DONE,)), ("正常推进", (layout.ON_SCHEDULE, layout.AHEAD)),
    ("常态化推进", (layout.ONGOING,)), ("滞后", (layout.LAGGING,)), ("未启动", (layout.NOT_STARTED,)),
    ("逾期未完成", (layout.OVERDUE,)), ("未报送", (layout.UNREPORTED,)),
)
_LIGHT_RANK = {RED: 0, YELLOW: 1, GREEN: 2}


def report_text(j: Judgement, state: str, past_due: bool, cycle: str) -> str:
    """报送情况 of one row: the state, and where carried values come from."""
    name = STATE_NAMES.get(state, state)
    if state == "missing" and not past_due:
        name += NOT_YET_DUE
    if j.carried and j.carried_from:
        source = f"沿用{period_name(j.carried_from, cycle)}数据"
        return f"{name}，{source}" if state in ("missing", "rejected") else f"{name}（本项{source}）"
    if state in ("missing", "rejected"):
        return f"{name}，无历史数据"
    return name


def overview(registry: Registry, result: PeriodJudgement, cycle: str, year: int) -> pd.DataFrame:
    """总表: one row per task and lead unit, registry order."""
    tasks = {t.id: t for t in registry.tasks}
    keys = ("task_id", "category", "text", "unit", "other_leads", "cooperating", "deadline", "milestone",
            "progress", "cumulative", "percent", "schedule", "deviation", "reported_status", "status",
            "light", "reason", "problems", "next_steps", "coordination", "report_state", "report",
            "carried", "carried_from", "copied", "overdue", "early_milestones")
    cols: dict[str, list] = {k: [] for k in keys}
    add = [cols[k].append for k in keys]
    per_task: dict[str, tuple] = {}
    for j, entry in zip(result.judgements, result.entries, strict=True):
        task = tasks[j.task_id]
        shared = per_task.get(task.id)
        if shared is None:
            plan = {s.due: s for s in steps(task)}
            shared = per_task[task.id] = (task.path[0] if task.path else "", layout.LIST_SEP.join(task.cooperating_units),
                                          layout.deadline_text(task), plan)
        category, cooperating, deadline, plan = shared
        report = result.reports.get(j.unit)
        past_due = report.status.past_due if report else True
        current = plan.get(j.milestone_due) if j.milestone_due else None
        progress = j.progress
        if j.carried and j.carried_from and progress:
            progress = f"（{period_name(j.carried_from, cycle)}报）{progress}"
        row = (
            j.task_id, category, task.text, j.unit,
            layout.LIST_SEP.join(u for u in task.lead_units if u != j.unit) if len(task.lead_units) > 1 else "",
            cooperating, deadline, step_line(current, year) if current else j.milestone_text,
            progress, entry.cumulative if entry else "", j.percent, j.schedule_percent, j.deviation,
            j.reported_status, j.status, j.light, j.reason, entry.problems_text if entry else "",
            entry.next_steps if entry else "", entry.coordination if entry else "", j.report_state,
            report_text(j, j.report_state, past_due, cycle), j.carried, j.carried_from, j.copied, j.overdue,
            j.early_milestones,
        )
        for append, value in zip(add, row, strict=True):
            append(value)
    return _frame(cols)


def by_unit(registry: Registry, result: PeriodJudgement) -> pd.DataFrame:
    """按单位: per lead unit, its tasks by status and light, and its report state."""
    per: dict[str, Counter] = {u: Counter() for u in registry.lead_units()}
    for j in result.judgements:
        c = per.setdefault(j.unit, Counter())
        c["tasks"] += 1
        c["completed"] += j.status == layout.DONE
        c["on_schedule"] += j.status in ON_SCHEDULE
        c["lagging"] += j.status == layout.LAGGING
        c["not_started"] += j.status == layout.NOT_STARTED
        c["unreported"] += j.status == layout.UNREPORTED
        c["overdue"] += j.overdue
        c[j.light] += 1
        c["copied"] += j.copied
        c["early_milestones"] += j.early_milestones
    reports = {u: r.status for u, r in result.reports.items()}
    cols: dict[str, list] = {k: [] for k in (
        "unit", "tasks", "completed", "on_schedule", "lagging", "not_started", "unreported", "overdue",
        *LIGHTS, "copied", "early_milestones", "report_state", "report")}
    for unit, c in per.items():
        st = reports.get(unit)
        state = st.state if st else "missing"
        row = {k: int(c[k]) for k in cols}
        row.update(unit=unit, report_state=state, report=st.name if st else STATE_NAMES[state])
        for k, v in row.items():
            cols[k].append(v)
    return pd.DataFrame(cols)


def lagging(overview_df: pd.DataFrame) -> pd.DataFrame:
    """滞后及逾期: red, then yellow; within them passed deadlines, missed steps, then 偏差."""
    rows = overview_df[overview_df["light"].isin([RED, YELLOW])].copy()
    rows["_rank"] = rows["light"].map(_LIGHT_RANK)
    rows["_final"] = (rows["status"] != layout.OVERDUE).astype(int)
    rows["_overdue"] = (~rows["overdue"].astype(bool)).astype(int)
    rows["_dev"] = rows["deviation"].fillna(0).astype(int)
    rows["_order"] = range(len(rows))
    rows = rows.sort_values(["_rank", "_final", "_overdue", "_dev", "_order"], kind="stable")
    keep = ["light", "task_id", "text", "unit", "deadline", "milestone", "percent", "schedule",
            "deviation", "status", "reason", "problems", "coordination", "report"]
    return rows[keep].reset_index(drop=True)


def changes(result: PeriodJudgement, overview_df: pd.DataFrame, cycle: str) -> pd.DataFrame:
    """本期变化: light or status changed since last period, or progress copied from it."""
    cols: dict[str, list] = {k: [] for k in (
        "task_id", "text", "unit", "light_before", "light_after", "status_before", "status_after",
        "light_changed", "status_changed", "copied", "change", "progress")}
    texts = overview_df["text"].tolist()
    sort_keys = []
    for i, j in enumerate(result.judgements):
        before = result.previous.get((j.task_id, j.unit))
        light_changed = before is not None and before.light != j.light
        status_changed = before is not None and before.status != j.status
        if not (light_changed or status_changed or j.copied):
            continue
        said = []
        if light_changed:
            said.append(f"由{LIGHT_NAMES[before.light]}转为{LIGHT_NAMES[j.light]}")
        if status_changed:
            said.append(f"状态由{before.status or '无'}变为{j.status or '无'}")
        if j.copied:
            said.append("本期进展与上期相同（照抄上期）")
        row = {
            "task_id": j.task_id, "text": texts[i], "unit": j.unit,
            "light_before": before.light if before else "", "light_after": j.light,
            "status_before": before.status if before else "", "status_after": j.status,
            "light_changed": light_changed, "status_changed": status_changed, "copied": j.copied,
            "change": "；".join(said), "progress": j.progress,
        }
        for k, v in row.items():
            cols[k].append(v)
        worse = light_changed and _LIGHT_RANK[j.light] < _LIGHT_RANK[before.light]
        sort_keys.append((0 if worse else 1 if light_changed else 2 if status_changed else 3, len(sort_keys)))
    frame = pd.DataFrame(cols)
    if len(frame):
        frame = frame.iloc[[k[1] for k in sorted(sort_keys)]].reset_index(drop=True)
    return frame


def reporting(result: PeriodJudgement, cycle: str) -> pd.DataFrame:
    """报送情况: per lead unit, state, due time, receipt time and file."""
    cols: dict[str, list] = {k: [] for k in (
        "unit", "state", "state_name", "due", "received_at", "source", "file", "note")}
    for unit, report in result.reports.items():
        st = report.status
        note = ""
        if st.state in ("missing", "rejected"):
            note = f"沿用{period_name(report.carried_from, cycle)}数据" if report.carried_from else "无历史数据"
            if st.state == "missing" and not st.past_due:
                note = "未到截止时间；" + note
        row = {
            "unit": unit, "state": st.state, "state_name": STATE_NAMES.get(st.state, st.state),
            "due": _time(st.due), "received_at": _time(st.received_at) if st.received_at else "",
            "source": SOURCE_NAMES.get(st.received_source or "", ""), "file": st.file or "", "note": note,
        }
        for k, v in row.items():
            cols[k].append(v)
    return pd.DataFrame(cols)


def status_shares(judgements: Sequence[Judgement]) -> list[tuple[str, int]]:
    """(group name, task count) in STATUS_GROUPS order, for the status chart."""
    counts = Counter(j.status for j in judgements)
    return [(name, sum(counts[s] for s in members)) for name, members in STATUS_GROUPS]


def _time(moment) -> str:
    return to_china_time(moment).strftime("%Y-%m-%d %H:%M")


def _frame(cols: dict[str, list]) -> pd.DataFrame:
    frame = pd.DataFrame({k: v for k, v in cols.items() if k not in INT_COLUMNS})
    for k in INT_COLUMNS:
        if k in cols:
            frame[k] = pd.array(cols[k], dtype="Int64")
    return frame[list(cols)]
