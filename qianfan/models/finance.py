"""Receivables finance: receivables and their parts (the multi-tier voucher), bank products, credit lines and
exposure limits, finance applications with their 48-hour clock, approvals, signatures, loans, repayments and the
double-entry ledger.

The database itself guards the promises that must hold under concurrency:

- an invoice is registered once (``receivable_invoice.invoice_key`` unique);
- a part has at most one live application (``finance_application.active_part_id`` unique, NULL once the
  application ends without a loan) and at most one loan, ever (``loan.part_id`` unique);
- a credit line or exposure limit is never exceeded (``CHECK (used_fen <= limit_fen)``), with the use cases also
  taking row locks so the second request gets a clear refusal rather than a constraint error;
- a disbursement, a repayment and a ledger posting happen once per idempotency key / reference (unique).
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, money, timestamp

# String values mirror finance.states / finance.sla / finance.pricing (the pure rules own the transitions); the
# core package may not import the finance domain, so the column enums are declared here.


class FinanceKind(StrEnum):
    """The finance zone's products: 应收账款融资 (confirmed receivables), 订单融资 (a signed contract before
    delivery, repaid from the buyer's payments) and 循环额度 (drawdowns on an SME's revolving line grown from
    its settled trade)."""

    RECEIVABLE = "receivable"
    CONTRACT = "contract"
    CREDIT_LINE = "credit_line"


class SmeLineStatus(StrEnum):
    ACTIVE = "active"
    DECLINED = "declined"
    CLOSED = "closed"


class ReceivableStatus(StrEnum):
    REGISTERED = "registered"
    CONFIRMED = "confirmed"
    SPLIT = "split"
    PARTLY_TRANSFERRED = "partly_transferred"
    FINANCED = "financed"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class PartState(StrEnum):
    HELD = "held"
    FINANCING = "financing"
    FINANCED = "financed"
    TRANSFERRED = "transferred"
    SPLIT = "split"  # superseded by its child parts
    SETTLED = "settled"


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    RISK_CHECKED = "risk_checked"
    UNDER_REVIEW = "under_review"
    INFO_REQUESTED = "info_requested"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    OFFER_SIGNED = "offer_signed"
    DISBURSED = "disbursed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class LoanStatus(StrEnum):
    DISBURSED = "disbursed"
    REPAID_PARTIALLY = "repaid_partially"
    OVERDUE = "overdue"
    REPAID = "repaid"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    APPROVE_FIRST = "approve_first"
    APPROVE_SECOND = "approve_second"
    REJECT = "reject"
    REQUEST_INFO = "request_info"


class Receivable(SQLModel, table=True):
    """应收账款: owed by ``debtor_id`` (the core enterprise) to ``creditor_id`` (the SME that registered it)."""

    __tablename__ = "receivable"
    __table_args__ = (
        sa.CheckConstraint("face_fen > 0", name="face_positive"),
        sa.CheckConstraint(
            "confirmed_fen IS NULL OR (confirmed_fen > 0 AND confirmed_fen <= face_fen)", name="confirmed_within_face"
        ),
        sa.CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
        sa.CheckConstraint("due_date > issue_date", name="due_after_issue"),
    )

    id: int | None = Field(default=None, primary_key=True)
    creditor_id: int = Field(foreign_key="organisation.id", index=True)
    debtor_id: int = Field(foreign_key="organisation.id", index=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    title: str = Field(max_length=200)
    face_fen: int = money()
    confirmed_fen: int | None = money(default=None, nullable=True)
    paid_fen: int = money(default=0)
    issue_date: date
    due_date: date = Field(index=True)
    invoice_numbers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: ReceivableStatus = Field(
        default=ReceivableStatus.REGISTERED, sa_type=enum_type(ReceivableStatus), index=True
    )
    registered_at: datetime = timestamp()
    registered_by: int | None = Field(default=None, foreign_key="user_account.id")
    confirmed_at: datetime | None = timestamp(nullable=True)
    confirmed_by: int | None = Field(default=None, foreign_key="user_account.id")
    undertaking: str = Field(default="", sa_type=sa.Text)  # the irrevocable payment undertaking, as confirmed
    settled_at: datetime | None = timestamp(nullable=True)
    cancelled_at: datetime | None = timestamp(nullable=True)
    cancel_reason: str = Field(default="", sa_type=sa.Text)
    disputed: bool = Field(default=False)  # refused by the debtor (counts against the creditor in risk control)
    version: int = Field(default=1)


class ReceivableInvoice(SQLModel, table=True):
    """One invoice of a receivable; the unique key ``"{debtor_id}:{normalised number}"`` stops double registration."""

    __tablename__ = "receivable_invoice"

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivable.id", index=True)
    invoice_key: str = Field(max_length=64, unique=True)


class ReceivablePart(SQLModel, table=True):
    """A holding of a confirmed receivable.  Confirmation creates one part for the whole confirmed amount; a split
    replaces a part by children that sum to it; a transfer replaces a part by one for the new holder.  The live
    parts (held, financing, financed, settled) always sum to the confirmed amount."""

    __tablename__ = "receivable_part"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivable.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="receivable_part.id", index=True)
    holder_id: int = Field(foreign_key="organisation.id", index=True)
    amount_fen: int = money()
    paid_fen: int = money(default=0)
    status: PartState = Field(default=PartState.HELD, sa_type=enum_type(PartState), index=True)
    created_at: datetime = timestamp()
    version: int = Field(default=1)


class BankProduct(SQLModel, table=True):
    """A bank's receivables-finance product (mirrors ``finance.pricing.Product``)."""

    __tablename__ = "bank_product"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "code"),
        sa.CheckConstraint("advance_rate > 0 AND advance_rate <= 1", name="advance_rate_range"),
        sa.CheckConstraint("fee_min_fen <= fee_max_fen", name="fee_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    kind: FinanceKind = Field(
        default=FinanceKind.RECEIVABLE,
        sa_type=enum_type(FinanceKind),
        index=True,
        sa_column_kwargs={"server_default": FinanceKind.RECEIVABLE.value},  # rows from before migration 0007
    )
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    advance_rate: Decimal = Field(sa_type=sa.Numeric(5, 4))
    day_count: str = Field(default="ACT/360", max_length=16)
    spreads_bp: dict[str, int | None] = Field(default_factory=dict, sa_type=sa.JSON)
    arrangement_fee_bp: int = Field(default=0)
    fee_min_fen: int = money(default=0)
    fee_max_fen: int = money(default=0)
    four_eyes_threshold_fen: int = money(default=500_000_000)
    max_tenor_months: int = Field(default=12)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp()


class CreditLine(SQLModel, table=True):
    """The credit a bank grants against one core enterprise's confirmed receivables; ``used_fen`` is reserved by
    live applications and loans and released by rejection, withdrawal, expiry or repayment of principal."""

    __tablename__ = "credit_line"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "core_enterprise_id"),
        sa.CheckConstraint("used_fen >= 0 AND used_fen <= limit_fen", name="used_within_limit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    core_enterprise_id: int = Field(foreign_key="organisation.id", index=True)
    limit_fen: int = money()
    used_fen: int = money(default=0)
    updated_at: datetime = timestamp()


class ExposureLimit(SQLModel, table=True):
    """An SME's total finance exposure on the platform (all banks), reserved and released like a credit line."""

    __tablename__ = "exposure_limit"
    __table_args__ = (sa.CheckConstraint("used_fen >= 0 AND used_fen <= limit_fen", name="used_within_limit"),)

    id: int | None = Field(default=None, primary_key=True)
    sme_id: int = Field(foreign_key="organisation.id", unique=True)
    limit_fen: int = money()
    used_fen: int = money(default=0)
    updated_at: datetime = timestamp()


class SmeCreditLine(SQLModel, table=True):
    """A bank's revolving line for one SME, set from the platform's suggestion (or declined).  Drawdowns reserve
    ``used_fen`` like a credit line; repaid principal frees it again."""

    __tablename__ = "sme_credit_line"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "sme_id"),
        sa.CheckConstraint("used_fen >= 0 AND used_fen <= limit_fen", name="used_within_limit"),
        sa.CheckConstraint("suggested_fen >= 0", name="suggested_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    sme_id: int = Field(foreign_key="organisation.id", index=True)
    status: SmeLineStatus = Field(sa_type=enum_type(SmeLineStatus), index=True)
    suggested_fen: int = money(default=0)  # what the platform suggested when the bank decided
    limit_fen: int = money(default=0)
    used_fen: int = money(default=0)
    expires_on: date | None = None
    suggestion: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # the reasons the bank saw
    note: str = Field(default="", sa_type=sa.Text)
    decided_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    version: int = Field(default=1)


class FinanceApplication(SQLModel, table=True):
    """An application at one bank, with its 48-hour clock: to finance a receivable part (``part_id``), a signed
    contract before delivery (``contract_id``; ``active_contract_id`` stays set while the application or its loan
    is live, so a contract is financed at most once at a time) or a drawdown on an SME line (``sme_line_id``)."""

    __tablename__ = "finance_application"
    __table_args__ = (
        sa.CheckConstraint("requested_fen > 0", name="requested_positive"),
        sa.UniqueConstraint("applicant_id", "idempotency_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="organisation.id", index=True)
    applicant_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    product_id: int = Field(foreign_key="bank_product.id")
    kind: FinanceKind = Field(
        default=FinanceKind.RECEIVABLE,
        sa_type=enum_type(FinanceKind),
        index=True,
        sa_column_kwargs={"server_default": FinanceKind.RECEIVABLE.value},  # rows from before migration 0007
    )
    core_enterprise_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    receivable_id: int | None = Field(default=None, foreign_key="receivable.id", index=True)
    part_id: int | None = Field(default=None, foreign_key="receivable_part.id", index=True)
    active_part_id: int | None = Field(default=None, foreign_key="receivable_part.id", unique=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    active_contract_id: int | None = Field(default=None, foreign_key="contract.id", unique=True)
    sme_line_id: int | None = Field(default=None, foreign_key="sme_credit_line.id", index=True)
    due_on: date | None = None  # the loan's due date (contracts and drawdowns; a receivable's is its own)
    idempotency_key: str | None = Field(default=None, max_length=64)
    requested_fen: int = money()
    approved_fen: int | None = money(default=None, nullable=True)
    status: ApplicationStatus = Field(
        default=ApplicationStatus.SUBMITTED, sa_type=enum_type(ApplicationStatus), index=True
    )
    risk_grade: str | None = Field(default=None, max_length=1)
    risk_score: int | None = Field(default=None)
    risk_report: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    risk_checked_at: datetime | None = timestamp(nullable=True)
    annual_rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(9, 6))
    offer_terms: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    info_request: str = Field(default="", sa_type=sa.Text)
    info_response: str = Field(default="", sa_type=sa.Text)
    decision_reason: str = Field(default="", sa_type=sa.Text)
    # The 48-hour clock: submitted_at + 48 h overall; the current stage, when it began and when it is due.
    submitted_at: datetime = timestamp(index=True)
    deadline_at: datetime = timestamp(index=True)
    stage: str | None = Field(default=None, max_length=32)
    stage_entered_at: datetime | None = timestamp(nullable=True)
    stage_due_at: datetime | None = timestamp(nullable=True, index=True)
    review_due_at: datetime | None = timestamp(nullable=True)
    sign_due_at: datetime | None = timestamp(nullable=True)
    disburse_due_at: datetime | None = timestamp(nullable=True)
    sla_status: str = Field(default="on_track", max_length=16, index=True)
    breach_party: str | None = Field(default=None, max_length=16)
    escalated_at: datetime | None = timestamp(nullable=True)
    decided_at: datetime | None = timestamp(nullable=True)
    signed_at: datetime | None = timestamp(nullable=True)
    finished_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)


class ApplicationStage(SQLModel, table=True):
    """One stretch of an application's time in a stage (risk check, bank review, information requested, SME
    signature, disbursement): the record a breach of the 48 hours is attributed from."""

    __tablename__ = "application_stage"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="finance_application.id", index=True)
    stage: str = Field(max_length=32)
    entered_at: datetime = timestamp()
    left_at: datetime | None = timestamp(nullable=True)


class Approval(SQLModel, table=True):
    """A bank user's decision on an application (a first and a second approval above the four-eyes amount)."""

    __tablename__ = "finance_approval"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="finance_application.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    decision: ReviewDecision = Field(sa_type=enum_type(ReviewDecision))
    amount_fen: int | None = money(default=None, nullable=True)
    annual_rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(9, 6))
    note: str = Field(default="", sa_type=sa.Text)
    at: datetime = timestamp()


class Signature(SQLModel, table=True):
    """The SME's acceptance of the offer: who, when, and the SHA-256 of the canonical terms it saw."""

    __tablename__ = "finance_signature"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="finance_application.id", unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    terms: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    terms_hash: str = Field(max_length=64)
    signed_at: datetime = timestamp()


class Loan(SQLModel, table=True):
    __tablename__ = "loan"
    __table_args__ = (
        sa.CheckConstraint("principal_fen > 0", name="principal_positive"),
        sa.CheckConstraint("principal_outstanding_fen >= 0", name="outstanding_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="finance_application.id", unique=True)
    kind: FinanceKind = Field(
        default=FinanceKind.RECEIVABLE,
        sa_type=enum_type(FinanceKind),
        index=True,
        sa_column_kwargs={"server_default": FinanceKind.RECEIVABLE.value},  # rows from before migration 0007
    )
    # A part is financed at most once, ever (NULL for contract loans and drawdowns).
    part_id: int | None = Field(default=None, foreign_key="receivable_part.id", unique=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    sme_line_id: int | None = Field(default=None, foreign_key="sme_credit_line.id", index=True)
    disbursement_key: str = Field(max_length=64, unique=True)
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    sme_id: int = Field(foreign_key="organisation.id", index=True)
    core_enterprise_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    principal_fen: int = money()
    principal_outstanding_fen: int = money()
    fee_fen: int = money(default=0)
    interest_fen: int = money(default=0)  # contractual interest to the due date
    penalty_accrued_fen: int = money(default=0)
    repaid_fen: int = money(default=0)
    annual_rate: Decimal = Field(sa_type=sa.Numeric(9, 6))
    day_count: str = Field(max_length=16)
    start_date: date
    due_date: date = Field(index=True)
    penalty_accrued_to: date | None = Field(default=None)
    status: LoanStatus = Field(default=LoanStatus.DISBURSED, sa_type=enum_type(LoanStatus), index=True)
    disbursed_at: datetime = timestamp()
    overdue_at: datetime | None = timestamp(nullable=True)
    repaid_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)


class Payment(SQLModel, table=True):
    """The debtor's payment of a receivable at maturity (full or partial), once per idempotency key; its
    allocation over the holders (and, for financed parts, the loan waterfall) is kept with it."""

    __tablename__ = "receivable_payment"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.UniqueConstraint("receivable_id", "idempotency_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receivable_id: int = Field(foreign_key="receivable.id", index=True)
    payer_id: int = Field(foreign_key="organisation.id", index=True)
    amount_fen: int = money()
    idempotency_key: str = Field(max_length=64)
    allocation: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    paid_at: datetime = timestamp()


class LedgerPosting(SQLModel, table=True):
    """A balanced journal entry; ``ref`` is unique, so replaying a step never posts twice."""

    __tablename__ = "ledger_posting"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=96, unique=True)
    occurred_at: datetime = timestamp(index=True)
    memo: str = Field(max_length=200)
    loan_id: int | None = Field(default=None, foreign_key="loan.id", index=True)
    bank_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    core_enterprise_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)


class LedgerLeg(SQLModel, table=True):
    """One leg: debit positive, credit negative; the legs of a posting sum to zero."""

    __tablename__ = "ledger_leg"
    __table_args__ = (sa.CheckConstraint("amount_fen <> 0", name="amount_not_zero"),)

    id: int | None = Field(default=None, primary_key=True)
    posting_id: int = Field(foreign_key="ledger_posting.id", index=True)
    account_kind: str = Field(max_length=32, index=True)
    owner_id: str = Field(max_length=32, index=True)
    amount_fen: int = money()
