"""One finance application as the SME follows it: the 48-hour timeline, and its actions — more information for
the bank, signing the offer, repaying a contract loan or drawdown, withdrawing."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from accounts.queries import organisation_by_id
from api.deps import ClockDep, SessionDep, SettingsDep
from api.web import labels
from api.web.pages._forms import SmePost
from api.web.pages.sme._shared import (
    APPLICATION_NAMES,
)
from api.web.render import redirect, render
from api.web.session import SmePage
from finance import service as fs
from finance.queries.applications import application_file
from finance.queries.loans import payoff
from finance.schemas.applications import TimelinePublic
from finance.service import common as finance_common
from finance.states import BEFORE_SIGNATURE_STATES
from qianfan.clock import to_local
from qianfan.models import FinanceKind, LoanStatus
from qianfan.money import fen_to_yuan

router = APIRouter()

STAGE_NAMES = labels.STAGES
MAIN_STAGES = ("risk_check", "bank_review", "sme_signature", "disbursement")


@router.get("/finance/{application_id}")
def application_page(
    application_id: int,
    request: Request,
    user: SmePage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    file = application_file(session, user.actor, application_id)  # another SME's application is not found
    app, loan = file.application, file.loan
    assert app.id is not None
    now = clock.now()
    timeline = TimelinePublic.from_model(app, finance_common.intervals(session, app.id), settings.tz, now)
    entered = {s.stage for s in timeline.stages}
    upcoming = [s for s in MAIN_STAGES if s not in entered] if app.finished_at is None else []
    terms_hash = fs.terms_hash(app.offer_terms) if app.offer_terms else ""
    # The SME repays its contract loans and drawdowns itself (a receivable loan is repaid by its debtor); a
    # contract loan is also repaid by the buyer's payments into the contract before the SME is paid the rest.
    owed = None
    if (
        loan is not None
        and loan.id is not None
        and loan.status != LoanStatus.REPAID
        and loan.kind != FinanceKind.RECEIVABLE
    ):
        owed = payoff(session, loan.id, to_local(now).date())  # what repaying it in full today charges
    context = {
        "app": app,
        "owed": owed,
        "repay_amount": str(fen_to_yuan(owed.total_fen)) if owed is not None else "",
        "repay_key": f"web-{uuid.uuid4().hex}",
        "contract": file.contract,
        "line": file.line,
        "kind_names": labels.FINANCE_KINDS,
        "line_states": labels.SME_LINE_STATES,
        "loan": loan,
        "loan_names": labels.LOAN_STATES,
        "timeline": timeline,
        "upcoming": upcoming,
        "receivable": file.receivable,
        "bank": organisation_by_id(session, app.bank_id),
        "product": file.product,
        "debtor": organisation_by_id(session, app.core_enterprise_id) if app.core_enterprise_id is not None else None,
        "status_names": APPLICATION_NAMES,
        "stage_names": STAGE_NAMES,
        "terms_hash": terms_hash,
        "can_withdraw": app.status in BEFORE_SIGNATURE_STATES,
        "now": now,
    }
    return render(request, "sme/application.html", context, user=user)


def _here(application_id: int) -> str:
    return f"/sme/finance/{application_id}"


@router.post("/finance/{application_id}/info")
def provide_info(application_id: int, post: SmePost) -> Response:
    answer = post.values("answer")["answer"]
    ok = ("材料已补充，银行继续审核", "Information sent; the bank continues its review")
    return post.act(fs.provide_info, application_id, answer, back=_here(application_id), ok=ok)


@router.post("/finance/{application_id}/sign")
def sign_offer(application_id: int, post: SmePost) -> Response:
    terms_hash = post.values("terms_hash")["terms_hash"]
    ok = ("已签署融资要约，等待银行放款", "Offer signed; waiting for the bank to disburse")
    return post.act(fs.sign_offer, application_id, terms_hash, back=_here(application_id), ok=ok)


@router.post("/finance/{application_id}/repay")
def repay_loan(application_id: int, post: SmePost) -> Response:
    """Repay the loan of a contract-finance application or a drawdown (once per rendered form's key)."""
    loan = application_file(post.session, post.user.actor, application_id).loan  # another SME's: not found
    here = _here(application_id)
    if loan is None or loan.id is None:
        return redirect(here, ("error", "该申请尚未放款，没有可还的贷款", "Nothing is lent on this application yet"))
    values = post.values("amount", "idempotency_key")
    loan_id = loan.id
    post.session.rollback()  # the use case writes in its own unit of work
    ok = ("还款已入账", "Repayment recorded")
    return post.act(fs.repay_loan, loan_id, values["amount"], values["idempotency_key"], back=here, ok=ok)


@router.post("/finance/{application_id}/withdraw")
def withdraw_application(application_id: int, post: SmePost) -> Response:
    ok = ("申请已撤回，额度已释放", "Application withdrawn; the limits are released")
    return post.act(fs.withdraw, application_id, back=_here(application_id), ok=ok)
