"""How ledger starts worker processes: one rule for generate, collect and the isolated reader.

A fork starts in milliseconds with everything already imported and loaded (a registry of
50,000 tasks included), but copies the state of every other thread of the parent, locks
held mid-use among them. So: a fork on Linux (Python's default start method there up to
3.13) from a process with no other thread; otherwise fresh processes from a forkserver
(which can import the workers' modules once), or spawned where there is no forkserver.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.forkserver
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.context import BaseContext


def can_fork() -> bool:
    """Whether a child process may be a fork of this one (see the module docstring)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods() \
        and threading.active_count() == 1


def fresh_context(preload: Sequence[str] = ()) -> BaseContext:
    """A forkserver that has imported *preload* (it starts importing now, while the caller goes
    on), or spawn where there is no forkserver."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    if preload:
        context.set_forkserver_preload(["__main__", *preload])
        multiprocessing.forkserver.ensure_running()
    return context


def worker_context(preload: Sequence[str] = ()) -> BaseContext:
    """Where workers come from: a fork when :func:`can_fork`, else :func:`fresh_context`."""
    return multiprocessing.get_context("fork") if can_fork() else fresh_context(preload)


@contextmanager
def shared_heap() -> Iterator[None]:
    """For the life of forked workers: the objects that exist when it starts (a registry above
    all) kept out of the cyclic GC, here and (by inheritance) in the workers forked meanwhile.
    A collection writes to every object it walks, which copies each page a fork shares with
    its parent into memory of its own: tens of MB a worker on a registry of 50,000 tasks.
    In one process it saves the collector's passes over them while long work allocates
    (``generate --jobs 1``: 0.4 s of 1,000 workbooks on that registry)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
