"""The history database's tables, and the hook that brings an older database up to date.

The constraints carry the invariants so that no code path can break them: one row per
content hash, at most one accepted file per (programme, period, unit), an accepted file
always names its unit, one entry per task of a file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 4

_V1 = (
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
        source_name TEXT NOT NULL,
        size INTEGER NOT NULL CHECK (size >= 0),
        detected_type TEXT NOT NULL,
        received_at TEXT NOT NULL,
        received_source TEXT NOT NULL CHECK (received_source IN ('email', 'collected')),
        sender TEXT NOT NULL DEFAULT '',
        programme TEXT NOT NULL,
        period TEXT NOT NULL,
        unit TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'superseded')),
        superseded_by INTEGER REFERENCES files(id),
        archived_path TEXT NOT NULL,
        problems TEXT NOT NULL DEFAULT '[]',
        CHECK (outcome = 'rejected' OR unit IS NOT NULL)
    )""",
    "CREATE INDEX files_by_key ON files (programme, period, unit, received_at)",
    "CREATE INDEX files_by_unit ON files (programme, unit, period)",
    """CREATE UNIQUE INDEX files_one_accepted ON files (programme, period, unit)
        WHERE outcome = 'accepted'""",
    """CREATE TABLE entries (
        file_id INTEGER NOT NULL REFERENCES files(id),
        task_id TEXT NOT NULL CHECK (task_id <> ''),
        row INTEGER NOT NULL,
        progress TEXT NOT NULL,
        cumulative TEXT NOT NULL,
        percent INTEGER CHECK (percent IS NULL OR percent BETWEEN 0 AND 100),
        status TEXT NOT NULL,
        problems_text TEXT NOT NULL,
        next_steps TEXT NOT NULL,
        coordination TEXT NOT NULL,
        note TEXT NOT NULL,
        PRIMARY KEY (file_id, task_id)
    )""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        recorded_at TEXT NOT NULL,
        file_id INTEGER NOT NULL UNIQUE REFERENCES files(id),
        received_at TEXT NOT NULL,
        received_source TEXT NOT NULL,
        sender TEXT NOT NULL,
        source_name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        detected_type TEXT NOT NULL,
        verdict TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        message TEXT NOT NULL,
        tool_version TEXT NOT NULL
    )""",
    """CREATE TABLE lights (
        programme TEXT NOT NULL,
        period TEXT NOT NULL,
        position INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (programme, period, position)
    )""",
    """CREATE TABLE bulletins (
        programme TEXT NOT NULL,
        month TEXT NOT NULL,
        number INTEGER NOT NULL CHECK (number > 0),
        PRIMARY KEY (programme, month),
        UNIQUE (programme, number)
    )""",
)

def _to_v2(conn: sqlite3.Connection) -> None:
    """Monthly scores get a table of their own; they were kept among the lights under ``score:<month>``."""
    conn.execute("""CREATE TABLE scores (
        programme TEXT NOT NULL,
        month TEXT NOT NULL,
        position INTEGER NOT NULL,
        unit TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (programme, month, position),
        UNIQUE (programme, month, unit)
    )""")
    conn.execute(
        "INSERT INTO scores (programme, month, position, unit, data) "
        "SELECT programme, substr(period, 7), position, json_extract(data, '$.unit'), data "
        "FROM lights WHERE period LIKE 'score:%'"
    )
    conn.execute("DELETE FROM lights WHERE period LIKE 'score:%'")


#: where a received time comes from (ledger.reporting.SOURCE_NAMES): an e-mail's Date, a loose
#: file's modification time, the time the office gave for a run, or the time of collecting
RECEIVED_SOURCES = ("email", "mtime", "given", "collected")
#: the files table of schema 3: schema 1's (history, never edited) with the new sources, its
#: self-reference naming the table as it is built (the rename in _to_v3 makes it ``files``)
_FILES_V3 = (_V1[0].replace("CREATE TABLE files", "CREATE TABLE files_v3")
             .replace("REFERENCES files(id)", "REFERENCES files_v3(id)")
             .replace("('email', 'collected')", "(" + ", ".join(f"'{s}'" for s in RECEIVED_SOURCES) + ")"))


def _to_v3(conn: sqlite3.Connection) -> None:
    """``files.received_source`` also takes 'mtime' and 'given'.

    SQLite cannot change a CHECK constraint, so the table is rebuilt, ids kept. Foreign keys
    stay on (the pragma cannot change inside the opening transaction), so nothing may point
    at the old table when it is dropped: the rows of ``entries`` and ``audit`` wait in
    temporary tables, the new table's self-reference names the new table (the rename makes
    it ``files``), and a final check proves every reference whole before the commit.
    """
    indexes = [row[0] for row in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND sql IS NOT NULL")]
    conn.execute(_FILES_V3)
    conn.execute("INSERT INTO files_v3 SELECT * FROM files")
    for table in ("entries", "audit"):
        conn.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM {table}")
        conn.execute(f"DELETE FROM {table}")
    conn.execute("UPDATE files SET superseded_by = NULL")
    conn.execute("DROP TABLE files")
    conn.execute("ALTER TABLE files_v3 RENAME TO files")
    for statement in indexes:
        conn.execute(statement)
    for table in ("entries", "audit"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM temp.kept_{table}")
        conn.execute(f"DROP TABLE temp.kept_{table}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise sqlite3.IntegrityError(f"schema 3: {len(broken)} references broken by the rebuild of files")


def _to_v4(conn: sqlite3.Connection) -> None:
    """What generate sent each unit for each period: collect checks a returned workbook against
    it (one row per programme, period and unit; generating again replaces it)."""
    conn.execute("""CREATE TABLE manifests (
        programme TEXT NOT NULL,
        period TEXT NOT NULL,
        unit TEXT NOT NULL,
        layout_version INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        tasks TEXT NOT NULL,
        workbook_sha256 TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        PRIMARY KEY (programme, period, unit)
    )""")


#: version -> step that turns a database of version-1 into this version; runs inside the
#: opening transaction. Add the next step here (and bump SCHEMA_VERSION) when the tables change.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {2: _to_v2, 3: _to_v3, 4: _to_v4}


def _create(conn: sqlite3.Connection) -> None:
    for statement in _V1:
        conn.execute(statement)


def current_version(conn: sqlite3.Connection) -> int:
    """The database's schema version; 0 for a new, empty database."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def upgrade(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Create or migrate the tables up to *target* (default: the current version);
    return the version found before.

    The caller holds a write transaction, so two processes opening a new database at
    once cannot both create it. A database newer than *target* is left alone; the
    caller decides what to say.
    """
    target = SCHEMA_VERSION if target is None else target
    found = current_version(conn)
    if found >= target:
        return found
    if found == 0:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        _create(conn)
        version = 1
    else:
        version = found
    while version < target:
        version += 1
        MIGRATIONS[version](conn)
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    return found
