"""``ledger collect``: gather → pre-check → read → check → store → receipt.

Each file is judged on its own (:mod:`ledger.collect.verdict`, in this process or in
workers: :mod:`ledger.collect.pool`); one broken file never stops the others, and nothing
is stored for a file until it has been read and checked completely. A file that cannot
be read, whenever that shows (listing, judging or storing), is a problem of that file:
refused with a receipt, not stored. Storing is done by this process alone, in input order,
so the store sees the same sequence whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.intake import candidates, stream
from ledger.collect.pool import Judging
from ledger.collect.verdict import JudgeContext, Judged, known, with_data
from ledger.config import Programme
from ledger.periods import Period
from ledger.problems import Problem
from ledger.run import Run
from ledger.store import Store, Submission


@dataclass
class CollectedFile:
    """One incoming file and what became of it."""

    file: str
    unit: str | None
    period: str
    outcome: str  # accepted | rejected | duplicate | superseded (ledger.reporting.OUTCOME_NAMES)
    problems: list[Problem]
    received_at: datetime
    received_source: str
    sha256: str
    submission_id: int | None = None
    identified_by: str = "none"
    sender: str = ""  # the From of the e-mail it came in, if any

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "unit": self.unit,
            "period": self.period,
            "outcome": self.outcome,
            "received_at": self.received_at.isoformat(),
            "received_source": self.received_source,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class CollectResult:
    programme: Programme
    period: Period
    files: list[CollectedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about containers, not submissions


def collect(run: Run, paths: Sequence[Path], *, jobs: int = 0, unit: str | None = None) -> CollectResult:
    """Collect every workbook under *paths* for the run's programme and period into its store.

    With *unit*, every file must be that lead unit's ledger (another unit's is sent back):
    what a unit uploads through its own link.

    Files are read and checked in *jobs* worker processes (``0``: :func:`~ledger.collect.pool.auto_workers`
    once there are enough files, else in this process; ``1``: in this process) and stored
    by this process alone, in input order; the outcome is the same either way.
    """
    result = CollectResult(run.programme, run.period)
    store = run.store
    context = JudgeContext(run.registry, run.programme, run.period, store.archive_dir, unit)
    # the pid tells a later command's clean-up whether this run is still going (fsutil.clean_leftovers)
    with tempfile.TemporaryDirectory(prefix=f"ledger-collect-{os.getpid()}-") as tmp:
        files = candidates(paths)
        items = (known(item, context, store.find) for item in stream(files, Path(tmp), now=run.now,
                                                                       problems=result.problems))
        judged = Judging(context, Path(tmp), jobs).judge(items, expected=len(files))
        with contextlib.closing(judged):
            for batch in judged:
                result.files.extend(_record([with_data(j, context) for j in batch], run.period, store))
    return result


def _record(batch: Sequence[Judged], period: Period, store: Store) -> list[CollectedFile]:
    """Store judged files in one transaction (except another period's) and say what became of each."""
    stored = iter(store.ingest_many([j.received for j in batch if not j.not_stored]))
    out = []
    for judged in batch:
        item = judged.item
        submission: Submission | None = None if judged.not_stored else next(stored)
        out.append(CollectedFile(
            file=item.name,
            unit=judged.received.unit,
            period=period.key,
            outcome=submission.outcome if submission else "rejected",
            problems=judged.problems,
            received_at=item.received_at,
            received_source=item.received_source,
            sha256=judged.received.sha256,
            submission_id=submission.id if submission else None,
            identified_by=judged.identified_by,
            sender=item.sender,
        ))
    return out
