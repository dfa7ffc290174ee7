"""Live rankings of offers and orders, and the one score of an (order, offer) pair whichever side looks.

**Live ranking** for the API (:func:`rank_offers_for_order`, :func:`rank_orders_for_offer`,
:func:`rank_packages_for_need`, :func:`rank_mentors_for_need`) returns a :class:`RankedPage` of at most
:data:`MAX_RESULTS` results, filtered (:class:`~matcher.rank.Filters`) and paginated.  With an ``actor`` the caller
must own the order / offer / need (another tenant's id is reported as not found).

* Offer → orders: an index over the open orders, built on demand and cached until the set changes (count, id sum,
  version sum and latest ``updated_at`` of the open orders).  The hard filter is inverted: an order requiring a
  qualification the SME does not hold (valid today) is not shown.  The budget feature compares the order's budget
  with the offer's minimum price.  Filters apply to the orders: ``categories`` / ``districts`` of the order,
  ``qualifications`` the order lists, ``max_price_fen`` the order's budget.
* Folding: near-duplicate offers of one SME (and packages of one provider) are folded into the best of them
  (``folded`` lists the others); orders and mentors carry no owner, so each one is shown on its own.
* Need → packages: packages' value is their price; need → mentors: a mentor's expertise (several categories) is
  matched by the service (full category weight for the need's category, half for its cluster) and
  ``filters.categories`` keeps mentors with any expertise among them.  Both corpora are cached like the orders.

**One score per pair.**  An order's ranked offers come from the offer index (:class:`~matcher.store.OfferIndexStore`,
the order as the query).  An offer's ranked orders are *found* through an index of the open orders (the offer's
text as the query) but each pair is then *scored* by :meth:`OfferIndexStore.score_pairs` — the order as the query
against the offer index, through :func:`matcher.rank.score_pair`, the same computation :func:`matcher.rank.search`
uses — so the firm's order page and the SME's matched orders show one score and one list of reasons for a pair.
An offer the offer index does not hold (not active) is matched with nothing from either side.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from matcher.convert import (
    document_from_order,
    query_from_offer,
    query_from_order,
)
from matcher.index import DocId, MatchIndex
from matcher.queries import (
    MAX_RESULTS,
    check_page,
    chunks,
    districts,
    today,
    valid_qualifications,
)
from matcher.rank import Filters, Query, Weights, score_clause
from matcher.rank import Match as RankedMatch
from matcher.store import (
    OfferIndexStore,
    clear_stores,
    offer_index_store,
)
from qianfan.actors import Actor
from qianfan.clock import Clock
from qianfan.models import (
    Offer,
    OfferStatus,
    Order,
    OrderStatus,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

__all__ = [
    "CORPORA",
    "CachedCorpus",
    "RankedItem",
    "RankedPage",
    "best_first",
    "candidates_for",
    "clear_caches",
    "corpus_fingerprint",
    "offer_items",
    "page_of",
    "rank_offers_for_order",
    "rank_orders_for_offer",
    "ranked_item",
]

#: Candidates ranked for the small corpora (open orders, packages, mentors) before the service's own filters.
_CORPUS_CANDIDATES = 2000


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One ranked result: an offer, order, service package or mentor."""

    id: int
    title: str
    score: float
    organisation_id: int | None
    contributions: dict[str, float] = field(default_factory=dict)
    shared_terms: list[tuple[str, float]] = field(default_factory=list)
    why: str = ""
    folded: list[int] = field(default_factory=list)

    def explanation(self) -> dict[str, Any]:
        """The JSON stored with a match (floats rounded to 6 places so a re-run compares equal)."""
        return {
            "contributions": {k: round(v, 6) for k, v in self.contributions.items()},
            "shared_terms": [{"term": t, "contribution": round(c, 6)} for t, c in self.shared_terms[:10]],
            "why": self.why,
            "folded": list(self.folded),
        }


@dataclass(frozen=True, slots=True)
class RankedPage:
    items: list[RankedItem]
    total: int  # results available (at most MAX_RESULTS)
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def page_of(items: Sequence[RankedItem], offset: int, limit: int) -> RankedPage:
    items = list(items)[:MAX_RESULTS]
    return RankedPage(items[offset : offset + limit], len(items), offset, limit)


def ranked_item(
    match: RankedMatch,
    *,
    organisation_id: int | None,
    folded: Sequence[DocId] | None = None,
    title: str | None = None,
    extra: dict[str, float] | None = None,
) -> RankedItem:
    """A ranker match as a result; *extra* features scored by the service are added and the sentence re-rendered."""
    contributions = {name: float(value) for name, value in match.contributions.items()}
    score, why = float(match.score), match.why
    if extra:
        for name, value in extra.items():
            contributions[name] = contributions.get(name, 0.0) + float(value)
        score = sum(contributions.values())
        bits = why.split("; ") if why else []
        if bits and bits[-1].startswith("score "):
            bits.pop()
        why = "; ".join([*bits, score_clause(score, contributions)])
    return RankedItem(
        id=int(match.doc_id),
        title=match.title if title is None else title,
        score=score,
        organisation_id=organisation_id,
        contributions=contributions,
        shared_terms=[(t.term, float(t.contribution)) for t in match.shared_terms],
        why=why,
        folded=[int(f) for f in (match.folded if folded is None else folded)],
    )


def best_first(items: list[RankedItem]) -> list[RankedItem]:
    """Best first after service-side features (stable: ties keep the ranker's order)."""
    return sorted(items, key=lambda item: -item.score)


def offer_items(
    session: Session,
    store: OfferIndexStore,
    order: Order,
    filters: Filters | None,
    k: int,
    day: date,
) -> tuple[list[RankedItem], str]:
    """The best *k* offers for *order*, re-checked in the database: still active, qualifications valid on *day*."""
    query = query_from_order(order)
    matches, version = store.search(query, k + max(10, k // 2), filters=filters)
    required = set(query.required_qualifications) | set(filters.qualifications if filters else ())
    ids = sorted({int(m.doc_id) for m in matches} | {int(f) for m in matches for f in m.folded})
    offers: dict[int, Offer] = {}
    for chunk in chunks(ids):
        for row in session.exec(select(Offer).where(col(Offer.id).in_(chunk))).all():
            assert row.id is not None
            offers[row.id] = row
    held = valid_qualifications(session, {o.organisation_id for o in offers.values()}, day) if required else {}

    def shown(offer_id: DocId) -> Offer | None:
        offer = offers.get(int(offer_id))
        if offer is None or offer.status != OfferStatus.ACTIVE:
            return None
        if required and not required <= held.get(offer.organisation_id, frozenset()):
            return None
        return offer

    items: list[RankedItem] = []
    for m in matches:
        offer = shown(m.doc_id)
        if offer is None:
            continue
        folded = [f for f in m.folded if shown(f) is not None]
        items.append(ranked_item(m, organisation_id=offer.organisation_id, folded=folded))
        if len(items) == k:
            break
    return items, version


def rank_offers_for_order(
    engine: Engine,
    clock: Clock,
    order_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    store: OfferIndexStore | None = None,
) -> RankedPage:
    """Live ranking of the active offers for an order (any status), filtered and paginated."""
    check_page(offset, limit)
    if store is None:
        store = offer_index_store(engine, clock)
    with UnitOfWork(engine, clock) as uow:
        order = load_row(uow.session, Order, order_id, "订单", "Order")
        if actor is not None:
            actor.require_owner(order.organisation_id, "订单", "Order", order_id)
        items, _ = offer_items(uow.session, store, order, filters, MAX_RESULTS, today(clock))
    return page_of(items, offset, limit)


@dataclass(frozen=True, slots=True)
class CachedCorpus:
    """An index over a small corpus (never mutated after it is built: searched without a lock)."""

    index: MatchIndex
    rows: dict[int, Any]


class _CorpusCache:
    """Indexes of the open orders, active packages and active mentors, rebuilt when their fingerprint changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[Hashable, CachedCorpus]] = {}

    def get(self, engine: Engine, kind: str, fingerprint: Hashable, build: Callable[[], CachedCorpus]) -> CachedCorpus:
        key = (engine.url.render_as_string(hide_password=True), kind)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        corpus = build()  # outside the lock; two concurrent builds of one state are equal, the last one stays
        with self._lock:
            self._entries[key] = (fingerprint, corpus)
        return corpus

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CORPORA = _CorpusCache()


def clear_caches() -> None:
    """Forget the cached corpora and the per-process offer stores (tests; after restoring a database)."""
    CORPORA.clear()
    clear_stores()


def corpus_fingerprint(session: Session, *columns: Any, where: Any) -> tuple[str, ...]:
    row = session.exec(select(*columns).where(where)).one()
    return tuple(str(v) for v in row)


def _open_orders(session: Session, engine: Engine) -> CachedCorpus:
    fingerprint = corpus_fingerprint(
        session,
        func.count(col(Order.id)),
        func.sum(col(Order.id)),
        func.sum(col(Order.version)),
        func.max(col(Order.updated_at)),
        where=Order.status == OrderStatus.OPEN,
    )

    def build() -> CachedCorpus:
        orders = session.exec(select(Order).where(Order.status == OrderStatus.OPEN).order_by(col(Order.id))).all()
        docs = [document_from_order(o) for o in orders]
        rows = {
            int(d.id): (frozenset(d.qualifications), query_from_order(o), o.organisation_id)
            for d, o in zip(docs, orders, strict=True)
        }
        return CachedCorpus(MatchIndex.fit(docs), rows)

    return CORPORA.get(engine, "orders", fingerprint, build)


def candidates_for(corpus: CachedCorpus) -> int:
    return max(1, min(len(corpus.index.documents), _CORPUS_CANDIDATES))


def rank_orders_for_offer(
    engine: Engine,
    clock: Clock,
    offer_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
    store: OfferIndexStore | None = None,
) -> RankedPage:
    """Live ranking of the open orders for an SME's offer; orders needing a qualification it lacks are hidden.

    Each (order, offer) pair is scored and explained as the order's own ranking of offers scores it (see the module
    doc): *store* is the offer index (the process's by default) and *weights* replace its weights if given.
    """
    check_page(offset, limit)
    if store is None:
        store = offer_index_store(engine, clock)
    with UnitOfWork(engine, clock) as uow:
        s = uow.session
        offer = load_row(s, Offer, offer_id, "产品/服务", "Offer")
        if actor is not None:
            actor.require_owner(offer.organisation_id, "产品/服务", "Offer", offer_id)
        district = districts(s, [offer.organisation_id]).get(offer.organisation_id)
        held = valid_qualifications(s, [offer.organisation_id], today(clock))[offer.organisation_id]
        corpus = _open_orders(s, engine)
    if offer.status != OfferStatus.ACTIVE:
        return page_of([], offset, limit)
    if offer_id not in store:
        store.index_offer(offer_id)  # listed a moment ago, before this process's index caught up
    found = corpus.index.search(
        query_from_offer(offer, district), candidates_for(corpus), filters=filters, weights=Weights(), explain=False
    )
    shown: list[tuple[RankedMatch, int | None, Query]] = []
    for m in found:
        required, query, organisation_id = corpus.rows[int(m.doc_id)]
        if required <= held:
            shown.append((m, organisation_id, query))
    pairs = store.score_pairs([query for _, _, query in shown], offer_id, weights=weights)
    items: list[RankedItem] = []
    for (m, organisation_id, _), pair in zip(shown, pairs, strict=True):
        if pair is None:
            continue
        as_order = dataclasses.replace(pair, doc_id=m.doc_id, title=m.title, folded=[])
        items.append(ranked_item(as_order, organisation_id=organisation_id))
    return page_of(best_first(items), offset, limit)
