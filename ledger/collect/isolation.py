"""Running a reader in a child process, so that the collect run survives whatever it does.

python-calamine can abort the whole interpreter (SIGABRT on a huge allocation), and any
reader can blow up memory or hang on a hostile file. :func:`read_isolated` runs it in a
child process under an address-space limit and a timeout, and turns a death by signal, a
MemoryError or a timeout into :class:`ReaderCrashed`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Callable
from typing import Any, TypeVar

from ledger.collect.limits import MiB
from ledger.errors import LedgerError
from ledger.processes import worker_context


class ReaderCrashed(LedgerError):
    """A reader died, ran out of memory or hung in its child process; the file is unreadable."""


T = TypeVar("T")


def _mapped_bytes() -> int:
    """Address space this process maps already (a fork maps all of its parent's)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], memory_mb: int) -> None:
    try:
        import resource

        limit = _mapped_bytes() + memory_mb * MiB  # memory_mb more than the process had
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # no rlimits (Windows): the timeout still applies
    try:
        result = ("ok", func(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent as is
        result = ("raised", exc)
    try:
        conn.send(result)
    except Exception as exc:  # unpicklable result or exception
        conn.send(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))
    conn.close()


def read_isolated(func: Callable[..., T], *args: Any, timeout: float = 20, memory_mb: int = 1024) -> T:
    """Run picklable *func(*args)* in a child process with an address-space limit and a timeout.

    calamine can abort the interpreter (SIGABRT on a huge allocation); in a child the
    collect run survives and the file gets a problem. Exceptions raised by *func* are
    re-raised here; a death by signal, MemoryError or timeout raises :class:`ReaderCrashed`.
    """
    ctx = worker_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, func, args, memory_mb), daemon=True)
    proc.start()
    child.close()
    try:
        ready = multiprocessing.connection.wait([parent, proc.sentinel], timeout)
        outcome = None
        if parent in ready:
            try:
                outcome = parent.recv()
            except EOFError:
                outcome = None
        if not ready:
            raise ReaderCrashed(f"读取文件超过 {timeout:g} 秒仍未完成，已中止；请检查文件是否过大或已损坏，另存为 .xlsx 后重新报送")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if outcome is None:
        code = proc.exitcode
        how = f"被信号 {-code} 终止" if code is not None and code < 0 else f"异常退出（代码 {code}）"
        raise ReaderCrashed(f"读取文件时读取程序{how}，文件可能已损坏或被篡改；请另存为 .xlsx 后重新报送")
    status, value = outcome
    if status == "memory":
        raise ReaderCrashed(f"读取文件所需内存超过 {memory_mb} MB，已中止；请删除多余内容、另存为 .xlsx 后重新报送")
    if status == "raised":
        raise value
    return value
