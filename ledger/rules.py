"""Thresholds for lights and weights for monthly scores (ledger.toml [lights], [scoring]).

Every rule and its default is explained for the office in docs/rules.md; every value can be
changed in ledger.toml, and a wrong key or a value of the wrong type is reported by its
dotted name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ledger.errors import ConfigError

GRADES = ("优秀", "良好", "一般")  # best first
CRITICISM_LABELS = ("黑榜", "通报批评")


@dataclass(frozen=True)
class LightRules:
    """When a task is green, yellow or red (偏差 = reported % − 序时 %)."""

    green_min_deviation: int = -10  # 偏差 ≥ this → green
    yellow_min_deviation: int = -30  # this ≤ 偏差 < green_min → yellow; below → red
    warn_days: int = 7  # a milestone this close while 未启动/滞后 → yellow
    red_after_yellow_periods: int = 2  # yellow this many periods running → red
    # A task whose lead unit has no accepted report for the period is never green: yellow, and red
    # once this many periods run without one (1: red at once).
    unreported_red_after: int = 2
    never_reported_red: bool = True  # red at once when the unit never reported on the task
    self_reported_lagging: bool = True  # a task reported 滞后 (or 未启动 past its 序时) is at least yellow


@dataclass(frozen=True)
class ScoringRules:
    """Monthly score per lead unit: start, deductions, bonuses, grades, praise and criticism."""

    start: float = 100
    floor: float = 0
    late: float = 1  # per late period
    missing: float = 3  # per missing period
    rejected: float = 3  # per period whose only report was rejected (counts as missing)
    no_progress: float = 1  # 本期进展 empty or copied from last period, per task and period
    no_progress_cap: float = 5  # at most this much per month for no progress
    yellow: float = 1  # per yellow task-period
    red: float = 2  # per red task-period
    overdue: float = 3  # per overdue task (once a month)
    early_bonus: float = 1  # per milestone finished early
    bonus_cap: float = 5
    excellent: float = 90  # 优秀 at or above
    good: float = 80  # 良好 at or above; below is 一般
    missing_grade_cap: str = "良好"  # best grade of a unit with a missing or rejected-unfixed period
    no_report_grade: str = "一般"  # grade of a unit with no accepted report in the month
    praise_grade: str = "优秀"  # praised units have this grade (and every period on time, no red/overdue)
    honour_size: int = 3  # at most this many units praised (ties kept together)
    shame_size: int = 3  # the lowest scores criticised (besides every unit that missed a period or has red)
    criticism: str = "黑榜"  # 黑榜 or 通报批评: how the bulletin names the criticised units


_CHOICES = {"missing_grade_cap": GRADES, "no_report_grade": GRADES, "praise_grade": GRADES,
            "criticism": CRITICISM_LABELS}


def parse_rules(cls: type, body: Any, key: str) -> Any:
    """Build *cls* from a TOML table, checking names and types."""
    if body is None:
        return cls()
    if not isinstance(body, dict):
        raise ConfigError(f"ledger.toml：{key} 应为一个表（[{key}]）。")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name not in known:
            raise ConfigError(f"ledger.toml：未知的配置项 {key}.{name}。允许的配置项：{'、'.join(known)}。")
        values[name] = _value(known[name].type, value, f"{key}.{name}", _CHOICES.get(name))
    return cls(**values)


def _value(kind: Any, value: Any, key: str, choices: tuple[str, ...] | None) -> Any:
    if kind in ("bool", bool):
        if not isinstance(value, bool):
            raise ConfigError(f"ledger.toml：{key} 应为 true 或 false，实际为 {value!r}。")
        return value
    if kind in ("str", str):
        if not isinstance(value, str) or (choices and value not in choices):
            allowed = f"，可选：{'、'.join(choices)}" if choices else ""
            raise ConfigError(f"ledger.toml：{key} 应为文字{allowed}，实际为 {value!r}。")
        return value
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("int", int):
        ok = ok and float(value).is_integer()
        value = int(value) if ok else value
    if not ok:
        raise ConfigError(f"ledger.toml：{key} 应为数字，实际为 {value!r}。")
    return value
