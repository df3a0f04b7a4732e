"""Sending the outbox through the SMTP server of ledger.toml, a separate step from drafting.

Each message is dated when it is sent and the sent copy is moved to ``outbox/sent/``,
so a second run never sends it again; every SMTP failure is reported in Chinese with
what to check.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from pathlib import Path

from ledger.config import SmtpSettings, Workspace
from ledger.errors import LedgerError
from ledger.fsutil import write_bytes_atomic
from ledger.mail.message import _without_date
from ledger.periods import CHINA, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.progress import QUIET, Progress
from ledger.run import SENT

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
    progress: Progress = QUIET,
) -> tuple[list[Path], list[Problem]]:
    """Send every ``*.eml`` in *drafts_dir*, dated *now* (default: the time of sending), and
    keep each sent one in ``sent/``.

    Returns the paths of the sent copies and the problems of messages that failed (they
    stay in the outbox). Failing to connect or log in raises :class:`LedgerError`. *progress*
    is told of every message, sent or not.
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
    progress.start(len(drafts), "封邮件")
    try:
        for path in _told(drafts, progress):
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


def _told(drafts: list[Path], progress: Progress) -> Iterator[Path]:
    """*drafts* one by one, *progress* told of each as it is taken up and once it is done."""
    for path in drafts:
        progress.advance(path.name, 0)
        yield path
        progress.advance(path.name)
