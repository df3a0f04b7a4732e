"""The due rule a notice states (每周五16时前, 每月25日前, 每季度末, 每日), proposed for ledger.toml.

A notice says when lead units report in a sentence of its prose, per annex where each
专项行动 has its own office. ``registry import`` shows what was found next to what
ledger.toml says (docs/due-rules.md); it never edits ledger.toml itself.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import docx

from ledger.cnum import cn_int
from ledger.config import Programme, Reporting
from ledger.due import rule_text
from ledger.registry.notice import annex_heading
from ledger.registry.sources import decode_text
from ledger.sniff import ZIP_MAGICS

_CN = "〇零一二两三四五六七八九十"
_NUM = rf"(\d{{1,2}}|[{_CN}]{{1,3}})"
_WEEKDAY = "一二三四五六日天"
_WEEKDAY_NUMBERS = {**{c: i for i, c in enumerate("一二三四五六日", start=1)}, "天": 7}
_TIME = rf"(?:(上午|下午|晚上)?{_NUM}(?:时|点|:|：)(?:(\d{{2}}|半)分?)?)?"
#: a sentence that sets the reporting rule mentions what is reported and a verb of reporting
_ABOUT_REPORTS = re.compile(r"(台账|进展|进度|完成情况)[^。；;]{0,20}?(报送|上报|汇报)|(报送|上报|汇报)[^，,。；;]{0,12}?(台账|进展|进度)")
_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("weekly", "weekday", re.compile(rf"每周(?:的)?(?:星期|周)?([{_WEEKDAY}1-7]){_TIME}前")),
    ("monthly", "workdays_after", re.compile(rf"(?:每月(?:结束|终了)后|次月|下月)(?:前)?{_NUM}个工作日")),
    ("monthly", "last_workday", re.compile(r"每月(?:最后一个工作日|底|末)")),
    ("monthly", "weekday", re.compile(rf"每月最后一(?:个)?(?:星期|周)([{_WEEKDAY}]){_TIME}前")),
    ("monthly", "day", re.compile(rf"每月{_NUM}日{_TIME}前")),
    ("quarterly", "workdays_after", re.compile(rf"(?:每季度(?:结束|终了)后|季后){_NUM}个工作日")),
    ("quarterly", "day", re.compile(rf"每季度(?:末月|最后一个月){_NUM}日{_TIME}前")),
    ("quarterly", "last_workday", re.compile(r"每季度(?:末|最后一个工作日)")),
    ("daily", "weekday", re.compile(rf"每(?:日|天){_TIME}前|每(?:日|天)(?:向|由|报送|上报)")),
)


@dataclass(frozen=True)
class Proposal:
    """The rule one sentence of a notice states, for the programme (``annex`` None) or an annex."""

    annex: str | None
    sentence: str
    reporting: Reporting  # the rule's keys; title and contacts are not part of it
    keys: tuple[tuple[str, object], ...]  # the ledger.toml keys that say it

    @property
    def table(self) -> str:
        """[programmes.<id>] or [programmes.<id>.annexes.A1], without the programme id."""
        return f"annexes.{self.annex}" if self.annex else ""

    def toml(self) -> str:
        """cycle = "monthly"\\ndue_day = 25: what to write in ledger.toml."""
        return "\n".join(f"{key} = {_toml_value(value)}" for key, value in self.keys)

    def differs(self, configured: Reporting) -> list[str]:
        """What ledger.toml says otherwise (``key = value`` as configured), the time only when
        the sentence gives one."""
        rule = self.reporting
        fields = ["cycle", "due"]
        if configured.due == rule.due:
            fields.append({"weekday": "due_weekday", "day": "due_day", "workdays_after": "due_workdays_after"}
                          .get(rule.due))
        if any(key == "due_time" for key, _ in self.keys):
            fields.append("due_time")
        if rule.cycle == "daily":
            fields = ["cycle"] + fields[-1:] if "due_time" in fields else ["cycle"]
        return [f"{f} = {_toml_value(getattr(configured, f))}" for f in fields
                if f and getattr(configured, f) != getattr(rule, f)]

    def describe(self, configured: Reporting) -> str:
        """“每月25日前” → 每月25日17时（cycle = "monthly"，due_day = 25）: at the configured time
        when the sentence names none."""
        rule = self.reporting
        if not any(key == "due_time" for key, _ in self.keys):
            rule = dataclasses.replace(rule, due_time=configured.due_time)
        return f"“{self.sentence}” → {rule_text(rule)}（{self.toml().replace(chr(10), '，')}）"


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    return str(value)


def propose(lines: Iterable[str]) -> list[Proposal]:
    """The first reporting rule stated in each part of a notice: the cover text, then each annex."""
    sections: dict[str | None, list[str]] = {None: []}
    current: str | None = None
    for line in lines:
        heading = annex_heading(line.strip())
        if heading:
            current = f"A{heading[0]}"
            sections.setdefault(current, [])
            continue
        sections[current].append(line)
    found = []
    for annex, body in sections.items():
        proposal = _first_rule(annex, "".join(re.sub(r"\s+", "", unicodedata.normalize("NFKC", line)) for line in body))
        if proposal is not None:
            found.append(proposal)
    return found


def _first_rule(annex: str | None, text: str) -> Proposal | None:
    for sentence in re.split(r"(?<=[。；;！!])", text):
        if not _ABOUT_REPORTS.search(sentence):
            continue
        for cycle, due, pattern in _RULES:
            m = pattern.search(sentence)
            if m:
                return _proposal(annex, m.group(0), cycle, due, m.groups())
    return None


def _proposal(annex: str | None, phrase: str, cycle: str, due: str, groups: Sequence[str | None]) -> Proposal:
    keys: list[tuple[str, object]] = [("cycle", cycle)]
    rest = list(groups)
    if cycle == "weekly" or (cycle == "monthly" and due == "weekday"):
        weekday = rest.pop(0) or "五"
        keys.append(("due_weekday", int(weekday) if weekday.isdigit() else _WEEKDAY_NUMBERS[weekday]))
    elif due == "day":
        keys.append(("due_day", _number(rest.pop(0))))
    elif due == "workdays_after":
        keys.append(("due_workdays_after", _number(rest.pop(0))))
    elif due == "last_workday":
        keys.append(("due", "last_workday"))
    at = _time(rest) if rest else None
    if at is not None:
        keys.append(("due_time", at))
    values = {k: v for k, v in keys}
    reporting = Reporting(title="", cycle=cycle, due=due, due_weekday=int(values.get("due_weekday", 5)),
                          due_day=int(values.get("due_day", 0)),
                          due_workdays_after=int(values.get("due_workdays_after", 0)),
                          due_time=at or time(16, 0))
    return Proposal(annex, phrase, reporting, tuple(keys))


def _number(text: str | None) -> int:
    value = cn_int(text or "")
    return value if value is not None else 0


def _time(groups: Sequence[str | None]) -> time | None:
    """(上午/下午, hour, minutes) of a matched time, or None when the sentence gives none."""
    half, hour_text, minute_text = (list(groups) + [None, None, None])[:3]
    if hour_text is None:
        return None
    hour = _number(hour_text)
    if half in ("下午", "晚上") and hour < 12:
        hour += 12
    minute = 30 if minute_text == "半" else int(minute_text or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def notice_lines(path: Path) -> list[str]:
    """The prose of a notice file, line by line: a text file's lines, a .docx file's paragraphs.

    Workbooks (任务分解表) and files that cannot be read as text give nothing: the rule is
    then not proposed.
    """
    data = Path(path).read_bytes()
    if data.startswith(ZIP_MAGICS):
        try:
            return [p.text for p in docx.Document(str(path)).paragraphs]
        except Exception:  # noqa: BLE001 - not a Word document (a workbook): nothing to propose
            return []
    try:
        return decode_text(data, Path(path).name).splitlines()
    except Exception:  # noqa: BLE001 - not text (an old .doc or .xls): nothing to propose
        return []


def proposals_for(paths: Iterable[Path]) -> list[Proposal]:
    """Every notice's proposals; a programme part found in one notice is not repeated for the next."""
    found: dict[str | None, Proposal] = {}
    for path in paths:
        for proposal in propose(notice_lines(Path(path))):
            found.setdefault(proposal.annex, proposal)
    return list(found.values())


def configured(programme: Programme, proposal: Proposal) -> Reporting:
    """What ledger.toml says for the part of the programme a proposal is about."""
    return programme.reporting_for(proposal.annex)
