"""Thresholds for lights and weights for monthly scores (ledger.toml [lights], [scoring]).

Defaults are FORMAT.md §5–6; every value can be changed in ledger.toml, and a wrong
key or a value of the wrong type is reported by its dotted name.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ledger.errors import ConfigError


@dataclass(frozen=True)
class LightRules:
    """When a task is green, yellow or red (偏差 = reported % − 序时 %)."""

    green_min_deviation: int = -10  # 偏差 ≥ this → green
    yellow_min_deviation: int = -30  # this ≤ 偏差 < green_min → yellow; below → red
    warn_days: int = 7  # a milestone this close while 未启动/滞后 → yellow
    red_after_yellow_periods: int = 2  # yellow this many periods running → red


@dataclass(frozen=True)
class ScoringRules:
    """Monthly score per lead unit: start, deductions, bonuses, grades, 红榜/黑榜 sizes."""

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
    honour_size: int = 3  # 红榜
    shame_size: int = 3  # 黑榜


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
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if known[name].type in ("int", int):
            ok = ok and float(value).is_integer()
            value = int(value) if ok else value
        if not ok:
            raise ConfigError(f"ledger.toml：{key}.{name} 应为数字，实际为 {value!r}。")
        values[name] = value
    return cls(**values)
