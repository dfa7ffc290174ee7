"""Read models of the buyer's side of the marketplace (a large firm's portal): its open orders and their matches,
the offers ranked for one of its orders with the suppliers behind them, its decisions on them (shortlist, rule
out), the intent orders it proposed and the contracts it buys under.

Every function reads through :mod:`market.access` and keeps the records in which *actor* is the buyer (the
orders it posted, the intent orders and contracts where it buys), so a supplier's side never shows here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from market.access import (
    contracts_visible_to,
    intent_orders_visible_to,
    interests_visible_to,
    offers_visible_to,
    orders_visible_to,
)
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    IntentOrder,
    Interest,
    InterestKind,
    Match,
    Offer,
    Order,
    OrderStatus,
    Organisation,
)

__all__ = [
    "BUYER_DECISIONS",
    "contracts_bought_by",
    "decisions_on_offers",
    "intent_orders_bought_by",
    "intent_orders_on_order",
    "match_counts",
    "new_matched_offer_count",
    "offers_with_suppliers",
    "open_orders_total",
    "shortlisted_offer",
    "shortlisted_offers",
]

#: What a buyer decides about a ranked offer: shortlist it or rule it out.
BUYER_DECISIONS: tuple[InterestKind, ...] = (InterestKind.SHORTLIST, InterestKind.REJECTION)


def _own_orders(actor: Actor) -> tuple[ColumnElement[bool], ...]:
    return orders_visible_to(actor), col(Order.organisation_id) == actor.organisation_id


# ------------------------------------------------------------------------------------------------ orders


def open_orders_total(session: Session, actor: Actor) -> tuple[int, int]:
    """How many open orders *actor* has posted, and their budgets in all (fen)."""
    count, budget = session.exec(
        select(func.count(), func.coalesce(func.sum(Order.budget_fen), 0)).where(
            *_own_orders(actor), col(Order.status) == OrderStatus.OPEN
        )
    ).one()
    return int(count), int(budget)


def new_matched_offer_count(session: Session, actor: Actor, since: datetime) -> int:
    """How many distinct offers the matcher has matched since *since* to the open orders *actor* posted."""
    stmt = (
        select(func.count(func.distinct(col(Match.offer_id))))
        .join(Order, col(Order.id) == col(Match.order_id))
        .where(*_own_orders(actor), col(Order.status) == OrderStatus.OPEN, col(Match.created_at) >= since)
    )
    return int(session.exec(stmt).one())


def match_counts(session: Session, actor: Actor, order_ids: Iterable[int]) -> dict[int, int]:
    """How many stored matches each order among *order_ids* that *actor* posted has (orders with none absent)."""
    wanted = list(order_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Match.order_id, func.count())
        .join(Order, col(Order.id) == col(Match.order_id))
        .where(col(Match.order_id).in_(wanted), *_own_orders(actor))
        .group_by(col(Match.order_id))
    ).all()
    return {order_id: int(n) for order_id, n in rows}


# ------------------------------------------------------------------------------------------------ ranked offers


def offers_with_suppliers(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, tuple[Offer, Organisation]]:
    """The offers among *ids* that *actor* may read, by id, each with the organisation that offers it (its name and
    branch park are shown beside a ranked offer)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Offer, Organisation)
        .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
        .where(col(Offer.id).in_(wanted), offers_visible_to(actor))
    ).all()
    return {offer.id: (offer, org) for offer, org in rows if offer.id is not None}


def decisions_on_offers(session: Session, actor: Actor, order_id: int, offer_ids: Iterable[int]) -> dict[int, str]:
    """The buyer's decision (``shortlist`` / ``rejection``) on each offer among *offer_ids* for its order
    *order_id*, by offer id (undecided offers absent)."""
    wanted = list(offer_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Interest).where(
            col(Interest.order_id) == order_id,
            col(Interest.offer_id).in_(wanted),
            col(Interest.kind).in_(BUYER_DECISIONS),
            col(Interest.order_id).in_(select(Order.id).where(*_own_orders(actor))),
            interests_visible_to(actor),
        )
    ).all()
    return {interest.offer_id: interest.kind.value for interest in rows}


def _shortlisted(actor: Actor, order_id: int) -> Select[Offer, str]:
    return (
        select(Offer, Organisation.name)
        .join(Interest, col(Interest.offer_id) == col(Offer.id))
        .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
        .where(
            col(Interest.order_id) == order_id,
            col(Interest.kind) == InterestKind.SHORTLIST,
            col(Interest.order_id).in_(select(Order.id).where(*_own_orders(actor))),
            interests_visible_to(actor),
        )
    )


def shortlisted_offers(session: Session, actor: Actor, order_id: int) -> list[tuple[Offer, str]]:
    """The offers *actor* shortlisted for its order *order_id*, in the order it shortlisted them, each with its
    supplier's name (a shortlisted offer withdrawn since is still listed: the shortlist is the buyer's record)."""
    rows = session.exec(_shortlisted(actor, order_id).order_by(col(Interest.created_at))).all()
    return [(offer, name) for offer, name in rows]


def shortlisted_offer(session: Session, actor: Actor, order_id: int, offer_id: int) -> tuple[Offer, str]:
    """The offer *offer_id* if *actor* shortlisted it for its order *order_id*, with its supplier's name, else a
    bilingual NotFound (``入围供应商``)."""
    row = session.exec(_shortlisted(actor, order_id).where(col(Interest.offer_id) == offer_id)).first()
    if row is None:
        raise NotFound.of("入围供应商", "Shortlisted offer", offer_id)
    return row[0], row[1]


# ------------------------------------------------------------------------------------------------ deals


def _bought(actor: Actor, buyer_id: object, visible: ColumnElement[bool]) -> tuple[ColumnElement[bool], ...]:
    return visible, col(buyer_id) == actor.organisation_id


def intent_orders_on_order(
    session: Session, actor: Actor, order_id: int, offer_ids: Iterable[int] | None = None
) -> dict[int, IntentOrder]:
    """The intent orders *actor* proposed as buyer on its order *order_id* (for the offers among *offer_ids* when
    given), by offer id: the latest one of each offer."""
    stmt = select(IntentOrder).where(
        col(IntentOrder.order_id) == order_id, *_bought(actor, IntentOrder.buyer_id, intent_orders_visible_to(actor))
    )
    if offer_ids is not None:
        stmt = stmt.where(col(IntentOrder.offer_id).in_(list(offer_ids)))
    return {intent.offer_id: intent for intent in session.exec(stmt.order_by(col(IntentOrder.id))).all()}


def intent_orders_bought_by(session: Session, actor: Actor, *, limit: int) -> list[IntentOrder]:
    """The intent orders in which *actor* is the buyer, most recently proposed first (ties by id)."""
    return list(
        session.exec(
            select(IntentOrder)
            .where(*_bought(actor, IntentOrder.buyer_id, intent_orders_visible_to(actor)))
            .order_by(col(IntentOrder.proposed_at).desc(), col(IntentOrder.id).desc())
            .limit(limit)
        ).all()
    )


def contracts_bought_by(session: Session, actor: Actor, *, limit: int) -> list[Contract]:
    """The contracts in which *actor* is the buyer, most recently signed first (ties by id)."""
    return list(
        session.exec(
            select(Contract)
            .where(*_bought(actor, Contract.buyer_id, contracts_visible_to(actor)))
            .order_by(col(Contract.signed_at).desc(), col(Contract.id).desc())
            .limit(limit)
        ).all()
    )
