"""The safety net: work whose task was lost after its event was relayed (a worker killed on the embedded broker) is
found from the domain state and enqueued again; work that happened, or is still within its grace, is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from finance import service as fs
from qianfan.clock import FrozenClock
from tests.finance_service.conftest import build_world
from tests.workers.conftest import Context, Market
from workers import jobs
from workers.reconcile import GRACE, ORDER_HORIZON, stale_jobs
from workers.relay import MATCH_ORDER, RISK_CHECK


def test_lost_risk_checks_and_matches_are_found_again(
    engine: Engine, clock: FrozenClock, market: Market, ctx: Context
) -> None:
    world = build_world(engine, clock)
    app = world.apply(world.confirmed_part().id)
    order_id = market.post_order()
    assert stale_jobs(engine, clock.now()) == []  # within the grace period: the tasks may still be running
    clock.advance(GRACE + timedelta(seconds=1))
    found = {(j.task, tuple(j.kwargs.values())) for j in stale_jobs(engine, clock.now())}
    assert found == {(RISK_CHECK, (app.id,)), (MATCH_ORDER, (order_id,))}
    # the effects happen (as the re-enqueued tasks would do): nothing is stale any more
    fs.run_risk_check(world.uow(), app.id)
    assert jobs.match_order(ctx, order_id) > 0
    assert stale_jobs(engine, clock.now()) == []


def test_an_order_without_any_match_is_not_retried_forever(engine: Engine, clock: FrozenClock, market: Market) -> None:
    order_id = market.post_order(title="无人能做的需求", description="与任何产品都不相关的内容", category="ict.egov")
    clock.advance(GRACE + timedelta(minutes=1))
    assert [j.kwargs for j in stale_jobs(engine, clock.now())] == [{"order_id": order_id}]
    clock.advance(ORDER_HORIZON)
    assert stale_jobs(engine, clock.now()) == []


def test_the_reconcile_task_enqueues_the_lost_jobs(
    engine: Engine, clock: FrozenClock, market: Market, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workers.tasks.system as system
    from workers import context

    order_id = market.post_order()
    clock.advance(GRACE + timedelta(seconds=1))
    sent: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(system, "celery_dispatch", lambda app: lambda job, task_id: sent.append((job.task, job.kwargs)))
    with context.use(ctx):
        assert system.reconcile.run() == 1
    assert sent == [(MATCH_ORDER, {"order_id": order_id})]
