"""Automatic risk control (自动风控) for a finance application: a pure function over facts.

``assess(facts) -> RiskReport``.  The service gathers :class:`RiskFacts` from the database; this module
decides.  Two parts:

**Hard rules** — any failure refuses the application (``passed`` is false): both organisations' data valid
(unified social credit code, not deregistered), the receivable confirmed, not already financed, not overdue,
the debtor not in default, no loan of the SME overdue and no default of it (:func:`sme_loan_failures`, the same
rule for every product), and the requested amount positive and within every limit (confirmed amount ×
advance rate, the 30,000,000.00 deal cap, the bank's remaining line for the debtor, the SME's remaining
exposure limit).

**Grade** — points from platform data, summed into a score, then graded (the grade is shown to the bank and
priced by the pricing module; it does not refuse on its own).  Every band below is monotone: more delivered
contracts, more confirmations, a longer history, more on-time debtor repayments never lower the score;
more days late or more disputes never raise it.

=================================  ==============================================================
Fact                               Points
=================================  ==============================================================
SME delivered contracts            0 → 0, 1–2 → 10, 3–9 → 20, ≥ 10 → 30
SME confirmed receivables (count)  0 → 0, 1–4 → 5, ≥ 5 → 10
SME confirmed amount (history)     ≥ the amount requested → 5, else 0
SME disputes on confirmations      0 → 0, 1 → −10, ≥ 2 → −25
SME days on the platform           < 90 → 0, 90–364 → 5, ≥ 365 → 10
Debtor on-time repayments          0 → 0, 1–4 → 10, 5–19 → 20, ≥ 20 → 30
Debtor worst days late             0 → 0, 1–30 → −5, 31–90 → −15, > 90 → −30
=================================  ==============================================================

Score range −55 … 85.  Grade: **A** ≥ 65, **B** ≥ 45, **C** ≥ 25, **D** below.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from finance.limits import MAX_DEAL_FEN
from finance.pricing import RiskGrade  # one grade scale for risk control and pricing
from qianfan.creditcode import credit_code_problem, normalise_credit_code
from qianfan.errors import InvalidInput
from qianfan.money import format_yuan

#: Stored with every report, so a report read back years later says which table produced it.
RULES_VERSION = "risk-2026.1"


#: (minimum score, grade), best first.
GRADE_THRESHOLDS: tuple[tuple[int, RiskGrade], ...] = ((65, RiskGrade.A), (45, RiskGrade.B), (25, RiskGrade.C))

#: Bands as ((lower bound inclusive, points), ...) ascending; the last band whose bound ≤ value applies.
DELIVERED_CONTRACT_BANDS = ((0, 0), (1, 10), (3, 20), (10, 30))
CONFIRMED_COUNT_BANDS = ((0, 0), (1, 5), (5, 10))
DISPUTE_BANDS = ((0, 0), (1, -10), (2, -25))
PLATFORM_AGE_BANDS = ((0, 0), (90, 5), (365, 10))
DEBTOR_ON_TIME_BANDS = ((0, 0), (1, 10), (5, 20), (20, 30))
DEBTOR_DAYS_LATE_BANDS = ((0, 0), (1, -5), (31, -15), (91, -30))
CONFIRMED_AMOUNT_POINTS = 5


def band(value: int, bands: Sequence[tuple[int, int]]) -> int:
    points = bands[0][1]
    for lower, band_points in bands:
        if value >= lower:
            points = band_points
    return points


@dataclass(frozen=True)
class Reason:
    """One line of the report, in Chinese and English; ``figure`` is the fact behind it, ``points`` its weight."""

    code: str
    message_zh: str
    message_en: str
    figure: int | str | None = None
    points: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_PLAIN_TYPES: dict[str, type] = {"bool": bool, "str": str}


@dataclass(frozen=True)
class RiskFacts:
    """Everything the risk check looks at, gathered by the service at the moment of the application."""

    # organisations
    sme_credit_code: str
    debtor_credit_code: str
    sme_deregistered: bool = False
    debtor_deregistered: bool = False
    # the receivable (or part)
    receivable_confirmed: bool = True
    already_financed: bool = False
    overdue: bool = False
    debtor_in_default: bool = False
    # amount and limits, in fen
    requested_fen: int = 0
    advance_limit_fen: int = 0  # confirmed amount × the product's advance rate, rounded down to the fen
    bank_line_remaining_fen: int = 0  # the bank's remaining credit line for this debtor
    sme_exposure_remaining_fen: int = 0  # the SME's remaining exposure limit
    deal_cap_fen: int = MAX_DEAL_FEN  # 30,000,000.00 per deal
    # platform history of the SME
    sme_delivered_contracts: int = 0
    sme_confirmed_receivables: int = 0
    sme_confirmed_amount_fen: int = 0
    sme_disputes: int = 0
    sme_days_on_platform: int = 0
    # the SME's loans on the platform (any bank, any product)
    sme_overdue_loans: int = 0  # not repaid and past the due date now
    sme_defaults: int = 0  # loans ever more than 90 days late
    # the debtor's repayment record on the platform
    debtor_on_time_repayments: int = 0
    debtor_max_days_late: int = 0

    def __post_init__(self) -> None:
        bad = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (
                isinstance(value, bool) or not isinstance(value, int) or (value < 0 and f.name != "requested_fen")
            ):
                bad.append(f.name)  # a negative request is a hard failure with its own message, not bad data
            elif f.type in _PLAIN_TYPES and not isinstance(value, _PLAIN_TYPES[f.type]):
                bad.append(f.name)
        if bad:
            raise InvalidInput(
                f"风控数据无效（次数和金额须为非负整数）：{', '.join(bad)}",
                f"Invalid risk facts (counts and amounts must be non-negative integers): {', '.join(bad)}",
                detail={"fields": bad},
            )


@dataclass(frozen=True)
class Link:
    """One link of the data chain the platform holds (the match, the signed intent order, the buyer's payments,
    the SME's deliveries and settlements…), whether the check used it, and what it found."""

    code: str
    used: bool
    message_zh: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RiskReport:
    passed: bool
    hard_failures: list[Reason]
    grade: RiskGrade
    score: int
    reasons: list[Reason]
    rules_version: str = RULES_VERSION
    links: list[Link] = field(default_factory=list)  # data-chain products say which links they used

    def to_dict(self) -> dict[str, Any]:
        data = {
            "passed": self.passed,
            "hard_failures": [r.to_dict() for r in self.hard_failures],
            "grade": self.grade.value,
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
            "rules_version": self.rules_version,
        }
        if self.links:
            data["links"] = [link.to_dict() for link in self.links]
        return data

    def to_json(self) -> str:
        """Stable JSON (sorted keys, Chinese kept readable) to store with the application and show the bank."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RiskReport:
        data = json.loads(text)
        return cls(
            passed=data["passed"],
            hard_failures=[Reason(**r) for r in data["hard_failures"]],
            grade=RiskGrade(data["grade"]),
            score=data["score"],
            reasons=[Reason(**r) for r in data["reasons"]],
            rules_version=data["rules_version"],
            links=[Link(**link) for link in data.get("links", [])],
        )


# --------------------------------------------------------------------------------------------- hard rules


def _organisation_failures(role: str, role_zh: str, role_en: str, code: str, deregistered: bool) -> list[Reason]:
    noun_en = "SME" if role == "sme" else role_en.lower()
    failures = []
    problem = credit_code_problem(normalise_credit_code(code))
    if problem is not None:
        failures.append(
            Reason(f"{role}_credit_code_invalid", f"{role_zh}{problem[0]}", f"{role_en}: {problem[1]}", code)
        )
    if deregistered:
        failures.append(
            Reason(
                f"{role}_deregistered",
                f"{role_zh}已注销或吊销，不能办理融资",
                f"The {noun_en} is deregistered or its licence revoked",
                code,
            )
        )
    return failures


def amount_failures(requested_fen: int, limits: Sequence[tuple[str, str, str, int]]) -> list[Reason]:
    """The amount must be positive and within every ``(code, name_zh, name_en, limit_fen)``; one reason each."""
    failures = []
    if requested_fen <= 0:
        failures.append(
            Reason(
                "amount_not_positive",
                f"申请金额必须大于零：{format_yuan(requested_fen)}",
                f"The amount requested must be positive: {format_yuan(requested_fen)}",
                requested_fen,
            )
        )
    for code, name_zh, name_en, limit in limits:
        if requested_fen > limit:
            failures.append(
                Reason(
                    code,
                    f"申请金额 {format_yuan(requested_fen)} 超过{name_zh} {format_yuan(limit)}",
                    f"The amount requested {format_yuan(requested_fen)} exceeds {name_en} {format_yuan(limit)}",
                    limit,
                )
            )
    return failures


def organisation_failures(
    sme_code: str, sme_deregistered: bool, other_code: str | None, other_deregistered: bool, other_role: str
) -> list[Reason]:
    """Both organisations' data must be valid: the SME and the debtor / buyer (*other_role*), when there is one."""
    failures = _organisation_failures("sme", "融资企业", "SME", sme_code, sme_deregistered)
    if other_code is not None:
        zh, en = {"debtor": ("核心企业（债务人）", "Debtor"), "buyer": ("采购方（核心企业）", "Buyer")}[other_role]
        failures += _organisation_failures(other_role, zh, en, other_code, other_deregistered)
    return failures


def sme_loan_failures(overdue_loans: int, defaults: int) -> list[Reason]:
    """The SME's own loans: none overdue now and no default, whatever the product (receivables finance, a contract
    loan, a drawdown) and whichever bank lent."""
    failures = []
    if overdue_loans:
        failures.append(
            Reason(
                "sme_loan_overdue",
                f"融资企业有 {overdue_loans} 笔贷款逾期未还",
                f"The SME has {overdue_loans} overdue loan(s)",
                overdue_loans,
            )
        )
    if defaults:
        failures.append(Reason("sme_default", "融资企业有违约记录", "The SME has defaulted on a loan before", defaults))
    return failures


def hard_failures(facts: RiskFacts) -> list[Reason]:
    """Every hard rule the application breaks (empty when it passes)."""
    failures = organisation_failures(
        facts.sme_credit_code, facts.sme_deregistered, facts.debtor_credit_code, facts.debtor_deregistered, "debtor"
    )
    flags = [
        (
            not facts.receivable_confirmed,
            "not_confirmed",
            "应收账款尚未经债务人确权",
            "The receivable has not been confirmed by the debtor",
        ),
        (
            facts.already_financed,
            "already_financed",
            "该应收账款已融资，不能重复融资",
            "The receivable has already been financed",
        ),
        (facts.overdue, "overdue", "应收账款已逾期", "The receivable is overdue"),
        (
            facts.debtor_in_default,
            "debtor_in_default",
            "核心企业（债务人）存在违约记录，暂停融资",
            "The debtor is in default; financing against it is suspended",
        ),
    ]
    failures += [Reason(code, zh, en) for broken, code, zh, en in flags if broken]
    failures += sme_loan_failures(facts.sme_overdue_loans, facts.sme_defaults)
    limits = [
        ("over_advance_limit", "确权金额×融资比例", "the confirmed amount × advance rate", facts.advance_limit_fen),
        ("over_deal_cap", "单笔融资上限", "the cap per deal", facts.deal_cap_fen),
        ("over_bank_line", "银行对该核心企业的剩余授信额度", "the bank's remaining line for the debtor",
         facts.bank_line_remaining_fen),
        ("over_sme_exposure", "融资企业剩余融资额度", "the SME's remaining exposure limit",
         facts.sme_exposure_remaining_fen),
    ]  # fmt: skip
    failures += amount_failures(facts.requested_fen, limits)
    return failures


# --------------------------------------------------------------------------------------------- grade


def score_reasons(facts: RiskFacts) -> list[Reason]:
    """One reason per line of the points table, with the fact and the points it earned."""
    f = facts
    covered = f.sme_confirmed_amount_fen >= f.requested_fen > 0
    return [
        Reason(
            "delivered_contracts",
            f"平台上已履约合同 {f.sme_delivered_contracts} 份",
            f"{f.sme_delivered_contracts} contracts delivered on the platform",
            f.sme_delivered_contracts,
            band(f.sme_delivered_contracts, DELIVERED_CONTRACT_BANDS),
        ),
        Reason(
            "confirmed_receivables",
            f"历史确权应收账款 {f.sme_confirmed_receivables} 笔",
            f"{f.sme_confirmed_receivables} receivables confirmed before",
            f.sme_confirmed_receivables,
            band(f.sme_confirmed_receivables, CONFIRMED_COUNT_BANDS),
        ),
        Reason(
            "confirmed_amount",
            f"历史确权金额 {format_yuan(f.sme_confirmed_amount_fen)}"
            + ("，不低于本次申请金额" if covered else "，低于本次申请金额"),
            f"{format_yuan(f.sme_confirmed_amount_fen)} confirmed before"
            + (", at least the amount requested" if covered else ", less than the amount requested"),
            f.sme_confirmed_amount_fen,
            CONFIRMED_AMOUNT_POINTS if covered else 0,
        ),
        Reason(
            "disputes",
            f"确权争议 {f.sme_disputes} 次",
            f"{f.sme_disputes} disputed confirmations",
            f.sme_disputes,
            band(f.sme_disputes, DISPUTE_BANDS),
        ),
        Reason(
            "platform_age",
            f"入驻平台 {f.sme_days_on_platform} 天",
            f"{f.sme_days_on_platform} days on the platform",
            f.sme_days_on_platform,
            band(f.sme_days_on_platform, PLATFORM_AGE_BANDS),
        ),
        Reason(
            "debtor_on_time",
            f"核心企业按时还款 {f.debtor_on_time_repayments} 次",
            f"The debtor repaid on time {f.debtor_on_time_repayments} times",
            f.debtor_on_time_repayments,
            band(f.debtor_on_time_repayments, DEBTOR_ON_TIME_BANDS),
        ),
        Reason(
            "debtor_days_late",
            f"核心企业最长逾期 {f.debtor_max_days_late} 天",
            f"The debtor's worst delay was {f.debtor_max_days_late} days",
            f.debtor_max_days_late,
            band(f.debtor_max_days_late, DEBTOR_DAYS_LATE_BANDS),
        ),
    ]


def grade_for(score: int) -> RiskGrade:
    for minimum, grade in GRADE_THRESHOLDS:
        if score >= minimum:
            return grade
    return RiskGrade.D


def assess(facts: RiskFacts) -> RiskReport:
    """Run every hard rule and the points table; the report lists all failures, not only the first."""
    failures = hard_failures(facts)
    reasons = score_reasons(facts)
    score = sum(r.points or 0 for r in reasons)
    return RiskReport(
        passed=not failures,
        hard_failures=failures,
        grade=grade_for(score),
        score=score,
        reasons=reasons,
    )
