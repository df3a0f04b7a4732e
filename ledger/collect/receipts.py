"""Receipts (回执): what each unit is told about the file it sent.

One text per received file (per content hash), rendered from ``templates/receipt.txt.j2``
so the office can reword it, and never rewritten: the same bytes received again keep the
receipt of their first verdict. Problems are listed next to their task and cell, errors
first; a late file's receipt says how late it is and what the scoring rules deduct. The reply
e-mail that carries a receipt is built by :mod:`ledger.mail.replies`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger import templating
from ledger.collect.api import CollectedFile, CollectResult
from ledger.due import day_and_time, lateness_text, moment_text
from ledger.errors import WorkspaceError
from ledger.fsutil import AtomicBatch, safe_filename
from ledger.periods import cn_date, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.registry.model import Registry
from ledger.reporting import OUTCOME_VERDICTS, due_for, received_text
from ledger.run import Run

RECEIPT_TEMPLATE = "receipt.txt.j2"
RECEIPTS_DIR = "receipts"
RECEIPT_SUFFIX = "_回执.txt"
#: outcomes a receipt is written for: a file of another period was not collected and gets none
RECEIPT_OUTCOMES = ("accepted", "rejected", "superseded", "duplicate")
RECEIPT_NOT_WRITTEN = ProblemType(
    "receipt-not-written", "error",
    "该文件已按上面的结果登记，但回执未能写出：{value} 排除原因后，重新收集同一批文件即可补写回执")


@dataclass(frozen=True)
class Receipt:
    """The receipt of one received file, and what its reply needs."""

    file: str
    unit: str | None
    outcome: str  # the file's first verdict: accepted | rejected | superseded
    key: str  # the file's content hash (a hash of its name when it could not be read)
    sender: str
    received_at: datetime
    text: str
    text_path: Path
    late: bool = False
    written: bool = True  # False: the receipt of these bytes was on disk already and is left as it was

    @property
    def stem(self) -> str:
        """File name stem shared by the receipt and its reply: 市交通运输局_1a2b3c4d."""
        return self.text_path.name.removesuffix(RECEIPT_SUFFIX)


def _line(p: Problem, registry: Registry) -> dict[str, str]:
    task_text = ""
    if p.task:
        try:
            text = registry.task(p.task).text
            task_text = text if len(text) <= 24 else text[:24] + "…"
        except KeyError:
            task_text = ""
    where = "，".join(x for x in (p.sheet and f"工作表“{p.sheet}”", p.cell and f"单元格 {p.cell}") if x)
    return {"task": p.task or "", "task_text": task_text, "where": where, "message": p.message}


def _key(item: CollectedFile) -> str:
    """The file's content hash; for a file that could not be read, a hash of its name."""
    return item.sha256 or hashlib.sha256(item.file.encode("utf-8")).hexdigest()


def _stem(item: CollectedFile) -> str:
    base = item.unit or Path(item.file.split(" / ")[-1]).stem
    return f"{safe_filename(base)}_{_key(item)[:8]}"


@dataclass(frozen=True)
class _Verdict:
    """What a receipt tells: the first verdict on the bytes, when and how they were received."""

    outcome: str
    received_at: datetime
    received_source: str
    problems: tuple[Problem, ...]


def _first_verdict(run: Run, item: CollectedFile) -> _Verdict:
    """This run's verdict, or for bytes stored before (a repeat) the stored one: a receipt
    written for a repeat, e.g. after a run was killed before its receipts, says what the first
    run decided, not "duplicate"."""
    if item.outcome == "duplicate" and item.submission_id is not None:
        stored = run.store.submission(item.submission_id)
        if stored is not None:
            return _Verdict(stored.outcome, to_china_time(stored.received_at), stored.received_source,
                            stored.problems)
    return _Verdict(item.outcome, item.received_at, item.received_source, tuple(item.problems))


def late_text(run: Run, due: datetime, received: datetime) -> str:
    """截止6月10日16时，收到6月11日12时，逾期20小时；按考核办法，逾期报送的当期扣1分 ("" when on time)."""
    late = lateness_text(due, received)
    if not late:
        return ""
    year = run.period.year
    text = f"截止{moment_text(due, year)}，收到{moment_text(received, year)}，逾期{late}"
    if run.ws.scoring.late:
        text += f"；按考核办法，逾期报送的当期扣{run.ws.scoring.late:g}分"
    return text


def receipt_text(run: Run, result: CollectResult, item: CollectedFile) -> str:
    """The receipt for one file, rendered from the office's template."""
    return _render(run, result, item, _first_verdict(run, item))


def _due(run: Run, result: CollectResult, item: CollectedFile) -> datetime | None:
    return due_for(result.programme, run.registry, item.unit, result.period) if item.unit else None


def _render(run: Run, result: CollectResult, item: CollectedFile, first: _Verdict,
            due: datetime | None = None) -> str:
    reporting = result.programme.reporting
    registry = run.registry
    due = due or _due(run, result, item)
    year = result.period.year
    late = late_text(run, due, first.received_at) if due and first.outcome != "rejected" else ""
    return templating.render(
        run.ws,
        RECEIPT_TEMPLATE,
        unit=item.unit,
        programme_title=result.programme.title,
        period_label=result.period.label(),
        file=item.file,
        received_at=received_text(first.received_at, first.received_source, year),
        due=day_and_time(due, year) if due else "—",
        past_due=due is not None and run.now > due,
        outcome=first.outcome,
        verdict=OUTCOME_VERDICTS[first.outcome],
        late=late,
        errors=[_line(p, registry) for p in first.problems if p.is_error],
        warnings=[_line(p, registry) for p in first.problems if not p.is_error],
        office=reporting.office,
        contact=reporting.contact,
        phone=reporting.phone,
        today=cn_date(run.now.date()),
    )


def existing_receipt(folder: Path, key: str) -> Path | None:
    """The receipt already written for the bytes with hash *key*, if any."""
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.glob(f"*_{key[:8]}{RECEIPT_SUFFIX}")) if p.is_file()), None)


def receipts_by_key(folder: Path) -> dict[str, Path]:
    """Every receipt in *folder* by the first eight characters of the hash it answers (as
    :func:`write_receipts` names them): one listing for a whole period's status board."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob(f"*{RECEIPT_SUFFIX}")) if folder.is_dir() else ():
        found.setdefault(path.name.removesuffix(RECEIPT_SUFFIX).rsplit("_", 1)[-1], path)
    return found


class Receipts:
    """The receipts of one run: rendered as its files are stored (:meth:`add`), written together
    at the end (:meth:`write`), so that the rendering overlaps with judging the other files."""

    def __init__(self, run: Run, out_dir: Path | None = None) -> None:
        self.run = run
        self.folder = out_dir or run.out_dir() / RECEIPTS_DIR
        self.receipts: list[Receipt] = []
        self._on_disk = {key: path for key, path in receipts_by_key(self.folder).items() if path.is_file()}
        self._done: set[str] = set()

    def add(self, result: CollectResult, files: Sequence[CollectedFile]) -> list[Receipt]:
        """The receipts of *files* (the run's *result*'s), new or found on disk; those of bytes
        already answered in this run, and of another period's files, are none."""
        run, added = self.run, []
        for item in files:
            if item.outcome not in RECEIPT_OUTCOMES:
                continue
            key = _key(item)
            if key in self._done:
                continue
            self._done.add(key)
            first = _first_verdict(run, item)
            due = _due(run, result, item)
            late = due is not None and first.outcome != "rejected" and first.received_at > due
            found = self._on_disk.get(key[:8])
            if found is not None:
                added.append(Receipt(item.file, item.unit, first.outcome, key, item.sender, first.received_at,
                                     found.read_text(encoding="utf-8"), found, late, written=False))
                continue
            added.append(Receipt(item.file, item.unit, first.outcome, key, item.sender, first.received_at,
                                 _render(run, result, item, first, due), self.folder / f"{_stem(item)}{RECEIPT_SUFFIX}",
                                 late))
        self.receipts += added
        return added

    def write(self, problems: list[Problem]) -> list[Receipt]:
        """Write the new receipts atomically, flushed to disk together (one flush, not one each);
        one that cannot be written goes to *problems* (``receipt-not-written``) and the list returned."""
        kept: list[Receipt] = []
        with AtomicBatch(keep_going=True) as batch:
            for receipt in self.receipts:
                try:
                    if receipt.written:
                        batch.write_text(receipt.text_path, receipt.text)
                except WorkspaceError as exc:
                    problems.append(RECEIPT_NOT_WRITTEN(file=receipt.file, value=str(exc)))
                    continue
                kept.append(receipt)
        for receipt in [r for r in kept if r.text_path in batch.failed]:
            problems.append(RECEIPT_NOT_WRITTEN(file=receipt.file, value=str(batch.failed[receipt.text_path])))
            kept.remove(receipt)
        return kept


def write_receipts(run: Run, result: CollectResult, out_dir: Path | None = None, *,
                   prepared: Receipts | None = None) -> list[Receipt]:
    """A receipt per received file into ``out/<programme>/<period>/receipts/``, never rewritten.

    A receipt belongs to the bytes it answers (their hash): bytes whose receipt is on disk
    already (a repeat, in this run or an earlier one, or after a run that was stopped) keep it
    as it was (``written`` False). Files of another period get none: they were not collected.
    The new receipts are written atomically and reach the disk together. A receipt that cannot
    be written is a problem of the run (``receipt-not-written`` in ``result.problems``); the
    others are written all the same. *prepared* holds the receipts of *result* rendered while
    it was collected (:class:`Receipts`).
    """
    receipts = prepared
    if receipts is None:
        receipts = Receipts(run, out_dir)
        receipts.add(result, result.files)
    return receipts.write(result.problems)
