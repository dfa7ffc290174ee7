"""The API models of loans: the loan, what it still owes, its ledger postings and its repayments.

Money goes out twice and never as a float: integer fen (``amount_fen``) and an exact yuan string (``amount`` =
``"1000000.00"``, :data:`qianfan.money.Yuan`); rates are decimal strings (``"0.035"``).  Datetimes are ISO-8601 in
the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pydantic import Field

from finance import ledger
from finance.queries.ledger import CONTRACT_PAYMENT_REF, RECEIVABLE_PAYMENT_REF
from finance.schemas.common import rate_string
from finance.schemas.receivables import LoanAllocationPublic
from qianfan.clock import to_local
from qianfan.models import (
    FinanceKind,
    LedgerLeg,
    LedgerPosting,
    Loan,
    LoanStatus,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Body, LocalTime, PublicModel, YuanIn, yuan_of


class LoanPublic(PublicModel):
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
    principal: Yuan = yuan_of("principal_fen")
    principal_outstanding_fen: Fen
    principal_outstanding: Yuan = yuan_of("principal_outstanding_fen")
    fee_fen: Fen
    fee: Yuan = yuan_of("fee_fen")
    interest_fen: Fen = Field(description="至到期日的合同利息 / contractual interest to the due date")
    interest: Yuan = yuan_of("interest_fen")
    penalty_accrued_fen: Fen
    penalty_accrued: Yuan = yuan_of("penalty_accrued_fen")
    repaid_fen: Fen
    repaid: Yuan = yuan_of("repaid_fen")
    annual_rate: str = Field(examples=["0.035"])
    day_count: str = Field(examples=["ACT/360"])
    start_date: date
    due_date: date
    status: LoanStatus
    disbursed_at: LocalTime
    overdue_at: LocalTime | None
    repaid_at: LocalTime | None

    @classmethod
    def from_model(cls, row: Loan, receivable_id: int | None, tz: ZoneInfo) -> LoanPublic:
        return cls.of(row, tz, receivable_id=receivable_id, annual_rate=rate_string(row.annual_rate) or "0")


class SchedulePublic(PublicModel):
    """What the loan still owes, read from its ledger accounts (penalty interest as accrued so far)."""

    loan_id: int
    status: LoanStatus
    start_date: date
    due_date: date
    days_to_due: int = Field(description="距到期日天数（负数为逾期天数）/ days to the due date (negative: overdue)")
    penalty_accrued_to: date | None
    principal_fen: Fen
    principal: Yuan = yuan_of("principal_fen")
    interest_fen: Fen
    interest: Yuan = yuan_of("interest_fen")
    fees_fen: Fen
    fees: Yuan = yuan_of("fees_fen")
    penalty_fen: Fen
    penalty: Yuan = yuan_of("penalty_fen")
    total_fen: Fen
    total: Yuan = yuan_of("total_fen")
    payoff_today_fen: Fen = Field(
        description="今天全部还清应付（提前还款按实际天数计息）/ "
        "what repays the loan in full today (interest to the day before the due date)"
    )
    payoff_today: Yuan = yuan_of("payoff_today_fen")

    @classmethod
    def from_outstanding(
        cls, loan: Loan, owed: ledger.Outstanding, today: date, payoff: ledger.Outstanding | None = None
    ) -> SchedulePublic:
        return cls.of(
            owed,
            loan_id=loan.id,
            status=loan.status,
            start_date=loan.start_date,
            due_date=loan.due_date,
            days_to_due=(loan.due_date - today).days,
            penalty_accrued_to=loan.penalty_accrued_to,
            payoff_today_fen=(payoff or owed).total_fen,
        )


class LedgerLegPublic(PublicModel):
    account_kind: str = Field(examples=["loan_principal"])
    owner_id: str
    amount_fen: int = Field(description="借方为正，贷方为负（分）/ debit positive, credit negative (fen)")
    amount: Yuan = yuan_of("amount_fen")


class LedgerPostingPublic(PublicModel):
    id: int
    ref: str
    occurred_at: LocalTime
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
            legs=[LedgerLegPublic.of(leg) for leg in legs],
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


def repayment_kind(ref: str) -> str:
    if ref.startswith(RECEIVABLE_PAYMENT_REF):
        return "receivable_payment"
    if ref.startswith(CONTRACT_PAYMENT_REF):
        return "contract_payment"
    return "direct"


class RepaymentPublic(PublicModel):
    """One repayment of a loan: direct (``direct``), the loan's share of the debtor's payment of the receivable
    (``receivable_payment``) or the buyer's payment into the financed contract (``contract_payment``), with its
    allocation over the waterfall."""

    posting_id: int
    loan_id: int
    kind: str = Field(examples=["direct", "receivable_payment", "contract_payment"])
    ref: str
    occurred_at: LocalTime
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
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
            allocation=LoanAllocationPublic(**parts),
            loan_status=loan.status,
        )


class RepaymentBody(Body):
    amount: YuanIn = Field(description="还款金额（元）/ amount repaid (yuan)")
