"""Reply e-mails that carry receipts (回执) back to the units.

Each reply goes to the unit's addresses from the units directory and to whoever sent the
file; it is written next to its receipt as ``<stem>_回执.eml`` for the office to send.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import getaddresses
from pathlib import Path

from ledger.collect.receipts import Receipt
from ledger.fsutil import write_bytes_atomic
from ledger.mail.message import build_message, make_message_id
from ledger.run import Run


def recipients(run: Run, receipt: Receipt) -> list[str]:
    """Who gets the reply: the unit's addresses from the directory and whoever sent the file."""
    found: list[str] = []
    if receipt.unit:
        unit = run.directory.get(receipt.unit, run.programme.scope)
        if unit is not None and unit.email:
            found.extend(a for _name, a in getaddresses([unit.email.replace("；", ",").replace("、", ",")]))
    found.extend(a for _name, a in getaddresses([receipt.sender]) if "@" in a)
    return list(dict.fromkeys(a for a in found if a))


def write_replies(run: Run, receipts: Sequence[Receipt]) -> dict[str, Path]:
    """A reply draft per receipt that has someone to go to; receipt file → draft path."""
    written: dict[str, Path] = {}
    programme, period = run.programme, run.period
    for receipt in receipts:
        to = recipients(run, receipt)
        if not to:
            continue
        verdict = "已登记" if receipt.outcome in ("accepted", "duplicate") else "退回"
        msg = build_message(
            sender=programme.reporting.email or run.ws.smtp.sender,
            to=to,
            subject=f"【回执·{verdict}】{programme.title}{period.label()}工作台账（{receipt.unit}）",
            body=receipt.text,
            attachment=None,
            date=receipt.received_at,
            message_id=make_message_id("receipt", receipt.key, domain="ledger.invalid"),
        )
        written[receipt.file] = write_bytes_atomic(receipt.text_path.with_name(f"{receipt.stem}_回执.eml"), bytes(msg))
    return written
