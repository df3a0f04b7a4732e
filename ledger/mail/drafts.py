"""工作台账 and 催报 drafts written to the outbox for the office to review before sending.

Drafts are deterministic (Date and Message-ID derive from programme, period and unit)
and a draft already sent is not written again, so a second run never mails a unit twice.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from email.utils import formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.config import Reporting, Workspace
from ledger.due import moment_text
from ledger.errors import ConfigError, InputError
from ledger.fsutil import clean_stale_temp, safe_filename, write_bytes_atomic
from ledger.mail.message import build_message, fingerprint, make_message_id
from ledger.periods import CHINA, Period, cn_date
from ledger.problems import Problem, ProblemType
from ledger.reporting import UnitStatus
from ledger.run import OUTBOX, SENT, Run
from ledger.templating import render

if TYPE_CHECKING:
    from ledger.registry.units import UnitDirectory

DRAFT_HOUR = time(9, 0)  # a draft is never dated before this hour of the notice's issue day
REMINDER_SUFFIX = "_催报"
WITHDRAWN = "withdrawn"
#: what a 催报 rests on: "missing", or "rejected:<id of the rejected file>"; and whom it is for
REMINDER_HEADER = "X-Ledger-Reminder"
UNIT_HEADER = "X-Ledger-Unit"
LEDGER_TEMPLATE = "mail_ledger.txt.j2"
REMINDER_TEMPLATE = "mail_reminder.txt.j2"

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


@dataclass(frozen=True)
class Draft:
    """One e-mail draft written to the outbox."""

    unit: str
    path: Path
    to: tuple[str, ...]
    subject: str
    attachment: Path | None


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


def _context(run: Run, out_dir: Path | None, annex: str | None) -> _Context:
    ws, programme, period = run.ws, run.programme, run.period
    reporting = programme.reporting_for(annex)
    address = reporting.email or ws.smtp.sender
    if not address:
        raise ConfigError(
            f"ledger.toml：项目 {programme.id} 没有配置发件邮箱。请填写 programmes.{programme.id}.email"
            "（或 smtp.sender）。"
        )
    outbox = Path(out_dir) if out_dir is not None else run.out_dir() / OUTBOX
    return _Context(
        ws=ws,
        programme_id=programme.id,
        reporting=reporting,
        period=period,
        sender=formataddr((reporting.office, address)) if reporting.office else address,
        sender_address=address,
        scope=run.scope,
        outbox=outbox,
    )


def _period_title(period: Period) -> str:
    """2022年第23周 / 2022年6月 / 2023年第二季度: the label without its date range."""
    return period.label().split(" ", 1)[0]


def _addresses(ctx: _Context, directory: UnitDirectory, name: str) -> tuple[tuple[str, ...], list[Problem]]:
    """The unit's e-mail addresses, or the problems that prevent mailing it: no unit of that name in
    the programme's scope, no address, a malformed one, or only addresses of units of other scopes
    (refused); a placeholder address (example.org) is used but reported."""
    from ledger.registry.addresses import address_problems
    from ledger.registry.units import is_address

    units_file = ctx.ws.shown(ctx.ws.paths.units)
    unit = directory.get(name, ctx.scope)
    if unit is None:
        others = directory.elsewhere(name, ctx.scope)
        detail = "不在单位名录中" if not others else (
            f"不在本项目层级范围“{ctx.scope}”的单位中（单位名录中只有"
            f"{'、'.join(f'层级范围“{u.scope}”的“{u.name}”' for u in others)}用这个名称，不向其他层级范围的单位发送）")
        return (), [MISSING_EMAIL(value=name, detail=detail, units_file=units_file, file=units_file)]
    if not unit.addresses:
        return (), [MISSING_EMAIL(value=name, detail="没有填写电子邮箱", units_file=units_file, file=units_file)]
    if not all(is_address(a) for a in unit.addresses):
        return (), [BAD_EMAIL(value=unit.email.strip(), unit=name, units_file=units_file, file=units_file)]
    usable, problems = address_problems(directory, unit, ctx.scope, units_file, file=units_file)
    return tuple(usable), problems


def _already_sent(outbox: Path, name: str, data: bytes) -> Path | None:
    """The same message (see :func:`~ledger.mail.message.fingerprint`) already in ``sent/``
    (also under a de-duplicated name)."""
    sent_dir = outbox / SENT
    stem = Path(name).stem
    if not sent_dir.is_dir():
        return None
    wanted = fingerprint(data)
    for candidate in sorted(sent_dir.glob(f"{_glob_escape(stem)}*.eml")):
        with contextlib.suppress(OSError, ValueError):
            if fingerprint(candidate.read_bytes()) == wanted:
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
    headers: dict[str, str] | None = None,
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
        due_text=moment_text(ctx.due),
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
        headers=headers,
    )
    name = f"{ctx.period.key}_{safe_filename(unit)}{suffix}.eml"
    data = msg.as_bytes()
    sent = _already_sent(ctx.outbox, name, data)
    if sent is not None:
        return None, [ALREADY_SENT(value=unit, sent=str(sent), file=str(sent))]
    path = write_bytes_atomic(ctx.outbox / name, data)
    return Draft(unit=unit, path=path, to=to, subject=subject, attachment=attachment), problems


def write_drafts(
    run: Run,
    workbooks: Mapping[str, Path],
    out_dir: Path | None = None,
    *,
    template: str = LEDGER_TEMPLATE,
    annex: str | None = None,
) -> tuple[list[Draft], list[Problem]]:
    """Write one draft per unit with its 工作台账 attached, dated when it is drafted (:func:`draft_time`).

    *workbooks* maps unit name to its workbook. Units without a usable e-mail address
    get a Problem and no draft; the others are written anyway.
    """
    ctx = _context(run, out_dir, annex)
    missing = [str(p) for p in workbooks.values() if not Path(p).is_file()]
    if missing:
        raise InputError(f"找不到要发送的工作台账：{'、'.join(missing)}。请先生成工作台账再生成邮件。")
    when = draft_time(run)
    title = f"{ctx.reporting.title}{_period_title(ctx.period)}工作台账"
    return _write_all(ctx, run.directory, (
        (unit, {"template": template, "subject": f"【请于{moment_text(ctx.due)}前报送】{title}（{unit}）", "when": when,
                "attachment": Path(workbook), "attachment_name": Path(workbook).name})
        for unit, workbook in workbooks.items()
    ))


def write_reminders(
    run: Run,
    units_and_reasons: Mapping[str, Reminder | str],
    out_dir: Path | None = None,
    *,
    template: str = REMINDER_TEMPLATE,
    annex: str | None = None,
) -> tuple[list[Draft], list[Problem]]:
    """Write 催报 drafts for units that did not report or whose report was rejected, replacing
    the period's earlier 催报 drafts that were not sent (what they said may no longer be true).

    *units_and_reasons* maps a unit to a :class:`Reminder` (or to the reason alone, a unit
    whose report is missing). The reason (未报送, or why the report was sent back) goes into
    the body, what it rests on into the ``X-Ledger-Reminder`` header that ``mail send``
    checks again; no attachment. Dated when drafted.
    """
    ctx = _context(run, out_dir, annex)
    for earlier in ctx.outbox.glob(f"*{REMINDER_SUFFIX}.eml") if annex is None else ():
        earlier.unlink()
    when = draft_time(run)
    title = f"{ctx.reporting.title}{_period_title(ctx.period)}工作台账"
    reminders = {u: r if isinstance(r, Reminder) else Reminder(r, "missing") for u, r in units_and_reasons.items()}
    return _write_all(ctx, run.directory, (
        (unit, {"template": template, "subject": f"【催报】{title}（{unit}）", "when": when, "attachment": None,
                "suffix": REMINDER_SUFFIX, "reason": r.reason.strip().rstrip("。；;."),
                "headers": {REMINDER_HEADER: r.basis, UNIT_HEADER: unit}})
        for unit, r in reminders.items()
    ))


def draft_time(run: Run) -> datetime:
    """When a draft of *run* is dated: now, and never before the notice was issued."""
    issued = datetime.combine(run.programme.issued, DRAFT_HOUR, tzinfo=CHINA)
    return max(run.now, issued)


def withdraw_drafts(outbox: Path, paths: Iterable[Path]) -> list[Path]:
    """Move drafts out of *outbox* into ``withdrawn/``, kept but never sent; where they went."""
    folder = outbox / WITHDRAWN
    moved = []
    for path in paths:
        if not path.is_file():
            continue
        target = folder / path.name
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{path.stem}_{n}{path.suffix}"
        folder.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        moved.append(target)
    return moved


def _write_all(ctx: _Context, directory: UnitDirectory,
               requests: Iterable[tuple[str, dict[str, Any]]]) -> tuple[list[Draft], list[Problem]]:
    """One draft per (unit, arguments of :func:`_draft`); a unit without a usable address gets
    a problem and no draft, the others are written anyway."""
    clean_stale_temp(ctx.outbox)
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for unit, arguments in requests:
        draft, found = _draft(ctx, directory, unit, **arguments)
        if draft is not None:
            drafts.append(draft)
        problems.extend(found)
    return drafts, problems


@dataclass(frozen=True)
class Reminder:
    """Why a unit is reminded (the words of the 催报 e-mail) and the fact it rests on: its report
    is ``missing``, or ``rejected:<file id>`` (the file sent back)."""

    reason: str
    basis: str


def reminder_basis(row: UnitStatus) -> str:
    """The fact a 催报 for *row* rests on, as the ``X-Ledger-Reminder`` header says it; "reported"
    when the unit has reported (on time or late) and needs none."""
    if row.state == "missing":
        return "missing"
    if row.state == "rejected":
        return f"rejected:{row.submission_id}"
    return "reported"


def reminder_reasons(run: Run, rows: Sequence[UnitStatus]) -> dict[str, Reminder]:
    """Why each missing or rejected unit is reminded, in the words of the 催报 e-mail."""
    reasons: dict[str, Reminder] = {}
    for row in rows:
        if row.state == "missing":
            reasons[row.unit] = Reminder(
                f"截至目前尚未收到你单位报送的工作台账（截止时间 {row.due:%Y年%-m月%-d日 %H:%M}）", reminder_basis(row))
        elif row.state == "rejected":
            detail = ""
            sub = run.store.submission(row.submission_id) if row.submission_id is not None else None
            errors = [p for p in (sub.problems if sub else ()) if p.is_error]
            if errors:
                first = errors[0]
                where = f"{first.cell}：" if first.cell else ""
                more = f"等 {len(errors)} 处问题" if len(errors) > 1 else ""
                detail = f"（{where}{first.message}{more}，详见回执）"
            reasons[row.unit] = Reminder(f"你单位报送的工作台账“{row.file}”未通过校验，已退回{detail}",
                                         reminder_basis(row))
    return reasons
