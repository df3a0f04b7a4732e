"""Receipts (回执): what each unit is told about the file it sent.

One text per received file, rendered from ``templates/receipt.txt.j2`` so the office
can reword it; problems are listed next to their task and cell, errors first. The reply
e-mail that carries a receipt is built by :mod:`ledger.mail.replies`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger import templating
from ledger.collect.api import CollectedFile, CollectResult
from ledger.fsutil import safe_filename, write_text_atomic
from ledger.periods import cn_date
from ledger.problems import Problem
from ledger.registry.model import Registry
from ledger.reporting import OUTCOME_VERDICTS, SOURCE_NAMES, due_for
from ledger.run import Run

RECEIPT_TEMPLATE = "receipt.txt.j2"
RECEIPTS_DIR = "receipts"


@dataclass(frozen=True)
class Receipt:
    """The receipt written for one received file, and what its reply needs."""

    file: str
    unit: str | None
    outcome: str
    key: str  # the file's content hash (a hash of its name when it could not be read)
    sender: str
    received_at: datetime
    text: str
    text_path: Path

    @property
    def stem(self) -> str:
        """File name stem shared by the receipt and its reply: 市交通运输局_1a2b3c4d."""
        return self.text_path.name.removesuffix("_回执.txt")


def _line(p: Problem, registry: Registry) -> dict[str, str]:
    task_text = ""
    if p.task:
        try:
            text = registry.task(p.task).text
            task_text = text if len(text) <= 24 else text[:24] + "…"
        except KeyError:
            task_text = ""
    where = "，".join(x for x in (p.sheet and f"工作表“{p.sheet}”", p.cell and f"单元格 {p.cell}") if x)
    return {"task": p.task or "", "task_text": task_text, "where": where, "message": p.message}


def _key(item: CollectedFile) -> str:
    """The file's content hash; for a file that could not be read, a hash of its name."""
    return item.sha256 or hashlib.sha256(item.file.encode("utf-8")).hexdigest()


def _stem(item: CollectedFile) -> str:
    base = item.unit or Path(item.file.split(" / ")[-1]).stem
    return f"{safe_filename(base)}_{_key(item)[:8]}"


def receipt_text(run: Run, result: CollectResult, item: CollectedFile) -> str:
    """The receipt for one file, rendered from the office's template."""
    reporting = result.programme.reporting
    registry = run.registry
    due = due_for(result.programme, registry, item.unit, result.period) if item.unit else None
    errors = [_line(p, registry) for p in item.problems if p.is_error]
    warnings = [_line(p, registry) for p in item.problems if not p.is_error]
    return templating.render(
        run.ws,
        RECEIPT_TEMPLATE,
        unit=item.unit,
        programme_title=result.programme.title,
        period_label=result.period.label(),
        file=item.file,
        received_at=item.received_at.strftime("%Y年%-m月%-d日 %H:%M"),
        received_how="按" + SOURCE_NAMES.get(item.received_source, item.received_source),
        due=due.strftime("%Y年%-m月%-d日 %H:%M") if due else "—",
        outcome=item.outcome,
        verdict=OUTCOME_VERDICTS[item.outcome],
        errors=errors,
        warnings=warnings,
        office=reporting.office,
        contact=reporting.contact,
        phone=reporting.phone,
        today=cn_date(item.received_at.date()),
    )


def write_receipts(run: Run, result: CollectResult, out_dir: Path | None = None) -> list[Receipt]:
    """Write a receipt for every collected file into ``out/<programme>/<period>/receipts/``."""
    folder = out_dir or run.out_dir() / RECEIPTS_DIR
    written = []
    for item in result.files:
        text = receipt_text(run, result, item)
        path = write_text_atomic(folder / f"{_stem(item)}_回执.txt", text)
        written.append(Receipt(item.file, item.unit, item.outcome, _key(item), item.sender, item.received_at,
                               text, path))
    return written
