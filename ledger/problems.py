"""Problems are data: every issue found in an input is a :class:`Problem` record.

Each kind of problem is a :class:`ProblemType` with a stable ``code`` (what tests and
``--json`` consumers match on), a default severity and a Chinese message template.
Modules declare the types they raise next to the code that finds them; the catalogue
keeps the codes unique.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

CATALOGUE: dict[str, ProblemType] = {}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of one input."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    task: str | None = None
    value: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def where(self) -> str:
        """Human-readable location: file, sheet, cell/row, task."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格 {self.cell}")
        elif self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.task:
            parts.append(f"任务 {self.task}")
        return "，".join(parts)

    def render(self) -> str:
        """One line for the terminal: ``[错误] where：message``."""
        label = "错误" if self.is_error else "提示"
        where = self.where()
        return f"[{label}] {where}：{self.message}" if where else f"[{label}] {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ProblemType:
    """A kind of problem: stable code, default severity, Chinese message template."""

    code: str
    severity: Severity
    template: str
    title: str = ""

    def __post_init__(self) -> None:
        if self.code in CATALOGUE and CATALOGUE[self.code] != self:
            raise ValueError(f"problem code {self.code!r} defined twice")
        CATALOGUE[self.code] = self

    def __call__(
        self,
        *,
        file: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        row: int | None = None,
        task: str | None = None,
        value: Any = None,
        severity: Severity | None = None,
        **fmt: Any,
    ) -> Problem:
        """Make a :class:`Problem` of this type; *fmt* and *value* fill the template."""
        text_value = None if value is None else str(value)
        message = self.template.format(value=text_value, **fmt)
        return Problem(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            file=file,
            sheet=sheet,
            cell=cell,
            row=row,
            task=task,
            value=text_value,
        )


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)


def count(problems: Iterable[Problem]) -> tuple[int, int]:
    """Return (errors, warnings)."""
    errors = warnings = 0
    for p in problems:
        if p.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def flatten(problems: Iterable[Problem], keys: Iterable[str] = ("code", "cell")) -> list[tuple[Any, ...]]:
    """Project problems onto *keys* so tests assert on codes and places, not wording."""
    keys = tuple(keys)
    return [tuple(getattr(p, k) for k in keys) for p in problems]
