"""The history store checks itself: damage, a missing or empty store, a read-only or full disk
end in a Chinese message and exit code 1 (never a traceback, never a silent fresh start), and
``ledger store check | backup | rebuild`` look after it. Real SQLite files, damaged on disk."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import hostile as h
import pytest
from click.testing import CliRunner
from conftest import CG, DUE_W23, JT, ZJ, filled, reply_mail

from ledger import fsutil
from ledger.cli import main
from ledger.collect.api import collect
from ledger.config import Workspace, load
from ledger.run import Run, archive_dir, open_workspace_store
from ledger.store import StoreDamaged, StoreFull, StoreMissing, journal
from ledger.store.archive import count_originals

W23 = ["-p", "351", "--period", "2022-W23"]


def _collect(ws: Workspace, folder: Path, period: str = "2022-W23", **kw: object) -> None:
    with open_workspace_store(ws) as store:
        collect(Run.open(ws, "351", period, now=DUE_W23, store=store), [folder], jobs=1, **kw)  # type: ignore[arg-type]


def make_history(ws: Workspace, tmp_path: Path) -> None:
    """Two weeks of history: accepted by mail and loose, a rejection then its correction, a report
    replaced by a later one, another unit's file sent through 交通运输局's own link, a bulletin number,
    a mail and a zip archive refused whole."""
    first = tmp_path / "h1"
    attachment = filled(ws, JT, tmp_path / "att")
    reply_mail(first / "交通运输局.eml", [(attachment.name, attachment.read_bytes())],
               date="Fri, 10 Jun 2022 15:00:00 +0800", sender="clerk@example.org")
    filled(ws, CG, first, percent="很多")
    h.deep_mail(first, "层层转发.eml", 30, (attachment.name, attachment.read_bytes()))
    h.zip_in_zip(first, "合集.zip")
    _collect(ws, first)
    second = tmp_path / "h2"
    filled(ws, CG, second)
    filled(ws, JT, second, progress="周五下午又补充了进展")
    _collect(ws, second)
    link = tmp_path / "h3"
    filled(ws, ZJ, link)
    _collect(ws, link, unit=JT)
    _collect(ws, filled(ws, JT, tmp_path / "h4", period="2022-W24").parent, period="2022-W24")
    with open_workspace_store(ws) as store:
        assert store.next_bulletin_number("351", "2022-06") == 1


def dump(ws: Workspace) -> tuple[list, list, list, list, list]:
    """Every file, entry, bulletin, audit row (but the audit's wall-clock time) and record of what
    was sent (manifest) of the store."""
    conn = sqlite3.connect(ws.paths.store)
    try:
        files = conn.execute("SELECT * FROM files ORDER BY id").fetchall()
        entries = conn.execute("SELECT * FROM entries ORDER BY file_id, task_id").fetchall()
        bulletins = conn.execute("SELECT * FROM bulletins ORDER BY programme, month").fetchall()
        audit = [r[:1] + r[2:] for r in conn.execute("SELECT * FROM audit ORDER BY id")]
        manifests = conn.execute("SELECT * FROM manifests ORDER BY programme, period, unit").fetchall()
    finally:
        conn.close()
    return files, entries, bulletins, audit, manifests


@pytest.fixture()
def history(ws: Workspace, tmp_path: Path) -> tuple:
    make_history(ws, tmp_path)
    before = dump(ws)
    assert {row[11] for row in before[0]} == {"accepted", "rejected", "superseded"}
    assert {(row[1], row[2]) for row in before[4]} >= {("2022-W23", JT), ("2022-W23", CG), ("2022-W24", JT)}
    return before


def cli(ws: Workspace, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["-w", str(ws.root), *args])
    assert "Traceback" not in res.output and not (res.exception and not isinstance(res.exception, SystemExit)), \
        res.output
    return res.exit_code, res.output


def remove_store(ws: Workspace) -> None:
    for suffix in ("", "-wal", "-shm"):
        ws.paths.store.with_name(ws.paths.store.name + suffix).unlink(missing_ok=True)


def damage(path: Path, table: str) -> None:
    """Overwrite the root page of *table* with garbage, as a failing disk or a stray write does."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()
    assert not path.with_name(path.name + "-wal").exists()  # closed cleanly: all pages in the file
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x55" * page_size)


# --- a damaged store ------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["entries", "files"])
def test_a_damaged_page_stops_every_command_with_a_message(ws: Workspace, history: tuple, table: str) -> None:
    """status does not read entries: it used to exit 0 on a damaged entries page."""
    damage(ws.paths.store, table)
    for args in (["status", *W23], ["consolidate", *W23], ["generate", *W23], ["assess", "-p", "351", "--month",
                                                                               "2022-06"]):
        code, out = cli(ws, *args)
        assert code == 1 and "已损坏" in out and "ledger store rebuild" in out, (args, out)
        assert str(ws.paths.store) in out
    with pytest.raises(StoreDamaged):
        open_workspace_store(ws)
    code, out = cli(ws, "store", "check")
    assert code == 1 and "[错误]" in out


def test_rebuild_after_damage_gives_the_same_store_and_keeps_the_damaged_one(ws: Workspace, history: tuple) -> None:
    damage(ws.paths.store, "entries")
    damaged = ws.paths.store.read_bytes()
    code, out = cli(ws, "store", "rebuild", "--jobs", "1")
    assert code == 0, out
    assert dump(ws) == history
    [aside] = ws.paths.store.parent.glob(f"{ws.paths.store.name}.before-rebuild-*")
    assert aside.read_bytes() == damaged and str(aside) in out
    assert cli(ws, "status", *W23)[0] == 0


def test_rebuild_after_the_store_is_deleted_gives_the_same_store(ws: Workspace, history: tuple) -> None:
    """Every original judged again in the order first recorded, through the link it came by:
    the same files, outcomes, entries, audit and bulletin numbers, in worker processes too."""
    remove_store(ws)
    code, out = cli(ws, "store", "rebuild", "--jobs", "2")
    assert code == 0, out
    assert "通过" in out and "退回" in out and "通报期号 1 个" in out
    assert dump(ws) == history
    assert not list(ws.paths.store.parent.glob("*.before-rebuild-*"))
    assert len(journal.read(archive_dir(ws)).files) == len(history[0])  # the rebuild did not journal again


def test_a_store_kept_before_the_journal_gets_one_when_opened(ws: Workspace, history: tuple) -> None:
    """Written from the store, the journal cannot know through which unit's link a file came:
    the rebuild judges 住建局's file sent through 交通运输局's link as 住建局's own, and says so."""
    journal.path_of(archive_dir(ws)).unlink()
    open_workspace_store(ws).close()
    assert len(journal.read(archive_dir(ws)).files) == len(history[0])
    remove_store(ws)
    code, out = cli(ws, "store", "rebuild")
    assert code == 1 and f"“2022-W23_{ZJ}_工作台账.xlsx”原判定为退回，按当前任务清单重新判定为通过" in out
    files, entries, bulletins, _, manifests = dump(ws)
    [linked] = [row[0] for row in history[0] if row[2] == f"2022-W23_{ZJ}_工作台账.xlsx"]
    assert [row[10] for row in history[0] if row[0] == linked] == [JT]  # sent through 交通运输局's link
    assert [r for r in files if r[0] != linked] == [r for r in history[0] if r[0] != linked]
    assert [r for r in entries if r[0] != linked] == history[1] and bulletins == history[2]
    assert manifests == history[4]  # the records of what was sent, journaled from the store too


def test_rebuild_lists_what_it_cannot_bring_back(ws: Workspace, history: tuple, tmp_path: Path) -> None:
    """An original the journal does not name, and a journal line cut short by a crash."""
    stray = archive_dir(ws) / "ab" / f"{'ab' * 32}.xlsx"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"received before there was a journal")
    with open(journal.path_of(archive_dir(ws)), "ab") as fh:
        fh.write(b'{"kind": "file", "sha2')
    journal.append(archive_dir(ws), [{"kind": "bulletin", "programme": "351", "month": "2022-07", "number": 2}])
    remove_store(ws)
    code, out = cli(ws, "store", "rebuild", "--json")
    assert code == 1
    assert str(stray) in out and '"unreadable_lines": [' in out
    assert dump(ws)[:2] == history[:2]
    assert len(dump(ws)[2]) == 2  # the line after the cut one was read


# --- a missing or empty store ---------------------------------------------------------------------


@pytest.mark.parametrize("empty", [False, True])
def test_a_missing_or_empty_store_is_refused_while_the_archive_holds_files(ws: Workspace, history: tuple,
                                                                           empty: bool) -> None:
    remove_store(ws)
    if empty:
        ws.paths.store.write_bytes(b"")
    originals = count_originals(archive_dir(ws))
    for args in (["status", *W23], ["generate", *W23], ["collect", str(ws.root / "nothing"), *W23],
                 ["consolidate", *W23]):
        (ws.root / "nothing").mkdir(exist_ok=True)
        code, out = cli(ws, *args)
        assert code == 1, (args, out)
        assert f"历史库缺失（{ws.paths.store} {'是空文件' if empty else '不存在'}），存档" in out
        assert f"中有 {originals} 个文件；可用 ledger store rebuild 从存档重建" in out
    assert ws.paths.store.exists() is empty and (not empty or ws.paths.store.stat().st_size == 0)
    with pytest.raises(StoreMissing):
        open_workspace_store(ws)
    assert cli(ws, "store", "rebuild")[0] == 0
    assert dump(ws) == history


def test_a_new_workspace_still_starts_a_store(ws: Workspace, tmp_path: Path) -> None:
    filled(ws, JT, tmp_path / "in")
    assert cli(ws, "collect", str(tmp_path / "in"), *W23)[0] == 0
    assert ws.paths.store.stat().st_size > 0


# --- check and backup -----------------------------------------------------------------------------


def test_check_finds_a_changed_original_and_passes_a_sound_store(ws: Workspace, history: tuple) -> None:
    code, out = cli(ws, "store", "check")
    assert code == 0 and "未发现问题" in out
    rel = history[0][0][13]  # archived_path of the first file
    original = archive_dir(ws) / rel
    os.chmod(original, 0o644)
    original.write_bytes(original.read_bytes() + b"\0")
    code, out = cli(ws, "store", "check")
    assert code == 1 and f"{original} 与登记的内容不一致" in out


def test_backup_is_a_consistent_copy(ws: Workspace, history: tuple, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "ledger-2022-06.sqlite"
    code, out = cli(ws, "store", "backup", str(target))
    assert code == 0 and str(target) in out and str(archive_dir(ws)) in out
    assert f"工作区密钥 {ws.root / '.ledger-secret'} 也请另行妥善备份" in out  # the records are checked under it
    remove_store(ws)
    shutil.copy(target, ws.paths.store)
    assert dump(ws) == history
    assert cli(ws, "status", *W23)[0] == 0


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_database_is_refused_and_changes_nothing(ws: Workspace, history: tuple, tmp_path: Path) -> None:
    """SQLite's own "database or disk is full" (its page limit set to what the file holds, and a
    report too long for the pages it has)."""
    filled(ws, CG, tmp_path / "late", progress="最后又补了一句" * 1000)
    history = dump(ws)  # generating the file recorded it as sent
    lines = journal.path_of(archive_dir(ws)).read_bytes()
    with open_workspace_store(ws) as store:
        store._conn.execute(f"PRAGMA max_page_count = {store._conn.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(StoreFull, match=f"磁盘空间不足，无法写入历史库 {ws.paths.store}。本次内容未写入，此前登记的内容未受影响"):
            collect(Run.open(ws, "351", "2022-W23", now=DUE_W23, store=store), [tmp_path / "late"], jobs=1)
    assert dump(ws) == history
    assert journal.path_of(archive_dir(ws)).read_bytes() == lines


@pytest.fixture()
def failing_fsync(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """``os.fsync`` and Linux's ``syncfs`` (which flushes many files at once: fsutil.flush_to_disk)
    fail with the errno put in the list (what a full or failing disk reports)."""
    failure: list[int] = []
    real = os.fsync
    real_syncfs = fsutil._syncfs()

    def fsync(fd: int) -> None:
        if failure:
            raise OSError(failure[0], os.strerror(failure[0]))
        real(fd)

    def syncfs(fd: int, path: Path) -> None:
        if failure:
            raise OSError(failure[0], os.strerror(failure[0]), str(path))
        if real_syncfs is not None:
            real_syncfs(fd, path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(fsutil, "_syncfs", lambda: syncfs if real_syncfs is not None else None)
    yield failure


def test_a_full_disk_while_collecting_says_so_and_keeps_the_history(ws: Workspace, history: tuple, tmp_path: Path,
                                                                    failing_fsync: list[int]) -> None:
    filled(ws, CG, tmp_path / "late", progress="最后又补了一句")
    history = dump(ws)  # generating the file recorded it as sent
    failing_fsync.append(errno.ENOSPC)
    code, out = cli(ws, "collect", str(tmp_path / "late"), *W23, "--jobs", "1")
    assert code == 1
    assert f"磁盘空间不足，无法存档收到的文件 {archive_dir(ws)}" in out and "此前登记的内容未受影响" in out
    assert "写入权限" not in out
    assert dump(ws) == history


def test_journal_full_disk_is_a_store_error(tmp_path: Path, failing_fsync: list[int]) -> None:
    failing_fsync.append(errno.ENOSPC)
    with pytest.raises(StoreFull, match="磁盘空间不足，无法写入存档记录"):
        journal.append(tmp_path, [{"kind": "bulletin", "programme": "351", "month": "2022-06", "number": 1}])


@pytest.mark.parametrize(("code", "expected"), [
    (errno.ENOSPC, "磁盘空间不足，无法写入 {path}。原来的 汇总表.xlsx 保持原样。请清理磁盘空间后重试"),
    (errno.EIO, "无法写入 {path}：Input/output error。原来的 汇总表.xlsx 保持原样。"),
])
def test_a_failing_disk_while_consolidating_names_the_file(ws: Workspace, history: tuple, failing_fsync: list[int],
                                                           code: int, expected: str) -> None:
    assert cli(ws, "consolidate", *W23)[0] == 0
    summary = ws.out_dir("351", "2022-W23") / "汇总表.xlsx"
    kept = summary.read_bytes()
    failing_fsync.append(code)
    exit_code, out = cli(ws, "consolidate", *W23)
    assert exit_code == 1 and expected.format(path=summary) in out.replace("\n", "")
    assert summary.read_bytes() == kept
    assert not list(summary.parent.glob(f"*{fsutil.TMP_SUFFIX}"))


# --- a read-only out/ -----------------------------------------------------------------------------

COMMANDS = [
    ["status", *W23], ["collect", "{inbox}", *W23], ["generate", *W23], ["consolidate", *W23],
    ["assess", "-p", "351", "--month", "2022-06"], ["bulletin", "-p", "351", "--month", "2022-06", "--no-pdf"],
    ["mail", "drafts", *W23], ["mail", "reminders", *W23], ["store", "backup", "{out}/copy.sqlite"],
    ["store", "rebuild"],
]


def _as_other_user() -> list[str]:
    """How to run a command as a user that out/'s permissions bind: nobody when we are root."""
    if os.getuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root, and no setpriv to run as another user")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*prefix, sys.executable, "-c", "import ledger"], capture_output=True, timeout=60).returncode:
        pytest.skip("nobody cannot run this Python")
    return prefix


@pytest.fixture()
def read_only_ws(ws: Workspace, history: tuple, tmp_path: Path) -> Iterator[Workspace]:
    """The workspace with its history, in a folder another user can read, out/ read-only."""
    base = Path(tempfile.mkdtemp(prefix="ledger-ro-test-"))
    root = base / "ws"
    shutil.copytree(ws.root, root)
    filled(ws, CG, root / "inbox", progress="只读时收到")
    assert cli(load(root), "generate", *W23)[0] == 0  # for mail drafts
    for folder, _dirs, names in os.walk(base):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(Path(folder) / name, 0o644)
    out = load(root).paths.out
    for folder, _, _ in os.walk(out):
        os.chmod(folder, 0o555)
    try:
        yield load(root)
    finally:
        for folder, _, _ in os.walk(base):
            os.chmod(folder, 0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_read_only_out_folder_is_a_clean_refusal(read_only_ws: Workspace, args: list[str]) -> None:
    ws = read_only_ws
    before = {p: p.read_bytes() for p in ws.paths.out.rglob("*") if p.is_file()}
    argv = [a.format(inbox=ws.root / "inbox", out=ws.paths.out) for a in args]
    done = subprocess.run([*_as_other_user(), sys.executable, "-m", "ledger", "-w", str(ws.root), *argv],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(ws.root)})
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in out, out
    assert any(word in out for word in ("只读", "写入权限", "Permission denied")), out
    assert {p: p.read_bytes() for p in ws.paths.out.rglob("*") if p.is_file()} == before

