"""The work behind each task, as plain functions of a :class:`~workers.context.Context` and ids.

The Celery tasks (:mod:`workers.tasks`) only call these; tests call them directly.  Every job re-reads state by
id and is safe to run twice: matches are upserted by :func:`matcher.service.match_order` (a no-op when nothing
changed), notifications are unique per user and dedupe key, the finance use cases return early when the work is
done.  A row that is gone (or an order no longer open) makes a job a no-op, not a failure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from sqlmodel import Session, col, select

import finance.service as finance
from market import offer_import
from matcher import service as matching
from qianfan import jobs as job_service
from qianfan.actors import Actor
from qianfan.errors import Conflict, NotFound, RuleViolation
from qianfan.models import Match, Offer, OfferStatus, Order, OrderStatus, Organisation, User
from qianfan.notifications import notify
from qianfan.uow import UnitOfWork
from workers.context import Context
from workers.notices import notices_for

log = logging.getLogger(__name__)

#: The SMEs told about a new or changed order: those of its best N stored matches.
NOTIFY_TOP = 5
#: Open orders an offer is matched against when it is listed or changed.
OFFER_ORDERS = 10
#: Re-matching every open order reports its progress after this many orders.
REMATCH_EVERY = 25


# ------------------------------------------------------------------------------------------ long jobs


Report = Callable[..., bool]
"""``report(done, total=None, message="")``: record a long job's progress (see :func:`tracked`)."""


def local_task_id(kind: str) -> str:
    """A task id for a long job run outside a worker (tests, the command line)."""
    return f"{kind.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:20]}"


@contextmanager
def tracked(ctx: Context, kind: str, task_id: str | None, started_by: Actor | None = None) -> Iterator[Report]:
    """Run a long job under its :class:`~qianfan.models.Job` row: started (idempotent per task id), progress
    through the yielded ``report``, then succeeded, or failed with the error (re-raised: a retry of the same task
    id starts it again)."""
    task_id = task_id or local_task_id(kind)
    job_service.start_job(ctx.uow(), kind, task_id, started_by)

    def report(done: int, total: int | None = None, message: str = "") -> bool:
        return job_service.progress(ctx.engine, task_id, done, total, message, clock=ctx.clock)

    report(0)
    try:
        yield report
    except BaseException as exc:
        try:
            job_service.finish(ctx.uow(), task_id, False, f"{type(exc).__name__}: {exc}")
        except Exception:  # the database is down: the job stays running, the broker retries the task
            log.exception("could not mark job %s failed", task_id)
        raise
    job_service.finish(ctx.uow(), task_id, True)


# ------------------------------------------------------------------------------------------ matching


def match_key(order_id: int, offer_id: int) -> str:
    return f"match:order:{order_id}:offer:{offer_id}"


def _notify_matches(ctx: Context, order_id: int, rows: list[Match], top: int = NOTIFY_TOP) -> int:
    """Tell the SMEs of the best *top* matches of an order (once per order and offer, ever)."""
    best = [r.offer_id for r in sorted(rows, key=lambda r: r.rank)[:top]]
    if not best:
        return 0
    with Session(ctx.engine) as s:
        order = s.get(Order, order_id)
        offers = {o.id: o for o in s.exec(select(Offer).where(col(Offer.id).in_(best))).all()}
    if order is None:
        return 0
    sent = 0
    for offer_id in best:
        offer = offers.get(offer_id)
        if offer is None:
            continue
        sent += notify(
            ctx.uow(),
            [offer.organisation_id],
            kind="order.matched",
            title=f"新订单“{order.title}”与您的“{offer.title}”匹配",
            title_en=f"A new order “{order.title}” matches your offer “{offer.title}”",
            link=f"/orders/{order_id}",
            dedupe_key=match_key(order_id, offer_id),
        )
    return sent


def _store_matches(ctx: Context, order_id: int) -> list[Match] | None:
    """:func:`matcher.service.match_order`, or ``None`` when the order is gone or no longer open."""
    try:
        return matching.match_order(UnitOfWork(ctx.engine, ctx.clock), None, order_id, store=ctx.store)
    except (NotFound, RuleViolation) as exc:
        log.info("order %s not matched: %s", order_id, exc)
        return None


def match_order(ctx: Context, order_id: int) -> int:
    """Store the order's best matches and tell their SMEs; returns the number of stored matches."""
    ctx.store.sync()  # offers listed through other processes a moment ago are in the ranking
    rows = _store_matches(ctx, order_id)
    if rows is None:
        return 0
    _notify_matches(ctx, order_id, rows)
    return len(rows)


def index_offer(ctx: Context, offer_id: int) -> bool:
    """Add, replace or remove the offer in this process's index; True if it changed."""
    return ctx.store.index_offer(offer_id)


def match_offer(ctx: Context, offer_id: int) -> int:
    """Index a new or changed offer and match it against the open orders it fits best: their stored matches are
    refreshed, the SME is told of each order where it now ranks in the top, and the order's firm of the new
    supplier.  Returns how many orders now list the offer among their matches."""
    store = ctx.store
    store.index_offer(offer_id)
    with Session(ctx.engine) as s:
        offer = s.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.ACTIVE:
        return 0
    try:
        page = matching.rank_orders_for_offer(ctx.engine, ctx.clock, offer_id, limit=OFFER_ORDERS)
    except NotFound:
        return 0
    listed = 0
    for item in page.items:
        rows = _store_matches(ctx, item.id)
        if rows is None:
            continue
        _notify_matches(ctx, item.id, rows)
        mine = [r for r in rows if r.offer_id == offer_id]
        if not mine:
            continue
        listed += 1
        if mine[0].rank <= NOTIFY_TOP and item.organisation_id is not None:
            notify(
                ctx.uow(),
                [item.organisation_id],
                kind="offer.matched",
                title=f"新的供应商产品“{offer.title}”匹配您的订单“{item.title}”",
                title_en=f"A new supplier offer “{offer.title}” matches your order “{item.title}”",
                link=f"/orders/{item.id}",
                dedupe_key=f"match:offer:{offer_id}:order:{item.id}",
            )
    return listed


def remove_offer(ctx: Context, offer_id: int) -> int:
    """Drop a withdrawn offer from the index and re-match the open orders that listed it; returns how many."""
    ctx.store.index_offer(offer_id)
    with Session(ctx.engine) as s:
        order_ids = s.exec(
            select(Match.order_id)
            .join(Order, col(Order.id) == col(Match.order_id))
            .where(Match.offer_id == offer_id, Order.status == OrderStatus.OPEN)
        ).all()
    for order_id in sorted(set(order_ids)):
        _store_matches(ctx, order_id)
    return len(set(order_ids))


def refit(ctx: Context, task_id: str | None = None, started_by: Actor | None = None) -> dict[str, Any]:
    """Rebuild the offer index (fresh idf, records, qualification validity) and retrain the feedback weights,
    recorded as a :data:`~qianfan.jobs.REFIT` job in two steps."""
    with tracked(ctx, job_service.REFIT, task_id, started_by) as report:
        report(0, 2, "重建产品索引 / rebuilding the offer index")
        documents = ctx.store.refit()
        report(1, 2, f"索引 {documents} 个产品，训练反馈权重 / {documents} offers indexed, retraining feedback")
        model = matching.retrain_feedback(UnitOfWork(ctx.engine, ctx.clock), store=ctx.store)
        reason = None if model is None else model.reason
        report(2, 2, f"完成：{documents} 个产品 / done: {documents} offers indexed; feedback: {reason or '-'}")
    return {"documents": documents, "feedback": reason}


def open_order_ids(ctx: Context) -> list[int]:
    with Session(ctx.engine) as s:
        ids = s.exec(select(Order.id).where(Order.status == OrderStatus.OPEN).order_by(col(Order.id))).all()
    return [i for i in ids if i is not None]


def rematch_orders(
    ctx: Context, task_id: str | None = None, started_by: Actor | None = None, every: int = REMATCH_EVERY
) -> dict[str, int]:
    """Match every open order again (after a refit, or new offers in bulk) and tell the SMEs newly in their top,
    recorded as a :data:`~qianfan.jobs.REMATCH_ORDERS` job reporting every *every* orders.  An order
    closed meanwhile, or being matched by another worker at the same moment, is skipped."""
    every = max(1, every)
    with tracked(ctx, job_service.REMATCH_ORDERS, task_id, started_by) as report:
        order_ids = open_order_ids(ctx)
        total = len(order_ids)
        report(0, total, f"重新匹配 {total} 个订单 / re-matching {total} open orders")
        ctx.store.sync()
        matched = skipped = stored = 0
        for done, order_id in enumerate(order_ids, start=1):
            try:
                rows = _store_matches(ctx, order_id)
            except Conflict:  # matched by a concurrent task this very moment: its result stands
                rows = None
            if rows is None:
                skipped += 1
            else:
                matched += 1
                stored += len(rows)
                _notify_matches(ctx, order_id, rows)
            if done % every == 0 or done == total:
                report(done, total, f"已匹配 {matched}，跳过 {skipped} / matched {matched}, skipped {skipped}")
    return {"orders": total, "matched": matched, "skipped": skipped, "matches": stored}


# ------------------------------------------------------------------------------------------ finance


def risk_check(ctx: Context, application_id: int) -> str | None:
    """The automatic risk check of a submitted application; returns its status afterwards."""
    try:
        app = finance.run_risk_check(ctx.uow(), application_id)
    except NotFound:
        log.info("finance application %s is gone; no risk check", application_id)
        return None
    return app.status.value


def sla_sweep(ctx: Context) -> dict[str, int]:
    return asdict(finance.sla_sweep(ctx.uow()))


def maturity_sweep(ctx: Context) -> dict[str, int]:
    return asdict(finance.maturity_sweep(ctx.uow()))


# ------------------------------------------------------------------------------------------ notifications


def event_key(topic: str, payload: dict[str, Any], outbox_id: int | None) -> str:
    """The dedupe key of an event's notices: its outbox id (a re-sent event has the same), else its content."""
    if outbox_id is not None:
        return f"event:{outbox_id}"
    digest = hashlib.sha256(json.dumps([topic, payload], sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"event:{topic}:{digest}"


def notify_event(ctx: Context, topic: str, payload: dict[str, Any], outbox_id: int | None = None) -> int:
    """Write the notices an event causes; returns how many inbox entries were created (0 on a replay)."""
    with Session(ctx.engine) as s:
        notices = notices_for(s, topic, payload)
    key = event_key(topic, payload, outbox_id)
    created = 0
    for i, notice in enumerate(notices):
        created += notify(
            ctx.uow(),
            notice.organisation_ids,
            kind=notice.kind,
            title=notice.title,
            title_en=notice.title_en,
            body=notice.body,
            link=notice.link,
            dedupe_key=key if i == 0 else f"{key}:{i}",
        )
    return created


# ------------------------------------------------------------------------------------------ offer import


def import_offers(
    ctx: Context, task_id: str, organisation_id: int, user_id: int, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """List the checked rows of an SME's spreadsheet as offers (``market.offer_import``), reporting
    progress under the page's task id.  Idempotent per task id: a row already listed (same title, active) is
    skipped, so a second run lists nothing twice; a row the use case refuses is reported, not retried."""
    with Session(ctx.engine) as s:
        user = s.get(User, user_id)
        organisation = s.get(Organisation, organisation_id)
    if user is None or organisation is None or user.organisation_id != organisation_id:
        raise NotFound.of("导入用户", "Importing user", user_id)
    actor = Actor.for_user(user, organisation)
    total = len(rows)
    outcome = offer_import.RowOutcome()
    with tracked(ctx, offer_import.IMPORT_OFFERS, task_id, actor) as report:
        report(0, total, f"导入 {total} 行 / importing {total} rows")
        for done, row in enumerate(rows, start=1):
            offer_import.import_row(ctx.uow(), actor, row, outcome)
            if done % 10 == 0 or done == total:
                report(done, total, f"已处理 {done}/{total} 行 / {done} of {total} rows")
        report(total, total, offer_import.summary(outcome, total))
    return {"created": outcome.created, "skipped": outcome.skipped, "failed": len(outcome.failed)}
