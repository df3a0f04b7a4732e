"""Chinese numerals both ways: what units and notices write, what ledger prints."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.cnum import cn_int, cn_numeral


@pytest.mark.parametrize(("text", "number"), [
    ("五", 5), ("十", 10), ("十二", 12), ("二十", 20), ("两", 2), ("八十五", 85), ("一百", 100), ("百", 100),
    ("一百零五", 105), ("二〇二二", 2022), ("二○二三", 2023), ("3", 3), ("３", 3), (" 12 ", 12),
])
def test_cn_int_reads_what_people_write(text: str, number: int) -> None:
    assert cn_int(text) == number


@pytest.mark.parametrize("text", ["", "八成", "很多", "12%", "十二个"])
def test_cn_int_refuses_what_is_no_number(text: str) -> None:
    assert cn_int(text) is None


def test_cn_numeral_writes_the_usual_forms() -> None:
    assert [cn_numeral(n) for n in (0, 1, 10, 12, 20, 35, 99)] == ["零", "一", "十", "十二", "二十", "三十五", "九十九"]
    assert [cn_numeral(n) for n in (100, 105, 110, 119, 999)] == ["一百", "一百零五", "一百一十", "一百一十九", "九百九十九"]
    with pytest.raises(ValueError):
        cn_numeral(1000)


@given(st.integers(min_value=1, max_value=999))
def test_round_trip(n: int) -> None:
    assert cn_int(cn_numeral(n)) == n
