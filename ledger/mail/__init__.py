"""E-mail to lead units: 工作台账 and 催报 drafts into the outbox, then sending it over SMTP.

The package splits building one message (``message``), writing drafts (``drafts``) and
SMTP sending (``send``); reply drafts for receipts (``replies``) are imported on their own,
since they read collect's receipts.
"""

from ledger.mail.drafts import (
    ALREADY_SENT,
    BAD_EMAIL,
    DRAFT_HOUR,
    LEDGER_TEMPLATE,
    MISSING_EMAIL,
    REMINDER_TEMPLATE,
    Draft,
    reminder_reasons,
    write_drafts,
    write_reminders,
)
from ledger.mail.message import WIRE_POLICY, build_message, make_message_id, mime_type
from ledger.mail.send import SEND_FAILED, SENT_NOT_MOVED, send_drafts
from ledger.run import OUTBOX, SENT

__all__ = [
    "ALREADY_SENT",
    "BAD_EMAIL",
    "DRAFT_HOUR",
    "LEDGER_TEMPLATE",
    "MISSING_EMAIL",
    "OUTBOX",
    "REMINDER_TEMPLATE",
    "SEND_FAILED",
    "SENT",
    "SENT_NOT_MOVED",
    "WIRE_POLICY",
    "Draft",
    "build_message",
    "make_message_id",
    "mime_type",
    "reminder_reasons",
    "send_drafts",
    "write_drafts",
    "write_reminders",
]
