"""The firm's intent orders (sign, cancel) and contracts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import PathId
from api.web.pages.firm._shared import firm_page, org_names
from api.web.render import act
from api.web.session import FirmPage, FormDep
from market import service as marketplace
from qianfan.models import Contract, IntentOrder, IntentStatus
from qianfan.uow import UnitOfWork

router = APIRouter()


@router.get("/deals")
def deals(request: Request, user: FirmPage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = list(
        session.exec(
            select(IntentOrder)
            .where(col(IntentOrder.buyer_id) == org)
            .order_by(col(IntentOrder.proposed_at).desc(), col(IntentOrder.id).desc())
            .limit(200)
        ).all()
    )
    contracts = list(
        session.exec(
            select(Contract).where(col(Contract.buyer_id) == org).order_by(col(Contract.signed_at).desc()).limit(200)
        ).all()
    )
    names = org_names(session, {i.supplier_id for i in intents} | {c.supplier_id for c in contracts})
    waiting = [i for i in intents if i.status == IntentStatus.PROPOSED and i.buyer_signed_at is None]
    others = [i for i in intents if i not in waiting]
    return firm_page(
        request, "deals.html", user, waiting=waiting, intents=others, contracts=contracts, names=names, org_id=org
    )


@router.post("/deals/{intent_id}/sign")
def sign_intent(intent_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.sign_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/firm/deals",
        ok=("已签署意向订单，合同已生成", "Intent order signed; the contract is in place"),
        back_url="/firm/deals",
    )


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.cancel_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/firm/deals",
        ok=("意向订单已撤销", "Intent order cancelled"),
        back_url="/firm/deals",
    )
