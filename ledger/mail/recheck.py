"""Before the outbox is sent: is every 催报 still true?

A 催报 draft says a unit's report is missing, or was sent back; by the time the office sends
the outbox the unit may have reported. ``ledger mail send`` checks each 催报 against the store
at send time and takes those that are no longer true out of the outbox
(:func:`~ledger.mail.drafts.withdraw_drafts`), saying which and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

from ledger.fsutil import safe_filename
from ledger.mail.drafts import REMINDER_HEADER, REMINDER_SUFFIX, UNIT_HEADER, reminder_basis
from ledger.reporting import STATE_NAMES, UnitStatus, period_status, received_text
from ledger.run import Run


@dataclass(frozen=True)
class Stale:
    """A 催报 draft that is no longer true, and what is true now."""

    path: Path
    unit: str
    now: str


def stale_reminders(run: Run, outbox: Path) -> list[Stale]:
    """The 催报 drafts in *outbox* whose unit has reported since, or whose report changed."""
    drafts = [(path, *_reminder(path)) for path in sorted(outbox.glob("*.eml")) if path.is_file()]
    drafts = [(path, unit, basis) for path, unit, basis in drafts if unit or path.stem.endswith(REMINDER_SUFFIX)]
    if not drafts:
        return []
    rows = {r.unit: r for r in period_status(run)}
    by_name = {f"{run.period.key}_{safe_filename(u)}{REMINDER_SUFFIX}": u for u in rows}
    stale = []
    for path, unit, basis in drafts:
        unit = unit or by_name.get(path.stem, "")
        row = rows.get(unit)
        if row is None:
            stale.append(Stale(path, unit or path.stem, "已不是本期的牵头单位"))
            continue
        current = reminder_basis(row)
        if current == "reported" or (basis and current != basis):
            stale.append(Stale(path, unit, _what_is_true(row, run.period.year)))
    return stale


def _reminder(path: Path) -> tuple[str, str]:
    """(unit, basis) of a 催报 draft from its ledger headers; ("", "") for other drafts (and for
    催报 drafted before the headers existed: then the file name tells the unit)."""
    headers = BytesParser(policy=policy.default).parsebytes(path.read_bytes(), headersonly=True)
    basis = str(headers.get(REMINDER_HEADER, "") or "").strip()
    unit = str(headers.get(UNIT_HEADER, "") or "").strip()
    return (unit, basis) if basis else ("", "")


def _what_is_true(row: UnitStatus, year: int) -> str:
    when = received_text(row.received_at, row.received_source, year) if row.received_at else ""
    if row.state in ("on_time", "late"):
        return f"已于{when}报送（{STATE_NAMES[row.state]}）"
    if row.state == "rejected":
        return f"此后报送的“{row.file}”（{when}）被退回，催报内容已不符，请重新生成催报"
    return STATE_NAMES[row.state]
