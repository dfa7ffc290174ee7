"""Who may read what in the marketplace: one scoped-read condition per aggregate, the one place tenancy is decided.

Each ``*_visible_to(actor)`` returns a SQL condition on the aggregate's table — what this organisation may read —
to put in a ``WHERE`` (lists, counts, lookups by id, exports); each ``load_*_for(session, actor, id)`` loads one
row through it.  Another organisation's row is reported as not found (404 over HTTP, a 404 page on the web): its
existence is not disclosed.  Which *kinds* may call a route or open a portal at all (403) is the edge's business
(``api.auth.require_kind``, the web session's portal check); a kind that may read nothing here gets ``false``, so
the condition alone never discloses a row.  The role of the user (``actor.role``) does not change what an
organisation may read in the marketplace.

=================  ===========================================================================================
aggregate          visible to
=================  ===========================================================================================
order              a large firm: its own orders; SMEs, service providers and the programme office: every order
                   (any status: the order book is open to the supply side); banks: none
offer              an SME: its own offers (any status); a large firm: every active offer; the programme office:
                   every offer; service providers and banks: none
interest           (interest, shortlist, rejection) an SME: those on its own offers; a large firm: those on its
                   own orders; the programme office: all; others: none
intent order       its two parties (buyer and supplier); the programme office: all; others: none
contract           its two parties (buyer and supplier); the programme office: all; others: none.  (A bank reads
                   the contract behind a finance application through finance's own rules, not here.)
service package    everyone logged in (a public catalogue, withdrawn packages too)
mentor             everyone logged in (a public catalogue, withdrawn mentors too)
service need       an SME: its own needs; service providers and the programme office: every need; large firms
                   and banks: none
=================  ===========================================================================================
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    IntentOrder,
    Interest,
    Mentor,
    Offer,
    OfferStatus,
    Order,
    OrgKind,
    ServiceNeed,
    ServicePackage,
)

__all__ = [
    "CONTRACT",
    "INTENT_ORDER",
    "INTEREST",
    "MENTOR",
    "OFFER",
    "ORDER",
    "SERVICE_NEED",
    "SERVICE_PACKAGE",
    "contracts_visible_to",
    "intent_orders_visible_to",
    "interests_visible_to",
    "load_contract_for",
    "load_intent_order_for",
    "load_interest_for",
    "load_mentor_for",
    "load_offer_for",
    "load_order_for",
    "load_service_need_for",
    "load_service_package_for",
    "mentors_visible_to",
    "offers_visible_to",
    "orders_visible_to",
    "service_needs_visible_to",
    "service_packages_visible_to",
]

T = TypeVar("T", bound=SQLModel)

#: How each aggregate is named in a "not found" message (中文, English), as the use cases name it.
ORDER = ("订单", "Order")
OFFER = ("产品/服务", "Offer")
INTEREST = ("意向记录", "Interest")
INTENT_ORDER = ("意向订单", "Intent order")
CONTRACT = ("合同", "Contract")
SERVICE_PACKAGE = ("服务包", "Service package")
MENTOR = ("创业导师", "Mentor")
SERVICE_NEED = ("服务需求", "Service need")

_OFFICE = OrgKind.PROGRAMME_OFFICE


def _everything() -> ColumnElement[bool]:
    return sa.true()


def _nothing() -> ColumnElement[bool]:
    return sa.false()


# --------------------------------------------------------------------------------------------- conditions


def orders_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Orders: a large firm's own; every order for SMEs, service providers and the office; none for banks."""
    if actor.kind is OrgKind.LARGE_FIRM:
        return col(Order.organisation_id) == actor.organisation_id
    if actor.kind in (OrgKind.SME, OrgKind.SERVICE_PROVIDER, _OFFICE):
        return _everything()
    return _nothing()


def offers_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Offers: an SME's own (any status); every active offer for a large firm; all for the office; none else."""
    if actor.kind is OrgKind.SME:
        return col(Offer.organisation_id) == actor.organisation_id
    if actor.kind is OrgKind.LARGE_FIRM:
        return col(Offer.status) == OfferStatus.ACTIVE
    if actor.kind is _OFFICE:
        return _everything()
    return _nothing()


def interests_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Interest, shortlist and rejection records: an SME's on its own offers, a large firm's on its own orders,
    all for the office; none else."""
    org = actor.organisation_id
    if actor.kind is OrgKind.SME:
        return col(Interest.offer_id).in_(select(Offer.id).where(col(Offer.organisation_id) == org))
    if actor.kind is OrgKind.LARGE_FIRM:
        return col(Interest.order_id).in_(select(Order.id).where(col(Order.organisation_id) == org))
    if actor.kind is _OFFICE:
        return _everything()
    return _nothing()


def _party(actor: Actor, buyer_id: object, supplier_id: object) -> ColumnElement[bool]:
    if actor.kind is _OFFICE:
        return _everything()
    if actor.kind not in (OrgKind.LARGE_FIRM, OrgKind.SME):
        return _nothing()
    return sa.or_(col(buyer_id) == actor.organisation_id, col(supplier_id) == actor.organisation_id)


def intent_orders_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Intent orders: those the actor is a party to (buyer or supplier); all for the office; none else."""
    return _party(actor, IntentOrder.buyer_id, IntentOrder.supplier_id)


def contracts_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Contracts: those the actor is a party to (buyer or supplier); all for the office; none else."""
    return _party(actor, Contract.buyer_id, Contract.supplier_id)


def service_packages_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Service packages: a public catalogue, every one (any status) for every logged-in organisation."""
    return _everything()


def mentors_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Mentors: a public catalogue, every one (any status) for every logged-in organisation."""
    return _everything()


def service_needs_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Service needs: an SME's own; every need for service providers and the office; none for the others."""
    if actor.kind is OrgKind.SME:
        return col(ServiceNeed.organisation_id) == actor.organisation_id
    if actor.kind in (OrgKind.SERVICE_PROVIDER, _OFFICE):
        return _everything()
    return _nothing()


# --------------------------------------------------------------------------------------------- one row


def _load(session: Session, model: type[T], condition: ColumnElement[bool], ident: int, what: tuple[str, str]) -> T:
    row = session.exec(select(model).where(col(model.id) == ident, condition)).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound.of(what[0], what[1], ident)
    return row


def load_order_for(session: Session, actor: Actor, order_id: int, *, what: tuple[str, str] = ORDER) -> Order:
    """The order *order_id* if *actor* may read it, else a bilingual NotFound (``订单不存在：12``)."""
    return _load(session, Order, orders_visible_to(actor), order_id, what)


def load_offer_for(session: Session, actor: Actor, offer_id: int, *, what: tuple[str, str] = OFFER) -> Offer:
    """The offer *offer_id* if *actor* may read it, else a bilingual NotFound (the API names it ``供给``)."""
    return _load(session, Offer, offers_visible_to(actor), offer_id, what)


def load_interest_for(session: Session, actor: Actor, interest_id: int) -> Interest:
    return _load(session, Interest, interests_visible_to(actor), interest_id, INTEREST)


def load_intent_order_for(session: Session, actor: Actor, intent_order_id: int) -> IntentOrder:
    return _load(session, IntentOrder, intent_orders_visible_to(actor), intent_order_id, INTENT_ORDER)


def load_contract_for(session: Session, actor: Actor, contract_id: int) -> Contract:
    return _load(session, Contract, contracts_visible_to(actor), contract_id, CONTRACT)


def load_service_package_for(session: Session, actor: Actor, package_id: int) -> ServicePackage:
    return _load(session, ServicePackage, service_packages_visible_to(actor), package_id, SERVICE_PACKAGE)


def load_mentor_for(session: Session, actor: Actor, mentor_id: int) -> Mentor:
    return _load(session, Mentor, mentors_visible_to(actor), mentor_id, MENTOR)


def load_service_need_for(session: Session, actor: Actor, need_id: int) -> ServiceNeed:
    return _load(session, ServiceNeed, service_needs_visible_to(actor), need_id, SERVICE_NEED)
