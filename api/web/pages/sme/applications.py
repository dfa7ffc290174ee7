"""One finance application as the SME follows it: the 48-hour timeline, and its actions — more information for
the bank, signing the offer, repaying a contract loan or drawdown, withdrawing."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.web import labels
from api.web.pages.sme._shared import (
    APPLICATION_NAMES,
)
from api.web.render import act, form_values, redirect, render
from api.web.session import FormDep, SmePage
from finance import service as fs
from finance.schemas.applications import TimelinePublic
from finance.service import common as finance_common
from finance.states import REVIEW_QUEUE_STATES
from qianfan.clock import to_local
from qianfan.errors import NotFound
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    Organisation,
    Receivable,
    SmeCreditLine,
)
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork

router = APIRouter()

STAGE_NAMES = labels.STAGES
MAIN_STAGES = ("risk_check", "bank_review", "sme_signature", "disbursement")
BEFORE_SIGNATURE = (ApplicationStatus.SUBMITTED, *REVIEW_QUEUE_STATES, ApplicationStatus.APPROVED)


def _own_application(session: Session, org_id: int, application_id: int) -> FinanceApplication:
    app = session.get(FinanceApplication, application_id)
    if app is None or app.applicant_id != org_id:
        raise NotFound.of("融资申请", "Finance application", application_id)
    return app


@router.get("/finance/{application_id}")
def application_page(
    application_id: int,
    request: Request,
    user: SmePage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    app = _own_application(session, user.organisation_id, application_id)
    assert app.id is not None
    now = clock.now()
    timeline = TimelinePublic.from_model(app, finance_common.intervals(session, app.id), settings.tz, now)
    entered = {s.stage for s in timeline.stages}
    upcoming = [s for s in MAIN_STAGES if s not in entered] if app.finished_at is None else []
    receivable = session.get(Receivable, app.receivable_id) if app.receivable_id is not None else None
    contract = session.get(Contract, app.contract_id) if app.contract_id is not None else None
    line = session.get(SmeCreditLine, app.sme_line_id) if app.sme_line_id is not None else None
    terms_hash = fs.terms_hash(app.offer_terms) if app.offer_terms else ""
    loan = session.exec(select(Loan).where(col(Loan.application_id) == app.id)).first()
    # The SME repays its contract loans and drawdowns itself (a receivable loan is repaid by its debtor); a
    # contract loan is also repaid by the buyer's payments into the contract before the SME is paid the rest.
    owed = None
    if (
        loan is not None
        and loan.id is not None
        and loan.status != LoanStatus.REPAID
        and loan.kind != FinanceKind.RECEIVABLE
    ):
        owed = fs.loan_outstanding(session, loan.id, as_of=to_local(now).date())  # to settle it today
    context = {
        "app": app,
        "owed": owed,
        "repay_amount": str(fen_to_yuan(owed.total_fen)) if owed is not None else "",
        "repay_key": f"web-{uuid.uuid4().hex}",
        "contract": contract,
        "line": line,
        "kind_names": labels.FINANCE_KINDS,
        "line_states": labels.SME_LINE_STATES,
        "loan": loan,
        "loan_names": labels.LOAN_STATES,
        "timeline": timeline,
        "upcoming": upcoming,
        "receivable": receivable,
        "bank": session.get(Organisation, app.bank_id),
        "product": session.get(BankProduct, app.product_id),
        "debtor": session.get(Organisation, app.core_enterprise_id) if app.core_enterprise_id is not None else None,
        "status_names": APPLICATION_NAMES,
        "stage_names": STAGE_NAMES,
        "terms_hash": terms_hash,
        "can_withdraw": app.status in BEFORE_SIGNATURE,
        "now": now,
    }
    return render(request, "sme/application.html", context, user=user)


@router.post("/finance/{application_id}/info")
def provide_info(application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    answer = form_values(form, "answer")["answer"]
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.provide_info(UnitOfWork(engine, clock), user.actor, application_id, answer),
        ok_url=here,
        ok=("材料已补充，银行继续审核", "Information sent; the bank continues its review"),
        back_url=here,
    )


@router.post("/finance/{application_id}/sign")
def sign_offer(application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    terms_hash = form_values(form, "terms_hash")["terms_hash"]
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.sign_offer(UnitOfWork(engine, clock), user.actor, application_id, terms_hash),
        ok_url=here,
        ok=("已签署融资要约，等待银行放款", "Offer signed; waiting for the bank to disburse"),
        back_url=here,
    )


@router.post("/finance/{application_id}/repay")
def repay_loan(
    application_id: int, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    """Repay the loan of a contract-finance application or a drawdown (once per rendered form's key)."""
    app = _own_application(session, user.organisation_id, application_id)
    loan = session.exec(select(Loan).where(col(Loan.application_id) == app.id)).first()
    here = f"/sme/finance/{application_id}"
    if loan is None or loan.id is None:
        return redirect(here, ("error", "该申请尚未放款，没有可还的贷款", "Nothing is lent on this application yet"))
    values = form_values(form, "amount", "idempotency_key")
    loan_id = loan.id
    session.rollback()  # the use case writes in its own unit of work
    return act(
        lambda: fs.repay_loan(
            UnitOfWork(engine, clock), user.actor, loan_id, values["amount"], values["idempotency_key"]
        ),
        ok_url=here,
        ok=("还款已入账", "Repayment recorded"),
        back_url=here,
    )


@router.post("/finance/{application_id}/withdraw")
def withdraw_application(
    application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.withdraw(UnitOfWork(engine, clock), user.actor, application_id),
        ok_url=here,
        ok=("申请已撤回，额度已释放", "Application withdrawn; the limits are released"),
        back_url=here,
    )
