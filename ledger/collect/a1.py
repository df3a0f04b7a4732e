"""A1 cell references: the reader, the pre-check's scans and the checks all name cells."""

from __future__ import annotations


def col_letters(index: int) -> str:
    """Zero-based column index to letters: 0 → A, 27 → AB."""
    n, out = index + 1, ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_ref(row: int, col: int) -> str:
    """Zero-based (row, col) to an A1 reference."""
    return f"{col_letters(col)}{row + 1}"


def parse_ref(ref: str) -> tuple[int, int]:
    """A1 reference (``$`` allowed) to zero-based (row, col)."""
    ref = ref.replace("$", "")
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = ref[len(letters):]
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def range_cells(rng: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``B5:C6`` to zero-based ((top, left), (bottom, right))."""
    first, _, last = rng.partition(":")
    return parse_ref(first), parse_ref(last or first)
