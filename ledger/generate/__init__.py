"""``ledger generate``: one 工作台账 workbook per lead unit per reporting period.

Everything about the sheet's shape (columns, locks, statuses, metadata keys) comes
from :mod:`ledger.layout`, so ``collect`` reads exactly what is written here. Output
is deterministic: the same registry and period give byte-identical files, so the
office can re-run ``generate`` without churn.
"""

from ledger.generate.content import (
    PreviousReport,
    RegistryIndex,
    deadline_text,
    index_registry,
    milestone_line,
    task_cells,
)
from ledger.generate.run import TEMPLATES_DIR, GeneratedWorkbook, generate
from ledger.generate.xlsx import GENERATOR, NAMED_KEYS, XLSX_OPTIONS, build_workbook

__all__ = [
    "GENERATOR",
    "NAMED_KEYS",
    "TEMPLATES_DIR",
    "XLSX_OPTIONS",
    "GeneratedWorkbook",
    "PreviousReport",
    "RegistryIndex",
    "build_workbook",
    "deadline_text",
    "generate",
    "index_registry",
    "milestone_line",
    "task_cells",
]
