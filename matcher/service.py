"""The matcher's use cases that write: match an order (store its top offers), retrain the weights from feedback.

The ranking engine (:mod:`matcher.index`, :mod:`matcher.rank`) knows nothing about the database; this module turns
rows into :class:`~matcher.index.Document` / :class:`~matcher.rank.Query` values, keeps the offer index current and
writes :class:`qianfan.models.Match` rows.  The API and the workers call the functions below; nothing here imports
FastAPI or Celery.


The rest of the matcher's database side, by role (every public name is re-exported here, so ``matcher.service`` stays
the one import of the edges):

* :mod:`matcher.convert` — rows as documents and queries;
* :mod:`matcher.queries` — read models (track-record evidence, valid qualifications, feedback examples);
* :mod:`matcher.store` — the process's offer index (:class:`OfferIndexStore`);
* :mod:`matcher.ranking` — live rankings order → offers and offer → orders, one score per pair;
* :mod:`matcher.needs` — service packages and mentors for a service need.

The rules themselves are in the engine: the rerank features, the track-record score (:func:`matcher.rank.record_score`)
and the reason labels (:data:`matcher.explain.REASON_LABELS`).

**Stored matches.**  :func:`match_order` ranks the offers for an OPEN order in one unit of work, upserts one
:class:`~qianfan.models.Match` row per offer of the top (rank 1..n, score, explanation JSON with contributions, shared
terms, the sentence and the folded near-duplicates, ``engine_version``), deletes rows that left the top, audits
``order/matched`` and publishes :data:`ORDER_MATCHED`.  The order row is locked, so two workers serialise; when the
result equals what is stored the call is a no-op (no write, no event).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from matcher.convert import (
    document_from_mentor,
    document_from_offer,
    document_from_order,
    document_from_package,
    query_from_need,
    query_from_offer,
    query_from_order,
)
from matcher.feedback import FeedbackModel, fit_weights
from matcher.needs import rank_mentors_for_need, rank_packages_for_need
from matcher.queries import (
    DEFAULT_TOP,
    MAX_PAGE,
    MAX_RESULTS,
    feedback_examples,
    supplier_records,
    today,
    valid_qualifications,
)
from matcher.rank import RECORD_HALF, Weights, raw_features, record_score
from matcher.ranking import (
    RankedItem,
    RankedPage,
    clear_caches,
    offer_items,
    rank_offers_for_order,
    rank_orders_for_offer,
)
from matcher.store import (
    FEEDBACK_FILE,
    SYNC_LAG,
    OfferIndexStore,
    default_offer_index_dir,
    load_feedback_model,
    offer_index_store,
)
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, RuleViolation
from qianfan.models import Match as StoredMatch
from qianfan.models import (
    Order,
    OrderStatus,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

__all__ = [
    "DEFAULT_TOP",
    "FEEDBACK_FILE",
    "MAX_PAGE",
    "MAX_RESULTS",
    "ORDER_MATCHED",
    "RECORD_HALF",
    "SYNC_LAG",
    "OfferIndexStore",
    "RankedItem",
    "RankedPage",
    "clear_caches",
    "default_offer_index_dir",
    "document_from_mentor",
    "document_from_offer",
    "document_from_order",
    "document_from_package",
    "feedback_examples",
    "load_feedback_model",
    "match_order",
    "offer_index_store",
    "query_from_need",
    "query_from_offer",
    "query_from_order",
    "rank_mentors_for_need",
    "rank_offers_for_order",
    "rank_orders_for_offer",
    "rank_packages_for_need",
    "record_score",
    "retrain_feedback",
    "supplier_records",
    "valid_qualifications",
]

log = logging.getLogger(__name__)

#: Outbox topic of :func:`match_order` (payload: ``order_id``, ``offer_ids`` best first, ``engine_version``).
ORDER_MATCHED = "order.matched"


def _same_matches(
    existing: dict[int, StoredMatch], wanted: list[tuple[int, int, float, dict[str, Any]]], v: str
) -> bool:
    if len(existing) != len(wanted):
        return False
    for offer_id, rank, score, explanation in wanted:
        row = existing.get(offer_id)
        if row is None or (row.rank, row.score, row.explanation, row.engine_version) != (rank, score, explanation, v):
            return False
    return True


def match_order(
    uow: UnitOfWork,
    actor: Actor | None,
    order_id: int,
    *,
    store: OfferIndexStore | None = None,
    top: int = DEFAULT_TOP,
) -> list[StoredMatch]:
    """Rank the offers for an open order and store the top *top* as :class:`~qianfan.models.Match` rows.

    The use-case signature of every domain: the unit of work, who acts (``None``: the platform itself, as the
    workers do; an actor must own the order), then the input.  Returns the stored rows, best first.  Idempotent:
    when the ranking equals what is stored nothing is written.
    """
    if not 1 <= top <= MAX_RESULTS:
        raise InvalidInput(
            f"匹配数量须在1到{MAX_RESULTS}之间", f"top must be between 1 and {MAX_RESULTS}", detail={"top": top}
        )
    clock = uow.clock
    if store is None:
        store = offer_index_store(uow.engine, clock)
    with uow:
        s = uow.session
        order = load_row(s, Order, order_id, "订单", "Order", lock=True)
        if actor is not None:
            actor.require_owner(order.organisation_id, "订单", "Order", order_id)
        if order.status != OrderStatus.OPEN:
            raise RuleViolation(
                f"订单当前状态为“{order.status.value}”，只有开放中的订单才会撮合",
                f"The order is {order.status.value}; only open orders are matched",
            )
        items, version = offer_items(s, store, order, None, top, today(clock))
        wanted = [
            (item.id, rank, round(item.score, 6), item.explanation() | {"features": _raw_features(item, store.weights)})
            for rank, item in enumerate(items, 1)
        ]
        existing = {row.offer_id: row for row in s.exec(select(StoredMatch).where(StoredMatch.order_id == order_id))}
        if _same_matches(existing, wanted, version):
            return sorted(existing.values(), key=lambda row: row.rank)
        keep = {offer_id for offer_id, *_ in wanted}
        for offer_id, row in existing.items():
            if offer_id not in keep:
                s.delete(row)
        now = clock.now()
        rows: list[StoredMatch] = []
        for offer_id, rank, score, explanation in wanted:
            row = existing.get(offer_id) or StoredMatch(
                order_id=order_id, offer_id=offer_id, rank=rank, score=score, engine_version=version, created_at=now
            )
            row.rank, row.score, row.explanation, row.engine_version = rank, score, explanation, version
            s.add(row)
            rows.append(row)
        try:
            s.flush()
        except IntegrityError:  # only without the row lock (SQLite): a concurrent matcher stored the same pair
            raise Conflict(
                "该订单正在被同时撮合，请稍后重试", "This order is being matched concurrently; retry"
            ) from None
        offer_ids = [offer_id for offer_id, *_ in wanted]
        uow.audit(
            "order",
            order_id,
            "matched",
            actor_id=actor.user_id if actor is not None else None,
            offer_ids=offer_ids,
            engine_version=version,
        )
        uow.publish(ORDER_MATCHED, order_id=order_id, offer_ids=offer_ids, engine_version=version)
        uow.commit()
        return rows


def _raw_features(item: RankedItem, weights: Weights) -> dict[str, float]:
    """The feature values behind a stored match (contribution / weight used), for learning from feedback later."""
    return {name: round(value, 6) for name, value in raw_features(item.contributions, weights).items()}


def retrain_feedback(
    uow: UnitOfWork, *, store: OfferIndexStore | None = None, **thresholds: Any
) -> FeedbackModel | None:
    """Learn rerank weights from the buyers' feedback and, when they measurably beat the defaults, rank with them.

    ``None`` while there are too few labels (the documented default weights stay, see :mod:`matcher.feedback`);
    otherwise the model is saved beside the index (whether adopted or not: its figures say why) and the store ranks
    with :attr:`FeedbackModel.effective_weights`. *thresholds* are passed to :func:`matcher.feedback.fit_weights`.
    """
    if store is None:
        store = offer_index_store(uow.engine, uow.clock)
    with uow:
        examples = feedback_examples(uow.session)
    model = fit_weights(examples, defaults=Weights(), now=uow.clock.now(), **thresholds)
    if model is None:
        return None
    store.directory.mkdir(parents=True, exist_ok=True)
    tmp = store.directory / f".{FEEDBACK_FILE}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, store.directory / FEEDBACK_FILE)
    store.weights = model.effective_weights
    log.info("feedback model: %s (adopted=%s)", model.reason, model.adopt)
    return model
