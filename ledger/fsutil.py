"""Atomic file writes: a crash or a full disk never leaves a half-written output."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ledger.errors import WorkspaceError

TMP_SUFFIX = ".ledger-tmp"
_NOT_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to *target*; on success fsync and rename it into place.

    On any exception the temporary file is removed and *target* is left untouched.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise WorkspaceError(f"无法写入目录 {target.parent}：{exc.strerror or exc}。请检查路径和写入权限。") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise WorkspaceError(
                f"无法替换 {target}：文件可能正被 Excel/WPS 打开，请关闭后重试。"
            ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write *data* to *target* atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write *text* to *target* atomically and return the target path."""
    return write_bytes_atomic(target, text.encode(encoding))


def clean_stale_temp(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files a killed run left behind in *folder* (not recursive)."""
    removed = []
    folder = Path(folder)
    if folder.is_dir():
        for p in folder.glob(f".*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def safe_filename(text: str) -> str:
    """*text* with the characters Windows and Unix refuse in file names replaced by "_"."""
    return _NOT_IN_FILENAMES.sub("_", text)
