"""Text as xlsxwriter writes it inside XML elements: what generate's own writers of rows,
shared strings and notes share to give xlsxwriter's bytes."""

from __future__ import annotations

import re

#: what xlsxwriter's writers change in a text: control characters, non-characters, a literal _xHHHH_
_TO_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPE_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def escape_text(text: str) -> str:
    """An element's text as xlsxwriter writes it: ``& < >`` escaped, control characters as
    ``_xHHHH_`` (and a literal ``_xHHHH_`` escaped)."""
    return escape_controls(escape_markup(text))


def escape_markup(text: str) -> str:
    """``& < >`` as entities."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def escape_controls(text: str) -> str:
    """Control characters and the non-characters U+FFFE, U+FFFF as ``_xHHHH_``, a literal
    ``_xHHHH_`` as ``_x005F_xHHHH_``."""
    if _TO_ESCAPE.search(text):
        text = _ESCAPE_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text
