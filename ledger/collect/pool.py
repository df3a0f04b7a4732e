"""Where one collect run's files are judged: in this process, or in worker processes.

Judging a file (:func:`ledger.collect.verdict.judge_file`) is independent of every other
file, so it may run in workers; the verdicts come back in input order, in batches of those
that are ready, for the parent to store (:func:`ledger.collect.api.collect`). A worker that
dies (a reader aborting its process) costs only the file it was reading.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from ledger.collect.intake import Incoming
from ledger.collect.verdict import JudgeContext, Judged, crashed, judge_file
from ledger.processes import can_fork, fresh_context, shared_heap, worker_context

T = TypeVar("T")
#: a file to judge, or one whose verdict is known already (it passes through in its place)
Item = Incoming | Judged

#: auto mode judges in worker processes from this many files on. Forked workers start in
#: milliseconds and pay from 25–50 files on (2 cores, files of bench/bench_collect.py);
#: workers started fresh (forkserver, spawn) cost about a second and pay from 200–400.
AUTO_PARALLEL_FILES = 40
AUTO_PARALLEL_FILES_FRESH = 200
#: files stored in one transaction (and flushed to disk with one flush): the parent takes
#: verdicts until it has this many, or the last
BATCH_MAX = 64
#: files handed out per worker before the oldest result is taken: enough that the workers do
#: not wait while the parent stores a batch, few enough that memory does not grow with the files.
WINDOW_PER_WORKER = BATCH_MAX // 2
#: fresh pools started after worker deaths before the rest is judged in this process.
POOL_RESTARTS = 2
#: workers yield the CPU to the parent, which stores every file and so sets the pace.
WORKER_NICE = 10


class Judging:
    """Where one run's files are judged: in worker processes when *jobs* and the number of
    files say so (see :func:`collect`), else in this process."""

    def __init__(self, context: JudgeContext, folder: Path, jobs: int) -> None:
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

    def judge(self, items: Iterable[Item], expected: int) -> Iterator[list[Judged]]:
        """Every item's verdict, in input order, in batches of the verdicts that are ready.

        *items* may be a stream (taken as judging needs them, so the first files are judged
        while later ones are still being found); an item that is a verdict already (a file
        stored before: :func:`~ledger.collect.verdict.known`) passes through in its place;
        *expected*, about how many there are, sets the number of workers.
        """
        workers = self.workers(expected)
        if workers <= 1:
            return _judge_here(items, self.context)
        return _with_shared_heap(lambda: self._in_pool(items, self.pool(workers), workers, POOL_RESTARTS))

    def pool(self, workers: int) -> ProcessPoolExecutor:
        """Worker processes that hold the run's context.

        On Linux, from a process with no other thread, they are forks of this one (Python's
        default there up to 3.13): they start in milliseconds with the registry already in
        memory, shared until written. Otherwise (other threads, whose locks a fork would copy
        mid-use; macOS; Windows) they start fresh from a forkserver that imports the checks once,
        or by spawning, and read the context pickled once to a file in the run's private folder.
        """
        if can_fork():
            # built once here and shared: a worker building its own lookups would copy the pages
            # of every task into its own memory (50 MB a worker on 50,000 tasks)
            self.context.registry.index()
            return ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                                       initializer=_init_worker, initargs=(self.context, None))
        mp = fresh_context(preload=[__name__])  # it imports while the context is pickled here
        if not self.file.exists():
            self.file.write_bytes(_without_gc(pickle.dumps, self.context, protocol=pickle.HIGHEST_PROTOCOL))
        return ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=_init_worker,
                                   initargs=(None, str(self.file)))

    def _in_pool(self, items: Iterable[Item], pool: ProcessPoolExecutor, workers: int,
                 restarts: int) -> Iterator[list[Judged]]:
        """Judge in *pool*, yielding in input order with a bounded window of files out.

        A worker that dies (a reader aborting the process) breaks the pool: the files that
        were out are judged again one at a time in a process of their own, so that only a
        file that kills its reader again is rejected for it, and the rest go to a fresh
        pool (or, after *restarts* deaths, to this process). Every file gets a verdict.
        """
        source = iter(items)
        todo: deque[Item] = deque()
        window: deque[tuple[Item, Future[Judged]]] = deque()
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
            yield from _judge_here(rest, self.context)

    def _alone(self, window: Iterable[tuple[Item, Future[Judged]]]) -> Iterator[Judged]:
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
                    judged = crashed(item, self.context)
                yield judged
        finally:
            if pool is not None:
                pool.shutdown()


def _in_order(todo: deque[Item], source: Iterator[Item], window: deque[tuple[Item, Future[Judged]]],
              submit: Callable[[Incoming], Future[Judged]], size: int) -> Iterator[list[Judged]]:
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
            item = todo[0]
            window.append((item, _passed(item) if isinstance(item, Judged) else submit(item)))
            todo.popleft()
        if not window:
            return
        batch = [window[0][1].result()]
        window.popleft()
        while window and len(batch) < BATCH_MAX and window[0][1].done() and window[0][1].exception() is None:
            batch.append(window.popleft()[1].result())
        yield batch


def _passed(judged: Judged) -> Future[Judged]:
    """A verdict known before judging, in the window like those being judged."""
    future: Future[Judged] = Future()
    future.set_result(judged)
    return future


def auto_workers() -> int:
    """Workers in auto mode: one a core, and one more to use a core while this process (which
    stores, and sets the pace) waits for the disk. Workers no longer wait for their archived
    copies (the parent flushes a batch at once), so two a core only switched more: measured
    through the command line on 2 cores (bench/bench_cli.py), 3 workers were the fastest,
    4 slower than 2."""
    return _cores() + 1


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _with_shared_heap(start: Callable[[], Iterator[T]]) -> Iterator[T]:
    """What *start* yields, the workers it forks sharing this process's objects
    (:func:`ledger.processes.shared_heap`)."""
    with shared_heap():
        yield from start()


def _judge_here(items: Iterable[Item], context: JudgeContext) -> Iterator[list[Judged]]:
    """Judge in this process, each file as the caller takes it.

    A thread judging ahead while the caller stored was tried: the two threads handed the GIL
    back and forth some thirty times a file, which cost 0.6–1.5 ms of CPU a file (a fifth of
    collect's CPU on 2 cores, bench/bench_cli.py) and saved no time, a batch's one flush to
    disk being short. Without another thread, an .xls read in a child process is a fork too.
    """
    for item in items:
        yield [item if isinstance(item, Judged) else judge_file(item, context)]


_WORKER: dict[str, JudgeContext] = {}


def _init_worker(context: JudgeContext | None, context_file: str | None) -> None:
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


def _judge_in_worker(item: Incoming) -> Judged:
    return judge_file(item, _WORKER["context"])
