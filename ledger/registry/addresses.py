"""Whether a lead unit can be mailed: an address written, written like one, not a placeholder,
and not the address of another scope's unit.

``registry check`` reports these before anything is drafted; ``mail drafts`` reports them
again for each draft and refuses the address of a unit outside the programme's scope.
"""

from __future__ import annotations

from ledger.problems import Problem, ProblemType
from ledger.registry.units import SHEET, Unit, UnitDirectory, is_address, is_placeholder

UNIT_NO_EMAIL = ProblemType(
    "unit-no-email", "warning",
    "牵头单位“{value}”没有填写电子邮箱，ledger mail drafts 不会给它写报送通知邮件。请在 {units_file} 中填写。",
)
UNIT_BAD_EMAIL = ProblemType(
    "unit-bad-email", "warning",
    "牵头单位“{unit}”的电子邮箱“{value}”格式不对（应如 dcs@yichuan.gov.cn，多个用“；”分隔）。请在 {units_file} 中改正。",
)
PLACEHOLDER_EMAIL = ProblemType(
    "placeholder-email", "warning",
    "单位“{unit}”的电子邮箱“{value}”是示例（占位）地址，发到这里的邮件不会送达。请在 {units_file} 中改为该单位的真实邮箱。",
)
ADDRESS_OTHER_SCOPE = ProblemType(
    "address-other-scope", "error",
    "单位“{unit}”的电子邮箱“{value}”在单位名录中也是{owners}的邮箱；本项目只向层级范围“{scope}”的单位发送，"
    "这个地址不用于本项目。请在 {units_file} 中把“{unit}”的邮箱改为它自己的。",
)


def borrowed(directory: UnitDirectory, unit: Unit, address: str, scope: str) -> list[Unit]:
    """Units outside *scope* (and the common set) whose address *address* also is."""
    if not scope:
        return []
    return [u for u in directory.address_owners(address) if u is not unit and u.scope not in ("", scope)]


def address_problems(directory: UnitDirectory, unit: Unit, scope: str, units_file: str,
                     **where: object) -> tuple[list[str], list[Problem]]:
    """The addresses mail to *unit* may go to, and what is wrong with the others: a placeholder
    (example.org) is kept but reported, another scope's unit's address is refused."""
    usable: list[str] = []
    problems: list[Problem] = []
    for address in unit.addresses:
        others = borrowed(directory, unit, address, scope)
        if others:
            owners = "、".join(f"层级范围“{u.scope}”的“{u.name}”" for u in others)
            problems.append(ADDRESS_OTHER_SCOPE(value=address, unit=unit.name, owners=owners, scope=scope,
                                                units_file=units_file, **where))
            continue
        if is_placeholder(address):
            problems.append(PLACEHOLDER_EMAIL(value=address, unit=unit.name, units_file=units_file, **where))
        usable.append(address)
    return usable, problems


def lead_unit_problems(directory: UnitDirectory, unit: Unit, scope: str, units_file: str) -> list[Problem]:
    """What `registry check` says of one lead unit's 电子邮箱, at its row of the units directory."""
    where = {"file": units_file, "sheet": SHEET, "row": directory.row_of(unit)}
    if not unit.addresses:
        return [UNIT_NO_EMAIL(value=unit.name, units_file=units_file, **where)]
    bad = [a for a in unit.addresses if not is_address(a)]
    if bad:
        return [UNIT_BAD_EMAIL(value=unit.email.strip(), unit=unit.name, units_file=units_file, **where)]
    return address_problems(directory, unit, scope, units_file, **where)[1]
