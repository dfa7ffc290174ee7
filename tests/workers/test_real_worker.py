"""A real worker process (``qianfan worker``) on a real broker: an order posted through the service layer gets
its stored matches and the SMEs' notifications, on the embedded SQLite broker and on Redis (+ PostgreSQL).

Under ``CI=true`` Redis is mandatory (the test fails without it), as PostgreSQL is; locally it is skipped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
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
from tests.conftest import IN_CI
from tests.workers.conftest import build_market
from workers.celery_app import make_celery
from workers.relay import relay_once

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.*", "ignore:.*noload.*")

REDIS_URL = os.environ.get("QIANFAN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
DEADLINE = 60.0


def _start_worker(tmp_path: Path, database_url: str, broker_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "QIANFAN_ENV": "test",
        "QIANFAN_DATABASE_URL": database_url,
        "QIANFAN_BROKER_URL": broker_url,
        "QIANFAN_VAR_DIR": str(tmp_path / "var"),
    }
    log = (tmp_path / "worker.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "qianfan.cli", "worker", "--concurrency", "2", "--loglevel", "INFO"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its pool children are stopped with it
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown of the worker (SIGTERM to its main process), then SIGKILL to whatever is left of its group."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


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
    proc = _start_worker(tmp_path, database_url, broker)
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
        _stop(proc)


def test_an_order_is_matched_by_a_real_worker_on_the_embedded_broker(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'qianfan.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        broker = f"sqla+sqlite:///{tmp_path / 'var' / 'broker.db'}"
        _order_gets_matches_from_a_real_worker(tmp_path, engine, database_url, broker)
    finally:
        engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database number nobody uses (claimed with a key), flushed afterwards."""
    try:
        import redis

        for db in range(15, 0, -1):
            client = redis.Redis.from_url(f"{REDIS_URL}/{db}", socket_connect_timeout=2)
            if client.dbsize() == 0 and client.set("qianfan:test:claim", uuid.uuid4().hex, nx=True, ex=600):
                break
        else:
            pytest.skip("no free Redis database number")
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but unavailable: {exc}")
        pytest.skip(f"Redis not available ({exc}); set QIANFAN_TEST_REDIS_URL to run these tests")
    try:
        yield f"{REDIS_URL}/{db}"
    finally:
        client.flushdb()


@pytest.mark.redis
@pytest.mark.postgres
def test_an_order_is_matched_by_a_real_worker_on_redis_and_postgres(
    tmp_path: Path, pg_engine: Engine, postgres_url: str, redis_url: str
) -> None:
    _order_gets_matches_from_a_real_worker(tmp_path, pg_engine, postgres_url, redis_url)
