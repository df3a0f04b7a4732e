"""The workspace and its configuration file ``ledger.toml``.

A workspace is a folder holding ``ledger.toml``, ``source_data/`` and ``out/``. Every
command reads and writes only inside it. Keys are checked on load and a wrong or
missing key is reported by its full dotted name.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from ledger import toml_errors
from ledger.areas import area_of
from ledger.errors import ConfigError, UnknownProgramme, WorkspaceError
from ledger.rules import LightRules, ScoringRules, parse_rules

CONFIG_NAME = "ledger.toml"
CYCLES = ("daily", "weekly", "monthly", "quarterly")
BULLETIN_CADENCES = ("weekly", "monthly", "quarterly", "none")
WEEKDAYS = {"周一": 1, "周二": 2, "周三": 3, "周四": 4, "周五": 5, "周六": 6, "周日": 7}
#: how a period's due day is found (docs/due-rules.md): a weekday of the week (the last one of a
#: month or quarter), a day of the month (of a quarter's last month), the period's last working
#: day, or the N-th working day after the period ends
DUE_RULES = ("weekday", "day", "last_workday", "workdays_after")


@dataclass(frozen=True)
class Reporting:
    """When and to whom lead units report (one programme or one annex of it)."""

    title: str
    cycle: str = "weekly"
    due_weekday: int = 5
    due_time: time = time(16, 0)
    due: str = "weekday"  # one of DUE_RULES
    due_day: int = 0  # the day of the month, for due = "day"
    due_workdays_after: int = 0  # working days after the period ends, for due = "workdays_after"
    office: str = ""
    contact: str = ""
    phone: str = ""
    email: str = ""
    bulletin: str = "monthly"
    holidays: str = "keep"  # keep | before | after: move a due day that is a public holiday
    #: the notice's own sentence requiring the reports, quoted by the bulletin ("" → not quoted)
    requirement: str = ""


@dataclass(frozen=True)
class Programme:
    """One programme (通知/实施方案) as configured in ledger.toml."""

    id: str
    title: str
    doc_number: str
    issuer: str
    issued: date
    reporting: Reporting
    default_deadline: date | None = None
    registry: str = ""
    #: whose short unit names the notice uses (宜川县); not configured: the issuer's area
    scope: str = ""
    annexes: dict[str, Reporting] = field(default_factory=dict)
    #: the bulletin's addressees (主送) and 抄送; "" for 抄送 leaves the line out
    addressees: str = "各牵头单位"
    copy_to: str | None = None  # None: the default for the issuer (see bulletin_copy_to)
    #: the bulletin's 版头 on one line ("" → the programme's title over 督查通报, each line fitted)
    masthead: str = ""

    @property
    def bulletin_copy_to(self) -> str:
        """抄送 of the bulletin: as configured, else the leading group's members when a 领导小组
        issues it, else nobody (a government office is not a 领导小组)."""
        if self.copy_to is not None:
            return self.copy_to
        issuer = f"{self.issuer}{self.reporting.office}"
        return "领导小组组长、副组长，领导小组各成员单位" if "领导小组" in issuer else ""

    def reporting_for(self, annex: str | None) -> Reporting:
        """The reporting rules of an annex, falling back to the programme's."""
        if annex and annex in self.annexes:
            return self.annexes[annex]
        return self.reporting


@dataclass(frozen=True)
class Paths:
    source_data: Path
    out: Path
    units: Path
    store: Path


PAPERS = ("A4", "A3")


@dataclass(frozen=True)
class PrintSettings:
    """[print]: the paper (landscape) each printed output is laid out for (docs/printing.md)."""

    ledger: str = "A4"  # the 工作台账 units print, sign and stamp
    summary: str = "A4"  # the 汇总表's sheets
    registry: str = "A4"  # the registry workbook, printed for review


@dataclass(frozen=True)
class SmtpSettings:
    """[smtp]: where `ledger mail send` delivers. ``ssl``: TLS from the first byte (SMTPS);
    unset, it is used on port 465 when ``starttls`` is false. ``timeout``: seconds to wait
    for the server at each step."""

    host: str = "localhost"
    port: int = 25
    starttls: bool = True
    username: str = ""
    password_env: str = "LEDGER_SMTP_PASSWORD"
    sender: str = ""
    ssl: bool | None = None
    timeout: int = 30


@dataclass(frozen=True)
class WebSettings:
    """[web]: the web page's own address as units open it (behind a reverse proxy, the
    proxy's), for the links in mail drafts and what ``ledger links`` prints (docs/web.md)."""

    base_url: str = ""


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace: its root, paths and programmes."""

    root: Path
    paths: Paths
    programmes: dict[str, Programme]
    smtp: SmtpSettings
    lights: LightRules = field(default_factory=LightRules)
    scoring: ScoringRules = field(default_factory=ScoringRules)
    printing: PrintSettings = field(default_factory=PrintSettings)
    web: WebSettings = field(default_factory=WebSettings)

    def programme(self, programme_id: str) -> Programme:
        try:
            return self.programmes[programme_id]
        except KeyError:
            known = "、".join(self.programmes) or "（无）"
            raise UnknownProgramme(
                f"未知的项目“{programme_id}”。ledger.toml 中已配置的项目：{known}。"
            ) from None

    def registry_path(self, programme_id: str) -> Path:
        prog = self.programme(programme_id)
        if prog.registry:
            return self.inside(prog.registry)
        return self.paths.source_data / programme_id / "registry.xlsx"

    def inside(self, relative: str | os.PathLike[str]) -> Path:
        """Resolve *relative* against the root and refuse paths that leave the workspace."""
        full = resolved_inside(self.root, relative)
        if full is None:
            raise WorkspaceError(f"路径 {relative} 不在工作区 {self.root} 之内，请改用工作区内的路径。")
        return full

    def shown(self, path: Path) -> str:
        """*path* as messages name it: relative to the workspace when inside it (source_data/units.xlsx)."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def out_dir(self, programme_id: str, period: str) -> Path:
        return self.paths.out / programme_id / period


def resolve(root: Path, relative: str | os.PathLike[str]) -> Path:
    """*relative* against *root* (an absolute path as it is), symlinks followed."""
    p = Path(relative)
    return (p if p.is_absolute() else root / p).resolve()


def resolved_inside(root: Path, relative: str | os.PathLike[str]) -> Path | None:
    """:func:`resolve`, or None if the path leaves the workspace."""
    full, top = resolve(root, relative), root.resolve()
    return full if full == top or top in full.parents else None


def find_root(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The workspace root: *workspace*, else $LEDGER_WORKSPACE, else the nearest folder from
    the current one upwards that holds ``ledger.toml`` (as git finds its repository)."""
    chosen = workspace or os.environ.get("LEDGER_WORKSPACE")
    if chosen:
        return Path(chosen).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ConfigError(
        f"当前目录 {here} 及其上级目录中都没有 {CONFIG_NAME}，这里不是 ledger 工作区。"
        f"新建工作区请运行 ledger init 目录名；已有工作区请进入该目录（或其中任一子目录）再运行，"
        f"或用 --workspace / 环境变量 LEDGER_WORKSPACE 指定工作区。"
    )


def load(workspace: str | os.PathLike[str] | None = None) -> Workspace:
    """Load and check ``ledger.toml`` of the workspace."""
    root = find_root(workspace)
    cfg_path = root / CONFIG_NAME
    if not root.is_dir():
        raise ConfigError(f"工作区目录 {root} 不存在。请用 --workspace 指定正确的目录，或运行 ledger init {root} 新建工作区。")
    if not cfg_path.is_file():
        raise ConfigError(
            f"在 {root} 中找不到 {CONFIG_NAME}，它不是 ledger 工作区。请用 --workspace / LEDGER_WORKSPACE 指定正确的"
            f"工作区，或运行 ledger init {root} 在这里新建工作区。"
        )
    try:
        text = cfg_path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{cfg_path} 不是 UTF-8 编码，请用 UTF-8 保存。") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(toml_errors.describe(cfg_path, text, exc)) from exc
    return parse(raw, root)


def parse(raw: dict[str, Any], root: Path) -> Workspace:
    """Build a :class:`Workspace` from the parsed TOML, checking every key."""
    _only(raw, "", {"workspace", "programmes", "smtp", "scoring", "lights", "print", "web"})
    ws_raw = _table(raw, "workspace", required=False)
    _only(ws_raw, "workspace", {"source_data", "out", "units", "store"})
    paths = Paths(
        source_data=_path(ws_raw, "workspace.source_data", "source_data", root),
        out=_path(ws_raw, "workspace.out", "out", root),
        units=_path(ws_raw, "workspace.units", str(Path("source_data") / "units.xlsx"), root),
        store=_path(ws_raw, "workspace.store", str(Path("out") / "ledger.sqlite"), root),
    )
    progs_raw = _table(raw, "programmes", required=True)
    programmes = {pid: _programme(pid, body) for pid, body in progs_raw.items()}
    for pid, prog in programmes.items():
        if prog.registry:
            _path(progs_raw[pid], f"programmes.{pid}.registry", "", root)
    smtp_raw = _table(raw, "smtp", required=False)
    _only(smtp_raw, "smtp", {"host", "port", "starttls", "ssl", "timeout", "username", "password_env", "sender"})
    smtp = SmtpSettings(
        host=_str(smtp_raw, "smtp.host", default="localhost"),
        port=_int(smtp_raw, "smtp.port", default=25, lo=1, hi=65535),
        starttls=_bool(smtp_raw, "smtp.starttls", default=True),
        username=_str(smtp_raw, "smtp.username", default=""),
        password_env=_str(smtp_raw, "smtp.password_env", default="LEDGER_SMTP_PASSWORD"),
        sender=_str(smtp_raw, "smtp.sender", default=""),
        ssl=_bool(smtp_raw, "smtp.ssl", default=False) if "ssl" in smtp_raw else None,
        timeout=_int(smtp_raw, "smtp.timeout", default=30, lo=1, hi=600),
    )
    return Workspace(
        root=root, paths=paths, programmes=programmes, smtp=smtp,
        printing=_print_settings(_table(raw, "print", required=False)),
        web=_web_settings(_table(raw, "web", required=False)),
        lights=parse_rules(LightRules, raw.get("lights"), "lights"),
        scoring=parse_rules(ScoringRules, raw.get("scoring"), "scoring"),
    )


_DUE_KEYS = ("due", "due_day", "due_workdays_after", "due_weekday")
_REPORTING_KEYS = {"title", "cycle", "due_time", "office", "contact", "phone", "email", "bulletin", "holidays",
                   "requirement", *_DUE_KEYS}
HOLIDAY_RULES = ("keep", "before", "after")
_PROGRAMME_KEYS = _REPORTING_KEYS | {"doc_number", "issuer", "issued", "default_deadline", "registry", "scope", "annexes",
                                     "addressees", "copy_to", "masthead"}


def _programme(pid: str, body: Any) -> Programme:
    key = f"programmes.{pid}"
    if not isinstance(body, dict):
        raise ConfigError(f"ledger.toml：{key} 应为一个表（[{key}]）。")
    check_programme_id(pid)
    _only(body, key, _PROGRAMME_KEYS)
    reporting = _reporting(body, key, None)
    annexes_raw = body.get("annexes", {})
    if not isinstance(annexes_raw, dict):
        raise ConfigError(f"ledger.toml：{key}.annexes 应为一个表。")
    annexes = {}
    for akey, abody in annexes_raw.items():
        akey_full = f"{key}.annexes.{akey}"
        if not isinstance(abody, dict):
            raise ConfigError(f"ledger.toml：{akey_full} 应为一个表。")
        _only(abody, akey_full, _REPORTING_KEYS)
        annexes[akey] = _reporting(abody, akey_full, reporting)
    issuer = _str(body, f"{key}.issuer", default="")
    return Programme(
        id=pid,
        title=reporting.title,
        doc_number=_str(body, f"{key}.doc_number", default=""),
        issuer=issuer,
        issued=_date(body, f"{key}.issued", required=True),
        reporting=reporting,
        default_deadline=_date(body, f"{key}.default_deadline", required=False),
        registry=_str(body, f"{key}.registry", default=""),
        scope=_str(body, f"{key}.scope", default="") or area_of(issuer),  # not written (or ""): the issuer's area
        annexes=annexes,
        addressees=_str(body, f"{key}.addressees", default="各牵头单位"),
        copy_to=_str(body, f"{key}.copy_to", default="") if "copy_to" in body else None,
        masthead=_str(body, f"{key}.masthead", default=""),
    )


def check_programme_id(pid: str) -> None:
    """A programme id is what commands take after -p: ASCII letters, digits, - and _."""
    if not pid or not pid.replace("-", "").replace("_", "").isalnum() or not pid.isascii():
        raise ConfigError(f"ledger.toml：项目编号“{pid}”只能包含英文字母、数字、- 和 _。")


def _reporting(body: dict[str, Any], key: str, parent: Reporting | None) -> Reporting:
    base = parent or Reporting(title="")
    title = _str(body, f"{key}.title", default=base.title if parent else None)
    cycle = _str(body, f"{key}.cycle", default=base.cycle)
    if cycle not in CYCLES:
        raise ConfigError(f"ledger.toml：{key}.cycle 的值“{cycle}”无效，应为 {'/'.join(CYCLES)} 之一。")
    bulletin = _str(body, f"{key}.bulletin", default=base.bulletin)
    if bulletin not in BULLETIN_CADENCES:
        raise ConfigError(
            f"ledger.toml：{key}.bulletin 的值“{bulletin}”无效，应为 {'/'.join(BULLETIN_CADENCES)} 之一。"
        )
    holidays = _str(body, f"{key}.holidays", default=base.holidays)
    if holidays not in HOLIDAY_RULES:
        raise ConfigError(
            f"ledger.toml：{key}.holidays 的值“{holidays}”无效，应为 keep（不调整）、before（提前到节前最后一个工作日）"
            f"或 after（顺延到节后第一个工作日）。"
        )
    if any(k in body for k in _DUE_KEYS):
        due, due_day, workdays = _due_rule(body, key, cycle)
    else:
        due, due_day, workdays = base.due, base.due_day, base.due_workdays_after
        if parent and cycle != parent.cycle:
            _check_due_rule(due, cycle, key)
    return Reporting(
        title=title,
        cycle=cycle,
        holidays=holidays,
        due_weekday=_weekday(body, f"{key}.due_weekday", base.due_weekday),
        due_time=_time(body, f"{key}.due_time", base.due_time),
        due=due,
        due_day=due_day,
        due_workdays_after=workdays,
        office=_str(body, f"{key}.office", default=base.office),
        contact=_str(body, f"{key}.contact", default=base.contact),
        phone=_str(body, f"{key}.phone", default=base.phone),
        email=_str(body, f"{key}.email", default=base.email),
        bulletin=bulletin,
        requirement=_str(body, f"{key}.requirement", default=base.requirement),
    )


def _print_settings(body: dict[str, Any]) -> PrintSettings:
    _only(body, "print", {"ledger", "summary", "registry"})
    values = {}
    for key in body:
        value = _str(body, f"print.{key}", default="A4")
        if value not in PAPERS:
            raise ConfigError(f"ledger.toml：print.{key} 的值“{value}”无效，应为 {'、'.join(PAPERS)} 之一（横向）。")
        values[key] = value
    return PrintSettings(**values)


def _web_settings(body: dict[str, Any]) -> WebSettings:
    _only(body, "web", {"base_url"})
    base_url = _str(body, "web.base_url", default="").strip()
    scheme, _, rest = base_url.partition("://")
    if base_url and (scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in base_url)):
        raise ConfigError(f"ledger.toml：web.base_url 的值“{base_url}”无效，应为各单位打开本网页的地址，"
                          "如 \"https://ducha.example.gov.cn\" 或 \"http://192.168.1.20:8000\"。")
    return WebSettings(base_url.rstrip("/"))


def _due_rule(body: dict[str, Any], key: str, cycle: str) -> tuple[str, int, int]:
    """(due, due_day, due_workdays_after) of a table that says how its due day is found.

    ``due_day`` (1–31) implies ``due = "day"`` and ``due_workdays_after`` (1–60) implies
    ``"workdays_after"``; 0 means not used. ``due`` may be written as well, but must agree.
    """
    day = _int(body, f"{key}.due_day", default=0, lo=0, hi=31)
    workdays = _int(body, f"{key}.due_workdays_after", default=0, lo=0, hi=60)
    leaves = {"day": "due_day", "workdays_after": "due_workdays_after"}
    implied = [rule for rule, value in (("day", day), ("workdays_after", workdays)) if value]
    if len(implied) > 1:
        raise ConfigError(f"ledger.toml：{key} 中 due_day 和 due_workdays_after 只能写一个（另一个不写或写 0）。")
    due = _str(body, f"{key}.due", default=implied[0] if implied else "weekday")
    if due not in DUE_RULES:
        raise ConfigError(
            f"ledger.toml：{key}.due 的值“{due}”无效，应为 weekday（每周某日/每月最后一个某日）、day（每月某日）、"
            "last_workday（最后一个工作日）或 workdays_after（期末后第几个工作日）之一。"
        )
    if implied and implied[0] != due:
        raise ConfigError(f"ledger.toml：{key}.due = \"{due}\" 与 {key}.{leaves[implied[0]]} 矛盾，请只保留一种写法。")
    if due in leaves and not implied:
        raise ConfigError(f"ledger.toml：{key}.due = \"{due}\" 须同时写明 {key}.{leaves[due]}（不能为 0）。")
    _check_due_rule(due, cycle, key)
    return due, day, workdays


def _check_due_rule(due: str, cycle: str, key: str) -> None:
    if due == "day" and cycle not in ("monthly", "quarterly"):
        raise ConfigError(
            f"ledger.toml：{key}.due_day 只适用于按月或按季度报送（cycle = \"monthly\"/\"quarterly\"）；"
            "按周报送请用 due_weekday。"
        )
    if due in ("last_workday", "workdays_after") and cycle == "daily":
        raise ConfigError(f"ledger.toml：{key}.due = \"{due}\" 不适用于按日报送；按日报送的截止时间是当天的 due_time。")


# ---- typed getters that name the key in their message -------------------------------

def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _only(body: dict[str, Any], key: str, allowed: set[str]) -> None:
    for k in body:
        if k not in allowed:
            where = f"{key}.{k}" if key else k
            raise ConfigError(
                f"ledger.toml：未知的配置项 {where}。允许的配置项：{'、'.join(sorted(allowed))}。"
            )


def _table(raw: dict[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    if key not in raw:
        if required:
            raise ConfigError(f"ledger.toml：缺少 [{key}] 表。")
        return {}
    value = raw[key]
    if not isinstance(value, dict):
        raise ConfigError(f"ledger.toml：{key} 应为一个表（[{key}]）。")
    return value


def _missing(key: str) -> ConfigError:
    return ConfigError(f"ledger.toml：缺少必填项 {key}。")


def _str(body: dict[str, Any], key: str, *, default: str | None) -> str:
    leaf = _leaf(key)
    if leaf not in body:
        if default is None:
            raise _missing(key)
        return default
    value = body[leaf]
    if not isinstance(value, str):
        raise ConfigError(f"ledger.toml：{key} 应为字符串，实际为 {value!r}。")
    return value


def _path(body: dict[str, Any], key: str, default: str, root: Path) -> Path:
    """A path key: relative to the root (or ``sqlite:///…`` for the store), refused when it
    leads out of the workspace, symlinks followed: everything ledger writes stays inside."""
    text = written = _str(body, key, default=default)
    if "://" in text:
        from ledger.store import StoreError, sqlite_path

        try:
            text = str(sqlite_path(text))
        except StoreError as exc:
            raise ConfigError(f"ledger.toml：{key}：{exc}") from exc
    if resolved_inside(root, text) is None:
        raise ConfigError(
            f"ledger.toml：{key}{'' if _leaf(key) in body else '（默认值）'} = \"{written}\" 指向工作区 {root} 之外"
            f"（{resolve(root, text)}）。ledger 只在工作区内读写，请改用工作区内的路径（相对于 ledger.toml 所在目录），"
            "也不要用指向工作区外的符号链接。"
        )
    return root / text


def _int(body: dict[str, Any], key: str, *, default: int, lo: int, hi: int) -> int:
    value = body.get(_leaf(key), default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"ledger.toml：{key} 应为 {lo}–{hi} 之间的整数，实际为 {value!r}。")
    return value


def _bool(body: dict[str, Any], key: str, *, default: bool) -> bool:
    value = body.get(_leaf(key), default)
    if not isinstance(value, bool):
        raise ConfigError(f"ledger.toml：{key} 应为 true 或 false，实际为 {value!r}。")
    return value


def _date(body: dict[str, Any], key: str, *, required: bool) -> date | None:
    leaf = _leaf(key)
    if leaf not in body:
        if required:
            raise _missing(key)
        return None
    return _iso(body[leaf], date, key, "日期（如 2022-05-07）")


def _iso(value: Any, kind: type, key: str, what: str) -> Any:
    """*value* as a TOML date or time, or as its ISO text ("2022-05-07", "16:00")."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)  # type: ignore[attr-defined]
        except ValueError:
            pass
    raise ConfigError(f"ledger.toml：{key} 应为{what}，实际为 {value!r}。")


def _weekday(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(_leaf(key), default)
    if isinstance(value, str) and value in WEEKDAYS:
        return WEEKDAYS[value]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value
    raise ConfigError(f"ledger.toml：{key} 应为 1–7（周一为 1）或“周五”这样的写法，实际为 {value!r}。")


def _time(body: dict[str, Any], key: str, default: time) -> time:
    return _iso(body.get(_leaf(key), default), time, key, '时间（如 "16:00"）')
