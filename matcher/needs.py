"""Services for an SME's service needs: active service packages (服务包) and mentors (创业导师), ranked live.

Need → packages: packages' value is their price; need → mentors: a mentor's expertise (several categories) is
matched here with :func:`matcher.rank.category_fit` (the full category weight for the need's category, the
``cluster`` reason — half of it — for a category of its cluster) and ``filters.categories`` keeps mentors with any
expertise among them.  Both corpora are cached like the open orders (:data:`matcher.ranking.CORPORA`).
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from matcher.convert import (
    document_from_mentor,
    document_from_package,
    query_from_need,
)
from matcher.index import Document, MatchIndex
from matcher.queries import (
    MAX_RESULTS,
    check_page,
    districts,
)
from matcher.rank import Filters, Weights, category_fit
from matcher.ranking import (
    CORPORA,
    CachedCorpus,
    RankedItem,
    RankedPage,
    best_first,
    candidates_for,
    corpus_fingerprint,
    page_of,
    ranked_item,
)
from qianfan.actors import Actor
from qianfan.clock import Clock
from qianfan.models import (
    ListingStatus,
    Mentor,
    ServiceNeed,
    ServicePackage,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

__all__ = ["rank_mentors_for_need", "rank_packages_for_need"]


def _active_packages(session: Session, engine: Engine) -> CachedCorpus:
    fingerprint = corpus_fingerprint(
        session,
        func.count(col(ServicePackage.id)),
        func.sum(col(ServicePackage.id)),
        func.sum(col(ServicePackage.value_fen)),
        func.max(col(ServicePackage.created_at)),
        where=ServicePackage.status == ListingStatus.ACTIVE,
    )

    def build() -> CachedCorpus:
        packages = session.exec(
            select(ServicePackage).where(ServicePackage.status == ListingStatus.ACTIVE).order_by(col(ServicePackage.id))
        ).all()
        district_of = districts(session, {p.organisation_id for p in packages})
        docs = [document_from_package(p, district_of.get(p.organisation_id)) for p in packages]
        return CachedCorpus(MatchIndex.fit(docs), {int(d.id): d for d in docs})

    return CORPORA.get(engine, "packages", fingerprint, build)


def _active_mentors(session: Session, engine: Engine) -> CachedCorpus:
    fingerprint = corpus_fingerprint(
        session,
        func.count(col(Mentor.id)),
        func.sum(col(Mentor.id)),
        func.max(col(Mentor.created_at)),
        where=Mentor.status == ListingStatus.ACTIVE,
    )

    def build() -> CachedCorpus:
        mentors = session.exec(
            select(Mentor).where(Mentor.status == ListingStatus.ACTIVE).order_by(col(Mentor.id))
        ).all()
        district_of = districts(session, {m.organisation_id for m in mentors})
        docs = [document_from_mentor(m, district_of.get(m.organisation_id)) for m in mentors]
        rows = {int(m.id): (m.name, tuple(m.expertise), m.organisation_id) for m in mentors if m.id is not None}
        return CachedCorpus(MatchIndex.fit(docs), rows)

    return CORPORA.get(engine, "mentors", fingerprint, build)


def _own_need(uow: UnitOfWork, need_id: int, actor: Actor | None) -> tuple[ServiceNeed, str | None]:
    need = load_row(uow.session, ServiceNeed, need_id, "服务需求", "Service need")
    if actor is not None:
        actor.require_owner(need.organisation_id, "服务需求", "Service need", need_id)
    return need, districts(uow.session, [need.organisation_id]).get(need.organisation_id)


def rank_packages_for_need(
    engine: Engine,
    clock: Clock,
    need_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
) -> RankedPage:
    """Live ranking of the active service packages (服务包) for an SME's service need."""
    check_page(offset, limit)
    with UnitOfWork(engine, clock) as uow:
        need, district = _own_need(uow, need_id, actor)
        corpus = _active_packages(uow.session, engine)
    query = query_from_need(need, district)
    matches = corpus.index.search(query, min(candidates_for(corpus), MAX_RESULTS), filters=filters, weights=weights)
    items = [ranked_item(m, organisation_id=_owner_of(corpus.rows[int(m.doc_id)])) for m in matches]
    return page_of(items, offset, limit)


def _owner_of(doc: Document) -> int | None:
    return None if doc.owner is None else int(doc.owner)


def rank_mentors_for_need(
    engine: Engine,
    clock: Clock,
    need_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
) -> RankedPage:
    """Live ranking of the active mentors (创业导师) for an SME's service need; expertise is scored by category."""
    check_page(offset, limit)
    w = weights or Weights()
    with UnitOfWork(engine, clock) as uow:
        need, district = _own_need(uow, need_id, actor)
        corpus = _active_mentors(uow.session, engine)
    categories = set(filters.categories) if filters else set()
    index_filters = dataclasses.replace(filters, categories=()) if filters else None
    query = query_from_need(need, district)
    matches = corpus.index.search(query, candidates_for(corpus), filters=index_filters, weights=w)
    items: list[RankedItem] = []
    for m in matches:
        name, expertise, organisation_id = corpus.rows[int(m.doc_id)]
        if categories and not categories & set(expertise):
            continue
        fit = category_fit(need.category, expertise) if w.category else None
        extra = {"category": w.category if fit is not None and fit[0] == "category" else 0.0} if w.category else {}
        if fit is not None and fit[0] != "category":
            extra[fit[0]] = w.category * fit[1]
        items.append(ranked_item(m, organisation_id=organisation_id, title=f"{name}：{m.title}", extra=extra or None))
    return page_of(best_first(items), offset, limit)
