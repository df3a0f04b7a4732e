"""Who reported for a period: on time, late, missing or rejected, from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.collect.api import due_for
from ledger.config import Workspace
from ledger.periods import CHINA, Period, parse_period, to_china_time
from ledger.registry.model import Registry
from ledger.stage import load_registry, open_workspace_store
from ledger.store import Store

STATES = ("on_time", "late", "missing", "rejected")
STATE_NAMES = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "rejected": "退回待改"}
SOURCE_NAMES = {"email": "邮件发送时间", "collected": "收集时间"}


@dataclass(frozen=True)
class UnitStatus:
    unit: str
    state: str
    due: datetime
    received_at: datetime | None = None
    received_source: str | None = None
    file: str | None = None
    submission_id: int | None = None
    past_due: bool = True  # False while a missing unit still has time

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


def period_status(
    programme_id: str, period: Period, registry: Registry, store: Store, ws: Workspace, *, now: datetime | None = None
) -> list[UnitStatus]:
    """One row per lead unit of the registry, in the registry's order."""
    programme = ws.programme(programme_id)
    moment = to_china_time(now or datetime.now(CHINA))
    current = {s.unit: s for s in store.current_submissions(programme_id, period.key) if s.unit}
    rows = []
    for unit in registry.lead_units():
        due = due_for(programme, registry, unit, period)
        sub = current.get(unit)
        if sub is None:
            rows.append(UnitStatus(unit, "missing", due, past_due=moment > due))
            continue
        received = to_china_time(sub.received_at)
        if sub.outcome == "rejected":
            state = "rejected"
        else:
            state = "on_time" if received <= due else "late"
        rows.append(UnitStatus(unit, state, due, received, sub.received_source, sub.source_name, sub.id))
    return rows


def status(ws: Workspace, programme_id: str, period_text: str, *, now: datetime | None = None,
           store: Store | None = None) -> tuple[Period, list[UnitStatus]]:
    """``ledger status``: the period's reporting state per lead unit."""
    programme = ws.programme(programme_id)
    period = parse_period(period_text, programme.reporting.cycle)
    registry = load_registry(ws, programme_id)
    if store is not None:
        return period, period_status(programme_id, period, registry, store, ws, now=now)
    with open_workspace_store(ws) as own:
        return period, period_status(programme_id, period, registry, own, ws, now=now)


def reminder_reasons(rows: list[UnitStatus], store: Store | None = None) -> dict[str, str]:
    """Why each missing or rejected unit is reminded, in the words of the 催报 e-mail."""
    reasons: dict[str, str] = {}
    for row in rows:
        if row.state == "missing":
            reasons[row.unit] = f"截至目前尚未收到你单位报送的工作台账（截止时间 {row.due:%Y年%-m月%-d日 %H:%M}）"
        elif row.state == "rejected":
            detail = ""
            if store is not None and row.submission_id is not None:
                sub = store.submission(row.submission_id)
                errors = [p for p in (sub.problems if sub else ()) if p.is_error]
                if errors:
                    first = errors[0]
                    where = f"{first.cell}：" if first.cell else ""
                    more = f"等 {len(errors)} 处问题" if len(errors) > 1 else ""
                    detail = f"（{where}{first.message}{more}，详见回执）"
            reasons[row.unit] = f"你单位报送的工作台账“{row.file}”未通过校验，已退回{detail}"
    return reasons
