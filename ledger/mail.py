"""E-mail drafts to lead units (工作台账 and 催报) and sending them over SMTP.

Drafts are written as ``.eml`` files first so the office can review them; sending is a
separate step. Drafts are deterministic (Date and Message-ID derive from programme,
period and unit) so regenerating them gives identical bytes. A sent draft is moved to
``outbox/sent/`` so a second run never mails a unit twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.config import Reporting, SmtpSettings, Workspace
from ledger.errors import ConfigError, InputError, LedgerError
from ledger.fsutil import clean_stale_temp, safe_filename, write_bytes_atomic
from ledger.periods import CHINA, Period, cn_date, parse_period, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.templating import render

if TYPE_CHECKING:
    from ledger.registry.units import UnitDirectory

DRAFT_HOUR = time(9, 0)
OUTBOX = "outbox"
SENT = "sent"
LEDGER_TEMPLATE = "mail_ledger.txt.j2"
REMINDER_TEMPLATE = "mail_reminder.txt.j2"
# Drafts are stored exactly as they go on the wire: CRLF line ends, 7-bit headers.
WIRE_POLICY = policy.SMTP
_MIME_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xls": ("application", "vnd.ms-excel"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
}
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_ADDRESS_SPLIT = re.compile(r"[;；,，、\s]+")

MISSING_EMAIL = ProblemType(
    "missing-email",
    "error",
    "单位“{value}”{detail}，未生成邮件草稿。请在 {units_file} 中填写该单位的电子邮箱后重新生成。",
)
BAD_EMAIL = ProblemType(
    "bad-email",
    "error",
    "单位“{unit}”的电子邮箱“{value}”格式不对，未生成邮件草稿。请在 {units_file} 中改正后重新生成。",
)
ALREADY_SENT = ProblemType(
    "already-sent",
    "warning",
    "发给“{value}”的同一封邮件已经发送过（{sent}），未重复生成草稿。如确需重发，请删除该已发送文件后重新生成。",
)
SEND_FAILED = ProblemType(
    "send-failed",
    "error",
    "邮件未能发出：{reason}。{advice}",
)
_RETRY = "草稿仍在待发送文件夹中，处理后重新运行发送即可（已发出的不会重发）。"
SENT_NOT_MOVED = ProblemType(
    "sent-not-moved",
    "error",
    "邮件已发出，但无法移入 sent 文件夹（{reason}）。请手动把它移走，以免下次重复发送。",
)


@dataclass(frozen=True)
class Draft:
    """One e-mail draft written to the outbox."""

    unit: str
    path: Path
    to: tuple[str, ...]
    subject: str
    attachment: Path | None


# ---- building one message ------------------------------------------------------------

def build_message(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    attachment: Path | None,
    date: datetime,
    message_id: str,
) -> EmailMessage:
    """Build a message whose bytes depend only on the arguments (fixed MIME boundary).

    A naive *date* is taken as Beijing time. The attachment keeps its (Chinese) file
    name, encoded per RFC 2231.
    """
    if date.tzinfo is None:
        date = date.replace(tzinfo=CHINA)
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(body, charset="utf-8", cte="base64")
    if attachment is not None:
        maintype, subtype = mime_type(attachment)
        msg.add_attachment(attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment.name)
        # "=_" never occurs in base64 or quoted-printable text, so the boundary is safe.
        msg.set_boundary("=_ledger_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32])
    return msg


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


# ---- drafts --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Context:
    """What every draft of one programme and period shares."""

    ws: Workspace
    programme_id: str
    reporting: Reporting
    period: Period
    sender: str
    sender_address: str
    scope: str
    outbox: Path

    @property
    def due(self) -> datetime:
        return self.period.due(self.reporting)


def _context(
    ws: Workspace, programme_id: str, period_text: str, out_dir: Path | None, annex: str | None
) -> _Context:
    programme = ws.programme(programme_id)
    reporting = programme.reporting_for(annex)
    period = parse_period(period_text, reporting.cycle)
    address = reporting.email or ws.smtp.sender
    if not address:
        raise ConfigError(
            f"ledger.toml：项目 {programme_id} 没有配置发件邮箱。请填写 programmes.{programme_id}.email"
            "（或 smtp.sender）。"
        )
    outbox = Path(out_dir) if out_dir is not None else ws.out_dir(programme_id, period.key) / OUTBOX
    return _Context(
        ws=ws,
        programme_id=programme_id,
        reporting=reporting,
        period=period,
        sender=formataddr((reporting.office, address)) if reporting.office else address,
        sender_address=address,
        scope=programme.scope,
        outbox=outbox,
    )




def due_text(due: datetime) -> str:
    """6月10日16时 (or 6月10日16时30分)."""
    text = f"{due.month}月{due.day}日{due.hour}时"
    return text + (f"{due.minute}分" if due.minute else "")


def _period_title(period: Period) -> str:
    """2022年第23周 / 2022年6月 / 2023年第二季度: the label without its date range."""
    return period.label().split(" ", 1)[0]


def _units_file(ws: Workspace) -> str:
    try:
        return ws.paths.units.relative_to(ws.root).as_posix()
    except ValueError:
        return str(ws.paths.units)


def _addresses(ctx: _Context, directory: UnitDirectory, name: str) -> tuple[tuple[str, ...], list[Problem]]:
    """The unit's e-mail addresses, or the problems that prevent mailing it."""
    units_file = _units_file(ctx.ws)
    unit = directory.get(name, ctx.scope)
    if unit is None:
        return (), [MISSING_EMAIL(value=name, detail="不在单位名录中", units_file=units_file, file=units_file)]
    raw = [a for a in _ADDRESS_SPLIT.split(unit.email.strip()) if a]
    if not raw:
        return (), [MISSING_EMAIL(value=name, detail="没有填写电子邮箱", units_file=units_file, file=units_file)]
    bad = [a for a in raw if not _ADDRESS.match(a)]
    if bad:
        return (), [BAD_EMAIL(value=unit.email.strip(), unit=name, units_file=units_file, file=units_file)]
    return tuple(dict.fromkeys(raw)), []


def _safe_filename(text: str) -> str:
    return safe_filename(text).strip(" .") or "_"


def _already_sent(outbox: Path, name: str, data: bytes) -> Path | None:
    """The same message (its date aside) already in ``sent/`` (also under a de-duplicated name)."""
    sent_dir = outbox / SENT
    stem = Path(name).stem
    if not sent_dir.is_dir():
        return None
    wanted = _without_date(data)  # a sent copy carries the time it was sent
    for candidate in sorted(sent_dir.glob(f"{_glob_escape(stem)}*.eml")):
        with contextlib.suppress(OSError):
            if _without_date(candidate.read_bytes()) == wanted:
                return candidate
    return None


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _draft(
    ctx: _Context,
    directory: UnitDirectory,
    unit: str,
    *,
    template: str,
    subject: str,
    when: datetime,
    attachment: Path | None,
    suffix: str = "",
    **context: str,
) -> tuple[Draft | None, list[Problem]]:
    """Render, build and write one unit's draft, unless it cannot be addressed or was sent."""
    to, problems = _addresses(ctx, directory, unit)
    if not to:
        return None, problems
    domain = ctx.sender_address.rsplit("@", 1)[-1]
    body = render(
        ctx.ws,
        template,
        unit=unit,
        programme_title=ctx.reporting.title,
        period_label=ctx.period.label(),
        period_key=ctx.period.key,
        due_text=due_text(ctx.due),
        office=ctx.reporting.office,
        contact=ctx.reporting.contact,
        phone=ctx.reporting.phone,
        email=ctx.sender_address,
        sign_date=cn_date(when),
        **context,
    )
    msg = build_message(
        sender=ctx.sender,
        to=[formataddr((unit, a)) for a in to],
        subject=subject,
        body=body,
        attachment=attachment,
        date=when,
        message_id=make_message_id(ctx.programme_id, ctx.period.key, unit, suffix, *context.values(), domain=domain),
    )
    name = f"{ctx.period.key}_{_safe_filename(unit)}{suffix}.eml"
    data = msg.as_bytes()
    sent = _already_sent(ctx.outbox, name, data)
    if sent is not None:
        return None, [ALREADY_SENT(value=unit, sent=str(sent), file=str(sent))]
    path = write_bytes_atomic(ctx.outbox / name, data)
    return Draft(unit=unit, path=path, to=to, subject=subject, attachment=attachment), problems


def write_drafts(
    ws: Workspace,
    programme_id: str,
    period_text: str,
    workbooks: Mapping[str, Path],
    directory: UnitDirectory,
    out_dir: Path | None = None,
    *,
    template: str = LEDGER_TEMPLATE,
    annex: str | None = None,
) -> tuple[list[Draft], list[Problem]]:
    """Write one draft per unit with its 工作台账 attached, dated 09:00 on the period's first day.

    *workbooks* maps unit name to its workbook. Units without a usable e-mail address
    get a Problem and no draft; the others are written anyway.
    """
    ctx = _context(ws, programme_id, period_text, out_dir, annex)
    missing = [str(p) for p in workbooks.values() if not Path(p).is_file()]
    if missing:
        raise InputError(f"找不到要发送的工作台账：{'、'.join(missing)}。请先生成工作台账再生成邮件。")
    when = datetime.combine(ctx.period.start, DRAFT_HOUR, tzinfo=CHINA)
    title = f"{ctx.reporting.title}{_period_title(ctx.period)}工作台账"
    clean_stale_temp(ctx.outbox)
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for unit, workbook in workbooks.items():
        draft, found = _draft(
            ctx, directory, unit,
            template=template,
            subject=f"【请于{due_text(ctx.due)}前报送】{title}（{unit}）",
            when=when,
            attachment=Path(workbook),
            attachment_name=Path(workbook).name,
        )
        drafts.extend([draft] if draft else [])
        problems.extend(found)
    return drafts, problems


def write_reminders(
    ws: Workspace,
    programme_id: str,
    period_text: str,
    units_and_reasons: Mapping[str, str],
    directory: UnitDirectory,
    out_dir: Path | None = None,
    *,
    template: str = REMINDER_TEMPLATE,
    annex: str | None = None,
) -> tuple[list[Draft], list[Problem]]:
    """Write 催报 drafts for units that did not report or whose report was rejected.

    The reason (未报送, or why the report was sent back) goes into the body; no
    attachment. Dated at the period's due time.
    """
    ctx = _context(ws, programme_id, period_text, out_dir, annex)
    when = ctx.due.replace(tzinfo=CHINA)
    title = f"{ctx.reporting.title}{_period_title(ctx.period)}工作台账"
    clean_stale_temp(ctx.outbox)
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for unit, reason in units_and_reasons.items():
        draft, found = _draft(
            ctx, directory, unit,
            template=template,
            subject=f"【催报】{title}（{unit}）",
            when=when,
            attachment=None,
            suffix="_催报",
            reason=reason.strip().rstrip("。；;."),
        )
        drafts.extend([draft] if draft else [])
        problems.extend(found)
    return drafts, problems


# ---- sending -------------------------------------------------------------------------

def _implicit_tls(settings: SmtpSettings) -> bool:
    """SMTPS when configured (smtp.ssl), else when port 465 is used without STARTTLS."""
    if settings.ssl is not None:
        return settings.ssl
    return settings.port == 465 and not settings.starttls


def _connect(settings: SmtpSettings, password: str | None, context: ssl.SSLContext | None) -> smtplib.SMTP:
    """Open, secure and log in; every failure becomes a LedgerError that says what to check."""
    where = f"{settings.host}:{settings.port}"
    timeout = float(settings.timeout)
    context = context or ssl.create_default_context()
    conn: smtplib.SMTP | None = None
    try:
        if _implicit_tls(settings):
            conn = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
        else:
            conn = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        conn.ehlo()
        if settings.starttls and not _implicit_tls(settings):
            if not conn.has_extn("starttls"):
                raise LedgerError(
                    f"邮件服务器 {where} 不支持 STARTTLS 加密。请向管理员确认端口；"
                    "如确需不加密连接，请在 ledger.toml 中设 smtp.starttls = false。"
                )
            conn.starttls(context=context)
            conn.ehlo()
        if settings.username:
            conn.login(settings.username, password or "")
        return conn
    except LedgerError:
        _close(conn)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(conn)
        raise LedgerError(
            f"登录邮件服务器 {where} 失败（用户名 {settings.username}）：{_smtp_reason(exc)}。"
            f"请检查 smtp.username 和环境变量 {settings.password_env} 中的密码（或授权码）。"
        ) from exc
    except UnicodeEncodeError as exc:
        _close(conn)
        raise LedgerError(
            f"邮件服务器 {where} 的用户名或密码含有中文等非 ASCII 字符，无法登录。请使用邮箱的授权码或英文密码。"
        ) from exc
    except ssl.SSLError as exc:
        _close(conn)
        raise LedgerError(f"与邮件服务器 {where} 建立加密连接失败：{exc}。请检查服务器证书和端口设置。") from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(conn)
        raise LedgerError(
            f"无法连接邮件服务器 {where}：{_smtp_reason(exc)}。请检查 ledger.toml 的 [smtp] 设置和网络。"
        ) from exc


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    with contextlib.suppress(Exception):
        conn.quit()
    with contextlib.suppress(Exception):
        conn.close()


def _smtp_reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "收件人被拒收：" + _refused(exc.recipients)
    return str(exc) or type(exc).__name__


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    """jtj@example.org（550 5.1.1 mailbox unavailable）、…"""
    parts = []
    for address, (code, text) in recipients.items():
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address}（{code} {reply}）")
    return "、".join(parts)


def _read_draft(path: Path, settings: SmtpSettings) -> tuple[bytes, str, list[str]]:
    """Wire bytes, envelope sender and recipients of a draft; ValueError if unusable."""
    raw = re.sub(rb"\r?\n", b"\r\n", path.read_bytes())
    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    recipients = [a for _, a in getaddresses([str(v) for f in ("To", "Cc", "Bcc") for v in headers.get_all(f, [])])]
    recipients = [a for a in recipients if a]
    if not recipients:
        raise ValueError("草稿中没有收件人（To）")
    senders = [a for _, a in getaddresses([str(v) for v in headers.get_all("From", [])]) if a]
    envelope_from = settings.sender or (senders[0] if senders else "")
    if not envelope_from:
        raise ValueError("草稿中没有发件人（From），ledger.toml 也未设置 smtp.sender")
    return raw, envelope_from, recipients


_DATE_HEADER = re.compile(rb"(?mi)^Date:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*\r\n")


def _without_date(raw: bytes) -> bytes:
    """A message with CRLF line ends and no Date header: what stays the same between a draft
    and the copy kept of it once sent."""
    raw = re.sub(rb"\r?\n", b"\r\n", raw)
    end = raw.find(b"\r\n\r\n")
    head, body = (raw, b"") if end < 0 else (raw[:end + 2], raw[end + 2:])
    return _DATE_HEADER.sub(b"", head) + body


def _dated(raw: bytes, when: datetime) -> bytes:
    """*raw* dated *when*: a draft carries the date it was written, the recipient should see
    the date it was sent. Everything but the Date header stays byte for byte."""
    return b"Date: " + format_datetime(when).encode("ascii") + b"\r\n" + _without_date(raw)


def _file_as_sent(path: Path, raw: bytes, sent_dir: Path) -> Path:
    """Keep what was sent (with its real Date) under sent/ and take the draft out of the outbox."""
    target = sent_dir / path.name
    n = 1
    while target.exists():
        n += 1
        target = sent_dir / f"{path.stem}_{n}{path.suffix}"
    write_bytes_atomic(target, raw)
    path.unlink()
    return target


def send_drafts(
    ws: Workspace,
    drafts_dir: Path,
    *,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> tuple[list[Path], list[Problem]]:
    """Send every ``*.eml`` in *drafts_dir*, dated *now* (default: the time of sending), and
    keep each sent one in ``sent/``.

    Returns the paths of the sent copies and the problems of messages that failed (they
    stay in the outbox). Failing to connect or log in raises :class:`LedgerError`.
    """
    drafts_dir = Path(drafts_dir)
    drafts = sorted(p for p in drafts_dir.glob("*.eml") if p.is_file()) if drafts_dir.is_dir() else []
    if not drafts:
        return [], []
    settings = ws.smtp
    if password is None and settings.username:
        password = os.environ.get(settings.password_env)
        if not password:
            raise LedgerError(
                f"没有邮件服务器密码：请设置环境变量 {settings.password_env}（或在 ledger.toml 的"
                " smtp.password_env 中指定另一个变量名）。"
            )
    sent_dir = drafts_dir / SENT
    sent: list[Path] = []
    problems: list[Problem] = []
    conn: smtplib.SMTP | None = None
    try:
        for path in drafts:
            try:
                raw, envelope_from, recipients = _read_draft(path, settings)
                raw = _dated(raw, to_china_time(now or datetime.now(CHINA)))
            except (OSError, ValueError) as exc:
                problems.append(SEND_FAILED(reason=str(exc), advice=_RETRY, file=str(path)))
                continue
            if conn is None:
                conn = _connect(settings, password, ssl_context)
            try:
                refused = conn.sendmail(envelope_from, recipients, raw)
            except smtplib.SMTPServerDisconnected as exc:
                problems.append(
                    SEND_FAILED(reason=f"服务器断开连接（{_smtp_reason(exc)}）", advice=_RETRY, file=str(path))
                )
                _close(conn)
                conn = None
                continue
            except (smtplib.SMTPException, OSError) as exc:
                problems.append(SEND_FAILED(reason=_smtp_reason(exc), advice=_RETRY, file=str(path)))
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    conn.rset()
                continue
            try:
                sent.append(_file_as_sent(path, raw, sent_dir))
            except (OSError, LedgerError) as exc:
                problems.append(SENT_NOT_MOVED(reason=getattr(exc, "strerror", None) or str(exc), file=str(path)))
                continue
            if refused:
                problems.append(SEND_FAILED(
                    reason="以下收件人被拒收：" + _refused(refused),
                    advice="其余收件人已发出，草稿已移入 sent 文件夹；请另行发给被拒收的地址。",
                    file=str(sent[-1]),
                ))
    finally:
        _close(conn)
    return sent, problems
