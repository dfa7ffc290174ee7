"""The API models of finance applications: quotes, the application (with its 48-hour clock), the risk report,
the offer and its signatures.

Money goes out twice and never as a float: integer fen (``amount_fen``) and an exact yuan string (``amount`` =
``"1000000.00"``, :data:`qianfan.money.Yuan`); rates are decimal strings (``"0.035"``).  Datetimes are ISO-8601 in
the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from finance import sla
from finance.schemas.common import rate_string, seconds
from finance.service import common
from finance.states import OPEN_APPLICATION_STATES
from qianfan.clock import to_local
from qianfan.models import (
    ApplicationStatus,
    FinanceApplication,
    FinanceKind,
    Signature,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Body, LocalTime, PublicModel, local_or_none, yuan_of
from qianfan.validation import Description


class QuotePublic(PublicModel):
    part_id: int
    bank_id: int
    product_id: int
    max_amount_fen: Fen = Field(description="现在可申请的最高金额 / the most that may be asked for now")
    max_amount: Yuan = yuan_of("max_amount_fen")
    binding_constraint: str = Field(
        description="起约束作用的限额 / the limit that binds the maximum", examples=["advance"]
    )
    limits_fen: dict[str, int] = Field(description="各项限额（分）/ every limit, in fen")
    limits: dict[str, Yuan] = yuan_of("limits_fen", description="各项限额（元）/ every limit, in yuan")
    due_date: date


def application_sla_status(app: FinanceApplication, now: datetime) -> str:
    """The flag now for an open application (the sweep stores it only every minute); the stored one once it ended."""
    if app.status in OPEN_APPLICATION_STATES and app.stage is not None:
        return common.sla_flag(app, now).value
    return app.sla_status


class ApplicationPublic(PublicModel):
    id: int
    applicant_id: int = Field(description="申请企业 / applicant SME")
    bank_id: int
    product_id: int
    kind: FinanceKind = Field(
        description="融资类型：应收账款、订单（合同）、循环额度提款 / receivable, contract (order) or credit_line"
    )
    core_enterprise_id: int | None = Field(
        description="核心企业：应收账款债务人或合同采购方；提款为空 / the receivable's debtor or the contract's buyer; "
        "empty for a drawdown"
    )
    receivable_id: int | None = Field(description="应收账款（仅应收账款融资）/ the receivable (receivables only)")
    part_id: int | None = Field(description="应收账款份额（仅应收账款融资）/ the part (receivables only)")
    contract_id: int | None = Field(description="合同（仅订单融资）/ the contract (contract finance only)")
    sme_line_id: int | None = Field(description="循环额度（仅提款）/ the revolving line (drawdowns only)")
    due_on: date | None = Field(
        description="贷款到期日（订单融资与提款；应收账款融资以应收账款到期日为准）/ the loan's due date (contracts "
        "and drawdowns; a receivable loan falls due with its receivable)"
    )
    requested_fen: Fen
    requested: Yuan = yuan_of("requested_fen")
    approved_fen: Fen | None
    approved: Yuan | None = yuan_of("approved_fen")
    annual_rate: str | None = Field(description="批准的年利率 / approved annual rate", examples=["0.035"])
    status: ApplicationStatus
    risk_grade: str | None
    risk_score: int | None
    risk_checked_at: LocalTime | None
    info_request: str = Field(description="银行要求补充的材料 / information the bank asked for")
    info_response: str
    decision_reason: str
    submitted_at: LocalTime
    deadline_at: LocalTime = Field(description="48小时承诺时限 / the 48-hour deadline")
    stage: str | None = Field(description="当前阶段 / current stage of the clock", examples=["bank_review"])
    stage_entered_at: LocalTime | None
    stage_due_at: LocalTime | None
    sla_status: str = Field(description="on_track / at_risk / breached")
    breach_party: str | None = Field(description="超时责任方 / the party that caused a breach")
    decided_at: LocalTime | None
    signed_at: LocalTime | None
    finished_at: LocalTime | None

    @classmethod
    def from_model(cls, app: FinanceApplication, tz: ZoneInfo, now: datetime) -> ApplicationPublic:
        return cls.of(app, tz, **cls.computed(app, now))

    @staticmethod
    def computed(app: FinanceApplication, now: datetime) -> dict[str, Any]:
        return {"annual_rate": rate_string(app.annual_rate), "sla_status": application_sla_status(app, now)}


class QueueItemPublic(ApplicationPublic):
    overall_left_seconds: int = Field(description="距48小时时限的秒数（负数为已超时）/ seconds left of the 48 hours")


class RiskReasonPublic(PublicModel):
    code: str
    message: str
    message_en: str
    figure: int | str | None = None
    points: int | None = None


class RiskLinkPublic(PublicModel):
    """One link of the data chain (the match, the signed intent order, the buyer's payments…) and whether the
    check used it."""

    code: str = Field(examples=["intent_order"])
    used: bool = Field(description="风控是否采用了该环节 / whether the check used this link")
    message: str
    message_en: str


class RiskReportPublic(PublicModel):
    application_id: int
    checked: bool = Field(description="是否已完成自动风控 / whether the automatic check has run")
    checked_at: LocalTime | None
    passed: bool | None
    grade: str | None = Field(examples=["B"])
    score: int | None
    hard_failures: list[RiskReasonPublic]
    reasons: list[RiskReasonPublic]
    links: list[RiskLinkPublic] = Field(
        description="订单融资与循环额度：所用的数据链环节；应收账款融资为空 / contract finance and drawdowns: the "
        "links of the data chain the check used; empty for receivables"
    )
    rules_version: str | None

    @classmethod
    def from_model(cls, app: FinanceApplication, tz: ZoneInfo) -> RiskReportPublic:
        assert app.id is not None
        report = app.risk_report or {}

        def reasons(key: str) -> list[RiskReasonPublic]:
            return [
                RiskReasonPublic(
                    code=r["code"],
                    message=r["message_zh"],
                    message_en=r["message_en"],
                    figure=r.get("figure"),
                    points=r.get("points"),
                )
                for r in report.get(key, [])
            ]

        return cls(
            application_id=app.id,
            checked=app.risk_report is not None,
            checked_at=local_or_none(app.risk_checked_at, tz),
            passed=report.get("passed"),
            grade=app.risk_grade,
            score=app.risk_score,
            hard_failures=reasons("hard_failures"),
            reasons=reasons("reasons"),
            links=[
                RiskLinkPublic(
                    code=link["code"],
                    used=bool(link["used"]),
                    message=link["message_zh"],
                    message_en=link["message_en"],
                )
                for link in report.get("links", [])
            ],
            rules_version=None if report.get("rules_version") is None else str(report["rules_version"]),
        )


class FinanceOfferPublic(PublicModel):
    """The approved terms the SME signs: it sends back ``terms_hash`` (SHA-256 of ``canonical``)."""

    application_id: int
    status: ApplicationStatus
    terms: dict[str, Any] = Field(description="要约条款（金额为分，利率为字符串）/ the terms (fen, rates as strings)")
    canonical: str = Field(description="规范化JSON（键排序、无空格）/ canonical JSON (sorted keys, no spaces)")
    terms_hash: str = Field(description="canonical 的 SHA-256（十六进制）/ SHA-256 of canonical, hex", min_length=64)
    sign_due_at: LocalTime | None

    @classmethod
    def from_model(cls, app: FinanceApplication, tz: ZoneInfo) -> FinanceOfferPublic:
        assert app.id is not None and app.offer_terms is not None
        return cls(
            application_id=app.id,
            status=app.status,
            terms=app.offer_terms,
            canonical=common.canonical_terms(app.offer_terms),
            terms_hash=common.terms_hash(app.offer_terms),
            sign_due_at=local_or_none(app.sign_due_at, tz),
        )


class SignaturePublic(PublicModel):
    application_id: int
    organisation_id: int
    user_id: int | None
    terms_hash: str
    signed_at: LocalTime

    @classmethod
    def from_model(cls, row: Signature, tz: ZoneInfo) -> SignaturePublic:
        return cls.of(row, tz)


class StageIntervalPublic(PublicModel):
    stage: str = Field(examples=["bank_review"])
    party: str = Field(description="该阶段的责任方 / the party the stage's time is charged to", examples=["bank"])
    entered_at: LocalTime
    left_at: LocalTime | None = Field(description="空为仍在此阶段 / empty: still in this stage")
    due_at: LocalTime = Field(description="本阶段时限 / when the stage is due")
    budget_seconds: int
    duration_seconds: int = Field(description="已用时长（至今或离开时）/ time spent (until now or leaving)")
    over_budget: bool


class BreachPublic(PublicModel):
    breached: bool
    responsible: str | None = Field(description="超时责任方 / party that caused the breach")
    excess_seconds: dict[str, int] = Field(description="各方超出其时限的秒数 / seconds over allowance, per party")


class TimelinePublic(PublicModel):
    application_id: int
    status: ApplicationStatus
    submitted_at: LocalTime
    deadline_at: LocalTime
    finished_at: LocalTime | None
    elapsed_seconds: int = Field(description="已用时间（至放款/结束或现在）/ elapsed, to the end or now")
    overall_left_seconds: int = Field(description="距48小时时限的秒数 / seconds left of the 48 hours")
    stage: str | None
    stage_due_at: LocalTime | None
    sla_status: str
    breach: BreachPublic
    stages: list[StageIntervalPublic]

    @classmethod
    def from_model(
        cls, app: FinanceApplication, intervals: list[sla.StageInterval], tz: ZoneInfo, now: datetime
    ) -> TimelinePublic:
        assert app.id is not None
        end = app.finished_at or now
        budgets = sla.DEFAULT_POLICY.budgets
        stages = []
        for iv in intervals:
            is_current = iv.left_at is None and app.stage == iv.stage.value and app.stage_due_at is not None
            # The current stage's due time is the stored one (a resumed bank review keeps its earlier budget).
            due = app.stage_due_at if is_current and app.stage_due_at else iv.entered_at + budgets[iv.stage]
            spent = (iv.left_at or end) - iv.entered_at
            stages.append(
                StageIntervalPublic(
                    stage=iv.stage.value,
                    party=sla.STAGE_OWNER[iv.stage].value,
                    entered_at=to_local(iv.entered_at, tz),
                    left_at=local_or_none(iv.left_at, tz),
                    due_at=to_local(due, tz),
                    budget_seconds=seconds(budgets[iv.stage]),
                    duration_seconds=seconds(spent),
                    over_budget=(iv.left_at or end) > due,
                )
            )
        breach = sla.attribute_breach(app.submitted_at, intervals, now=now, finished_at=app.finished_at)
        return cls(
            application_id=app.id,
            status=app.status,
            submitted_at=to_local(app.submitted_at, tz),
            deadline_at=to_local(app.deadline_at, tz),
            finished_at=local_or_none(app.finished_at, tz),
            elapsed_seconds=seconds(breach.elapsed),
            overall_left_seconds=seconds(app.deadline_at - now),
            stage=app.stage,
            stage_due_at=local_or_none(app.stage_due_at, tz),
            sla_status=application_sla_status(app, now),
            breach=BreachPublic(
                breached=breach.breached,
                responsible=breach.responsible.value if breach.responsible else None,
                excess_seconds={p.value: seconds(d) for p, d in breach.excess.items()},
            ),
            stages=stages,
        )


class RejectBody(Body):
    reason: Description = Field(description="拒绝理由 / reason", examples=["核心企业近期付款记录不佳"])


class InfoRequestBody(Body):
    question: Description = Field(description="需补充的材料 / what is needed", examples=["请补充验收单扫描件"])


class InfoAnswerBody(Body):
    answer: Description = Field(description="补充内容 / the answer", examples=["验收单已上传，编号YS-2026-118"])


class SignBody(Body):
    terms_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="所见要约条款的 SHA-256 / SHA-256 of the terms shown (hex)"
    )
