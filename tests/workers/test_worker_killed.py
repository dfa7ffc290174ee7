"""A worker killed with SIGKILL in the middle of a task (issue 5): Redis delivers the unacknowledged task again
after the visibility timeout (5 s here, ``QIANFAN_BROKER_VISIBILITY_TIMEOUT``), another worker runs it, and its
effect happens once.

The task is held mid-way deterministically: ``match_order`` stores and commits the order's matches, then writes
the SMEs' notifications — the test holds their user rows ``FOR UPDATE``, so the notification insert (its foreign
key check) waits.  The worker is killed there, with the matches written and the notifications not.  Redis +
PostgreSQL, mandatory under ``CI=true``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from qianfan.clock import SystemClock
from qianfan.config import Settings
from qianfan.models import AuditEvent, DeadLetter, Match, Notification, OutboxEvent, User
from qianfan.outbox import relay_all
from tests.workers.conftest import build_market
from tests.workers.procs import is_ready, kill, log_text, start_worker, stop, task_lines, wait_until
from workers.celery_app import make_celery
from workers.relay import relay_once

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.*", "ignore:.*noload.*"),
    pytest.mark.redis,
    pytest.mark.postgres,
]

VISIBILITY = 5


def _count(engine: Engine, stmt: sa.Select) -> int:  # type: ignore[type-arg]
    with Session(engine) as s:
        return int(s.exec(stmt).one())  # type: ignore[call-overload]


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar())


def test_a_task_killed_mid_way_runs_again_on_another_worker_and_its_effect_happens_once(
    tmp_path: Path, pg_engine: Engine, postgres_url: str, redis_url: str
) -> None:
    engine = pg_engine
    market = build_market(engine, SystemClock())
    relay_all(engine, lambda event: None)  # the offers' own events are not the subject: the order's task is
    order_id = market.post_order()
    task_id = f"ob{_count(engine, select(func.max(OutboxEvent.id)))}.match_order"
    env = {"QIANFAN_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    celery = make_celery(Settings(var_dir=tmp_path / "var", database_url=postgres_url, broker_url=redis_url))
    assert celery.conf.broker_transport_options["visibility_timeout"] == 7200  # the default, for the record
    sme_ids = [a.organisation_id for a in market.smes]
    matches = select(func.count()).select_from(Match).where(Match.order_id == order_id)
    notes = (
        select(func.count())
        .select_from(Notification)
        .where(col(Notification.dedupe_key).like(f"match:order:{order_id}:%"))
    )
    audits = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type == "order", AuditEvent.entity_id == order_id, AuditEvent.action == "matched")
    )

    first = start_worker(tmp_path, postgres_url, redis_url, name="first", concurrency=1, env=env)
    second = None
    blocker = Session(engine)
    try:
        # Hold the SMEs' users: the task will store the matches, then wait to notify them.
        blocker.exec(select(User).where(col(User.organisation_id).in_(sme_ids)).with_for_update()).all()
        wait_until(lambda: is_ready(tmp_path, "first"), 15, procs=(first,), why="first worker ready")
        relayed = relay_once(engine, celery)
        assert not relayed.failed and relayed.dispatched == 1, relayed
        wait_until(
            lambda: _count(engine, matches) >= 2 and _waiting_on_a_lock(engine),
            15,
            procs=(first,),
            why=f"the task mid-way\n{log_text(tmp_path, 'first')[-3000:]}",
        )
        assert task_lines(tmp_path, "first", "received") == {task_id: 1}
        kill(first)  # SIGKILL: the worker and its pool child, the task unacknowledged
        killed_at = time.monotonic()
        blocker.rollback()
        stored = _count(engine, matches)
        assert _count(engine, notes) == 0 and _count(engine, audits) == 1
        assert task_lines(tmp_path, "first") == {}  # it never finished

        # kombu's Redis transport restores the tasks unacknowledged for longer than the visibility timeout when a
        # worker starts polling, then every unacked_restore_interval × unacked_restore_throttle s (10 × 10 by
        # default): the other worker comes up once the timeout has passed.
        time.sleep(max(0.0, killed_at + VISIBILITY + 0.5 - time.monotonic()))
        second = start_worker(tmp_path, postgres_url, redis_url, name="second", concurrency=1, env=env)
        wait_until(
            lambda: bool(task_lines(tmp_path, "second")),
            20,
            procs=(second,),
            why=f"the task delivered again\n{log_text(tmp_path, 'second')[-3000:]}",
        )
        assert task_lines(tmp_path, "second", "received") == {task_id: 1}
        assert task_lines(tmp_path, "second") == {task_id: 1}
        waited = time.monotonic() - killed_at
    finally:
        blocker.close()
        for proc in (first, second):
            if proc is not None:
                stop(proc)

    # The effect, once: the matches stored by the killed run are kept (not stored again, one audit record), every
    # matched SME notified once, nothing doubled, no dead letter.
    assert _count(engine, matches) == stored and _count(engine, audits) == 1
    assert _count(engine, notes) == min(stored, 5)
    with Session(engine) as s:
        keys = s.exec(select(Notification.user_id, Notification.dedupe_key)).all()
        assert len(keys) == len(set(keys))
        assert s.exec(select(DeadLetter)).all() == []
    print(f"\nkill -9: {task_id} killed after storing {stored} matches; run again {waited:.1f} s later")
