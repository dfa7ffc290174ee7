"""Limit rules: the four caps, the 12-month tenor and the credit line invariant (expected values by hand)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.limits import (
    MAX_DEAL_FEN,
    BindingConstraint,
    CreditLine,
    add_months,
    advance_fen,
    check_request,
    max_amount,
    tenor,
)
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.money import yuan_to_fen

D = Decimal
BIG = 10**13


# ------------------------------------------------------------------------------------------------- max amount


def test_advance_rounds_down_to_the_fen() -> None:
    assert advance_fen(1_000_001, D("0.8")) == 800_000  # 800,000.8 → 800,000
    assert advance_fen(333, D("0.85")) == 283  # 283.05 → 283
    assert advance_fen(999, D("0.999")) == 998  # 998.001 → 998
    assert advance_fen(1_000, D("1")) == 1_000


@pytest.mark.parametrize(
    ("confirmed", "rate", "bank", "sme", "expected", "binding"),
    [
        (100_000_000, D("0.8"), BIG, BIG, 80_000_000, BindingConstraint.ADVANCE_RATE),
        (5_000_000_000, D("0.9"), BIG, BIG, MAX_DEAL_FEN, BindingConstraint.DEAL_CAP),
        (100_000_000, D("0.8"), 50_000_000, BIG, 50_000_000, BindingConstraint.BANK_LINE),
        (100_000_000, D("0.8"), 50_000_000, 40_000_000, 40_000_000, BindingConstraint.SME_EXPOSURE),
        (100_000_000, D("0.8"), 0, BIG, 0, BindingConstraint.BANK_LINE),
        # ties go to the first declared: advance 80,000,000 == bank line 80,000,000
        (100_000_000, D("0.8"), 80_000_000, 80_000_000, 80_000_000, BindingConstraint.ADVANCE_RATE),
        # advance exactly at the cap: the advance binds (declared first)
        (MAX_DEAL_FEN, D("1"), BIG, BIG, MAX_DEAL_FEN, BindingConstraint.ADVANCE_RATE),
    ],
)
def test_max_amount(
    confirmed: int, rate: Decimal, bank: int, sme: int, expected: int, binding: BindingConstraint
) -> None:
    amount, bound, _ = max_amount(confirmed, rate, bank, sme)
    assert (amount, bound) == (expected, binding)
    assert bound.label_zh and bound.label_en


def test_exact_cap_accepted_and_one_fen_over_refused() -> None:
    assert yuan_to_fen("30,000,000.00") == MAX_DEAL_FEN == 3_000_000_000
    assert check_request(yuan_to_fen("30000000.00"), 5_000_000_000, D("0.9"), BIG, BIG) == 3_000_000_000
    with pytest.raises(RuleViolation) as err:
        check_request(yuan_to_fen("30000000.01"), 5_000_000_000, D("0.9"), BIG, BIG)
    assert "单笔融资上限" in err.value.message_zh and "per-deal cap" in err.value.message_en
    assert err.value.detail["exceeded"] == [{"limit": "deal_cap", "limit_fen": MAX_DEAL_FEN}]
    assert err.value.detail["max_amount_fen"] == MAX_DEAL_FEN


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((80_000_001, 100_000_000, D("0.8"), BIG, BIG), "advance_rate"),
        ((50_000_001, 100_000_000, D("0.8"), 50_000_000, BIG), "bank_line"),
        ((40_000_001, 100_000_000, D("0.8"), BIG, 40_000_000), "sme_exposure"),
    ],
)
def test_check_request_names_the_limit(args: tuple[int, int, Decimal, int, int], named: str) -> None:
    with pytest.raises(RuleViolation) as err:
        check_request(*args)
    assert err.value.detail["exceeded"][0]["limit"] == named
    assert check_request(args[0] - 1, *args[1:]) == args[0] - 1


@pytest.mark.parametrize("requested", [0, -1, -MAX_DEAL_FEN, 1.5, 100.0, D("100.5"), D("100"), "100", True, None])
def test_check_request_refuses_bad_amounts(requested: object) -> None:
    with pytest.raises(InvalidInput) as err:
        check_request(requested, 100_000_000, D("0.8"), BIG, BIG)  # type: ignore[arg-type]
    assert err.value.message_zh and err.value.message_en


@pytest.mark.parametrize("rate", [0.8, D("0"), D("1.0001"), D("-0.1"), D("Infinity"), "0.8"])
def test_advance_rate_refused(rate: object) -> None:
    with pytest.raises(InvalidInput):
        max_amount(100_000_000, rate, BIG, BIG)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------------ tenor


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 5, 15), 12, date(2027, 5, 15)),
        (date(2027, 2, 28), 12, date(2028, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
    ],
)
def test_add_months_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_tenor_boundaries() -> None:
    t = tenor(date(2026, 5, 15), date(2027, 5, 15))
    assert (t.start, t.end, t.days) == (date(2026, 5, 15), date(2027, 5, 15), 365)
    assert tenor(date(2028, 2, 29), date(2029, 2, 28)).days == 365
    assert tenor(date(2026, 1, 1), date(2026, 1, 2)).days == 1
    with pytest.raises(RuleViolation) as err:
        tenor(date(2026, 5, 15), date(2027, 5, 16))
    assert "12个月" in err.value.message_zh and err.value.detail["latest_due"] == "2027-05-15"
    with pytest.raises(RuleViolation):
        tenor(date(2028, 2, 29), date(2029, 3, 1))
    with pytest.raises(RuleViolation):
        tenor(date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(RuleViolation):
        tenor(date(2026, 1, 2), date(2026, 1, 1))
    assert tenor(date(2026, 1, 31), date(2026, 4, 30), max_months=3).days == 89
    with pytest.raises(RuleViolation):
        tenor(date(2026, 1, 31), date(2026, 5, 1), max_months=3)


@pytest.mark.parametrize("max_months", [0, 13, -1, True, 6.0])
def test_tenor_max_months_refused(max_months: object) -> None:
    with pytest.raises(InvalidInput):
        tenor(date(2026, 1, 1), date(2026, 2, 1), max_months=max_months)  # type: ignore[arg-type]


def test_tenor_refuses_datetimes() -> None:
    with pytest.raises(InvalidInput):
        tenor(datetime(2026, 1, 1), date(2026, 2, 1))


# ------------------------------------------------------------------------------------------------ credit line


def test_credit_line_reserve_release() -> None:
    line = CreditLine(1_000_000)
    assert line.available == line.available_fen == 1_000_000
    after = line.reserve(400_000)
    assert (after.used_fen, after.available) == (400_000, 600_000)
    assert line.used_fen == 0  # values are immutable
    assert after.reserve(600_000).available == 0
    with pytest.raises(RuleViolation) as err:
        after.reserve(600_001)
    assert "授信额度不足" in err.value.message_zh and "Insufficient" in err.value.message_en
    assert after.release(400_000) == line
    with pytest.raises(RuleViolation):
        after.release(400_001)
    for bad in (0, -1, 1.0, D("1")):
        with pytest.raises(InvalidInput):
            after.reserve(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            after.release(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("line", "used"), [(100, 101), (-1, 0), (100, -1), (100.0, 0)])
def test_credit_line_invalid(line: object, used: object) -> None:
    with pytest.raises(InvalidInput):
        CreditLine(line, used)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------- properties

fen = st.integers(min_value=0, max_value=10**13)
advance_rates = st.decimals(min_value=D("0.0001"), max_value=D("1"), places=4)


@given(fen, advance_rates, fen, fen)
def test_max_amount_never_exceeds_any_limit(confirmed: int, rate: Decimal, bank: int, sme: int) -> None:
    amount, binding, limits = max_amount(confirmed, rate, bank, sme)
    assert amount <= confirmed * rate
    assert amount <= MAX_DEAL_FEN
    assert amount <= bank
    assert amount <= sme
    assert amount == limits[binding] == min(limits.values())
    assert 0 <= confirmed * rate - limits[BindingConstraint.ADVANCE_RATE] < 1  # rounded down, by under a fen


@given(st.integers(min_value=1, max_value=10**13), fen, advance_rates, fen, fen)
def test_check_request_accepts_exactly_up_to_the_max(
    requested: int, confirmed: int, rate: Decimal, bank: int, sme: int
) -> None:
    allowed = max_amount(confirmed, rate, bank, sme).amount_fen
    if requested <= allowed:
        assert check_request(requested, confirmed, rate, bank, sme) == requested
    else:
        with pytest.raises(RuleViolation):
            check_request(requested, confirmed, rate, bank, sme)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**12)), max_size=50),
)
def test_available_plus_used_is_line(line_fen: int, ops: list[tuple[bool, int]]) -> None:
    line = CreditLine(line_fen)
    for is_reserve, amount in ops:
        before = line
        try:
            line = line.reserve(amount) if is_reserve else line.release(amount)
        except RuleViolation:
            assert line == before
            assert amount > (before.available if is_reserve else before.used_fen)
        assert line.available + line.used_fen == line.line_fen == line_fen
        assert 0 <= line.used_fen <= line.line_fen


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 12))
def test_tenor_limit_is_the_calendar_month_end(start: date, months: int) -> None:
    latest = add_months(start, months)
    assert latest.day <= start.day
    assert (latest.year * 12 + latest.month) - (start.year * 12 + start.month) == months
    assert tenor(start, latest, months).end == latest
    with pytest.raises(RuleViolation):
        tenor(start, latest + timedelta(days=1), months)
