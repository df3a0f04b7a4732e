"""The one definition of the 工作台账 workbook, shared by the writer and the reader.

Columns, which of them the tool fills and locks, the status vocabulary with its
synonyms, the percentage rule, the metadata keys and the layout version all live
here, so that ``generate`` and ``collect`` cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.cnum import cn_int
from ledger.fsutil import safe_filename
from ledger.periods import Period, cn_date
from ledger.registry.model import Milestone, Task

LAYOUT_VERSION = 4
#: versions whose returned workbooks the reader still takes (columns are found by header):
#: version 2 added the locked 序时进度 column, version 3 put the reference columns last,
#: version 4 keys the checksums (HMAC under the workspace's secret) and seals the task list
#: (``mac``); the checksums of versions 1–3 are plain hashes that anyone can recompute
READABLE_LAYOUT_VERSIONS = (1, 2, 3, 4)
#: the first version whose checksums are keyed
KEYED_LAYOUT_VERSION = 4

LEDGER_SHEET = "工作台账"
GUIDE_SHEET = "填报说明"
META_SHEET = "_ledger_meta"

# Zero-based worksheet rows (xlsxwriter convention); +1 for Excel row numbers.
TITLE_ROW = 0
INFO_ROW = 1  # 填报单位（盖章）, 填报人, 联系电话; the next row: 填报时间, 分管领导（签字）
HEADER_ROW = 3
FIRST_TASK_ROW = 4


@dataclass(frozen=True)
class Column:
    """One column of the ledger sheet.

    ``locked`` columns are filled by the tool and protected; the others are typed by
    the unit. ``aliases`` are other header texts the reader accepts for the column
    (units retype headers, add line breaks, drop the bracketed part). ``reference``
    columns (task details a unit reads but does not need while filling) sit after the
    others and print on a page of their own when the paper is too narrow for all
    (docs/printing.md).
    """

    key: str
    header: str
    width: float
    locked: bool
    aliases: tuple[str, ...] = ()
    optional: bool = False
    kind: str = "text"  # text | percent | status
    reference: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", 4, True),
    Column("task_id", "任务编号", 9, True),
    Column("text", "重点任务", 26, True, ("任务内容", "工作任务", "重点工作")),
    Column("schedule", "序时进度", 7, True, ("序时进度（%）",), optional=True),
    Column("progress", "本期进展情况", 20, False, ("本期进展", "进展情况", "工作进展")),
    Column("cumulative", "累计完成情况（形象进度）", 9, False, ("累计完成情况", "形象进度")),
    Column("percent", "完成进度（%）", 6, False, ("完成进度", "完成比例", "完成进度%"), kind="percent"),
    Column("status", "推进状态", 7, False, ("状态", "进展状态"), kind="status"),
    Column("issues", "存在问题及原因", 11, False, ("存在问题", "存在的问题")),
    Column("next_steps", "下步工作计划", 11, False, ("下步计划", "下一步工作计划")),
    Column("coordination", "需协调解决事项", 10, False, ("需协调事项", "需协调解决的问题")),
    Column("note", "备注", 5, False),
    Column("deadline", "完成时限", 12, True, ("时限",), reference=True),
    Column("lead", "牵头单位", 10, True, reference=True),
    Column("milestones", "时间节点", 13, True, ("节点",), reference=True),
    Column("previous", "上期进展", 16, True, ("上期进展情况",), reference=True),
    Column("category", "所属类别", 10, True, ("类别", "专项行动"), reference=True),
    Column("leaders", "牵头领导", 8, True, ("责任领导",), optional=True, reference=True),
    Column("cooperating", "配合单位", 10, True, reference=True),
    Column("responsible", "责任单位", 10, True, reference=True),
)
#: the columns repeated in front of the reference columns when they print on a page of their own
KEY_COLUMNS = ("seq", "task_id", "text")

BY_KEY = {c.key: c for c in COLUMNS}
LOCKED_KEYS = tuple(c.key for c in COLUMNS if c.locked)
INPUT_KEYS = tuple(c.key for c in COLUMNS if not c.locked)
# Locked content that identifies a row; the checksum covers exactly these.
CHECKSUM_KEYS = ("task_id", "text", "lead", "deadline", "milestones")

#: the signature rows above the headers, one tuple per row (the unit first, filled in by the tool)
INFO_LINES = (("填报单位（盖章）", "填报人", "联系电话"), ("填报时间", "分管领导（签字）"))
INFO_FIELDS = tuple(f for line in INFO_LINES for f in line)

# Metadata keys in the very hidden sheet (column A key, column B value); task rows
# follow under TASK_ROWS_MARKER as (task id, sheet row, checksum). ``key_id`` names the
# workspace key the checksums are made with, ``mac`` seals the rest (:func:`manifest_mac`).
META_KEYS = ("programme", "period", "cycle", "unit", "layout_version", "registry_hash", "generator", "key_id", "mac")
TASK_ROWS_MARKER = "tasks"
DEFINED_NAME_PREFIX = "LEDGER_"
# Meta keys also written as workbook-level defined names (LEDGER_PROGRAMME …), so a file
# that lost its hidden sheet (a LibreOffice round trip, a copy-paste) still says what it is.
NAMED_KEYS = ("programme", "period", "unit", "layout_version")


def defined_name(key: str) -> str:
    """The defined name that carries meta key *key*: LEDGER_PROGRAMME."""
    return DEFINED_NAME_PREFIX + key.upper()

# --- width-blind text ---------------------------------------------------------

def _width_folds() -> dict[str, str]:
    """Compatibility characters of Chinese office text mapped to their NFKD decomposition.

    Only those whose decomposition needs no recomposition (NFKD equals NFKC), so text
    folded with this table usually passes the NFKC quick check as it is.
    """
    blocks = ((0x2000, 0x206F),  # general punctuation: … ‥ ′
              (0x2100, 0x218F),  # letterlike symbols and number forms: ℃ № Ⅱ
              (0x2460, 0x24FF),  # enclosed alphanumerics: ① ⑴ ⒈
              (0x3000, 0x3000),  # ideographic space
              (0x3200, 0x33FF),  # enclosed CJK and CJK compatibility: ㈠ ㎡ ㎞
              (0xFF00, 0xFFEF))  # half-width and full-width forms: ，（）：Ａ１
    folds = {}
    for char in (chr(c) for first, last in blocks for c in range(first, last + 1)):
        decomposed = unicodedata.normalize("NFKD", char)
        if decomposed != char and decomposed == unicodedata.normalize("NFKC", char):
            folds[char] = decomposed
    return folds


_WIDTH_FOLDS = _width_folds()
# A regex finds the few characters to fold faster than str.translate visits them all.
_FOLDABLE = re.compile("[" + "".join(map(re.escape, _WIDTH_FOLDS)) + "]")


def _fold(match: re.Match[str]) -> str:
    return _WIDTH_FOLDS[match.group()]


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, about three times faster on typical Chinese text.

    CPython normalises the whole string the slow way (decompose, then recompose every
    character) as soon as one character fails its quick check, and full-width punctuation
    such as "，" always does. Replacing characters by their NFKD decomposition leaves the
    string's NFKD, hence its NFKC, unchanged, and after the fold the quick check mostly
    passes. ASCII is always NFKC already.
    """
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", _FOLDABLE.sub(_fold, text))


# --- statuses -------------------------------------------------------------------

DONE = "已完成"
AHEAD = "超序时"
ON_SCHEDULE = "按序时推进"
LAGGING = "滞后"
NOT_STARTED = "未启动"
OVERDUE = "逾期未完成"
ONGOING = "常态化推进"
#: the tool's verdict on a task its lead unit did not report on this period (never a unit's choice)
UNREPORTED = "未报送"

STATUSES = (DONE, AHEAD, ON_SCHEDULE, LAGGING, NOT_STARTED, OVERDUE, ONGOING)
# What a unit may choose in the dropdown; 逾期未完成 is set by the tool only.
UNIT_STATUSES = (DONE, AHEAD, ON_SCHEDULE, LAGGING, NOT_STARTED, ONGOING)
#: what a unit may write as 完成进度 of an ongoing (常态化) task instead of a number
NO_PERCENT = ("/", "／", "—", "-", "－", "无", "不适用", "—/—")

STATUS_MEANINGS = {
    DONE: "任务已全部完成（完成进度应为100%）",
    AHEAD: "实际进度快于序时进度",
    ON_SCHEDULE: "实际进度与序时进度基本一致",
    LAGGING: "实际进度慢于序时进度",
    NOT_STARTED: "尚未开始实施",
    ONGOING: "长期坚持、常态化开展的任务（此类任务不设“已完成”，完成进度可不填）",
    OVERDUE: "超过完成时限或时间节点仍未完成（由系统判定，无需选择）",
}

_SYNONYMS = {
    DONE: ("已办结", "完成", "提前完成", "已完成", "办结"),
    AHEAD: ("超进度", "超序时进度", "超序时"),
    ON_SCHEDULE: ("正常推进", "达进度", "按序时", "正在推进", "按序时进度推进", "推进中", "按进度推进"),
    LAGGING: ("进展滞后", "推进缓慢", "欠进度", "未达序时", "滞后"),
    NOT_STARTED: ("暂未开启", "尚未启动", "未开始", "未启动"),
    OVERDUE: ("逾期", "逾期未完成"),
    ONGOING: ("常态化", "常态化推进", "长期坚持", "持续推进"),
}
_STATUS_LOOKUP = {s: s for s in STATUSES}
for _canonical, _words in _SYNONYMS.items():
    for _word in _words:
        _STATUS_LOOKUP[_word] = _canonical


def _squash(text: str) -> str:
    """Normalise width and drop whitespace and trailing punctuation for lookups."""
    text = nfkc(str(text))
    return re.sub(r"[\s。.;；,，]+", "", text)


def normalise_status(value: object) -> str | None:
    """The canonical status for a status or accepted synonym, else ``None``."""
    if value is None:
        return None
    text = str(value)
    # Every lookup key is its own _squash (tested), so an exact hit needs no normalising.
    return _STATUS_LOOKUP.get(text) or _STATUS_LOOKUP.get(_squash(text))


# --- percentages ----------------------------------------------------------------

@dataclass(frozen=True)
class Percent:
    """A parsed 完成进度: ``value`` 0–100 or ``None``; ``normalised`` when rewritten."""

    value: int | None
    normalised: bool = False
    empty: bool = False


#: the usual answer, a whole number typed as such, shared (``Percent`` is immutable).
_WHOLE_PERCENTS = tuple(Percent(n) for n in range(101))


def parse_percent(raw: object) -> Percent:
    """Read 完成进度 as a whole number 0–100.

    Accepts 80, 80.0, "80", "80%", "80％", a fraction below 1 (0.8, which is how a
    cell formatted as a percentage stores 80%), "八成", "百分之八十". Anything else,
    or a value outside 0–100, gives ``value=None`` (the reader reports it).
    """
    if type(raw) is int and 0 <= raw <= 100:  # the usual case; bool (an int) goes on below
        return _WHOLE_PERCENTS[raw]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Percent(None, empty=True)
    if isinstance(raw, bool):
        return Percent(None)
    if isinstance(raw, (int, float)):
        number = float(raw)
        if 0 < number < 1:
            return Percent(round(number * 100), normalised=True)
        if number.is_integer() and 0 <= number <= 100:
            return Percent(int(number))
        if 0 <= number <= 100:
            return Percent(round(number), normalised=True)
        return Percent(None)
    text = re.sub(r"\s+", "", nfkc(str(raw))).rstrip("。.;；,，")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%?", text)
    if m:
        number = float(m.group(1))
        if 0 < number < 1 and not text.endswith("%"):
            return Percent(round(number * 100), normalised=True)
        if 0 <= number <= 100:
            return Percent(round(number), normalised=text.endswith("%") or not number.is_integer())
        return Percent(None)
    m = re.fullmatch(r"(?:百分之(.+)|(.+)成)", text)
    if m:
        if m.group(1):
            number = cn_int(m.group(1))
        else:
            tenth = cn_int(m.group(2))
            number = tenth * 10 if tenth is not None and tenth <= 10 else None
        if number is not None and 0 <= number <= 100:
            return Percent(number, normalised=True)
    return Percent(None)


# --- the locked cells' text ---------------------------------------------------------

LIST_SEP = "、"


@dataclass(frozen=True)
class PreviousReport:
    """What a unit reported for a task in its last accepted workbook (pre-filled by generate)."""

    progress: str = ""
    cumulative: str = ""
    percent: int | None = None
    status: str = ""


def milestone_line(milestone: Milestone, ref_year: int | None) -> str:
    """One line of 时间节点: "6月30日前 完成立项" (year shown when not *ref_year*)."""
    return f"{cn_date(milestone.due, ref_year)}前 {milestone.text}".strip()


def deadline_text(task: Task) -> str:
    """完成时限 as the notice wrote it, else the date, else 长期坚持 / 已完成 (else empty)."""
    if task.deadline_text:
        return task.deadline_text
    if task.deadline:
        return f"{cn_date(task.deadline)}前"
    if task.ongoing:
        return "长期坚持"
    return "已完成" if task.done else ""


def task_cells(task: Task, ref_year: int | None, previous: PreviousReport | None,
               schedule: str = "") -> dict[str, Any]:
    """The value of every column for *task* except 序号 (numbers for 完成进度).

    The writer fills the workbook with these and the reader compares the locked ones
    (:data:`CHECKSUM_KEYS`) with them. Pre-filled input values come from *previous*; a
    status the unit cannot pick (逾期未完成 is the tool's verdict) or a percentage outside
    0–100 is left blank. *schedule* is the 序时进度 text of the period (:func:`schedule_text`).
    """
    prev = previous or PreviousReport()
    status = normalise_status(prev.status)
    percent = parse_percent(prev.percent).value if prev.percent is not None else None
    return {
        "task_id": task.id,
        "category": task.path[0] if task.path else "",
        "text": task.text,
        "leaders": LIST_SEP.join(task.leaders),
        "lead": LIST_SEP.join(task.lead_units),
        "cooperating": LIST_SEP.join(task.cooperating_units),
        "responsible": LIST_SEP.join(task.responsible_units),
        "deadline": deadline_text(task),
        "milestones": "\n".join(milestone_line(m, ref_year) for m in task.milestones),
        "schedule": schedule,
        "previous": prev.progress or "",
        "cumulative": prev.cumulative or "",
        "percent": percent,
        "status": status if status in UNIT_STATUSES else "",
    }


# --- naming, titles, checksums ---------------------------------------------------

def workbook_name(period_key: str, unit: str) -> str:
    """File name a person recognises: 2022-W23_市交通运输局_工作台账.xlsx."""
    return f"{period_key}_{safe_filename(unit)}_工作台账.xlsx"


def title(programme_title: str, period: Period) -> str:
    """Row-1 title: {programme}工作台账（2022年第23周 6月6日—6月10日）."""
    return f"{programme_title}工作台账（{period.label()}）"


def row_checksum(values: Sequence[object]) -> str:
    """The unkeyed checksum of layouts 1–3 over a row's locked content (``CHECKSUM_KEYS`` order),
    whitespace-blind: anyone can compute it, so it only tells a re-saved file from an edited one.

    Whitespace and width differences are ignored so that a file re-saved by WPS or
    LibreOffice (which may rewrap text) still matches; any changed character does not.
    """
    return hashlib.sha256(_locked_text(values)).hexdigest()[:16]


def row_digest(values: Sequence[object], key: bytes) -> str:
    """The keyed checksum (layout 4) of a row's locked content: HMAC-SHA256 under the workspace's
    *key* (:mod:`ledger.secret`), as blind to whitespace and width as :func:`row_checksum`."""
    return hmac.new(key, _locked_text(values), hashlib.sha256).hexdigest()[:32]


def _locked_text(values: Sequence[object]) -> bytes:
    return "\x1f".join(map(squash, values)).encode("utf-8")


def manifest_mac(key: bytes, programme: str, period: str, unit: str, version: object,
                 tasks: Sequence[tuple[str, str]]) -> str:
    """HMAC-SHA256 under *key* of what a workbook was made for and holds: programme, period, unit,
    layout version and its (task id, row digest) list in order. A task row deleted or renamed
    together with its line in the hidden sheet breaks it."""
    text = "\x1e".join(["ledger-manifest", programme, period, unit, str(version),
                         *(f"{task}\x1f{digest}" for task, digest in tasks)])
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def squash(value: object) -> str:
    """Cell content compared whitespace- and width-blind: NFKC, no whitespace, 80.0 as 80."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # str.split() splits on exactly what the regex \s matches in str patterns (str.isspace)
    return "".join(nfkc(str(value)).split())


def header_key(text: object) -> str:
    """Normalise a header cell for matching: width (（）→()), spaces, line breaks."""
    return squash(text or "")


_HEADER_LOOKUP: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.header, *_col.aliases):
        _HEADER_LOOKUP[header_key(_name)] = _col.key


def find_columns(headers: Iterable[object]) -> dict[str, int]:
    """Map column keys to zero-based positions by header text, not by position.

    A header with the bracketed part dropped ("完成进度") or extra spaces still matches.
    The first occurrence wins; unknown headers are ignored.
    """
    found: dict[str, int] = {}
    for index, text in enumerate(headers):
        key = header_key(text)
        col = _HEADER_LOOKUP.get(key) or _HEADER_LOOKUP.get(re.sub(r"\(.*?\)", "", key))
        if col and col not in found:
            found[col] = index
    return found


def required_missing(found: dict[str, int]) -> list[Column]:
    """Columns the reader cannot do without (all but optional ones)."""
    return [c for c in COLUMNS if c.key not in found and not c.optional and c.key not in ("category", "previous")]
