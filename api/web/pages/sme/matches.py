"""The open orders matched to the SME's offers with the reasons, an order's page, interest, and proposing an
intent order once the buyer has shortlisted the SME."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from accounts.queries import organisation_by_id
from api.routes.lists import OfferIndexDep
from api.web.pages._forms import Page, SmeGet, SmePost
from api.web.pages.sme._shared import (
    INTENT_NAMES,
    FormRefusal,
    FormState,
)
from api.web.render import redirect, render
from market import service as marketplace
from market.access import load_offer_for, load_order_for
from market.queries import interests_on_order_for, offers_of, orders_with_buyers, supplier_intent_orders_on
from matcher import service as matching
from matcher.explain import reason_label
from matcher.store import OfferIndexStore
from qianfan.models import (
    IntentStatus,
    Interest,
    InterestKind,
    Offer,
    OrderStatus,
)

router = APIRouter()

INTEREST_NAMES: dict[str, tuple[str, str]] = {
    InterestKind.INTEREST.value: ("已表达意向", "Interest expressed"),
    InterestKind.SHORTLIST.value: ("买方已入围", "Shortlisted by the buyer"),
    InterestKind.REJECTION.value: ("买方未选用", "Not selected by the buyer"),
}
MATCHES_PER_OFFER = 20
MATCHES_SHOWN = 60


@dataclass(frozen=True, slots=True)
class InterestLine:
    """A record on the order as the supplier reads it: its own interest with its own note, or the buyer's decision
    with the buyer's message to the supplier — never the buyer's internal note (:func:`marketplace.note_visible_to`)."""

    interest: Interest
    offer_title: str
    note: str  # the note, where this SME wrote it; else ""
    message: str  # what the buyer wrote for the supplier


def _interest_lines(rows: list[tuple[Interest, str]], organisation_id: int) -> list[InterestLine]:
    return [
        InterestLine(
            interest,
            title,
            interest.note if marketplace.note_visible_to(interest, organisation_id) else "",
            interest.message_to_supplier,
        )
        for interest, title in rows
    ]


def _reasons(item: matching.RankedItem) -> list[tuple[str, str, float]]:
    """The features that lifted a match, largest first: ``(中文, English, share)``."""
    out = []
    for name, value in sorted(item.contributions.items(), key=lambda kv: -kv[1]):
        if value <= 0.0005:
            continue
        zh, en = reason_label(name)
        out.append((zh, en, value))
    return out


def _ranked_for_offer(page: Page, offer_id: int, limit: int, store: OfferIndexStore) -> list[matching.RankedItem]:
    ranked = matching.rank_orders_for_offer(
        page.engine, page.clock, offer_id, limit=limit, actor=page.user.actor, store=store
    )
    return ranked.items


@router.get("/matches")
def matches_page(page: SmeGet, store: OfferIndexDep, offer: int | None = None) -> Response:
    user, session = page.user, page.session
    offers = offers_of(session, user.organisation_id, active_only=True)
    chosen = [o for o in offers if offer is None or o.id == offer]
    if offer is not None and not chosen:
        load_offer_for(session, user.actor, offer)  # another SME's id: 404; a withdrawn one of mine: empty
    found: list[tuple[matching.RankedItem, Offer]] = []
    for o in chosen:
        assert o.id is not None
        found += [(item, o) for item in _ranked_for_offer(page, o.id, MATCHES_PER_OFFER, store)]
    found.sort(key=lambda pair: -pair[0].score)
    found = found[:MATCHES_SHOWN]
    # The same read as the API's ranked orders of an offer (GET /api/v1/offers/{id}/matches).
    with_buyers = orders_with_buyers(session, user.actor, [item.id for item, _ in found])
    orders = {i: order for i, (order, _) in with_buyers.items()}
    buyers = {order.organisation_id: name for order, name in with_buyers.values()}
    rows = [
        {"item": item, "offer": o, "order": orders[item.id], "reasons": _reasons(item)}
        for item, o in found
        if item.id in orders
    ]
    context = {
        "rows": rows,
        "offers": offers,
        "offer_options": [(str(o.id), o.title) for o in offers],
        "chosen": offer,
        "buyers": buyers,
    }
    return render(page.request, "sme/matches.html", context, user=user)


def _order_page(page: Page, order_id: int, store: OfferIndexStore, state: FormState | None = None) -> Response:
    """An open order as the SME sees it: how each of its offers matches it, its interest and intent orders, and
    the form to propose one (*state*: the form after a refusal)."""
    user, session = page.user, page.session
    state = state or FormState()
    order = load_order_for(session, user.actor, order_id)
    buyer = organisation_by_id(session, order.organisation_id)
    offers = offers_of(session, user.organisation_id, active_only=True)
    mine: list[dict[str, Any]] = []
    if order.status == OrderStatus.OPEN:
        for o in offers:
            assert o.id is not None
            for item in _ranked_for_offer(page, o.id, matching.MAX_PAGE, store):
                if item.id == order_id:
                    mine.append({"offer": o, "item": item, "reasons": _reasons(item)})
        mine.sort(key=lambda m: -m["item"].score)
    interests = interests_on_order_for(session, user.actor, order_id)
    shortlisted = {i.offer_id for i, _ in interests if i.kind == InterestKind.SHORTLIST}
    intents = supplier_intent_orders_on(session, user.actor, order_id)
    live = {i.offer_id for i in intents if i.status in (IntentStatus.PROPOSED, IntentStatus.SIGNED)}
    proposable = [o for o in offers if o.id in shortlisted and o.id not in live]
    context = {
        "order": order,
        "buyer": buyer,
        "mine": mine,
        "offers": offers,
        "interests": _interest_lines(interests, user.organisation_id),
        "intents": intents,
        "proposable": proposable,
        "proposable_options": [(str(o.id), o.title) for o in proposable],
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "interest_names": INTEREST_NAMES,
        "intent_names": INTENT_NAMES,
    }
    return render(page.request, "sme/order.html", context, user=user, status_code=state.status_code)


@router.get("/orders/{order_id}")
def order_page(order_id: int, page: SmeGet, store: OfferIndexDep) -> Response:
    return _order_page(page, order_id, store)


@router.post("/orders/{order_id}/interest")
def express_interest(order_id: int, post: SmePost) -> Response:
    values = post.values("offer_id", "note")
    back = f"/sme/orders/{order_id}"
    if not values["offer_id"].isdigit():
        return redirect(back, ("error", "请选择用于响应的产品", "Choose the offer to respond with"))
    ok = (
        "已向买方表达意向，买方入围后可发起意向订单",
        "Interest sent; once the buyer shortlists you, propose an intent order",
    )
    return post.act(marketplace.express_interest, order_id, int(values["offer_id"]), values["note"], back=back, ok=ok)


@router.post("/orders/{order_id}/propose")
def propose_intent(order_id: int, post: SmePost, store: OfferIndexDep) -> Response:
    values = post.values("offer_id", "amount", "delivery_due", "terms")
    data = {
        "order_id": order_id,
        "offer_id": values["offer_id"] or None,
        "amount": values["amount"],
        "delivery_due": values["delivery_due"] or None,
        "terms": values["terms"],
    }
    try:
        intent = marketplace.propose_intent_order(post.uow(), post.user.actor, data)
    except FormRefusal as exc:
        return _order_page(post, order_id, store, FormState.refused(values, exc))
    return redirect(
        "/sme/deals",
        (
            "ok",
            f"意向订单 {intent.id} 已发起并由您签署，等待买方签署",
            f"Intent order {intent.id} proposed and signed by you; waiting for the buyer",
        ),
    )
