"""Atomic file writes: a crash or a full disk never leaves a half-written output."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
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


class AtomicBatch:
    """Many files written atomically and made durable together: one flush to disk for all
    instead of an fsync each (a thousand receipts or workbooks: seconds on a real disk).

    :meth:`write` puts each file's bytes in a temporary file next to its target; :meth:`commit`
    (on leaving the ``with`` block without an error) flushes them to disk together, renames
    each into place and flushes the renames. A crash or an error before then leaves every
    target as it was (the temporary files are removed, or cleaned up by a later start); a
    crash during the renames leaves each target either as it was or complete.

    With *keep_going* a file that cannot be put in place (a folder of its name, a file open
    in Excel on Windows) does not stop the others: :meth:`commit` returns each such target
    with its error instead of raising.
    """

    def __init__(self, *, keep_going: bool = False) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary file, target)
        self.keep_going = keep_going
        #: what :meth:`commit` could not put in place, with *keep_going*
        self.failed: dict[Path, WorkspaceError] = {}

    def write(self, target: str | os.PathLike[str], data: bytes) -> Path:
        """Stage *data* for *target*; return the target path (written at :meth:`commit`)."""
        self.add(stage(target, data), target)
        return Path(target)

    def write_text(self, target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
        return self.write(target, text.encode(encoding))

    def add(self, staged: Path, target: str | os.PathLike[str]) -> None:
        """Take a file :func:`stage` wrote for *target* (in another process, say) into the batch."""
        self._pending.append((Path(staged), Path(target)))

    def commit(self) -> None:
        """Flush every staged file to disk, rename each into place, flush the renames."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            flush_to_disk([tmp for tmp, _ in pending])
        except OSError as exc:
            _remove(tmp for tmp, _ in pending)
            raise write_error(pending[0][1], exc) from exc
        for n, (tmp, target) in enumerate(pending):
            try:
                os.replace(tmp, target)
            except OSError as exc:
                error = (WorkspaceError(f"无法替换 {target}：文件可能正被 Excel/WPS 打开，请关闭后重试。")
                         if isinstance(exc, PermissionError) else write_error(target, exc))
                if self.keep_going:
                    _remove([tmp])
                    self.failed[target] = error
                    continue
                _remove(tmp for tmp, _ in pending[n:])
                raise error from exc
        try:
            flush_to_disk([], folders={target.parent for _, target in pending})
        except OSError as exc:
            raise write_error(pending[0][1], exc, kept="文件已写入，但未能确认已保存到磁盘；") from exc

    def discard(self) -> None:
        """Remove what was staged (nothing is written)."""
        pending, self._pending = self._pending, []
        _remove(tmp for tmp, _ in pending)

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def stage(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write *data* to a new temporary file next to *target* (named as :func:`atomic_path` names
    its own, with the permissions a new file gets), not yet flushed to disk; return its path
    (for :meth:`AtomicBatch.add`). On failure nothing is left behind."""
    target = Path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    made_folder = False
    while True:
        tmp = target.with_name(f".{target.name}.{os.urandom(4).hex()}{TMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as to any new file
            break
        except FileExistsError:
            continue
        except FileNotFoundError as exc:
            if made_folder:
                raise write_error(target, exc) from exc
        except OSError as exc:
            raise write_error(target, exc) from exc
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(target, exc) from exc
        made_folder = True
    try:
        with open(fd, "wb", closefd=True) as fh:
            fh.write(data)
    except OSError as exc:
        _remove([tmp])
        raise write_error(target, exc) from exc
    return tmp


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def flush_to_disk(files: Iterable[str | os.PathLike[str]], *, folders: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Make *files* (their data) and the entries of *folders* durable before returning.

    On Linux one ``syncfs`` per file system they are on (what an fsync of each would do, with
    one journal commit instead of one per file); elsewhere an fsync of each file and folder
    (folders cannot be opened on Windows: there a rename is durable with its file's metadata).
    """
    files, folders = [Path(f) for f in files], {Path(f) for f in folders} | {Path(f).parent for f in files}
    syncfs = _syncfs()
    if syncfs is not None:
        devices: dict[int, Path] = {}
        for folder in folders:
            devices.setdefault(os.stat(folder).st_dev, folder)
        for folder in devices.values():
            fd = os.open(folder, os.O_RDONLY)
            try:
                syncfs(fd, folder)
            finally:
                os.close(fd)
        return
    for path in files:
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
    if os.name != "nt":
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int, Path], None] | None:
    """libc's ``syncfs`` (Linux) as ``syncfs(fd, path)``, raising OSError on failure; or None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only when something is flushed

    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None

    def syncfs(fd: int, path: Path) -> None:
        if call(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))

    return syncfs


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
