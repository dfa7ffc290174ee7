"""Rows as the ranking engine sees them: documents (what is ranked) and queries (what is ranked for).

**Documents.**  An offer's document takes its *district* from the owning organisation (the offer table has none),
its *qualifications* from the organisation's :class:`~qianfan.models.Qualification` rows valid on the clock's date
(Asia/Shanghai) — what the SME really holds, not what the offer claims: a qualification is a property of the
company, and an expired certificate no longer counts — its *owner* is the SME (near-duplicate offers of one SME are
folded into one match by the ranker) and its *record* is the SME's platform track record (:func:`supplier_records`).
Orders (offer → orders), service packages and mentors (service need → packages / mentors) have converters too.

"""

from __future__ import annotations

from collections.abc import Iterable

from matcher.index import Document
from matcher.rank import Query
from qianfan.models import (
    Mentor,
    Offer,
    Order,
    ServiceNeed,
    ServicePackage,
)
from qianfan.taxonomy import CATEGORY_BY_CODE

__all__ = [
    "document_from_mentor",
    "document_from_offer",
    "document_from_order",
    "document_from_package",
    "query_from_need",
    "query_from_offer",
    "query_from_order",
]


def _clamp01(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def document_from_offer(
    offer: Offer, organisation_district: str | None, valid_qualifications: Iterable[str], record: float
) -> Document:
    """An SME's offer as the index sees it: district, qualifications and record are the organisation's."""
    assert offer.id is not None
    return Document(
        id=offer.id,
        title=offer.title,
        description=offer.description,
        keywords=tuple(offer.keywords),
        category=offer.category,
        district=organisation_district,
        qualifications=tuple(sorted(set(valid_qualifications))),
        price_min_fen=offer.price_min_fen,
        price_max_fen=offer.price_max_fen,
        capacity=offer.capacity,
        owner=offer.organisation_id,
        record=_clamp01(record),
    )


def query_from_order(order: Order) -> Query:
    """An order as a query for offers: its required qualifications are a hard filter, its budget a feature."""
    return Query(
        title=order.title,
        description=order.description,
        category=order.category,
        district=order.district,
        required_qualifications=tuple(sorted(set(order.required_qualifications))),
        budget_fen=order.budget_fen,
    )


def document_from_order(order: Order) -> Document:
    """An open order as a document for the offer → orders direction.

    ``qualifications`` are the ones the order *requires* (the service drops orders the SME cannot serve) and the
    price range is the budget, so ``Filters.max_price_fen`` bounds the budget.  No owner: every order is a separate
    procurement, so similar orders of one firm are never folded together.
    """
    assert order.id is not None
    return Document(
        id=order.id,
        title=order.title,
        description=order.description,
        category=order.category,
        district=order.district,
        qualifications=tuple(sorted(set(order.required_qualifications))),
        price_min_fen=order.budget_fen,
        price_max_fen=order.budget_fen,
    )


def query_from_offer(offer: Offer, organisation_district: str | None) -> Query:
    """An offer as a query for open orders (no budget: the service compares the order's budget itself)."""
    return Query(
        title=offer.title,
        description=offer.description,
        keywords=tuple(offer.keywords),
        category=offer.category,
        district=organisation_district,
    )


def document_from_package(package: ServicePackage, provider_district: str | None) -> Document:
    """A service package (服务包); its value is its price."""
    assert package.id is not None
    return Document(
        id=package.id,
        title=package.title,
        description=package.description,
        category=package.category,
        district=provider_district,
        price_min_fen=package.value_fen,
        price_max_fen=package.value_fen,
        owner=package.organisation_id,
    )


def document_from_mentor(mentor: Mentor, provider_district: str | None) -> Document:
    """A mentor (创业导师): the headline is the title, the expertise categories' names and keywords are keywords.

    A mentor has several categories, a document one: ``category`` stays empty and the service scores the
    expertise against the need's category.  No owner: mentors are people, never folded together.
    """
    assert mentor.id is not None
    keywords: list[str] = []
    for code in mentor.expertise:
        cat = CATEGORY_BY_CODE.get(code)
        if cat is not None:
            keywords.extend((cat.name_zh, *cat.keywords))
    return Document(
        id=mentor.id,
        title=mentor.headline,
        description=mentor.bio,
        keywords=tuple(dict.fromkeys(keywords)),
        district=provider_district,
    )


def query_from_need(need: ServiceNeed, organisation_district: str | None) -> Query:
    """An SME's service need as a query for packages or mentors."""
    return Query(
        title=need.title,
        description=need.description,
        category=need.category,
        district=organisation_district,
        budget_fen=need.budget_fen,
    )
