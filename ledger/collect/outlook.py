"""Outlook ``.msg`` files: what an office gets when it drags a mail out of Outlook.

A .msg file is an OLE compound file ([MS-CFB]) holding the message's MAPI properties
([MS-OXMSG]): small fixed-size values in a ``__properties_version1.0`` stream, strings and
binary values in ``__substg1.0_<tag>`` streams, one ``__attach_version1.0_#n`` storage per
attachment. ``olefile`` reads the container; this module reads the few properties collect
needs into a :class:`~ledger.collect.mail.Mail`: when it was sent, by whom, the subject and
the attached files, including those of a forwarded message attached as a message.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta

import olefile

from ledger.collect.limits import DEFAULT_LIMITS, Limits, format_size
from ledger.collect.mail import (
    MAIL_TOO_DEEP,
    MAIL_TOO_LARGE,
    MAIL_TOO_MANY_ATTACHMENTS,
    MAIL_TOO_MANY_PARTS,
    Mail,
    MailRefused,
    read_eml,
)

PROPERTIES = "__properties_version1.0"
#: bytes before the property entries: a message file, a message embedded in it, an attachment
HEADER_TOP, HEADER_EMBEDDED, HEADER_ATTACHMENT = 32, 24, 8
PT_LONG, PT_SYSTIME, PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x0003, 0x0040, 0x001E, 0x001F, 0x0102, 0x000D
PR_SUBJECT, PR_CLIENT_SUBMIT_TIME, PR_TRANSPORT_HEADERS = 0x0037, 0x0039, 0x007D
PR_SENDER_NAME, PR_SENDER_EMAIL, PR_SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
PR_DELIVERY_TIME, PR_CODEPAGE = 0x0E06, 0x3FFD
PR_ATTACH_DATA, PR_ATTACH_FILENAME, PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_DISPLAY_NAME = (
    0x3701, 0x3704, 0x3705, 0x3707, 0x3001)
ATTACH_EMBEDDED_MSG = 5
ATTACH_PREFIX = "__attach_version1.0_#"
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class MsgError(ValueError):
    """The file is not a readable Outlook message."""


#: storages and streams of a message file per MIME part allowed: an attachment takes about ten
PARTS_PER_ENTRY = 10


def read_msg(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Mail:
    """The message in an Outlook .msg file; :class:`MsgError` when it cannot be read,
    :class:`MailRefused` when it is larger, deeper or holds more than *limits* allow."""
    if len(data) > limits.max_mail_bytes:
        raise MailRefused(MAIL_TOO_LARGE, Mail(), value=format_size(len(data)), limit=format_size(limits.max_mail_bytes))
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            reader = _Reader(ole, limits)
            top = reader.headers([], HEADER_TOP)
            entries = [e for e in ole.direntries if e is not None]
            if len(entries) > limits.max_mime_parts * PARTS_PER_ENTRY:
                raise MailRefused(MAIL_TOO_MANY_PARTS, top, value=f"约 {len(entries) // PARTS_PER_ENTRY}",
                                  limit=limits.max_mime_parts)
            attached = sum(1 for e in entries if e.name.startswith(ATTACH_PREFIX))  # embedded messages' too
            if attached > limits.max_attachments:
                raise MailRefused(MAIL_TOO_MANY_ATTACHMENTS, top, value=attached, limit=limits.max_attachments)
            return reader.message([], HEADER_TOP, top)
    except (OSError, ValueError, struct.error, IndexError, KeyError) as exc:  # olefile raises these on damage
        raise MsgError(str(exc) or type(exc).__name__) from exc


class _Reader:
    def __init__(self, ole: olefile.OleFileIO, limits: Limits) -> None:
        self.ole = ole
        self.codepage = "gb18030"
        self.limits = limits

    def message(self, where: list[str], header: int, top: Mail | None = None) -> Mail:
        """The message at *where* with its attachments (*top*: its headers, read already)."""
        mail = top or self.headers(where, header)
        depth = sum(1 for name in where if name.startswith(ATTACH_PREFIX))
        if depth > self.limits.max_mime_depth:
            raise MailRefused(MAIL_TOO_DEEP, mail, value=depth, limit=self.limits.max_mime_depth)
        for storage in self.children(where, ATTACH_PREFIX):
            mail.attachments.extend(self.attachment(where + [storage]))
        return mail

    def headers(self, where: list[str], header: int) -> Mail:
        """Subject, sender and sending time of the message at *where*."""
        fixed = self.fixed(where, header)
        codepage = fixed.get(PR_CODEPAGE)
        if isinstance(codepage, int) and codepage not in (936, 54936, 0):
            self.codepage = f"cp{codepage}"
        mail = Mail(subject=self.text(where, PR_SUBJECT))
        name = self.text(where, PR_SENDER_NAME)
        address = self.text(where, PR_SENDER_SMTP) or self.text(where, PR_SENDER_EMAIL)
        mail.sender = f"{name} <{address}>" if name and "@" in address else (address or name)
        sent = fixed.get(PR_CLIENT_SUBMIT_TIME) or fixed.get(PR_DELIVERY_TIME)
        if isinstance(sent, datetime):
            mail.date = sent
        else:
            headers = self.text(where, PR_TRANSPORT_HEADERS)
            if headers:
                mail.date = read_eml(headers.encode("utf-8", "replace") + b"\r\n\r\n").date
        return mail

    def attachment(self, where: list[str]) -> list[tuple[str, bytes]]:
        fixed = self.fixed(where, HEADER_ATTACHMENT)
        if fixed.get(PR_ATTACH_METHOD) == ATTACH_EMBEDDED_MSG:
            inner = where + [_substg(PR_ATTACH_DATA, PT_OBJECT)]
            if self.ole.exists("/".join(inner)):
                return self.message(inner, HEADER_EMBEDDED).attachments
        name = (self.text(where, PR_ATTACH_LONG_FILENAME) or self.text(where, PR_ATTACH_FILENAME)
                or self.text(where, PR_DISPLAY_NAME))
        data = self.stream(where, _substg(PR_ATTACH_DATA, PT_BINARY))
        return [(name, data or b"")] if name else []

    def children(self, where: list[str], prefix: str) -> list[str]:
        depth = len(where)
        names = {e[depth] for e in self.ole.listdir(streams=True, storages=True)
                 if len(e) > depth and e[:depth] == where and e[depth].startswith(prefix)}
        return sorted(names)

    def stream(self, where: list[str], name: str) -> bytes | None:
        path = "/".join(where + [name])
        if not self.ole.exists(path) or self.ole.get_type(path) != olefile.STGTY_STREAM:
            return None
        with self.ole.openstream(path) as fh:
            return fh.read()

    def text(self, where: list[str], prop: int) -> str:
        raw = self.stream(where, _substg(prop, PT_UNICODE))
        if raw is not None:
            return raw.decode("utf-16-le", "replace").rstrip("\0").strip()
        raw = self.stream(where, _substg(prop, PT_STRING8))
        if raw is not None:
            return raw.rstrip(b"\0").decode(self.codepage, "replace").strip()
        return ""

    def fixed(self, where: list[str], header: int) -> dict[int, object]:
        """Fixed-size properties by id: PT_LONG as int, PT_SYSTIME as aware datetime."""
        raw = self.stream(where, PROPERTIES) or b""
        values: dict[int, object] = {}
        for offset in range(header, len(raw) - 15, 16):
            tag, _flags, value = struct.unpack_from("<IIQ", raw, offset)
            prop, kind = tag >> 16, tag & 0xFFFF
            if kind == PT_LONG:
                values[prop] = value & 0xFFFFFFFF
            elif kind == PT_SYSTIME and value:
                values[prop] = _FILETIME_EPOCH + timedelta(microseconds=value // 10)
        return values


def _substg(prop: int, kind: int) -> str:
    return f"__substg1.0_{prop:04X}{kind:04X}"
