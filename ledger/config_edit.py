"""Adding a programme's table to ``ledger.toml`` without disturbing what the office wrote.

The new ``[programmes.<id>]`` table goes after the last programme (or after the commented
example of a fresh ``ledger init`` file), each key with a Chinese comment saying where its
value came from. Every comment, blank line and key already there stays byte for byte; the
result is read back and must mean exactly the old file plus the new table, else tomlkit
appends the table instead (it keeps the file's layout too, but places the table at the end).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from ledger.errors import ConfigError
from ledger.fsutil import write_bytes_atomic

Value = str | int | date | time
_HEADER = re.compile(r"""^\[+\s*[\w."' -]+\s*\]+\s*(#.*)?$""")
_SECTION_RULE = re.compile(r"^#\s*[-=]{4,}")
COMMENT_COLUMN = 44


@dataclass(frozen=True)
class Entry:
    """One key of the new table, with the note that says where its value came from."""

    key: str
    value: Value
    note: str = ""


def _render(value: Value) -> str:
    import tomlkit

    if isinstance(value, time):
        value = f"{value:%H:%M}"
    return tomlkit.item(value).as_string()


def table_text(table: str, entries: Sequence[Entry], heading: Sequence[str] = ()) -> str:
    """``[table]`` and its keys as lines, comments lined up (Chinese characters count double)."""
    lines = [f"# {line}" for line in heading] + [f"[{table}]"]
    for entry in entries:
        line = f"{entry.key} = {_render(entry.value)}"
        if entry.note:
            width = sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)
            line += " " * max(1, COMMENT_COLUMN - width) + f"# {entry.note}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _insertion_line(lines: Sequence[str]) -> int:
    """Where a new programme's table goes: after the last ``[programmes…]`` table's last key, or
    before the section rule (``# ----``) that ends the programmes part of the file."""
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line.strip()) and not line.startswith("#")]
    own = [i for i in headers if re.match(r"^\[\s*programmes\s*[.\]]", lines[i])]
    if not own:
        return len(lines)
    nxt = next((i for i in headers if i > own[-1]), len(lines))
    last = nxt
    while last > own[-1] + 1 and (not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")):
        last -= 1
    rule = next((i for i in range(last, nxt) if _SECTION_RULE.match(lines[i].lstrip())), None)
    if rule is None:
        return last
    while rule > last and not lines[rule - 1].strip():
        rule -= 1
    return rule


def add_table(path: Path, dotted: Sequence[str], entries: Sequence[Entry], heading: Sequence[str] = (),
              check: Callable[[dict], object] | None = None) -> str:
    """Add the table *dotted* (``("programmes", "yc2024")``) to the TOML file *path*; returns what
    was added. Refuses a table that is already there; *check* sees the whole result as parsed
    before anything is written (and may raise)."""
    with open(path, encoding="utf-8", newline="") as f:  # line ends as they are
        text = f.read()
    before = tomllib.loads(text)
    node = before
    for part in dotted:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if node:
        raise ConfigError(f"{path.name} 中已有 [{'.'.join(dotted)}]，未做改动。")
    name = ".".join(_render(p) if not re.fullmatch(r"[A-Za-z0-9_-]+", p) else p for p in dotted)
    eol = "\r\n" if "\r\n" in text else "\n"  # a file saved by Windows Notepad keeps its line ends
    block = table_text(name, entries, heading)
    lines = text.splitlines()
    at = _insertion_line(lines)
    head = eol.join(lines[:at]).rstrip("\r\n")
    tail = eol.join(lines[at:]).lstrip("\r\n")
    result = (head + eol * 2 if head else "") + block.replace("\n", eol) + (eol + tail if tail else "")
    if not result.endswith(eol):
        result += eol
    wanted = _with(before, dotted, {e.key: _plain(e.value) for e in entries})
    if check is not None:
        check(wanted)
    if _parsed(result) != wanted:
        result = _appended(text, dotted, entries)
        if _parsed(result) != wanted:
            raise ConfigError(f"无法在 {path.name} 中添加 [{'.'.join(dotted)}]，未做改动。请按 ledger init 生成的示例手工添加。")
    write_bytes_atomic(path, result.encode("utf-8"))
    return block


def _plain(value: Value) -> object:
    return f"{value:%H:%M}" if isinstance(value, time) else value


def _with(doc: dict, dotted: Sequence[str], table: dict) -> dict:
    out = dict(doc)
    node = out
    for part in dotted[:-1]:
        node[part] = dict(node.get(part, {}))
        node = node[part]
    node[dotted[-1]] = table
    return out


def _parsed(text: str) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _appended(text: str, dotted: Sequence[str], entries: Sequence[Entry]) -> str:
    """The table added by tomlkit: layout kept, the table at the end of its parent."""
    import tomlkit

    doc = tomlkit.parse(text)
    table = tomlkit.table()
    for entry in entries:
        table.add(entry.key, _plain(entry.value))
        if entry.note:
            table[entry.key].comment(entry.note)
    node = doc
    for part in dotted[:-1]:
        if part not in node:
            node.add(part, tomlkit.table(is_super_table=True))
        node = node[part]
    node.add(dotted[-1], table)
    return tomlkit.dumps(doc)
