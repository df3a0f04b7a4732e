"""Times as the store writes them: fixed-width UTC text, so that string order is time order."""

from __future__ import annotations

from datetime import UTC, datetime


def ts(value: datetime) -> str:
    """*value* as stored; a naive value is local time."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def read_ts(text: str | None) -> datetime | None:
    """A stored time back, aware in local time (None stays None)."""
    return datetime.fromisoformat(text).astimezone() if text else None
