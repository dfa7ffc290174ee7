"""Two workers on one queue (issue 5): 100 offers listed through the service layer, two ``qianfan worker --queues
matching`` processes on Redis + PostgreSQL, one relay — every offer's ``match_offer`` task ran exactly once, spread
over both workers (the 1,000-job figure: ``make bench-workers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bench.workers_drain import drain

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kombu.*", "ignore:.*noload.*"),
    pytest.mark.redis,
    pytest.mark.postgres,
]


def test_two_workers_on_one_queue_process_every_job_once(
    tmp_path: Path, pg_engine: Engine, postgres_url: str, redis_url: str
) -> None:
    result = drain(pg_engine, postgres_url, redis_url, tmp_path, offers=100, workers=2, concurrency=2, timeout=60)
    assert result.offer_events == 100 and result.task_ids == 100
    assert sum(result.tasks_per_worker.values()) == 100
    assert all(n > 0 for n in result.tasks_per_worker.values()), result.tasks_per_worker
    assert result.duplicates == 0 and result.redeliveries == 0 and result.failed == 0
    print(f"\ntwo workers: {result.tasks_per_worker}, 100 jobs drained in {result.drain_s:.2f} s, 0 duplicates")
