"""The SME's home page: its offers, the buyers interested, intent orders waiting for its signature, confirmed
receivables, finance in progress and the latest notifications."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import col, select

from api.deps import ClockDep, SessionDep
from api.web.pages.sme._shared import (
    OPEN_APPLICATION_STATES,
    my_offers,
)
from api.web.render import render
from api.web.session import SmePage
from qianfan import notifications
from qianfan.models import (
    FinanceApplication,
    IntentOrder,
    IntentStatus,
    Interest,
    OfferStatus,
    PartState,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
)


def home(request: Request, user: SmePage, session: SessionDep, clock: ClockDep) -> Response:
    """``GET /sme`` (registered by the package's router: a section router may not hold the empty path)."""
    org = user.organisation_id
    offers = my_offers(session, org)
    active = [o for o in offers if o.status == OfferStatus.ACTIVE]
    offer_ids = [o.id for o in offers if o.id is not None]
    waiting = session.exec(
        select(func.count())
        .select_from(IntentOrder)
        .where(
            col(IntentOrder.supplier_id) == org,
            col(IntentOrder.status) == IntentStatus.PROPOSED,
            col(IntentOrder.supplier_signed_at).is_(None),
        )
    ).one()
    interested = (
        session.exec(
            select(func.count(func.distinct(Interest.order_id))).where(col(Interest.offer_id).in_(offer_ids))
        ).one()
        if offer_ids
        else 0
    )
    confirmed = session.exec(
        select(func.count(), func.coalesce(func.sum(ReceivablePart.amount_fen), 0))
        .select_from(ReceivablePart)
        .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
        .where(
            col(ReceivablePart.holder_id) == org,
            col(ReceivablePart.status) == PartState.HELD,
            col(Receivable.status) != ReceivableStatus.REGISTERED,
        )
    ).one()
    in_progress = session.exec(
        select(FinanceApplication)
        .where(
            col(FinanceApplication.applicant_id) == org,
            col(FinanceApplication.status).in_(OPEN_APPLICATION_STATES),
        )
        .order_by(col(FinanceApplication.deadline_at))
    ).all()
    inbox = notifications.inbox(session, user.user_id, limit=5)
    context = {
        "active_offers": len(active),
        "offers_total": len(offers),
        "interested": int(interested),
        "waiting": int(waiting),
        "confirmed_count": int(confirmed[0]),
        "confirmed_fen": int(confirmed[1]),
        "in_progress": in_progress,
        "inbox": inbox,
        "now": clock.now(),
    }
    return render(request, "sme/home.html", context, user=user)
