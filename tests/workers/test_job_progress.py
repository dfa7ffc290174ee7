"""Long jobs record their progress: re-matching every open order and the matcher refit, run directly and as the
Celery task (run locally, eagerly), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qianfan import jobs as job_service
from qianfan.models import Job, JobStatus, Match
from tests.workers.conftest import Market
from workers import context, jobs
from workers.context import Context


def _job(engine: Engine, task_id: str) -> Job:
    with Session(engine) as s:
        return s.exec(select(Job).where(Job.task_id == task_id)).one()


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int | None]]:
    """Every progress report made (done, total), passed on to the real service."""
    seen: list[tuple[int, int | None]] = []
    real = job_service.progress

    def spy(target: Any, task_id: str, done: int, total: int | None = None, *args: Any, **kwargs: Any) -> bool:
        seen.append((done, total))
        return real(target, task_id, done, total, *args, **kwargs)

    monkeypatch.setattr(job_service, "progress", spy)
    return seen


def test_rematching_every_open_order_records_its_progress(
    engine: Engine, market: Market, ctx: Context, reports: list[tuple[int, int | None]]
) -> None:
    order_ids = [market.post_order(title=f"数字政府大数据平台项目{i}") for i in range(5)]
    result = jobs.rematch_orders(ctx, task_id="rematch-1", started_by=market.firm, every=2)
    assert result["orders"] == 5 and result["matched"] == 5 and result["skipped"] == 0
    row = _job(engine, "rematch-1")
    assert (row.kind, row.status, row.done, row.total) == (job_service.REMATCH_ORDERS, JobStatus.SUCCEEDED, 5, 5)
    assert row.organisation_id == market.firm.organisation_id and row.finished_at is not None
    assert [done for done, total in reports if total == 5] == [0, 2, 4, 5]  # every 2 orders and the last
    with Session(engine) as s:
        matched = set(s.exec(select(Match.order_id).where(col(Match.order_id).in_(order_ids))).all())
    assert matched == set(order_ids)
    # Run again (a redelivered task): the same job, still done, nothing stored twice.
    with Session(engine) as s:
        before = len(s.exec(select(Match)).all())
    jobs.rematch_orders(ctx, task_id="rematch-1", every=2)
    with Session(engine) as s:
        assert len(s.exec(select(Job)).all()) == 1 and len(s.exec(select(Match)).all()) == before


def test_the_rematch_task_run_eagerly_records_done_equals_total(engine: Engine, market: Market, ctx: Context) -> None:
    from workers.tasks.matching import rematch_orders

    for i in range(3):
        market.post_order(title=f"城市数据共享交换项目{i}")
    with context.use(ctx):
        result = rematch_orders.apply(kwargs={"every": 1}, task_id="celery-rematch-7")
    assert result.successful(), result.traceback
    row = _job(engine, "celery-rematch-7")
    assert (row.status, row.done, row.total) == (JobStatus.SUCCEEDED, 3, 3)
    assert row.started_by_user_id is None and row.organisation_id is None  # enqueued by nobody: the office sees it


def test_the_refit_job_reports_its_two_steps(engine: Engine, market: Market, ctx: Context) -> None:
    from workers.tasks.matching import refit

    with context.use(ctx):
        result = refit.apply(task_id="celery-refit-1")
    assert result.successful(), result.traceback
    assert result.result["documents"] == len(market.offer_ids)
    row = _job(engine, "celery-refit-1")
    assert (row.kind, row.status, row.done, row.total) == (job_service.REFIT, JobStatus.SUCCEEDED, 2, 2)
    assert "done" in row.message


def test_a_job_that_fails_is_marked_failed_with_its_error(
    engine: Engine, market: Market, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    market.post_order()

    def broken(ctx: Context, order_id: int) -> None:
        raise RuntimeError("matcher exploded")

    monkeypatch.setattr(jobs, "_store_matches", broken)
    with pytest.raises(RuntimeError):
        jobs.rematch_orders(ctx, task_id="rematch-broken")
    row = _job(engine, "rematch-broken")
    assert row.status == JobStatus.FAILED and "matcher exploded" in row.message and row.done == 0
