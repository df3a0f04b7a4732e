"""The verdict on one received file: pre-check, read, check, archive the original.

Judging touches nothing shared but the content-addressed archive, so it can run in a
worker process (:mod:`ledger.collect.pool`); the parent stores the verdicts
(:mod:`ledger.collect.api`). Whatever goes wrong with one file is a problem of that file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger.collect.checks import Checked, Sent, check_workbook
from ledger.collect.intake import Incoming
from ledger.collect.reader import READER_CRASHED, read_returned
from ledger.config import Programme
from ledger.errors import WorkspaceError
from ledger.periods import Period
from ledger.problems import Problem, ProblemType
from ledger.registry.model import Registry
from ledger.run import Run
from ledger.secret import SECRET_NAME, key_id
from ledger.sniff import sniff
from ledger.store import Received, Store, StoreError, Submission
from ledger.store import archive as archiving

FILE_NOT_READ = ProblemType(
    "file-not-read", "error", "无法从磁盘读取该文件（{value}），未登记；请检查文件是否仍在、是否有读取权限，然后重新收集"
)
FILE_UNREADABLE = ProblemType(
    "file-unreadable", "error", "文件无法读取（{value}）。请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
)
FILE_CHANGED = ProblemType(
    "file-changed", "error", "文件在收集过程中被改动，未登记；请确认文件已保存好后重新收集"
)
READER_DIED = "读取文件时读取程序异常退出，文件可能已损坏或被篡改；请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
#: another period's or programme's file: refused but not stored, so that collecting its own
#: period later still accepts it
NOT_THIS_PERIOD = {"wrong-period", "wrong-programme"}
_NAME_UNIT = re.compile(r"^[^_]+_(.+?)_工作台账")


@dataclass(frozen=True)
class JudgeContext:
    """What judging any file of one run needs; sent to each worker once, not per file."""

    registry: Registry
    programme: Programme
    period: Period
    sent: Sent  # what the office sent for the period, and the workspace key
    archive_dir: Path | None = None  # where judging archives the originals it will have stored
    expected_unit: str | None = None  # files must be this unit's (a unit reporting through its own link)


def judge_context(run: Run, store: Store, expected_unit: str | None = None) -> JudgeContext:
    """The context of judging the run's files: its registry, and what generate recorded as sent
    for its period (:class:`~ledger.store.Manifest`). Records made under another workspace key
    cannot be checked: a :class:`~ledger.errors.WorkspaceError` says so before any file is judged."""
    manifests = store.manifests(run.programme.id, run.period.key)
    current = key_id(run.key)
    other = sorted({m.key_id for m in manifests.values()} - {current})
    if other:
        raise WorkspaceError(
            f"{run.period.label()}的台账是用另一把工作区密钥（编号 {'、'.join(other)}）生成的，本工作区现在的密钥"
            f"（{SECRET_NAME}，编号 {current}）核对不了这些台账。请把生成台账时的 {SECRET_NAME} 放回工作区根目录"
            "后重新收集；找不回时，须重新生成并发出本期台账。")
    return JudgeContext(run.registry, run.programme, run.period, Sent(run.key, manifests), store.archive_dir,
                        expected_unit)


@dataclass
class Judged:
    """One file read and checked, ready to be stored (``received.data`` is filled in by the parent)."""

    item: Incoming
    problems: list[Problem]
    received: Received
    identified_by: str
    #: refused but not stored: another period's or programme's file (see NOT_THIS_PERIOD), or a
    #: file that could not be read from disk at all (nothing to store)
    not_stored: bool
    #: another period of this programme the file is for ("" when its period is not known), or
    #: None: such a file is not collected in this run at all
    other_period: str | None = None


def judge_file(item: Incoming, context: JudgeContext) -> Judged:
    """Pre-check, read and check one file. The file is read once: its hash, the checks and
    the archived copy all come from the same bytes."""
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return refused(item, context, FILE_NOT_READ(file=item.name, value=exc.strerror or str(exc)))
    if item.refusal is not None:  # a mail or zip archive that intake did not open
        refusal = item.refusal
        return archived(verdict(item, context, data, refusal.kind, None, list(refusal.problems)), context, data)
    checked: Checked | None = None
    try:
        read, problems = read_returned(data, display_name=item.name)
    except Exception as exc:  # noqa: BLE001 - an unforeseen reader failure is this file's problem
        read, problems = None, [FILE_UNREADABLE(file=item.name, value=f"{type(exc).__name__}: {exc}"[:300])]
    if read is not None:
        checked = check_workbook(read, file=item.name, registry=context.registry, programme=context.programme,
                                 period=context.period, sent=context.sent, expected_unit=context.expected_unit)
        problems.extend(checked.problems)
    detected = read.format if read is not None else sniff(data).kind
    return archived(verdict(item, context, data, detected, checked, problems), context, data)


def known(item: Incoming, context: JudgeContext, find: Callable[[str], Submission | None]) -> Incoming | Judged:
    """The verdict already stored for the same bytes in this programme and period, so that a
    file sent again (or collected again) is not parsed again; else *item*, to be judged.

    *find* looks a hash up in the store. The store records the same bytes once, so storing this
    verdict gives the stored file as a duplicate and writes nothing, as judging it again would.
    The same bytes stored for another period or programme are judged (and refused as such).
    """
    try:
        with open(item.path, "rb") as fh:
            stored = find(hashlib.file_digest(fh, "sha256").hexdigest())
        if stored is None or (stored.programme, stored.period) != (context.programme.id, context.period.key):
            return item
        data = item.path.read_bytes()
    except OSError:
        return item  # judging says what is wrong with it
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        return item  # changed meanwhile: judged as it is now
    received = Received(
        sha256=stored.sha256, source_name=item.name, data=b"", detected_type=stored.detected_type,
        received_at=item.received_at, received_source=item.received_source,  # type: ignore[arg-type]
        sender=item.sender, programme=stored.programme, period=stored.period, unit=stored.unit,
        outcome="rejected" if stored.outcome == "rejected" else "accepted", problems=stored.problems,
    )
    return archived(Judged(item, list(stored.problems), received, "none", not_stored=False), context, data)


def crashed(item: Incoming, context: JudgeContext) -> Judged:
    """The verdict on a file whose reader killed its process twice."""
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return refused(item, context, FILE_NOT_READ(file=item.name, value=exc.strerror or str(exc)))
    problem = READER_CRASHED(file=item.name, detail=READER_DIED)
    return archived(verdict(item, context, data, sniff(data).kind, None, [problem]), context, data)


def refused(item: Incoming, context: JudgeContext, problem: Problem) -> Judged:
    """A file with nothing to store (gone, unreadable, changed since judged): refused with *problem*."""
    received = Received("", item.name, b"", "unknown", item.received_at, item.received_source,  # type: ignore[arg-type]
                        item.sender, context.programme.id, context.period.key,
                        attributed(item, context), "rejected", (problem,))
    return Judged(item, [problem], received, "none", not_stored=True)


def archived(judged: Judged, context: JudgeContext, data: bytes) -> Judged:
    """Archive the original of a file that will be stored, so that the parent only records it.

    The archive is content-addressed and idempotent: a copy archived for a file the parent
    then finds a duplicate is the same copy. On failure the parent archives it itself and
    reports the error. The parent flushes the copies of a batch to disk together before it
    records them (:meth:`ledger.store.sqlite.SQLiteStore.ingest_many`).
    """
    if judged.not_stored or context.archive_dir is None:
        return judged
    received = judged.received
    try:
        rel = archiving.archive_received(context.archive_dir, received, data, flush=False)
    except StoreError:
        return judged
    judged.received = dataclasses.replace(received, archived=rel, size=len(data))
    return judged


def verdict(item: Incoming, context: JudgeContext, data: bytes, detected: str, checked: Checked | None,
            problems: list[Problem]) -> Judged:
    """The verdict on one file from what reading and checking found."""
    unit = attributed(item, context, checked.unit if checked else None)
    outcome = "accepted" if checked is not None and not any(p.is_error for p in problems) else "rejected"
    received = Received(
        sha256=hashlib.sha256(data).hexdigest(),
        source_name=item.name,
        data=b"",  # archived by judging, or read again by the parent: never sent back from a worker
        detected_type=detected,
        received_at=item.received_at,
        received_source=item.received_source,  # type: ignore[arg-type]
        sender=item.sender,
        programme=context.programme.id,
        period=context.period.key,
        unit=unit,
        outcome=outcome,
        problems=tuple(problems),
        entries=tuple(checked.entries) if checked and outcome == "accepted" else (),
        expected_unit=context.expected_unit,
    )
    codes = {p.code for p in checked.problems} if checked is not None else set()
    period = (checked.period or "") if checked is not None and codes & NOT_THIS_PERIOD == {"wrong-period"} else None
    return Judged(item, problems, received, checked.identified_by if checked else "none", bool(codes & NOT_THIS_PERIOD),
                  period)


def with_data(judged: Judged, context: JudgeContext) -> Judged:
    """What the store takes: the archived copy, or the bytes when judging could not archive
    them; a file that cannot be read again, or changed since it was judged, is refused here."""
    received = judged.received
    if judged.not_stored or received.archived:
        return judged
    item = judged.item
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return refused(item, context, FILE_NOT_READ(file=item.name, value=exc.strerror or str(exc)))
    if hashlib.sha256(data).hexdigest() != received.sha256:
        return refused(item, context, FILE_CHANGED(file=item.name))
    judged.received = dataclasses.replace(received, data=data)
    return judged


def attributed(item: Incoming, context: JudgeContext, named: str | None = None) -> str | None:
    """Whose file this is: the unit whose own link it came through, whatever it holds (another
    unit's workbook sent there is that unit's mistake, not the other's report); else the unit
    the workbook names (*named*); else the unit of the name generate gave the file."""
    return context.expected_unit or named or unit_from_name(item.name, context.registry)


def unit_from_name(name: str, registry: Registry) -> str | None:
    """A rejected file is still attributed when its name is the one generate gave it."""
    m = _NAME_UNIT.match(Path(name.split(" / ")[-1]).name)
    if m and m.group(1) in registry.index().by_unit:
        return m.group(1)
    return None
