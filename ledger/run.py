"""One command's run: the workspace, one programme and period, its registry, store and clock.

The command (or a test, or the web page) builds a :class:`Run` once and hands it to every
stage it calls, so no stage re-parses the period, re-resolves the programme, reloads the
registry or opens the store on its own. The registry, the units directory and the store
are opened on first use; a store the run opened itself is closed with the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.areas import area_of
from ledger.config import Programme, Workspace
from ledger.periods import CHINA, Period, parse_month, parse_period, to_china_time
from ledger.registry.model import Registry
from ledger.secret import workspace_key
from ledger.store import Store, open_store
from ledger.store.archive import originals

if TYPE_CHECKING:
    from ledger.registry.units import UnitDirectory

#: a period's mail: drafts in ``out/<programme>/<period>/outbox/``, what was sent in its ``sent/``
OUTBOX = "outbox"
SENT = "sent"


@dataclass
class Run:
    """What a stage works on. ``period`` is the reporting period (a month for assess);
    ``now`` is aware Beijing time."""

    ws: Workspace
    programme: Programme
    period: Period
    now: datetime
    _registry: Registry | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    _directory: UnitDirectory | None = field(default=None, repr=False)
    _owns_store: bool = field(default=False, repr=False)
    _key: bytes | None = field(default=None, repr=False)

    @classmethod
    def open(cls, ws: Workspace, programme_id: str, period: str | Period, *, registry: Registry | None = None,
             store: Store | None = None, now: datetime | None = None, directory: UnitDirectory | None = None) -> Run:
        """A run of *programme_id* for *period* (text in the programme's cycle, or a Period).

        *registry*, *store* and *directory* are loaded from the workspace when not given; a
        store given here stays open when the run closes.
        """
        programme = ws.programme(programme_id)
        if isinstance(period, str):
            period = parse_period(period, programme.reporting.cycle)
        return cls(ws, programme, period, to_china_time(now or datetime.now(CHINA)), registry, store, directory)

    @classmethod
    def open_month(cls, ws: Workspace, programme_id: str, month: str, **kwargs: object) -> Run:
        """A run of *programme_id* for a month (``2022-06``): what assess and the bulletin take."""
        return cls.open(ws, programme_id, parse_month(month), **kwargs)  # type: ignore[arg-type]

    @property
    def programme_id(self) -> str:
        return self.programme.id

    @property
    def registry(self) -> Registry:
        """The programme's reviewed registry, loaded on first use (errors in it stop the run)."""
        if self._registry is None:
            from ledger.registry.workbook import load_registry

            self._registry = load_registry(self.ws, self.programme.id)
        return self._registry

    @property
    def scope(self) -> str:
        """Whose short unit names the programme's units are (宜川县): as configured (or the configured
        issuer's area), else the area of the issuer the registry was imported with."""
        return self.programme.scope or area_of(self.registry.programme.issuer)

    @property
    def directory(self) -> UnitDirectory:
        """The units directory (source_data/units.xlsx), loaded on first use."""
        if self._directory is None:
            from ledger.registry.cache import load_directory

            self._directory = load_directory(self.ws)
        return self._directory

    @property
    def store(self) -> Store:
        """The history store, opened on first use and closed with the run."""
        if self._store is None:
            self._store = open_workspace_store(self.ws)
            self._owns_store = True
        return self._store

    @property
    def key(self) -> bytes:
        """The workspace's secret (:mod:`ledger.secret`), made on first use."""
        if self._key is None:
            self._key = workspace_key(self.ws.root)
        return self._key

    @property
    def has_history(self) -> bool:
        """Whether there is history to read (a store given or on disk, or archived originals whose
        store is missing: opening it then says so) without creating a store."""
        return (self._store is not None or self.ws.paths.store.is_file()
                or next(originals(archive_dir(self.ws)), None) is not None)

    def out_dir(self) -> Path:
        """``out/<programme>/<period>/``."""
        return self.ws.out_dir(self.programme.id, self.period.key)

    def sent_dir(self) -> Path:
        """``out/<programme>/<period>/outbox/sent/``: the mail that went out for the period."""
        return self.out_dir() / OUTBOX / SENT

    def for_period(self, period: Period) -> Run:
        """The same run for another period: registry and store shared, the store still owned here."""
        return dataclasses.replace(self, period=period, _registry=self.registry, _store=self.store,
                                   _directory=self._directory, _owns_store=False, _key=self._key)

    def close(self) -> None:
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None
            self._owns_store = False

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_workspace_store(ws: Workspace) -> Store:
    """The history store configured in ledger.toml, originals archived under out/archive."""
    return open_store(ws.paths.store, archive_dir=archive_dir(ws))


def archive_dir(ws: Workspace) -> Path:
    """Where the workspace's received originals are archived."""
    return ws.paths.out / "archive"
