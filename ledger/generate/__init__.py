"""``ledger generate``: one 工作台账 workbook per lead unit per reporting period.

Everything about the sheet's shape (columns, locks, statuses, metadata keys, the locked
cells' texts) comes from :mod:`ledger.layout`, so ``collect`` reads exactly what is
written here. Output is deterministic: the same registry and period give byte-identical
files, so the office can re-run ``generate`` without churn.
"""

from ledger.generate.content import RegistryIndex, index_registry
from ledger.generate.run import TEMPLATES_DIR, GeneratedWorkbook, generate, generated_workbooks
from ledger.generate.xlsx import GENERATOR, XLSX_OPTIONS, build_workbook

__all__ = [
    "GENERATOR",
    "TEMPLATES_DIR",
    "XLSX_OPTIONS",
    "GeneratedWorkbook",
    "RegistryIndex",
    "build_workbook",
    "generate",
    "generated_workbooks",
    "index_registry",
]
