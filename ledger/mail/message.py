"""Building one e-mail and what both the drafts and the sending side need of it.

A message's bytes depend only on its inputs, so regenerating a draft gives identical
bytes; drafts are stored exactly as they go on the wire. The outbox layout and the
date-blind comparison live here because drafting (the already-sent check) and sending
(dating a draft, filing it under ``sent/``) both use them.
"""

from __future__ import annotations

import binascii
import hashlib
import mimetypes
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path

from ledger.periods import CHINA

# Drafts are stored exactly as they go on the wire: CRLF line ends, 7-bit headers.
WIRE_POLICY = policy.SMTP
_MIME_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xls": ("application", "vnd.ms-excel"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
}


def build_message(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    attachment: Path | None,
    date: datetime,
    message_id: str,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Build a message whose bytes depend only on the arguments (fixed MIME boundary).

    A naive *date* is taken as Beijing time. The attachment keeps its (Chinese) file
    name, encoded per RFC 2231. *headers* are ledger's own (``X-Ledger-…``), read back when
    the outbox is sent.
    """
    if date.tzinfo is None:
        date = date.replace(tzinfo=CHINA)
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if subject.isascii():
        msg["Subject"] = subject
    else:  # encoded words as the policy would fold them, made ten times faster (replies: one per file)
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep=WIRE_POLICY.linesep))
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset="utf-8", cte="base64")
    if attachment is not None:
        maintype, subtype = mime_type(attachment)
        msg.add_attachment(attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment.name)
        # "=_" never occurs in base64 or quoted-printable text, so the boundary is safe.
        msg.set_boundary("=_ledger_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32])
    return msg


def message_bytes(*, sender: str, to: Sequence[str], subject: str, body: str, date: datetime,
                  message_id: str) -> bytes:
    """The bytes of :func:`build_message` for a message without attachment or headers of ours:
    what every receipt's reply is. Such a message is written here directly when its headers
    need no parsing or folding (plain addresses, an encoded subject, lines within 78
    characters), a tenth of the time the email package takes; else by :func:`build_message`.
    ``tests/test_mail.py`` holds the two to the same bytes."""
    if date.tzinfo is None:
        date = date.replace(tzinfo=CHINA)
    fields = [("From", sender), ("To", ", ".join(to)), ("Date", format_datetime(date)), ("Message-ID", message_id)]
    plain = (not subject.isascii() and _PLAIN_ADDRESS.fullmatch(sender) and to
             and all(_PLAIN_ADDRESS.fullmatch(a) for a in to) and _PLAIN_ID.fullmatch(message_id)
             and all(len(name) + 2 + len(value) <= WIRE_POLICY.max_line_length for name, value in fields))
    if not plain:
        return bytes(build_message(sender=sender, to=to, subject=subject, body=body, attachment=None, date=date,
                                   message_id=message_id))
    crlf = WIRE_POLICY.linesep
    encoded_subject = Header(subject, "utf-8", header_name="Subject").encode(linesep=crlf)
    lines = [f"{name}: {value}" for name, value in fields[:2]]
    lines += [f"Subject: {encoded_subject}", *(f"{name}: {value}" for name, value in fields[2:]),
              'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: base64", "MIME-Version: 1.0", ""]
    text = crlf.encode("ascii").join(body.encode("utf-8").splitlines()) + crlf.encode("ascii")
    step = WIRE_POLICY.max_line_length // 4 * 3  # bytes per line of base64, as the email package cuts them
    encoded = [binascii.b2a_base64(text[i:i + step], newline=False).decode("ascii") for i in range(0, len(text), step)]
    return (crlf.join(lines + encoded) + crlf).encode("ascii")


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")
_PLAIN_ID = re.compile(r"<[A-Za-z0-9._-]+@[A-Za-z0-9.-]+>")


def mime_type(path: Path) -> tuple[str, str]:
    """MIME type of an attachment, exact for the office formats ledger sends."""
    known = _MIME_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed and "/" in guessed:
        maintype, subtype = guessed.split("/", 1)
        return maintype, subtype
    return "application", "octet-stream"


def make_message_id(*parts: str, domain: str) -> str:
    """A Message-ID that is the same for the same parts, so drafts are reproducible."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.ledger@{domain}>"


def fingerprint(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """What makes two messages the same one for a unit: the Message-ID (derived from programme,
    period, unit and purpose) and the attached files' bytes. The Date and the 落款 date in the
    body are when it was drafted or sent, not what it is."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    attached = tuple(hashlib.sha256(part.get_payload(decode=True) or b"").hexdigest()
                     for part in msg.iter_attachments())
    return str(msg.get("Message-ID", "")).strip(), attached


_DATE_HEADER = re.compile(rb"(?mi)^Date:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*\r\n")


def _without_date(raw: bytes) -> bytes:
    """A message with CRLF line ends and no Date header: what stays the same between a draft
    and the copy kept of it once sent."""
    raw = re.sub(rb"\r?\n", b"\r\n", raw)
    end = raw.find(b"\r\n\r\n")
    head, body = (raw, b"") if end < 0 else (raw[:end + 2], raw[end + 2:])
    return _DATE_HEADER.sub(b"", head) + body
