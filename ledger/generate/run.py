"""``generate`` for a whole programme period: choose units, write files, optionally in parallel."""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from ledger import layout
from ledger.config import Programme
from ledger.errors import WorkspaceError
from ledger.fsutil import AtomicBatch, stage
from ledger.generate.content import RegistryIndex, index_registry
from ledger.generate.xlsx import build_with_digests, unknown_unit
from ledger.layout import PreviousReport
from ledger.periods import CHINA, Period
from ledger.processes import shared_heap, worker_context
from ledger.progress import QUIET, Progress
from ledger.registry.model import Registry
from ledger.run import Run
from ledger.secret import key_id
from ledger.store import Manifest

TEMPLATES_DIR = "templates"


class AlreadySent(WorkspaceError):
    """Generating would replace workbooks that were mailed to their units already."""


@dataclass(frozen=True)
class SentWorkbook:
    """A workbook that went out as an attachment: to whom, when, its bytes' hash."""

    name: str
    to: str
    sent: datetime | None
    sha256: str


def sent_workbooks(run: Run) -> dict[str, SentWorkbook]:
    """The workbooks mailed for the run's period (attachments in ``outbox/sent/``), by file name;
    the latest sending of a name wins."""
    found: dict[str, SentWorkbook] = {}
    folder = run.sent_dir()
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        try:
            msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            to = "、".join(a.display_name or a.addr_spec for a in msg["To"].addresses) if msg["To"] else ""
            when = msg["Date"].datetime if msg["Date"] else None
        except (OSError, ValueError, TypeError, AttributeError, IndexError):
            continue
        for part in msg.iter_attachments():
            name = part.get_filename() or ""
            if name.endswith(".xlsx"):
                data = part.get_payload(decode=True) or b""
                found[name] = SentWorkbook(name, to, when, hashlib.sha256(data).hexdigest())
    return found


@dataclass(frozen=True)
class GeneratedWorkbook:
    """One written workbook, and the (task id, row digest) of its task rows."""

    unit: str
    path: Path
    tasks: int
    sha256: str
    digests: tuple[tuple[str, str], ...] = ()


AUTO_PARALLEL_UNITS = 100


def generated_workbooks(run: Run) -> dict[str, Path]:
    """The period's workbooks that are in ``out/<programme>/<period>/templates/``, by lead unit,
    in registry order: what mail drafts attach and the web page offers for download."""
    folder = run.out_dir() / TEMPLATES_DIR
    paths = ((u, folder / layout.workbook_name(run.period.key, u)) for u in run.registry.lead_units())
    return {u: p for u, p in paths if p.is_file()}


def generate(
    run: Run,
    *,
    units: Sequence[str] | None = None,
    out_dir: Path | None = None,
    previous_for: Callable[[str], Mapping[str, PreviousReport]] | None = None,
    jobs: int = 1,
    force: bool = False,
    progress: Progress = QUIET,
) -> list[GeneratedWorkbook]:
    """Write the workbooks of *units* (default: every lead unit) for the run's period.

    A unit may be named by its alias or short name in the units directory (see :func:`lead_unit`).

    Files go to ``out/<programme>/<period>/templates/`` unless *out_dir* (inside the
    workspace) is given; results come back in unit order. *previous_for* gives a unit's
    last accepted report (see :func:`ledger.generate.prefill.previous_from_store`).
    ``jobs > 1`` spreads the units over that many processes (``0``: every core once there
    are 100 units or more); the files are the same either way. The files of a run replace
    those of an earlier one together, flushed to disk at once (none is replaced when the run
    fails on the way). *progress* is told of every workbook made.

    A workbook that was mailed already (``outbox/sent/``) is not replaced by a different one
    without *force*: :class:`AlreadySent` names the units and what they received, and nothing
    is written.

    What each unit was sent (its tasks and their digests: a :class:`~ledger.store.Manifest`) is
    recorded in the store, replacing the record of an earlier generate for the same period:
    collect checks a returned workbook against it.
    """
    ws, programme, period, registry = run.ws, run.programme, run.period, run.registry
    index = index_registry(registry)
    chosen = list(dict.fromkeys(lead_unit(run, u, index) for u in units)) if units else list(index.tasks_by_unit)
    _refuse_name_clashes(chosen, period)
    target = ws.inside(out_dir) if out_dir else run.out_dir() / TEMPLATES_DIR
    work = [(u, previous_for(u) if previous_for else None) for u in chosen]
    job = _Job(registry, programme, period, index, target, run.key, ws.printing.ledger)
    if not force:
        _refuse_to_replace_sent(run, job, work)
    if jobs <= 0:  # auto: a process per core once there are enough units to pay for it
        jobs = (os.cpu_count() or 1) if len(work) >= AUTO_PARALLEL_UNITS else 1
    workers = min(jobs, len(work), os.cpu_count() or 1)
    # Every workbook is staged next to its file and they replace the files together, with one
    # flush to disk: a run that fails or is stopped on the way replaces none of them.
    made: list[GeneratedWorkbook] = []
    progress.start(len(work), "台账")
    with AtomicBatch() as batch:
        if workers <= 1:
            with shared_heap():  # the registry stays out of the collector's passes meanwhile
                for unit, previous in work:
                    one, tmp = job.stage(unit, previous)
                    batch.add(tmp, one.path)  # in the batch at once: removed if a later one fails
                    made.append(one)
                    progress.advance(unit)
        else:
            made = _stage_in_pool(job, work, workers, batch, progress)
    run.store.record_manifests([manifest(run, g) for g in made])
    return made


def _stage_in_pool(job: _Job, work: Sequence[tuple[str, Mapping[str, PreviousReport] | None]], workers: int,
                   batch: AtomicBatch, progress: Progress) -> list[GeneratedWorkbook]:
    """The workbooks of *work* staged by *workers* processes into *batch*, in unit order; when one
    fails, every chunk is waited for so that what the others staged is removed with the batch."""
    size = max(1, len(work) // (workers * 4))
    with shared_heap(), ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                                            initializer=_init_worker, initargs=(job,)) as pool:
        chunks = [pool.submit(_stage_in_worker, work[i:i + size]) for i in range(0, len(work), size)]
        units = {chunk: work[i * size:(i + 1) * size] for i, chunk in enumerate(chunks)}
        for done in as_completed(chunks):
            progress.advance(units[done][-1][0], len(units[done]))
    made: list[GeneratedWorkbook] = []
    for chunk in chunks:
        for one, tmp in ([] if chunk.exception() is not None else chunk.result()):
            batch.add(tmp, one.path)
            made.append(one)
    failed = next((f.exception() for f in chunks if f.exception() is not None), None)
    if failed is not None:
        raise failed
    return made


def manifest(run: Run, made: GeneratedWorkbook) -> Manifest:
    """The record of what *made* sent its unit."""
    return Manifest(run.programme.id, run.period.key, made.unit, layout.LAYOUT_VERSION, key_id(run.key),
                    made.digests, made.sha256, run.now)


def lead_unit(run: Run, name: str, index: RegistryIndex) -> str:
    """The registry's name of the lead unit *name* stands for: itself, or an alias or short
    name of the units directory in the programme's scope (县城管局 → 县城市管理局)."""
    if name in index.tasks_by_unit:
        return name
    unit = run.directory.get(name, run.scope)
    if unit is not None and unit.name in index.tasks_by_unit:
        return unit.name
    raise unknown_unit(name, list(index.tasks_by_unit))


def _refuse_name_clashes(units: Sequence[str], period: Period) -> None:
    """Two units whose file names differ only by replaced characters or case would overwrite."""
    seen: dict[str, str] = {}
    for unit in units:
        name = layout.workbook_name(period.key, unit).casefold()
        if name in seen:
            raise WorkspaceError(
                f"单位“{seen[name]}”和“{unit}”的台账文件名相同，会互相覆盖。请在任务清单中区分这两个单位的名称。"
            )
        seen[name] = unit


def _refuse_to_replace_sent(run: Run, job: _Job, work: Sequence[tuple[str, Mapping[str, PreviousReport] | None]]) -> None:
    """Raise :class:`AlreadySent` when a unit's new workbook differs from the one mailed to it."""
    sent = sent_workbooks(run)
    if not sent:
        return
    changed = []
    for unit, previous in work:
        mailed = sent.get(layout.workbook_name(job.period.key, unit))
        if mailed is None:
            continue
        data, _ = job.build(unit, previous)
        if hashlib.sha256(data).hexdigest() != mailed.sha256:
            when = f"{mailed.sent.astimezone(CHINA):%Y-%m-%d %H:%M} 发出" if mailed.sent else "已发出"
            changed.append(f"   {unit}：{mailed.name}（{when}，收件人 {mailed.to}）")
    if changed:
        raise AlreadySent(
            f"本期（{job.period.label()}）已有 {len(changed)} 个单位收到工作台账，重新生成的内容与已发出的不同，"
            "未生成任何文件：\n" + "\n".join(changed)
            + "\n如确需重新生成（之后须重新发送并告知这些单位以新表为准），请加 --force。"
        )


@dataclass(frozen=True)
class _Job:
    """What every unit's workbook of one run needs (sent once to each worker process)."""

    registry: Registry
    programme: Programme
    period: Period
    index: RegistryIndex
    target: Path
    key: bytes = field(repr=False)
    paper: str = "A4"

    def build(self, unit: str, previous: Mapping[str, PreviousReport] | None) -> tuple[bytes, list[tuple[str, str]]]:
        return build_with_digests(self.registry, self.programme, self.period, unit, previous, key=self.key,
                                  index=self.index, paper=self.paper)

    def stage(self, unit: str, previous: Mapping[str, PreviousReport] | None) -> tuple[GeneratedWorkbook, Path]:
        """The workbook of *unit*, staged next to its file (:func:`ledger.fsutil.stage`)."""
        data, digests = self.build(unit, previous)
        path = self.target / layout.workbook_name(self.period.key, unit)
        made = GeneratedWorkbook(unit, path, len(self.index.tasks_by_unit[unit]), hashlib.sha256(data).hexdigest(),
                                 tuple(digests))
        return made, stage(path, data)


_WORKER: dict[str, Any] = {}


def _init_worker(job: _Job) -> None:
    gc.freeze()  # what the worker inherited stays shared (ledger.processes.shared_heap)
    _WORKER["job"] = job


def _stage_in_worker(work: Sequence[tuple[str, Mapping[str, PreviousReport] | None]]) -> list[tuple[GeneratedWorkbook, Path]]:
    """The workbooks of *work*, staged; on a failure what was staged of them is removed first."""
    staged: list[tuple[GeneratedWorkbook, Path]] = []
    try:
        for unit, previous in work:
            staged.append(_WORKER["job"].stage(unit, previous))
    except BaseException:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    return staged
