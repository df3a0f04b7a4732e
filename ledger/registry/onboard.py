"""From a new notice to a configured programme: ``ledger programme add`` and ``ledger units add``.

``add_programme`` reads the notice (:mod:`ledger.registry.notice_facts`), writes its table
into ledger.toml (:mod:`ledger.config_edit`), optionally adds its units, and imports its
registry. ``add_units`` adds the notice's units to the directory (:mod:`ledger.registry.units_add`)
and gives a registry imported before them the directory's names. Both can run again: a
programme with the notice's 文号 is not added twice, units already there are not added again.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger import config
from ledger.areas import area_of
from ledger.config_edit import Entry, add_table
from ledger.errors import ConfigError, InputError
from ledger.registry.importer import norm_doc
from ledger.registry.notice_facts import Fact, NoticeFacts, read_facts
from ledger.registry.raw import RawNotice
from ledger.registry.sources import read_notice
from ledger.registry.units import UnitDirectory
from ledger.registry.units_add import UnitsPlan, apply_plan, notice_names, plan_units, rename_in_registry

if TYPE_CHECKING:
    from ledger.registry.api import ImportOutcome


@dataclass
class UnitsOutcome:
    """What ``units add`` did: the plan carried out, and the registry names it made canonical."""

    plan: UnitsPlan
    units_path: Path
    programme_id: str
    renamed: int = 0  # registry names made the directory's
    settled: int = 0  # review flags dropped: names the directory now has
    registry_backup: Path | None = None


@dataclass
class ProgrammeOutcome:
    """What ``programme add`` did and found."""

    facts: NoticeFacts
    programme_id: str
    added: str = ""  # the table written into ledger.toml, "" when the programme was there already
    units: UnitsOutcome | None = None
    pending: UnitsPlan | None = None  # without --units: what units add would add
    imported: ImportOutcome | None = None  # None when not imported
    registry_kept: Path | None = None  # an existing registry left as it was
    created_units: Path | None = None  # an empty units directory made for the import
    notes: list[str] = field(default_factory=list)


def find_programme(ws: config.Workspace, doc_number: str, title: str = "", issued: object = None) -> config.Programme | None:
    """The configured programme whose 文号 is *doc_number* (brackets and spaces ignored); for a notice
    without one, the programme of the same title and issue date."""
    wanted = norm_doc(doc_number)
    if wanted:
        return next((p for p in ws.programmes.values() if norm_doc(p.doc_number) == wanted), None)
    return next((p for p in ws.programmes.values() if title and (p.title, p.issued) == (title, issued)), None)


def default_id(ws: config.Workspace, facts: NoticeFacts) -> str:
    """p2024-9 from 宜政办〔2024〕9号 (or from the issue date), unused in ledger.toml."""
    m = re.search(r"〔(\d{4})〕(\d+)号", str(facts.value("doc_number", "")))
    issued = facts.value("issued")
    if m:
        base = f"p{m.group(1)}-{int(m.group(2))}"
    elif isinstance(issued, date):
        base = f"p{issued:%Y%m%d}"
    else:
        raise InputError("通知中没有识别出文号和成文日期，无法自动给项目编号。请用 --id 指定项目编号（英文字母、数字、- 和 _），"
                         "如 --id yc2024。")
    candidate, n = base, 1
    while candidate in ws.programmes:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _note(fact: Fact) -> str:
    if fact.review:
        return fact.review
    if fact.source and fact.source != str(fact.value) and len(fact.source) <= 40:
        return f"通知原文：“{fact.source}”"
    return ""


def add_programme(ws: config.Workspace, notice: Path, programme_id: str | None = None, *, scope: str = "",
                  issued: date | None = None, with_units: bool = False) -> ProgrammeOutcome:
    """Add the notice's programme to ledger.toml (once), its units if asked, and import its registry."""
    from ledger.registry.api import import_registry

    notice = Path(notice)
    facts = read_facts(notice, scope=scope, issued=issued)
    existing = find_programme(ws, str(facts.value("doc_number", "")), str(facts.value("title", "")),
                              facts.value("issued"))
    if existing is not None:
        outcome = ProgrammeOutcome(facts, existing.id)
        if programme_id and programme_id != existing.id:
            outcome.notes.append(f"文号 {existing.doc_number} 的项目已经以编号 {existing.id} 添加过，未按 --id {programme_id} "
                                 "再添加一次。")
    else:
        pid = programme_id or default_id(ws, facts)
        config.check_programme_id(pid)
        if pid in ws.programmes:
            other = ws.programmes[pid]
            raise ConfigError(f"项目编号 {pid} 已被“{other.title}”（{other.doc_number or '无文号'}）使用，未做改动。"
                              "请用 --id 另定一个编号。")
        if facts.value("issued") is None:
            raise InputError(f"{notice.name} 中没有找到成文日期（如“2024年3月1日”），未做改动。请加 --issued 2024-03-01 指定。")
        heading = [f"{facts.value('doc_number', notice.name)}：由 ledger programme add 从通知读出，请对照通知核对"
                   "（docs/programme-add.md）"]
        entries = [Entry(f.key, f.value, _note(f)) for f in facts.facts]
        root = ws.root
        added = add_table(root / config.CONFIG_NAME, ("programmes", pid), entries, heading,
                          check=lambda doc: config.parse(doc, root))  # a table that would not load is not written
        outcome = ProgrammeOutcome(facts, pid, added=added)
        ws = config.load(ws.root)
    pid = outcome.programme_id
    if with_units and facts.notice.tasks:
        outcome.units = add_units(ws, notice, pid, facts.notice)
    elif facts.notice.tasks:
        directory = UnitDirectory.load(ws.paths.units) if ws.paths.units.is_file() else UnitDirectory([])
        outcome.pending = plan_units(directory, notice_names(facts.notice), ws.programme(pid).scope, "")
    if not facts.notice.tasks:
        outcome.notes.append(f"{notice.name} 中没有逐项标注单位的任务，未导入任务清单。请整理成任务分解表（Excel）后运行 "
                             f"ledger registry import 任务分解表.xlsx -p {pid}。")
        return outcome
    registry = ws.registry_path(pid)
    if registry.exists():
        outcome.registry_kept = registry
        return outcome
    if not ws.paths.units.is_file():
        UnitDirectory([]).save(ws.paths.units)
        outcome.created_units = ws.paths.units
    outcome.imported = import_registry(ws, [notice], pid)
    return outcome


def add_units(ws: config.Workspace, notice: Path, programme_id: str | None = None,
              raw: RawNotice | None = None) -> UnitsOutcome:
    """Add the units *notice* names to the directory, in its programme's scope; a registry imported
    before them gets the directory's names (the workbook is backed up first)."""
    from ledger.registry.workbook import read_registry_file, write_registry

    raw = raw or read_notice(Path(notice))
    prog = ws.programme(programme_id) if programme_id else find_programme(ws, raw.doc_number)
    if prog is None:
        found = f"文号“{raw.doc_number}”" if raw.doc_number else "没有识别出文号"
        raise InputError(f"{Path(notice).name}：{found}，ledger.toml 中没有对应的项目。请先运行 ledger programme add "
                         f"{notice} 添加项目，或用 -p 指定项目。")
    scope = prog.scope or area_of(raw.issuer)
    if not scope:
        raise InputError(f"项目 {prog.id} 没有层级范围（scope），无法确定通知中的单位属于哪一级。请在 ledger.toml 的 "
                         f"[programmes.{prog.id}] 中填写 scope（如 scope = \"宜川县\"）后再运行。")
    path = ws.paths.units
    directory = UnitDirectory.load(path) if path.is_file() else UnitDirectory([])
    plan = plan_units(directory, notice_names(raw), scope, raw.doc_number or Path(notice).name)
    if plan.changes or not path.is_file():
        apply_plan(path, directory, plan)
    outcome = UnitsOutcome(plan, path, prog.id)
    registry_path = ws.registry_path(prog.id)
    if registry_path.is_file():
        registry, _ = read_registry_file(registry_path, prog.id)
        outcome.renamed, outcome.settled = rename_in_registry(registry.tasks, UnitDirectory.load(path), scope)
        if outcome.renamed or outcome.settled:
            backup = registry_path.with_name(
                f"{registry_path.stem}.{datetime.now():%Y%m%d-%H%M%S}.bak{registry_path.suffix}")
            shutil.copy2(registry_path, backup)
            write_registry(registry, registry_path)
            outcome.registry_backup = backup
    return outcome
