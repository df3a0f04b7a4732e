"""Atomic file writes: a crash or a full disk never leaves a half-written output."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
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


#: a temporary file or folder a killed run left is removed once it is this old (seconds): a
#: running command finishes its atomic writes in far less, and its folders carry its pid
STALE_AFTER_S = 3600
#: what :func:`atomic_path` names its temporary files: ``.<target name>.<8 random>.ledger-tmp``
_OWN_TMP = re.compile(r"^\..+\.[a-z0-9_]{8}" + re.escape(TMP_SUFFIX) + "$")
#: the folders ledger makes in the system's temporary folder (collect's carry its pid)
_TEMP_FOLDER = re.compile(r"^ledger-(?:collect|pdf)-(?:(\d+)-)?")


def clean_leftovers(folders: Iterable[str | os.PathLike[str]], *, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Remove what a killed ledger run left behind: its temporary files under *folders*
    (recursively; only names :func:`atomic_path` makes, older than *older_than* seconds) and its
    folders in the system's temporary folder (owned by this user, older than that, and made by
    a process that is gone). Called once per command; what cannot be removed is left alone."""
    cutoff = time.time() - older_than
    removed = []
    seen: set[Path] = set()
    for folder in folders:
        for top, dirs, names in os.walk(folder):
            if Path(top) in seen:
                dirs.clear()
                continue
            seen.add(Path(top))
            for name in names:
                if name.endswith(TMP_SUFFIX) and _OWN_TMP.match(name):
                    removed += _remove_if_old(Path(top) / name, cutoff)
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            m = _TEMP_FOLDER.match(entry.name)
            if m and entry.is_dir(follow_symlinks=False) and not (m.group(1) and _running(int(m.group(1)))):
                removed += _remove_if_old(Path(entry.path), cutoff)
    return removed


def _remove_if_old(path: Path, cutoff: float) -> list[Path]:
    try:
        st = path.lstat()
        if st.st_mtime > cutoff or st.st_uid != os.getuid():
            return []
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return []
    return [path]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def safe_filename(text: str) -> str:
    """*text* with the characters Windows and Unix refuse in file names replaced by "_"."""
    return _NOT_IN_FILENAMES.sub("_", text)
