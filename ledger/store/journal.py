"""The archive's journal: what the history database cannot rebuild from the originals alone.

The archive keeps each received file under its hash, without saying for which programme and
period it came, when, from whom, or through which unit's link. The store appends one JSON line
per newly recorded file (and per bulletin number handed out, and per workbook manifest that
generate records) to ``journal.jsonl`` next to the originals, inside the write transaction, so
that ``ledger store rebuild`` can judge every original again, in the order it was recorded,
against the same manifests, into a new database.

A line written for a transaction that then failed names a file the database does not hold;
its original is archived all the same, and a rebuild records it. A line cut short by a crash
is skipped on reading (and reported), and the next line starts on a line of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.fsutil import DISK_FULL
from ledger.store.model import Manifest, StoreError, StoreFull

JOURNAL_NAME = "journal.jsonl"
#: what a line says: a received file, a bulletin number, or what a unit was sent (a manifest)
FILE, BULLETIN, MANIFEST = "file", "bulletin", "manifest"
#: detected types of a mail or zip archive refused whole: their verdict is about the container,
#: not judged against a registry, so a line keeps its problems (``refusal``) for a rebuild
CONTAINER_TYPES = ("eml", "msg", "zip")


def path_of(archive_dir: Path) -> Path:
    return archive_dir / JOURNAL_NAME


def append(archive_dir: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append *records*, one line each, and make them durable (fsync) before returning."""
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode("utf-8")
    if not data:
        return
    path = path_of(archive_dir)
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line cut short by a crash stays a line of its own
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        kept = "本次内容未登记，此前登记的内容未受影响；"
        if exc.errno in DISK_FULL:
            raise StoreFull(f"磁盘空间不足，无法写入存档记录 {path}。{kept}请清理磁盘空间后重试。") from exc
        raise StoreError(f"无法写入存档记录 {path}：{exc.strerror or exc}。{kept}请检查该目录的写入权限和磁盘后重试。") from exc


@dataclass
class Journal:
    """What the journal holds: file lines (the last line of each hash, in the order of those
    lines), bulletin numbers, manifests (the last of each programme, period and unit), and the
    numbers of lines that could not be read."""

    files: list[dict[str, Any]] = field(default_factory=list)
    bulletins: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)


def read(archive_dir: Path) -> Journal:
    """The journal of *archive_dir* (empty when there is none)."""
    found = Journal()
    path = path_of(archive_dir)
    if not path.exists():
        return found
    last: dict[str, tuple[int, dict[str, Any]]] = {}
    bulletins: dict[tuple[str, str], dict[str, Any]] = {}
    manifests: dict[tuple[str, str, str], dict[str, Any]] = {}
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise StoreError(f"无法读取存档记录 {path}：{exc.strerror or exc}。") from exc
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            kind = record["kind"]
        except (ValueError, TypeError, KeyError):
            found.unreadable.append(number)
            continue
        if kind == FILE and isinstance(record.get("sha256"), str):
            last[record["sha256"]] = (number, record)
        elif kind == BULLETIN:
            bulletins[(record["programme"], record["month"])] = record
        elif kind == MANIFEST and isinstance(record.get("tasks"), list) and all(
                isinstance(record.get(k), str) for k in ("programme", "period", "unit", "key_id")):
            manifests[(record["programme"], record["period"], record["unit"])] = record
        else:
            found.unreadable.append(number)
    found.files = [record for _, record in sorted(last.values(), key=lambda pair: pair[0])]
    found.bulletins = list(bulletins.values())
    found.manifests = list(manifests.values())
    return found


def manifest_of(line: dict[str, Any]) -> Manifest:
    """The manifest a journal line records (a rebuild restores it)."""
    when = line.get("generated_at")
    return Manifest(line["programme"], line["period"], line["unit"], int(line["layout_version"]), line["key_id"],
                    tuple((str(t), str(d)) for t, d in line["tasks"]), str(line.get("workbook_sha256", "")),
                    datetime.fromisoformat(when) if isinstance(when, str) else None)


def exists(archive_dir: Path) -> bool:
    return path_of(archive_dir).exists()
