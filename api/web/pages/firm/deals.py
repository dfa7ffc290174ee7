"""The firm's intent orders (sign, cancel) and contracts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.routes.lists import PathId
from api.web.labels import INTENT_CANCELLED
from api.web.pages._forms import FirmPost
from api.web.pages.firm._shared import firm_page, org_names
from api.web.session import FirmPage
from market import service as marketplace
from market.queries_buyer import contracts_bought_by, intent_orders_bought_by
from qianfan.models import IntentStatus

router = APIRouter()

DEALS_SHOWN = 200


@router.get("/deals")
def deals(request: Request, user: FirmPage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = intent_orders_bought_by(session, user.actor, limit=DEALS_SHOWN)
    contracts = contracts_bought_by(session, user.actor, limit=DEALS_SHOWN)
    names = org_names(session, {i.supplier_id for i in intents} | {c.supplier_id for c in contracts})
    waiting = [i for i in intents if i.status == IntentStatus.PROPOSED and i.buyer_signed_at is None]
    others = [i for i in intents if i not in waiting]
    return firm_page(
        request, "deals.html", user, waiting=waiting, intents=others, contracts=contracts, names=names, org_id=org
    )


@router.post("/deals/{intent_id}/sign")
def sign_intent(intent_id: PathId, post: FirmPost) -> Response:
    ok = ("已签署意向订单，合同已生成", "Intent order signed; the contract is in place")
    return post.act(marketplace.sign_intent_order, intent_id, back="/firm/deals", ok=ok)


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: PathId, post: FirmPost) -> Response:
    return post.act(marketplace.cancel_intent_order, intent_id, back="/firm/deals", ok=INTENT_CANCELLED)
