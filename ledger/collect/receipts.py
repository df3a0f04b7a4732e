"""Receipts (回执): what each unit is told about the file it sent.

One text per received file, rendered from ``templates/receipt.txt.j2`` so the office
can reword it, plus a reply e-mail draft to the sender (or the unit's address from
the directory). Problems are listed next to their task and cell, errors first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from ledger import templating
from ledger.collect.api import CollectedFile, CollectResult, due_for
from ledger.config import Workspace
from ledger.fsutil import safe_filename, write_bytes_atomic, write_text_atomic
from ledger.mail import build_message, make_message_id
from ledger.periods import cn_date
from ledger.problems import Problem
from ledger.registry.model import Registry
from ledger.registry.units import UnitDirectory

RECEIPT_TEMPLATE = "receipt.txt.j2"
VERDICTS = {
    "accepted": "已登记（通过）",
    "rejected": "退回（请修改后重新报送）",
    "duplicate": "重复报送（与此前文件相同，未重复登记）",
    "superseded": "已被更新的报送文件替代",
}
RECEIVED_HOW = {"email": "按邮件发送时间", "collected": "按收集时间"}


@dataclass(frozen=True)
class Receipt:
    file: str
    unit: str | None
    text_path: Path
    mail_path: Path | None


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


def _stem(item: CollectedFile) -> str:
    base = item.unit or Path(item.file.split(" / ")[-1]).stem
    return f"{safe_filename(base)}_{_key(item)[:8]}"


def _key(item: CollectedFile) -> str:
    """The file's content hash; for a file that could not be read, a hash of its name."""
    return item.sha256 or hashlib.sha256(item.file.encode("utf-8")).hexdigest()


def receipt_text(ws: Workspace, result: CollectResult, item: CollectedFile, registry: Registry) -> str:
    """The receipt for one file, rendered from the office's template."""
    reporting = result.programme.reporting
    due = due_for(result.programme, registry, item.unit, result.period) if item.unit else None
    errors = [_line(p, registry) for p in item.problems if p.is_error]
    warnings = [_line(p, registry) for p in item.problems if not p.is_error]
    return templating.render(
        ws,
        RECEIPT_TEMPLATE,
        unit=item.unit,
        programme_title=result.programme.title,
        period_label=result.period.label(),
        file=item.file,
        received_at=item.received_at.strftime("%Y年%-m月%-d日 %H:%M"),
        received_how=RECEIVED_HOW.get(item.received_source, item.received_source),
        due=due.strftime("%Y年%-m月%-d日 %H:%M") if due else "—",
        outcome=item.outcome,
        verdict=VERDICTS[item.outcome],
        errors=errors,
        warnings=warnings,
        office=reporting.office,
        contact=reporting.contact,
        phone=reporting.phone,
        today=cn_date(item.received_at.date()),
    )




def _recipients(item: CollectedFile, directory: UnitDirectory | None, scope: str) -> list[str]:
    """Who gets the reply: the unit's addresses from the directory and whoever sent the file."""
    found: list[str] = []
    if item.unit and directory is not None:
        unit = directory.get(item.unit, scope)
        if unit is not None and unit.email:
            found.extend(a for _name, a in getaddresses([unit.email.replace("；", ",").replace("、", ",")]))
    found.extend(a for _name, a in getaddresses([item.sender]) if "@" in a)
    return list(dict.fromkeys(a for a in found if a))


def write_receipts(
    ws: Workspace, result: CollectResult, registry: Registry, directory: UnitDirectory | None = None,
    out_dir: Path | None = None,
) -> list[Receipt]:
    """Write a receipt and a reply draft for every collected file; returns what was written."""
    folder = out_dir or ws.out_dir(result.programme.id, result.period.key) / "receipts"
    written = []
    scope = result.programme.scope
    for item in result.files:
        text = receipt_text(ws, result, item, registry)
        text_path = write_text_atomic(folder / f"{_stem(item)}_回执.txt", text)
        to = _recipients(item, directory, scope)
        mail_path = None
        if to:
            verdict = "已登记" if item.outcome in ("accepted", "duplicate") else "退回"
            subject = f"【回执·{verdict}】{result.programme.title}{result.period.label()}工作台账（{item.unit}）"
            msg = build_message(
                sender=result.programme.reporting.email or ws.smtp.sender,
                to=to,
                subject=subject,
                body=text,
                attachment=None,
                date=item.received_at,
                message_id=make_message_id("receipt", _key(item), domain="ledger.invalid"),
            )
            mail_path = write_bytes_atomic(folder / f"{_stem(item)}_回执.eml", bytes(msg))
        written.append(Receipt(item.file, item.unit, text_path, mail_path))
    return written
