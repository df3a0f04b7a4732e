"""Atomic file writes: a crash or a full disk never leaves a half-written output."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ledger.errors import DiskFull, WorkspaceError

TMP_SUFFIX = ".ledger-tmp"
#: what Windows or Unix refuse in a file name, and lone surrogates (bytes a name could not decode)
_NOT_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\ud800-\udfff]')
#: bytes (UTF-8) of a name part made by :func:`safe_filename`: with what ledger puts around it (a
#: period key, a hash, "_回执.eml", and the temporary name of an atomic write) a name stays well
#: under the 255 bytes file systems allow
NAME_MAX_BYTES = 120
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))})
_CONTROL_OR_SURROGATE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to *target*; on success fsync and rename it into place.

    On any exception the temporary file is removed and *target* is left untouched; a failed
    write (the disk full, no permission, an I/O error) is a :class:`WorkspaceError` naming
    *target* and saying so.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise write_error(target, exc) from exc
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
    except OSError as exc:  # writing the temporary file (the caller's) or making it durable
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise write_error(target, exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


#: errno values of a full disk (or a full quota)
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def write_error(target: Path, exc: OSError, kept: str | None = None) -> WorkspaceError:
    """The error for a write of *target* that failed with *exc*, saying what was kept (*kept*;
    by default that the file itself is as it was, or was not made)."""
    if kept is None:
        kept = f"原来的 {target.name} 保持原样。" if target.exists() else f"{target.name} 未生成，已保存的其他文件未受影响。"
    if exc.errno in DISK_FULL:
        return DiskFull(f"磁盘空间不足，无法写入 {target}。{kept}请清理磁盘空间后重试。")
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EROFS:
        reason += "（磁盘或目录为只读）"
    return WorkspaceError(f"无法写入 {target}：{reason}。{kept}请检查路径、写入权限和磁盘后重试。")


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


def os_error_text(exc: OSError) -> str:
    """A Chinese message for a failed read or write that names the file, when the error does."""
    names = "、".join(str(name) for name in (exc.filename, exc.filename2) if name)
    where = f" {names} " if names else "文件"
    if exc.errno in DISK_FULL:
        return f"磁盘空间不足，无法写入{where.rstrip()}。已保存的内容未受影响；请清理磁盘空间后重试。"
    return f"读写{where}时出错：{exc.strerror or exc}。请检查该文件、写入权限和磁盘后重试。"


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


def safe_filename(text: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """*text* as a part of a file name, whatever it holds.

    Characters Windows or Unix refuse and undecodable bytes become "_", leading and trailing
    spaces and dots go (Windows drops them), a device name (NUL, COM1) gets a "_" in front. A
    name longer than *max_bytes* in UTF-8 is shortened and ends in 8 hex digits of its hash,
    so that two long names stay apart.
    """
    name = _NOT_IN_FILENAMES.sub("_", text).strip(" .") or "_"
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    encoded = name.encode("utf-8")
    if len(encoded) <= max_bytes:
        return name
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return encoded[:max_bytes - 9].decode("utf-8", "ignore").rstrip(" .") + "_" + digest


def readable_name(name: str) -> str:
    """A received file's name as a person reads it (and as text can store it): bytes the name
    could not decode (surrogate escapes: a GBK name on a UTF-8 disk) read as GB18030, else shown
    as U+FFFD; control characters (a line break in an attachment name) as spaces."""
    if not _CONTROL_OR_SURROGATE.search(name):
        return name
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that stand for no byte
        raw = None
    if raw is not None:
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            name = raw.decode("utf-8", "replace")
    return _CONTROL_OR_SURROGATE.sub(lambda m: " " if m.group() < "\x80" else "\ufffd", name)
