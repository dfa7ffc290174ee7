from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qianfan import money
from qianfan.errors import InvalidInput
from qianfan.money import (
    MAX_AMOUNT_FEN,
    fen_to_yuan,
    format_wan,
    format_yuan,
    round_to_fen,
    yuan_to_fen,
)


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_fen_yuan_round_trip(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen)) == fen
    assert yuan_to_fen(str(fen_to_yuan(fen))) == fen


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3))
def test_sub_fen_always_refused(amount: Decimal) -> None:
    if (amount * 100) % 1 == 0:
        assert yuan_to_fen(amount) == int(amount * 100)
    else:
        with pytest.raises(InvalidInput, match="分"):
            yuan_to_fen(amount)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-0.01", "负数"),
        ("0", "大于零"),
        ("abc", "格式无效"),
        ("NaN", "格式无效"),
        ("1e30", "范围"),
        (0.1, "浮点"),
        (True, "浮点"),
    ],
)
def test_refusals_are_bilingual(value: object, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        yuan_to_fen(value)  # type: ignore[arg-type]
    assert fragment in err.value.message_zh and err.value.message_en


def test_zero_allowed_when_asked() -> None:
    assert yuan_to_fen("0.00", allow_zero=True) == 0


def test_rounding_is_half_even_and_explicit() -> None:
    assert round_to_fen(Decimal("2.5")) == 2
    assert round_to_fen(Decimal("3.5")) == 4
    assert round_to_fen(Decimal("2.5"), "ROUND_HALF_UP") == 3


def test_display() -> None:
    assert format_yuan(123456789) == "¥1,234,567.89"
    assert format_yuan(-5) == "-¥0.05"
    assert format_yuan(None) == "—"
    assert format_wan(1_930_000_000_000) == "1,930,000.00万元"


@pytest.mark.parametrize("bad", [1.5, Decimal("1.00"), True, "100", None])
def test_require_fen_refuses_anything_but_an_int(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        money.require_fen(bad, "金额", "The amount")
    assert "以分为单位的整数" in exc.value.message_zh and "integer number of fen" in exc.value.message_en


def test_require_fen_bounds() -> None:
    assert money.require_fen(1, "金额", "The amount") == 1
    assert money.require_fen(0, "金额", "The amount", allow_zero=True) == 0
    assert money.require_fen(-5, "分录金额", "A leg", signed=True) == -5
    for value, kw in ((0, {}), (-1, {"allow_zero": True}), (money.MAX_AMOUNT_FEN + 1, {"signed": True})):
        with pytest.raises(InvalidInput):
            money.require_fen(value, "金额", "The amount", **kw)
