"""How one collect run is told to the office: the same words on the command line and the web page.

What became of each file (its outcome, or that a repeat's receipt was written only now),
which of its problems are shown, and the run's problems that are about containers rather
than a file's content (the skipped ones are listed apart, as warnings).
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.collect.api import CollectedFile, CollectResult
from ledger.collect.receipts import Receipt
from ledger.problems import Problem
from ledger.reporting import OUTCOME_NAMES


def outcome_text(item: CollectedFile, receipts: Mapping[str, Receipt]) -> str:
    """通过 / 退回 / 重复文件，已有回执 …; a repeat whose receipt is written only now says its first
    verdict. *receipts* are the run's, by :attr:`Receipt.key`."""
    receipt = receipts.get(item.sha256)
    if item.outcome == "duplicate" and receipt is not None and receipt.written:
        return f"{OUTCOME_NAMES[receipt.outcome]}（此前已登记，补写回执）"
    return OUTCOME_NAMES[item.outcome]


def shown_problems(item: CollectedFile) -> list[Problem]:
    """The problems said of a file: all of one sent back; the warnings of any other (a repeat of a
    file sent back keeps that receipt); none of another period's file, which was not collected."""
    if item.outcome == "other_period":
        return []
    return [p for p in item.problems if item.outcome == "rejected" or not p.is_error]


def run_problems(result: CollectResult) -> list[Problem]:
    """The run's problems that are not about one file's content, the skipped ones left out."""
    skipped = {s.code for s in result.skipped}
    return [p for p in result.problems if p.code not in skipped]
