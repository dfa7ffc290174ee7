"""The outbox relay (never loses an event, never sends one twice in a successful run, resumes after a broker
failure), in-app notifications (idempotent per user and key) and dead letters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import organisations as orgs
from qianfan import notifications as notes
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.errors import NotFound, PermissionDenied
from qianfan.events import Event
from qianfan.models import DeadLetter, OrgKind, OutboxEvent, UserRole
from qianfan.outbox import pending_count, relay, relay_all
from qianfan.uow import UnitOfWork


def publish(engine: Engine, clock: FrozenClock, n: int) -> None:
    for i in range(n):
        with UnitOfWork(engine, clock) as uow:
            uow.publish("test.event", i=i)
            uow.commit()


def test_relay_sends_every_event_once_in_order(engine: Engine, clock: FrozenClock) -> None:
    publish(engine, clock, 7)
    seen: list[Event] = []
    result = relay_all(engine, seen.append, clock=clock, batch=3)
    assert (result.dispatched, result.failed) == (7, False)
    assert [e.payload["i"] for e in seen] == list(range(7))
    assert relay_all(engine, seen.append, clock=clock).dispatched == 0  # nothing sent twice
    assert pending_count(engine) == 0


def test_a_broker_failure_keeps_the_event_and_the_next_run_sends_it(engine: Engine, clock: FrozenClock) -> None:
    publish(engine, clock, 3)
    seen: list[int] = []

    def flaky(event: Event) -> None:
        if event.payload["i"] == 1 and not getattr(flaky, "back", False):
            raise ConnectionError("broker down")
        seen.append(event.payload["i"])

    first = relay(engine, flaky, clock=clock)
    assert (first.dispatched, first.failed) == (1, True) and "broker down" in (first.error or "")
    assert pending_count(engine) == 2
    with Session(engine) as s:
        stuck = s.exec(select(OutboxEvent).where(OutboxEvent.payload["i"].as_integer() == 1)).one()  # type: ignore[index]
        assert stuck.attempts == 1 and stuck.dispatched_at is None
    flaky.back = True  # type: ignore[attr-defined]
    assert relay_all(engine, flaky, clock=clock).dispatched == 2
    assert seen == [0, 1, 2] and pending_count(engine) == 0


@pytest.fixture
def office_and_sme(engine: Engine, clock: FrozenClock, make_org: Callable[..., tuple]) -> tuple[Actor, Actor, int]:
    sme, _ = make_org(OrgKind.SME)
    office, _ = make_org(OrgKind.PROGRAMME_OFFICE)
    u1 = orgs.add_user(
        UnitOfWork(engine, clock), sme.id, {"username": "inboxa", "display_name": "甲", "password": "Correct-horse-9"}
    )
    orgs.add_user(
        UnitOfWork(engine, clock), sme.id, {"username": "inboxb", "display_name": "乙", "password": "Correct-horse-9"}
    )
    boss = orgs.add_user(
        UnitOfWork(engine, clock),
        office.id,
        {"username": "officeboss", "display_name": "主任", "role": UserRole.ADMIN, "password": "Correct-horse-9"},
    )
    return Actor.for_user(u1, sme), Actor.for_user(boss, office), sme.id


def test_notify_reaches_every_user_once(engine: Engine, clock: FrozenClock, office_and_sme: tuple) -> None:
    user, _office, sme_id = office_and_sme
    kw = {"kind": "order.matched", "title": "新订单匹配", "title_en": "A new order matches", "dedupe_key": "order:1"}
    assert notes.notify(UnitOfWork(engine, clock), [sme_id], **kw) == 2
    assert notes.notify(UnitOfWork(engine, clock), [sme_id, sme_id], **kw) == 0  # replayed task: nothing new
    with Session(engine) as s:
        box = notes.inbox(s, user.user_id)
        assert [n.title for n in box] == ["新订单匹配"]
    read = notes.mark_read(UnitOfWork(engine, clock), user, box[0].id)
    assert read.read_at == clock.now()
    with Session(engine) as s:
        assert notes.inbox(s, user.user_id, unread_only=True) == []


def test_someone_elses_notification_is_not_found(engine: Engine, clock: FrozenClock, office_and_sme: tuple) -> None:
    user, office, sme_id = office_and_sme
    notes.notify(UnitOfWork(engine, clock), [sme_id], kind="k", title="t", dedupe_key="x")
    with Session(engine) as s:
        (mine,) = notes.inbox(s, user.user_id)
    with pytest.raises(NotFound):
        notes.mark_read(UnitOfWork(engine, clock), office, mine.id)


def test_dead_letters_are_kept_once_and_replayed_by_the_office(
    engine: Engine, clock: FrozenClock, office_and_sme: tuple
) -> None:
    user, office, _ = office_and_sme
    for attempt in (5, 6):
        notes.record_dead_letter(
            UnitOfWork(engine, clock),
            task_id="t-1",
            task_name="workers.tasks.match_order",
            args=[12],
            kwargs={},
            error=f"boom {attempt}",
            attempts=attempt,
        )
    with Session(engine) as s:
        (row,) = notes.dead_letters(s)
        assert (row.task_args, row.attempts, row.error) == ([12], 6, "boom 6")
    with pytest.raises(PermissionDenied):
        notes.mark_replayed(UnitOfWork(engine, clock), user, row.id)
    done = notes.mark_replayed(UnitOfWork(engine, clock), office, row.id)
    assert done.replay_count == 1
    with Session(engine) as s:
        assert notes.dead_letters(s) == []
        assert len(s.exec(select(DeadLetter)).all()) == 1
