"""Intent orders (意向订单) the SME proposed or was offered, signed or cancelled, and its contracts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, or_
from sqlmodel import col, select

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.pages.sme._shared import (
    INTENT_NAMES,
    org_names,
)
from api.web.render import act, render
from api.web.session import FormDep, SmePage
from market import service as marketplace
from qianfan.models import (
    Contract,
    IntentOrder,
    Receivable,
    ReceivableStatus,
)
from qianfan.uow import UnitOfWork

router = APIRouter()


@router.get("/deals")
def deals_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = session.exec(
        select(IntentOrder)
        .where(or_(col(IntentOrder.supplier_id) == org, col(IntentOrder.buyer_id) == org))
        .order_by(col(IntentOrder.proposed_at).desc())
    ).all()
    contracts = session.exec(
        select(Contract).where(col(Contract.supplier_id) == org).order_by(col(Contract.signed_at).desc())
    ).all()
    registered = (
        dict(
            session.exec(
                select(Receivable.contract_id, func.sum(Receivable.face_fen))
                .where(
                    col(Receivable.contract_id).in_([c.id for c in contracts]),
                    col(Receivable.status) != ReceivableStatus.CANCELLED,
                )
                .group_by(col(Receivable.contract_id))
            ).all()
        )
        if contracts
        else {}
    )
    names = org_names(session, [i.buyer_id for i in intents] + [c.buyer_id for c in contracts])
    context = {
        "intents": intents,
        "contracts": contracts,
        "registered": {k: int(v or 0) for k, v in registered.items()},
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
