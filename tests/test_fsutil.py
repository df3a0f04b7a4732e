import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import fsutil
from ledger.cli import main
from ledger.config import Workspace
from ledger.errors import WorkspaceError
from ledger.fsutil import (
    STALE_AFTER_S,
    TMP_SUFFIX,
    AtomicBatch,
    atomic_path,
    clean_stale_temp,
    os_error_text,
    write_bytes_atomic,
)


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "汇总表.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(f"*{TMP_SUFFIX}"))


def test_write_replaces(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkspaceError, match="无法写入"):
        write_bytes_atomic(blocker / "a.txt", b"x")


def test_stale_temp_cleaned(tmp_path):
    stale = tmp_path / f".x.xlsx.abc{TMP_SUFFIX}"
    stale.write_text("x")
    assert clean_stale_temp(tmp_path) == [stale]
    assert not stale.exists()


# --- many files, one flush -------------------------------------------------------------------------


def test_a_batch_writes_every_file_and_flushes_twice_whatever_their_number(tmp_path, monkeypatch):
    flushed: list[tuple[list, set]] = []
    real = fsutil.flush_to_disk

    def counting(files, *, folders=()):
        flushed.append((list(files), set(folders)))
        real(files, folders=folders)

    monkeypatch.setattr(fsutil, "flush_to_disk", counting)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "7.txt").write_bytes(b"old")
    with AtomicBatch() as batch:
        for n in range(40):
            assert batch.write(tmp_path / "ab"[n % 2] / f"{n}.txt", f"回执{n}".encode()) == tmp_path / "ab"[n % 2] / f"{n}.txt"
        assert not (tmp_path / "a" / "0.txt").exists()  # nothing in place before the commit
        assert (tmp_path / "b" / "7.txt").read_bytes() == b"old"
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*.txt")} == {f"{n}.txt": f"回执{n}".encode() for n in range(40)}
    assert not list(tmp_path.rglob(f"*{TMP_SUFFIX}"))
    # the staged data once, then the two folders' renames: two flushes for forty files
    assert len(flushed) == 2 and len(flushed[0][0]) == 40 and flushed[1][1] == {tmp_path / "a", tmp_path / "b"}
    assert oct((tmp_path / "a" / "0.txt").stat().st_mode & 0o777) == oct(0o666 & ~fsutil._UMASK)


def test_a_batch_that_fails_before_its_commit_leaves_every_target_as_it_was(tmp_path):
    (tmp_path / "kept.txt").write_bytes(b"old")
    with pytest.raises(RuntimeError), AtomicBatch() as batch:
        batch.write(tmp_path / "kept.txt", b"new")
        batch.write(tmp_path / "new.txt", b"new")
        raise RuntimeError("stopped")
    assert (tmp_path / "kept.txt").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


def test_flushing_without_syncfs_fsyncs_each_file_and_folder(tmp_path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(fsutil, "_syncfs", lambda: None)  # not Linux
    monkeypatch.setattr(fsutil.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    with AtomicBatch() as batch:
        for n in range(3):
            batch.write(tmp_path / f"{n}.txt", b"x")
    assert len(synced) == 3 + (2 if os.name != "nt" else 0)  # three files; their folder before and after renaming
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.txt", "1.txt", "2.txt"]


# --- what a killed run leaves behind ---------------------------------------------------------------

_KILLED_WRITER = """
import os, signal, sys
from ledger.fsutil import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_bytes(b"half a workbook")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_write(target: Path) -> Path:
    """The temporary file that kill -9 in the middle of an atomic write leaves next to *target*."""
    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(target)], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    [left] = target.parent.glob(f".{target.name}.*{TMP_SUFFIX}")
    return left


def _age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          timeout=60)
    return int(proc.stdout)


def test_start_up_removes_what_a_killed_run_left(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command first removes ledger's own temporary files older than an hour under out/ and
    source_data/ (the archive's fan-out folders included) and its temporary folders whose process
    is gone; fresh ones, a running process's folder and anything not named as ledger names its
    own stay."""
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(systmp))
    out = ws.paths.out
    old = [_age(_killed_write(out / "351" / "2022-W23" / "汇总表.xlsx"), 2 * STALE_AFTER_S),
           _age(_killed_write(out / "archive" / "ab" / f"{'ab' * 32}.xlsx"), 2 * STALE_AFTER_S),
           _age(_killed_write(ws.paths.source_data / "351" / "registry.xlsx"), 2 * STALE_AFTER_S)]
    fresh = _killed_write(out / "351" / "2022-W23" / "考核得分.xlsx")
    not_ours = [out / "notes.ledger-tmp", out / ".x.ledger-tmp"]
    for path in not_ours:
        path.write_text("mine")
        _age(path, 2 * STALE_AFTER_S)
    gone, running = _dead_pid(), os.getpid()
    folders = {name: systmp / name for name in (f"ledger-collect-{gone}-a1b2", f"ledger-collect-{running}-c3d4",
                                                f"ledger-collect-{gone}-fresh", "ledger-pdf-e5f6", "other-g7h8")}
    for name, folder in folders.items():
        (folder / "staged").mkdir(parents=True)
        if "fresh" not in name:
            _age(folder, 2 * STALE_AFTER_S)
    res = CliRunner().invoke(main, ["-w", str(ws.root), "registry", "list"])
    assert res.exit_code == 0, res.output
    assert not any(p.exists() for p in old)
    assert fresh.exists() and all(p.exists() for p in not_ours)
    assert sorted(p.name for p in systmp.iterdir()) == sorted(
        [f"ledger-collect-{running}-c3d4", f"ledger-collect-{gone}-fresh", "other-g7h8"])


def test_a_read_or_write_no_stage_handled_names_the_file(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's last resort: an OSError is a Chinese message naming the file, never a traceback."""
    import ledger.reporting

    def failing(run: object) -> None:
        raise OSError(errno.EIO, "Input/output error", str(ws.paths.out / "坏扇区.xlsx"))

    monkeypatch.setattr(ledger.reporting, "period_status", failing)
    res = CliRunner().invoke(main, ["-w", str(ws.root), "status", "-p", "351", "--period", "2022-W23"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"读写 {ws.paths.out / '坏扇区.xlsx'} 时出错：Input/output error" in res.output
    full = OSError(errno.ENOSPC, "No space left on device", "/data/out/a.xlsx")
    assert os_error_text(full).startswith("磁盘空间不足，无法写入 /data/out/a.xlsx。已保存的内容未受影响")


def test_a_batch_that_keeps_going_puts_the_others_in_place(tmp_path):
    """A receipt's path taken by a folder does not stop the other receipts: the batch says which
    target it could not put in place, and leaves no temporary file behind."""
    (tmp_path / "b.txt").mkdir()
    with AtomicBatch(keep_going=True) as batch:
        for name in ("a.txt", "b.txt", "c.txt"):
            batch.write(tmp_path / name, name.encode())
    assert list(batch.failed) == [tmp_path / "b.txt"] and "无法写入" in str(batch.failed[tmp_path / "b.txt"])
    assert (tmp_path / "a.txt").read_bytes() == b"a.txt" and (tmp_path / "c.txt").read_bytes() == b"c.txt"
    assert (tmp_path / "b.txt").is_dir() and not list(tmp_path.glob(f"*{TMP_SUFFIX}"))
    with pytest.raises(WorkspaceError), AtomicBatch() as strict:  # by default the first failure stops it
        strict.write(tmp_path / "b.txt", b"b")
