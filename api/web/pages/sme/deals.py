"""Intent orders (意向订单) the SME proposed or was offered, signed or cancelled, and its contracts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.web.labels import INTENT_CANCELLED
from api.web.pages._forms import SmePost
from api.web.pages.sme._shared import (
    INTENT_NAMES,
    org_names,
)
from api.web.render import render
from api.web.session import SmePage
from finance.queries.receivables import registered_face_by_contract
from market import service as marketplace
from market.queries import contracts_supplied_by, intent_orders_for

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
def sign_intent(intent_id: int, post: SmePost) -> Response:
    return post.act(
        marketplace.sign_intent_order,
        intent_id,
        back="/sme/deals",
        ok=(
            "已签署，合同已生成；交付后可登记应收账款",
            "Signed: the contract exists; after delivery, register the receivable",
        ),
    )


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: int, post: SmePost) -> Response:
    return post.act(marketplace.cancel_intent_order, intent_id, back="/sme/deals", ok=INTENT_CANCELLED)
