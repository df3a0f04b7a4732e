"""Read a 完成时限 into dates: the deadline, dated milestones, ongoing and done flags.

Notices write deadlines as free Chinese ("2022年12月底前", "6月底前，完成立项；9月底前，
完成招投标", "长期坚持"). The forms and their meaning are docs/registry-import.md. What the parser cannot settle
(an empty or unreadable 时限, "10月前") comes back as a Problem for the reviewer.

Recurring duties ("每月底前报送", "每季度通报一次") have no single deadline: they are
ongoing. Approximate dates (上旬, 中旬, "8.3" that may be a number cell's 8.30) take the
last day they can mean and are flagged for the reviewer; docs/registry-import.md lists
every form.

Two reading modes: the 完成时限 field itself is read leniently (any date phrase counts),
task prose strictly (a date counts only at the start of a clause, as in "，6月底前，完成…"),
so that "确保2025年底…" or "改造2000年底以前建成的小区" never become milestones.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.cnum import cn_int
from ledger.periods import cn_date
from ledger.problems import Problem, ProblemType
from ledger.registry.model import Milestone

DEADLINE_AMBIGUOUS = ProblemType(
    "deadline-ambiguous", "warning",
    "完成时限中的“{value}”含义不明确（到该月之前还是到该月底？），已暂按{date}（上月月底）处理，"
    "请核对并改为具体日期。",
)
DEADLINE_DEFAULTED = ProblemType(
    "deadline-defaulted", "warning",
    "未写完成时限，已采用本方案的默认完成时限{value}，请审核确认。",
)
DEADLINE_APPROXIMATE = ProblemType(
    "deadline-approximate", "warning",
    "完成时限中的“{value}”{rule}，已暂按{date}处理，请核对并改为具体日期。",
)
DEADLINE_UNPARSED = ProblemType(
    "deadline-unparsed", "warning",
    "无法从完成时限“{value}”中识别出日期，请填写具体完成日期（如2022年12月31日），或标为常态化。",
)


@dataclass(frozen=True)
class DeadlineInfo:
    """What a 完成时限 means: the final date, its steps, and whether it is ongoing or done."""

    text: str
    due: date | None
    ongoing: bool
    done: bool
    milestones: tuple[Milestone, ...]
    problems: tuple[Problem, ...]


_Y4 = r"(?:(?<![0-9])[12][0-9]{3}|[〇零○一二三四五六七八九]{4})"
_MONTH = r"(?:(?<![0-9])(?:1[0-2]|0?[1-9])|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9]|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_DATE = re.compile(
    rf"""
    (?P<range>(?P<ya>{_Y4})年?[—–\-－~～至到](?P<yb>{_Y4})年(?:底|末)?)
    |
    (?P<numeric>(?<![0-9.])(?P<ny>[12][0-9]{{3}})(?P<sep>[./\-])(?P<nm>1[0-2]|0?[1-9])(?P=sep)
        (?P<nd>3[01]|[12][0-9]|0?[1-9])(?![0-9])[日号]?)
    |
    (?:(?P<year>{_Y4})年|(?P<rel>今年|本年|明年|次年))?
    (?:
        (?P<month>{_MONTH})月(?!度)份?
            (?:(?P<day>{_DAY})[日号]|(?P<part>底|末|中旬|上旬|下旬|初|中))?
      | 第?(?P<quarter>[1-4一二三四])季度(?:末|底)?
      | (?P<half>上半年|下半年)(?:末|底)?
      | (?P<yend>年底|年末|年内|全年|年终|底|末|内|度)
    )?
    (?P<before>以前|之前|前(?!后))?
    """,
    re.VERBOSE,
)
#: "8.31" / "8/31" as the whole 完成时限 (a table cell): month and day of the notice's year.
_SHORT = re.compile(r"(?P<month>1[0-2]|0?[1-9])[./](?P<day>3[01]|[12][0-9]|0?[1-9])[日号]?(?:以前|之前|前)?[。.]?")
#: A duty repeated every period: ongoing, and a date right after it is no deadline.
_RECURRING = re.compile(r"每(?:个)?(?:半年|年度?|季度?|月|旬|周|星期|工作日|日|天)|逐月|按月|按季度?|按周|定期")
_YEAR_ONLY_ENDS = ("底", "末", "内", "度")  # "2023年底"; without a year these are no date
#: Part of a month → (day taken, why it is flagged): the last day the part can mean.
_PART_DAY = {
    "上旬": (10, "只写到上旬（按上旬最后一天10日计）"),
    "初": (10, "只写到月初（按10日计）"),
    "中旬": (20, "只写到中旬（按中旬最后一天20日计）"),
    "中": (20, "只写到月中（按20日计）"),
}
_HARD_SEPS = "。；;\n！!？?"
_SEPS = _HARD_SEPS + "，,、：:"
_START_WORDS = ("起", "以来", "开始", "始")
_STRICT_LEAD = re.compile(r"(?:并|且)?(?:要|须|必须|力争|争取|计划|预计|拟)?(?:于|在)?")
_ONGOING = re.compile(r"长期|持续|常态化|长效")
_ONGOING_ONLY = re.compile(
    r"(?:并|且|并且|其他|其余|之后|此后|以后)?(?:长期|持续|常态化|长效)(?:坚持|保持|开展|推进|进行|实施)?"
    r"(?:推进|开展)?[。.]?"
)
_RECURRING_CLAUSE = re.compile(rf"(?:并|且|此后|之后|以后|其后|其余)?(?:{_RECURRING.pattern})")
_DONE = re.compile(r"已(?:经)?(?:完成|办结)")
_SPACE = re.compile(r"\s+")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass
class _Hit:
    """One date phrase found in a text, with the clause it governs."""

    start: int
    end: int
    due: date
    phrase: str
    ambiguous: bool = False
    rule: str = ""  # why an approximate date was flagged ("" when exact)
    year_only: bool = False
    text: str = ""

    @property
    def label(self) -> str:
        """The milestone's text; the date as written when the clause says nothing more."""
        return self.text or self.phrase


def parse_deadline(
    text: str, *, issued: date, task_text: str = "", default: date | None = None
) -> DeadlineInfo:
    """Read a 完成时限 (and the dated steps in *task_text*); never raises on odd text."""
    raw = (text or "").strip()
    field = _normalize(raw)
    field_hits = _drop_fragments(_scan(field, issued.year, strict=False))
    recurring = list(_RECURRING.finditer(field))
    if recurring:
        field_hits = [h for h in field_hits if not any(r.end() == h.start for r in recurring)]
    short = None if field_hits else _short_date(field, issued.year)
    if short is not None:
        field_hits = [short]
    ongoing = bool(recurring) or _ONGOING.search(field) is not None
    done = _DONE.search(field) is not None
    task_hits = [] if done or not task_text else _scan(_normalize(task_text), issued.year, strict=True)
    if field_hits:
        # The 时限 column is authoritative: later dates in the prose are targets, not steps.
        cap = max(h.due for h in field_hits)
        task_hits = [h for h in task_hits if h.due <= cap]
    task_dates = {h.due for h in task_hits}
    hits = task_hits + [h for h in field_hits if h.due not in task_dates]

    problems = [DEADLINE_AMBIGUOUS(value=h.phrase, date=cn_date(h.due)) for h in hits if h.ambiguous]
    problems += [DEADLINE_APPROXIMATE(value=h.phrase, rule=h.rule, date=cn_date(h.due)) for h in hits if h.rule]
    due = max((h.due for h in hits), default=None)
    milestones: tuple[Milestone, ...] = ()
    if len(hits) >= 2 or (ongoing and hits):
        unique = dict.fromkeys(Milestone(h.due, h.label) for h in hits)
        milestones = tuple(sorted(unique, key=lambda m: m.due))
    if not field:
        if due is None and default is not None:
            due = default
            problems.append(DEADLINE_DEFAULTED(value=cn_date(default)))
    elif not field_hits and not ongoing and not done:
        problems.append(DEADLINE_UNPARSED(value=raw))
    if done and due is None:
        due = issued
    return DeadlineInfo(raw, due, ongoing, done, milestones, tuple(problems))


def milestones_in_text(text: str, *, year: int) -> list[Milestone]:
    """Dated steps in task prose ("…，6月底前，完成立项；9月底前，开工建设"), sorted by date.

    Strict reading: a date counts only at the start of a clause. *year* applies until
    the text names another one.
    """
    hits = _scan(_normalize(text or ""), year, strict=True)
    unique = dict.fromkeys(Milestone(h.due, h.label) for h in hits)
    return sorted(unique, key=lambda m: m.due)


def _normalize(text: str) -> str:
    """Full-width digits to ASCII; drop whitespace ("2022 年 6 月底前" is common in PDFs)."""
    return _SPACE.sub("", text.translate(_FULLWIDTH))


def _scan(text: str, base_year: int, *, strict: bool) -> list[_Hit]:
    hits: list[_Hit] = []
    year = base_year
    floor = 0
    for m in _DATE.finditer(text):
        if m.end() == m.start():
            continue
        resolved = _resolve(m, year, base_year, text)
        if resolved is None or text.startswith(_START_WORDS, m.end()):
            continue
        due, ambiguous, explicit = resolved
        if strict and not _clause_start(text, m, floor):
            continue
        if explicit is not None:
            year = explicit
        rule = _PART_DAY[m.group("part")][1] if m.group("part") in _PART_DAY else ""
        hits.append(_Hit(m.start(), m.end(), due, m.group(0), ambiguous, rule, _is_year_only(m)))
        floor = m.end()
    _attach_texts(text, hits)
    return hits


def _resolve(m: re.Match[str], year: int, base_year: int, text: str) -> tuple[date, bool, int | None] | None:
    """(date, ambiguous, explicit year) for one match, or None if it is no date."""
    g = m.group
    if g("range"):
        ya, yb = cn_int(g("ya")), cn_int(g("yb"))
        if ya is None or yb is None or not _sane_year(yb):
            return None
        return date(max(ya, yb), 12, 31), False, None
    if g("numeric"):
        try:
            return date(int(g("ny")), int(g("nm")), int(g("nd"))), False, int(g("ny"))
        except ValueError:
            return None  # 2025.2.30
    explicit: int | None = None
    if g("year"):
        explicit = cn_int(g("year"))
        if explicit is None or not _sane_year(explicit):
            return None
    elif g("rel"):
        explicit = base_year + (1 if g("rel") in ("明年", "次年") else 0)
    y = year if explicit is None else explicit
    if not _sane_year(y):
        return None
    if g("month"):
        if not g("month").isdigit() and explicit is None and not _free_standing(text, m.start()):
            return None  # "统一月度" is no January
        month = cn_int(g("month"))
        if month is None or not 1 <= month <= 12:
            return None
        last = calendar.monthrange(y, month)[1]
        if g("day"):
            day = cn_int(g("day"))
            if day is None or not 1 <= day <= last:
                return None
            return date(y, month, day), False, explicit
        if g("part"):
            return date(y, month, _PART_DAY[g("part")][0] if g("part") in _PART_DAY else last), False, explicit
        if g("before"):
            return date(y, month, 1) - timedelta(days=1), True, explicit
        return date(y, month, last), False, explicit
    if g("quarter"):
        end_month = 3 * (cn_int(g("quarter")) or 4)
        return date(y, end_month, calendar.monthrange(y, end_month)[1]), False, explicit
    if g("half"):
        return (date(y, 6, 30) if g("half") == "上半年" else date(y, 12, 31)), False, explicit
    if g("yend"):
        if g("yend") in _YEAR_ONLY_ENDS and explicit is None:
            return None
        return date(y, 12, 31), False, explicit
    if explicit is not None and g("year"):
        return date(y, 12, 31), False, explicit  # "2023年竣工"
    if g("rel") and g("before"):
        return date(y, 12, 31), False, explicit
    return None


def _short_date(field: str, year: int) -> _Hit | None:
    """A 完成时限 that is only "8.31" (a cell typed as text or as the number 8.31).

    A one-digit day of 1–3 may be a number cell that dropped its trailing zero
    ("8.30" stored as 8.3): taken as written and flagged.
    """
    m = _SHORT.fullmatch(field)
    if m is None:
        return None
    month, day = int(m.group("month")), int(m.group("day"))
    try:
        due = date(year, month, day)
    except ValueError:
        return None
    rule = ""
    if len(m.group("day")) == 1 and day <= 3:
        rule = f"可能是表格把“{month}.{day}0”存成了数字“{month}.{day}”"
    return _Hit(0, len(field), due, field, rule=rule)


def _sane_year(year: int) -> bool:
    return 1900 <= year <= 2200


def _free_standing(text: str, start: int) -> bool:
    return start == 0 or text[start - 1] in _SEPS or text[start - 1] in "（(“\"'"


def _is_year_only(m: re.Match[str]) -> bool:
    return not any(m.group(k) for k in ("range", "numeric", "month", "quarter", "half", "yend"))


def _clause_start(text: str, m: re.Match[str], floor: int) -> bool:
    """Strict mode: the date opens a clause and governs it ("，6月底前，完成…")."""
    sep = _last_sep(text, m.start(), floor)
    lead = text[max(floor, sep + 1 if sep is not None else floor):m.start()]
    if not _STRICT_LEAD.fullmatch(lead):
        return False
    specific = any(m.group(k) for k in ("range", "numeric", "day", "part", "quarter", "half", "yend"))
    return bool(m.group("before")) or specific or m.end() == len(text) or text[m.end()] in _SEPS


def _last_sep(text: str, start: int, floor: int) -> int | None:
    for i in range(start - 1, floor - 1, -1):
        if text[i] in _SEPS:
            return i
    return None


def _attach_texts(text: str, hits: list[_Hit]) -> None:
    """Give each hit its clause: the subject before the date plus what follows it."""
    starts = []
    for i, h in enumerate(hits):
        floor = hits[i - 1].end if i else 0
        sep = _last_sep(text, h.start, floor)
        starts.append(sep + 1 if sep is not None else (0 if i == 0 else h.start))
    for i, h in enumerate(hits):
        stop = len(text)
        for j in range(h.end, len(text)):
            if text[j] in _HARD_SEPS:
                stop = j
                break
        if i + 1 < len(hits):
            stop = min(stop, starts[i + 1])
        prefix = _trim(text[starts[i]:h.start])
        body = _trim(text[h.end:stop])
        parts = re.split(r"[，,]", body)
        kept = [p for p in parts if not _ONGOING_ONLY.fullmatch(p) and not _RECURRING_CLAUSE.match(p)]
        if len(kept) != len(parts):
            body = "，".join(kept)
        h.text = prefix + body


def _trim(text: str) -> str:
    return text.strip("，,、：:；;。.！!？? ")


def _drop_fragments(hits: list[_Hit]) -> list[_Hit]:
    """A bare year with nothing after it ("…2023年竣工。2022年") is a line wrapped mid-date."""
    if len(hits) < 2:
        return hits
    return [h for h in hits if not (h.year_only and not h.text)]

