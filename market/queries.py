"""Read models of the marketplace: the named lists and lookups that routes, pages and exports share.

Every function reads through :mod:`market.access` where an actor is given, so a list, its count and a lookup by id
always agree on what the actor may see.  Functions taking an ``organisation_id`` instead list that organisation's
own records for its own portal (the caller is that organisation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from market.access import (
    OFFER,
    ORDER,
    contracts_visible_to,
    intent_orders_visible_to,
    interests_visible_to,
    offers_visible_to,
    orders_visible_to,
)
from qianfan import taxonomy
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    IntentOrder,
    IntentStatus,
    Interest,
    Mentor,
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderKind,
    OrderStatus,
    Organisation,
    OrgKind,
    ServicePackage,
)
from qianfan.paging import fetch_page

__all__ = [
    "OfferFilters",
    "OrderFilters",
    "category_conditions",
    "contract_titles",
    "contracts_supplied_by",
    "intent_orders_awaiting_signature",
    "intent_orders_for",
    "interested_order_count",
    "interests_on_order_for",
    "mentors_of",
    "offer_and_seller_for",
    "offers_of",
    "offers_page",
    "offers_with_sellers",
    "order_and_buyer_for",
    "orders_page",
    "orders_with_buyers",
    "service_packages_of",
    "supplier_intent_orders_on",
]

_BUYER = (Organisation, col(Organisation.id) == col(Order.organisation_id))
_SELLER = (Organisation, col(Organisation.id) == col(Offer.organisation_id))


def category_conditions(column: Any, code: str | None) -> list[Any]:
    """A category code matches itself; a cluster code matches every category of the cluster."""
    if code is None:
        return []
    if code in taxonomy.CLUSTER_BY_CODE:
        return [column.startswith(f"{code}.", autoescape=True)]
    return [column == code]


# ------------------------------------------------------------------------------------------------ orders


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """Optional filters of the order book (budgets in fen, inclusive; ``title_contains`` case-insensitive;
    ``category`` a category or a whole cluster)."""

    kind: OrderKind | None = None
    status: OrderStatus | None = None
    category: str | None = None
    district: str | None = None
    organisation_id: int | None = None
    title_contains: str | None = None
    min_budget_fen: int | None = None
    max_budget_fen: int | None = None

    def conditions(self) -> list[Any]:
        conditions: list[Any] = category_conditions(col(Order.category), self.category)
        if self.kind is not None:
            conditions.append(col(Order.kind) == self.kind)
        if self.status is not None:
            conditions.append(col(Order.status) == self.status)
        if self.district is not None:
            conditions.append(col(Order.district) == self.district)
        if self.organisation_id is not None:
            conditions.append(col(Order.organisation_id) == self.organisation_id)
        if self.title_contains is not None:
            conditions.append(col(Order.title).icontains(self.title_contains, autoescape=True))
        if self.min_budget_fen is not None:
            conditions.append(col(Order.budget_fen) >= self.min_budget_fen)
        if self.max_budget_fen is not None:
            conditions.append(col(Order.budget_fen) <= self.max_budget_fen)
        return conditions


def orders_page(
    session: Session, actor: Actor, filters: OrderFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[Order, str]], int]:
    """One page of the orders *actor* may read that pass *filters*, each with its buyer's name, and their total."""
    rows, total = fetch_page(
        session,
        Order,
        limit=limit,
        offset=offset,
        conditions=[*filters.conditions(), orders_visible_to(actor)],
        order_by=order_by,
        joins=[_BUYER],
        columns=[Organisation.name],
    )
    return [(order, name) for order, name in rows], total


def order_and_buyer_for(
    session: Session, actor: Actor, order_id: int, *, what: tuple[str, str] = ORDER
) -> tuple[Order, str]:
    """The order *order_id* and its buyer's name if *actor* may read it, else a bilingual NotFound."""
    row = session.exec(
        select(Order, Organisation.name).join(*_BUYER).where(col(Order.id) == order_id, orders_visible_to(actor))
    ).first()
    if row is None:
        raise NotFound.of(what[0], what[1], order_id)
    return row[0], row[1]


def orders_with_buyers(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, tuple[Order, str]]:
    """The orders among *ids* that *actor* may read, by id, each with its buyer's name (e.g. the orders of a
    ranking; ids no longer there are absent)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Order, Organisation.name).join(*_BUYER).where(col(Order.id).in_(wanted), orders_visible_to(actor))
    ).all()
    return {order.id: (order, name) for order, name in rows if order.id is not None}


# ------------------------------------------------------------------------------------------------ offers


@dataclass(frozen=True, slots=True)
class OfferFilters:
    """Optional filters of the offer catalogue.  ``status`` defaults to active offers; ``district`` is the
    seller's; ``min_price_fen`` keeps offers whose upper price reaches it, ``max_price_fen`` those whose lower
    price does not exceed it."""

    kind: OfferKind | None = None
    status: OfferStatus = OfferStatus.ACTIVE
    category: str | None = None
    district: str | None = None
    organisation_id: int | None = None
    title_contains: str | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None

    def conditions(self) -> list[Any]:
        conditions: list[Any] = [col(Offer.status) == self.status]
        conditions += category_conditions(col(Offer.category), self.category)
        if self.kind is not None:
            conditions.append(col(Offer.kind) == self.kind)
        if self.district is not None:
            conditions.append(col(Organisation.district) == self.district)
        if self.organisation_id is not None:
            conditions.append(col(Offer.organisation_id) == self.organisation_id)
        if self.title_contains is not None:
            conditions.append(col(Offer.title).icontains(self.title_contains, autoescape=True))
        if self.min_price_fen is not None:
            conditions.append(col(Offer.price_max_fen) >= self.min_price_fen)
        if self.max_price_fen is not None:
            conditions.append(col(Offer.price_min_fen) <= self.max_price_fen)
        return conditions


def offers_page(
    session: Session, actor: Actor, filters: OfferFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[Offer, str]], int]:
    """One page of the offers *actor* may read that pass *filters*, each with its seller's name, and their total."""
    rows, total = fetch_page(
        session,
        Offer,
        limit=limit,
        offset=offset,
        conditions=[*filters.conditions(), offers_visible_to(actor)],
        order_by=order_by,
        joins=[_SELLER],
        columns=[Organisation.name],
    )
    return [(offer, name) for offer, name in rows], total


def offer_and_seller_for(
    session: Session, actor: Actor, offer_id: int, *, what: tuple[str, str] = OFFER
) -> tuple[Offer, str]:
    """The offer *offer_id* and its seller's name if *actor* may read it, else a bilingual NotFound."""
    row = session.exec(
        select(Offer, Organisation.name).join(*_SELLER).where(col(Offer.id) == offer_id, offers_visible_to(actor))
    ).first()
    if row is None:
        raise NotFound.of(what[0], what[1], offer_id)
    return row[0], row[1]


def offers_with_sellers(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, tuple[Offer, str]]:
    """The offers among *ids* that *actor* may read, by id, each with its seller's name."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Offer, Organisation.name).join(*_SELLER).where(col(Offer.id).in_(wanted), offers_visible_to(actor))
    ).all()
    return {offer.id: (offer, name) for offer, name in rows if offer.id is not None}


def offers_of(session: Session, organisation_id: int, *, active_only: bool = False) -> list[Offer]:
    """An SME's own offers for its portal: active ones first (then withdrawn), newest first within each."""
    stmt = select(Offer).where(col(Offer.organisation_id) == organisation_id)
    if active_only:
        stmt = stmt.where(col(Offer.status) == OfferStatus.ACTIVE)
    return list(session.exec(stmt.order_by(col(Offer.status), col(Offer.id).desc())).all())


# ------------------------------------------------------------------------------------------------ interest


def interested_order_count(session: Session, actor: Actor) -> int:
    """On how many orders the interest records *actor* may read stand (for an SME: the orders where it expressed
    interest with one of its offers, or where the buyer shortlisted or ruled one out)."""
    stmt = select(func.count(func.distinct(Interest.order_id))).where(interests_visible_to(actor))
    return int(session.exec(stmt).one())


def interests_on_order_for(session: Session, actor: Actor, order_id: int) -> list[tuple[Interest, str]]:
    """The interest records on *order_id* that *actor* may read, oldest first, each with its offer's title."""
    return [
        (interest, title)
        for interest, title in session.exec(
            select(Interest, Offer.title)
            .join(Offer, col(Offer.id) == col(Interest.offer_id))
            .where(col(Interest.order_id) == order_id, interests_visible_to(actor))
            .order_by(col(Interest.created_at))
        ).all()
    ]


# ------------------------------------------------------------------------------------------------ intent orders


def intent_orders_for(session: Session, actor: Actor) -> list[IntentOrder]:
    """The intent orders *actor* may read (for a party: both sides of its deals), most recently proposed first."""
    return list(
        session.exec(
            select(IntentOrder).where(intent_orders_visible_to(actor)).order_by(col(IntentOrder.proposed_at).desc())
        ).all()
    )


def supplier_intent_orders_on(session: Session, actor: Actor, order_id: int) -> list[IntentOrder]:
    """The intent orders on *order_id* in which *actor* is the supplier."""
    return list(
        session.exec(
            select(IntentOrder).where(
                col(IntentOrder.order_id) == order_id,
                col(IntentOrder.supplier_id) == actor.organisation_id,
                intent_orders_visible_to(actor),
            )
        ).all()
    )


def intent_orders_awaiting_signature(session: Session, actor: Actor) -> int:
    """How many proposed intent orders wait for *actor*'s signature: as supplier for an SME, as buyer for a large
    firm; 0 for the others (who sign none)."""
    if actor.kind is OrgKind.SME:
        side, signed = IntentOrder.supplier_id, IntentOrder.supplier_signed_at
    elif actor.kind is OrgKind.LARGE_FIRM:
        side, signed = IntentOrder.buyer_id, IntentOrder.buyer_signed_at
    else:
        return 0
    stmt = (
        select(func.count())
        .select_from(IntentOrder)
        .where(
            col(side) == actor.organisation_id,
            col(IntentOrder.status) == IntentStatus.PROPOSED,
            col(signed).is_(None),
        )
    )
    return int(session.exec(stmt).one())


# ------------------------------------------------------------------------------------------------ contracts


def contracts_supplied_by(session: Session, actor: Actor) -> list[Contract]:
    """The contracts in which *actor* is the supplier, most recently signed first."""
    return list(
        session.exec(
            select(Contract)
            .where(col(Contract.supplier_id) == actor.organisation_id, contracts_visible_to(actor))
            .order_by(col(Contract.signed_at).desc())
        ).all()
    )


def contract_titles(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, str]:
    """The titles of the contracts among *ids* that *actor* may read, by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Contract.id, Contract.title).where(col(Contract.id).in_(wanted), contracts_visible_to(actor))
    ).all()
    return {i: t for i, t in rows if i is not None}


# ------------------------------------------------------------------------------------------------ services


def service_packages_of(session: Session, organisation_id: int) -> list[ServicePackage]:
    """A service provider's own packages (any status), newest first."""
    return list(
        session.exec(
            select(ServicePackage)
            .where(col(ServicePackage.organisation_id) == organisation_id)
            .order_by(col(ServicePackage.id).desc())
        ).all()
    )


def mentors_of(session: Session, organisation_id: int) -> list[Mentor]:
    """A service provider's own mentors (any status), newest first."""
    return list(
        session.exec(
            select(Mentor).where(col(Mentor.organisation_id) == organisation_id).order_by(col(Mentor.id).desc())
        ).all()
    )
