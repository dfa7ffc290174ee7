"""The SME's receivables (应收账款): the ones it registered or holds a part of, and registering a new one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import ClockDep, EngineDep, SessionDep
from api.web import labels
from api.web.pages.sme._shared import (
    FormRefusal,
    FormState,
    org_names,
)
from api.web.render import form_values, redirect, render
from api.web.session import FormDep, SmePage
from finance import service as fs
from finance.queries.receivables import debtor_candidates, held_parts_of, receivable_list
from market import offer_import
from market.queries import contracts_supplied_by
from qianfan.clock import to_local
from qianfan.models import ContractStatus, PartState, ReceivablePart
from qianfan.money import format_yuan
from qianfan.uow import UnitOfWork

router = APIRouter()

RECEIVABLE_NAMES = labels.RECEIVABLE_STATES


@router.get("/receivables")
def receivables_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    receivables = receivable_list(session, user.actor)  # registered by the SME or (partly) held by it
    parts = held_parts_of(session, user.actor, [r.id for r in receivables if r.id is not None])
    by_receivable: dict[int, list[ReceivablePart]] = {}
    for part in parts:
        if part.status in (PartState.SPLIT, PartState.TRANSFERRED):
            continue
        by_receivable.setdefault(part.receivable_id, []).append(part)
    context = {
        "receivables": receivables,
        "parts": by_receivable,
        "names": org_names(session, [r.debtor_id for r in receivables]),
        "status_names": RECEIVABLE_NAMES,
    }
    return render(request, "sme/receivables.html", context, user=user)


RECEIVABLE_FIELDS = ("title", "contract_id", "debtor_id", "face", "issue_date", "due_date", "invoice_numbers")


def _receivable_form(
    request: Request,
    user: SmePage,
    session: Session,
    state: FormState,
) -> Response:
    """The form to register a receivable: the SME's contracts and the large firms it may name as debtor."""
    contracts = [c for c in contracts_supplied_by(session, user.actor) if c.status != ContractStatus.TERMINATED]
    firms = debtor_candidates(session)
    names = org_names(session, [c.buyer_id for c in contracts])
    context = {
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "contract_options": [
            (str(c.id), f"#{c.id} {c.title}（{names.get(c.buyer_id, '')}，{format_yuan(c.amount_fen)}）")
            for c in contracts
        ],
        "debtor_options": [(str(i), n) for i, n in firms],
    }
    return render(request, "sme/receivable_form.html", context, user=user, status_code=state.status_code)


@router.get("/receivables/new")
def new_receivable(
    request: Request, user: SmePage, session: SessionDep, clock: ClockDep, contract: int | None = None
) -> Response:
    values = {"contract_id": str(contract) if contract else "", "issue_date": to_local(clock.now()).date().isoformat()}
    return _receivable_form(request, user, session, FormState(values))


@router.post("/receivables")
def register_receivable(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    values = form_values(form, *RECEIVABLE_FIELDS)
    data: dict[str, Any] = {
        "title": values["title"],
        "face": values["face"],
        "issue_date": values["issue_date"] or None,
        "due_date": values["due_date"] or None,
        "invoice_numbers": offer_import.split_list(values["invoice_numbers"]),
    }
    for key in ("contract_id", "debtor_id"):
        if values[key]:
            data[key] = values[key]
    try:
        receivable = fs.register_receivable(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        return _receivable_form(request, user, session, FormState.refused(values, exc))
    return redirect(
        "/sme/receivables",
        (
            "ok",
            f"应收账款“{receivable.title}”已登记，等待核心企业确权",
            f"Receivable “{receivable.title}” registered; waiting for the core enterprise to confirm it",
        ),
    )
