"""``ledger collect``: gather → pre-check → read → check → store → receipt.

Each file is judged on its own; one broken file never stops the others, and nothing
is stored for a file until it has been read and checked completely. Judging (pre-check,
read, check) may run in worker processes; storing is done by this process alone, file by
file in input order, so the store sees the same sequence whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import multiprocessing
import os
import pickle
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ledger.collect.checks import Checked, check_workbook
from ledger.collect.intake import Incoming, candidates, stream
from ledger.collect.reader import READER_CRASHED, read_returned
from ledger.collect.sniff import sniff
from ledger.config import Programme, Workspace
from ledger.errors import InputError
from ledger.periods import CHINA, Period, parse_period, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.processes import can_fork, fresh_context, worker_context
from ledger.registry.model import Registry
from ledger.stage import load_registry, open_workspace_store, unit_reporting
from ledger.store import Received, Store, StoreError, Submission
from ledger.store import archive as archiving

FILE_NOT_READ = ProblemType(
    "file-not-read", "error", "无法从磁盘读取该文件（{value}），未登记；请检查文件是否仍在、是否有读取权限，然后重新收集"
)
FILE_UNREADABLE = ProblemType(
    "file-unreadable", "error", "文件无法读取（{value}）。请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
)

OUTCOME_NAMES = {"accepted": "通过", "rejected": "退回", "duplicate": "重复", "superseded": "已被替代"}
NOT_THIS_PERIOD = {"wrong-period", "wrong-programme"}
T = TypeVar("T")
_NAME_UNIT = re.compile(r"^[^_]+_(.+?)_工作台账")


@dataclass
class CollectedFile:
    """One incoming file and what became of it."""

    file: str
    unit: str | None
    period: str
    outcome: str  # accepted | rejected | duplicate | superseded
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


def collect(
    ws: Workspace,
    paths: Sequence[Path],
    programme_id: str,
    period_text: str,
    *,
    now: datetime | None = None,
    store: Store | None = None,
    registry: Registry | None = None,
    jobs: int = 0,
) -> CollectResult:
    """Collect every workbook under *paths* for one programme and period into the store.

    Files are read and checked in *jobs* worker processes (``0``: :func:`auto_workers` once there
    are :data:`AUTO_PARALLEL_FILES` files or more (workers that start fresh: more), else in
    this process; ``1``: in this
    process) and stored by this process alone, in input order; the outcome is the same
    either way.
    """
    programme = ws.programme(programme_id)
    period = parse_period(period_text, programme.reporting.cycle)
    registry = registry or load_registry(ws, programme_id)
    moment = to_china_time(now or datetime.now(CHINA))
    result = CollectResult(programme, period)
    own_store = store is None
    store = store or open_workspace_store(ws)
    try:
        with tempfile.TemporaryDirectory(prefix="ledger-collect-") as tmp:
            files = candidates(paths)
            items = stream(files, Path(tmp), now=moment, problems=result.problems)
            context = _Context(registry, programme, period, store.archive_dir)
            judged = _Judging(context, Path(tmp), jobs).judge(items, expected=len(files))
            with contextlib.closing(judged):
                for batch in judged:
                    result.files.extend(_record(batch, period, store))
    finally:
        if own_store:
            store.close()
    return result


# --- judging: in this process or in worker processes ------------------------------------------

#: auto mode judges in worker processes from this many files on. Forked workers start in
#: milliseconds and pay from 25–50 files on (2 cores, files of bench/bench_collect.py);
#: workers started fresh (forkserver, spawn) cost about a second and pay from 200–400.
AUTO_PARALLEL_FILES = 40
AUTO_PARALLEL_FILES_FRESH = 200
#: files handed out per worker before the oldest result is taken: enough that the workers do
#: not wait while the parent stores, few enough that memory does not grow with the files.
WINDOW_PER_WORKER = 8
#: files judged ahead by the thread when judging in this process.
WINDOW_IN_PROCESS = 8
#: most files stored in one transaction: the results that are ready when the parent stores.
BATCH_MAX = 64
#: fresh pools started after worker deaths before the rest is judged in this process.
POOL_RESTARTS = 2
#: workers yield the CPU to the parent, which stores every file and so sets the pace.
WORKER_NICE = 10
READER_DIED = "读取文件时读取程序异常退出，文件可能已损坏或被篡改；请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"


@dataclass(frozen=True)
class _Context:
    """What judging any file of one run needs; sent to each worker once, not per file."""

    registry: Registry
    programme: Programme
    period: Period
    archive_dir: Path | None = None  # where judging archives the originals it will have stored


@dataclass
class _Judged:
    """One file read and checked, ready to be stored (``received.data`` is filled in by the parent)."""

    item: Incoming
    problems: list[Problem]
    received: Received
    identified_by: str
    #: refused but not stored: another period's or programme's file (stored when its own period
    #: is collected), or a file that could not be read from disk at all (nothing to store)
    not_stored: bool


class _Judging:
    """Where one run's files are judged: in worker processes when *jobs* and the number of
    files say so (see :func:`collect`), else in this process."""

    def __init__(self, context: _Context, folder: Path, jobs: int) -> None:
        self.context = context
        self.jobs = jobs
        self.file = folder / "context.pickle"

    def workers(self, files: int) -> int:
        """Worker processes for *files* files; 1 means judging in this process."""
        jobs = self.jobs
        if jobs <= 0:
            threshold = AUTO_PARALLEL_FILES if can_fork() else AUTO_PARALLEL_FILES_FRESH
            jobs = auto_workers() if files >= threshold else 1
        if multiprocessing.current_process().daemon:
            return 1  # a daemonic process may not start processes
        return max(1, min(jobs, files))

    def judge(self, items: Iterable[Incoming], expected: int) -> Iterator[list[_Judged]]:
        """Every item's verdict, in input order, in batches of the verdicts that are ready.

        *items* may be a stream (taken as judging needs them, so the first files are judged
        while later ones are still being found); *expected*, about how many there are, sets
        the number of workers.
        """
        workers = self.workers(expected)
        if workers <= 1:
            return _judge_ahead(items, self.context)
        return self._in_pool(items, self.pool(workers), workers, POOL_RESTARTS)

    def pool(self, workers: int) -> ProcessPoolExecutor:
        """Worker processes that hold the run's context.

        On Linux, from a process with no other thread, they are forks of this one (Python's
        default there up to 3.13): they start in milliseconds with the registry already in
        memory, shared until written. Otherwise (other threads, whose locks a fork would copy
        mid-use; macOS; Windows) they start fresh from a forkserver that imports the checks once,
        or by spawning, and read the context pickled once to a file in the run's private folder.
        """
        if can_fork():
            return ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                                       initializer=_init_worker, initargs=(self.context, None))
        mp = fresh_context(preload=[__name__])  # it imports while the context is pickled here
        if not self.file.exists():
            self.file.write_bytes(_without_gc(pickle.dumps, self.context, protocol=pickle.HIGHEST_PROTOCOL))
        return ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=_init_worker,
                                   initargs=(None, str(self.file)))

    def _in_pool(self, items: Iterable[Incoming], pool: ProcessPoolExecutor, workers: int,
                 restarts: int) -> Iterator[list[_Judged]]:
        """Judge in *pool*, yielding in input order with a bounded window of files out.

        A worker that dies (a reader aborting the process) breaks the pool: the files that
        were out are judged again one at a time in a process of their own, so that only a
        file that kills its reader again is rejected for it, and the rest go to a fresh
        pool (or, after *restarts* deaths, to this process). Every file gets a verdict.
        """
        source = iter(items)
        todo: deque[Incoming] = deque()
        window: deque[tuple[Incoming, Future[_Judged]]] = deque()
        try:
            yield from _in_order(todo, source, window, lambda item: pool.submit(_judge_in_worker, item),
                                 WINDOW_PER_WORKER * workers)
            return
        except BrokenProcessPool:
            pass
        finally:
            pool.shutdown(cancel_futures=True)
        yield from ([one] for one in self._alone(window))
        rest = [*todo, *source]
        if restarts > 0 and len(rest) > 1:
            workers = min(workers, len(rest))
            yield from self._in_pool(rest, self.pool(workers), workers, restarts - 1)
        else:
            yield from _judge_ahead(rest, self.context)

    def _alone(self, window: Iterable[tuple[Incoming, Future[_Judged]]]) -> Iterator[_Judged]:
        """The files out when a pool broke: a result already in is kept, the others are judged
        again, each alone in a one-worker pool; one that breaks that pool too is rejected."""
        pool: ProcessPoolExecutor | None = None
        try:
            for item, future in window:
                if future.done() and not future.cancelled() and future.exception() is None:
                    yield future.result()
                    continue
                pool = pool or self.pool(1)
                try:
                    judged = pool.submit(_judge_in_worker, item).result()
                except BrokenProcessPool:
                    pool.shutdown()
                    pool = None
                    try:
                        data = item.path.read_bytes()
                    except OSError as exc:
                        yield _not_read(item, self.context, exc)
                        continue
                    judged = _archived(_verdict(item, self.context, data, sniff(data).kind, None,
                                                [READER_CRASHED(file=item.name, detail=READER_DIED)]),
                                       self.context, data)
                yield judged
        finally:
            if pool is not None:
                pool.shutdown()


def _in_order(todo: deque[Incoming], source: Iterator[Incoming], window: deque[tuple[Incoming, Future[_Judged]]],
              submit: Callable[[Incoming], Future[_Judged]], size: int) -> Iterator[list[_Judged]]:
    """Keep up to *size* files out, taken from *source*; yield in input order the oldest verdict
    and every verdict ready right behind it (at most :data:`BATCH_MAX`), so that a parent that
    falls behind stores more files per transaction. An item waits in *todo* until it is
    submitted and in *window* until it is yielded, so a caller that catches an exception knows
    what is still out (*window*) or to do (*todo*, then the rest of *source*)."""
    while True:
        while len(window) < size:
            if not todo:
                item = next(source, None)
                if item is None:
                    break
                todo.append(item)
            window.append((todo[0], submit(todo[0])))
            todo.popleft()
        if not window:
            return
        batch = [window[0][1].result()]
        window.popleft()
        while window and len(batch) < BATCH_MAX and window[0][1].done() and window[0][1].exception() is None:
            batch.append(window.popleft()[1].result())
        yield batch


def auto_workers() -> int:
    """Workers in auto mode: two a core (at most 8 more than the cores), because each waits
    part of the time for its archived copy to reach the disk (fsync); measured on 2 cores with
    bench/bench_collect.py: 4 workers ~8 % faster than 2."""
    cores = _cores()
    return min(2 * cores, cores + 8)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _judge_ahead(items: Iterable[Incoming], context: _Context) -> Iterator[list[_Judged]]:
    """Judge in a thread ahead of the caller: storing waits on fsync (with the GIL released)
    while reading and checking need the CPU."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-collect") as pool:
        yield from _in_order(deque(), iter(items), deque(), lambda item: pool.submit(_judge, item, context),
                             WINDOW_IN_PROCESS)


_WORKER: dict[str, _Context] = {}


def _init_worker(context: _Context | None, context_file: str | None) -> None:
    """Hold the run's context: inherited (fork) or read from *context_file*. Frozen, the GC
    does not walk the registry while files are judged, nor copy a forked worker's pages."""
    gc.freeze()
    if context is None:
        # Unpickling a registry of 50,000 tasks takes 1 s with the cyclic GC on, 0.2 s off.
        context = _without_gc(pickle.loads, Path(str(context_file)).read_bytes())
        gc.freeze()
    _WORKER["context"] = context
    with contextlib.suppress(AttributeError, OSError):  # no nice on Windows
        os.nice(WORKER_NICE)


def _without_gc(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """*func* with the cyclic GC paused: (un)pickling a large registry creates a million
    objects, and the GC would walk them again and again (pickling 0.9 s → 0.6 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return func(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def _judge_in_worker(item: Incoming) -> _Judged:
    return _judge(item, _WORKER["context"])


def _judge(item: Incoming, context: _Context) -> _Judged:
    """Pre-check, read and check one file; touches neither the store nor anything shared
    but the content-addressed archive. The file is read once: its hash, the checks and the
    archived copy all come from the same bytes."""
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return _not_read(item, context, exc)
    checked: Checked | None = None
    try:
        read, problems = read_returned(data, display_name=item.name)
    except Exception as exc:  # noqa: BLE001 - an unforeseen reader failure is this file's problem
        read, problems = None, [FILE_UNREADABLE(file=item.name, value=f"{type(exc).__name__}: {exc}"[:300])]
    if read is not None:
        checked = check_workbook(read, file=item.name, registry=context.registry, programme=context.programme,
                                 period=context.period)
        problems.extend(checked.problems)
    detected = read.format if read is not None else sniff(data).kind
    return _archived(_verdict(item, context, data, detected, checked, problems), context, data)


def _not_read(item: Incoming, context: _Context, exc: OSError) -> _Judged:
    """A file gone or unreadable since it was found: refused, with nothing to store."""
    problem = FILE_NOT_READ(file=item.name, value=exc.strerror or str(exc))
    received = Received("", item.name, b"", "unknown", item.received_at, item.received_source,  # type: ignore[arg-type]
                        item.sender, context.programme.id, context.period.key,
                        _unit_from_name(item.name, context.registry), "rejected", (problem,))
    return _Judged(item, [problem], received, "none", not_stored=True)


def _archived(judged: _Judged, context: _Context, data: bytes) -> _Judged:
    """Archive the original of a file that will be stored, so that the parent only records it.

    The archive is content-addressed and idempotent: a copy archived for a file the parent
    then finds a duplicate is the same copy. On failure the parent archives it itself and
    reports the error.
    """
    if judged.not_stored or context.archive_dir is None:
        return judged
    received = judged.received
    try:
        rel = archiving.archive_received(context.archive_dir, received, data)
    except StoreError:
        return judged
    judged.received = dataclasses.replace(received, archived=rel)
    return judged


def _verdict(item: Incoming, context: _Context, data: bytes, detected: str, checked: Checked | None,
             problems: list[Problem]) -> _Judged:
    """The verdict on one file from what reading and checking found."""
    unit = checked.unit if checked and checked.unit else _unit_from_name(item.name, context.registry)
    verdict = "accepted" if checked is not None and not any(p.is_error for p in problems) else "rejected"
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
        outcome=verdict,
        problems=tuple(problems),
        entries=tuple(checked.entries) if checked and verdict == "accepted" else (),
    )
    other_period = checked is not None and bool({p.code for p in checked.problems} & NOT_THIS_PERIOD)
    return _Judged(item, problems, received, checked.identified_by if checked else "none", other_period)


# --- storing: in this process only ---------------------------------------------------------------


def _record(batch: Sequence[_Judged], period: Period, store: Store) -> list[CollectedFile]:
    """Store judged files in one transaction (except another period's) and say what became of each."""
    stored = iter(store.ingest_many([_with_data(j) for j in batch if not j.not_stored]))
    out = []
    for judged in batch:
        item = judged.item
        # Another period's or programme's file is refused here but not stored, so that
        # collecting its own period later still accepts it.
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


def _with_data(judged: _Judged) -> Received:
    """What the store takes: the archived copy, or the bytes when judging could not archive them."""
    received = judged.received
    if received.archived:
        return received
    try:
        data = judged.item.path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件 {judged.item.name}：{exc.strerror or exc}。请检查文件是否仍在、是否有读取权限。") from exc
    if hashlib.sha256(data).hexdigest() != received.sha256:
        raise InputError(f"文件 {judged.item.name} 在收集过程中被改动，未记录。请确认文件已保存好后重新收集。")
    return dataclasses.replace(received, data=data)


def _unit_from_name(name: str, registry: Registry) -> str | None:
    """A rejected file is still attributed when its name is the one generate gave it."""
    m = _NAME_UNIT.match(Path(name.split(" / ")[-1]).name)
    if m and m.group(1) in registry.index().by_unit:
        return m.group(1)
    return None


def due_for(programme: Programme, registry: Registry, unit: str, period: Period) -> datetime:
    """The unit's due time for *period*, aware in Beijing time."""
    return period.due(unit_reporting(programme, registry, unit)).replace(tzinfo=CHINA)
