"""A real worker process (``qianfan worker``) on a real broker: an order posted through the service layer gets
its stored matches and the SMEs' notifications, on the embedded SQLite broker and on Redis (+ PostgreSQL).

Under ``CI=true`` Redis is mandatory (the test fails without it), as PostgreSQL is; locally it is skipped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from qianfan.clock import SystemClock
from qianfan.config import Settings
from qianfan.db import make_engine
from qianfan.migrate import upgrade
from qianfan.models import DeadLetter, Match, Notification
from qianfan.outbox import pending_count
from tests.workers.conftest import build_market
from tests.workers.procs import start_worker, stop
from workers.celery_app import make_celery
from workers.relay import relay_once

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.*", "ignore:.*noload.*")

DEADLINE = 60.0


def _counts(engine: Engine, order_id: int) -> tuple[int, int]:
    with Session(engine) as s:
        matches = s.exec(select(func.count()).select_from(Match).where(Match.order_id == order_id)).one()
        notes = s.exec(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.dedupe_key).like(f"match:order:{order_id}:%"))
        ).one()
        return int(matches), int(notes)


def _order_gets_matches_from_a_real_worker(tmp_path: Path, engine: Engine, database_url: str, broker: str) -> None:
    clock = SystemClock()
    market = build_market(engine, clock)
    celery = make_celery(Settings(var_dir=tmp_path / "var", database_url=database_url, broker_url=broker))
    proc = start_worker(tmp_path, database_url, broker)
    try:
        started = time.monotonic()
        order_id = market.post_order()
        relayed = relay_once(engine, celery)
        assert not relayed.failed, relayed.error
        assert relayed.dispatched >= len(market.offer_ids) + 1 and pending_count(engine) == 0
        matches = notes = 0
        while time.monotonic() - started < DEADLINE:
            assert proc.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
            matches, notes = _counts(engine, order_id)
            if matches >= 2 and notes >= min(matches, 5):
                break
            time.sleep(0.2)
        else:
            log = (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
            pytest.fail(f"no matches after {DEADLINE} s (matches={matches}, notes={notes}); worker log:\n{log}")
        elapsed = time.monotonic() - started
        print(f"\n{broker.split(':', 1)[0]}: {relayed.dispatched} events relayed, matches stored in {elapsed:.1f} s")
        # Events the worker itself committed (order.matched) are relayed too; nothing doubles.
        relay_once(engine, celery)
        with Session(engine) as s:
            keys = s.exec(select(Notification.user_id, Notification.dedupe_key)).all()
            assert len(keys) == len(set(keys))
            assert s.exec(select(DeadLetter)).all() == []
    finally:
        stop(proc)


def test_an_order_is_matched_by_a_real_worker_on_the_embedded_broker(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'qianfan.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        broker = f"sqla+sqlite:///{tmp_path / 'var' / 'broker.db'}"
        _order_gets_matches_from_a_real_worker(tmp_path, engine, database_url, broker)
    finally:
        engine.dispose()


@pytest.mark.redis
@pytest.mark.postgres
def test_an_order_is_matched_by_a_real_worker_on_redis_and_postgres(
    tmp_path: Path, pg_engine: Engine, postgres_url: str, redis_url: str
) -> None:
    _order_gets_matches_from_a_real_worker(tmp_path, pg_engine, postgres_url, redis_url)
