"""What the history store takes and gives back, independent of the database behind it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from ledger.errors import LedgerError
from ledger.problems import Problem

ReceivedSource = Literal["email", "mtime", "given", "collected"]
#: outcome of a file as collect decided it
Verdict = Literal["accepted", "rejected"]
#: outcome of a stored file: a verdict, or "superseded" once a newer accepted file replaced it,
#: or "duplicate" (never stored) when the same bytes were received again.
Outcome = Literal["accepted", "rejected", "superseded", "duplicate"]


class StoreError(LedgerError):
    """The history database cannot be opened, read or written."""


class StoreFull(StoreError):
    """The disk is full: nothing of the write was stored."""


class StoreDamaged(StoreError):
    """The database file is damaged (or is not a ledger database, or the disk fails)."""


class StoreReadOnly(StoreError):
    """The database or its folder cannot be written."""


class StoreBusy(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


class StoreMissing(StoreError):
    """The database is missing or empty while the archive holds received files."""


@dataclass(frozen=True)
class Entry:
    """One task row of an accepted submission, as the unit filled it in."""

    task_id: str
    row: int
    progress: str = ""
    cumulative: str = ""
    percent: int | None = None
    status: str = ""
    problems_text: str = ""
    next_steps: str = ""
    coordination: str = ""
    note: str = ""


@dataclass(frozen=True)
class Received:
    """One received file and collect's verdict on it: what :meth:`Store.ingest` records.

    ``sha256`` is the hex digest of ``data`` (checked). ``received_at`` may be naive
    (taken as local time) or aware. ``unit`` may be None only for rejected files whose
    unit could not be told. Entries of rejected files are not stored.

    ``archived`` is set instead of ``data`` when the original was archived already with
    :func:`ledger.store.archive.archive_received` (collect does it while judging a file);
    the store then checks that copy before recording it: against ``sha256``, or, when
    ``size`` says how large the copy is that the archiver wrote (or found intact), by its size.
    """

    sha256: str
    source_name: str
    data: bytes
    detected_type: str
    received_at: datetime
    received_source: ReceivedSource
    sender: str
    programme: str
    period: str
    unit: str | None
    outcome: Verdict
    problems: tuple[Problem, ...] = ()
    entries: tuple[Entry, ...] = ()
    archived: str = ""  # path relative to the store's archive folder, when data is not given
    size: int | None = None  # of the archived copy, said by whoever archived it
    #: the unit whose own link the file came through (its verdict depends on it), if any
    expected_unit: str | None = None


@dataclass(frozen=True)
class Submission:
    """A stored file with its current outcome; ``received_at`` is aware, in local time."""

    id: int
    sha256: str
    programme: str
    period: str
    unit: str | None
    received_at: datetime
    received_source: str
    source_name: str
    sender: str
    detected_type: str
    size: int
    outcome: Outcome
    archived_path: Path
    problems: tuple[Problem, ...] = ()
    superseded_by: int | None = None


@dataclass(frozen=True)
class Manifest:
    """What the office sent one unit for one period (``generate``): the record a returned
    workbook is checked against, whatever the workbook says about itself.

    ``tasks`` are (task id, digest of the row's locked cells) in sheet order; the digests are
    keyed (:func:`ledger.layout.row_digest`) with the workspace key named by ``key_id``.
    """

    programme: str
    period: str
    unit: str
    layout_version: int
    key_id: str
    tasks: tuple[tuple[str, str], ...]
    workbook_sha256: str = ""
    generated_at: datetime | None = None


#: what an office user may do on the web page (docs/web.md): read; also take in files, generate
#: and mail; also manage units' links
Role = Literal["admin", "clerk", "viewer"]
ROLES: tuple[Role, ...] = ("viewer", "clerk", "admin")


@dataclass(frozen=True)
class Link:
    """A unit's link to the web page for one programme. Only the hash of its secret is stored;
    ``nonce`` lets the holder of the workspace's link key derive the secret again (for mail)."""

    id: int
    programme: str
    unit: str
    nonce: str
    token_hash: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Not revoked, and not past its expiry."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class OfficeUser:
    """Someone of the office who signs in to the web page."""

    name: str
    role: Role
    password_hash: str
    created_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class WebEvent:
    """One line of the web log: a sign-in (or a failed one), a refused link, an upload, a form saved."""

    recorded_at: datetime
    address: str
    event: str
    user: str | None = None
    link_id: int | None = None
    programme: str | None = None
    period: str | None = None
    unit: str | None = None
    file_name: str | None = None
    sha256: str | None = None
    size: int | None = None
    verdict: str | None = None
    detail: str = ""


class Store(Protocol):
    """The history store's interface; :mod:`ledger.store.sqlite` implements it."""

    archive_dir: Path

    def ingest(self, received: Received) -> Submission: ...

    def ingest_many(self, batch: Sequence[Received]) -> list[Submission]: ...

    def submission(self, submission_id: int) -> Submission | None: ...

    def find(self, sha256: str) -> Submission | None: ...

    def current_submissions(self, programme: str, period: str) -> list[Submission]: ...

    def entries(self, submission_id: int) -> list[Entry]: ...

    def last_accepted_before(
        self, programme: str, period_key: str, unit: str
    ) -> tuple[Submission, list[Entry]] | None: ...

    def history(self, programme: str, unit: str | None = None) -> list[Submission]: ...

    def record_manifests(self, manifests: Sequence[Manifest]) -> None: ...

    def manifests(self, programme: str, period: str) -> dict[str, Manifest]: ...

    def audit(self) -> list[dict[str, Any]]: ...

    def save_lights(self, programme: str, period: str, rows: Iterable[dict[str, Any]]) -> None: ...

    def lights(self, programme: str, period: str) -> list[dict[str, Any]]: ...

    def save_scores(self, programme: str, month: str, rows: Sequence[dict[str, Any]]) -> None: ...

    def scores(self, programme: str, month: str) -> list[dict[str, Any]]: ...

    def next_bulletin_number(self, programme: str, month: str) -> int: ...

    def restore_bulletin_number(self, programme: str, month: str, number: int) -> None: ...

    def backup(self, target: Path) -> None: ...

    def add_link(self, programme: str, unit: str, nonce: str, token_hash: str, created_at: datetime,
                 created_by: str, expires_at: datetime | None) -> Link: ...

    def links(self, programme: str | None = None) -> list[Link]: ...

    def link_by_hash(self, token_hash: str) -> Link | None: ...

    def revoke_link(self, link_id: int, at: datetime) -> bool: ...

    def add_user(self, name: str, role: Role, password_hash: str, at: datetime) -> OfficeUser: ...

    def users(self) -> list[OfficeUser]: ...

    def user(self, name: str) -> OfficeUser | None: ...

    def remove_user(self, name: str) -> bool: ...

    def set_password(self, name: str, password_hash: str, at: datetime) -> bool: ...

    def log_web(self, event: WebEvent) -> None: ...

    def web_log(self, *, limit: int | None = None, link_id: int | None = None) -> list[WebEvent]: ...

    def link_usage(self, link_id: int, period: str) -> tuple[int, int]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...
