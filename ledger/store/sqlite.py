"""The history store on SQLite: every received file, every accepted report, the audit log.

Every write is one ``BEGIN IMMEDIATE`` transaction, so two ``ledger collect`` runs on the
same database queue for the write lock instead of failing, and the check for a known
hash and the insert cannot interleave (docs/reliability.md, 三). WAL lets readers
go on while one process writes; it needs a local disk, not a network share.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import operator
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ledger import __version__
from ledger.fsutil import atomic_path
from ledger.problems import Problem
from ledger.store import archive as archiving
from ledger.store import health, journal, schema
from ledger.store.access import AccessTables
from ledger.store.model import Entry, Manifest, Received, StoreError, StoreFull, StoreReadOnly, Submission
from ledger.store.stamps import ts as _ts

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_FIELDS = (
    "task_id", "row", "progress", "cumulative", "percent", "status",
    "problems_text", "next_steps", "coordination", "note",
)
_INSERT_ENTRY = (
    f"INSERT INTO entries (file_id, {', '.join(_ENTRY_FIELDS)}) VALUES (?, {', '.join('?' for _ in _ENTRY_FIELDS)})"
)
_entry_values = operator.attrgetter(*_ENTRY_FIELDS)
_FILE_COLUMNS = (
    "id, sha256, programme, period, unit, received_at, received_source, source_name, sender, "
    "detected_type, size, outcome, archived_path, problems, superseded_by"
)


class SQLiteStore(AccessTables):
    """History store in one SQLite file; originals archived under *archive_dir*."""

    def __init__(self, path: Path, archive_dir: Path, *, rebuilding: bool = False) -> None:
        """Open (creating if needed) the database at *path*, checked page by page (see
        :mod:`ledger.store.health`); a missing or empty one while *archive_dir* holds received
        files is refused. *rebuilding*: a new database replaying the archive's journal, which
        it neither refuses to start nor appends to."""
        self.path = path
        self.archive_dir = archive_dir
        self._journaled = not rebuilding
        if not rebuilding:
            health.refuse_fresh_start(path, archive_dir)
        self._conn = _connect(path)
        try:
            health.quick_check(self._conn, path)
            with self._write():
                found = schema.upgrade(self._conn)
            if self._journaled and found <= schema.SCHEMA_VERSION:
                self._start_journal()
        except sqlite3.Error as exc:
            self._conn.close()
            raise health.store_error(path, exc) from exc
        except BaseException:
            self._conn.close()
            raise
        if found > schema.SCHEMA_VERSION:
            self._conn.close()
            raise StoreError(
                f"数据库 {path} 由更新版本的 ledger 建立（结构版本 {found}，本程序支持 "
                f"{schema.SCHEMA_VERSION}）。请升级 ledger 后再使用。"
            )

    # --- lifecycle ------------------------------------------------------------------------

    @health.guarded
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise health.store_error(self.path, exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    # --- files ----------------------------------------------------------------------------

    def ingest(self, received: Received) -> Submission:
        """Record one received file, its entries and its audit row in one transaction."""
        return self.ingest_many([received])[0]

    @health.guarded
    def ingest_many(self, batch: Sequence[Received]) -> list[Submission]:
        """Record files in order, each with its entries and its audit row, in one transaction.

        The same bytes again return the stored file with outcome ``duplicate`` and write
        nothing. An accepted file replaces the accepted one of the same programme, period
        and unit if it was received later (same time: the one ingested later wins); the
        other is kept with outcome ``superseded``. Originals are archived (or their archived
        copies checked) and flushed to disk together before the transaction; if it fails the
        database is unchanged (an archived copy stays, harmless and reused on the next try).
        One transaction and one flush for a batch spare a commit and an fsync per file; the
        write lock is held only for the inserts.
        """
        placed = [self._place(r) for r in batch]
        archiving.flush(self.archive_dir, [rel for rel, _ in placed])
        with self._write() as conn:
            stored = [self._record(conn, r, rel, size) for r, (rel, size) in zip(batch, placed, strict=True)]
            if self._journaled:
                journal.append(self.archive_dir, (_journal_line(r, s) for r, s in zip(batch, stored, strict=True)
                                                  if s.outcome != "duplicate"))
            return stored

    def _start_journal(self) -> None:
        """Write the journal of a database that has history but no journal yet (one kept
        before there was a journal): every file in the order recorded, the bulletin numbers and
        the records of what was sent."""
        if journal.exists(self.archive_dir) or not self._conn.execute("SELECT 1 FROM files LIMIT 1").fetchone():
            return
        with self._write() as conn:
            if journal.exists(self.archive_dir):
                return  # another process wrote it meanwhile
            files = conn.execute(f"SELECT {_FILE_COLUMNS} FROM files ORDER BY id").fetchall()
            lines = [_journal_line(None, self._submission(row)) for row in files]
            lines += [_bulletin_line(r["programme"], r["month"], r["number"])
                      for r in conn.execute("SELECT programme, month, number FROM bulletins ORDER BY number")]
            lines += [_manifest_line(m) for row in conn.execute("SELECT DISTINCT programme, period FROM manifests")
                      for m in self.manifests(row["programme"], row["period"]).values()]
            journal.append(self.archive_dir, lines)

    def _place(self, received: Received) -> tuple[str, int]:
        """The original's path under the archive and its size: archived now, or checked."""
        _check(received)
        if received.archived:
            return received.archived, archiving.verified_size(self.archive_dir, received.archived, received.sha256,
                                                              received.size)
        if received.sha256 != hashlib.sha256(received.data).hexdigest():
            raise ValueError(f"sha256 of {received.source_name!r} does not match its data")
        return archiving.archive_received(self.archive_dir, received, received.data, flush=False), len(received.data)

    def _record(self, conn: sqlite3.Connection, received: Received, rel: str, size: int) -> Submission:
        """One file's rows, inside the caller's transaction."""
        when = _ts(received.received_at)
        existing = conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE sha256 = ?", (received.sha256,)).fetchone()
        if existing:
            return self._submission(existing, outcome="duplicate")
        try:
            outcome, older, newer = received.outcome, None, None
            if received.outcome == "accepted":
                current = conn.execute(
                    "SELECT id, received_at, source_name FROM files "
                    "WHERE programme = ? AND period = ? AND unit = ? AND outcome = 'accepted'",
                    (received.programme, received.period, received.unit),
                ).fetchone()
                if current and current["received_at"] > when:
                    outcome, newer = "superseded", current
                elif current:
                    older = current
                    conn.execute("UPDATE files SET outcome = 'superseded' WHERE id = ?", (current["id"],))
            problems = json.dumps([p.as_dict() for p in received.problems], ensure_ascii=False)
            file_id = conn.execute(
                "INSERT INTO files (sha256, source_name, size, detected_type, received_at, "
                "received_source, sender, programme, period, unit, outcome, superseded_by, "
                "archived_path, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    received.sha256, received.source_name, size, received.detected_type,
                    when, received.received_source, received.sender, received.programme,
                    received.period, received.unit, outcome, newer["id"] if newer else None, rel, problems,
                ),
            ).lastrowid
            assert file_id is not None
            if older:
                conn.execute("UPDATE files SET superseded_by = ? WHERE id = ?", (file_id, older["id"]))
            if received.outcome == "accepted":
                conn.executemany(_INSERT_ENTRY, [(file_id, *_entry_values(e)) for e in received.entries])
            code, message = _reason(received, older, newer)
            conn.execute(
                "INSERT INTO audit (recorded_at, file_id, received_at, received_source, sender, "
                "source_name, sha256, size, detected_type, verdict, reason_code, message, tool_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(datetime.now(UTC)), file_id, when, received.received_source, received.sender,
                    received.source_name, received.sha256, size, received.detected_type,
                    outcome, code, message, __version__,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"无法记录文件“{received.source_name}”：数据不符合数据库约束（{exc}）。"
                f"数据库 {self.path} 未作任何改动；这是程序错误，请报告。"
            ) from exc
        return self._submission({
            "id": file_id, "sha256": received.sha256, "programme": received.programme, "period": received.period,
            "unit": received.unit, "received_at": when, "received_source": received.received_source,
            "source_name": received.source_name, "sender": received.sender,
            "detected_type": received.detected_type, "size": size, "outcome": outcome, "archived_path": rel,
            "problems": problems, "superseded_by": newer["id"] if newer else None,
        })

    @health.guarded
    def submission(self, submission_id: int) -> Submission | None:
        """One stored file by id, with its current outcome."""
        sql = f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?"
        row = self._conn.execute(sql, (submission_id,)).fetchone()
        return self._submission(row) if row else None

    @health.guarded
    def find(self, sha256: str) -> Submission | None:
        """The stored file with these bytes (hex SHA-256), with its current outcome; None if none."""
        row = self._conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return self._submission(row) if row else None

    @health.guarded
    def current_submissions(self, programme: str, period: str) -> list[Submission]:
        """Per unit the file that counts: the accepted one, else the latest rejected one.

        Files whose unit could not be told are not listed here (see :meth:`history`).
        """
        rows = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE programme = ? AND period = ? AND unit IS NOT NULL "
            "AND outcome IN ('accepted', 'rejected') ORDER BY unit, received_at, id",
            (programme, period),
        ).fetchall()
        best: dict[str, sqlite3.Row] = {}
        for row in rows:  # oldest first: a later rejected file replaces an earlier one
            held = best.get(row["unit"])
            if row["outcome"] == "accepted" or held is None or held["outcome"] != "accepted":
                best[row["unit"]] = row
        return [self._submission(best[u]) for u in sorted(best)]

    @health.guarded
    def entries(self, submission_id: int) -> list[Entry]:
        """The task rows of a stored file in sheet order (none for rejected files)."""
        rows = self._conn.execute(
            f"SELECT {', '.join(_ENTRY_FIELDS)} FROM entries WHERE file_id = ? ORDER BY row, task_id",
            (submission_id,),
        ).fetchall()
        return [Entry(**dict(zip(r.keys(), r, strict=True))) for r in rows]

    @health.guarded
    def last_accepted_before(
        self, programme: str, period_key: str, unit: str
    ) -> tuple[Submission, list[Entry]] | None:
        """The unit's accepted report of the latest period before *period_key*, for pre-fill.

        Only keys written the same way are compared (``2022-W22`` with ``2022-W23``, never
        with ``2022-06``), so string order is time order.
        """
        row = self._conn.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE programme = ? AND unit = ? AND outcome = 'accepted' "
            "AND period < ? AND period GLOB ? ORDER BY period DESC LIMIT 1",
            (programme, unit, period_key, _shape(period_key)),
        ).fetchone()
        if row is None:
            return None
        return self._submission(row), self.entries(row["id"])

    @health.guarded
    def history(self, programme: str, unit: str | None = None) -> list[Submission]:
        """Every stored file of a programme (or of one unit), oldest first."""
        sql = f"SELECT {_FILE_COLUMNS} FROM files WHERE programme = ?"
        args: tuple[Any, ...] = (programme,)
        if unit is not None:
            sql += " AND unit = ?"
            args += (unit,)
        rows = self._conn.execute(sql + " ORDER BY received_at, id", args).fetchall()
        return [self._submission(r) for r in rows]

    @health.guarded
    def audit(self) -> list[dict[str, Any]]:
        """The audit log, one row per stored file, in the order they were recorded."""
        return [dict(zip(r.keys(), r, strict=True)) for r in self._conn.execute("SELECT * FROM audit ORDER BY id")]

    # --- what generate sent -----------------------------------------------------------------

    @health.guarded
    def record_manifests(self, manifests: Sequence[Manifest]) -> None:
        """Record what each unit was sent, replacing what it was sent before for the same
        period (generating again), in one transaction with its journal lines."""
        rows = [_manifest_row(m) for m in manifests]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO manifests (programme, period, unit, layout_version, key_id, tasks, "
                "workbook_sha256, generated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if self._journaled:
                journal.append(self.archive_dir, (_manifest_line(m) for m in manifests))

    @health.guarded
    def manifests(self, programme: str, period: str) -> dict[str, Manifest]:
        """What each unit was sent for *period*, by unit (empty for a period generated before
        manifests were recorded)."""
        rows = self._conn.execute("SELECT * FROM manifests WHERE programme = ? AND period = ? ORDER BY unit",
                                  (programme, period)).fetchall()
        return {r["unit"]: Manifest(
            r["programme"], r["period"], r["unit"], r["layout_version"], r["key_id"],
            tuple((str(t), str(d)) for t, d in json.loads(r["tasks"])), r["workbook_sha256"],
            datetime.fromisoformat(r["generated_at"]).astimezone(),
        ) for r in rows}

    # --- later stages ---------------------------------------------------------------------

    @health.guarded
    def save_lights(self, programme: str, period: str, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the assessment rows of one programme and period (a re-run overwrites)."""
        try:
            encoded = [json.dumps(r, ensure_ascii=False, default=_json_default) for r in rows]
        except TypeError as exc:
            raise ValueError(f"lights rows must be JSON-serialisable: {exc}") from exc
        with self._write() as conn:
            conn.execute("DELETE FROM lights WHERE programme = ? AND period = ?", (programme, period))
            conn.executemany(
                "INSERT INTO lights (programme, period, position, data) VALUES (?, ?, ?, ?)",
                [(programme, period, i, data) for i, data in enumerate(encoded)],
            )

    @health.guarded
    def lights(self, programme: str, period: str) -> list[dict[str, Any]]:
        """The rows last saved for this programme and period, in saved order (dates as text)."""
        rows = self._conn.execute(
            "SELECT data FROM lights WHERE programme = ? AND period = ? ORDER BY position",
            (programme, period),
        ).fetchall()
        return [json.loads(r["data"]) for r in rows]

    @health.guarded
    def save_scores(self, programme: str, month: str, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the monthly scores of one programme and month (rows name their ``unit``), in rank order."""
        encoded = [(r["unit"], json.dumps(r, ensure_ascii=False, default=_json_default)) for r in rows]
        with self._write() as conn:
            conn.execute("DELETE FROM scores WHERE programme = ? AND month = ?", (programme, month))
            conn.executemany(
                "INSERT INTO scores (programme, month, position, unit, data) VALUES (?, ?, ?, ?, ?)",
                [(programme, month, i, unit, data) for i, (unit, data) in enumerate(encoded)],
            )

    @health.guarded
    def scores(self, programme: str, month: str) -> list[dict[str, Any]]:
        """The scores last saved for this programme and month, in saved (rank) order."""
        rows = self._conn.execute(
            "SELECT data FROM scores WHERE programme = ? AND month = ? ORDER BY position", (programme, month)
        ).fetchall()
        return [json.loads(r["data"]) for r in rows]

    @health.guarded
    def next_bulletin_number(self, programme: str, month: str) -> int:
        """The bulletin number (期号) for *month*: the same month always gets the same number,
        a new month gets the programme's highest number plus one."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT number FROM bulletins WHERE programme = ? AND month = ?", (programme, month)
            ).fetchone()
            if row:
                return int(row["number"])
            number = conn.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM bulletins WHERE programme = ?", (programme,)
            ).fetchone()["next"]
            conn.execute(
                "INSERT INTO bulletins (programme, month, number) VALUES (?, ?, ?)",
                (programme, month, number),
            )
            if self._journaled:
                journal.append(self.archive_dir, [_bulletin_line(programme, month, int(number))])
            return int(number)

    @health.guarded
    def restore_bulletin_number(self, programme: str, month: str, number: int) -> None:
        """Record the bulletin number a month was given before (a rebuild from the journal)."""
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO bulletins (programme, month, number) VALUES (?, ?, ?)",
                         (programme, month, number))

    @health.guarded
    def backup(self, target: Path) -> None:
        """A consistent copy of the database at *target* (SQLite's online backup: other
        processes may go on writing), written atomically."""
        with atomic_path(target) as tmp:
            copy = sqlite3.connect(tmp)
            try:
                self._conn.backup(copy)
            except sqlite3.Error as exc:
                if getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "full" in str(exc):
                    raise StoreFull(f"磁盘空间不足，无法把历史库备份到 {target}。原历史库未受影响；请换一个空间足够的位置。") from exc
                raise StoreError(f"无法把历史库备份到 {target}（{exc}）。原历史库未受影响。") from exc
            finally:
                copy.close()

    # --- helpers --------------------------------------------------------------------------

    def _submission(self, row: sqlite3.Row | dict[str, Any], outcome: str | None = None) -> Submission:
        return Submission(
            id=row["id"],
            sha256=row["sha256"],
            programme=row["programme"],
            period=row["period"],
            unit=row["unit"],
            received_at=datetime.fromisoformat(row["received_at"]).astimezone(),
            received_source=row["received_source"],
            source_name=row["source_name"],
            sender=row["sender"],
            detected_type=row["detected_type"],
            size=row["size"],
            outcome=outcome or row["outcome"],  # type: ignore[arg-type]
            archived_path=self.archive_dir / row["archived_path"],
            problems=tuple(Problem(**d) for d in json.loads(row["problems"])),
            superseded_by=row["superseded_by"],
        )


def _connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=health.BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row  # rows by column name, never by position
    except OSError as exc:
        raise StoreReadOnly(f"无法打开历史库 {path}：{exc.strerror or exc}。请检查路径和写入权限。") from exc
    except sqlite3.Error as exc:
        raise health.store_error(path, exc) from exc
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"数据库 {path} 无法使用 WAL 模式（当前为 {mode}）。请把数据库放在本机磁盘上，不要放在网络共享目录。")
    except sqlite3.Error as exc:
        conn.close()
        raise health.store_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _journal_line(received: Received | None, stored: Submission) -> dict[str, Any]:
    """The journal line of a file just recorded (*received*), or recorded before the journal."""
    line = {
        "kind": journal.FILE, "sha256": stored.sha256,
        "archived": f"{stored.sha256[:2]}/{stored.archived_path.name}",
        "source_name": stored.source_name, "detected_type": stored.detected_type,
        "received_at": _ts(received.received_at if received else stored.received_at),
        "received_source": stored.received_source, "sender": stored.sender,
        "programme": stored.programme, "period": stored.period, "unit": stored.unit, "outcome": stored.outcome,
        "expected_unit": received.expected_unit if received else None,
    }
    if stored.outcome == "rejected" and stored.detected_type in journal.CONTAINER_TYPES:
        line["refusal"] = [p.as_dict() for p in stored.problems]
    return line


def _manifest_row(m: Manifest) -> tuple[Any, ...]:
    when = _ts(m.generated_at or datetime.now(UTC))
    return (m.programme, m.period, m.unit, m.layout_version, m.key_id,
            json.dumps([list(t) for t in m.tasks], ensure_ascii=False), m.workbook_sha256, when)


def _manifest_line(m: Manifest) -> dict[str, Any]:
    programme, period, unit, version, key_id, tasks, sha256, when = _manifest_row(m)
    return {"kind": journal.MANIFEST, "programme": programme, "period": period, "unit": unit,
            "layout_version": version, "key_id": key_id, "tasks": json.loads(tasks), "workbook_sha256": sha256,
            "generated_at": when}


def _bulletin_line(programme: str, month: str, number: int) -> dict[str, Any]:
    return {"kind": journal.BULLETIN, "programme": programme, "month": month, "number": number}


def _check(received: Received) -> None:
    """Catch caller bugs before anything is written."""
    if not _SHA256.fullmatch(received.sha256):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    if received.outcome not in ("accepted", "rejected"):
        raise ValueError(f"outcome must be accepted or rejected, not {received.outcome!r}")
    if received.outcome == "accepted" and not received.unit:
        raise ValueError("an accepted file must name its unit")


def _reason(received: Received, older: sqlite3.Row | None, newer: sqlite3.Row | None) -> tuple[str, str]:
    """Reason code and Chinese message of the audit row."""
    errors = [p for p in received.problems if p.is_error]
    if received.outcome == "rejected":
        first = errors[0] if errors else (received.problems[0] if received.problems else None)
        if first is None:
            return "", "未采用"
        more = f"（另有 {len(received.problems) - 1} 个问题）" if len(received.problems) > 1 else ""
        return first.code, first.message + more
    if newer:
        return "", f"已有更晚收到的“{newer['source_name']}”，本文件仅存档"
    if older:
        return "", f"已采用，取代此前收到的“{older['source_name']}”"
    return "", "已采用"


def _shape(period_key: str) -> str:
    """GLOB pattern matching keys written like *period_key*: ``2022-W23`` -> ``[0-9]…-W[0-9][0-9]``."""
    out = []
    for ch in period_key:
        if ch.isdigit():
            out.append("[0-9]")
        elif ch in "*?[]":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
