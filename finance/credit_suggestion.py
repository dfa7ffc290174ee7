"""A suggested revolving credit line grown from an SME's settled trade on the platform (issue 8, part 3).

Pure: ``suggest(record) -> CreditSuggestion`` over a frozen :class:`TradeRecord` of the last 12 months as of
``record.as_of``.  No database, no clock; the service gathers the record.  It is a *suggestion* shown to a bank,
with every reason naming the figure of the record it came from — the bank decides.

**Blocking rules** — any one gives "no line" (amount 0), listing every blocking reason:

==============================  ==============================================================
Figure                          Blocks when
==============================  ==============================================================
``defaults``                    ≥ 1 (a loan ever more than 90 days late — the risk check's default)
``loans_overdue_now``           ≥ 1
``months_on_platform``          < 6  (:data:`MIN_MONTHS_ON_PLATFORM`)
``settled_deals``               < 3  (:data:`MIN_SETTLED_DEALS`)
==============================  ==============================================================

**Amount** (integer fen; every step rounds down, never up):

1. rate (percentage points) = 30 (:data:`BASE_RATE_PCT`) + the adjustments below, kept within 0 … 50
   (:data:`MAX_RATE_PCT`);
2. by volume = ``settled_fen × rate ÷ 100``, floored to the fen — so never above the *cap from volume*
   ``settled_fen × 50 ÷ 100``;
3. capped at 3 × ``largest_deal_fen`` (:data:`LARGEST_DEAL_MULTIPLE`) and at 30,000,000.00
   (:data:`MAX_LINE_FEN`, the programme's cap per deal);
4. rounded down to a multiple of 10,000.00 (:data:`ROUND_UNIT_FEN`); if that is 0 there is no line.

=================================  ==================================================  =========
Figure                             Band                                                Points
=================================  ==================================================  =========
``on_time_delivery_share``         < 0.80 → −10, 0.80–0.95 → 0, ≥ 0.95 → +5            (only if
                                                                                        deliveries ≥ 1;
                                                                                        else 0)
``loans_repaid_on_time``           0 → 0, 1–2 → +2, ≥ 3 → +5
``loans_repaid_late``              0 → 0, 1 → −5, ≥ 2 → −10
``distinct_buyers``                1 → −10, 2 → −5, ≥ 3 → 0 (concentration on few buyers)
``disputes``                       0 → 0, 1 → −5, ≥ 2 → −10
``confirmed_receivables``          0–2 → 0, ≥ 3 → +5
=================================  ==================================================  =========

Every band is monotone: a better figure never lowers the amount.  Highest rate 30 + 5 + 5 + 5 = 45 ≤ 50.

**Tenor**: 12 months (:data:`finance.limits.MAX_TENOR_MONTHS`), revolving; to be reviewed by
``as_of + 12 months``.

Reasons: each :class:`Reason` names one field of the record (``figure``) and carries its value as an exact
string (``str`` of the int or the ``Decimal``) and its effect on the amount (``+``, ``-``, ``0`` for a check
passed with no effect, ``blocking``).  The constants of the rules appear in the texts beside the figure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from finance.limits import MAX_DEAL_FEN, MAX_TENOR_MONTHS, add_months
from qianfan.errors import InvalidInput
from qianfan.money import format_yuan

#: Stored with every suggestion, so one read back later says which table produced it.
RULES_VERSION = "credit-line-2026.1"

MIN_MONTHS_ON_PLATFORM = 6
MIN_SETTLED_DEALS = 3
BASE_RATE_PCT = 30
MAX_RATE_PCT = 50
LARGEST_DEAL_MULTIPLE = 3
MAX_LINE_FEN = MAX_DEAL_FEN  # 30,000,000.00
ROUND_UNIT_FEN = 1_000_000  # 10,000.00
TENOR_MONTHS = MAX_TENOR_MONTHS

#: Bands as ((lower bound inclusive, points), ...) ascending; the last band whose bound ≤ value applies.
DELIVERY_SHARE_BANDS: tuple[tuple[Decimal, int], ...] = ((Decimal(0), -10), (Decimal("0.80"), 0), (Decimal("0.95"), 5))
REPAID_ON_TIME_BANDS = ((0, 0), (1, 2), (3, 5))
REPAID_LATE_BANDS = ((0, 0), (1, -5), (2, -10))
BUYER_BANDS = ((0, -10), (2, -5), (3, 0))
DISPUTE_BANDS = ((0, 0), (1, -5), (2, -10))
CONFIRMED_BANDS = ((0, 0), (3, 5))


def _band(value: int | Decimal, bands: Sequence[tuple[int, int]] | Sequence[tuple[Decimal, int]]) -> int:
    points = bands[0][1]
    for lower, band_points in bands:
        if value >= lower:
            points = band_points
    return points


class Effect(StrEnum):
    PLUS = "+"
    MINUS = "-"
    NONE = "0"
    BLOCKING = "blocking"


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """An SME's record on the platform over the 12 months up to ``as_of`` (defaults: over its whole history)."""

    as_of: date
    months_on_platform: int = 0
    settled_fen: int = 0  # settled trade volume in the 12 months
    settled_deals: int = 0  # contracts (or receivables without a contract) settled in the 12 months
    largest_deal_fen: int = 0
    distinct_buyers: int = 0  # of the settled deals
    deliveries: int = 0  # contracts delivered in the 12 months
    on_time_delivery_share: Decimal = Decimal(0)  # of those deliveries, 0 … 1
    confirmed_receivables: int = 0  # confirmed by the buyers in the 12 months
    confirmed_fen: int = 0
    disputes: int = 0  # receivables refused by the buyer in the 12 months
    loans_repaid_on_time: int = 0  # in the 12 months
    loans_repaid_late: int = 0
    loans_overdue_now: int = 0
    defaults: int = 0  # ever

    def __post_init__(self) -> None:
        bad = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "as_of":
                ok = isinstance(value, date) and not hasattr(value, "hour")
            elif f.name == "on_time_delivery_share":
                ok = isinstance(value, Decimal) and value.is_finite() and Decimal(0) <= value <= Decimal(1)
            else:
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            if not ok:
                bad.append(f.name)
        if not bad:
            if self.largest_deal_fen > self.settled_fen:
                bad.append("largest_deal_fen")
            if self.distinct_buyers > self.settled_deals:
                bad.append("distinct_buyers")
        if bad:
            raise InvalidInput(
                f"交易记录无效（次数和金额须为非负整数，按时交付比例为0到1的Decimal）：{', '.join(bad)}",
                "Invalid trade record (counts and amounts must be non-negative integers, the on-time share a "
                f"Decimal from 0 to 1): {', '.join(bad)}",
                detail={"fields": bad},
            )

    def value_of(self, figure: str) -> str:
        """The exact string of one figure, as a reason carries it."""
        return str(getattr(self, figure))


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text_zh: str
    text_en: str
    figure: str  # the name of a field of TradeRecord
    value: str  # its value, exact
    effect: Effect
    points: int = 0  # percentage points added to the rate (0 for blocking and caps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "figure": self.figure,
            "value": self.value,
            "effect": self.effect.value,
            "points": self.points,
        }


@dataclass(frozen=True, slots=True)
class CreditSuggestion:
    record: TradeRecord
    has_line: bool
    amount_fen: int
    rate_pct: int  # the share of the settled volume after adjustments (0 when blocked)
    tenor_months: int
    revolving: bool
    review_by: date
    reasons: tuple[Reason, ...]
    rules_version: str = field(default=RULES_VERSION)

    @property
    def blocking(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.effect == Effect.BLOCKING)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.record.as_of.isoformat(),
            "has_line": self.has_line,
            "amount_fen": self.amount_fen,
            "rate_pct": self.rate_pct,
            "tenor_months": self.tenor_months,
            "revolving": self.revolving,
            "review_by": self.review_by.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "record": {
                f.name: (
                    getattr(self.record, f.name).isoformat() if f.name == "as_of" else self.record.value_of(f.name)
                )
                for f in fields(self.record)
            },
            "rules_version": self.rules_version,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def _reason(record: TradeRecord, code: str, zh: str, en: str, figure: str, effect: Effect, points: int = 0) -> Reason:
    return Reason(code, zh, en, figure, record.value_of(figure), effect, points)


def _effect(points: int) -> Effect:
    return Effect.PLUS if points > 0 else Effect.MINUS if points < 0 else Effect.NONE


# --------------------------------------------------------------------------------------------- blocking


def blocking_reasons(r: TradeRecord) -> list[Reason]:
    out: list[Reason] = []
    if r.defaults > 0:
        out.append(
            _reason(
                r,
                "default",
                f"曾有违约（逾期超过90天）贷款 {r.defaults} 笔",
                f"{r.defaults} loans in default (more than 90 days late)",
                "defaults",
                Effect.BLOCKING,
            )
        )
    if r.loans_overdue_now > 0:
        out.append(
            _reason(
                r,
                "overdue_now",
                f"当前逾期贷款 {r.loans_overdue_now} 笔",
                f"{r.loans_overdue_now} loans overdue now",
                "loans_overdue_now",
                Effect.BLOCKING,
            )
        )
    if r.months_on_platform < MIN_MONTHS_ON_PLATFORM:
        out.append(
            _reason(
                r,
                "too_new",
                f"入驻平台 {r.months_on_platform} 个月，不足 {MIN_MONTHS_ON_PLATFORM} 个月",
                f"{r.months_on_platform} months on the platform, fewer than {MIN_MONTHS_ON_PLATFORM}",
                "months_on_platform",
                Effect.BLOCKING,
            )
        )
    if r.settled_deals < MIN_SETTLED_DEALS:
        out.append(
            _reason(
                r,
                "too_few_deals",
                f"近12个月结清交易 {r.settled_deals} 笔，不足 {MIN_SETTLED_DEALS} 笔",
                f"{r.settled_deals} deals settled in 12 months, fewer than {MIN_SETTLED_DEALS}",
                "settled_deals",
                Effect.BLOCKING,
            )
        )
    return out  # fmt: skip


# ------------------------------------------------------------------------------------------- adjustments


def adjustment_reasons(r: TradeRecord) -> list[Reason]:
    """The base and one reason per line of the points table, each with the points it adds to the rate."""
    out = [
        _reason(r, "settled_volume",
                f"近12个月结清交易额 {format_yuan(r.settled_fen)}，基础额度比例 {BASE_RATE_PCT}%",
                f"{format_yuan(r.settled_fen)} of trade settled in 12 months; base rate {BASE_RATE_PCT}%",
                "settled_fen", Effect.PLUS, BASE_RATE_PCT),
        _reason(r, "months_on_platform", f"入驻平台 {r.months_on_platform} 个月",
                f"{r.months_on_platform} months on the platform", "months_on_platform", Effect.NONE),
        _reason(r, "settled_deals", f"近12个月结清交易 {r.settled_deals} 笔",
                f"{r.settled_deals} deals settled in 12 months", "settled_deals", Effect.NONE),
    ]  # fmt: skip
    if r.deliveries == 0:
        out.append(_reason(r, "no_deliveries", "近12个月无交付记录，按时交付不作调整",
                           "No deliveries recorded in 12 months: no adjustment for on-time delivery",
                           "deliveries", Effect.NONE))  # fmt: skip
    else:
        p = _band(r.on_time_delivery_share, DELIVERY_SHARE_BANDS)
        pct = f"{(r.on_time_delivery_share * 100).normalize():f}%"
        out.append(_reason(r, "on_time_delivery", f"按时交付比例 {pct}（{_pp(p)}）",
                           f"{pct} delivered on time ({_pp(p)})", "on_time_delivery_share", _effect(p), p))  # fmt: skip
    bands: list[tuple[str, str, str, str, Sequence[tuple[int, int]]]] = [
        ("loans_repaid_on_time", "按时还清贷款 {n} 笔", "{n} loans repaid on time", "loans_repaid_on_time",
         REPAID_ON_TIME_BANDS),
        ("loans_repaid_late", "逾期后还清贷款 {n} 笔", "{n} loans repaid late", "loans_repaid_late", REPAID_LATE_BANDS),
        ("buyer_concentration", "结清交易的买方 {n} 家", "{n} distinct buyers in the settled deals",
         "distinct_buyers", BUYER_BANDS),
        ("disputes", "买方拒绝确权 {n} 次", "{n} receivables disputed by buyers", "disputes", DISPUTE_BANDS),
        ("confirmed_receivables", "买方确权应收账款 {n} 笔", "{n} receivables confirmed by buyers",
         "confirmed_receivables", CONFIRMED_BANDS),
    ]  # fmt: skip
    for code, zh, en, figure, table in bands:
        n = getattr(r, figure)
        p = _band(n, table)
        out.append(
            _reason(r, code, f"{zh.format(n=n)}（{_pp(p)}）", f"{en.format(n=n)} ({_pp(p)})", figure, _effect(p), p)
        )
    return out


def _pp(points: int) -> str:
    return f"{points:+d} pp" if points else "±0"


# ---------------------------------------------------------------------------------------------- suggest


def volume_cap_fen(record: TradeRecord) -> int:
    """The most any record may be offered by volume: settled volume × 50%, floored."""
    return record.settled_fen * MAX_RATE_PCT // 100


def suggest(record: TradeRecord) -> CreditSuggestion:
    """The suggested line, or no line with every blocking reason."""
    r = record
    review_by = add_months(r.as_of, TENOR_MONTHS)
    blocked = blocking_reasons(r)
    if blocked:
        return CreditSuggestion(r, False, 0, 0, TENOR_MONTHS, True, review_by, tuple(blocked))
    reasons = adjustment_reasons(r)
    raw_rate = sum(x.points for x in reasons)
    rate = max(0, min(MAX_RATE_PCT, raw_rate))
    by_volume = r.settled_fen * rate // 100
    amount = by_volume
    if raw_rate > MAX_RATE_PCT:  # unreachable with today's bands; kept so a new band cannot break the cap silently
        reasons.append(_reason(r, "volume_cap", f"额度比例以 {MAX_RATE_PCT}% 为上限",
                               f"The rate is capped at {MAX_RATE_PCT}%", "settled_fen", Effect.MINUS))  # fmt: skip
    deal_cap = r.largest_deal_fen * LARGEST_DEAL_MULTIPLE
    if deal_cap < amount:
        amount = deal_cap
        reasons.append(_reason(
            r, "largest_deal_cap",
            f"单笔最大交易 {format_yuan(r.largest_deal_fen)}，额度不超过其 {LARGEST_DEAL_MULTIPLE} 倍",
            f"Largest single deal {format_yuan(r.largest_deal_fen)}: "
            f"the line is at most {LARGEST_DEAL_MULTIPLE} times it",
            "largest_deal_fen", Effect.MINUS))  # fmt: skip
    if amount > MAX_LINE_FEN:
        amount = MAX_LINE_FEN
        reasons.append(_reason(
            r, "programme_cap", f"按交易额测算超过平台上限，额度以 {format_yuan(MAX_LINE_FEN)} 为限",
            f"The volume suggests more than the programme allows: the line is capped at {format_yuan(MAX_LINE_FEN)}",
            "settled_fen", Effect.MINUS))  # fmt: skip
    amount -= amount % ROUND_UNIT_FEN
    if amount == 0:
        reasons.append(_reason(
            r, "below_unit", f"测算额度不足 {format_yuan(ROUND_UNIT_FEN)}，不建议授信",
            f"The line works out below {format_yuan(ROUND_UNIT_FEN)}: no line suggested",
            "settled_fen", Effect.BLOCKING))  # fmt: skip
        return CreditSuggestion(r, False, 0, rate, TENOR_MONTHS, True, review_by, tuple(reasons))
    return CreditSuggestion(r, True, amount, rate, TENOR_MONTHS, True, review_by, tuple(reasons))
