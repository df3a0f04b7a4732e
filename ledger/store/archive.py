"""Keep every received file unchanged, read-only, under its content hash.

The name is the hash, so archiving the same bytes twice (a re-run, a second process)
finds the file already there and writes nothing; a damaged copy is replaced. A copy is made
durable before the store records it: each on its own, or (``flush=False``) many together with
one :func:`ledger.fsutil.flush_to_disk` before the transaction that records them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ledger.errors import DiskFull, WorkspaceError
from ledger.fsutil import DISK_FULL, flush_to_disk, stage, write_bytes_atomic
from ledger.store.model import Received, StoreError, StoreFull

_EXT = re.compile(r"^[a-z0-9]{1,8}$")
#: detected types that name a real file format; other verdicts (corrupt, encrypted, unknown)
#: fall back to the extension the sender gave.
_FORMATS = {"xlsx", "xlsm", "xlsb", "xls", "ods", "zip", "eml", "csv", "html", "et"}


def extension(detected_type: str, source_name: str) -> str:
    """File extension for the archived copy: the detected format, else the sender's, else ``bin``."""
    kind = detected_type.lower()
    if kind in _FORMATS:
        return kind
    suffix = PurePosixPath(source_name.replace("\\", "/")).suffix.lower().lstrip(".")
    return suffix if _EXT.match(suffix) else "bin"


def relative_path(sha256: str, ext: str) -> str:
    """``ab/ab12….xlsx``: two-character fan-out keeps folders small."""
    return f"{sha256[:2]}/{sha256}.{ext}"


def archive(root: Path, sha256: str, ext: str, data: bytes, *, flush: bool = True) -> str:
    """Store *data* under *root* read-only unless an identical copy is there; return the relative
    path. The copy is renamed into place complete; with *flush* False it is not flushed to disk
    here (the caller flushes it with others before recording them)."""
    rel = relative_path(sha256, ext)
    target = root / rel
    if _intact(target, sha256):
        return rel
    try:
        if target.exists():
            # A damaged copy: make it writable so the replacement also works on Windows.
            with contextlib.suppress(OSError):
                os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
        if flush:
            write_bytes_atomic(target, data)
        else:
            os.replace(stage(target, data), target)
        os.chmod(target, 0o444)
    except (OSError, WorkspaceError) as exc:
        raise archive_error(target, exc) from exc
    return rel


def archive_error(target: Path, exc: OSError | WorkspaceError) -> StoreError:
    """The error for an original that could not be archived at *target*: the file is not recorded."""
    kept = "该文件未登记，此前登记的内容未受影响；"
    if isinstance(exc, DiskFull) or (isinstance(exc, OSError) and exc.errno in DISK_FULL):
        return StoreFull(f"磁盘空间不足，无法存档收到的文件 {target}。{kept}请清理磁盘空间后重新收集。")
    detail = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    return StoreError(f"无法存档收到的文件 {target}：{detail}。{kept}请检查该目录的写入权限和磁盘后重新收集。")


def archive_received(root: Path, received: Received, data: bytes, *, flush: bool = True) -> str:
    """Archive the original of *received* (its *data*) under the name the store records."""
    return archive(root, received.sha256, extension(received.detected_type, received.source_name), data,
                   flush=flush)


def verified_size(root: Path, rel: str, sha256: str, size: int | None = None) -> int:
    """Size of the copy archived at *rel*, checked: it holds the bytes of *sha256* or, when the
    one who archived it says their *size* (collect's workers, having hashed what they wrote
    or found there), it is there with that size.

    For originals archived before the store records them: nothing is recorded that the
    archive does not hold.
    """
    if not rel.startswith(f"{sha256[:2]}/{sha256}.") or not _EXT.match(rel.rsplit(".", 1)[1]):
        raise ValueError(f"{rel!r} is not where the archive keeps {sha256}")
    path = root / rel
    try:
        found = path.stat().st_size
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise StoreError(f"无法读取存档文件 {path}：{exc.strerror or exc}。") from exc
    if found is None or (found != size if size is not None else not _intact(path, sha256)):
        raise StoreError(f"存档文件 {path} 缺失或与收到的文件不一致，未记录。请重新收集该文件。")
    return found


def flush(root: Path, rels: list[str]) -> None:
    """Make the copies at *rels* (archived with ``flush=False``) durable, with one flush for all."""
    if not rels:
        return
    try:
        flush_to_disk([root / rel for rel in rels])
    except OSError as exc:
        raise archive_error(root / rels[0], exc) from exc


_ORIGINAL = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,8}$")


def originals(root: Path) -> Iterator[Path]:
    """Every original archived under *root* (``ab/ab12….xlsx``), in name order."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if len(folder.name) == 2 and folder.is_dir():
            yield from (p for p in sorted(folder.iterdir()) if _ORIGINAL.match(p.name) and p.name[:2] == folder.name)


def count_originals(root: Path) -> int:
    return sum(1 for _ in originals(root))


def _intact(path: Path, sha256: str) -> bool:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"无法读取存档文件 {path}：{exc.strerror or exc}。") from exc
    return digest == sha256
