"""Public models of the finance API: receivables and their parts, finance applications (with the 48-hour clock),
offers, loans, repayments and ledger postings — plus the request bodies of these routes.

Money goes out twice and never as a float: integer fen (``face_fen``) and an exact yuan string (``face`` =
``"1000000.00"``); rates are decimal strings (``"0.035"``).  Datetimes are ISO-8601 in the display time zone
(Asia/Shanghai, ``+08:00``).  Amounts come in as yuan strings (or integers), exact to the fen.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from api.params import YuanSchema
from api.schemas import Fen, YuanString, yuan_string
from finance import ledger, sla
from finance.service import common
from qianfan.clock import to_local
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    CreditLine,
    FinanceApplication,
    FinanceKind,
    LedgerLeg,
    LedgerPosting,
    Loan,
    LoanStatus,
    PartState,
    Payment,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    Signature,
)
from qianfan.validation import Yuan

#: An amount in yuan in a request body: a string (or integer) exact to the fen, never a float.
YuanIn = Annotated[Yuan, YuanSchema]
RateString = Annotated[
    str,
    Field(
        pattern=r"^\d+(\.\d+)?$",
        description="年利率（小数，字符串）/ annual rate as a decimal string",
        examples=["0.035"],
    ),
]


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else to_local(moment, tz)


def _seconds(delta: timedelta) -> int:
    return delta // timedelta(seconds=1)


def _rate(value: Decimal | None) -> str | None:
    """A rate as a decimal string without trailing zeros (the same on every database: ``"0.85"``, ``"0.035"``)."""
    return None if value is None else format(Decimal(value).normalize(), "f")


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused (a misspelt field is a 422, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# ============================================================================================== receivables


class ReceivablePartPublic(BaseModel):
    id: int
    receivable_id: int
    parent_id: int | None = Field(description="拆分或转让前的份额 / the part this one replaced")
    holder_id: int = Field(description="持有企业 / holder organisation")
    amount_fen: Fen
    amount: YuanString
    paid_fen: Fen
    paid: YuanString
    status: PartState
    created_at: datetime

    @classmethod
    def from_model(cls, row: ReceivablePart, tz: ZoneInfo) -> ReceivablePartPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            receivable_id=row.receivable_id,
            parent_id=row.parent_id,
            holder_id=row.holder_id,
            amount_fen=row.amount_fen,
            amount=yuan_string(row.amount_fen),
            paid_fen=row.paid_fen,
            paid=yuan_string(row.paid_fen),
            status=row.status,
            created_at=to_local(row.created_at, tz),
        )


class ConfirmationPublic(BaseModel):
    """确权: the debtor's confirmation and irrevocable payment undertaking."""

    confirmed_fen: Fen
    confirmed: YuanString
    confirmed_at: datetime
    confirmed_by: int | None = Field(description="确权用户 / the debtor's user who confirmed")
    undertaking: str = Field(description="不可撤销付款承诺 / the irrevocable payment undertaking")


class ReceivablePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "creditor_id": 12,
                    "debtor_id": 4,
                    "contract_id": None,
                    "title": "智慧道路巡检系统 第一期货款",
                    "face_fen": 100000000,
                    "face": "1000000.00",
                    "confirmed_fen": 100000000,
                    "confirmed": "1000000.00",
                    "paid_fen": 0,
                    "paid": "0.00",
                    "issue_date": "2026-11-02",
                    "due_date": "2027-01-31",
                    "invoice_numbers": ["INV20261102001"],
                    "status": "confirmed",
                    "disputed": False,
                    "registered_at": "2026-11-02T09:30:00+08:00",
                    "confirmed_at": "2026-11-02T10:05:00+08:00",
                    "settled_at": None,
                    "cancelled_at": None,
                    "cancel_reason": "",
                }
            ]
        }
    )

    id: int
    creditor_id: int = Field(description="债权人（登记的中小企业）/ creditor, the SME that registered it")
    debtor_id: int = Field(description="债务人（核心企业）/ debtor, the core enterprise")
    contract_id: int | None
    title: str
    face_fen: Fen
    face: YuanString
    confirmed_fen: Fen | None
    confirmed: YuanString | None
    paid_fen: Fen
    paid: YuanString
    issue_date: date
    due_date: date
    invoice_numbers: list[str] = Field(description="发票号码 / invoice numbers")
    status: ReceivableStatus
    disputed: bool = Field(description="债务人拒绝确权 / refused by the debtor")
    registered_at: datetime
    confirmed_at: datetime | None
    settled_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str

    @classmethod
    def fields_from(cls, row: Receivable, tz: ZoneInfo) -> dict[str, Any]:
        assert row.id is not None
        return {
            "id": row.id,
            "creditor_id": row.creditor_id,
            "debtor_id": row.debtor_id,
            "contract_id": row.contract_id,
            "title": row.title,
            "face_fen": row.face_fen,
            "face": yuan_string(row.face_fen),
            "confirmed_fen": row.confirmed_fen,
            "confirmed": None if row.confirmed_fen is None else yuan_string(row.confirmed_fen),
            "paid_fen": row.paid_fen,
            "paid": yuan_string(row.paid_fen),
            "issue_date": row.issue_date,
            "due_date": row.due_date,
            "invoice_numbers": list(row.invoice_numbers),
            "status": row.status,
            "disputed": row.disputed,
            "registered_at": to_local(row.registered_at, tz),
            "confirmed_at": _local(row.confirmed_at, tz),
            "settled_at": _local(row.settled_at, tz),
            "cancelled_at": _local(row.cancelled_at, tz),
            "cancel_reason": row.cancel_reason,
        }

    @classmethod
    def from_model(cls, row: Receivable, tz: ZoneInfo) -> ReceivablePublic:
        return cls(**cls.fields_from(row, tz))


class ReceivableDetail(ReceivablePublic):
    confirmation: ConfirmationPublic | None = Field(description="确权信息（未确权为空）/ the confirmation, if any")
    parts: list[ReceivablePartPublic] = Field(
        description="份额（含已拆分、已转让的历史份额；仅持有人身份可见的只含其本身的份额）/ parts, superseded ones "
        "included; a holder that is neither creditor nor debtor sees only its own"
    )

    @classmethod
    def from_rows(cls, row: Receivable, parts: list[ReceivablePart], tz: ZoneInfo) -> ReceivableDetail:
        confirmation = None
        if row.confirmed_fen is not None and row.confirmed_at is not None:
            confirmation = ConfirmationPublic(
                confirmed_fen=row.confirmed_fen,
                confirmed=yuan_string(row.confirmed_fen),
                confirmed_at=to_local(row.confirmed_at, tz),
                confirmed_by=row.confirmed_by,
                undertaking=row.undertaking,
            )
        return cls(
            **cls.fields_from(row, tz),
            confirmation=confirmation,
            parts=[ReceivablePartPublic.from_model(p, tz) for p in parts],
        )


class BatchConfirmPublic(BaseModel):
    confirmed: int = Field(description="确权笔数 / number confirmed")
    items: list[ReceivablePublic]


class LoanAllocationPublic(BaseModel):
    """How an amount went through a loan's waterfall (penalty → interest → fees → principal, then the surplus)."""

    penalty_fen: Fen = 0
    interest_fen: Fen = 0
    fees_fen: Fen = 0
    principal_fen: Fen = 0
    excess_fen: Fen = 0


class PaymentLinePublic(BaseModel):
    part_id: int
    holder_id: int
    amount_fen: Fen
    amount: YuanString
    loan_id: int | None = Field(None, description="该份额已融资时所还的贷款 / the loan repaid, for a financed part")
    loan: LoanAllocationPublic | None = None


class PaymentPublic(BaseModel):
    id: int
    receivable_id: int
    payer_id: int
    amount_fen: Fen
    amount: YuanString
    paid_at: datetime
    allocation: list[PaymentLinePublic] = Field(description="按持有人分配 / shared over the holders of record")

    @classmethod
    def from_model(cls, row: Payment, tz: ZoneInfo) -> PaymentPublic:
        assert row.id is not None
        lines = []
        for line in row.allocation:
            loan = line.get("loan")
            lines.append(
                PaymentLinePublic(
                    part_id=int(line["part_id"]),
                    holder_id=int(line["holder_id"]),
                    amount_fen=int(line["amount_fen"]),
                    amount=yuan_string(int(line["amount_fen"])),
                    loan_id=line.get("loan_id"),
                    loan=LoanAllocationPublic(**{k: int(v) for k, v in loan.items()}) if loan else None,
                )
            )
        return cls(
            id=row.id,
            receivable_id=row.receivable_id,
            payer_id=row.payer_id,
            amount_fen=row.amount_fen,
            amount=yuan_string(row.amount_fen),
            paid_at=to_local(row.paid_at, tz),
            allocation=lines,
        )


# ============================================================================================== bank set-up


class ProductPublic(BaseModel):
    id: int
    bank_id: int
    kind: FinanceKind = Field(
        description="产品类型：应收账款融资、订单融资、循环额度 / receivable, contract (order) or credit_line"
    )
    code: str
    name: str
    advance_rate: str = Field(description="融资比例（小数字符串）/ advance rate", examples=["0.9"])
    day_count: str = Field(examples=["ACT/360"])
    spreads_bp: dict[str, int | None] = Field(description="各风险等级的利差（基点；空为不予融资）/ spread per grade")
    arrangement_fee_bp: int
    fee_min_fen: Fen
    fee_min: YuanString
    fee_max_fen: Fen
    fee_max: YuanString
    four_eyes_threshold_fen: Fen
    four_eyes_threshold: YuanString
    max_tenor_months: int
    is_active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, row: BankProduct, tz: ZoneInfo) -> ProductPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            bank_id=row.bank_id,
            kind=row.kind,
            code=row.code,
            name=row.name,
            advance_rate=_rate(row.advance_rate) or "0",
            day_count=row.day_count,
            spreads_bp=dict(row.spreads_bp),
            arrangement_fee_bp=row.arrangement_fee_bp,
            fee_min_fen=row.fee_min_fen,
            fee_min=yuan_string(row.fee_min_fen),
            fee_max_fen=row.fee_max_fen,
            fee_max=yuan_string(row.fee_max_fen),
            four_eyes_threshold_fen=row.four_eyes_threshold_fen,
            four_eyes_threshold=yuan_string(row.four_eyes_threshold_fen),
            max_tenor_months=row.max_tenor_months,
            is_active=row.is_active,
            created_at=to_local(row.created_at, tz),
        )


class CreditLinePublic(BaseModel):
    id: int
    bank_id: int
    core_enterprise_id: int
    limit_fen: Fen
    limit: YuanString
    used_fen: Fen
    used: YuanString
    updated_at: datetime

    @classmethod
    def from_model(cls, row: CreditLine, tz: ZoneInfo) -> CreditLinePublic:
        assert row.id is not None
        return cls(
            id=row.id,
            bank_id=row.bank_id,
            core_enterprise_id=row.core_enterprise_id,
            limit_fen=row.limit_fen,
            limit=yuan_string(row.limit_fen),
            used_fen=row.used_fen,
            used=yuan_string(row.used_fen),
            updated_at=to_local(row.updated_at, tz),
        )


class ExposureLimitPublic(BaseModel):
    sme_id: int
    limit_fen: Fen
    limit: YuanString


# ============================================================================================== applications


class QuotePublic(BaseModel):
    part_id: int
    bank_id: int
    product_id: int
    max_amount_fen: Fen = Field(description="现在可申请的最高金额 / the most that may be asked for now")
    max_amount: YuanString
    binding_constraint: str = Field(
        description="起约束作用的限额 / the limit that binds the maximum", examples=["advance"]
    )
    limits_fen: dict[str, int] = Field(description="各项限额（分）/ every limit, in fen")
    limits: dict[str, YuanString] = Field(description="各项限额（元）/ every limit, in yuan")
    due_date: date


def application_sla_status(app: FinanceApplication, now: datetime) -> str:
    """The flag now for an open application (the sweep stores it only every minute); the stored one once it ended."""
    if app.status in common.OPEN_STATES and app.stage is not None:
        return common.sla_flag(app, now).value
    return app.sla_status


class ApplicationPublic(BaseModel):
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
    requested: YuanString
    approved_fen: Fen | None
    approved: YuanString | None
    annual_rate: str | None = Field(description="批准的年利率 / approved annual rate", examples=["0.035"])
    status: ApplicationStatus
    risk_grade: str | None
    risk_score: int | None
    risk_checked_at: datetime | None
    info_request: str = Field(description="银行要求补充的材料 / information the bank asked for")
    info_response: str
    decision_reason: str
    submitted_at: datetime
    deadline_at: datetime = Field(description="48小时承诺时限 / the 48-hour deadline")
    stage: str | None = Field(description="当前阶段 / current stage of the clock", examples=["bank_review"])
    stage_entered_at: datetime | None
    stage_due_at: datetime | None
    sla_status: str = Field(description="on_track / at_risk / breached")
    breach_party: str | None = Field(description="超时责任方 / the party that caused a breach")
    decided_at: datetime | None
    signed_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def fields_from(cls, app: FinanceApplication, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
        assert app.id is not None
        return {
            "id": app.id,
            "applicant_id": app.applicant_id,
            "bank_id": app.bank_id,
            "product_id": app.product_id,
            "kind": app.kind,
            "core_enterprise_id": app.core_enterprise_id,
            "receivable_id": app.receivable_id,
            "part_id": app.part_id,
            "contract_id": app.contract_id,
            "sme_line_id": app.sme_line_id,
            "due_on": app.due_on,
            "requested_fen": app.requested_fen,
            "requested": yuan_string(app.requested_fen),
            "approved_fen": app.approved_fen,
            "approved": None if app.approved_fen is None else yuan_string(app.approved_fen),
            "annual_rate": _rate(app.annual_rate),
            "status": app.status,
            "risk_grade": app.risk_grade,
            "risk_score": app.risk_score,
            "risk_checked_at": _local(app.risk_checked_at, tz),
            "info_request": app.info_request,
            "info_response": app.info_response,
            "decision_reason": app.decision_reason,
            "submitted_at": to_local(app.submitted_at, tz),
            "deadline_at": to_local(app.deadline_at, tz),
            "stage": app.stage,
            "stage_entered_at": _local(app.stage_entered_at, tz),
            "stage_due_at": _local(app.stage_due_at, tz),
            "sla_status": application_sla_status(app, now),
            "breach_party": app.breach_party,
            "decided_at": _local(app.decided_at, tz),
            "signed_at": _local(app.signed_at, tz),
            "finished_at": _local(app.finished_at, tz),
        }

    @classmethod
    def from_model(cls, app: FinanceApplication, tz: ZoneInfo, now: datetime) -> ApplicationPublic:
        return cls(**cls.fields_from(app, tz, now))


class QueueItemPublic(ApplicationPublic):
    overall_left_seconds: int = Field(description="距48小时时限的秒数（负数为已超时）/ seconds left of the 48 hours")


class RiskReasonPublic(BaseModel):
    code: str
    message: str
    message_en: str
    figure: int | str | None = None
    points: int | None = None


class RiskLinkPublic(BaseModel):
    """One link of the data chain (the match, the signed intent order, the buyer's payments…) and whether the
    check used it."""

    code: str = Field(examples=["intent_order"])
    used: bool = Field(description="风控是否采用了该环节 / whether the check used this link")
    message: str
    message_en: str


class RiskReportPublic(BaseModel):
    application_id: int
    checked: bool = Field(description="是否已完成自动风控 / whether the automatic check has run")
    checked_at: datetime | None
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
            checked_at=_local(app.risk_checked_at, tz),
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


class FinanceOfferPublic(BaseModel):
    """The approved terms the SME signs: it sends back ``terms_hash`` (SHA-256 of ``canonical``)."""

    application_id: int
    status: ApplicationStatus
    terms: dict[str, Any] = Field(description="要约条款（金额为分，利率为字符串）/ the terms (fen, rates as strings)")
    canonical: str = Field(description="规范化JSON（键排序、无空格）/ canonical JSON (sorted keys, no spaces)")
    terms_hash: str = Field(description="canonical 的 SHA-256（十六进制）/ SHA-256 of canonical, hex", min_length=64)
    sign_due_at: datetime | None

    @classmethod
    def from_model(cls, app: FinanceApplication, tz: ZoneInfo) -> FinanceOfferPublic:
        assert app.id is not None and app.offer_terms is not None
        return cls(
            application_id=app.id,
            status=app.status,
            terms=app.offer_terms,
            canonical=common.canonical_terms(app.offer_terms),
            terms_hash=common.terms_hash(app.offer_terms),
            sign_due_at=_local(app.sign_due_at, tz),
        )


class SignaturePublic(BaseModel):
    application_id: int
    organisation_id: int
    user_id: int | None
    terms_hash: str
    signed_at: datetime

    @classmethod
    def from_model(cls, row: Signature, tz: ZoneInfo) -> SignaturePublic:
        return cls(
            application_id=row.application_id,
            organisation_id=row.organisation_id,
            user_id=row.user_id,
            terms_hash=row.terms_hash,
            signed_at=to_local(row.signed_at, tz),
        )


class StageIntervalPublic(BaseModel):
    stage: str = Field(examples=["bank_review"])
    party: str = Field(description="该阶段的责任方 / the party the stage's time is charged to", examples=["bank"])
    entered_at: datetime
    left_at: datetime | None = Field(description="空为仍在此阶段 / empty: still in this stage")
    due_at: datetime = Field(description="本阶段时限 / when the stage is due")
    budget_seconds: int
    duration_seconds: int = Field(description="已用时长（至今或离开时）/ time spent (until now or leaving)")
    over_budget: bool


class BreachPublic(BaseModel):
    breached: bool
    responsible: str | None = Field(description="超时责任方 / party that caused the breach")
    excess_seconds: dict[str, int] = Field(description="各方超出其时限的秒数 / seconds over allowance, per party")


class TimelinePublic(BaseModel):
    application_id: int
    status: ApplicationStatus
    submitted_at: datetime
    deadline_at: datetime
    finished_at: datetime | None
    elapsed_seconds: int = Field(description="已用时间（至放款/结束或现在）/ elapsed, to the end or now")
    overall_left_seconds: int = Field(description="距48小时时限的秒数 / seconds left of the 48 hours")
    stage: str | None
    stage_due_at: datetime | None
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
                    left_at=_local(iv.left_at, tz),
                    due_at=to_local(due, tz),
                    budget_seconds=_seconds(budgets[iv.stage]),
                    duration_seconds=_seconds(spent),
                    over_budget=(iv.left_at or end) > due,
                )
            )
        breach = sla.attribute_breach(app.submitted_at, intervals, now=now, finished_at=app.finished_at)
        return cls(
            application_id=app.id,
            status=app.status,
            submitted_at=to_local(app.submitted_at, tz),
            deadline_at=to_local(app.deadline_at, tz),
            finished_at=_local(app.finished_at, tz),
            elapsed_seconds=_seconds(breach.elapsed),
            overall_left_seconds=_seconds(app.deadline_at - now),
            stage=app.stage,
            stage_due_at=_local(app.stage_due_at, tz),
            sla_status=application_sla_status(app, now),
            breach=BreachPublic(
                breached=breach.breached,
                responsible=breach.responsible.value if breach.responsible else None,
                excess_seconds={p.value: _seconds(d) for p, d in breach.excess.items()},
            ),
            stages=stages,
        )


# ============================================================================================== loans


class LoanPublic(BaseModel):
    id: int
    application_id: int
    kind: FinanceKind = Field(description="贷款类型 / receivable, contract (order) or credit_line drawdown")
    part_id: int | None = Field(description="应收账款份额（仅应收账款融资）/ the part (receivables only)")
    receivable_id: int | None = Field(description="应收账款（仅应收账款融资）/ the receivable (receivables only)")
    contract_id: int | None = Field(description="合同（仅订单融资）/ the contract (contract loans only)")
    sme_line_id: int | None = Field(description="循环额度（仅提款）/ the revolving line (drawdowns only)")
    bank_id: int
    sme_id: int = Field(description="借款企业 / the borrower SME")
    core_enterprise_id: int | None = Field(
        description="应收账款债务人或合同采购方；提款为空 / the receivable's debtor or the contract's buyer; empty for "
        "a drawdown"
    )
    principal_fen: Fen
    principal: YuanString
    principal_outstanding_fen: Fen
    principal_outstanding: YuanString
    fee_fen: Fen
    fee: YuanString
    interest_fen: Fen = Field(description="至到期日的合同利息 / contractual interest to the due date")
    interest: YuanString
    penalty_accrued_fen: Fen
    penalty_accrued: YuanString
    repaid_fen: Fen
    repaid: YuanString
    annual_rate: str = Field(examples=["0.035"])
    day_count: str = Field(examples=["ACT/360"])
    start_date: date
    due_date: date
    status: LoanStatus
    disbursed_at: datetime
    overdue_at: datetime | None
    repaid_at: datetime | None

    @classmethod
    def from_model(cls, row: Loan, receivable_id: int | None, tz: ZoneInfo) -> LoanPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            application_id=row.application_id,
            kind=row.kind,
            part_id=row.part_id,
            receivable_id=receivable_id,
            contract_id=row.contract_id,
            sme_line_id=row.sme_line_id,
            bank_id=row.bank_id,
            sme_id=row.sme_id,
            core_enterprise_id=row.core_enterprise_id,
            principal_fen=row.principal_fen,
            principal=yuan_string(row.principal_fen),
            principal_outstanding_fen=row.principal_outstanding_fen,
            principal_outstanding=yuan_string(row.principal_outstanding_fen),
            fee_fen=row.fee_fen,
            fee=yuan_string(row.fee_fen),
            interest_fen=row.interest_fen,
            interest=yuan_string(row.interest_fen),
            penalty_accrued_fen=row.penalty_accrued_fen,
            penalty_accrued=yuan_string(row.penalty_accrued_fen),
            repaid_fen=row.repaid_fen,
            repaid=yuan_string(row.repaid_fen),
            annual_rate=_rate(row.annual_rate) or "0",
            day_count=row.day_count,
            start_date=row.start_date,
            due_date=row.due_date,
            status=row.status,
            disbursed_at=to_local(row.disbursed_at, tz),
            overdue_at=_local(row.overdue_at, tz),
            repaid_at=_local(row.repaid_at, tz),
        )


class SchedulePublic(BaseModel):
    """What the loan still owes, read from its ledger accounts (penalty interest as accrued so far)."""

    loan_id: int
    status: LoanStatus
    start_date: date
    due_date: date
    days_to_due: int = Field(description="距到期日天数（负数为逾期天数）/ days to the due date (negative: overdue)")
    penalty_accrued_to: date | None
    principal_fen: Fen
    principal: YuanString
    interest_fen: Fen
    interest: YuanString
    fees_fen: Fen
    fees: YuanString
    penalty_fen: Fen
    penalty: YuanString
    total_fen: Fen
    total: YuanString
    payoff_today_fen: Fen = Field(
        description="今天全部还清应付（提前还款按实际天数计息）/ "
        "what repays the loan in full today (interest to the day before the due date)"
    )
    payoff_today: YuanString

    @classmethod
    def from_outstanding(
        cls, loan: Loan, owed: ledger.Outstanding, today: date, payoff: ledger.Outstanding | None = None
    ) -> SchedulePublic:
        assert loan.id is not None
        return cls(
            loan_id=loan.id,
            status=loan.status,
            start_date=loan.start_date,
            due_date=loan.due_date,
            days_to_due=(loan.due_date - today).days,
            penalty_accrued_to=loan.penalty_accrued_to,
            principal_fen=owed.principal_fen,
            principal=yuan_string(owed.principal_fen),
            interest_fen=owed.interest_fen,
            interest=yuan_string(owed.interest_fen),
            fees_fen=owed.fees_fen,
            fees=yuan_string(owed.fees_fen),
            penalty_fen=owed.penalty_fen,
            penalty=yuan_string(owed.penalty_fen),
            total_fen=owed.total_fen,
            total=yuan_string(owed.total_fen),
            payoff_today_fen=(payoff or owed).total_fen,
            payoff_today=yuan_string((payoff or owed).total_fen),
        )


class LedgerLegPublic(BaseModel):
    account_kind: str = Field(examples=["loan_principal"])
    owner_id: str
    amount_fen: int = Field(description="借方为正，贷方为负（分）/ debit positive, credit negative (fen)")
    amount: YuanString


class LedgerPostingPublic(BaseModel):
    id: int
    ref: str
    occurred_at: datetime
    memo: str
    loan_id: int | None
    legs: list[LedgerLegPublic]
    balanced: bool = Field(description="各分录合计为零 / the legs sum to zero")

    @classmethod
    def from_rows(cls, posting: LedgerPosting, legs: list[LedgerLeg], tz: ZoneInfo) -> LedgerPostingPublic:
        assert posting.id is not None
        return cls(
            id=posting.id,
            ref=posting.ref,
            occurred_at=to_local(posting.occurred_at, tz),
            memo=posting.memo,
            loan_id=posting.loan_id,
            legs=[
                LedgerLegPublic(
                    account_kind=leg.account_kind,
                    owner_id=leg.owner_id,
                    amount_fen=leg.amount_fen,
                    amount=yuan_string(leg.amount_fen),
                )
                for leg in legs
            ],
            balanced=sum(leg.amount_fen for leg in legs) == 0,
        )


_CREDITED = {
    ledger.AccountKind.PENALTY_RECEIVABLE.value: "penalty_fen",
    ledger.AccountKind.INTEREST_RECEIVABLE.value: "interest_fen",
    ledger.AccountKind.FEE_RECEIVABLE.value: "fees_fen",
    ledger.AccountKind.LOAN_PRINCIPAL.value: "principal_fen",
    ledger.AccountKind.SME_SETTLEMENT.value: "excess_fen",
    ledger.AccountKind.CORE_PAYABLE.value: "excess_fen",
}


#: Ledger reference prefixes of the postings that repay a loan from a payment (the rest are direct repayments).
RECEIVABLE_PAYMENT_REF = "payment:"
CONTRACT_PAYMENT_REF = "contract-payment:"


def repayment_kind(ref: str) -> str:
    if ref.startswith(RECEIVABLE_PAYMENT_REF):
        return "receivable_payment"
    if ref.startswith(CONTRACT_PAYMENT_REF):
        return "contract_payment"
    return "direct"


class RepaymentPublic(BaseModel):
    """One repayment of a loan: direct (``direct``), the loan's share of the debtor's payment of the receivable
    (``receivable_payment``) or the buyer's payment into the financed contract (``contract_payment``), with its
    allocation over the waterfall."""

    posting_id: int
    loan_id: int
    kind: str = Field(examples=["direct", "receivable_payment", "contract_payment"])
    ref: str
    occurred_at: datetime
    amount_fen: Fen
    amount: YuanString
    allocation: LoanAllocationPublic
    loan_status: LoanStatus = Field(description="还款后贷款的当前状态 / the loan's status now")

    @classmethod
    def from_rows(cls, posting: LedgerPosting, legs: list[LedgerLeg], loan: Loan, tz: ZoneInfo) -> RepaymentPublic:
        assert posting.id is not None and loan.id is not None
        amount = sum(leg.amount_fen for leg in legs if leg.account_kind == ledger.AccountKind.BANK_CASH.value)
        parts: dict[str, int] = {}
        for leg in legs:
            key = _CREDITED.get(leg.account_kind)
            if key is not None:
                parts[key] = parts.get(key, 0) - leg.amount_fen
        return cls(
            posting_id=posting.id,
            loan_id=loan.id,
            kind=repayment_kind(posting.ref),
            ref=posting.ref,
            occurred_at=to_local(posting.occurred_at, tz),
            amount_fen=amount,
            amount=yuan_string(amount),
            allocation=LoanAllocationPublic(**parts),
            loan_status=loan.status,
        )


# ============================================================================================== helpers


def use_case_key(key: str) -> str:
    """The ``Idempotency-Key`` header (8–128 characters) as the use cases' key (at most 64): itself when it fits,
    else a digest of it — the same header always maps to the same key."""
    if len(key) <= 64:
        return key
    return "h:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:62]
