"""The bank's loans by state, and the applications approved or signed and waiting to be disbursed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ClockDep, SessionDep
from api.web.pages.bank._shared import KIND_LABELS, LOAN_STATES, org_names
from api.web.render import render
from api.web.session import BankPage
from finance.queries.applications import approved_not_disbursed
from finance.queries.loans import loan_list
from finance.states import CURRENT_LOAN_STATES
from qianfan.models import ApplicationStatus, LoanStatus

router = APIRouter()

#: The loan filter of /bank/loans: current (running, partly repaid), overdue, repaid.
LOAN_FILTERS: dict[str, tuple[LoanStatus, ...]] = {
    "current": CURRENT_LOAN_STATES,
    "overdue": (LoanStatus.OVERDUE,),
    "repaid": (LoanStatus.REPAID,),
}


@router.get("/loans")
def loans(request: Request, user: BankPage, session: SessionDep, clock: ClockDep, state: str = "") -> Response:
    state = state if state in LOAN_FILTERS else ""
    rows = loan_list(session, user.actor, LOAN_FILTERS.get(state))
    every = rows if not state else loan_list(session, user.actor)
    waiting = approved_not_disbursed(session, user.actor)
    signed = [a for a in waiting if a.status == ApplicationStatus.OFFER_SIGNED]
    approved = [a for a in waiting if a.status == ApplicationStatus.APPROVED]
    ids = [x.sme_id for x in rows] + [x.core_enterprise_id for x in rows]
    ids += [a.applicant_id for a in waiting] + [a.core_enterprise_id for a in waiting]
    running = [x for x in every if x.status != LoanStatus.REPAID]
    context = {
        "loans": rows,
        "state": state,
        "signed": signed,
        "approved": approved,
        "names": org_names(session, ids),
        "loan_states": LOAN_STATES,
        "kind_labels": KIND_LABELS,
        "totals": {
            "count": len(running),
            "outstanding": sum(x.principal_outstanding_fen for x in running),
            "overdue": sum(1 for x in every if x.status == LoanStatus.OVERDUE),
            "overdue_fen": sum(x.principal_outstanding_fen for x in every if x.status == LoanStatus.OVERDUE),
        },
        "now": clock.now(),
    }
    return render(request, "bank/loans.html", context, user=user)
