"""Turn what the office saved from its inbox into a flat list of incoming files.

Folders are walked, e-mails (.eml) give up their attachments with the received time
from their Date header, zip archives give up their members. Attachments and members are
copied into a private staging folder so that every item is a file on disk whatever
container it came from; loose files are taken where they are (judging reads each item
once and hashes, checks and archives those bytes). Nothing is opened by a spreadsheet
reader here.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ledger.collect.limits import DEFAULT_LIMITS, Limits
from ledger.collect.safety import precheck
from ledger.collect.sniff import sniff
from ledger.errors import InputError
from ledger.periods import to_china_time
from ledger.problems import Problem, ProblemType

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".xlsb")
OWNER_FILE_PREFIXES = ("~$", ".~lock.")

MAIL_NO_ATTACHMENT = ProblemType(
    "mail-no-attachment", "warning", "邮件“{value}”没有工作簿附件，已跳过；如该单位已报送，请让其把台账作为附件重新发送"
)
MAIL_BAD_DATE = ProblemType(
    "mail-bad-date", "warning", "邮件的发送时间“{value}”无法识别，按收集时间计算报送时间"
)
ARCHIVE_NESTED = ProblemType("archive-nested", "warning", "压缩包内的“{value}”是压缩包或邮件，未展开；请解压后单独提交")
NOT_A_LEDGER_FILE = ProblemType(
    "file-skipped", "warning", "“{value}”不是工作簿、邮件或压缩包，已跳过"
)


@dataclass(frozen=True)
class Incoming:
    """One candidate workbook, staged on disk, with where and when it came from."""

    name: str  # what a person recognises: the attachment or file name, with its container
    path: Path  # the file itself, or the staged copy of an attachment or zip member
    received_at: datetime
    received_source: str  # "email" (Date header) or "collected" (time of this run)
    sender: str = ""
    container: str = ""


@dataclass
class Intake:
    items: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def gather(paths: Iterable[Path], staging: Path, *, now: datetime, limits: Limits = DEFAULT_LIMITS) -> Intake:
    """Walk *paths* and stage every workbook found, directly or inside e-mails and zips.

    Missing paths are an :class:`InputError` (a typo in the command line); everything
    wrong with a file's content is a problem record.
    """
    intake = Intake()
    intake.items = list(stream(candidates(paths), staging, now=now, limits=limits, problems=intake.problems))
    return intake


def candidates(paths: Iterable[Path]) -> list[Path]:
    """The files under *paths* (folders walked, owner and hidden files skipped), each once;
    an :class:`InputError` if a path does not exist."""
    paths = list(paths)
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise InputError(f"找不到：{'、'.join(missing)}。请检查路径。")
    return list(_walk(paths))


def stream(files: Iterable[Path], staging: Path, *, now: datetime, problems: list[Problem],
           limits: Limits = DEFAULT_LIMITS) -> Iterator[Incoming]:
    """The items of *files* one file at a time, so that judging can start with the first;
    problems with the files themselves are appended to *problems* as they are found."""
    staging.mkdir(parents=True, exist_ok=True)
    now = to_china_time(now)
    sink = Intake(problems=problems)
    for file in files:
        _take(file, file.name, staging, sink, now=now, limits=limits)
        yield from sink.items
        sink.items.clear()


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


def _take(file: Path, name: str, staging: Path, intake: Intake, *, now: datetime, limits: Limits) -> None:
    kind = sniff(file).kind if file.stat().st_size else "unknown"
    if kind == "eml":
        _take_mail(file, name, staging, intake, now=now, limits=limits)
    elif kind == "zip":
        _take_zip(file, name, staging, intake, now=now, limits=limits)
    elif kind == "unknown" and file.suffix.lower() not in SPREADSHEET_SUFFIXES and file.stat().st_size:
        intake.problems.append(NOT_A_LEDGER_FILE(file=name, value=name))
    else:
        intake.items.append(Incoming(name, file, now, "collected"))


def _stage(data: bytes, name: str, staging: Path, received_at: datetime, source: str,
           sender: str = "", container: str = "") -> Incoming:
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(name).suffix.lower()[:8] if Path(name).suffix else ""
    target = staging / f"{digest}{suffix}"
    if not target.exists():
        target.write_bytes(data)
    return Incoming(name, target, received_at, source, sender, container)


def _take_mail(file: Path, name: str, staging: Path, intake: Intake, *, now: datetime, limits: Limits) -> None:
    with open(file, "rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    received, source = now, "collected"
    raw_date = msg.get("Date")
    if raw_date:
        try:
            parsed = email.utils.parsedate_to_datetime(str(raw_date))
            received, source = to_china_time(parsed), "email"
        except (TypeError, ValueError):
            intake.problems.append(MAIL_BAD_DATE(file=name, value=str(raw_date)))
    sender = str(msg.get("From", ""))
    found = 0
    for part in msg.iter_attachments():
        filename = part.get_filename() or ""
        payload = part.get_payload(decode=True)
        if not payload:
            continue
        if not filename.lower().endswith(SPREADSHEET_SUFFIXES + (".zip",)):
            continue
        found += 1
        if len(payload) > limits.max_file_bytes:
            intake.items.append(_stage(payload, f"{name} / {filename}", staging, received, source, sender, name))
            continue
        if filename.lower().endswith(".zip"):
            staged = _stage(payload, filename, staging, received, source, sender, name)
            _take_zip(staged.path, f"{name} / {filename}", staging, intake, now=now, limits=limits,
                      received=(received, source, sender))
        else:
            intake.items.append(_stage(payload, f"{name} / {filename}", staging, received, source, sender, name))
    if not found:
        subject = str(msg.get("Subject", "")) or name
        intake.problems.append(MAIL_NO_ATTACHMENT(file=name, value=subject))


def _take_zip(file: Path, name: str, staging: Path, intake: Intake, *, now: datetime, limits: Limits,
              received: tuple[datetime, str, str] | None = None) -> None:
    _sniffed, problems = precheck(file, display_name=name, limits=limits)
    if any(p.is_error for p in problems):
        intake.problems.extend(problems)
        return
    when, source, sender = received or (now, "collected", "")
    with zipfile.ZipFile(file) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            member = _zip_name(info)
            base = Path(member).name
            if base.startswith(OWNER_FILE_PREFIXES) or base.startswith(".") or member.startswith("__MACOSX"):
                continue
            lower = base.lower()
            if lower.endswith((".zip", ".eml")):
                intake.problems.append(ARCHIVE_NESTED(file=name, value=member))
                continue
            if not lower.endswith(SPREADSHEET_SUFFIXES):
                intake.problems.append(NOT_A_LEDGER_FILE(file=name, value=member))
                continue
            data = zf.read(info)
            intake.items.append(_stage(data, f"{name} / {member}", staging, when, source, sender, name))


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing GBK names that Windows zip tools store without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename
