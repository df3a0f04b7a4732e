"""What a saved e-mail holds: its date, sender, subject and every attached file.

Read as RFC 5322 says mail is written, not as one client writes it: headers in any order
and folded over lines, an mbox ``From `` line first, CRLF or LF, 8-bit bodies. Attachments
are found however deep they sit: in nested multiparts, in an S/MIME-signed message
(``multipart/signed``), in a forwarded message (``message/rfc822``). Attachment names come
from RFC 2231 parameters, RFC 2047 words (UTF-8, GB2312/GBK/GB18030) or raw 8-bit GBK
or UTF-8, as Chinese mail clients write them. Outlook ``.msg`` files are read by
:mod:`ledger.collect.outlook` into the same :class:`Mail`.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message

#: parts that carry a signature, not a file of the sender's: never listed as skipped
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
_FILENAME = re.compile(r"""(?i)(?:^|;)\s*(?:file)?name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""")


@dataclass
class Mail:
    """One message: when and by whom it was sent, and the files attached to it, in order."""

    date: datetime | None = None
    raw_date: str = ""  # the Date header as written, when it could not be read
    sender: str = ""
    subject: str = ""
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


def read_eml(data: bytes) -> Mail:
    """A saved e-mail (.eml, or one message of an mbox file)."""
    if data.startswith(b"From "):  # an mbox separator line, as Thunderbird and mutt save mail
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    mail = Mail(sender=_header(msg, "From"), subject=_header(msg, "Subject"))
    raw_date = _header(msg, "Date")
    if raw_date:
        try:
            mail.date = email.utils.parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            mail.raw_date = raw_date
        if mail.date is not None and mail.date.tzinfo is None:
            mail.raw_date, mail.date = raw_date, None  # "-0000": the sender's zone is unknown
    mail.attachments = list(_attachments(msg))
    return mail


def _header(msg: Message, name: str) -> str:
    try:
        return str(msg.get(name, "") or "").strip()
    except (TypeError, ValueError, IndexError):  # a header the parser cannot decode
        return str(msg.get_all(name, [""])[0]).strip()


def _attachments(msg: Message):
    """(name, bytes) of every attached file, depth first; walk() also enters forwarded messages."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() in SIGNATURE_TYPES:
            continue
        name = filename(part)
        if not name:
            continue
        try:
            payload = part.get_payload(decode=True)
        except (TypeError, ValueError):
            payload = None
        yield name, payload if isinstance(payload, bytes) else b""


def filename(part: Message) -> str:
    """The part's file name, however the sending client encoded it; "" when it has none.

    The email package decodes RFC 2231 and RFC 2047 names itself; a name written in raw 8-bit
    bytes (as some Chinese clients do) is decoded here as UTF-8, else as GB18030.
    """
    try:
        name = part.get_filename() or ""
    except (TypeError, ValueError, LookupError):
        name = ""
    raw = [str(v) for k, v in part.raw_items() if k.lower() in ("content-disposition", "content-type")] \
        if isinstance(part, EmailMessage) else []
    if any(_has_raw_bytes(v) for v in raw):
        for value in raw:
            decoded = _decode_raw(value)
            found = _FILENAME.search(decoded)
            if found and _has_non_ascii(decoded):
                return (found.group(1) or found.group(2) or "").strip()
    return name.strip()


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _has_non_ascii(text: str) -> bool:
    return not text.isascii()


def _decode_raw(value: str) -> str:
    data = value.encode("ascii", "surrogateescape")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", "replace")
