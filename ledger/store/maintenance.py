"""``ledger store check``: the whole history database and the archive, checked without writing.

Opening a store checks its pages (:mod:`ledger.store.health`); this goes further: SQLite's
``integrity_check`` (indexes against tables) and foreign keys, every recorded file against
its archived original (present, same hash), and the archive's journal against the files
recorded (so that a rebuild would bring them all back).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ledger.store import archive as archiving
from ledger.store import health, journal


@dataclass
class StoreCheck:
    """What ``ledger store check`` found; ``problems`` empty means sound."""

    path: Path
    archive_dir: Path
    files: int = 0
    entries: int = 0
    originals: int = 0
    journaled: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {"store": str(self.path), "archive": str(self.archive_dir), "files": self.files,
                "entries": self.entries, "originals": self.originals, "journaled": self.journaled,
                "sound": self.sound, "problems": self.problems}


def check_store(path: Path, archive_dir: Path) -> StoreCheck:
    """Check the database at *path* and the archive at *archive_dir*, writing nothing."""
    found = StoreCheck(path, archive_dir, originals=archiving.count_originals(archive_dir))
    records = journal.read(archive_dir)
    found.journaled = len(records.files)
    if records.unreadable:
        found.problems.append(f"存档记录 {journal.path_of(archive_dir)} 有 {len(records.unreadable)} 行无法读取"
                              f"（第 {'、'.join(map(str, records.unreadable[:10]))} 行）")
    if health.is_empty(path):
        if found.originals:  # else nothing was ever collected: no history yet
            state = "是空文件" if path.exists() else "不存在"
            found.problems.append(f"历史库 {path} {state}，存档中有 {found.originals} 个文件；可用 ledger store rebuild 从存档重建")
        return found
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        found.problems.append(str(health.store_error(path, exc)))
        return found
    try:
        found.problems += health.full_check(conn)
        rows = conn.execute("SELECT sha256, archived_path, source_name FROM files ORDER BY id").fetchall()
        found.files = len(rows)
        found.entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    except sqlite3.Error as exc:
        found.problems.append(str(health.store_error(path, exc)))
        return found
    finally:
        conn.close()
    found.problems += _archive_problems(archive_dir, rows, {r["sha256"] for r in records.files})
    return found


def _archive_problems(archive_dir: Path, rows: list[tuple[str, str, str]], journaled: set[str]) -> list[str]:
    """Recorded files whose original is missing or changed, or that the journal does not name."""
    problems = []
    unjournaled = 0
    for sha256, rel, name in rows:
        original = archive_dir / rel
        try:
            intact = hashlib.sha256(original.read_bytes()).hexdigest() == sha256
        except OSError:
            problems.append(f"“{name}”的存档原件 {original} 缺失或无法读取")
            continue
        if not intact:
            problems.append(f"“{name}”的存档原件 {original} 与登记的内容不一致（被改动过）")
        if sha256 not in journaled:
            unjournaled += 1
    if unjournaled:
        problems.append(f"有 {unjournaled} 个已登记的文件不在存档记录 {journal.path_of(archive_dir)} 中，"
                        "历史库损坏时无法从存档重建它们（打开历史库的任何一条 ledger 命令会补记）")
    return problems
