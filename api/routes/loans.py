"""Loans (贷款) after disbursement: what is owed, repayments, the ledger, and direct repayment.

Who sees a loan: its bank, its borrower SME, the debtor large firm of the financed receivable (or the buyer of the
financed contract), and the programme office (read-only).  A drawdown on an SME's revolving line has no large firm.
Another organisation's loan is answered with 404; service providers get 403.  A contract loan is repaid first by
the buyer's payments into the contract (listed as ``contract_payment`` repayments) and directly by its SME only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlmodel import Session

from api.auth import Principal, require_kind
from api.deps import PageParams
from api.idempotency import RequiredIdempotencyKey, idempotent, use_case_key
from api.params import MAX_ID, Id, SortKey, sort_orders
from api.routes.context import ContextDep
from api.routes.lists import filters_from, page_of
from api.schemas import AUTH_RESPONSES, Page
from finance import service as fs
from finance.access import load_loan_for
from finance.queries import ledger as ledger_queries
from finance.queries.ledger import LoanFilter
from finance.queries.loans import payoff
from finance.schemas.loans import LedgerPostingPublic, LoanPublic, RepaymentBody, RepaymentPublic, SchedulePublic
from qianfan.clock import to_local
from qianfan.models import FinanceKind, Loan, LoanStatus, OrgKind

router = APIRouter(prefix="/api/v1/loans", tags=["loans"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[
    Principal,
    Depends(require_kind(OrgKind.SME, OrgKind.LARGE_FIRM, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE)),
]
PayerDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.LARGE_FIRM))]
LoanId = Annotated[int, Path(ge=1, le=MAX_ID, description="贷款编号 / loan id")]

SORTS = sort_orders(
    Loan.id,
    {"due_date": Loan.due_date, "disbursed_at": Loan.disbursed_at, "principal": Loan.principal_fen},
    ("due_date", "-due_date", "-disbursed_at", "disbursed_at", "-principal", "principal"),
)
DEFAULT_SORT = "due_date"
LoanSort = Annotated[str, SortKey(SORTS, DEFAULT_SORT)]


class LoanQuery(PageParams):
    status: LoanStatus | None = Field(None, description="状态 / status")
    kind: FinanceKind | None = Field(None, description="贷款类型 / receivable, contract or credit_line")
    contract_id: Id | None = Field(None, description="合同（订单融资）/ the contract of a contract loan")
    bank_id: Id | None = None
    sme_id: Id | None = None
    core_enterprise_id: Id | None = None
    due_from: date | None = Field(None, description="到期日不早于 / due on or after")
    due_to: date | None = Field(None, description="到期日不晚于 / due on or before")
    sort: LoanSort = Field(DEFAULT_SORT, description="排序 / sort order")


def _visible(session: Session, principal: Principal, loan_id: int) -> tuple[Loan, int | None]:
    loan = load_loan_for(session, principal.actor, loan_id)
    return loan, ledger_queries.receivable_id_of(session, loan)


def loan_public(session: Session, loan: Loan, settings: Any) -> LoanPublic:
    return LoanPublic.from_model(loan, ledger_queries.receivable_id_of(session, loan), settings.tz)


@router.get(
    "",
    response_model=Page[LoanPublic],
    summary="贷款列表 / List loans",
    description="银行：本行的贷款；中小企业：本企业借入的；大企业：其应收账款上的；管委会：全部。\n\n"
    "Bank: its own loans; SME: its borrowings; large firm: loans on receivables it owes; office: all.",
)
def list_loans(query: Annotated[LoanQuery, Query()], principal: ReaderDep, ctx: ContextDep) -> Page[LoanPublic]:
    filters = filters_from(query, LoanFilter)
    total = ledger_queries.loan_count(ctx.session, principal.actor, filters)
    rows = ledger_queries.loan_list(
        ctx.session, principal.actor, filters, order_by=SORTS[query.sort], offset=query.offset, limit=query.limit
    )
    return page_of([LoanPublic.from_model(loan, rid, ctx.tz) for loan, rid in rows], total, query)


@router.get("/{loan_id}", response_model=LoanPublic, summary="贷款详情 / Loan")
def get_loan(loan_id: LoanId, principal: ReaderDep, ctx: ContextDep) -> LoanPublic:
    loan, receivable_id = _visible(ctx.session, principal, loan_id)
    return LoanPublic.from_model(loan, receivable_id, ctx.tz)


@router.get(
    "/{loan_id}/schedule",
    response_model=SchedulePublic,
    summary="待还本金、利息、费用、罚息与到期日 / Outstanding principal, interest, fees, penalty and due date",
    description="按账簿计算：利息为到期日的约定利息，payoff_today 为今天全部还清的金额（提前还款按实际天数计息）；"
    "逾期罚息由到期日批处理按日计提。\n\n"
    "Read from the ledger: interest is the contractual interest to the due date, `payoff_today` what repays the loan "
    "in full today (interest to the day when early); penalty interest is accrued daily by the maturity sweep.",
)
def loan_schedule(loan_id: LoanId, principal: ReaderDep, ctx: ContextDep) -> SchedulePublic:
    loan, _ = _visible(ctx.session, principal, loan_id)
    today = to_local(ctx.now(), ctx.tz).date()
    owed = fs.loan_outstanding(ctx.session, loan_id)
    return SchedulePublic.from_outstanding(loan, owed, today, payoff(ctx.session, loan_id, today).outstanding)


@router.get(
    "/{loan_id}/repayments",
    response_model=list[RepaymentPublic],
    summary="还款记录 / Repayments of a loan",
)
def list_repayments(loan_id: LoanId, principal: ReaderDep, ctx: ContextDep) -> list[RepaymentPublic]:
    loan, _ = _visible(ctx.session, principal, loan_id)
    return [
        RepaymentPublic.from_rows(posting, legs, loan, ctx.tz)
        for posting, legs in ledger_queries.loan_repayments(ctx.session, loan_id)
    ]


@router.get(
    "/{loan_id}/ledger",
    response_model=list[LedgerPostingPublic],
    summary="贷款账簿（含分录）/ The loan's ledger postings with their legs",
)
def loan_ledger(loan_id: LoanId, principal: ReaderDep, ctx: ContextDep) -> list[LedgerPostingPublic]:
    _visible(ctx.session, principal, loan_id)
    return [
        LedgerPostingPublic.from_rows(posting, legs, ctx.tz)
        for posting, legs in ledger_queries.loan_ledger(ctx.session, loan_id)
    ]


@router.post(
    "/{loan_id}/repayments",
    response_model=RepaymentPublic,
    status_code=201,
    summary="还款（债务人或借款企业；需幂等键）/ Repay (debtor or borrower; Idempotency-Key required)",
    description="按 罚息 → 利息 → 费用 → 本金 的顺序冲抵；超过应还总额的金额被拒绝。"
    "同一幂等键与相同请求返回第一次的结果。\n\n"
    "Applied penalty → interest → fees → principal; more than is owed is refused. The same key and request "
    "replays the first answer (`Idempotent-Replayed: true`).",
)
def repay_loan(
    request: Request,
    loan_id: LoanId,
    body: RepaymentBody,
    principal: PayerDep,
    key: RequiredIdempotencyKey,
    ctx: ContextDep,
) -> JSONResponse:
    service_key = use_case_key(key)

    def run() -> RepaymentPublic:
        fs.repay_loan(ctx.uow(), principal.actor, loan_id, body.amount, service_key)
        with Session(ctx.engine) as session:
            loan = session.get(Loan, loan_id)
            posting, legs = ledger_queries.loan_repayment(session, loan_id, service_key)
            assert loan is not None
            return RepaymentPublic.from_rows(posting, legs, loan, ctx.tz)

    return idempotent(request, principal, key, body, run, clock=ctx.clock, status_code=201)
