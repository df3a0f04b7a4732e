"""Pre-fill from history: each unit's last accepted report becomes this period's 上期进展."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ledger.layout import PreviousReport
from ledger.run import Run


def previous_from_store(run: Run) -> Callable[[str], Mapping[str, PreviousReport]]:
    """A ``previous_for`` for :func:`ledger.generate.generate` reading the run's history store.

    The last accepted report *before* the run's period counts, so a unit that skipped a
    week still sees what it last reported.
    """
    store, programme_id, period_key = run.store, run.programme.id, run.period.key

    def previous_for(unit: str) -> Mapping[str, PreviousReport]:
        found = store.last_accepted_before(programme_id, period_key, unit)
        if found is None:
            return {}
        _submission, entries = found
        return {e.task_id: PreviousReport(e.progress, e.cumulative, e.percent, e.status) for e in entries}

    return previous_for
