"""Plain-Python API of the registry stage, called by the CLI and later stages."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.areas import area_of
from ledger.config import Workspace
from ledger.errors import InputError, LedgerError
from ledger.problems import Problem
from ledger.registry.check import check_registry, check_units
from ledger.registry.importer import ImportResult, import_notices
from ledger.registry.reporting_rule import Proposal, proposals_for
from ledger.registry.units import UnitDirectory
from ledger.registry.workbook import load_registry as load  # noqa: F401 - the stage's entry point
from ledger.registry.workbook import read_registry, read_registry_file, write_registry


class RegistryExists(LedgerError):
    """Import would overwrite a reviewed registry."""


@dataclass
class ImportOutcome:
    result: ImportResult
    path: Path
    backup: Path | None
    #: the reporting rules the notices state (docs/due-rules.md), for the office to compare
    proposals: list[Proposal] = field(default_factory=list)


def load_directory(ws: Workspace) -> UnitDirectory:
    from ledger.registry.cache import load_directory

    return load_directory(ws)


def import_registry(
    ws: Workspace,
    files: Sequence[Path],
    programme_id: str | None = None,
    output: Path | None = None,
    force: bool = False,
) -> ImportOutcome:
    """Import notices and write the registry workbook; an existing one needs *force*.

    With *force* the existing workbook is kept as a dated backup and the ids a reviewer
    gave to tasks are carried over to the re-imported tasks with the same text.
    """
    directory = load_directory(ws)
    missing = [str(f) for f in files if not Path(f).is_file()]
    if missing:
        raise InputError(f"找不到文件：{'、'.join(missing)}。")
    result = import_notices(ws, files, directory, programme_id)
    prog_id = result.registry.programme.id
    target = ws.inside(output) if output else ws.registry_path(prog_id)
    backup = None
    if target.exists():
        if not force:
            raise RegistryExists(
                f"任务清单 {target} 已存在（可能已人工审核）。如确需重新导入，请加 --force（原文件会备份），"
                "或用 -o 写到其他位置。"
            )
        previous, _ = read_registry_file(target, prog_id)
        result = import_notices(ws, files, directory, programme_id, previous=previous)
        backup = target.with_name(f"{target.stem}.{datetime.now():%Y%m%d-%H%M%S}.bak{target.suffix}")
        shutil.copy2(target, backup)
    write_registry(result.registry, target, paper=ws.printing.registry)
    return ImportOutcome(result=result, path=target, backup=backup, proposals=proposals_for(files))


def list_programmes(ws: Workspace) -> list[dict]:
    """Configured programmes with their task counts (None when no registry yet)."""
    rows = []
    for prog in ws.programmes.values():
        path = ws.registry_path(prog.id)
        count = None
        if path.is_file():
            registry, _ = read_registry_file(path, prog.id)
            count = len(registry.tasks)
        rows.append(
            {"id": prog.id, "title": prog.title, "doc_number": prog.doc_number, "tasks": count,
             "registry": str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)}
        )
    return rows


def check(ws: Workspace, programme_ids: Sequence[str] | None = None) -> dict[str, list[Problem]]:
    """Structural and semantic problems per programme (all configured ones by default)."""
    directory = load_directory(ws)
    ids = list(programme_ids) if programme_ids else [
        p for p in ws.programmes if ws.registry_path(p).is_file()
    ]
    out: dict[str, list[Problem]] = {}
    for pid in ids:
        registry, problems = read_registry(ws, pid)
        path = ws.registry_path(pid)
        scope = ws.programme(pid).scope or area_of(registry.programme.issuer)
        problems += check_registry(registry, directory, scope, file=path.name)
        problems += check_units(registry, directory, scope, ws.shown(ws.paths.units))
        out[pid] = problems
    return out
