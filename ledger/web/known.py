"""Which periods and months of a programme there is something to show for: the folders
``ledger`` wrote under ``out/<programme>/``, and the period that contains today."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.config import Programme, Workspace
from ledger.periods import Period, PeriodError, parse_month, parse_period, period_containing


def worked_periods(ws: Workspace, programme: Programme) -> list[Period]:
    """The periods with a folder in ``out/<programme>/`` (generated, collected or consolidated), oldest first."""
    found = set()
    for name in _folders(ws, programme):
        try:
            found.add(parse_period(name, programme.reporting.cycle))
        except PeriodError:
            continue
    return sorted(found)


def current_period(programme: Programme, today: date) -> Period:
    """The period of the programme's cycle that contains *today*."""
    return period_containing(today, programme.reporting.cycle)


def month_of(period: Period) -> str:
    """The month whose assessment counts *period* (a week by its Friday, as ``periods_in_month``)."""
    anchor = period.start + timedelta(days=4) if period.cycle == "weekly" else period.end
    return f"{anchor.year}-{anchor.month:02d}"


def worked_months(ws: Workspace, programme: Programme) -> list[str]:
    """Months with a worked period or a month folder of their own, oldest first."""
    months = {month_of(p) for p in worked_periods(ws, programme)}
    for name in _folders(ws, programme):
        try:
            months.add(parse_month(name).key)
        except PeriodError:
            continue
    return sorted(months)


def _folders(ws: Workspace, programme: Programme) -> list[str]:
    root = ws.paths.out / programme.id
    if not root.is_dir():
        return []
    return [p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
