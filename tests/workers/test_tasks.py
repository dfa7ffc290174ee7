"""The Celery side without a broker: configuration, routing, retries with backoff and dead letters (eager mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from qianfan.clock import FrozenClock
from qianfan.config import Settings
from qianfan.models import DeadLetter
from workers import context
from workers.celery_app import QUEUES, broker_file, make_celery
from workers.context import Context
from workers.tasks.base import QianfanTask


def test_the_app_is_built_from_settings(tmp_path: Path) -> None:
    broker = tmp_path / "deep" / "er" / "broker.db"
    app = make_celery(Settings(var_dir=tmp_path, broker_url=f"sqla+sqlite:///{broker}"))
    assert broker.parent.is_dir()  # the embedded broker's directory exists before kombu opens the file
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"] and conf.timezone == "Asia/Shanghai"
    assert [q.name for q in conf.task_queues] == list(QUEUES)
    route = app.amqp.router.route
    assert route({}, "workers.tasks.matching.match_order")["queue"].name == "matching"
    assert route({}, "workers.tasks.finance.sla_sweep")["queue"].name == "finance"
    assert route({}, "workers.tasks.notifications.notify_event")["queue"].name == "notifications"
    assert route({}, "workers.tasks.system.relay_outbox")["queue"].name == "default"
    schedule = conf.beat_schedule
    assert schedule["relay-outbox"]["schedule"] <= 5 and schedule["finance-sla-sweep"]["schedule"] == 60
    assert {"finance-maturity-sweep", "matcher-refit", "reconcile-lost-work"} <= set(schedule)
    assert schedule["reconcile-lost-work"]["task"] == "workers.tasks.system.reconcile"
    redis = make_celery(Settings(var_dir=tmp_path, broker_url="redis://127.0.0.1:6379/9"))
    assert redis.conf.broker_transport_options["visibility_timeout"] >= 3600
    assert broker_file("redis://127.0.0.1:6379/0") is None


def test_every_task_is_registered_and_late_acked() -> None:
    import workers.tasks.finance
    import workers.tasks.matching
    import workers.tasks.notifications
    import workers.tasks.system  # noqa: F401
    from workers.celery_app import app
    from workers.relay import MATCH_OFFER, MATCH_ORDER, NOTIFY_EVENT, REMOVE_OFFER, RISK_CHECK

    for name in (MATCH_ORDER, MATCH_OFFER, REMOVE_OFFER, RISK_CHECK, NOTIFY_EVENT):
        task = app.tasks[name]
        assert task.acks_late and OperationalError in task.autoretry_for and task.max_retries >= 3


@pytest.fixture
def eager(engine: Engine, clock: FrozenClock, tmp_path: Path) -> Iterator[Celery]:
    app = Celery("test", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=False)
    with context.use(Context(engine, clock, index_dir=tmp_path)):
        yield app


def _letters(engine: Engine) -> list[DeadLetter]:
    with Session(engine) as s:
        return list(s.exec(select(DeadLetter)).all())


def test_transient_errors_are_retried_then_kept_as_a_dead_letter(engine: Engine, eager: Celery) -> None:
    calls: list[int] = []

    @eager.task(base=QianfanTask, name="tests.flaky", max_retries=2, retry_backoff=False)
    def flaky(order_id: int) -> None:
        calls.append(order_id)
        raise OperationalError("SELECT 1", {}, ConnectionError("database restarting"))

    flaky.apply(kwargs={"order_id": 7}, task_id="ob1.flaky")
    assert calls == [7, 7, 7]  # the first run and two retries
    (letter,) = _letters(engine)
    assert (letter.task_id, letter.task_name, letter.task_kwargs) == ("ob1.flaky", "tests.flaky", {"order_id": 7})
    assert letter.attempts == 3 and "database restarting" in letter.error


def test_a_bug_is_not_retried_and_is_recorded_once_per_task_id(engine: Engine, eager: Celery) -> None:
    calls: list[int] = []

    @eager.task(base=QianfanTask, name="tests.buggy")
    def buggy(order_id: int) -> None:
        calls.append(order_id)
        raise ValueError("a bug")

    buggy.apply(kwargs={"order_id": 8}, task_id="ob2.buggy")
    buggy.apply(kwargs={"order_id": 8}, task_id="ob2.buggy")  # delivered again
    assert calls == [8, 8]
    (letter,) = _letters(engine)
    assert letter.attempts == 1 and "ValueError: a bug" in letter.error


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[object], dict[str, object], str]] = []

    def send_task(self, name: str, *, args: list[object], kwargs: dict[str, object], task_id: str) -> None:
        self.sent.append((name, args, kwargs, task_id))


def test_the_programme_office_replays_a_dead_letter(engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    from qianfan.errors import RuleViolation
    from qianfan.models import OrgKind
    from qianfan.notifications import record_dead_letter
    from tests.workers.conftest import _org
    from workers.deadletters import replay

    ctx = Context(engine, clock, index_dir=tmp_path)
    letter = record_dead_letter(
        ctx.uow(),
        task_id="ob9.match_order",
        task_name="workers.tasks.matching.match_order",
        args=[],
        kwargs={"order_id": 3},
        error="OperationalError",
        attempts=7,
    )
    assert letter.id is not None
    broker = _Recorder()
    with pytest.raises(RuleViolation):
        replay(ctx, broker, letter.id)  # type: ignore[arg-type]
    _org(engine, clock, OrgKind.PROGRAMME_OFFICE)
    row, task_id = replay(ctx, broker, letter.id)  # type: ignore[arg-type]
    assert broker.sent == [("workers.tasks.matching.match_order", [], {"order_id": 3}, "ob9.match_order.r1")]
    assert row.replay_count == 1 and row.replayed_at is not None and task_id == "ob9.match_order.r1"
