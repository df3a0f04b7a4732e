"""``ledger collect``: gather → pre-check → read → check → store → receipt.

Each file is judged on its own; one broken file never stops the others, and nothing
is stored for a file until it has been read and checked completely.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.checks import Checked, RegistryLookup, check_workbook, registry_lookup
from ledger.collect.intake import CHINA, Incoming, gather, to_china_time
from ledger.collect.reader import read_returned
from ledger.collect.sniff import sniff
from ledger.config import Programme, Workspace
from ledger.periods import Period, parse_period
from ledger.problems import Problem, ProblemType
from ledger.registry.model import Registry
from ledger.stage import load_registry, open_workspace_store, unit_reporting
from ledger.store import Received, Store, Submission

FILE_UNREADABLE = ProblemType(
    "file-unreadable", "error", "文件无法读取（{value}）。请用 Excel 或 WPS 打开后另存为 .xlsx，再重新报送"
)

OUTCOME_NAMES = {"accepted": "通过", "rejected": "退回", "duplicate": "重复", "superseded": "已被替代"}
NOT_THIS_PERIOD = {"wrong-period", "wrong-programme"}
_NAME_UNIT = re.compile(r"^[^_]+_(.+?)_工作台账")


@dataclass
class CollectedFile:
    """One incoming file and what became of it."""

    file: str
    unit: str | None
    period: str
    outcome: str  # accepted | rejected | duplicate | superseded
    problems: list[Problem]
    received_at: datetime
    received_source: str
    sha256: str
    submission_id: int | None = None
    identified_by: str = "none"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "unit": self.unit,
            "period": self.period,
            "outcome": self.outcome,
            "received_at": self.received_at.isoformat(),
            "received_source": self.received_source,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class CollectResult:
    programme: Programme
    period: Period
    files: list[CollectedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # about containers, not submissions


def collect(
    ws: Workspace,
    paths: Sequence[Path],
    programme_id: str,
    period_text: str,
    *,
    now: datetime | None = None,
    store: Store | None = None,
    registry: Registry | None = None,
) -> CollectResult:
    """Collect every workbook under *paths* for one programme and period into the store."""
    programme = ws.programme(programme_id)
    period = parse_period(period_text, programme.reporting.cycle)
    registry = registry or load_registry(ws, programme_id)
    moment = to_china_time(now or datetime.now(CHINA))
    result = CollectResult(programme, period)
    own_store = store is None
    store = store or open_workspace_store(ws)
    try:
        with tempfile.TemporaryDirectory(prefix="ledger-collect-") as tmp:
            intake = gather(paths, Path(tmp), now=moment)
            result.problems.extend(intake.problems)
            lookup = registry_lookup(registry)
            judge = functools.partial(_judge, registry=registry, lookup=lookup, programme=programme, period=period)
            # Read and check the next file while this one is stored: storing waits on fsync
            # (with the GIL released), reading and checking need the CPU. One file ahead at
            # most, so memory does not grow with the number of files.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-collect") as pool:
                pending: Future[_Judged] | None = None
                for item in intake.items:
                    ahead = pool.submit(judge, item)
                    if pending is not None:
                        result.files.append(_record(pending.result(), period, store))
                    pending = ahead
                if pending is not None:
                    result.files.append(_record(pending.result(), period, store))
    finally:
        if own_store:
            store.close()
    return result


@dataclass
class _Judged:
    """One file read and checked, ready to be stored."""

    item: Incoming
    checked: Checked | None
    problems: list[Problem]
    received: Received


def _judge(item: Incoming, *, registry: Registry, lookup: RegistryLookup, programme: Programme,
           period: Period) -> _Judged:
    """Pre-check, read and check one file; touches neither the store nor anything shared."""
    checked: Checked | None = None
    try:
        read, problems = read_returned(item.path, display_name=item.name)
    except Exception as exc:  # noqa: BLE001 - an unforeseen reader failure is this file's problem
        read, problems = None, [FILE_UNREADABLE(file=item.name, value=f"{type(exc).__name__}: {exc}"[:300])]
    if read is not None:
        checked = check_workbook(read, file=item.name, registry=registry, programme=programme, period=period,
                                 lookup=lookup)
        problems.extend(checked.problems)
    detected = read.format if read is not None else sniff(item.path).kind
    unit = checked.unit if checked and checked.unit else _unit_from_name(item.name, lookup)
    verdict = "accepted" if checked is not None and not any(p.is_error for p in problems) else "rejected"
    received = Received(
        sha256=item.data_sha256,
        source_name=item.name,
        data=item.path.read_bytes(),
        detected_type=detected,
        received_at=item.received_at,
        received_source=item.received_source,  # type: ignore[arg-type]
        sender=item.sender,
        programme=programme.id,
        period=period.key,
        unit=unit,
        outcome=verdict,
        problems=tuple(problems),
        entries=tuple(checked.entries) if checked and verdict == "accepted" else (),
    )
    return _Judged(item, checked, problems, received)


def _record(judged: _Judged, period: Period, store: Store) -> CollectedFile:
    """Store one judged file (unless it belongs to another period) and say what became of it."""
    item, checked, problems, unit = judged.item, judged.checked, judged.problems, judged.received.unit
    if checked is not None and {p.code for p in checked.problems} & NOT_THIS_PERIOD:
        # Another period's or programme's file: refused here but not stored, so that
        # collecting its own period later still accepts it.
        return CollectedFile(item.name, unit, period.key, "rejected", problems, item.received_at,
                             item.received_source, item.data_sha256, None, checked.identified_by)
    stored: Submission = store.ingest(judged.received)
    return CollectedFile(
        file=item.name,
        unit=unit,
        period=period.key,
        outcome=stored.outcome,
        problems=problems,
        received_at=item.received_at,
        received_source=item.received_source,
        sha256=item.data_sha256,
        submission_id=stored.id,
        identified_by=checked.identified_by if checked else "none",
    )


def _unit_from_name(name: str, lookup: RegistryLookup) -> str | None:
    """A rejected file is still attributed when its name is the one generate gave it."""
    m = _NAME_UNIT.match(Path(name.split(" / ")[-1]).name)
    if m and m.group(1) in lookup.by_unit:
        return m.group(1)
    return None


def due_for(programme: Programme, registry: Registry, unit: str, period: Period) -> datetime:
    """The unit's due time for *period*, aware in Beijing time."""
    return period.due(unit_reporting(programme, registry, unit)).replace(tzinfo=CHINA)
