"""The ``qianfan seed`` command's orchestrator: the demo data set (each part in turn, see :func:`seeds.demo.load_demo`),
its matches stored as the workers would, and the scale data set."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select, update

from matcher import service as matching
from qianfan import events
from qianfan.clock import Clock
from qianfan.errors import DomainError
from qianfan.models import Order, OrderStatus, OutboxEvent
from qianfan.uow import UnitOfWork
from seeds.demo import DEMO_USERS, load_demo
from seeds.scale import generate_offers, generate_orders, load_scale, write_jsonl

log = logging.getLogger(__name__)


def run_seed(
    engine: Engine,
    clock: Clock,
    *,
    demo: bool = True,
    scale: int = 0,
    out_dir: Path | None = None,
    index_dir: Path | None = None,
) -> str:
    """Load the demo data and/or a scale data set; return a short summary (Chinese first, then English).

    ``scale`` > 0 generates that many offers and ``max(1, scale // 20)`` orders.  Without ``out_dir`` they are
    bulk-inserted into the database; with ``out_dir`` they are written there as ``offers.jsonl`` and
    ``orders.jsonl`` (the matcher batch format) *instead of* being inserted, so a million-offer benchmark file
    does not fill the database.
    """

    parts: list[str] = []
    if demo:
        before = last_outbox_id(engine)
        report = load_demo(engine, clock)
        parts.append(report.summary())
        parts.append(match_open_orders(engine, clock, since_outbox_id=before, index_dir=index_dir))
        accounts = "、".join(u[0] for u in DEMO_USERS)
        parts.append(f"演示账号（密码 qianfan-demo）：{accounts}\nDemo accounts (password qianfan-demo): {accounts}")
    if scale > 0:
        n_orders = max(1, scale // 20)
        if out_dir is not None:
            offers = write_jsonl(Path(out_dir) / "offers.jsonl", generate_offers(scale))
            orders = write_jsonl(Path(out_dir) / "orders.jsonl", generate_orders(n_orders))
            parts.append(
                f"规模数据：已写入{offers}条产品/服务与{orders}条订单至 {out_dir}（offers.jsonl、orders.jsonl），"
                f"未写入数据库。\nScale data: wrote {offers} offers and {orders} orders to {out_dir} "
                "(offers.jsonl, orders.jsonl); the database was not changed."
            )
        else:
            parts.append(load_scale(engine, clock, scale, n_orders).summary())
    if not parts:
        return "未执行任何操作（demo=False 且 scale=0）。\nNothing to do (demo=False and scale=0)."
    return "\n".join(parts)


def match_open_orders(engine: Engine, clock: Clock, *, since_outbox_id: int, index_dir: Path | None = None) -> str:
    """Store the best matches of every open order now, as the workers would after the load, so the demo shows its
    matches from the first page; the ``offer.listed`` events of this load (outbox ids above *since_outbox_id*) are
    marked handled, because their work — indexing and matching the offers — is done.  ``order.posted`` stays
    pending: the worker's job for it is a no-op on the matches and tells the SMEs in the top of each order."""

    store = matching.offer_index_store(engine, clock, index_dir)
    with Session(engine) as s:
        order_ids = [
            i for i in s.exec(select(Order.id).where(col(Order.status) == OrderStatus.OPEN).order_by(col(Order.id)))
        ]
    stored = 0
    for order_id in order_ids:
        if order_id is None:
            continue
        try:
            stored += len(matching.match_order(UnitOfWork(engine, clock), None, order_id, store=store))
        except DomainError as exc:  # closed or changed meanwhile: the worker will see to it
            log.info("order %s not matched by the seed: %s", order_id, exc)
    with Session(engine) as s:
        s.exec(
            update(OutboxEvent)
            .where(
                col(OutboxEvent.id) > since_outbox_id,
                col(OutboxEvent.topic) == events.OFFER_LISTED,
                col(OutboxEvent.dispatched_at).is_(None),
            )
            .values(dispatched_at=clock.now())
        )
        s.commit()
    n = len(order_ids)
    return f"匹配：{n} 个开放订单，存储 {stored} 条匹配\nMatches: {n} open orders, {stored} stored"


def last_outbox_id(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.max(OutboxEvent.id))).one() or 0)
