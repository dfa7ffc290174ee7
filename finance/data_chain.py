"""Data-chain finance (数据链融资): the risk check of a contract (order) loan before delivery and of a drawdown on
an SME's revolving line, as pure functions over facts the platform holds.

No guarantee is taken; the check rests on the chain of records the platform itself keeps, and its report says
which links it used:

=================  ================================================================================
Link               What it looks at
=================  ================================================================================
``match``          the buyer's order was matched to the SME's offer by the platform (and its score)
``intent_order``   the intent order both parties signed, from which the contract came
``contract``       the contract: signed, not yet delivered, its delivery date not past
``buyer_payments`` the buyer's payment record: instalments paid on time / late, its worst delay, and
                   anything it is late on now under the 60-day rule
``sme_delivery``   the SME's delivery record: contracts delivered, and how many by their due date
``sme_settlement`` the SME's trade settled on the platform over 12 months, and its loans (overdue, default)
``credit_line``    (drawdowns) the bank's revolving line for the SME, its expiry and what is left of it
=================  ================================================================================

**Hard rules** refuse the application: organisation data valid, the contract still to be delivered (contract
finance), the line active and not expired (drawdowns), no loan of the SME overdue and no default, the buyer not
in default (more than 90 days late), and the amount positive and within every limit.

**Points**, summed into a score and graded on the receivables table (:func:`finance.risk.grade_for`):

==================================  =========================================================
Fact                                Points
==================================  =========================================================
Matched by the platform             10
Intent order signed on the platform 10
Buyer's instalments paid on time    0 → 0, 1–4 → 10, 5–19 → 20, ≥ 20 → 30
Buyer's worst days late             0 → 0, 1–30 → −5, 31–90 → −15, > 90 → −30
SME contracts delivered             0 → 0, 1–2 → 10, 3–9 → 20, ≥ 10 → 30
SME on time ≥ 90 % of deliveries    5
SME settled volume (12 months)      ≥ the amount requested → 5
SME disputes                        0 → 0, 1 → −10, ≥ 2 → −25
SME days on the platform            < 90 → 0, 90–364 → 5, ≥ 365 → 10
==================================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from finance.limits import MAX_DEAL_FEN
from finance.risk import (
    DEBTOR_DAYS_LATE_BANDS,
    DEBTOR_ON_TIME_BANDS,
    DELIVERED_CONTRACT_BANDS,
    DISPUTE_BANDS,
    PLATFORM_AGE_BANDS,
    Link,
    Reason,
    RiskReport,
    amount_failures,
    band,
    grade_for,
    organisation_failures,
    sme_loan_failures,
)
from qianfan.errors import InvalidInput
from qianfan.money import format_yuan

MATCH_POINTS = 10
INTENT_POINTS = 10
ON_TIME_DELIVERY_POINTS = 5
ON_TIME_DELIVERY_SHARE_PCT = 90
SETTLED_VOLUME_POINTS = 5
#: The buyer counts as in default when it is more than this many days late on a payment.
BUYER_DEFAULT_DAYS = 90


@dataclass(frozen=True)
class SmeRecord:
    """The SME's side of the chain: deliveries, settlements and loans on the platform."""

    credit_code: str
    deregistered: bool = False
    delivered_contracts: int = 0
    delivered_on_time: int = 0
    settled_fen_12m: int = 0
    disputes: int = 0
    days_on_platform: int = 0
    overdue_loans: int = 0
    defaults: int = 0

    def __post_init__(self) -> None:
        _require_counts(self)


@dataclass(frozen=True)
class ContractFacts:
    """A contract (order) loan application: the contract, its origin on the platform and the buyer's record."""

    sme: SmeRecord
    buyer_credit_code: str
    buyer_deregistered: bool = False
    contract_active: bool = True  # signed and not yet delivered, terminated or completed
    delivery_due: date | None = None
    today: date | None = None
    matched: bool = False  # the platform matched the buyer's order to this SME's offer
    match_score_pct: int | None = None
    intent_signed: bool = True
    buyer_paid_on_time: int = 0  # the buyer's instalments paid by their due date, on any contract
    buyer_paid_late: int = 0
    buyer_max_days_late: int = 0  # its worst delay, paid or still open
    buyer_late_now_fen: int = 0  # what it owes past the 60-day rule today
    already_financed: bool = False  # another contract loan or application is live on this contract
    requested_fen: int = 0
    advance_limit_fen: int = 0  # unpaid contract value × the product's advance rate
    contract_headroom_fen: int = 0  # unpaid value less the finance already on the contract
    bank_line_remaining_fen: int = 0
    sme_exposure_remaining_fen: int = 0
    deal_cap_fen: int = MAX_DEAL_FEN

    def __post_init__(self) -> None:
        _require_counts(self)


@dataclass(frozen=True)
class DrawdownFacts:
    """A drawdown on the SME's revolving line (grown from its settled trade)."""

    sme: SmeRecord
    line_active: bool = True
    line_expired: bool = False
    line_limit_fen: int = 0
    line_remaining_fen: int = 0
    requested_fen: int = 0
    sme_exposure_remaining_fen: int = 0
    deal_cap_fen: int = MAX_DEAL_FEN

    def __post_init__(self) -> None:
        _require_counts(self)


def _require_counts(facts: object) -> None:
    bad = [
        f.name
        for f in fields(facts)  # type: ignore[arg-type]
        if f.type in ("int", "int | None")
        and getattr(facts, f.name) is not None
        and f.name != "requested_fen"
        and (type(getattr(facts, f.name)) is not int or getattr(facts, f.name) < 0)
    ]
    if bad:
        raise InvalidInput(
            f"风控数据无效（次数和金额须为非负整数）：{', '.join(bad)}",
            f"Invalid risk facts (counts and amounts must be non-negative integers): {', '.join(bad)}",
            detail={"fields": bad},
        )


# --------------------------------------------------------------------------------------------- the SME's links


def _sme_failures(sme: SmeRecord) -> list[Reason]:
    return sme_loan_failures(sme.overdue_loans, sme.defaults)  # the one rule, as for receivables finance


def _sme_reasons(sme: SmeRecord, requested_fen: int) -> list[Reason]:
    share = sme.delivered_on_time * 100 // sme.delivered_contracts if sme.delivered_contracts else 0
    on_time = sme.delivered_contracts > 0 and share >= ON_TIME_DELIVERY_SHARE_PCT
    covered = sme.settled_fen_12m >= requested_fen > 0
    return [
        Reason(
            "delivered_contracts",
            f"平台上已履约合同 {sme.delivered_contracts} 份",
            f"{sme.delivered_contracts} contracts delivered on the platform",
            sme.delivered_contracts,
            band(sme.delivered_contracts, DELIVERED_CONTRACT_BANDS),
        ),
        Reason(
            "on_time_delivery",
            f"按期交付 {sme.delivered_on_time}/{sme.delivered_contracts} 份（{share}%）",
            f"{sme.delivered_on_time} of {sme.delivered_contracts} delivered by the due date ({share}%)",
            share,
            ON_TIME_DELIVERY_POINTS if on_time else 0,
        ),
        Reason(
            "settled_volume",
            f"近12个月平台结算额 {format_yuan(sme.settled_fen_12m)}"
            + ("，不低于本次申请金额" if covered else "，低于本次申请金额"),
            f"{format_yuan(sme.settled_fen_12m)} settled on the platform in 12 months"
            + (", at least the amount requested" if covered else ", less than the amount requested"),
            sme.settled_fen_12m,
            SETTLED_VOLUME_POINTS if covered else 0,
        ),
        Reason(
            "disputes",
            f"确权争议 {sme.disputes} 次",
            f"{sme.disputes} disputed confirmations",
            sme.disputes,
            band(sme.disputes, DISPUTE_BANDS),
        ),
        Reason(
            "platform_age",
            f"入驻平台 {sme.days_on_platform} 天",
            f"{sme.days_on_platform} days on the platform",
            sme.days_on_platform,
            band(sme.days_on_platform, PLATFORM_AGE_BANDS),
        ),
    ]


def _sme_links(sme: SmeRecord) -> list[Link]:
    delivered = sme.delivered_contracts > 0
    settled = sme.settled_fen_12m > 0
    return [
        Link(
            "sme_delivery",
            delivered,
            f"企业履约记录：已交付 {sme.delivered_contracts} 份，按期 {sme.delivered_on_time} 份"
            if delivered
            else "企业在平台上尚无交付记录",
            f"SME deliveries: {sme.delivered_contracts} delivered, {sme.delivered_on_time} on time"
            if delivered
            else "The SME has no delivery on the platform yet",
        ),
        Link(
            "sme_settlement",
            settled or bool(sme.overdue_loans or sme.defaults),
            f"企业结算与贷款记录：近12个月结算 {format_yuan(sme.settled_fen_12m)}，逾期贷款 {sme.overdue_loans} 笔",
            f"SME settlements and loans: {format_yuan(sme.settled_fen_12m)} settled in 12 months, "
            f"{sme.overdue_loans} overdue loan(s)",
        ),
    ]


def _report(failures: list[Reason], reasons: list[Reason], links: list[Link]) -> RiskReport:
    score = sum(r.points or 0 for r in reasons)
    return RiskReport(
        passed=not failures, hard_failures=failures, grade=grade_for(score), score=score, reasons=reasons, links=links
    )


# --------------------------------------------------------------------------------------------- contract loans


def assess_contract(facts: ContractFacts) -> RiskReport:
    """The risk check of a contract (order) loan: every hard rule, the points and the links used."""
    f = facts
    failures = organisation_failures(
        f.sme.credit_code, f.sme.deregistered, f.buyer_credit_code, f.buyer_deregistered, "buyer"
    )
    flags = [
        (
            not f.contract_active,
            "contract_not_active",
            "合同不在履行中（已交付、终止或完成），订单融资须在交付前申请",
            "The contract is not in progress (delivered, terminated or completed); order finance is before delivery",
        ),
        (
            f.delivery_due is not None and f.today is not None and f.delivery_due < f.today,
            "delivery_overdue",
            f"合同交付日 {f.delivery_due} 已过而未交付",
            f"The contract's delivery date {f.delivery_due} has passed without delivery",
        ),
        (
            f.already_financed,
            "already_financed",
            "该合同已有进行中的订单融资，同一合同同一时间只能融资一次",
            "This contract already has contract finance in progress; a contract is financed once at a time",
        ),
        (
            f.buyer_max_days_late > BUYER_DEFAULT_DAYS,
            "buyer_in_default",
            f"采购方付款最长逾期 {f.buyer_max_days_late} 天，视为违约，暂停融资",
            f"The buyer was {f.buyer_max_days_late} days late on a payment: in default, financing suspended",
        ),
    ]
    failures += [Reason(code, zh, en) for broken, code, zh, en in flags if broken]
    failures += _sme_failures(f.sme)
    failures += amount_failures(
        f.requested_fen,
        [
            ("over_advance_limit", "合同未付金额×融资比例", "the unpaid contract value × advance rate",
             f.advance_limit_fen),
            ("over_contract_headroom", "合同未付金额减去该合同上已有的融资",
             "the unpaid contract value less the finance already on it", f.contract_headroom_fen),
            ("over_deal_cap", "单笔融资上限", "the cap per deal", f.deal_cap_fen),
            ("over_bank_line", "银行对该采购方的剩余授信额度", "the bank's remaining line for the buyer",
             f.bank_line_remaining_fen),
            ("over_sme_exposure", "融资企业剩余融资额度", "the SME's remaining exposure limit",
             f.sme_exposure_remaining_fen),
        ],
    )  # fmt: skip
    paid = f.buyer_paid_on_time + f.buyer_paid_late
    reasons = [
        Reason(
            "matched",
            f"平台自动撮合（匹配度 {f.match_score_pct}%）" if f.matched else "合同并非由平台撮合的订单产生",
            f"Matched by the platform (score {f.match_score_pct}%)" if f.matched else "Not from a platform match",
            f.match_score_pct,
            MATCH_POINTS if f.matched else 0,
        ),
        Reason(
            "intent_signed",
            "意向订单经双方在平台签署" if f.intent_signed else "意向订单未经双方签署",
            "The intent order was signed by both on the platform" if f.intent_signed else "No signed intent order",
            None,
            INTENT_POINTS if f.intent_signed else 0,
        ),
        Reason(
            "buyer_on_time",
            f"采购方按期付款 {f.buyer_paid_on_time} 期（共付款 {paid} 期）",
            f"The buyer paid {f.buyer_paid_on_time} of {paid} instalments on time",
            f.buyer_paid_on_time,
            band(f.buyer_paid_on_time, DEBTOR_ON_TIME_BANDS),
        ),
        Reason(
            "buyer_days_late",
            f"采购方付款最长逾期 {f.buyer_max_days_late} 天",
            f"The buyer's worst payment delay was {f.buyer_max_days_late} days",
            f.buyer_max_days_late,
            band(f.buyer_max_days_late, DEBTOR_DAYS_LATE_BANDS),
        ),
        *_sme_reasons(f.sme, f.requested_fen),
    ]
    links = [
        Link(
            "match",
            f.matched,
            f"平台撮合：采购需求与企业产品的匹配度 {f.match_score_pct}%" if f.matched else "无平台撮合记录",
            f"Platform match: the order and the SME's offer scored {f.match_score_pct}%"
            if f.matched
            else "No platform match on record",
        ),
        Link(
            "intent_order",
            f.intent_signed,
            "双方签署的意向订单（合同由此产生）",
            "The intent order both parties signed (the contract came from it)",
        ),
        Link(
            "contract",
            True,
            f"合同履行中，约定交付日 {f.delivery_due}",
            f"The contract is in progress, delivery due {f.delivery_due}",
        ),
        Link(
            "buyer_payments",
            paid > 0 or f.buyer_late_now_fen > 0,
            f"采购方付款记录：已付 {paid} 期，按期 {f.buyer_paid_on_time} 期，"
            f"当前逾期 {format_yuan(f.buyer_late_now_fen)}"
            if paid or f.buyer_late_now_fen
            else "采购方在平台上尚无付款记录",
            f"Buyer's payments: {paid} instalments paid, {f.buyer_paid_on_time} on time, "
            f"{format_yuan(f.buyer_late_now_fen)} late now"
            if paid or f.buyer_late_now_fen
            else "The buyer has no payment on the platform yet",
        ),
        *_sme_links(f.sme),
    ]
    return _report(failures, reasons, links)


# --------------------------------------------------------------------------------------------- drawdowns


def assess_drawdown(facts: DrawdownFacts) -> RiskReport:
    """The risk check of a drawdown on the SME's revolving line."""
    f = facts
    failures = organisation_failures(f.sme.credit_code, f.sme.deregistered, None, False, "buyer")
    flags = [
        (
            not f.line_active,
            "line_not_active",
            "银行的循环额度未生效或已关闭",
            "The bank's revolving line is not active",
        ),
        (f.line_expired, "line_expired", "循环额度已到期", "The revolving line has expired"),
    ]
    failures += [Reason(code, zh, en) for broken, code, zh, en in flags if broken]
    failures += _sme_failures(f.sme)
    failures += amount_failures(
        f.requested_fen,
        [
            ("over_sme_line", "循环额度的剩余额度", "what is left of the revolving line", f.line_remaining_fen),
            ("over_deal_cap", "单笔融资上限", "the cap per deal", f.deal_cap_fen),
            ("over_sme_exposure", "融资企业剩余融资额度", "the SME's remaining exposure limit",
             f.sme_exposure_remaining_fen),
        ],
    )  # fmt: skip
    links = [
        Link(
            "credit_line",
            True,
            f"银行循环额度 {format_yuan(f.line_limit_fen)}，剩余 {format_yuan(f.line_remaining_fen)}",
            f"The bank's revolving line of {format_yuan(f.line_limit_fen)}, {format_yuan(f.line_remaining_fen)} left",
        ),
        *_sme_links(f.sme),
    ]
    return _report(failures, _sme_reasons(f.sme, f.requested_fen), links)


# --------------------------------------------------------------------------------------------- the contract's room


def contract_headroom_fen(contract_fen: int, paid_fen: int, financed_fen: int) -> int:
    """What may still be financed on a contract: its unpaid value less every live loan and application on it (the
    contract loan and the loans on its receivables together never exceed the unpaid value); never negative."""
    for name, value in (("contract_fen", contract_fen), ("paid_fen", paid_fen), ("financed_fen", financed_fen)):
        if type(value) is not int or value < 0:
            raise InvalidInput(f"{name} 须为非负整数（分）", f"{name} must be a non-negative integer of fen")
    return max(0, contract_fen - paid_fen - financed_fen)
