"""Pricing rules.  Expected values are literals computed by hand (shown in the comments) or, for the QuantLib
cross-check, from QuantLib's own day counters — never from the code under test."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.limits import MAX_DEAL_FEN
from finance.pricing import (
    DEFAULT_SPREADS_BP,
    PENALTY_MULTIPLIER,
    DayCount,
    Product,
    RiskGrade,
    annual_rate,
    earned_interest_fen,
    interest_fen,
    offer,
    penalty_interest_fen,
    rate_cap,
    require_rate_within_cap,
)
from qianfan.errors import InvalidInput, RuleViolation

ACT360, ACT365 = DayCount.ACT_360, DayCount.ACT_365F
D = Decimal

# (principal_fen, rate, start, end, basis, expected_fen) — hand-computed, half up to the fen.
GOLDEN = [
    # 1,000,000.00 × 3.5% × 90/360 = 8,750.00 exactly
    (100_000_000, D("0.035"), date(2026, 1, 1), date(2026, 4, 1), ACT360, 875_000),
    # 3,500,000 fen × 90/365 = 863,013.69… → 863,014
    (100_000_000, D("0.035"), date(2026, 1, 1), date(2026, 4, 1), ACT365, 863_014),
    # leap February: 29 days; 4,000,000 × 29/360 = 322,222.22… → 322,222
    (100_000_000, D("0.04"), date(2028, 2, 1), date(2028, 3, 1), ACT360, 322_222),
    # 4,000,000 × 29/365 = 317,808.21… → 317,808
    (100_000_000, D("0.04"), date(2028, 2, 1), date(2028, 3, 1), ACT365, 317_808),
    # from the leap day, 365 days, at the deal cap: 114,000,000 × 365/360 = 115,583,333.33… → 115,583,333
    (MAX_DEAL_FEN, D("0.038"), date(2028, 2, 29), date(2029, 2, 28), ACT360, 115_583_333),
    # same under ACT/365F: exactly one year's interest 114,000,000
    (MAX_DEAL_FEN, D("0.038"), date(2028, 2, 29), date(2029, 2, 28), ACT365, 114_000_000),
    # month end to month end (28 days): 1,234,567,890 × 0.0355 × 28/360 = 3,408,779.11… → 3,408,779
    (1_234_567_890, D("0.0355"), date(2026, 1, 31), date(2026, 2, 28), ACT360, 3_408_779),
    # a whole leap year (366 days) under ACT/365F: 10,000,000 × 0.03 × 366/365 = 300,821.91… → 300,822
    (10_000_000, D("0.03"), date(2028, 1, 1), date(2029, 1, 1), ACT365, 300_822),
    # exact half fen rounds up: 1,000 × 0.036 × 5/360 = 0.5 → 1 ; 5,000 × … = 2.5 → 3 (HALF_EVEN would give 0 and 2)
    (1_000, D("0.036"), date(2026, 6, 1), date(2026, 6, 6), ACT360, 1),
    (5_000, D("0.036"), date(2026, 6, 1), date(2026, 6, 6), ACT360, 3),
    # zero days, zero rate
    (100_000_000, D("0.035"), date(2026, 1, 1), date(2026, 1, 1), ACT360, 0),
    (100_000_000, D("0"), date(2026, 1, 1), date(2026, 12, 31), ACT360, 0),
    # one fen over the cap, 1 day: 3,000,000,001 × 0.035 / 360 = 291,666.66… → 291,667
    (MAX_DEAL_FEN + 1, D("0.035"), date(2026, 12, 31), date(2027, 1, 1), ACT360, 291_667),
]


@pytest.mark.parametrize(("principal", "rate", "start", "end", "basis", "expected"), GOLDEN)
def test_golden_interest(principal: int, rate: Decimal, start: date, end: date, basis: DayCount, expected: int) -> None:
    assert interest_fen(principal, rate, start, end, basis) == expected


def test_default_basis_is_act_360() -> None:
    assert interest_fen(100_000_000, D("0.035"), date(2026, 1, 1), date(2026, 4, 1)) == 875_000


# ---------------------------------------------------------------------------------------------- QuantLib check

_QL_CASES = [
    (date(2026, 1, 1), date(2026, 4, 1)),
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2027, 12, 31), date(2028, 2, 29)),
    (date(2028, 2, 29), date(2029, 2, 28)),
    (date(2028, 2, 28), date(2028, 3, 1)),
    (date(2026, 3, 15), date(2027, 3, 15)),
    (date(2026, 6, 30), date(2026, 12, 31)),
]


@pytest.mark.parametrize(("start", "end"), _QL_CASES)
@pytest.mark.parametrize("basis", [ACT360, ACT365])
@pytest.mark.parametrize(
    ("principal", "rate"), [(100_000_000, D("0.035")), (MAX_DEAL_FEN, D("0.048")), (1_234_567_891, D("0.0415"))]
)
def test_interest_matches_quantlib(start: date, end: date, basis: DayCount, principal: int, rate: Decimal) -> None:
    ql = pytest.importorskip("QuantLib")
    counter = ql.Actual360() if basis is ACT360 else ql.Actual365Fixed()
    qs, qe = ql.Date(start.day, start.month, start.year), ql.Date(end.day, end.month, end.year)
    days = counter.dayCount(qs, qe)
    year_days = round(days / counter.yearFraction(qs, qe))  # QuantLib's own denominator: 360 or 365
    exact = Fraction(principal) * Fraction(rate) * days / year_days
    expected = int(exact + Fraction(1, 2))  # half up (exact is non-negative)
    assert interest_fen(principal, rate, start, end, basis) == expected
    # and the float route agrees to within a fen
    assert abs(expected - principal * float(rate) * counter.yearFraction(qs, qe)) <= 1


# ---------------------------------------------------------------------------------------------- rates, penalty


def test_annual_rate_by_grade() -> None:
    lpr = D("0.030")
    assert annual_rate(lpr, RiskGrade.A) == D("0.0350")
    assert annual_rate(lpr, RiskGrade.B) == D("0.0400")
    assert annual_rate(lpr, RiskGrade.C) == D("0.0480")
    with pytest.raises(RuleViolation) as err:
        annual_rate(lpr, RiskGrade.D)
    assert "不予融资" in err.value.message_zh and "not eligible" in err.value.message_en


def test_annual_rate_custom_spreads_and_bad_input() -> None:
    assert annual_rate(D("0.031"), RiskGrade.A, {RiskGrade.A: 25}) == D("0.0335")
    with pytest.raises(RuleViolation):
        annual_rate(D("0.031"), RiskGrade.B, {RiskGrade.A: 25})
    with pytest.raises(InvalidInput):
        annual_rate(0.03, RiskGrade.A)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        annual_rate(D("0.03"), "A+")  # type: ignore[arg-type]
    assert DEFAULT_SPREADS_BP[RiskGrade.D] is None


def test_penalty_interest() -> None:
    assert D("1.5") == PENALTY_MULTIPLIER
    # 100,000,000 × 0.04 × 1.5 × 10/360 = 166,666.66… → 166,667
    assert penalty_interest_fen(100_000_000, D("0.04"), date(2026, 7, 1), date(2026, 7, 11)) == 166_667
    # ACT/365F: 6,000,000 × 10/365 = 164,383.56… → 164,384
    assert penalty_interest_fen(100_000_000, D("0.04"), date(2026, 7, 1), date(2026, 7, 11), ACT365) == 164_384
    assert penalty_interest_fen(100_000_000, D("0.04"), date(2026, 7, 1), date(2026, 7, 1)) == 0
    assert penalty_interest_fen(100_000_000, D("0.04"), date(2026, 7, 1), date(2026, 6, 1)) == 0
    with pytest.raises(InvalidInput):
        penalty_interest_fen(100_000_000, D("0.04"), date(2026, 7, 1), date(2026, 7, 11), multiplier=D("0.5"))


# -------------------------------------------------------------------------------------------------------- offer


PRODUCT = Product(
    code="BJ-RECV-01",
    advance_rate=D("0.9"),
    arrangement_fee_bp=10,
    fee_min_fen=50_000,
    fee_max_fen=5_000_000,
    four_eyes_threshold_fen=500_000_000,
)


def test_offer_golden() -> None:
    o = offer(PRODUCT, 100_000_000, RiskGrade.B, D("0.030"), date(2026, 1, 1), date(2026, 7, 1))
    assert o.annual_rate == D("0.0400")
    assert o.days == 181
    assert o.interest_fen == 2_011_111  # 4,000,000 × 181/360 = 2,011,111.11…
    assert o.fee_fen == 100_000  # 10 bp of 1,000,000.00 = 1,000.00
    assert o.net_disbursed_fen == 99_900_000
    assert o.total_repayable_fen == 102_011_111
    # (2,011,111 + 100,000) / 99,900,000 × 365/181 = 0.042614… → 4.26%
    assert o.effective_annual_cost == D("0.0426")
    assert o.requires_four_eyes is False
    assert o.basis is ACT360


def test_offer_fee_clamped_and_four_eyes_and_cap() -> None:
    small = offer(PRODUCT, 1_000_000, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 2, 1))
    assert small.fee_fen == 50_000  # 10 bp = 1,000 fen, raised to the minimum
    big = offer(PRODUCT, MAX_DEAL_FEN, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2027, 1, 1))
    assert big.fee_fen == 3_000_000  # 30,000,000.00 × 10 bp = 30,000.00, inside [500.00, 50,000.00]
    assert big.requires_four_eyes is True
    dear = replace(PRODUCT, arrangement_fee_bp=50)
    assert dear.fee_fen(MAX_DEAL_FEN) == 5_000_000  # 150,000.00 capped at the maximum 50,000.00
    assert (
        offer(PRODUCT, 500_000_000, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 2, 1)).requires_four_eyes
        is False
    )
    with pytest.raises(RuleViolation):
        offer(PRODUCT, MAX_DEAL_FEN + 1, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 2, 1))


def test_offer_act365_product_and_refusals() -> None:
    p365 = Product(code="X", advance_rate=D("1"), basis=ACT365)
    o = offer(p365, 100_000_000, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 4, 1))
    assert (o.interest_fen, o.fee_fen, o.effective_annual_cost) == (863_014, 0, D("0.0350"))
    with pytest.raises(RuleViolation):  # beyond 12 months
        offer(p365, 100_000_000, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2027, 1, 2))
    with pytest.raises(RuleViolation):  # grade D
        offer(p365, 100_000_000, RiskGrade.D, D("0.03"), date(2026, 1, 1), date(2026, 4, 1))
    with pytest.raises(RuleViolation):  # due not after start
        offer(p365, 100_000_000, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(InvalidInput):
        offer(p365, 0, RiskGrade.A, D("0.03"), date(2026, 1, 1), date(2026, 4, 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"advance_rate": D("1.01")},
        {"advance_rate": D("0")},
        {"advance_rate": 0.9},
        {"fee_min_fen": 10, "fee_max_fen": 5},
        {"max_tenor_months": 13},
        {"four_eyes_threshold_fen": 0},
        {"basis": "ACT/ACT"},
    ],
)
def test_product_validation(kwargs: dict[str, object]) -> None:
    params: dict[str, object] = {"code": "P", "advance_rate": D("0.8")} | kwargs
    with pytest.raises(InvalidInput):
        Product(**params)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "args",
    [
        (100.0, D("0.03"), date(2026, 1, 1), date(2026, 2, 1)),
        (100, 0.03, date(2026, 1, 1), date(2026, 2, 1)),
        (D("100.5"), D("0.03"), date(2026, 1, 1), date(2026, 2, 1)),
        (True, D("0.03"), date(2026, 1, 1), date(2026, 2, 1)),
        (-1, D("0.03"), date(2026, 1, 1), date(2026, 2, 1)),
        (100, D("-0.01"), date(2026, 1, 1), date(2026, 2, 1)),
        (100, D("NaN"), date(2026, 1, 1), date(2026, 2, 1)),
        (100, D("0.03"), date(2026, 2, 1), date(2026, 1, 1)),
        (100, D("0.03"), datetime(2026, 1, 1), date(2026, 2, 1)),
    ],
)
def test_interest_refuses_bad_input(args: tuple[object, ...]) -> None:
    with pytest.raises(InvalidInput) as err:
        interest_fen(*args)  # type: ignore[arg-type]
    assert err.value.message_zh and err.value.message_en


# ---------------------------------------------------------------------------------------------------- properties

principals = st.integers(min_value=0, max_value=10**14)
rates = st.decimals(min_value=D("0"), max_value=D("0.5"), places=6)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
bases = st.sampled_from(list(DayCount))


@given(principals, rates, starts, st.integers(0, 800), st.integers(0, 800), bases)
def test_interest_monotone_in_days(p: int, r: Decimal, s: date, d1: int, d2: int, b: DayCount) -> None:
    lo, hi = sorted((d1, d2))
    assert interest_fen(p, r, s, s + timedelta(days=lo), b) <= interest_fen(p, r, s, s + timedelta(days=hi), b)


@given(principals, principals, rates, starts, st.integers(0, 800), bases)
def test_interest_monotone_in_principal(p1: int, p2: int, r: Decimal, s: date, d: int, b: DayCount) -> None:
    lo, hi = sorted((p1, p2))
    e = s + timedelta(days=d)
    assert interest_fen(lo, r, s, e, b) <= interest_fen(hi, r, s, e, b)


@given(principals, rates, starts, st.integers(0, 800), bases)
def test_interest_within_half_a_fen_of_exact(p: int, r: Decimal, s: date, d: int, b: DayCount) -> None:
    exact = Fraction(p) * Fraction(r) * d / (360 if b is ACT360 else 365)
    got = interest_fen(p, r, s, s + timedelta(days=d), b)
    assert -Fraction(1, 2) < got - exact <= Fraction(1, 2)


@given(st.floats(allow_nan=True, allow_infinity=True), starts)
def test_no_float_accepted(x: float, s: date) -> None:
    with pytest.raises(InvalidInput):
        interest_fen(100_000, x, s, s + timedelta(days=30))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        interest_fen(x, D("0.03"), s, s + timedelta(days=30))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        annual_rate(x, RiskGrade.A)  # type: ignore[arg-type]


def test_the_rate_cap_is_four_times_the_lpr_and_lives_with_pricing() -> None:
    assert rate_cap(D("0.0300")) == D("0.1200")
    assert require_rate_within_cap(D("0.1200"), D("0.0300")) == D("0.1200")  # exactly the cap is allowed
    with pytest.raises(RuleViolation) as exc:
        require_rate_within_cap(D("0.1201"), D("0.0300"))
    assert "4 × LPR" in exc.value.message_en and "四倍" in exc.value.message_zh


def test_earned_interest_is_rounded_once_never_above_the_whole_term() -> None:
    """Three stretches of an unchanged balance earn what one stretch does (rounding once, not per stretch)."""
    start, rate, principal = date(2026, 1, 1), D("0.06"), 80_000_000
    path = [(start + timedelta(days=2 * i), principal) for i in range(4)]
    end = start + timedelta(days=7)
    assert earned_interest_fen(path, rate, end) == interest_fen(principal, rate, start, end) == 93_333
