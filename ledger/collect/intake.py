"""Turn what the office saved from its inbox into a flat list of incoming files.

Folders are walked, e-mails (.eml, Outlook .msg) give up their attachments with the
received time from their Date, zip archives give up their members; a loose file is
received when it was saved (its modification time) unless the office says otherwise. Attachments and members are
copied into a private staging folder so that every item is a file on disk whatever
container it came from; loose files are taken where they are (judging reads each item
once and hashes, checks and archives those bytes). Nothing is opened by a spreadsheet
reader here.

A mail or zip archive that cannot be opened whole (too large, deep or wide, a bomb, nested,
damaged, or anything its parser trips over) is refused on its own: nothing is taken from it,
and it becomes an item itself (:class:`Refusal`), judged as refused, archived and recorded
with its reason and a receipt to its sender, while the run goes on (docs/reliability.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.limits import DEFAULT_LIMITS, Limits, format_size
from ledger.collect.mail import MAIL_TOO_LARGE, Mail, MailRefused, read_eml
from ledger.collect.outlook import MsgError, read_msg
from ledger.collect.safety import precheck
from ledger.errors import InputError
from ledger.fsutil import readable_name
from ledger.periods import CHINA, to_china_time
from ledger.problems import Problem, ProblemType
from ledger.sniff import ZIP_MAGICS, sniff

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
    "mail-unreadable", "error", "邮件文件无法读取（{value}），其中的附件都未收取；请在邮件客户端中把该邮件另存为 .eml 后"
    "重新收集，或请发件单位重新发送"
)
ATTACHMENT_SKIPPED = ProblemType(
    "attachment-skipped", "warning", "邮件的附件“{value}”不是工作簿、邮件或压缩包，已跳过"
)
ARCHIVE_NESTED = ProblemType(
    "archive-nested", "error", "压缩包内的“{value}”是压缩包或邮件，未展开，其中的文件都未收取；请解压后把工作台账单独提交")
ARCHIVE_UNREADABLE = ProblemType(
    "archive-unreadable", "error", "压缩包无法完整读取（{value}），其中的文件都未收取；请重新压缩，或直接提交工作台账")
NOT_A_LEDGER_FILE = ProblemType(
    "file-skipped", "warning", "“{value}”不是工作簿、邮件或压缩包，已跳过"
)
#: problems that mean something received was not collected: the run lists them as 警告
SKIPPED = frozenset({"mail-no-attachment", "attachment-skipped", "file-skipped"})
#: mail attached to mail (a forward saved as a file) is opened this deep, no deeper
MAIL_DEPTH = 3
#: what intake opens: mail and zip archives (sniffed kinds)
CONTAINER_KINDS = ("eml", "msg", "zip")


@dataclass(frozen=True)
class Refusal:
    """Why a mail or a zip archive was not opened (its problems), and what it is (eml, msg, zip)."""

    problems: tuple[Problem, ...]
    kind: str


@dataclass(frozen=True)
class Incoming:
    """One candidate workbook, staged on disk, with where and when it came from; or a mail or
    zip archive that was not opened (*refusal*): judged as refused, its original kept."""

    name: str  # what a person recognises: the attachment or file name, with its container
    path: Path  # the file itself, or the staged copy of an attachment or zip member
    received_at: datetime
    received_source: str  # see ledger.reporting.SOURCE_NAMES: email, mtime, given or collected
    sender: str = ""
    container: str = ""
    refusal: Refusal | None = None


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


def _kind(file: Path, name: str) -> str:
    """What intake must know of a loose file: whether it is a container to open. A zip named as
    a spreadsheet is an item whatever its parts say (judging sniffs it whole), so for one its
    first bytes suffice ("zip"); anything else is sniffed here."""
    if name.lower().endswith(SPREADSHEET_SUFFIXES):
        with open(file, "rb") as fh:
            if fh.read(4) in ZIP_MAGICS:
                return "zip"
    return sniff(file).kind


#: when a file was received, the source of that time, and who sent it
When = tuple[datetime, str, str]


@dataclass(frozen=True)
class _Held:
    """A container being opened: a file on disk (*path*), or the bytes of an attachment or member."""

    name: str
    path: Path | None
    data: bytes | None
    when: When
    container: str = ""

    def bytes(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]


class _Refused(Exception):
    """A container is not opened: its problems, and when it was received."""

    def __init__(self, problems: list[Problem], when: When) -> None:
        super().__init__(problems[0].code if problems else "refused")
        self.problems, self.when = problems, when


@dataclass
class _Sink:
    """Where one run's files are staged, timed and listed."""

    staging: Path
    clock: Clock
    limits: Limits
    intake: Intake

    def take(self, file: Path) -> None:
        name = readable_name(file.name)
        when = self.clock.loose(file)
        try:
            size = file.stat().st_size
            kind = _kind(file, name) if size else "unknown"
        except OSError:
            self.intake.items.append(Incoming(name, file, *when))  # judging says it cannot be read
            return
        if kind in ("eml", "msg") or (kind == "zip" and not name.lower().endswith(SPREADSHEET_SUFFIXES)):
            self.container(_Held(name, file, None, (*when, "")), kind, 1)
        elif kind == "unknown" and file.suffix.lower() not in SPREADSHEET_SUFFIXES and size:
            self.intake.problems.append(NOT_A_LEDGER_FILE(file=name, value=name))
        else:
            self.intake.items.append(Incoming(name, file, *when))

    def stage(self, data: bytes, name: str, when: When, container: str = "") -> Incoming:
        digest = hashlib.sha256(data).hexdigest()
        suffix = re.sub(r"[^.a-z0-9]", "", Path(name).suffix.lower())[:8]
        target = self.staging / f"{digest}{suffix}"
        if not target.exists():
            target.write_bytes(data)
        return Incoming(name, target, *when, container)

    def container(self, held: _Held, kind: str, depth: int) -> None:
        """Open a mail or a zip archive. Whatever keeps it from being opened whole (a limit, damage,
        a failure of the parser) refuses it alone: what was taken from it is dropped, and it
        becomes an item of its own, refused, so that it is recorded and its sender told."""
        items, problems = len(self.intake.items), len(self.intake.problems)
        try:
            if kind == "zip":
                self.zip(held)
            else:
                self.mail(held, kind, depth)
            return
        except _Refused as exc:
            refused, when = exc.problems, exc.when
        except Exception as exc:  # noqa: BLE001 - whatever goes wrong with one container is that container's
            what = ARCHIVE_UNREADABLE if kind == "zip" else MAIL_UNREADABLE
            refused, when = [what(file=held.name, value=f"{type(exc).__name__}: {exc}"[:200])], held.when
        del self.intake.items[items:]
        del self.intake.problems[problems:]
        self.refuse(held, kind, refused, when)

    def refuse(self, held: _Held, kind: str, problems: list[Problem], when: When) -> None:
        refusal = Refusal(tuple(problems), kind)
        if held.path is not None:
            item = Incoming(held.name, held.path, *when, held.container)
        else:
            item = self.stage(held.bytes(), held.name, when, held.container)
        self.intake.items.append(dataclasses.replace(item, refusal=refusal))

    def mail(self, held: _Held, kind: str, depth: int) -> None:
        """The workbooks attached to a mail (and to mail attached to it), timed by its Date."""
        if held.path is not None and held.path.stat().st_size > self.limits.max_mail_bytes:
            size, limit = format_size(held.path.stat().st_size), format_size(self.limits.max_mail_bytes)
            raise _Refused([MAIL_TOO_LARGE(file=held.name, value=size, limit=limit)], held.when)
        try:
            mail = read_msg(held.bytes(), self.limits) if kind == "msg" else read_eml(held.bytes(), self.limits)
        except MailRefused as exc:
            raise _Refused([exc.problem(held.name)], self.received(exc.mail, held, depth)) from None
        except MsgError as exc:
            raise _Refused([MAIL_UNREADABLE(file=held.name, value=str(exc)[:200])], held.when) from None
        self.attachments(mail, held.name, self.received(mail, held, depth), depth)

    def received(self, mail: Mail, held: _Held, depth: int) -> When:
        """When and from whom the office got a mail: its Date and From; for a mail attached to
        another (a forward saved as a file), the outer mail's (that is when the office got it)."""
        if depth > 1:
            return held.when
        received, source = self.clock.now, "collected"
        if mail.date is not None:
            sent = to_china_time(mail.date)
            if sent <= self.clock.now:
                received, source = sent, "email"
            else:
                self.intake.problems.append(MAIL_FUTURE_DATE(file=held.name, value=f"{sent:%Y-%m-%d %H:%M}"))
        elif mail.raw_date:
            self.intake.problems.append(MAIL_BAD_DATE(file=held.name, value=mail.raw_date))
        return received, source, mail.sender

    def attachments(self, mail: Mail, name: str, when: When, depth: int) -> None:
        found = 0
        for raw_name, payload in mail.attachments:
            filename = readable_name(raw_name)
            lower = filename.lower()
            shown = f"{name} / {filename}"
            inner = sniff(payload).kind if payload else "unknown"
            if inner in ("eml", "msg") and depth < MAIL_DEPTH:
                found += 1
                self.container(_Held(shown, None, payload, when, name), inner, depth + 1)
                continue
            if not payload or not (lower.endswith(SPREADSHEET_SUFFIXES + (".zip",)) or inner != "unknown"):
                self.intake.problems.append(ATTACHMENT_SKIPPED(file=name, value=filename or "（无名附件）"))
                continue
            found += 1
            if inner == "zip" and not lower.endswith(SPREADSHEET_SUFFIXES):
                self.container(_Held(shown, None, payload, when, name), "zip", depth)
            else:
                self.intake.items.append(self.stage(payload, shown, when, name))
        if not found:
            self.intake.problems.append(MAIL_NO_ATTACHMENT(file=name, value=mail.subject or name))

    def zip(self, held: _Held) -> None:
        source = held.path if held.path is not None else held.data
        _sniffed, problems = precheck(source, display_name=held.name, limits=self.limits)  # type: ignore[arg-type]
        if any(p.is_error for p in problems):
            raise _Refused(problems, held.when)
        with zipfile.ZipFile(held.path if held.path is not None else io.BytesIO(held.bytes())) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                member = readable_name(_zip_name(info))
                base = Path(member).name
                if base.startswith(OWNER_FILE_PREFIXES) or base.startswith(".") or member.startswith("__MACOSX"):
                    continue
                lower = base.lower()
                shown = f"{held.name} / {member}"
                if lower.endswith((".zip", ".eml", ".msg")):
                    data = zf.read(info)
                    nested = _Held(shown, None, data, held.when, held.name)
                    self.refuse(nested, sniff(data).kind if data else "unknown",
                                [ARCHIVE_NESTED(file=held.name, value=member)], held.when)
                    continue
                if not lower.endswith(SPREADSHEET_SUFFIXES):
                    self.intake.problems.append(NOT_A_LEDGER_FILE(file=held.name, value=member))
                    continue
                self.intake.items.append(self.stage(zf.read(info), shown, held.when, held.name))


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing GBK names that Windows zip tools store without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename
