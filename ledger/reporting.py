"""Who reported for a period, and was it on time: one definition for every stage.

collect (receipts), consolidate (lights), assess (scores), mail (reminders) and
``ledger status`` all read the report states, due times and their Chinese names from
here (docs/rules.md, "报送"). A unit's state comes from the store: its accepted file,
else its latest rejected one, else none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.config import Programme, Reporting
from ledger.due import day_and_time
from ledger.periods import CHINA, Period, to_china_time
from ledger.registry.model import Registry, Task
from ledger.run import Run

STATES = ("on_time", "late", "missing", "rejected")
STATE_NAMES = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "rejected": "退回待改"}
STATE_SHORT = {"on_time": "按时", "late": "逾期", "missing": "未报", "rejected": "退回"}
#: where a received time comes from (ledger.store.schema.RECEIVED_SOURCES), best evidence first
SOURCE_NAMES = {"email": "邮件发送时间", "given": "收集时指定的收到时间", "mtime": "文件修改时间", "collected": "收集时间"}
#: what became of one received file (collect), short and as a receipt says it
OUTCOME_NAMES = {"accepted": "通过", "rejected": "退回", "duplicate": "重复文件，已有回执", "superseded": "已被替代",
                 "other_period": "不属于本期，未登记"}
#: what a receipt says of a file's first verdict (a repeat keeps the receipt of the first; a file
#: of another period gets none)
OUTCOME_VERDICTS = {
    "accepted": "已登记（通过）",
    "rejected": "退回（请修改后重新报送）",
    "superseded": "已被更新的报送文件替代",
}
NOT_YET_DUE = "（未到截止时间）"


def received_text(moment: datetime, source: str | None, ref_year: int | None = None) -> str:
    """2024年3月25日 17:00（文件修改时间）: when a file was received and how that is known (the year
    left out when it is *ref_year*)."""
    name = SOURCE_NAMES.get(source or "collected", source or "")
    return f"{day_and_time(to_china_time(moment), ref_year)}（{name}）"


def reporting_for_unit(programme: Programme, tasks: Sequence[Task]) -> Reporting:
    """The annex's reporting rules when all of a unit's tasks are in one annex, else the programme's.

    A unit whose tasks all sit in one annex follows that annex's due time and office.
    """
    annexes = {t.annex for t in tasks}
    return programme.reporting_for(annexes.pop() if len(annexes) == 1 else None)


def unit_reporting(programme: Programme, registry: Registry, unit: str) -> Reporting:
    """Reporting rules for one lead unit of *registry*."""
    return reporting_for_unit(programme, registry.tasks_led_by(unit))


def due_for(programme: Programme, registry: Registry, unit: str, period: Period) -> datetime:
    """The unit's due time for *period*, aware in Beijing time."""
    return period.due(unit_reporting(programme, registry, unit)).replace(tzinfo=CHINA)


@dataclass(frozen=True)
class UnitStatus:
    """One lead unit's report for one period."""

    unit: str
    state: str  # one of STATES
    due: datetime
    received_at: datetime | None = None
    received_source: str | None = None
    file: str | None = None
    submission_id: int | None = None
    past_due: bool = True  # False while a missing unit still has time

    @property
    def name(self) -> str:
        """按时报送 / 未报送（未到截止时间） …"""
        return STATE_NAMES[self.state] + (NOT_YET_DUE if self.state == "missing" and not self.past_due else "")

    def as_dict(self) -> dict:
        return {
            "unit": self.unit,
            "state": self.state,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "received_source": self.received_source,
            "due": self.due.isoformat(),
            "past_due": self.past_due,
            "file": self.file,
        }


def period_status(run: Run) -> list[UnitStatus]:
    """One row per lead unit of the run's registry, in registry order, for the run's period."""
    programme, period, registry = run.programme, run.period, run.registry
    current = {s.unit: s for s in run.store.current_submissions(programme.id, period.key) if s.unit}
    rows = []
    for unit in registry.lead_units():
        due = due_for(programme, registry, unit, period)
        sub = current.get(unit)
        if sub is None:
            rows.append(UnitStatus(unit, "missing", due, past_due=run.now > due))
            continue
        received = to_china_time(sub.received_at)
        if sub.outcome == "rejected":
            state = "rejected"
        else:
            state = "on_time" if received <= due else "late"
        rows.append(UnitStatus(unit, state, due, received, sub.received_source, sub.source_name, sub.id))
    return rows
