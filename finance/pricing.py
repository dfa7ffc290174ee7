"""Pure pricing rules: day count, rate by risk grade, interest, fees, penalty interest and the offer an SME sees.

Exact arithmetic only: principal in integer fen, rates as :class:`~decimal.Decimal` (floats refused), and every
intermediate product kept as an exact :class:`~fractions.Fraction` so the single rounding step is the stated one.

Rounding (a rule that overrides the platform's ROUND_HALF_EVEN default, as the architecture guide allows):

* interest, penalty interest and fees are rounded to the fen **half up** (:data:`INTEREST_ROUNDING`), because
  Chinese banks' loan statements round interest 四舍五入 and the SME must be able to reproduce the bank's figure;
* the effective annual cost shown to the SME is rounded half up to 0.01% (:data:`COST_PLACES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from finance.limits import MAX_DEAL_FEN, MAX_TENOR_MONTHS, require_advance_rate, require_decimal, require_fen, tenor
from qianfan.errors import InvalidInput, RuleViolation

#: Interest and fees: half up to the fen, as on banks' statements (see the module docstring).
INTEREST_ROUNDING = ROUND_HALF_UP  # applied exactly on Fractions by _round_half_up
#: The effective annual cost is shown as a fraction with 4 places (0.01%), half up.
COST_PLACES = Decimal("0.0001")
#: Penalty (overdue) interest = the contract rate × 1.5 (the common 上浮50% of PRC bank loan contracts).
PENALTY_MULTIPLIER = Decimal("1.5")
#: 司法保护上限: courts do not protect interest above four times the 1-year LPR; no loan is priced above it.
RATE_CAP_LPR_MULTIPLE = 4
#: Basis points per unit.
BP = 10_000
#: The effective annual cost is annualised on 365 days whatever the product's basis, so ACT/360 shows its true cost.
COST_YEAR_DAYS = 365


class DayCount(StrEnum):
    """Day-count conventions: actual days over a fixed year of 360 (default) or 365 days."""

    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"

    @property
    def year_days(self) -> int:
        return 360 if self is DayCount.ACT_360 else 365


class RiskGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


#: Default spreads over the 1-year LPR in basis points; ``None`` = the grade is not financed.
DEFAULT_SPREADS_BP: Mapping[RiskGrade, int | None] = MappingProxyType(
    {RiskGrade.A: 50, RiskGrade.B: 100, RiskGrade.C: 180, RiskGrade.D: None}
)


# --------------------------------------------------------------------------------------------------- primitives


def _round_half_up(value: Fraction) -> int:
    """Round a non-negative exact fraction to an integer, half up (exact, no Decimal context involved)."""
    if value < 0:
        raise ValueError("only non-negative amounts are rounded here")
    return int((value * 2 + 1) // 2)


def _require_date(value: object, name: str) -> date:
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInput(f"{name} 必须是日期：{value!r}", f"{name} must be a date: {value!r}", detail={"field": name})
    return value


def _require_rate(value: object, name: str) -> Decimal:
    rate = require_decimal(value, name)
    if rate < 0:
        raise InvalidInput(f"{name} 不能为负数：{rate}", f"{name} must not be negative: {rate}", detail={"field": name})
    return rate


def _require_basis(basis: object) -> DayCount:
    if not isinstance(basis, DayCount):
        raise InvalidInput(
            f"不支持的计息基准：{basis!r}（ACT/360 或 ACT/365F）",
            f"Unsupported day-count basis: {basis!r} (ACT/360 or ACT/365F)",
            detail={"field": "basis"},
        )
    return basis


def day_count(start: date, end: date) -> int:
    """Actual days from ``start`` (inclusive) to ``end`` (exclusive); ``end`` before ``start`` refused."""
    s, e = _require_date(start, "start"), _require_date(end, "end")
    if e < s:
        raise InvalidInput(
            f"计息结束日（{e}）不能早于起始日（{s}）",
            f"The interest end date ({e}) must not be before the start date ({s})",
            detail={"start": s.isoformat(), "end": e.isoformat()},
        )
    return (e - s).days


def _interest_for_days(principal_fen: int, annual_rate: Decimal, days: int, basis: DayCount) -> int:
    exact = Fraction(principal_fen) * Fraction(annual_rate) * days / basis.year_days
    return _round_half_up(exact)


def interest_fen(
    principal_fen: int, annual_rate: Decimal, start: date, end: date, basis: DayCount = DayCount.ACT_360
) -> int:
    """principal × rate × actual days / basis year, rounded half up to the fen (exact arithmetic)."""
    principal = require_fen(principal_fen, "principal_fen")
    rate = _require_rate(annual_rate, "annual_rate")
    days = day_count(start, end)
    return _interest_for_days(principal, rate, days, _require_basis(basis))


def earned_interest_fen(
    balances: Sequence[tuple[date, int]], annual_rate: Decimal, until: date, basis: DayCount = DayCount.ACT_360
) -> int:
    """Interest earned up to ``until`` (exclusive) on a principal that changes: ``balances`` lists, from the loan's
    start, each day from which a principal balance holds (ascending).  The stretches' interest is summed exactly
    and rounded half up to the fen once (the module's single rounding step), so it never exceeds the interest on
    the first balance held to ``until``, and with one balance it is exactly :func:`interest_fen`.  What an early
    repayment pays: interest to the day, on what was outstanding."""
    rate = _require_rate(annual_rate, "annual_rate")
    year_days = _require_basis(basis).year_days
    total = Fraction(0)
    for i, (start, principal) in enumerate(balances):
        end = min(balances[i + 1][0] if i + 1 < len(balances) else until, until)
        if end > start and principal > 0:
            total += (
                Fraction(require_fen(principal, "principal_fen")) * Fraction(rate) * day_count(start, end) / year_days
            )
    return _round_half_up(total)


def penalty_interest_fen(
    overdue_principal_fen: int,
    annual_rate: Decimal,
    due: date,
    paid_on: date,
    basis: DayCount = DayCount.ACT_360,
    multiplier: Decimal = PENALTY_MULTIPLIER,
) -> int:
    """Penalty interest on principal unpaid after ``due``: rate × ``multiplier`` for each day overdue until
    ``paid_on`` (exclusive of ``due`` itself, so payment on the due date costs nothing); half up to the fen."""
    mult = _require_rate(multiplier, "multiplier")
    if mult < 1:
        raise InvalidInput(
            f"罚息倍数不能小于1：{mult}",
            f"The penalty multiplier must be at least 1: {mult}",
            detail={"field": "multiplier"},
        )
    d, p = _require_date(due, "due"), _require_date(paid_on, "paid_on")
    if p <= d:
        require_fen(overdue_principal_fen, "overdue_principal_fen")
        _require_rate(annual_rate, "annual_rate")
        return 0
    return interest_fen(overdue_principal_fen, _require_rate(annual_rate, "annual_rate") * mult, d, p, basis)


def annual_rate(
    lpr: Decimal, grade: RiskGrade, spreads: Mapping[RiskGrade, int | None] = DEFAULT_SPREADS_BP
) -> Decimal:
    """The 1-year LPR plus the grade's spread (basis points); a grade without a spread is refused."""
    base = _require_rate(lpr, "lpr")
    if not isinstance(grade, RiskGrade):
        raise InvalidInput(f"未知的风险等级：{grade!r}", f"Unknown risk grade: {grade!r}", detail={"field": "grade"})
    spread = spreads.get(grade)
    if spread is None:
        raise RuleViolation(
            f"风险等级 {grade} 不予融资",
            f"Risk grade {grade} is not eligible for financing",
            detail={"grade": str(grade)},
        )
    if isinstance(spread, bool) or not isinstance(spread, int):
        raise InvalidInput(
            f"利差必须是整数基点：{spread!r}",
            f"Spreads must be whole basis points: {spread!r}",
            detail={"grade": str(grade)},
        )
    rate = base + Decimal(spread) / BP
    if rate < 0:
        raise InvalidInput(
            f"年利率不能为负数：{rate}", f"The annual rate must not be negative: {rate}", detail={"grade": str(grade)}
        )
    return rate


def rate_cap(lpr: Decimal) -> Decimal:
    """The highest annual rate a loan may carry: :data:`RATE_CAP_LPR_MULTIPLE` × the 1-year LPR."""
    return _require_rate(lpr, "lpr") * RATE_CAP_LPR_MULTIPLE


def require_rate_within_cap(rate: Decimal, lpr: Decimal) -> Decimal:
    """Refuse a rate above :func:`rate_cap` (the courts' ceiling); returns the rate."""
    cap = rate_cap(lpr)
    if _require_rate(rate, "annual_rate") > cap:
        raise RuleViolation(
            f"年利率{rate:.2%}超过LPR四倍的司法保护上限{cap:.2%}",
            f"The annual rate {rate:.2%} exceeds the legal ceiling of 4 × LPR ({cap:.2%})",
            detail={"annual_rate": str(rate), "cap": str(cap)},
        )
    return rate


# ------------------------------------------------------------------------------------------------------ product


@dataclass(frozen=True, slots=True)
class Product:
    """A bank's receivables-finance product: the parameters a bank sets once, validated on construction."""

    code: str
    advance_rate: Decimal
    basis: DayCount = DayCount.ACT_360
    spreads_bp: Mapping[RiskGrade, int | None] = field(default_factory=lambda: DEFAULT_SPREADS_BP)
    arrangement_fee_bp: int = 0
    fee_min_fen: int = 0
    fee_max_fen: int = 0
    four_eyes_threshold_fen: int = 5_000_000_00
    max_tenor_months: int = MAX_TENOR_MONTHS

    def __post_init__(self) -> None:
        require_advance_rate(self.advance_rate)
        _require_basis(self.basis)
        require_fen(self.arrangement_fee_bp, "arrangement_fee_bp")
        require_fen(self.fee_min_fen, "fee_min_fen")
        require_fen(self.fee_max_fen, "fee_max_fen")
        require_fen(self.four_eyes_threshold_fen, "four_eyes_threshold_fen", allow_zero=False)
        if self.fee_min_fen > self.fee_max_fen:
            raise InvalidInput(
                f"最低手续费（{self.fee_min_fen}分）不能高于最高手续费（{self.fee_max_fen}分）",
                f"The minimum fee ({self.fee_min_fen} fen) must not exceed the maximum fee ({self.fee_max_fen} fen)",
                detail={"fee_min_fen": self.fee_min_fen, "fee_max_fen": self.fee_max_fen},
            )
        if (
            isinstance(self.max_tenor_months, bool)
            or not isinstance(self.max_tenor_months, int)
            or not 1 <= self.max_tenor_months <= MAX_TENOR_MONTHS
        ):
            raise InvalidInput(
                f"产品最长期限必须在1到{MAX_TENOR_MONTHS}个月之间：{self.max_tenor_months!r}",
                f"The product's maximum tenor must be 1 to {MAX_TENOR_MONTHS} months: {self.max_tenor_months!r}",
                detail={"field": "max_tenor_months"},
            )

    def fee_fen(self, principal_fen: int) -> int:
        """Arrangement fee = principal × fee bp (half up to the fen), clamped to [fee_min_fen, fee_max_fen]."""
        principal = require_fen(principal_fen, "principal_fen")
        raw = _round_half_up(Fraction(principal) * self.arrangement_fee_bp / BP)
        return min(max(raw, self.fee_min_fen), self.fee_max_fen)


@dataclass(frozen=True, slots=True)
class FinanceOffer:
    """What the SME sees before it signs.  The fee is deducted at disbursement; interest is paid at maturity."""

    product_code: str
    grade: RiskGrade
    principal_fen: int
    annual_rate: Decimal
    basis: DayCount
    start: date
    due: date
    days: int
    interest_fen: int
    fee_fen: int
    net_disbursed_fen: int
    total_repayable_fen: int
    effective_annual_cost: Decimal
    requires_four_eyes: bool


def offer(product: Product, principal_fen: int, grade: RiskGrade, lpr: Decimal, start: date, due: date) -> FinanceOffer:
    """Price a loan of ``principal_fen`` from ``start`` to the receivable's ``due`` date.

    The effective annual cost is (interest + fee) / net cash received × 365 / days: simple annualised cost of the
    money actually received, comparable across ACT/360 and ACT/365F products.
    """
    principal = require_fen(principal_fen, "principal_fen", allow_zero=False)
    if principal > MAX_DEAL_FEN:
        raise RuleViolation(
            "单笔融资金额不得超过3000万元",
            "A single financing deal may not exceed 30,000,000.00 RMB",
            detail={"principal_fen": principal, "max_deal_fen": MAX_DEAL_FEN},
        )
    term = tenor(start, due, product.max_tenor_months)
    rate = annual_rate(lpr, grade, product.spreads_bp)
    interest = _interest_for_days(principal, rate, term.days, product.basis)
    fee = product.fee_fen(principal)
    net = principal - fee
    if net <= 0:
        raise RuleViolation(
            "手续费不低于融资金额，无法放款",
            "The fee is not less than the principal: nothing would be disbursed",
            detail={"principal_fen": principal, "fee_fen": fee},
        )
    cost = Fraction(interest + fee) / net * Fraction(COST_YEAR_DAYS, term.days)
    effective = Decimal(_round_half_up(cost / Fraction(COST_PLACES))) * COST_PLACES
    return FinanceOffer(
        product_code=product.code,
        grade=grade,
        principal_fen=principal,
        annual_rate=rate,
        basis=product.basis,
        start=term.start,
        due=term.end,
        days=term.days,
        interest_fen=interest,
        fee_fen=fee,
        net_disbursed_fen=net,
        total_repayable_fen=principal + interest,
        effective_annual_cost=effective,
        requires_four_eyes=principal > product.four_eyes_threshold_fen,
    )
