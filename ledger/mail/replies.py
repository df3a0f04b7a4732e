"""Reply e-mails that carry receipts (回执) back to the units.

Each reply goes to the unit's addresses from the units directory and to whoever sent the
file; it is written next to its receipt as ``<stem>_回执.eml``, dated when it is drafted, for
the office to send (``ledger mail send --receipts``, which files each under ``receipts/sent/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import getaddresses
from pathlib import Path

from ledger.collect.receipts import Receipt
from ledger.errors import WorkspaceError
from ledger.fsutil import AtomicBatch
from ledger.mail.message import make_message_id, message_bytes
from ledger.problems import Problem, ProblemType
from ledger.run import SENT, Run

REPLY_SUFFIX = "_回执.eml"
REPLY_NOT_WRITTEN = ProblemType(
    "reply-not-written", "error", "回执邮件草稿未能写出：{value} 回执本身已写出；排除原因后重新收集同一批文件即可补写")


def recipients(run: Run, receipt: Receipt) -> list[str]:
    """Who gets the reply: the unit's addresses from the directory and whoever sent the file."""
    found: list[str] = []
    if receipt.unit:
        unit = run.directory.get(receipt.unit, run.programme.scope)
        if unit is not None and unit.email:
            found.extend(a for _name, a in getaddresses([unit.email.replace("；", ",").replace("、", ",")]))
    found.extend(a for _name, a in getaddresses([receipt.sender]) if "@" in a)
    return list(dict.fromkeys(a for a in found if a))


def reply_subject(run: Run, receipt: Receipt) -> str:
    """【回执·已登记】 / 【回执·已登记（逾期）】 / 【回执·退回】 / 【回执·已存档】 …（unit）."""
    verdict = {"accepted": "已登记", "rejected": "退回", "superseded": "已存档"}[receipt.outcome]
    if receipt.late and receipt.outcome != "rejected":
        verdict += "（逾期）"
    return f"【回执·{verdict}】{run.programme.title}{run.period.label()}工作台账（{receipt.unit or '报送单位'}）"


class Replies:
    """The reply drafts of one run: built as its receipts are (:meth:`add`), written together
    at the end (:meth:`write`)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._drafts: dict[str, tuple[Path, bytes]] = {}

    def add(self, receipts: Sequence[Receipt]) -> None:
        for receipt in receipts:
            msg = _reply(self.run, receipt)
            if msg is not None:
                self._drafts[receipt.file] = msg

    def write(self, problems: list[Problem] | None = None, files: set[str] | None = None) -> dict[str, Path]:
        """Write the drafts (of *files* only, if given: those whose receipt was written) together;
        one that cannot be written goes to *problems*."""
        written: dict[str, Path] = {}
        with AtomicBatch(keep_going=True) as batch:
            for file, (target, data) in self._drafts.items():
                if files is not None and file not in files:
                    continue
                try:
                    written[file] = batch.write(target, data)
                except WorkspaceError as exc:
                    _not_written(problems, file, exc)
        for file, target in list(written.items()):
            if target in batch.failed:
                _not_written(problems, file, batch.failed[target])
                del written[file]
        return written


def _not_written(problems: list[Problem] | None, file: str, exc: WorkspaceError) -> None:
    if problems is not None:
        problems.append(REPLY_NOT_WRITTEN(file=file, value=str(exc)))


def write_replies(run: Run, receipts: Sequence[Receipt], problems: list[Problem] | None = None, *,
                  prepared: Replies | None = None) -> dict[str, Path]:
    """A reply draft per receipt written in this run that has someone to go to; receipt file → draft.

    Like its receipt, a reply is written once: a receipt left as it was (a repeat of the same
    bytes) gets no new reply, unless its reply was never written (a run stopped in between).
    A reply already sent (``receipts/sent/``) is never written again. The drafts reach the disk
    together (one flush, not one each); a reply that cannot be written is appended to *problems*
    (``reply-not-written``) and the others are written all the same. *prepared* holds the
    drafts of *receipts* built while they were collected (:class:`Replies`).
    """
    replies = prepared
    if replies is None:
        replies = Replies(run)
        replies.add(receipts)
    return replies.write(problems, {r.file for r in receipts})


def _reply(run: Run, receipt: Receipt) -> tuple[Path, bytes] | None:
    """Where *receipt*'s reply goes and its bytes; None when none is to be written."""
    programme = run.programme
    target = receipt.text_path.with_name(f"{receipt.stem}{REPLY_SUFFIX}")
    if (target.parent / SENT / target.name).exists() or (not receipt.written and target.exists()):
        return None
    to = recipients(run, receipt)
    if not to:
        return None
    return target, message_bytes(
        sender=programme.reporting.email or run.ws.smtp.sender,
        to=to,
        subject=reply_subject(run, receipt),
        body=receipt.text,
        date=run.now,
        message_id=make_message_id("receipt", receipt.key, domain="ledger.invalid"),
    )
