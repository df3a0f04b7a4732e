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
import dataclasses
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.intake import SKIPPED, candidates, clock, stream
from ledger.collect.pool import BATCH_MAX, Judging
from ledger.collect.verdict import JudgeContext, Judged, judge_context, known, with_data
from ledger.config import Programme
from ledger.periods import Period, PeriodError, parse_period
from ledger.problems import Problem
from ledger.progress import QUIET, Progress
from ledger.run import Run
from ledger.store import Store, Submission


@dataclass
class CollectedFile:
    """One incoming file and what became of it."""

    file: str
    unit: str | None
    period: str
    outcome: str  # accepted | rejected | duplicate | superseded | other_period (ledger.reporting.OUTCOME_NAMES)
    problems: list[Problem]
    received_at: datetime
    received_source: str
    sha256: str
    submission_id: int | None = None
    identified_by: str = "none"
    sender: str = ""  # the From of the e-mail it came in, if any
    detected_type: str = ""
    #: a mail or zip archive refused whole: nothing in it was collected (intake's Refusal)
    unopened: bool = False

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "unit": self.unit,
            "period": self.period,
            "outcome": self.outcome,
            "received_at": self.received_at.isoformat(),
            "received_source": self.received_source,
            "detected_type": self.detected_type,
            "unopened": self.unopened,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class CollectResult:
    programme: Programme
    period: Period
    files: list[CollectedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about containers, not submissions
    #: the other period most of the run's files are for ("" when not known): then nothing was
    #: stored and :attr:`files` is empty (see :func:`collect`)
    wrong_period: str | None = None
    held: int = 0  # files judged but not collected because of wrong_period

    @property
    def skipped(self) -> list[Problem]:
        """What was received but not collected: skipped files and attachments."""
        return [p for p in self.problems if p.code in SKIPPED]

    @property
    def unopened(self) -> list[CollectedFile]:
        """Mail and zip archives refused whole (too large, deep or wide, a bomb, nested, damaged)."""
        return [f for f in self.files if f.unopened]

    @property
    def other_period(self) -> list[CollectedFile]:
        """Files of another period of the programme: not collected, no receipt."""
        return [f for f in self.files if f.outcome == "other_period"]

    def wrong_period_label(self) -> str:
        """2024年3月: the period most files are for, as a person reads it ("" when not known)."""
        if not self.wrong_period:
            return ""
        try:
            return parse_period(self.wrong_period, self.period.cycle).label()
        except PeriodError:
            return self.wrong_period


def collect(run: Run, paths: Sequence[Path], *, jobs: int = 0, unit: str | None = None,
            received_at: datetime | None = None, other_periods: bool = False,
            progress: Progress = QUIET, on_stored: Stored | None = None) -> CollectResult:
    """Collect every workbook under *paths* for the run's programme and period into its store.

    With *unit*, every file must be that lead unit's ledger (another unit's is sent back):
    what a unit uploads through its own link. *received_at* is when the office knows the
    files that did not come in an e-mail were received (``--received-at``; see
    :class:`~ledger.collect.intake.Clock`).

    When most files of the run are for another period of the programme (a typo in
    ``--period``), nothing is stored: the result names that period (:attr:`CollectResult.wrong_period`)
    unless *other_periods* says to go on. Either way a file of another period is not stored
    and gets no receipt (outcome ``other_period``).

    Files are read and checked in *jobs* worker processes (``0``: :func:`~ledger.collect.pool.auto_workers`
    once there are enough files, else in this process; ``1``: in this process) and stored
    by this process alone, in input order; the outcome is the same either way. *progress* is
    told of every file judged; *on_stored* gets the files of each transaction once it is
    committed (the command line renders their receipts meanwhile, while workers judge).
    """
    result = CollectResult(run.programme, run.period)
    store = run.store
    context = judge_context(run, store, unit)
    # the pid tells a later command's clean-up whether this run is still going (fsutil.clean_leftovers)
    with tempfile.TemporaryDirectory(prefix=f"ledger-collect-{os.getpid()}-") as tmp:
        files = candidates(paths)
        progress.start(len(files), "文件")
        # Only files stored by earlier runs take their stored verdict: whether a copy stored in
        # this run is found depends on how far the workers have got, and the verdict must not.
        stored_here: set[str] = set()

        def stored_before(sha256: str) -> Submission | None:
            return None if sha256 in stored_here else store.find(sha256)

        items = (known(item, context, stored_before)
                 for item in stream(files, Path(tmp), clock=clock(run.now, received_at), problems=result.problems))
        judged = Judging(context, Path(tmp), jobs).judge(items, expected=len(files))
        check = _PeriodCheck(len(files), decided=other_periods)
        ready: list[Judged] = []  # stored BATCH_MAX at a time: one flush and one transaction each
        with contextlib.closing(judged):
            for batch in judged:
                progress.advance(batch[-1].item.name, len(batch))
                stored_here.update(j.received.sha256 for j in batch)
                ready += check.take(batch)
                while len(ready) >= BATCH_MAX:
                    _store(result, ready[:BATCH_MAX], context, store, on_stored)
                    del ready[:BATCH_MAX]
        _store(result, ready, context, store, on_stored)
        result.wrong_period = check.wrong_period()
        if result.wrong_period is not None:
            result.held = len(check.held)
            return result
        _store(result, check.held, context, store, on_stored)
    return result


def check_file(run: Run, path: Path, *, unit: str | None = None) -> list[Problem]:
    """What :func:`collect` would find in the one workbook at *path* for the run's programme and
    period (with *unit*, as that unit's own), judged without storing or archiving anything: the
    web page's form checks a unit's entries so before saving them as a submission."""
    from ledger.collect.intake import Incoming
    from ledger.collect.verdict import judge_file

    item = Incoming(path.name, path, run.now, "collected")
    context = dataclasses.replace(judge_context(run, run.store, unit), archive_dir=None)
    return judge_file(item, context).problems


#: what collect tells of each committed transaction: the run's result so far, the files just stored
Stored = Callable[[CollectResult, list[CollectedFile]], None]


def _store(result: CollectResult, judged: Sequence[Judged], context: JudgeContext, store: Store,
           on_stored: Stored | None) -> None:
    """Store *judged* in transactions of at most BATCH_MAX files (held verdicts come all at once),
    their archived originals flushed to disk together before each."""
    for start in range(0, len(judged), BATCH_MAX):
        chunk = judged[start:start + BATCH_MAX]
        files = _record([with_data(j, context) for j in chunk], result.period, store)
        result.files.extend(files)
        if on_stored is not None:
            on_stored(result, files)


class _PeriodCheck:
    """Holds verdicts back until the run is known to be for its period: storing starts once most
    of the files seen (or expected) are this period's, so a run with a typo in ``--period``
    stores nothing while a right one stores as it goes."""

    def __init__(self, expected: int, *, decided: bool) -> None:
        self.expected = expected
        self.decided = decided
        self.held: list[Judged] = []
        self._here = 0  # held verdicts of this period

    def take(self, batch: list[Judged]) -> list[Judged]:
        """The verdicts that may be stored now."""
        if self.decided:
            return batch
        self.held.extend(batch)
        self._here += sum(j.other_period is None for j in batch)
        if 2 * self._here > max(self.expected, len(self.held)):
            self.decided = True
            ready, self.held = self.held, []
            return ready
        return []

    def wrong_period(self) -> str | None:
        """The other period most held files are for, once all are judged; None to store them."""
        others = [j.other_period for j in self.held if j.other_period is not None]
        if self.decided or not others or 2 * len(others) <= len(self.held):
            return None
        known = Counter(p for p in others if p)
        return known.most_common(1)[0][0] if known else ""


def _record(batch: Sequence[Judged], period: Period, store: Store) -> list[CollectedFile]:
    """Store judged files in one transaction (except another period's) and say what became of each."""
    stored = iter(store.ingest_many([j.received for j in batch if not j.not_stored]))
    out = []
    for judged in batch:
        item = judged.item
        submission: Submission | None = None if judged.not_stored else next(stored)
        outcome = submission.outcome if submission else "rejected"
        out.append(CollectedFile(
            file=item.name,
            unit=judged.received.unit,
            period=period.key,
            outcome="other_period" if judged.other_period is not None else outcome,
            problems=judged.problems,
            received_at=item.received_at,
            received_source=item.received_source,
            sha256=judged.received.sha256,
            submission_id=submission.id if submission else None,
            identified_by=judged.identified_by,
            sender=item.sender,
            detected_type=judged.received.detected_type,
            unopened=item.refusal is not None,
        ))
    return out
