"""What a saved e-mail holds: its date, sender, subject and every attached file.

Read as RFC 5322 says mail is written, not as one client writes it: headers in any order
and folded over lines, an mbox ``From `` line first, CRLF or LF, 8-bit bodies. Attachments
are found however deep they sit: in nested multiparts, in an S/MIME-signed message
(``multipart/signed``), in a forwarded message (``message/rfc822``). Attachment names come
from RFC 2231 parameters, RFC 2047 words (UTF-8, GB2312/GBK/GB18030) or raw 8-bit GBK
or UTF-8, as Chinese mail clients write them. Outlook ``.msg`` files are read by
:mod:`ledger.collect.outlook` into the same :class:`Mail`.

A mail is measured before it is parsed (:func:`mime_shape`: its parts and how deep they
nest, from its boundary lines) and refused (:class:`MailRefused`) when it is larger, deeper
or wider than :class:`~ledger.collect.limits.Limits` allow: the parser's cost grows with the
parts and it recurses once per level.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from typing import Any

from ledger.collect.limits import DEFAULT_LIMITS, Limits, format_size
from ledger.problems import Problem, ProblemType

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


_RESEND = "其中的附件都未收取；请把本单位的工作台账作为附件，用一封新邮件重新发送"
MAIL_TOO_LARGE = ProblemType("mail-too-large", "error", "邮件大小 {value} 超过上限 {limit}，未打开，" + _RESEND)
MAIL_TOO_DEEP = ProblemType(
    "mail-too-deep", "error", "邮件的结构嵌套了 {value} 层（层层转发或被改造的邮件），超过上限 {limit} 层，未打开，" + _RESEND)
MAIL_TOO_MANY_PARTS = ProblemType(
    "mail-too-many-parts", "error", "邮件由 {value} 个部分组成，超过上限 {limit} 个，未打开，" + _RESEND)
MAIL_TOO_MANY_ATTACHMENTS = ProblemType(
    "mail-too-many-attachments", "error", "邮件带有 {value} 个附件，超过上限 {limit} 个，" + _RESEND)


class MailRefused(Exception):
    """A mail that is not opened further: why (:meth:`problem`), and what its headers say (*mail*)."""

    def __init__(self, ptype: ProblemType, mail: Mail, **fmt: Any) -> None:
        super().__init__(ptype.code)
        self.ptype, self.mail, self.fmt = ptype, mail, fmt

    def problem(self, file: str) -> Problem:
        return self.ptype(file=file, **self.fmt)


def read_eml(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Mail:
    """A saved e-mail (.eml, or one message of an mbox file); :class:`MailRefused` when it is
    larger, deeper or made of more parts than *limits* allow (its headers are read all the same)."""
    if data.startswith(b"From "):  # an mbox separator line, as Thunderbird and mutt save mail
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    mail = _headers(email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data))
    if len(data) > limits.max_mail_bytes:
        raise MailRefused(MAIL_TOO_LARGE, mail, value=format_size(len(data)), limit=format_size(limits.max_mail_bytes))
    _refuse_shape(mail, *mime_shape(data), limits)
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except RecursionError:  # a nesting mime_shape did not see (no boundary lines): too deep all the same
        raise MailRefused(MAIL_TOO_DEEP, mail, value=f"{limits.max_mime_depth}+", limit=limits.max_mime_depth) from None
    _refuse_shape(mail, *tree_shape(msg), limits)
    mail.attachments = list(_attachments(msg))
    if len(mail.attachments) > limits.max_attachments:
        raise MailRefused(MAIL_TOO_MANY_ATTACHMENTS, mail, value=len(mail.attachments), limit=limits.max_attachments)
    return mail


def _headers(msg: Message) -> Mail:
    """Sender, subject and date of a message (its headers only)."""
    mail = Mail(sender=_header(msg, "From"), subject=_header(msg, "Subject"))
    raw_date = _header(msg, "Date")
    if raw_date:
        try:
            mail.date = email.utils.parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            mail.raw_date = raw_date
        if mail.date is not None and mail.date.tzinfo is None:
            mail.raw_date, mail.date = raw_date, None  # "-0000": the sender's zone is unknown
    return mail


def _refuse_shape(mail: Mail, parts: int, depth: int, limits: Limits) -> None:
    if depth > limits.max_mime_depth:
        raise MailRefused(MAIL_TOO_DEEP, mail, value=depth, limit=limits.max_mime_depth)
    if parts > limits.max_mime_parts:
        raise MailRefused(MAIL_TOO_MANY_PARTS, mail, value=parts, limit=limits.max_mime_parts)


_BOUNDARY = re.compile(rb'(?i)\bboundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))')
#: a line that may open or close a part (``--boundary``, ``--boundary--``), or the header of an
#: attached message (whose body nests one level deeper, boundary or not)
_MIME_LINE = re.compile(rb"(?im)^(?:--([^\r\n]{1,202}?)[ \t]*\r?$|content-type:[ \t]*message/)")


def mime_shape(data: bytes) -> tuple[int, int]:
    """(parts, depth) of a raw mail, from its boundary lines and attached-message headers,
    without parsing it: one pass of a regular expression, so a mail of 100,000 parts costs
    milliseconds to refuse. Exact for well-formed mail; the parsed tree is measured again
    (:func:`tree_shape`) in case a malformed one fooled the count."""
    boundaries = {m.group(1) or m.group(2) for m in _BOUNDARY.finditer(data)}
    # open multiparts, innermost last: (boundary, attached-message levels between it and the
    # multipart around it, its own depth)
    stack: list[tuple[bytes, int, int]] = []
    open_ = set()
    messages = 0  # attached-message levels since the innermost multipart's current part began
    parts, depth = 1, 0
    for m in _MIME_LINE.finditer(data):
        line = m.group(1)
        if line is None:
            messages += 1
        elif line in boundaries:  # a part of this multipart begins (the multipart itself, if new)
            if line in open_:
                while stack[-1][0] != line:
                    open_.discard(stack.pop()[0])
            else:
                outer = stack[-1][2] if stack else 0
                stack.append((line, messages, outer + messages + 1))
                open_.add(line)
            messages = 0
        elif line.endswith(b"--") and line[:-2] in open_:  # the multipart ends
            while stack[-1][0] != line[:-2]:
                open_.discard(stack.pop()[0])
            closed, messages, _ = stack.pop()
            open_.discard(closed)
            continue
        else:
            continue
        parts += 1
        depth = max(depth, (stack[-1][2] if stack else 0) + messages)
    return parts, depth


def tree_shape(msg: Message) -> tuple[int, int]:
    """(parts, depth) of a parsed message, counted without recursion."""
    parts = depth = 0
    todo: list[tuple[Message, int]] = [(msg, 0)]
    while todo:
        part, level = todo.pop()
        parts += 1
        depth = max(depth, level)
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            todo.extend((p, level + 1) for p in payload if isinstance(p, Message))
    return parts, depth


def _header(msg: Message, name: str) -> str:
    try:
        return str(msg.get(name, "") or "").strip()
    except (TypeError, ValueError, IndexError):  # a header the parser cannot decode
        return str(msg.get_all(name, [""])[0]).strip()


def _attachments(msg: Message) -> Iterator[tuple[str, bytes]]:
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
