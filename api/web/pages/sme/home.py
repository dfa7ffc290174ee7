"""The SME's home page: its offers, the buyers interested, intent orders waiting for its signature, confirmed
receivables, finance in progress and the latest notifications."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.deps import ClockDep, SessionDep
from api.web.render import render
from api.web.session import SmePage
from finance.queries.applications import open_applications_of
from finance.queries.receivables import confirmed_receivables_held
from finance.states import OPEN_APPLICATION_STATES
from market.queries import intent_orders_awaiting_signature, interested_order_count, offers_of
from qianfan import notifications
from qianfan.models import OfferStatus


def home(request: Request, user: SmePage, session: SessionDep, clock: ClockDep) -> Response:
    """``GET /sme`` (registered by the package's router: a section router may not hold the empty path)."""
    actor = user.actor
    offers = offers_of(session, user.organisation_id)
    active = [o for o in offers if o.status == OfferStatus.ACTIVE]
    waiting = intent_orders_awaiting_signature(session, actor)
    interested = interested_order_count(session, actor)
    confirmed = confirmed_receivables_held(session, actor)
    in_progress = open_applications_of(session, actor, OPEN_APPLICATION_STATES)
    inbox = notifications.inbox(session, user.user_id, limit=5)
    context = {
        "active_offers": len(active),
        "offers_total": len(offers),
        "interested": interested,
        "waiting": waiting,
        "confirmed_count": confirmed[0],
        "confirmed_fen": confirmed[1],
        "in_progress": in_progress,
        "inbox": inbox,
        "now": clock.now(),
    }
    return render(request, "sme/home.html", context, user=user)
