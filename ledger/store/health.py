"""Whether the history database can be trusted, and what to tell the user when it cannot.

Every SQLite failure becomes a :class:`~ledger.store.model.StoreError` naming the file and
what to do (:func:`store_error`, applied to every public method of the store by
:func:`guarded`), so no command ends in a traceback. A database is checked when it is
opened (:func:`quick_check`: ``PRAGMA quick_check`` reads every page, 13–46 ms for 50,000
entries, bench/bench_store.py) so that damage anywhere, even in a table the command would not
read, stops the command before it reports from a damaged history. A missing or empty
database while the archive holds received files is refused (:func:`refuse_fresh_start`).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ledger.store import archive as archiving
from ledger.store.model import StoreBusy, StoreDamaged, StoreError, StoreFull, StoreMissing, StoreReadOnly

#: databases larger than this get a check of their structure on open instead of every page
#: (``ledger store check`` reads every page of any size)
QUICK_CHECK_MAX_BYTES = 256 << 20
#: how long a writer waits for another process's write lock
BUSY_TIMEOUT_S = 10.0
_REPAIR = "已存档的原件不受影响。请运行 ledger store check 查看详情，再用 ledger store rebuild 从存档重建历史库（有备份的，也可把备份复制回原处）。"

F = TypeVar("F", bound=Callable[..., Any])


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The Chinese error for *exc* raised by SQLite on the database at *path*."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return StoreBusy(f"数据库 {path} 正被另一个 ledger 进程占用，等待 {BUSY_TIMEOUT_S:.0f} 秒后仍未释放。请稍后重试。")
    if name == "SQLITE_FULL" or "database or disk is full" in text:
        return StoreFull(f"磁盘空间不足，无法写入历史库 {path}。本次内容未写入，此前登记的内容未受影响；请清理磁盘空间后重试。")
    cannot_open = name.startswith("SQLITE_CANTOPEN") or "unable to open" in text
    if name.startswith("SQLITE_READONLY") or "readonly" in text or (cannot_open and not _writable(path.parent)):
        return StoreReadOnly(
            f"无法写入历史库 {path}：数据库文件或其所在目录 {path.parent} 只读（ledger 要在该目录中建立 "
            f"{path.name}-wal 和 {path.name}-shm）。此前登记的内容未受影响；请检查该目录的写入权限后重试。")
    if cannot_open:
        return StoreReadOnly(f"无法打开历史库 {path}（{text}）：请检查该文件及其目录 {path.parent} 是否存在、是否可读写。")
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return StoreDamaged(f"{path} 不是可用的 ledger 数据库（{text}）。请检查 ledger.toml 中的 store 路径；{_REPAIR}")
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return StoreDamaged(f"历史库 {path} 已损坏（{text}）。{_REPAIR}")
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return StoreError(
            f"读写历史库 {path} 时磁盘出错（{text}）：可能是磁盘空间不足或磁盘故障。此前登记的内容未受影响；"
            "请检查磁盘空间后重试，仍出错时请运行 ledger store check。")
    return StoreError(f"读写历史库 {path} 出错：{text}。")


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def guarded(method: F) -> F:
    """A store method whose SQLite failures are :func:`store_error` s of the store's file."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from exc

    return wrapper  # type: ignore[return-value]


def quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """Raise :class:`StoreDamaged` unless the database's pages (or, when it is large, its
    structure) are sound."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    try:
        if size <= QUICK_CHECK_MAX_BYTES:
            found = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        else:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            found = "ok"
    except sqlite3.Error as exc:
        raise store_error(path, exc) from exc
    if found != "ok":
        raise StoreDamaged(f"历史库 {path} 已损坏（{found}）。{_REPAIR}")


def full_check(conn: sqlite3.Connection) -> list[str]:
    """Every problem ``PRAGMA integrity_check`` and ``foreign_key_check`` find (empty: sound)."""
    found = [row[0] for row in conn.execute("PRAGMA integrity_check(100)")]
    problems = [] if found == ["ok"] else found
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} 第 {rowid} 行引用的 {parent} 记录不存在")
    return problems


def is_empty(path: Path) -> bool:
    """Whether the database file is missing or empty (0 bytes, no write-ahead log with content)."""
    try:
        if path.stat().st_size > 0:
            return False
    except FileNotFoundError:
        return True
    wal = path.with_name(path.name + "-wal")
    return not wal.exists() or wal.stat().st_size == 0


def refuse_fresh_start(path: Path, archive_dir: Path) -> None:
    """Raise :class:`StoreMissing` when the database is missing or empty but the archive holds
    received files: starting afresh would silently drop the history."""
    if not is_empty(path):
        return
    count = archiving.count_originals(archive_dir)
    if count:
        state = "是空文件" if path.exists() else "不存在"
        raise StoreMissing(
            f"历史库缺失（{path} {state}），存档 {archive_dir} 中有 {count} 个文件；可用 ledger store rebuild "
            f"从存档重建（有备份的，也可把备份复制回 {path}）。为免从空库重新开始而丢失历史，已停止。")
