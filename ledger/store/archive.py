"""Keep every received file unchanged, read-only, under its content hash.

The name is the hash, so archiving the same bytes twice (a re-run, a second process)
finds the file already there and writes nothing; a damaged copy is replaced.
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
from ledger.fsutil import DISK_FULL, write_bytes_atomic
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


def archive(root: Path, sha256: str, ext: str, data: bytes) -> str:
    """Store *data* under *root* read-only unless an identical copy is there; return the relative path."""
    rel = relative_path(sha256, ext)
    target = root / rel
    if _intact(target, sha256):
        return rel
    try:
        if target.exists():
            # A damaged copy: make it writable so the replacement also works on Windows.
            with contextlib.suppress(OSError):
                os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
        write_bytes_atomic(target, data)
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


def archive_received(root: Path, received: Received, data: bytes) -> str:
    """Archive the original of *received* (its *data*) under the name the store records."""
    return archive(root, received.sha256, extension(received.detected_type, received.source_name), data)


def verified_size(root: Path, rel: str, sha256: str) -> int:
    """Size of the copy archived at *rel* after checking that it holds the bytes of *sha256*.

    For originals archived before the store records them (by collect's workers): nothing
    is recorded that the archive does not hold.
    """
    if not rel.startswith(f"{sha256[:2]}/{sha256}.") or not _EXT.match(rel.rsplit(".", 1)[1]):
        raise ValueError(f"{rel!r} is not where the archive keeps {sha256}")
    path = root / rel
    if not _intact(path, sha256):
        raise StoreError(f"存档文件 {path} 缺失或与收到的文件不一致，未记录。请重新收集该文件。")
    return path.stat().st_size


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
