"""Turn what the office saved from its inbox into a flat list of incoming files.

Folders are walked, e-mails (.eml, Outlook .msg) give up their attachments with the
received time from their Date, zip archives give up their members; a loose file is
received when it was saved (its modification time) unless the office says otherwise. Attachments and members are
copied into a private staging folder so that every item is a file on disk whatever
container it came from; loose files are taken where they are (judging reads each item
once and hashes, checks and archives those bytes). Nothing is opened by a spreadsheet
reader here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.limits import DEFAULT_LIMITS, Limits
from ledger.collect.mail import Mail, read_eml
from ledger.collect.outlook import MsgError, read_msg
from ledger.collect.safety import precheck
from ledger.errors import InputError
from ledger.fsutil import readable_name
from ledger.periods import CHINA, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.sniff import sniff

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".xlsb")
OWNER_FILE_PREFIXES = ("~$", ".~lock.")

MAIL_NO_ATTACHMENT = ProblemType(
    "mail-no-attachment", "warning", "邮件“{value}”没有工作簿附件，已跳过；如该单位已报送，请让其把台账作为附件重新发送"
)
MAIL_BAD_DATE = ProblemType(
    "mail-bad-date", "warning", "邮件的发送时间“{value}”无法识别，按收集时间计算报送时间"
)
MAIL_FUTURE_DATE = ProblemType(
    "mail-future-date", "warning", "邮件的发送时间（{value}）晚于收集时间，按收集时间计算报送时间；请检查发件方电脑的时钟"
)
MAIL_UNREADABLE = ProblemType(
    "mail-unreadable", "warning", "邮件文件无法读取（{value}），已跳过；请在邮件客户端中把该邮件另存为 .eml 后重新收集"
)
ATTACHMENT_SKIPPED = ProblemType(
    "attachment-skipped", "warning", "邮件的附件“{value}”不是工作簿、邮件或压缩包，已跳过"
)
ARCHIVE_NESTED = ProblemType("archive-nested", "warning", "压缩包内的“{value}”是压缩包或邮件，未展开；请解压后单独提交")
NOT_A_LEDGER_FILE = ProblemType(
    "file-skipped", "warning", "“{value}”不是工作簿、邮件或压缩包，已跳过"
)
#: problems that mean something received was not collected: the run lists them as 警告
SKIPPED = frozenset({"mail-no-attachment", "mail-unreadable", "attachment-skipped", "archive-nested", "file-skipped"})
#: mail attached to mail (a forward saved as a file) is opened this deep, no deeper
MAIL_DEPTH = 3


@dataclass(frozen=True)
class Incoming:
    """One candidate workbook, staged on disk, with where and when it came from."""

    name: str  # what a person recognises: the attachment or file name, with its container
    path: Path  # the file itself, or the staged copy of an attachment or zip member
    received_at: datetime
    received_source: str  # see ledger.reporting.SOURCE_NAMES: email, mtime, given or collected
    sender: str = ""
    container: str = ""


@dataclass(frozen=True)
class Clock:
    """When files of one run were received, by the best evidence there is (docs/receiving.md, 二).

    An e-mail's Date; else the time the office gave for the whole run (``given``); else a loose
    file's modification time (the time it was saved from the mail client); else the time of
    collecting. None of them may be later than the time of collecting.
    """

    now: datetime
    given: datetime | None = None

    def loose(self, file: Path) -> tuple[datetime, str]:
        """The received time of a file found on disk, and its source."""
        if self.given is not None:
            return self.given, "given"
        try:
            modified = datetime.fromtimestamp(file.stat().st_mtime, CHINA)
        except OSError:
            return self.now, "collected"
        return (modified, "mtime") if modified <= self.now else (self.now, "collected")


@dataclass
class Intake:
    items: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def gather(paths: Iterable[Path], staging: Path, *, now: datetime, given: datetime | None = None,
           limits: Limits = DEFAULT_LIMITS) -> Intake:
    """Walk *paths* and stage every workbook found, directly or inside e-mails and zips.

    Missing paths are an :class:`InputError` (a typo in the command line); everything
    wrong with a file's content is a problem record.
    """
    intake = Intake()
    intake.items = list(stream(candidates(paths), staging, clock=clock(now, given), limits=limits,
                               problems=intake.problems))
    return intake


def clock(now: datetime, given: datetime | None = None) -> Clock:
    """The run's :class:`Clock`; a *given* time later than *now* is an :class:`InputError`."""
    now = to_china_time(now)
    if given is not None:
        given = to_china_time(given)
        if given > now:
            raise InputError(
                f"指定的收到时间 {given:%Y-%m-%d %H:%M} 晚于现在（{now:%Y-%m-%d %H:%M}），请检查 --received-at。"
            )
    return Clock(now, given)


def candidates(paths: Iterable[Path]) -> list[Path]:
    """The files under *paths* (folders walked, owner and hidden files skipped), each once;
    an :class:`InputError` if a path does not exist."""
    paths = list(paths)
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"找不到：{'、'.join(missing)}。请检查路径。")
    return list(_walk(paths))


def stream(files: Iterable[Path], staging: Path, *, clock: Clock, problems: list[Problem],
           limits: Limits = DEFAULT_LIMITS) -> Iterator[Incoming]:
    """The items of *files* one file at a time, so that judging can start with the first;
    problems with the files themselves are appended to *problems* as they are found."""
    staging.mkdir(parents=True, exist_ok=True)
    sink = _Sink(staging, clock, limits, Intake(problems=problems))
    for file in files:
        sink.take(file)
        yield from sink.intake.items
        sink.intake.items.clear()


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for root in paths:
        root = Path(root)
        candidates = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for p in candidates:
            if p.name.startswith(OWNER_FILE_PREFIXES) or p.name.startswith("."):
                continue
            resolved = p.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield p


@dataclass
class _Sink:
    """Where one run's files are staged, timed and listed."""

    staging: Path
    clock: Clock
    limits: Limits
    intake: Intake

    def take(self, file: Path) -> None:
        name = readable_name(file.name)
        kind = sniff(file).kind if file.stat().st_size else "unknown"
        when = self.clock.loose(file)
        if kind in ("eml", "msg"):
            self.mail(file.read_bytes(), kind, name, 1)
        elif kind == "zip":
            self.zip(file, name, (*when, ""))
        elif kind == "unknown" and file.suffix.lower() not in SPREADSHEET_SUFFIXES and file.stat().st_size:
            self.intake.problems.append(NOT_A_LEDGER_FILE(file=name, value=name))
        else:
            self.intake.items.append(Incoming(name, file, *when))

    def stage(self, data: bytes, name: str, when: tuple[datetime, str, str], container: str = "") -> Incoming:
        digest = hashlib.sha256(data).hexdigest()
        suffix = re.sub(r"[^.a-z0-9]", "", Path(name).suffix.lower())[:8]
        target = self.staging / f"{digest}{suffix}"
        if not target.exists():
            target.write_bytes(data)
        return Incoming(name, target, *when, container)

    def mail(self, data: bytes, kind: str, name: str, depth: int) -> None:
        """The workbooks attached to a mail (and to mail attached to it), timed by its Date."""
        try:
            mail = read_msg(data) if kind == "msg" else read_eml(data)
        except MsgError as exc:
            self.intake.problems.append(MAIL_UNREADABLE(file=name, value=str(exc)[:200]))
            return
        received, source = self.clock.now, "collected"
        if mail.date is not None:
            sent = to_china_time(mail.date)
            if sent <= self.clock.now:
                received, source = sent, "email"
            else:
                self.intake.problems.append(MAIL_FUTURE_DATE(file=name, value=f"{sent:%Y-%m-%d %H:%M}"))
        elif mail.raw_date:
            self.intake.problems.append(MAIL_BAD_DATE(file=name, value=mail.raw_date))
        self.attachments(mail, name, (received, source, mail.sender), depth)

    def attachments(self, mail: Mail, name: str, when: tuple[datetime, str, str], depth: int) -> None:
        found = 0
        for raw_name, payload in mail.attachments:
            filename = readable_name(raw_name)
            lower = filename.lower()
            shown = f"{name} / {filename}"
            inner = sniff(payload).kind if payload else "unknown"
            if inner in ("eml", "msg") and depth < MAIL_DEPTH:
                found += 1
                before = len(self.intake.items)
                self.mail(payload, inner, shown, depth + 1)
                # a forward keeps the outer mail's time and sender: that is when the office got it
                self.intake.items[before:] = [dataclasses.replace(i, received_at=when[0], received_source=when[1],
                                                                  sender=when[2]) for i in self.intake.items[before:]]
                continue
            if not payload or not (lower.endswith(SPREADSHEET_SUFFIXES + (".zip",)) or inner != "unknown"):
                self.intake.problems.append(ATTACHMENT_SKIPPED(file=name, value=filename or "（无名附件）"))
                continue
            found += 1
            if inner == "zip" and not lower.endswith(SPREADSHEET_SUFFIXES) and len(payload) <= self.limits.max_file_bytes:
                staged = self.stage(payload, filename, when, name)
                self.zip(staged.path, shown, when)
            else:
                self.intake.items.append(self.stage(payload, shown, when, name))
        if not found:
            self.intake.problems.append(MAIL_NO_ATTACHMENT(file=name, value=mail.subject or name))

    def zip(self, file: Path, name: str, when: tuple[datetime, str, str]) -> None:
        _sniffed, problems = precheck(file, display_name=name, limits=self.limits)
        if any(p.is_error for p in problems):
            self.intake.problems.extend(problems)
            return
        with zipfile.ZipFile(file) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                member = readable_name(_zip_name(info))
                base = Path(member).name
                if base.startswith(OWNER_FILE_PREFIXES) or base.startswith(".") or member.startswith("__MACOSX"):
                    continue
                lower = base.lower()
                if lower.endswith((".zip", ".eml", ".msg")):
                    self.intake.problems.append(ARCHIVE_NESTED(file=name, value=member))
                    continue
                if not lower.endswith(SPREADSHEET_SUFFIXES):
                    self.intake.problems.append(NOT_A_LEDGER_FILE(file=name, value=member))
                    continue
                data = zf.read(info)
                self.intake.items.append(self.stage(data, f"{name} / {member}", when, name))


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing GBK names that Windows zip tools store without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename
