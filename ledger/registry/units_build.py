"""Build source_data/units.xlsx from the plain seed list source_data/units_seed.toml.

The seed is easy to review in a diff; the workbook is what the office edits. Rebuilding
keeps the contacts, e-mails and phones the office has already filled in.

    python -m ledger.registry.units_build [--seed PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from ledger.errors import InputError, LedgerError
from ledger.registry.units import (
    GROUP_KIND,
    HELP_TEXT,
    SEED_NOTE,
    Unit,
    UnitDirectory,
    normalize_name,
    split_list,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SEED = REPO / "source_data" / "units_seed.toml"
DEFAULT_OUT = REPO / "source_data" / "units.xlsx"
#: The seed's table name for units without a scope (visible from every scope).
COMMON = "通用"
PLACEHOLDER_CONTACT = "（待补充）"
_PLACEHOLDER_EMAIL = re.compile(r"^u\d{4}@example\.org$")


def parse_seed(path: Path) -> list[Unit]:
    """Seed → units. Tables are scopes, keys are kinds, each entry "名称 | 别名、… | 成员、…"."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取单位名录种子文件 {path}：{exc}") from exc
    units: list[Unit] = []
    number = 0
    for scope, kinds in data.items():
        for kind, entries in kinds.items():
            for entry in entries:
                name, aliases, members = ([*entry.split("|"), "", ""])[:3]
                is_group = kind == GROUP_KIND
                if not is_group:
                    number += 1
                units.append(Unit(
                    name=normalize_name(name),
                    scope="" if scope == COMMON else scope,
                    aliases=split_list(aliases),
                    kind=kind,
                    members=split_list(members),
                    contact="" if is_group else PLACEHOLDER_CONTACT,
                    email="" if is_group else f"u{number:04d}@example.org",
                ))
    return units


def keep_filled(units: Sequence[Unit], old: UnitDirectory) -> list[Unit]:
    """Carry over real contact data from the workbook being replaced."""
    previous = {(u.scope, u.name): u for u in old.units()}
    out = []
    for unit in units:
        before = previous.get((unit.scope, unit.name))
        if before is not None:
            unit = Unit(
                unit.name, unit.scope, unit.aliases, unit.kind, unit.members,
                contact=before.contact if before.contact not in ("", PLACEHOLDER_CONTACT) else unit.contact,
                email=before.email if before.email and not _PLACEHOLDER_EMAIL.match(before.email) else unit.email,
                phone=before.phone or unit.phone,
                note=before.note,
            )
        out.append(unit)
    return out


def build(seed: Path = DEFAULT_SEED, target: Path = DEFAULT_OUT) -> UnitDirectory:
    """Write *target* from *seed*; a seed that gives an ambiguous directory writes nothing."""
    units = parse_seed(seed)
    if Path(target).exists():
        units = keep_filled(units, UnitDirectory.load(target))
    directory = UnitDirectory(units)
    if directory.problems:
        lines = "\n".join(p.message for p in directory.problems[:20])
        raise InputError(f"单位名录种子文件 {seed} 有 {len(directory.problems)} 处错误，未生成名录：\n{lines}")
    directory.save(target, (*HELP_TEXT, SEED_NOTE))
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="从种子文件生成单位名录 units.xlsx")
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="种子文件（TOML）")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="输出的单位名录（.xlsx）")
    args = parser.parse_args(argv)
    try:
        directory = build(args.seed, args.out)
    except LedgerError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已生成 {args.out}：{len(directory)} 个单位（含群组）。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
