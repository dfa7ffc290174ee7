"""``qianfan seed`` stores every open order's matches itself, so the demo shows them from the first page, and marks
only its own offers' listing events as handled (their work is done); orders' events stay for the worker."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from matcher.service import clear_caches
from qianfan import events
from qianfan.clock import FrozenClock
from qianfan.models import Match, Order, OrderStatus, OutboxEvent
from seeds.load import run_seed
from tests.conftest import clean_tables
from tests.seeds.conftest import SEED_MOMENT


def _pending(session: Session, topic: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(OutboxEvent)
        .where(col(OutboxEvent.topic) == topic, col(OutboxEvent.dispatched_at).is_(None))
    ).one()


def test_the_seed_stores_the_matches_of_every_open_order(sqlite_engine: Engine, tmp_path: Path) -> None:
    clean_tables(sqlite_engine)
    clear_caches()
    try:
        summary = run_seed(sqlite_engine, FrozenClock(SEED_MOMENT), index_dir=tmp_path / "index")
        with Session(sqlite_engine) as s:
            open_orders = s.exec(select(Order.id).where(col(Order.status) == OrderStatus.OPEN)).all()
            matched = s.exec(select(func.count(func.distinct(Match.order_id)))).one()
            assert matched == len(open_orders) > 90
            assert _pending(s, events.OFFER_LISTED) == 0  # the seed did their work
            assert _pending(s, events.ORDER_POSTED) > 0  # the worker still tells the SMEs
        assert "Matches:" in summary and "open orders" in summary
        again = run_seed(sqlite_engine, FrozenClock(SEED_MOMENT), index_dir=tmp_path / "index")
        with Session(sqlite_engine) as s:
            assert s.exec(select(func.count(func.distinct(Match.order_id)))).one() == matched  # idempotent
        assert "Matches:" in again
    finally:
        clean_tables(sqlite_engine)
        clear_caches()
