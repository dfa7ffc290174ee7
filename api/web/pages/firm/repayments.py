"""The receivable loans the firm repays: what is owed today, and repaying one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import PathId
from api.web.pages.firm._shared import DUE_SOON_DAYS, firm_page, local_today, org_names
from api.web.render import error_flash, form_values, redirect
from api.web.session import FirmPage, FormDep
from finance import service as fs
from finance.queries.repayments import loans_to_repay
from qianfan.errors import DomainError
from qianfan.models import Loan, LoanStatus
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork

router = APIRouter()


@dataclass
class LoanRow:
    loan: Loan
    owed_fen: int
    principal_fen: int
    interest_fen: int
    fees_fen: int
    penalty_fen: int
    days: int  # days to the due date (negative: overdue)
    sme: str
    bank: str
    key: str  # the idempotency key of this page's repayment form

    @property
    def tone(self) -> str:
        if self.days < 0:
            return "breached"
        return "at-risk" if self.days <= 7 else ""

    @property
    def amount(self) -> str:
        return str(fen_to_yuan(self.owed_fen))


@router.get("/repayments")
def repayments(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    today = local_today(clock)
    # The firm repays the receivable loans it owes; a contract loan is repaid by its payments into the contract
    # (shown on the contract's page) and a drawdown by the SME.  What each owes is its payoff today: what repaying
    # it in full today charges, the figure the home page shows too.
    owed, repaid = loans_to_repay(session, user.actor, today)
    loans = [row.loan for row in owed] + repaid
    names = org_names(session, {loan.sme_id for loan in loans} | {loan.bank_id for loan in loans})
    open_rows = [
        LoanRow(
            loan=row.loan,
            owed_fen=row.payoff.total_fen,
            principal_fen=row.payoff.principal_fen,
            interest_fen=row.payoff.interest_fen,
            fees_fen=row.payoff.fees_fen,
            penalty_fen=row.payoff.penalty_fen,
            days=(row.loan.due_date - today).days,
            sme=names.get(row.loan.sme_id, "—"),
            bank=names.get(row.loan.bank_id, "—"),
            key=f"web-{uuid.uuid4().hex}",
        )
        for row in owed
    ]
    return firm_page(
        request,
        "repayments.html",
        user,
        loans=open_rows,
        repaid=repaid,
        names=names,
        total_fen=sum(row.owed_fen for row in open_rows),
        soon_days=DUE_SOON_DAYS,
    )


@router.post("/repayments/{loan_id}")
def repay(loan_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    values = form_values(form, "amount", "idempotency_key")
    try:
        result = fs.repay_loan(
            UnitOfWork(engine, clock), user.actor, loan_id, values["amount"], values["idempotency_key"]
        )
    except DomainError as exc:
        return redirect("/firm/repayments", error_flash(exc))
    if result.get("replayed"):
        return redirect(
            "/firm/repayments",
            (
                "info",
                f"贷款 #{loan_id} 的这笔还款已处理过，没有重复扣款",
                f"This repayment of loan #{loan_id} was already made; nothing was paid twice",
            ),
        )
    repaid = result.get("status") == LoanStatus.REPAID.value
    return redirect(
        "/firm/repayments",
        (
            "ok",
            f"已向贷款 #{loan_id} 还款 ¥{values['amount']}" + ("，贷款已还清" if repaid else ""),
            f"Repaid ¥{values['amount']} on loan #{loan_id}" + ("; the loan is repaid in full" if repaid else ""),
        ),
    )
