"""Intent orders (意向订单) the SME proposed or was offered, signed or cancelled, and its contracts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.pages.sme._shared import (
    INTENT_NAMES,
    org_names,
)
from api.web.render import act, render
from api.web.session import FormDep, SmePage
from finance.queries.receivables import registered_face_by_contract
from market import service as marketplace
from market.queries import contracts_supplied_by, intent_orders_for
from qianfan.uow import UnitOfWork

router = APIRouter()


@router.get("/deals")
def deals_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = intent_orders_for(session, user.actor)
    contracts = contracts_supplied_by(session, user.actor)
    registered = registered_face_by_contract(session, [c.id for c in contracts if c.id is not None])
    names = org_names(session, [i.buyer_id for i in intents] + [c.buyer_id for c in contracts])
    context = {
        "intents": intents,
        "contracts": contracts,
        "registered": registered,
        "names": names,
        "intent_names": INTENT_NAMES,
        "org": org,
    }
    return render(request, "sme/deals.html", context, user=user)


@router.post("/deals/{intent_id}/sign")
def sign_intent(intent_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.sign_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/sme/deals",
        ok=(
            "已签署，合同已生成；交付后可登记应收账款",
            "Signed: the contract exists; after delivery, register the receivable",
        ),
        back_url="/sme/deals",
    )


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.cancel_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/sme/deals",
        ok=("意向订单已撤销", "Intent order cancelled"),
        back_url="/sme/deals",
    )
