"""History store: every received file, every accepted report, the audit log.

``open_store`` takes the ``store`` path from ledger.toml (or ``sqlite:///path``); the
:class:`Store` protocol is what other stages use, so another database can come later.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ledger.store.model import (
    Entry,
    Manifest,
    Outcome,
    Received,
    Store,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreMissing,
    StoreReadOnly,
    Submission,
)
from ledger.store.sqlite import SQLiteStore

__all__ = ["Entry", "Manifest", "Outcome", "Received", "SQLiteStore", "Store", "StoreBusy", "StoreDamaged", "StoreError",
           "StoreFull", "StoreMissing", "StoreReadOnly", "Submission", "open_store", "sqlite_path"]


def open_store(target: str | Path, *, archive_dir: Path | None = None, rebuilding: bool = False) -> Store:
    """Open (creating if needed) the store at *target*: a file path or ``sqlite:///path``.

    Originals are archived under *archive_dir*, by default ``archive/`` next to the
    database file (``out/archive`` for the default ``out/ledger.sqlite``). A missing or empty
    database while the archive holds files is refused (:class:`StoreMissing`) unless *rebuilding*
    (see :class:`SQLiteStore`).
    """
    path = sqlite_path(target)
    archive = Path(archive_dir) if archive_dir is not None else path.parent / "archive"
    return SQLiteStore(path, archive, rebuilding=rebuilding)


def sqlite_path(target: str | Path) -> Path:
    """The database file of *target*: a path, or ``sqlite:///relative`` / ``sqlite:////absolute``."""
    if isinstance(target, Path) or "://" not in target:
        return Path(target)
    parts = urlsplit(target)
    if parts.scheme.lower() != "sqlite":
        # Only the scheme is shown: the rest of a database URL may hold a password.
        raise StoreError(
            f"暂不支持“{parts.scheme}”数据库。目前只支持 SQLite：在 ledger.toml 的 store 中写文件路径或 sqlite:///路径。"
        )
    # SQLAlchemy style: sqlite:///relative.db and sqlite:////absolute.db
    raw = unquote(target.split("://", 1)[1])
    if not raw.startswith("/") or raw == "/" or parts.query:
        raise StoreError(f"数据库地址“{target}”写法不对：应为 sqlite:///相对路径 或 sqlite:////绝对路径。")
    return Path(raw[1:])
