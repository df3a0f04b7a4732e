"""``ledger store rebuild``: a new history database from the archive, every original judged again.

The archive's journal (:mod:`ledger.store.journal`) says, for each original, for which
programme and period it came, when, from whom and through which unit's link. Each original
is judged again as collect judges it (pre-check, read, check against the registry) in the
order it was first recorded, and stored into a new database next to the old one; the
bulletin numbers are restored. Then the old database (damaged, empty or sound) is put aside
under a dated name and the new one takes its place: nothing is deleted.

The verdicts are those of the registry as it is now; a file whose outcome differs from the
one the journal recorded is listed. Lights and scores are not in the journal: consolidate and
assess work them out again.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from ledger.collect.intake import Incoming, Refusal
from ledger.collect.pool import Judging
from ledger.collect.verdict import judge_context
from ledger.config import Workspace
from ledger.errors import LedgerError
from ledger.periods import CHINA, to_china_time
from ledger.problems import Problem
from ledger.registry.model import Registry
from ledger.run import Run, archive_dir
from ledger.store import Store, StoreError, open_store
from ledger.store import journal as journaling
from ledger.store.archive import originals


@dataclass
class Rebuilt:
    """What a rebuild did: the new database, where the old one went, what became of each file."""

    store: Path
    moved: Path | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    #: (file, outcome recorded in the journal, outcome now) where the verdicts differ
    changed: list[tuple[str, str, str]] = field(default_factory=list)
    #: (file, why) for journal lines whose original could not be judged or stored again
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: archived originals the journal does not name (received before there was a journal)
    unknown: list[Path] = field(default_factory=list)
    unreadable_lines: list[int] = field(default_factory=list)
    bulletins: int = 0

    @property
    def complete(self) -> bool:
        return not (self.changed or self.skipped or self.unknown or self.unreadable_lines)

    def to_json(self) -> dict[str, Any]:
        return {"store": str(self.store), "moved": str(self.moved) if self.moved else None,
                "outcomes": dict(self.outcomes), "changed": self.changed, "skipped": self.skipped,
                "unknown": [str(p) for p in self.unknown], "unreadable_lines": self.unreadable_lines,
                "bulletins": self.bulletins, "complete": self.complete}


def rebuild(ws: Workspace, *, jobs: int = 0) -> Rebuilt:
    """Rebuild the workspace's history database from its archive (see the module docstring)."""
    archive = archive_dir(ws)
    records = journaling.read(archive)
    named = {r["sha256"] for r in records.files}
    unknown = [p for p in originals(archive) if p.name.split(".")[0] not in named]
    if not records.files and not records.bulletins and not records.manifests:
        raise StoreError(
            f"存档 {archive} 中没有存档记录（{journaling.JOURNAL_NAME}）"
            + (f"，其中的 {len(unknown)} 个文件不知是为哪个项目、哪一期收到的" if unknown else "")
            + "，无法重建历史库。如有历史库的备份，请把备份复制回原处。")
    target = ws.paths.store
    fresh = target.with_name(f"{target.name}.rebuilding")
    _remove_database(fresh)  # a rebuild that was stopped
    result = Rebuilt(target, unknown=unknown, unreadable_lines=records.unreadable)
    with open_store(fresh, archive_dir=archive, rebuilding=True) as store:
        # what each unit was sent, as last recorded, before any file is judged against it
        store.record_manifests([journaling.manifest_of(line) for line in records.manifests])
        _replay(ws, store, records.files, result, jobs)
        for line in records.bulletins:
            store.restore_bulletin_number(line["programme"], line["month"], int(line["number"]))
            result.bulletins += 1
    result.moved = _put_aside(target)
    os.replace(fresh, target)
    return result


def _replay(ws: Workspace, store: Store, lines: list[dict[str, Any]], result: Rebuilt, jobs: int) -> None:
    """Judge and store the journal's files in order, one run per stretch of the same context."""
    registries: dict[str, Registry] = {}
    by_context = groupby(lines, key=lambda r: (r["programme"], r["period"], r.get("expected_unit")))
    with tempfile.TemporaryDirectory(prefix=f"ledger-collect-{os.getpid()}-") as tmp:
        for index, ((programme, period, expected_unit), group) in enumerate(by_context):
            group = list(group)
            try:
                run = Run.open(ws, programme, period, store=store, registry=registries.get(programme))
                registries[programme] = run.registry
            except LedgerError as exc:
                result.skipped += [(r["source_name"], str(exc)) for r in group]
                continue
            context = judge_context(run, store, expected_unit)
            recorded = {r["sha256"]: r["outcome"] for r in group}
            items = list(_items(group, store.archive_dir, result))
            folder = Path(tmp) / str(index)  # a context of its own for workers started fresh
            folder.mkdir()
            for batch in Judging(context, folder, jobs).judge(items, expected=len(items)):
                kept = [j for j in batch if not j.not_stored]
                result.skipped += [(j.item.name, "；".join(p.message for p in j.problems)) for j in batch if j.not_stored]
                for judged, stored in zip(kept, store.ingest_many([j.received for j in kept]), strict=True):
                    result.outcomes[_verdict(stored.outcome)] += 1
                    if _verdict(stored.outcome) != _verdict(recorded[stored.sha256]):
                        result.changed.append((judged.item.name, recorded[stored.sha256], stored.outcome))


def _verdict(outcome: str) -> str:
    """accepted or rejected: a file accepted then replaced by a later one was accepted."""
    return "rejected" if outcome == "rejected" else "accepted"


def _items(lines: list[dict[str, Any]], archive: Path, result: Rebuilt) -> Iterator[Incoming]:
    for line in lines:
        path = archive / line["archived"]
        if not path.is_file():
            result.skipped.append((line["source_name"], f"存档原件 {path} 缺失"))
            continue
        when = to_china_time(datetime.fromisoformat(line["received_at"]))
        # a mail or zip archive refused whole: its verdict is the container's, kept in its line
        refusal = Refusal(tuple(Problem(**p) for p in line["refusal"]), line["detected_type"]) \
            if "refusal" in line else None
        yield Incoming(line["source_name"], path, when, line["received_source"], line.get("sender", ""),
                       refusal=refusal)


def _put_aside(target: Path) -> Path | None:
    """Move the old database (with its write-ahead log) out of the way under a dated name."""
    if not target.exists():
        return None
    stamp = datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
    aside = target.with_name(f"{target.name}.before-rebuild-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = target.with_name(target.name + suffix)
        if source.exists():
            os.replace(source, aside.with_name(aside.name + suffix))
    return aside


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
