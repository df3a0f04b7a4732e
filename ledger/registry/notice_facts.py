"""What a notice says about its programme, for ``ledger programme add`` (docs/programme-add.md).

文号, issuer, 成文日期 and title come from the notice's header (:mod:`ledger.registry.notice`);
the scope is the issuer's area; the reporting requirement is the sentence that states the
due rule (:mod:`ledger.registry.reporting_rule`), and from it the receiving office and its
e-mail; the bulletin cadence is the sentence that says how often the office reports back
(通报). Each value is kept with the notice's own words, or marked as a default to review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from ledger.areas import area_of, level_of
from ledger.registry.notice import annex_heading
from ledger.registry.raw import RawNotice
from ledger.registry.reporting_rule import Proposal, notice_lines, propose
from ledger.registry.sources import read_notice

Value = str | int | date | time
#: what a title keeps of the document's name: 宜川县2024年重点工作任务分解方案 → 宜川县2024年重点工作任务
_TITLE_TAILS = ("实施方案", "工作方案", "分解方案", "责任分解", "任务分解表", "分解表")
_OFFICE = re.compile(r"(?:报送|上报|报告|汇报|报|发送|提交|送)(?:至|给|到)?"
                     r"([\u4e00-\u9fff]{1,16}?(?:督查督办室|督查督办科|督查室|督查科|督办室|督办科|督查局|领导小组办公室"
                     r"|办公室|工作专班|专班))(?![\u4e00-\u9fff]*(?:督查室|督查科|督办室))")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CONTACT = re.compile(r"联\s*系\s*人\s*[：:]\s*([\u4e00-\u9fff]{2,4})")
_PHONE = re.compile(r"(?:联系电话|电\s*话)\s*[：:]\s*([0-9（）()\-－—]{7,20})")
_ABOUT_BULLETIN = re.compile(r"督查|督办|考核|台账")
_BULLETIN = (
    ("weekly", re.compile(r"(?:每周|按周|逐周|周)[\u4e00-\u9fff]{0,4}?通报")),
    ("monthly", re.compile(r"(?:每月|按月|逐月|月度|月)[\u4e00-\u9fff]{0,4}?通报")),
    ("quarterly", re.compile(r"(?:每季度|每季|按季度|按季|季度|季)[\u4e00-\u9fff]{0,4}?通报")),
)
_REPORTS = ("报送", "上报", "汇报", "报告")


@dataclass(frozen=True)
class Fact:
    """One key of the programme's table: its value, the notice's words it was read from ("" for
    a default), and what the office should check."""

    key: str
    value: Value
    source: str = ""
    review: str = ""


@dataclass
class NoticeFacts:
    """Everything ``programme add`` writes for one notice, in ledger.toml's order."""

    path: Path
    notice: RawNotice
    facts: list[Fact] = field(default_factory=list)
    #: what the notice does not say (a key left to its default or out): for the office to fill in
    missing: list[str] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    def value(self, key: str, default: Value | None = None) -> Value | None:
        return next((f.value for f in self.facts if f.key == key), default)


def programme_title(title: str) -> str:
    """The programme's name as mail and workbooks say it: the document's title without 实施方案."""
    for tail in _TITLE_TAILS:
        if title.endswith(tail) and len(title) > len(tail) + 2:
            return title[: -len(tail)]
    return title


def sentences(lines: Sequence[str]) -> list[str]:
    """The notice's sentences as written (line breaks and spaces removed), split at 。；！."""
    text = "".join(re.sub(r"\s+", "", line) for line in lines)
    return [s for s in re.split(r"(?<=[。；;！!])", text) if s]


def main_part(lines: Sequence[str]) -> list[str]:
    """The lines before the first annex (附件1): contacts written in an annex are that annex's."""
    end = next((i for i, line in enumerate(lines) if annex_heading(line.strip())), len(lines))
    return list(lines[:end])


def requirement_sentence(found: Sequence[str], phrase: str) -> str:
    """The sentence in which *phrase* (每月25日前) requires the reports, without its e-mail aside."""
    for sentence in found:
        if phrase in unicodedata.normalize("NFKC", sentence) and any(w in sentence for w in _REPORTS):
            text = re.sub(r"[（(][^（）()]*(?:@|邮箱|电话)[^（）()]*[）)]", "", sentence)
            return text.rstrip("。；;！! ")
    return ""


def receiving_office(sentence: str, scope: str) -> tuple[str, str]:
    """The office the reports go to and the words naming it (报送县政府督查室 → 宜川县政府督查室:
    the level word made the scope's name); ("", "") when the sentence names none."""
    m = _OFFICE.search(sentence)
    if not m:
        return "", ""
    office = m.group(1)
    level = level_of(scope)
    if level and office.startswith(level) and not office.startswith(scope):
        office = scope + office[1:]
    return office, m.group(0)


def bulletin_cadence(found: Sequence[str]) -> tuple[str, str] | None:
    """(cadence, the words) of the first sentence on the office's 通报 (每月通报一次, 月考核通报)."""
    for sentence in found:
        if "通报" not in sentence or not _ABOUT_BULLETIN.search(sentence):
            continue
        hits = [(m.start(), cadence, m.group(0)) for cadence, pattern in _BULLETIN if (m := pattern.search(sentence))]
        if hits:
            _, cadence, words = min(hits)
            return cadence, words
    return None


def read_facts(path: Path, *, scope: str = "", issued: date | None = None) -> NoticeFacts:
    """What *path* says about its programme; *scope* and *issued* override the notice."""
    notice = read_notice(Path(path), require_tasks=False)
    lines = notice_lines(Path(path))
    found = sentences(lines)
    out = NoticeFacts(Path(path), notice, proposals=propose(lines))
    add, missing = out.facts.append, out.missing.append
    title = programme_title(notice.title) if notice.title else Path(path).stem
    add(Fact("title", title, notice.title, "" if notice.title else "通知中没有识别出标题，暂用文件名"))
    if notice.doc_number:
        add(Fact("doc_number", notice.doc_number, notice.doc_number))
    else:
        missing("doc_number（文号）")
    if notice.issuer:
        add(Fact("issuer", notice.issuer, notice.issuer))
    else:
        missing("issuer（发文机关）")
    when = issued or notice.issued
    if when is None:
        missing("issued（成文日期）")
    else:
        add(Fact("issued", when, "" if issued else f"{when.year}年{when.month}月{when.day}日"))
    area = scope or area_of(notice.issuer) or area_of(notice.title)
    if area:
        source = "" if scope else notice.issuer if area_of(notice.issuer) else notice.title
        add(Fact("scope", area, source, "" if scope else f"由“{source}”得出：通知中的单位简称按这一层级范围理解"))
    else:
        missing("scope（层级范围，如 宜川县）")
    rule = next((p for p in out.proposals if p.annex is None), None)
    sentence = requirement_sentence(found, rule.sentence) if rule else ""
    _rule_facts(out, rule)
    office, words = receiving_office(sentence, area)
    if office:
        add(Fact("office", office, words, "" if office in words else "已按层级范围补全名称，它印在台账上，也是邮件的发件人名称"))
    else:
        missing("office（接收台账的单位，如 县政府督查室）")
    _contact_facts(out, sentence, "\n".join(main_part(lines)))
    cadence = bulletin_cadence(found)
    if cadence:
        add(Fact("bulletin", cadence[0], cadence[1]))
    else:
        add(Fact("bulletin", "monthly", "", "通知中没有找到通报周期，按每月通报"))
    if sentence:
        add(Fact("requirement", sentence, sentence))
    return out


def _rule_facts(out: NoticeFacts, rule: Proposal | None) -> None:
    """cycle, due_… and due_time as the notice states them, else the defaults, marked."""
    if rule is None:
        out.facts += [Fact("cycle", "weekly", "", "通知中没有找到报送时间要求（如“每月25日前”），暂按每周报送"),
                      Fact("due_weekday", 5, "", "暂按每周五"), Fact("due_time", time(16, 0), "", "暂按16:00")]
        out.missing.append("报送周期和截止时间（通知中没有找到，暂按每周五16:00）")
        return
    for key, value in rule.keys:
        out.facts.append(Fact(key, value, rule.sentence))
    if not any(key == "due_time" for key, _ in rule.keys):
        out.facts.append(Fact("due_time", time(16, 0), "", "通知没有写明时刻，按16:00"))


def _contact_facts(out: NoticeFacts, sentence: str, text: str) -> None:
    """The receiving office's contact, phone and e-mail: the requirement's own e-mail first, then
    what the programme's part of the notice (*text*, no annex) gives."""
    for key, pattern in (("contact", _CONTACT), ("phone", _PHONE)):
        m = pattern.search(text)
        if m:
            out.facts.append(Fact(key, m.group(1), m.group(0)))
    m = _EMAIL.search(sentence) or _EMAIL.search(text)
    if m:
        out.facts.append(Fact("email", m.group(0), m.group(0)))
    else:
        out.missing.append("email（接收台账的邮箱，也是报送通知邮件的发件地址；ledger mail drafts 需要它）")
