"""Broker down while work is posted (issue 5): the order is saved and its events wait in the outbox; when the
broker is back, a real worker stores the matches and notifications — every event relayed once, nothing doubled.

The dead broker is a Redis URL nobody listens on (``127.0.0.1:1``); the real Redis is never stopped.  Redis +
PostgreSQL, mandatory under ``CI=true`` (skipped locally without them)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from qianfan.clock import SystemClock
from qianfan.config import Settings
from qianfan.models import DeadLetter, Match, Notification, Order, OrderStatus, OutboxEvent
from qianfan.outbox import pending_count
from tests.workers.conftest import build_market
from tests.workers.procs import is_ready, log_text, start_worker, stop, task_lines, wait_until
from workers.celery_app import make_celery
from workers.relay import Job, plan, relay_once

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.*", "ignore:.*noload.*"),
    pytest.mark.redis,
    pytest.mark.postgres,
]

DEAD_BROKER = "redis://127.0.0.1:1/0"


def _order_effects(engine: Engine, order_id: int) -> tuple[int, int]:
    with Session(engine) as s:
        matches = s.exec(select(func.count()).select_from(Match).where(Match.order_id == order_id)).one()
        notes = s.exec(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.dedupe_key).like(f"match:order:{order_id}:%"))
        ).one()
    return int(matches), int(notes)


def test_an_order_posted_while_the_broker_is_down_is_matched_once_it_is_back(
    tmp_path: Path, pg_engine: Engine, postgres_url: str, redis_url: str
) -> None:
    engine = pg_engine
    market = build_market(engine, SystemClock())
    var = tmp_path / "var"

    # The broker is unreachable: posting still works, the relay fails fast and keeps every event.
    down = make_celery(Settings(var_dir=var, database_url=postgres_url, broker_url=DEAD_BROKER))
    order_id = market.post_order()
    with Session(engine) as s:
        order = s.get(Order, order_id)
        assert order is not None and order.status == OrderStatus.OPEN
        pending_before = pending_count(engine)
        assert pending_before >= len(market.offer_ids) + 1
    started = time.monotonic()
    failed = relay_once(engine, down)
    assert failed.failed and failed.error and "127.0.0.1:1" in failed.error
    assert time.monotonic() - started < 10, "a publish to a dead broker must fail within seconds"
    with Session(engine) as s:
        outage = {r.id: r for r in s.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()}
    work = [r for r in outage.values() if plan_of(r)]
    # The events that cause work are all kept (the relay stopped at the first, recording why); the events before
    # it that cause no task (organisations registered) were simply marked sent.
    assert len(work) == len(market.offer_ids) + 1 and all(r.dispatched_at is None for r in work)
    assert work[0].attempts == 1 and work[0].last_error == failed.error
    assert pending_count(engine) == pending_before - failed.dispatched
    assert _order_effects(engine, order_id) == (0, 0)

    # The broker is back, with a real worker: relay, and the matches and notifications appear.
    up = make_celery(Settings(var_dir=var, database_url=postgres_url, broker_url=redis_url))
    proc = start_worker(tmp_path, postgres_url, redis_url)
    try:
        wait_until(lambda: is_ready(tmp_path), 15, procs=(proc,), why="worker start")
        relayed = relay_once(engine, up)
        assert not relayed.failed, relayed.error
        assert relayed.dispatched >= len(work)

        def matched() -> bool:
            matches, notes = _order_effects(engine, order_id)
            return matches >= 2 and notes == min(matches, 5)

        wait_until(matched, 15, procs=(proc,), why=f"matches of order {order_id}\n{log_text(tmp_path)[-3000:]}")

        # Quiet: events the worker's tasks committed are relayed too, until nothing is pending or running.
        def settled() -> bool:
            relay_once(engine, up)
            received, done = task_lines(tmp_path, "worker", "received"), task_lines(tmp_path, "worker")
            return pending_count(engine) == 0 and received.keys() == done.keys()

        wait_until(settled, 10, procs=(proc,), why="outbox drained and every task done")
    finally:
        stop(proc)

    with Session(engine) as s:
        rows = s.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()
        notes = s.exec(select(Notification.user_id, Notification.dedupe_key)).all()
        dead = s.exec(select(DeadLetter)).all()
    # Every event relayed once: dispatched, one successful send each (the failed attempt of the outage aside).
    assert all(r.dispatched_at is not None and r.last_error is None for r in rows)

    def sends(r: OutboxEvent) -> int:  # successful sends of an event: its attempts minus the failed ones
        before = outage.get(r.id)
        return r.attempts - (0 if before is None or before.dispatched_at is not None else before.attempts)

    assert [sends(r) for r in rows] == [1] * len(rows), [(r.id, r.topic, r.attempts) for r in rows]
    # …and each task it caused was delivered to the worker once (task ids derive from the outbox ids).
    expected = {job.task_id(r.id) for r in rows for job in plan_of(r)}
    received = task_lines(tmp_path, "worker", "received")
    assert set(received) == expected and set(received.values()) == {1}, received
    # No notification doubled, no dead letter.
    assert len(notes) == len(set(notes)), Counter(notes).most_common(3)
    assert dead == []
    matches, order_notes = _order_effects(engine, order_id)
    print(
        f"\nbroker outage: {len(rows)} outbox events ({len(work)} with work kept during the outage, "
        f"{len(rows) - len(outage)} from the worker), {sum(received.values())} tasks delivered once each, "
        f"{matches} matches, {len(notes)} notifications ({order_notes} for the order), 0 dead letters"
    )


def plan_of(row: OutboxEvent) -> list[Job]:
    from qianfan.events import Event

    return plan(Event(row.topic, dict(row.payload), row.id))
