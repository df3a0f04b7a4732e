"""Paragraph-style notices: numbered items carrying ``牵头单位：…`` label lines.

Text copied out of PDFs and Word files keeps the artefacts of the page: page numbers,
lines broken inside a sentence or a unit list, markdown debris, full- and half-width
colons and brackets. This module cleans the lines (running titles and page numbers
are removed first, :mod:`ledger.registry.pages`), joins broken ones back into
paragraphs, reads the header facts (title, 文号, issuer, date, annexes) and turns every
numbered item that carries a unit label into a :class:`RawTask`. Headings pass their
leaders and deadline down to the tasks under them; every other numbered item that
looks like a task becomes a problem, so no task is dropped without a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from ledger.cnum import FULLWIDTH_DIGITS, cn_int
from ledger.errors import InputError
from ledger.problems import Problem, ProblemType
from ledger.registry.pages import PAGE_NUMBER, physical_lines, strip_furniture
from ledger.registry.raw import (
    ITEM_NOT_IMPORTED,
    ITEM_WITHOUT_UNIT,
    LABEL_ALIASES,
    LEADER_FIELDS,
    UNIT_FIELDS,
    RawNotice,
    RawTask,
)

ORPHAN_LABEL = ProblemType(
    "notice-orphan-label", "warning", "“{value}”不属于任何编号条目，已忽略；请核对这一行上方的任务编号。"
)
DUPLICATE_NUMBER = ProblemType(
    "notice-duplicate-number", "warning", "任务编号“{value}”在同一附件中重复，已自动区分；请核对原文编号。"
)
#: What a section heading's labels pass on to the tasks under it that do not name their own.
INHERITED = (LEADER_FIELDS, ("完成时限",))

_CN = "一二三四五六七八九十"
_SPACES = str.maketrans({"\u3000": " ", "\xa0": " ", "\t": " ", "\u2002": " ", "\u2003": " "})

# One pattern per numbering style; the style names order nothing, the stack does.
_NUMBER_PATTERNS = (
    ("cn", re.compile(rf"^([{_CN}百]{{1,4}})\s*、\s*")),
    ("pcn", re.compile(rf"^[（(]\s*([{_CN}]{{1,3}})\s*[）)]\s*[、.．]?\s*")),
    ("num", re.compile(r"^(\d{1,3})\s*[.．、](?!\d)\s*")),
    ("pnum", re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*[、.．]?\s*")),
    ("circ", re.compile(r"^([\u2460-\u2473])\s*")),
)

_LABEL_WORD = "|".join(r"\s*".join(map(re.escape, k)) for k in sorted(LABEL_ALIASES, key=len, reverse=True))
_LABEL_LINE = re.compile(rf"^[【\[（(]?\s*({_LABEL_WORD})\s*[】\]]?\s*[：:]\s*")
_LABEL_MENTION = re.compile(rf"(?:{_LABEL_WORD})\s*[：:]")
_LABEL_ANY = re.compile(rf"(?:^|(?<=[\s；;，,。、）)]))[【\[]?({_LABEL_WORD})[】\]]?\s*[：:]")
_INLINE_OPEN = re.compile(rf"[（(]\s*(?=(?:{_LABEL_WORD})\s*[：:])")

_ANNEX = re.compile(rf"^附\s*件\s*(\d{{1,2}}|[{_CN}]{{1,3}})\s*(?:[：:．.、]\s*(.*))?$")
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff]{1,10})\s*[〔\[［(（【]\s*((?:19|20)\d{2})\s*[〕\]］)）】]\s*(\d{1,4})\s*号"
)
_DOC_LEAD_WORDS = ("根据", "依据", "按照", "详见", "参照", "印发", "据", "见", "按", "和", "及", "与", "的")
_DATE = re.compile(
    r"^[（(]?\s*(\d{4}|[〇零○一二三四五六七八九]{4})\s*年\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*日\s*[）)]?$"
)
_HTML_TAG = re.compile(r"</?(?:sub|sup|b|i|u|strong|em|span|font|p|br|div)\b[^>]*>", re.I)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_RULE = re.compile(r"^[-*_=—]{3,}$")
_FIELD_LIKE = re.compile(r"^[\u4e00-\u9fff]{2,6}\s*[：:]")  # 备注：… between label lines
_MD_PREFIX = re.compile(r"^(?:#{1,6}\s+|>\s?|[-*+]\s+)")
_TERMINAL = "。！？!?…"
_CONTINUING = "、，,；;（(“‘《〈【[-—"
_ORG_SUFFIX = ("政府", "办公室", "委员会", "小组", "指挥部", "局", "委", "厅", "部", "办", "中心")
_TITLE_ENDS = ("通知", "方案", "办法", "意见", "细则", "决定", "分解表", "清单", "任务表")
#: A physical line at least this long that ends without a full stop was wrapped by the page.
WRAP_WIDTH = 20


class TableBlock(Protocol):
    """A task table met in the body (Word): read where it stands, in the annex in force."""

    def tasks(self, annex: int | None, headings: list[str]) -> tuple[list[RawTask], list[Problem]]: ...


@dataclass
class Paragraph:
    """Physical lines joined back into one logical paragraph (or a table in its place)."""

    line: int
    text: str
    last: str  # the last physical line, to judge whether the next one continues it
    table: TableBlock | None = None


@dataclass
class _Item:
    """A numbered item while the notice is read; becomes a task when it carries a unit."""

    style: str
    num: int
    label: str
    head: str
    line: int
    annex: int | None
    parents: list[_Item]
    parts: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    folded: bool = False  # a sub-point (（1）/①) whose text went into its parent task

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def path(self) -> tuple[int, ...]:
        return tuple(p.num for p in self.parents) + (self.num,)


def clean_line(raw: str) -> str | None:
    """Strip markdown/HTML debris; None for a page-number line."""
    line = raw.translate(_SPACES).translate(FULLWIDTH_DIGITS).strip()
    line = _HTML_TAG.sub("", line)
    if line and PAGE_NUMBER.match(line):
        return None
    if _RULE.match(line):
        return ""
    line = _MD_ESCAPE.sub(r"\1", line)
    line = line.replace("**", "").replace("__", "")
    line = _MD_PREFIX.sub("", line).strip()
    return line


def split_number(text: str) -> tuple[str, int, str, str] | None:
    """``"（三）加快…"`` → ``("pcn", 3, "（三）", "加快…")``; None for an unnumbered line."""
    for style, pattern in _NUMBER_PATTERNS:
        m = pattern.match(text)
        if m:
            token = m.group(1)
            num = ord(token) - 0x245F if style == "circ" else cn_int(token)
            if num is None or num == 0:
                return None
            return style, num, number_label(style, token), text[m.end():].strip()
    return None


def number_label(style: str, token: str) -> str:
    """The number as a heading shows it: 一、 / （一） / 1. / （1） / ①."""
    return {"cn": f"{token}、", "pcn": f"（{token}）", "num": f"{token}.", "pnum": f"（{token}）"}.get(style, token)


def annex_heading(text: str) -> tuple[int, str] | None:
    """``"附件 1"`` → ``(1, "")``; the cover letter's ``"附件：1. …"`` list is not a heading."""
    m = _ANNEX.match(text)
    if not m:
        return None
    num = cn_int(m.group(1))
    return (num, tidy_title(m.group(2) or "")) if num else None


def parse_date(text: str) -> date | None:
    """A line that is only a date, ``2022年5月7日`` or ``二〇二二年五月七日``."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    parts = [cn_int(g) for g in m.groups()]
    if None in parts:
        return None
    try:
        return date(parts[0], parts[1], parts[2])  # type: ignore[arg-type]
    except ValueError:
        return None


def find_doc_number(texts: Iterable[str], whole_line_only: bool = False) -> str:
    """The first 文号 in *texts*, brackets normalised to 〔〕: ``洛政〔2022〕17号``."""
    for text in texts:
        compact = re.sub(r"\s+", "", text)
        for m in _DOC_NUMBER.finditer(compact):
            if whole_line_only and m.group(0) != compact.strip("（()）"):
                continue
            prefix = m.group(1)
            for word in _DOC_LEAD_WORDS:
                if prefix.startswith(word) and len(prefix) > len(word):
                    prefix = prefix[len(word):]
            return f"{prefix}〔{m.group(2)}〕{int(m.group(3))}号"
    return ""


def tidy_title(text: str) -> str:
    """Remove the spaces that justified titles (and PDF text) put around Chinese characters.

    Between two Chinese characters, and between a Chinese character and a digit
    ("某某县 2025 年" → "某某县2025年"); spaces inside Latin text stay.
    """
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[^\x00-\xff])\s+(?=[^\x00-\xff0-9])|(?<=[^\x00-\xff0-9])\s+(?=[0-9])"
                  r"|(?<=[0-9])\s+(?=[^\x00-\xff])", "", text)


def split_labels(text: str) -> list[tuple[str, str]]:
    """``"牵头单位：A；责任单位：B"`` → ``[("牵头单位", "A"), ("责任单位", "B")]``.

    A whole bracketed group, ``（责任单位：A；完成时限：B）``, loses its brackets.
    """
    bracketed = re.fullmatch(r"\s*[（(](.*)[）)]\s*[。.]?\s*", text)
    if bracketed and _LABEL_LINE.match(bracketed.group(1).strip()):
        text = re.sub(r"[）)]\s*[（(]", "；", bracketed.group(1))  # （牵头单位：A）（配合单位：B）
    matches = list(_LABEL_ANY.finditer(text))
    out = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        label = LABEL_ALIASES[re.sub(r"\s+", "", m.group(1))]
        out.append((label, clean_value(text[m.end():end])))
    return out


def clean_value(value: str) -> str:
    """A label's value: whitespace collapsed, trailing separators dropped."""
    return re.sub(r"\s+", " ", value).strip().rstrip("、，,；; ").strip()


def _is_start(text: str) -> bool:
    """A line that begins a new paragraph whatever the line before it was."""
    return bool(
        split_number(text)
        or _LABEL_LINE.match(text)
        or annex_heading(text)
        or parse_date(text)
        or text.startswith(("附件：", "附件:"))
        or find_doc_number([text], whole_line_only=True)
    )


def _joiner(prev: Paragraph, text: str, blank_before: bool) -> str | None:
    """How *text* continues *prev* ("" for a wrapped line, "、" for one unit per line), or None."""
    if _is_start(text):
        return None
    last = prev.last.rstrip()
    if last[-1] in _CONTINUING:
        return ""
    label = _LABEL_LINE.match(prev.text)
    if label and not prev.text[label.end():].strip():
        return ""  # "牵头单位：" with its value on the next line
    tail = last.rstrip("”’\"」』")
    if not tail or tail[-1] in _TERMINAL or last[-1] in "：:":
        return None
    if len(prev.text) <= 80 and re.sub(r"\s+", "", tail).endswith(_TITLE_ENDS):
        return None  # a title line: 关于印发…的通知, 附件 1 …实施方案
    if len(last) >= WRAP_WIDTH:
        return ""
    if label and not blank_before and not text.endswith("。") and not _FIELD_LIKE.match(text):
        field_name = LABEL_ALIASES[re.sub(r"\s+", "", label.group(1))]
        return "、" if field_name in UNIT_FIELDS or field_name.endswith("领导") else ""
    return None


def _join(left: str, right: str, joiner: str = "") -> str:
    left = left.rstrip()
    if not joiner and left[-1:].isascii() and left[-1:].isalpha() and right[:1].isascii() and right[:1].isalpha():
        joiner = " "
    return left + joiner + right


def paragraphs(blocks: Iterable[str | TableBlock | None]) -> list[Paragraph]:
    """Clean every line and join wrapped ones; blank lines do not end a paragraph by themselves.

    A None block is a line removed as page furniture: it keeps its line number but is
    neither text nor a blank line.
    """
    paras: list[Paragraph] = []
    blank_before = False
    for number, block in enumerate(blocks, start=1):
        if block is None:
            continue
        if not isinstance(block, str):
            paras.append(Paragraph(number, "", "", block))
            continue
        line = clean_line(block)
        if line is None:
            continue  # a page number is no blank line either
        if not line:
            blank_before = True
            continue
        prev = paras[-1] if paras and paras[-1].table is None else None
        joiner = _joiner(prev, line, blank_before) if prev is not None else None
        if joiner is not None:
            prev.text = _join(prev.text, line, joiner)
            prev.last = line
        else:
            paras.append(Paragraph(number, line, line))
        blank_before = False
    return paras


def _sentence_head(text: str) -> str:
    """A heading is its first sentence: （一）细化措施责任。各有关单位要… → 细化措施责任."""
    head = text.split("。", 1)[0]
    return head.strip() or text


def _inline_labels(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split ``…。（牵头单位：A；责任单位：B）`` or ``…。牵头单位：A`` off an item's text."""
    body = text.rstrip().rstrip("。.").rstrip()
    if body.endswith(("）", ")")):
        for m in reversed(list(_INLINE_OPEN.finditer(body))):
            labels = split_labels(body[m.end() : -1])
            if labels:
                return body[: m.start()].rstrip(), labels
    m = _LABEL_ANY.search(text)
    if m and m.start() > 0 and text[m.start() - 1] in "。；; ":
        return text[: m.start()].rstrip(), split_labels(text[m.start() :])
    return text, []


class _Reader:
    """Walks the paragraphs once, keeping the stack of open numbered items."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.annex: int | None = None
        self.annexes: dict[int, str] = {}
        self.stack: list[_Item] = []
        self.entries: list[_Item | RawTask] = []  # numbered items and table tasks, in body order
        self.current: _Item | None = None
        self.problems: list[Problem] = []
        self.want_annex_title = False
        self.table_parents: dict[int, list[_Item]] = {}

    def feed(self, para: Paragraph) -> None:
        if para.table is not None:
            self._table(para.table)
            return
        text = para.text
        annex = annex_heading(text)
        if annex:
            self.annex, title = annex
            self.annexes[self.annex] = title
            self.want_annex_title = not title
            self.stack, self.current = [], None
            return
        if self.want_annex_title:
            self.want_annex_title = False
            if not split_number(text) and not _LABEL_LINE.match(text):
                self.annexes[self.annex] = tidy_title(text)  # type: ignore[index]
                return
        numbered = split_number(text)
        if numbered:
            self._open(para, *numbered)
        elif _LABEL_LINE.match(text):
            self._label(para)
        elif self.current is None:
            return
        elif not self.current.fields:
            text, inline = _inline_labels(text)
            self.current.parts.append(text)
            self.current.head = self.current.head or _sentence_head(text)
            for name, value in inline:
                _add_field(self.current.fields, name, value)
        elif not _FIELD_LIKE.match(text):
            self.current = None  # prose after the labels: the item is over

    def _open(self, para: Paragraph, style: str, num: int, label: str, rest: str) -> None:
        styles = [i.style for i in self.stack]
        if style in styles:
            del self.stack[styles.index(style):]
        rest, inline = _inline_labels(rest)
        item = _Item(style, num, label, _sentence_head(rest), para.line, self.annex, list(self.stack), [rest])
        for name, value in inline:
            _add_field(item.fields, name, value)
        self.stack.append(item)
        self.entries.append(item)
        self.current = item

    def _label(self, para: Paragraph) -> None:
        if self.current is None:
            self.problems.append(ORPHAN_LABEL(file=self.source, row=para.line, value=para.text[:40]))
            return
        if not self.current.fields:
            self.current = self._fold_sub_points(self.current)
        for name, value in split_labels(para.text):
            _add_field(self.current.fields, name, value)

    def _fold_sub_points(self, item: _Item) -> _Item:
        """（1）…（2）… listed inside a task: labels after the last one belong to the task above."""
        if item.style not in ("pnum", "circ") or not item.parents or item.parents[-1].fields:
            return item
        parent = item.parents[-1]
        siblings = [e for e in self.entries if isinstance(e, _Item) and e.parents and e.parents[-1] is parent]
        if any(s.fields or s.style != item.style for s in siblings):
            return item
        for sub in siblings:
            sub.folded = True
            parent.parts.append(sub.label + sub.text)
        del self.stack[self.stack.index(parent) + 1 :]
        return parent

    def _table(self, table: TableBlock) -> None:
        headings = [p.label + p.head for p in self.stack]
        tasks, problems = table.tasks(self.annex, headings)
        for task in tasks:
            self.table_parents[id(task)] = list(self.stack)
        self.entries.extend(tasks)
        self.problems.extend(problems)
        self.current = None

    def tasks(self) -> list[RawTask]:
        """Items that carry a unit label, keyed by their full numbering path for now.

        Tasks take the leaders and deadline of the nearest heading above them that has
        them, unless they name their own; every other numbered item that looks like a
        task is reported (:meth:`_not_imported`), so none is lost without a word.
        """
        done: list[tuple[RawTask, _Item | None, list[_Item]]] = []
        for entry in self.entries:
            if isinstance(entry, RawTask):
                done.append((entry, None, self.table_parents.get(id(entry), [])))
            elif not entry.folded and any(entry.fields.get(f) for f in UNIT_FIELDS):
                done.append((self._raw_task(entry), entry, entry.parents))
        for task, _, parents in done:
            _inherit(task, parents)
        self.problems.extend(self._not_imported(done))
        return [task for task, _, _ in done]

    def _raw_task(self, item: _Item) -> RawTask:
        return RawTask(
            annex=item.annex,
            headings=[p.label + p.head for p in item.parents],
            number=item.label,
            key=item.path(),
            text=item.text.strip(),
            fields=dict(item.fields),
            line=item.line,
            source=self.source,
        )

    def _not_imported(self, done: list[tuple[RawTask, _Item | None, list[_Item]]]) -> list[Problem]:
        """One problem per numbered item that is neither a task nor a heading over tasks.

        Reported: items with labels but no unit, items at the level of imported tasks
        (same annex, same top section, same numbering styles) and items whose text holds
        a label it could not read. Prose sections without any task (总体要求, 保障措施)
        are structure, not lost tasks.
        """
        headings = {id(p) for _, _, parents in done for p in parents}
        settled = headings | {id(item) for _, item, _ in done if item is not None}
        levels = {_level(item) for _, item, _ in done if item is not None}
        flagged: set[int] = set()
        problems = []
        for item in self.entries:
            if not isinstance(item, _Item) or item.folded or id(item) in settled:
                continue
            where = {"file": self.source, "row": item.line, "value": item.label + item.head[:30]}
            if item.fields:
                problems.append(ITEM_WITHOUT_UNIT(**where))
            elif any(id(p) in flagged for p in item.parents):
                continue
            elif mention := _LABEL_MENTION.search(item.text):
                problems.append(ITEM_NOT_IMPORTED(reason=f"的正文中写有“{mention.group(0)}”", **where))
            elif _level(item) in levels:
                problems.append(ITEM_NOT_IMPORTED(reason="与已导入的任务同级", **where))
            else:
                continue
            flagged.add(id(item))
        return problems


def _level(item: _Item) -> tuple[int | None, tuple[str, ...], int | None]:
    """Where an item stands: annex, numbering styles down to it, and its top section."""
    return item.annex, (*(p.style for p in item.parents), item.style), id(item.parents[0]) if item.parents else None


def _inherit(task: RawTask, parents: Sequence[_Item]) -> None:
    """Fill the task's leaders / deadline from the nearest heading that names them."""
    for names in INHERITED:
        if any(task.fields.get(n) for n in names):
            continue
        for parent in reversed(parents):
            given = {n: parent.fields[n] for n in names if parent.fields.get(n)}
            if given:
                task.fields.update(given)
                break


def _add_field(fields: dict[str, str], name: str, value: str) -> None:
    if not value:
        fields.setdefault(name, "")
    elif fields.get(name):
        fields[name] = f"{fields[name]}；{value}"
    else:
        fields[name] = value


def assign_keys(tasks: Sequence[RawTask]) -> list[Problem]:
    """Shorten each task's key (its full numbering path) to what is unique within its annex.

    The task's own number when that alone is unique (global numbering 1..98); else the
    numbering below the levels all tasks share (二、工作任务 → (1, 2) for 2. under （一））;
    else the full path, with a counter added to true duplicates (reported).
    """
    problems: list[Problem] = []
    groups: dict[int | None, list[RawTask]] = {}
    for task in tasks:
        groups.setdefault(task.annex, []).append(task)
    for group in groups.values():
        paths = [t.key or (i,) for i, t in enumerate(group, start=1)]
        keys = [p[-1:] for p in paths]
        if len(set(keys)) < len(keys):
            shared = _common_prefix(paths)
            keys = [p[shared:] for p in paths]
        seen: set[tuple[int, ...]] = set()
        for task, key in zip(group, keys, strict=True):
            if key in seen:
                problems.append(DUPLICATE_NUMBER(file=task.source, row=task.line or None, value=task.number))
                extra = 2
                while key + (extra,) in seen:
                    extra += 1
                key = key + (extra,)
            seen.add(key)
            task.key = key
    return problems


def _common_prefix(paths: Sequence[tuple[int, ...]]) -> int:
    limit = min(len(p) for p in paths) - 1
    n = 0
    while n < limit and len({p[n] for p in paths}) == 1:
        n += 1
    return n


def read_header(paras: Sequence[Paragraph], notice: RawNotice) -> None:
    """Fill title, 文号, issuer and date from the cover letter (and the closing date line)."""
    texts = [p.text for p in paras]
    zone = texts[: _header_end(texts)]
    notice.doc_number = find_doc_number(zone, whole_line_only=True) or find_doc_number(
        t for t in zone if len(t) <= 60
    )
    notice.issued = next((d for d in map(parse_date, texts) if d), None)
    title_at = next((i for i, t in enumerate(zone) if _is_notice_title(t)), None)
    if title_at is None:
        notice.title = next((tidy_title(t) for t in zone if _looks_like_title(t)), "")
        return
    title = zone[title_at]
    for more in zone[title_at + 1 : title_at + 3]:
        if re.sub(r"\s+", "", title).endswith(_TITLE_ENDS) or more.endswith(("：", ":")) or _is_start(more):
            break
        title += more
    title = tidy_title(title)
    issuer, _, rest = title.partition("关于")
    notice.title = _programme_title(rest) or title
    if issuer.strip():
        notice.issuer = issuer.strip()
    else:
        before = [t for t in zone[max(0, title_at - 4) : title_at] if _looks_like_issuer(t)]
        notice.issuer = tidy_title(before[-1]).removesuffix("文件") if before else ""


def _header_end(texts: Sequence[str]) -> int:
    for i, t in enumerate(texts):
        if annex_heading(t) or _LABEL_LINE.match(t):
            return i
        numbered = split_number(t)
        if numbered and numbered[0] != "num":
            return i
    return len(texts)


def _is_notice_title(text: str) -> bool:
    head, sep, _ = re.sub(r"\s+", "", text).partition("关于")
    return bool(sep) and len(head) <= 30 and not re.search(r"[，,。；;：:]", head)


def _looks_like_title(text: str) -> bool:
    return len(text) <= 60 and text[-1] not in _TERMINAL + "：:，," and not _is_start(text)


def _looks_like_issuer(text: str) -> bool:
    compact = tidy_title(text).removesuffix("文件")
    return len(compact) <= 30 and not _is_start(text) and compact.endswith(_ORG_SUFFIX)


def _programme_title(rest: str) -> str:
    """关于印发《X》的通知 → X; 关于印发X的通知 → X."""
    quoted = re.search(r"《(.+)》", rest)
    if quoted:
        return quoted.group(1)
    m = re.match(r"^(?:印发|转发|下达)(.+?)的?通知$", rest)
    return m.group(1) if m else ""


def parse_blocks(blocks: Iterable[str | TableBlock | None], source: str) -> RawNotice:
    """Everything the lines (and tables) say; keys are still full paths (see :func:`finish`)."""
    paras = paragraphs(blocks)
    notice = RawNotice(source=source)
    read_header([p for p in paras if p.table is None], notice)
    reader = _Reader(source)
    for para in paras:
        reader.feed(para)
    notice.tasks = reader.tasks()
    notice.annexes = dict(reader.annexes)
    notice.problems = reader.problems
    return notice


def finish(notice: RawNotice) -> RawNotice:
    """Give the tasks their final keys; a notice without any task is an input error."""
    if not notice.tasks:
        raise no_tasks_error(notice.source)
    notice.problems.extend(assign_keys(notice.tasks))
    return notice


def no_tasks_error(source: str) -> InputError:
    return InputError(
        f"未在 {source} 中找到任何任务。任务应是带“牵头单位：”“责任单位：”等标注的编号条目，"
        "或含“重点任务”“牵头单位”等列的任务分解表。请检查是否选对了文件；"
        "通知没有逐项标注单位时，请先整理成任务分解表（Excel）再导入。"
    )


def text_lines(text: str) -> list[str | None]:
    """A text notice's lines as an editor numbers them, page furniture set to None."""
    return strip_furniture(physical_lines(text), _is_body_line)


def _is_body_line(text: str) -> bool:
    return bool(split_number(text) or _LABEL_LINE.match(text))


def parse_text(text: str, source: str) -> RawNotice:
    """Parse a paragraph-style notice; raise :class:`InputError` when it holds no task."""
    return finish(parse_blocks(text_lines(text), source))
