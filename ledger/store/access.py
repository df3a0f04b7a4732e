"""Who may use the web page, kept in the history database: units' links, office users, the web log.

A mixin of :class:`~ledger.store.sqlite.SQLiteStore` (its connection, write transactions and
error handling); the rules (how a secret is made and checked, what a role may do) live in
:mod:`ledger.access`. Secrets are never stored: a link keeps the SHA-256 of its token, a user
the argon2 hash of the password.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.store import health
from ledger.store.model import Link, OfficeUser, Role, StoreError, WebEvent
from ledger.store.stamps import read_ts, ts

_LINK_COLUMNS = "id, programme, unit, nonce, token_hash, created_at, created_by, expires_at, revoked_at"
_USER_COLUMNS = "name, role, password_hash, created_at, changed_at"
_EVENT_FIELDS = ("recorded_at", "address", "event", "user", "link_id", "programme", "period", "unit", "file_name",
                 "sha256", "size", "verdict", "detail")
#: web log events that brought a file (counted against a link's limits per period)
UPLOAD_EVENTS = ("upload", "fill")


class AccessTables:
    """Links, users and the web log of one SQLite history store."""

    # provided by SQLiteStore
    path: Path
    _conn: sqlite3.Connection
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]

    # --- links ---------------------------------------------------------------------------

    @health.guarded
    def add_link(self, programme: str, unit: str, nonce: str, token_hash: str, created_at: datetime,
                 created_by: str, expires_at: datetime | None) -> Link:
        """Record a new link of *unit* for *programme*; the unit's link in use before, if any, is
        revoked in the same transaction (a unit has one link at a time)."""
        with self._write() as conn:
            conn.execute("UPDATE links SET revoked_at = ? WHERE programme = ? AND unit = ? AND revoked_at IS NULL",
                         (ts(created_at), programme, unit))
            link_id = conn.execute(
                "INSERT INTO links (programme, unit, nonce, token_hash, created_at, created_by, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (programme, unit, nonce, token_hash, ts(created_at), created_by,
                 ts(expires_at) if expires_at else None),
            ).lastrowid
            row = conn.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE id = ?", (link_id,)).fetchone()
        return _link(row)

    @health.guarded
    def links(self, programme: str | None = None) -> list[Link]:
        """Every link ever made (of *programme*), oldest first."""
        sql, args = f"SELECT {_LINK_COLUMNS} FROM links", ()
        if programme is not None:
            sql, args = sql + " WHERE programme = ?", (programme,)
        return [_link(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    @health.guarded
    def link_by_hash(self, token_hash: str) -> Link | None:
        row = self._conn.execute(f"SELECT {_LINK_COLUMNS} FROM links WHERE token_hash = ?", (token_hash,)).fetchone()
        return _link(row) if row else None

    @health.guarded
    def revoke_link(self, link_id: int, at: datetime) -> bool:
        """Revoke a link; False when there is no such link in use."""
        with self._write() as conn:
            done = conn.execute("UPDATE links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                (ts(at), link_id)).rowcount
        return bool(done)

    # --- office users ----------------------------------------------------------------------

    @health.guarded
    def add_user(self, name: str, role: Role, password_hash: str, at: datetime) -> OfficeUser:
        try:
            with self._write() as conn:
                conn.execute(f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                             (name, role, password_hash, ts(at), ts(at)))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"已有名为“{name}”的用户。") from exc
        found = self.user(name)
        assert found is not None
        return found

    @health.guarded
    def users(self) -> list[OfficeUser]:
        return [_user(r) for r in self._conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY created_at, name")]

    @health.guarded
    def user(self, name: str) -> OfficeUser | None:
        row = self._conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    @health.guarded
    def remove_user(self, name: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount)

    @health.guarded
    def set_password(self, name: str, password_hash: str, at: datetime) -> bool:
        with self._write() as conn:
            return bool(conn.execute("UPDATE users SET password_hash = ?, changed_at = ? WHERE name = ?",
                                     (password_hash, ts(at), name)).rowcount)

    # --- the web log -----------------------------------------------------------------------

    @health.guarded
    def log_web(self, event: WebEvent) -> None:
        values = [getattr(event, f) for f in _EVENT_FIELDS]
        values[0] = ts(event.recorded_at)
        with self._write() as conn:
            conn.execute(f"INSERT INTO web_log ({', '.join(_EVENT_FIELDS)}) VALUES "
                         f"({', '.join('?' for _ in _EVENT_FIELDS)})", values)

    @health.guarded
    def web_log(self, *, limit: int | None = None, link_id: int | None = None) -> list[WebEvent]:
        """The web log, newest first (the last *limit* lines; those of one link)."""
        sql, args = f"SELECT {', '.join(_EVENT_FIELDS)} FROM web_log", []  # type: ignore[var-annotated]
        if link_id is not None:
            sql += " WHERE link_id = ?"
            args.append(link_id)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return list(_events(self._conn.execute(sql, args)))

    @health.guarded
    def link_usage(self, link_id: int, period: str) -> tuple[int, int]:
        """How many files came through a link for *period*, and their bytes together."""
        row = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM web_log WHERE link_id = ? AND period = ? "
            f"AND event IN ({', '.join('?' for _ in UPLOAD_EVENTS)})", (link_id, period, *UPLOAD_EVENTS)).fetchone()
        return int(row[0]), int(row[1])


def _link(row: Any) -> Link:
    return Link(row["id"], row["programme"], row["unit"], row["nonce"], row["token_hash"],
                read_ts(row["created_at"]), row["created_by"], read_ts(row["expires_at"]),  # type: ignore[arg-type]
                read_ts(row["revoked_at"]))


def _user(row: Any) -> OfficeUser:
    return OfficeUser(row["name"], row["role"], row["password_hash"], read_ts(row["created_at"]),  # type: ignore[arg-type]
                      read_ts(row["changed_at"]))  # type: ignore[arg-type]


def _events(rows: Iterator[Any]) -> Iterator[WebEvent]:
    for row in rows:
        values = dict(zip(_EVENT_FIELDS, row, strict=True))
        values["recorded_at"] = read_ts(values["recorded_at"])
        yield WebEvent(**values)
