"""Pure limit rules for a financing request: the four caps, the tenor, and a credit line value.

No database, no clock, no web: every function takes what it needs and returns a value or raises a bilingual
:class:`~qianfan.errors.DomainError`.  Amounts are integer fen; rates are :class:`~decimal.Decimal`; floats are
refused everywhere.

Rounding: the advance (confirmed amount × advance rate) is rounded **down** to the fen, never up, so the
amount offered can never exceed the product's advance rate.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import NamedTuple

from qianfan import money
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.money import format_yuan

#: 30,000,000.00 RMB — the programme's cap per financing deal (no guarantee, one deal at most this), in fen.
MAX_DEAL_FEN = 3_000_000_000
#: The programme's tenor cap: a financed receivable is repaid within 12 months of the loan's start.
MAX_TENOR_MONTHS = 12


class BindingConstraint(StrEnum):
    """Which of the four limits decides the maximum amount (declared in tie-break order)."""

    ADVANCE_RATE = "advance_rate"
    DEAL_CAP = "deal_cap"
    BANK_LINE = "bank_line"
    SME_EXPOSURE = "sme_exposure"
    CONTRACT_HEADROOM = "contract_headroom"  # contract finance: unpaid value less what is financed on it
    SME_LINE = "sme_line"  # a drawdown: what is left of the SME's revolving line

    @property
    def label_zh(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS: dict[BindingConstraint, tuple[str, str]] = {
    BindingConstraint.ADVANCE_RATE: ("确权金额×融资比例", "confirmed amount × advance rate"),
    BindingConstraint.DEAL_CAP: ("单笔融资上限（3000万元）", "per-deal cap (30,000,000.00 RMB)"),
    BindingConstraint.BANK_LINE: (
        "银行对该核心企业的剩余授信额度",
        "bank's remaining credit line for the core enterprise",
    ),
    BindingConstraint.SME_EXPOSURE: ("企业剩余融资敞口额度", "SME's remaining exposure limit"),
    BindingConstraint.CONTRACT_HEADROOM: (
        "合同未付金额减去该合同上已有的融资",
        "contract's unpaid value less the finance already on it",
    ),
    BindingConstraint.SME_LINE: ("企业循环额度的剩余额度", "what is left of the SME's revolving line"),
}


class MaxAmount(NamedTuple):
    """The largest amount that may be requested and the limit that decides it (for the SME's explanation)."""

    amount_fen: int
    binding_constraint: BindingConstraint
    limits_fen: dict[BindingConstraint, int]


# --------------------------------------------------------------------------------------------------- validation


def require_fen(value: object, name: str, *, allow_zero: bool = True) -> int:
    """An amount in integer fen named *name* in both languages (see :func:`qianfan.money.require_fen`)."""
    return money.require_fen(value, name, name, allow_zero=allow_zero)


def require_decimal(value: object, name: str) -> Decimal:
    """A finite ``Decimal``; floats (and anything else) refused so no binary rounding sneaks in."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(
            f"{name} 必须是精确的十进制数（Decimal），不接受浮点数：{value!r}",
            f"{name} must be an exact Decimal, never a float: {value!r}",
            detail={"field": name, "value": repr(value)},
        )
    return value


def require_advance_rate(advance_rate: object) -> Decimal:
    rate = require_decimal(advance_rate, "advance_rate")
    if not Decimal(0) < rate <= Decimal(1):
        raise InvalidInput(
            f"融资比例必须大于0且不超过100%：{rate}",
            f"The advance rate must be greater than 0 and at most 100%: {rate}",
            detail={"field": "advance_rate", "value": str(rate)},
        )
    return rate


# ------------------------------------------------------------------------------------------------------- amounts


def advance_fen(confirmed_fen: int, advance_rate: Decimal) -> int:
    """Confirmed amount × advance rate, rounded **down** to the fen (exact: int × Decimal, then floor)."""
    confirmed = require_fen(confirmed_fen, "confirmed_fen")
    rate = require_advance_rate(advance_rate)
    return int((Decimal(confirmed) * rate).to_integral_value(rounding=ROUND_DOWN))


def max_amount(
    confirmed_fen: int,
    advance_rate: Decimal,
    bank_line_remaining_fen: int,
    sme_exposure_remaining_fen: int,
    extra_fen: Mapping[BindingConstraint, int] | None = None,
) -> MaxAmount:
    """The smallest of the four limits (and any *extra_fen* a product adds: a contract's headroom, an SME line)
    and which one binds (ties go to the first in :class:`BindingConstraint`)."""
    limits = {
        BindingConstraint.ADVANCE_RATE: advance_fen(confirmed_fen, advance_rate),
        BindingConstraint.DEAL_CAP: MAX_DEAL_FEN,
        BindingConstraint.BANK_LINE: require_fen(bank_line_remaining_fen, "bank_line_remaining_fen"),
        BindingConstraint.SME_EXPOSURE: require_fen(sme_exposure_remaining_fen, "sme_exposure_remaining_fen"),
    }
    for constraint, value in (extra_fen or {}).items():
        # A headroom already overdrawn (negative) allows nothing; anything but integer fen is refused.
        limits[constraint] = require_fen(max(0, value) if type(value) is int else value, str(constraint))
    binding = min(limits, key=lambda c: limits[c])  # min() keeps the first of equal values: declaration order
    return MaxAmount(limits[binding], binding, limits)


def check_request(
    requested_fen: int,
    confirmed_fen: int,
    advance_rate: Decimal,
    bank_line_remaining_fen: int,
    sme_exposure_remaining_fen: int,
    extra_fen: Mapping[BindingConstraint, int] | None = None,
    *,
    base_label: tuple[str, str] | None = None,
) -> int:
    """Accept ``requested_fen`` (returned unchanged) or refuse it naming every limit it exceeds."""
    requested = require_fen(requested_fen, "requested_fen", allow_zero=False)
    result = max_amount(confirmed_fen, advance_rate, bank_line_remaining_fen, sme_exposure_remaining_fen, extra_fen)
    exceeded = [c for c, limit in result.limits_fen.items() if requested > limit]
    if exceeded:
        first = exceeded[0]
        limit = result.limits_fen[first]
        label_zh, label_en = first.label_zh, first.label_en
        if first is BindingConstraint.ADVANCE_RATE and base_label is not None:  # e.g. the unpaid contract value
            label_zh, label_en = f"{base_label[0]}×融资比例", f"{base_label[1]} × advance rate"
        raise RuleViolation(
            f"申请金额{format_yuan(requested)}超过{label_zh}：{format_yuan(limit)}；"
            f"最高可申请{format_yuan(result.amount_fen)}",
            f"The requested {format_yuan(requested)} exceeds the {label_en}: {format_yuan(limit)}; "
            f"at most {format_yuan(result.amount_fen)} may be requested",
            detail={
                "requested_fen": requested,
                "max_amount_fen": result.amount_fen,
                "binding_constraint": str(result.binding_constraint),
                "exceeded": [{"limit": str(c), "limit_fen": result.limits_fen[c]} for c in exceeded],
            },
        )
    return requested


# --------------------------------------------------------------------------------------------------------- tenor


def add_months(start: date, months: int) -> date:
    """``start`` plus calendar months; with no corresponding day the period ends on the month's last day.

    This is the rule of the PRC Civil Code art. 202 (到期月的对应日为期间的最后一日；没有对应日的，月末日为
    期间的最后一日): 2026-01-31 + 1 month = 2026-02-28, 2027-02-28 + 12 months = 2028-02-28.
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))


@dataclass(frozen=True, slots=True)
class Tenor:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def tenor(start: date, due: date, max_months: int = MAX_TENOR_MONTHS) -> Tenor:
    """The loan's tenor: from ``start`` to the receivable's due date, at most ``max_months`` calendar months."""
    for name, value in (("start", start), ("due", due)):
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise InvalidInput(
                f"{name} 必须是日期：{value!r}", f"{name} must be a date: {value!r}", detail={"field": name}
            )
    if isinstance(max_months, bool) or not isinstance(max_months, int) or not 1 <= max_months <= MAX_TENOR_MONTHS:
        raise InvalidInput(
            f"最长期限必须在1到{MAX_TENOR_MONTHS}个月之间：{max_months!r}",
            f"The maximum tenor must be between 1 and {MAX_TENOR_MONTHS} months: {max_months!r}",
            detail={"field": "max_months", "value": repr(max_months)},
        )
    if due <= start:
        raise RuleViolation(
            f"应收账款到期日（{due}）必须晚于融资起始日（{start}）",
            f"The receivable's due date ({due}) must be after the loan's start ({start})",
            detail={"start": start.isoformat(), "due": due.isoformat()},
        )
    latest = add_months(start, max_months)
    if due > latest:
        raise RuleViolation(
            f"融资期限不得超过{max_months}个月：到期日{due}晚于{latest}",
            f"The tenor may not exceed {max_months} months: due date {due} is after {latest}",
            detail={"start": start.isoformat(), "due": due.isoformat(), "latest_due": latest.isoformat()},
        )
    return Tenor(start, due)


# --------------------------------------------------------------------------------------------------- credit line


@dataclass(frozen=True, slots=True)
class CreditLine:
    """An immutable credit line value; invariant ``available + used == line`` and ``0 <= used <= line``."""

    line_fen: int
    used_fen: int = 0

    def __post_init__(self) -> None:
        require_fen(self.line_fen, "line_fen")
        require_fen(self.used_fen, "used_fen")
        if self.used_fen > self.line_fen:
            raise InvalidInput(
                f"已用额度{format_yuan(self.used_fen)}超过授信额度{format_yuan(self.line_fen)}",
                f"Used {format_yuan(self.used_fen)} exceeds the line of {format_yuan(self.line_fen)}",
                detail={"line_fen": self.line_fen, "used_fen": self.used_fen},
            )

    @property
    def available_fen(self) -> int:
        return self.line_fen - self.used_fen

    @property
    def available(self) -> int:
        """Alias of :attr:`available_fen`."""
        return self.available_fen

    def reserve(self, amount_fen: int) -> CreditLine:
        amount = require_fen(amount_fen, "amount_fen", allow_zero=False)
        if amount > self.available_fen:
            raise RuleViolation(
                f"授信额度不足：申请占用{format_yuan(amount)}，可用{format_yuan(self.available_fen)}",
                f"Insufficient credit line: {format_yuan(amount)} requested, {format_yuan(self.available_fen)} "
                "available",
                detail={"amount_fen": amount, "available_fen": self.available_fen, "line_fen": self.line_fen},
            )
        return CreditLine(self.line_fen, self.used_fen + amount)

    def release(self, amount_fen: int) -> CreditLine:
        amount = require_fen(amount_fen, "amount_fen", allow_zero=False)
        if amount > self.used_fen:
            raise RuleViolation(
                f"释放金额{format_yuan(amount)}超过已用额度{format_yuan(self.used_fen)}",
                f"Cannot release {format_yuan(amount)}: only {format_yuan(self.used_fen)} is used",
                detail={"amount_fen": amount, "used_fen": self.used_fen},
            )
        return CreditLine(self.line_fen, self.used_fen - amount)
