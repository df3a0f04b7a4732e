"""TOML syntax errors in Chinese: where, the offending line, and the likely cause.

``tomllib`` says ``Invalid value (at line 2, column 9)``. Clerks edit ``ledger.toml``
with a Chinese input method on, so the usual cause is a full-width character where TOML
wants ASCII (“ ” for ", ＝ for =) or Chinese text without quotes; the message points
at the character and says which one it is.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

_WHERE = re.compile(r"^(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$", re.S)

#: tomllib's messages (Python 3.11–3.13), as regular expressions → Chinese
_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"Invalid value", "值无效"),
    (r"Invalid statement", "这一行不是有效的配置（应为 名称 = 值，或 [表名]）"),
    (r"Expected newline or end of document after a statement", "一项配置写完后应换行，同一行不能再有其他内容"),
    (r"Expected '=' after a key in a key/value pair", "配置项名称后面应为等号 ="),
    (r"Expected '\]' at the end of a table declaration", "表名后面缺少右方括号 ]"),
    (r"Expected '\]\]' at the end of an array declaration", "表名后面缺少 ]]"),
    (r"Invalid initial character for a key part", "配置项名称以无效的字符开头（名称只能用英文字母、数字、- 和 _）"),
    (r"Unclosed array", "方括号 [ ] 没有闭合，或其中的值之间缺少半角逗号"),
    (r"Unclosed inline table", "花括号 { } 没有闭合"),
    (r"Unterminated string", "字符串缺少结束的引号"),
    (r"Cannot overwrite a value", "同一个配置项写了两次，请删除或合并其中一处"),
    (r"Cannot declare (?P<x>.+) twice", "表 {x} 写了两次，请删除或合并其中一处"),
    (r"Duplicate inline table key (?P<x>.+)", "花括号中的配置项 {x} 写了两次，请删除其中一处"),
    (r"Cannot (?:mutate immutable|redefine) namespace (?P<x>.+)", "不能再次定义 {x}"),
    (r"Illegal character '\\n'", "字符串在行末还没有结束（缺少结束的引号）"),
    (r"Illegal character (?P<x>.+)", "字符串中有不允许的字符 {x}"),
    (r"Found invalid character (?P<x>.+)", "有不允许的字符 {x}"),
    (r"Invalid date or datetime", "日期或时间无效（日期写作 2024-03-01，时间写作 \"16:00\"）"),
    (r"Unescaped '\\\\' in a string", "字符串中的反斜杠 \\ 要写成 \\\\，或改用单引号 '…' 括起来"),
    (r"Invalid hex value|Escaped character is not a Unicode scalar value", "字符串中的转义字符无效"),
    (r"Expected (?P<x>.+)", "此处应为 {x}"),
)

_QUOTES = '文字两边要用半角双引号 "，如 title = "洛阳市……"'
_BRACKETS = "表名要用半角方括号，如 [programmes.yc2024]"
#: full-width characters typed with a Chinese input method where TOML wants ASCII: name, what to write
_FULL_WIDTH: dict[str, tuple[str, str]] = {
    "“": ("全角引号“ ”", _QUOTES), "”": ("全角引号“ ”", _QUOTES),
    "‘": ("全角引号‘ ’", _QUOTES), "’": ("全角引号‘ ’", _QUOTES),
    "＂": ("全角引号＂", _QUOTES), "＇": ("全角引号＇", _QUOTES),
    "「": ("直角引号「」", _QUOTES), "」": ("直角引号「」", _QUOTES),
    "＝": ("全角等号＝", "名称和值之间要用半角等号 =，如 cycle = \"weekly\""),
    "：": ("全角冒号：", "名称和值之间要用半角等号 =，如 cycle = \"weekly\"；时间写作 \"16:00\""),
    "［": ("全角方括号［ ］", _BRACKETS), "］": ("全角方括号［ ］", _BRACKETS),
    "【": ("方头括号【】", _BRACKETS), "】": ("方头括号【】", _BRACKETS),
    "，": ("全角逗号，", "方括号中的多个值之间要用半角逗号 ,"),
    "　": ("全角空格", "请改为半角空格"),
    "＃": ("全角井号＃", "注释要用半角井号 # 开头"),
}


def describe(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """The Chinese message for *exc* raised while parsing *text* (the content of *path*)."""
    m = _WHERE.match(str(exc))
    lines = text.splitlines() or [""]
    if m is None:  # a message without a position: say what we have
        return f"{path} 格式错误（{exc}）。请按 TOML 格式改正后重试。"
    if m["line"]:
        line_no, col = int(m["line"]), int(m["col"])
    else:
        line_no, col = len(lines), len(lines[-1]) + 1
    line = lines[line_no - 1] if line_no <= len(lines) else ""
    where = f"第 {line_no} 行第 {col} 列"
    parts = [f"{path} {where}格式错误：{_translate(m['msg'])}。",
             f"  {line_no:>4} | {line}",
             f"  {'':>4} | {' ' * _width(line[:col - 1])}^"]
    cause = likely_cause(line)
    if cause:
        parts.append(f"可能的原因：{cause}")
    return "\n".join(parts)


def _translate(message: str) -> str:
    for pattern, chinese in _MESSAGES:
        hit = re.fullmatch(pattern, message, re.S)
        if hit:
            return chinese.format(**hit.groupdict())
    return message


def _width(text: str) -> int:
    """Terminal columns of *text*: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def likely_cause(line: str) -> str:
    """Why *line* fails to parse, in words a clerk can act on ("" when unsure)."""
    outside = _outside_strings(line)
    key_value = re.match(r"\s*[\w.-]+\s*=\s*(?P<value>.*)$", line)
    value = key_value["value"].strip() if key_value else ""
    if value and _is_chinese(value[0]):
        return "文字两边没有加引号。文字要用半角双引号括起来，如 title = \"洛阳市……\"。"
    for ch in outside:
        if ch in _FULL_WIDTH:
            name, advice = _FULL_WIDTH[ch]
            return f"用了{name}。{advice}（请切换到英文输入法后重新输入）。"
    if any("０" <= ch <= "９" for ch in outside):
        return "用了全角数字。数字要用半角（英文输入法下输入的 0–9）。"
    if value.count('"') % 2 == 1 and '"""' not in value:
        return "文字只有一边有引号。请在文字的两边各加一个半角双引号 \"。"
    stripped = line.strip()
    if stripped.startswith("[") and "]" not in stripped:
        return "表名的方括号没有闭合，应写作 [programmes.编号]。"
    if stripped and "=" not in stripped and not stripped.startswith(("[", "#")):
        return "这一行缺少等号。每项配置写作 名称 = 值，如 cycle = \"weekly\"。"
    return ""


def _is_chinese(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _outside_strings(line: str) -> list[str]:
    """The characters of *line* outside quoted strings and before a comment."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        else:
            out.append(ch)
        i += 1
    return out
