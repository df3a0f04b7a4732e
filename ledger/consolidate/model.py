"""What consolidation decides per task and period: the contract with assess and bulletin.

One :class:`Judgement` per (task, lead unit, period). Judgements are stored per period
in the history store (``Store.save_lights`` rows are ``Judgement.to_row()``), so a red
that caught up later still shows as red for the period it was red in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from ledger import layout

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)
LIGHT_NAMES = {GREEN: "绿灯", YELLOW: "黄灯", RED: "红灯"}
#: a light's cell fill and text colour (RGB hex), in the 汇总表, the bulletin and its preview
LIGHT_FILLS = {GREEN: ("C6EFCE", "006100"), YELLOW: ("FFEB9C", "9C5700"), RED: ("FFC7CE", "9C0006")}


@dataclass(frozen=True)
class Judgement:
    """The light of one task for one lead unit in one period, and why.

    ``status`` is the canonical status after the tool's judgement (逾期未完成 when a
    deadline or milestone has passed unfinished, whatever the unit wrote; 未报送 when the
    unit did not report on the task this period); ``reported_status`` is what the unit chose
    (this period, or in the period it is carried from). ``carried`` means the values are
    the unit's last accepted ones, from ``carried_from``.
    """

    programme: str
    period: str
    task_id: str
    unit: str
    light: str
    reason: str  # short Chinese reason shown next to the light
    status: str
    reported_status: str = ""
    percent: int | None = None
    schedule_percent: int | None = None  # 序时进度
    deviation: int | None = None  # 偏差 = percent − schedule_percent
    overdue: bool = False
    milestone_due: date | None = None  # the current (next unfinished) milestone or deadline
    milestone_text: str = ""
    report_state: str = "missing"
    carried: bool = False
    copied: bool = False  # progress text identical to the previous period's (照抄上期)
    early_milestones: int = 0  # milestones reported done before their date, this period
    progress: str = ""
    yellow_streak: int = 0  # periods running this task's light was yellow before escalation
    carried_from: str = ""  # period key the carried values come from (with ``carried``)
    unreported: bool = False  # no accepted report of this period covers the task (status 未报送)
    unreported_periods: int = 0  # periods running without an accepted report, this one included

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["milestone_due"] = self.milestone_due.isoformat() if self.milestone_due else None
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Judgement:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        if data.get("milestone_due"):
            data["milestone_due"] = date.fromisoformat(str(data["milestone_due"]))
        for flag in ("overdue", "carried", "copied", "unreported"):
            if flag in data:
                data[flag] = bool(data[flag])
        return cls(**data)


#: status groups, in the order the 汇总表 and the bulletin list them: key, name, statuses
STATUS_GROUPS = (
    ("completed", "已完成", (layout.DONE,)),
    ("on_track", "按序时推进", (layout.AHEAD, layout.ON_SCHEDULE, layout.ONGOING)),
    ("lagging", "进展滞后", (layout.LAGGING, layout.OVERDUE)),
    ("not_started", "未启动", (layout.NOT_STARTED,)),
    ("unreported", "未报送", (layout.UNREPORTED,)),
)


def count_rows(judgements: Iterable[Judgement]) -> dict[str, int]:
    """The counts every report of one period shows (汇总表, its JSON, the bulletin): tasks, rows
    (a co-led task is a row per lead unit), lights, status groups, overdue, copied, early."""
    rows = list(judgements)
    out = {"tasks": len({j.task_id for j in rows}), "rows": len(rows)}
    out.update({light: sum(j.light == light for j in rows) for light in LIGHTS})
    for key, _name, statuses in STATUS_GROUPS:
        out[key] = sum(j.status in statuses for j in rows)
    out.update(overdue=sum(j.overdue for j in rows), copied=sum(j.copied for j in rows),
               early_milestones=sum(j.early_milestones for j in rows))
    return out

