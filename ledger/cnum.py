"""Chinese numerals, both ways: 十二 → 12 for what people write, 12 → 十二 for what ledger writes."""

from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NAMES = "零一二三四五六七八九"
FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
#: 周一 … 周日, by ``date.weekday()``
WEEKDAY_NAMES = "一二三四五六日"


def cn_int(text: str) -> int | None:
    """"十二" → 12, "一百零五" → 105, "二〇二二" → 2022 (digit by digit), "3" or "３" → 3;
    None when *text* is not a number."""
    text = text.strip().translate(FULLWIDTH_DIGITS)
    if text.isdigit():
        return int(text)
    if not text:
        return None
    if len(text) == 4 and all(c in DIGITS for c in text):  # years: 二〇二二
        return int("".join(str(DIGITS[c]) for c in text))
    total = current = 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 35 → 三十五, 105 → 一百零五, 110 → 一百一十, 0 → 零 (up to 999)."""
    if not 0 <= n < 1000:
        raise ValueError(f"{n} is outside 0–999")
    if n < 10:
        return _NAMES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _NAMES[tens]}十{_NAMES[ones] if ones else ''}"
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return f"{_NAMES[hundreds]}百"
    if rest < 10:
        return f"{_NAMES[hundreds]}百零{_NAMES[rest]}"
    return f"{_NAMES[hundreds]}百{_NAMES[rest // 10]}十{_NAMES[rest % 10] if rest % 10 else ''}"
