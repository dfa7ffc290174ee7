"""Topic → task mapping and the jobs behind the tasks, run in-process on SQLite and PostgreSQL: every effect
happens once however often an event is delivered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from market import service as mkt
from qianfan import events
from qianfan.clock import FrozenClock
from qianfan.events import Event
from qianfan.models import FinanceApplication, Match, Notification, OutboxEvent
from qianfan.outbox import pending_count
from tests.finance_service.conftest import build_world
from tests.workers.conftest import InlineWorker, Market
from workers import jobs
from workers.relay import MATCH_OFFER, MATCH_ORDER, NOTIFY_EVENT, REMOVE_OFFER, RISK_CHECK, plan


@pytest.mark.parametrize(
    ("topic", "payload", "task"),
    [
        (events.ORDER_POSTED, {"order_id": 3}, MATCH_ORDER),
        (events.ORDER_CHANGED, {"order_id": 3, "version": 2}, MATCH_ORDER),
        (events.OFFER_LISTED, {"offer_id": 4}, MATCH_OFFER),
        (events.OFFER_CHANGED, {"offer_id": 4, "version": 2}, MATCH_OFFER),
        (events.OFFER_WITHDRAWN, {"offer_id": 4}, REMOVE_OFFER),
        (events.APPLICATION_SUBMITTED, {"application_id": 5}, RISK_CHECK),
        (events.APPLICATION_APPROVED, {"application_id": 5}, NOTIFY_EVENT),
        (events.APPLICATION_REJECTED, {"application_id": 5}, NOTIFY_EVENT),
        (events.APPLICATION_INFO_REQUESTED, {"application_id": 5}, NOTIFY_EVENT),
        (events.APPLICATION_OFFER_SIGNED, {"application_id": 5}, NOTIFY_EVENT),
        (events.APPLICATION_DISBURSED, {"application_id": 5, "loan_id": 1}, NOTIFY_EVENT),
        (events.APPLICATION_SLA_BREACHED, {"application_id": 5}, NOTIFY_EVENT),
        (events.LOAN_OVERDUE, {"loan_id": 1}, NOTIFY_EVENT),
        (events.RECEIVABLE_REGISTERED, {"receivable_id": 2, "debtor_id": 1}, NOTIFY_EVENT),
    ],
)
def test_each_topic_becomes_one_task_named_after_its_outbox_row(topic: str, payload: dict[str, Any], task: str) -> None:
    (job,) = plan(Event(topic, payload, 41))
    assert job.task == task
    assert job.task_id(41) == f"ob41.{task.rsplit('.', 1)[1]}" and job.task_id(None) is None
    if task == NOTIFY_EVENT:
        assert job.kwargs == {"topic": topic, "payload": payload, "outbox_id": 41}
    else:
        assert list(job.kwargs.values()) == [next(iter(payload.values()))]


def test_topics_without_background_work_are_relayed_to_nothing() -> None:
    assert plan(Event(events.ORDER_CLOSED, {"order_id": 1}, 1)) == []
    assert plan(Event("order.matched", {"order_id": 1, "offer_ids": []}, 2)) == []


def _matches(engine: Engine, order_id: int) -> list[tuple[int, int]]:
    with Session(engine) as s:
        rows = s.exec(select(Match).where(Match.order_id == order_id).order_by(col(Match.rank))).all()
        return [(r.offer_id, r.rank) for r in rows]


def _notes(engine: Engine, kind: str | None = None) -> list[tuple[int, str]]:
    with Session(engine) as s:
        stmt = select(Notification)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return sorted((n.organisation_id, n.dedupe_key) for n in s.exec(stmt).all())


def test_a_posted_order_is_matched_and_its_smes_told_once(engine: Engine, market: Market, inline: InlineWorker) -> None:
    inline.relay()  # the offers' own events (no open orders yet)
    order_id = market.post_order()
    inline.relay()
    matched = _matches(engine, order_id)
    assert {offer for offer, _ in matched} >= set(market.offer_ids[:2])  # the two data-platform offers
    told = _notes(engine, "order.matched")
    assert len(told) == len(matched)
    assert {key for _, key in told} == {jobs.match_key(order_id, offer) for offer, _ in matched}
    (job, task_id) = inline.sent[-1]
    assert job.task == MATCH_ORDER and task_id is not None and task_id.startswith("ob")

    # The broker delivers the same event again (a relay crashed before marking it): nothing changes.
    jobs.match_order(inline.ctx, order_id)
    assert _matches(engine, order_id) == matched
    assert _notes(engine, "order.matched") == told
    assert pending_count(engine) == 0


def test_a_new_offer_joins_the_open_orders_it_fits(engine: Engine, market: Market, inline: InlineWorker) -> None:
    order_id = market.post_order()
    inline.relay()
    before = _matches(engine, order_id)
    sme = market.smes[2]
    offer_id = market.list_offer(sme, "政务数据共享交换平台 V2", "政务数据共享交换与治理", "ict.egov", ["政务数据"])
    inline.relay()
    assert offer_id in {offer for offer, _ in _matches(engine, order_id)} and len(_matches(engine, order_id)) > len(
        before
    )
    assert (sme.organisation_id, jobs.match_key(order_id, offer_id)) in _notes(engine, "order.matched")
    assert (market.firm.organisation_id, f"match:offer:{offer_id}:order:{order_id}") in _notes(engine, "offer.matched")
    assert jobs.match_offer(inline.ctx, offer_id) == 1  # again: same rows, no new notices
    assert len(_notes(engine)) == len(set(_notes(engine)))

    mkt.withdraw_offer(market.uow(), sme, offer_id)
    inline.relay()
    assert offer_id not in {offer for offer, _ in _matches(engine, order_id)}
    assert offer_id not in inline.ctx.store


def test_a_closed_or_missing_order_is_a_no_op(engine: Engine, market: Market, inline: InlineWorker) -> None:
    order_id = market.post_order()
    mkt.close_order(market.uow(), market.firm, order_id)
    assert jobs.match_order(inline.ctx, order_id) == 0
    assert jobs.match_order(inline.ctx, 987654) == 0
    assert jobs.risk_check(inline.ctx, 987654) is None
    assert _matches(engine, order_id) == []


def test_finance_events_reach_the_organisation_concerned_once(
    engine: Engine, clock: FrozenClock, inline: InlineWorker
) -> None:
    world = build_world(engine, clock)
    part = world.confirmed_part()
    inline.relay()
    core_note = _notes(engine, events.RECEIVABLE_REGISTERED)
    assert [org for org, _ in core_note] == [world.core.organisation_id]

    app = world.apply(part.id)
    inline.relay()  # submitted → risk check (a task) → risk passed → the bank is told
    with Session(engine) as s:
        stored = s.get(FinanceApplication, app.id)
        assert stored is not None and stored.risk_checked_at is not None
    bank_notes = _notes(engine, events.APPLICATION_RISK_PASSED)
    assert {org for org, _ in bank_notes} == {world.bank_id}
    assert len(bank_notes) == 3  # one per user of the bank

    from finance import service as fs

    fs.approve(world.uow(), world.reviewer, app.id)
    inline.relay()
    with Session(engine) as s:
        (note,) = s.exec(select(Notification).where(Notification.kind == events.APPLICATION_APPROVED)).all()
        assert note.organisation_id == world.sme.organisation_id
        assert note.link == f"/finance/applications/{app.id}" and note.title and note.title_en
        event = s.exec(select(OutboxEvent).where(OutboxEvent.topic == events.APPLICATION_APPROVED)).one()
    # A re-sent event (same outbox id) writes nothing; the same topic from another event would.
    assert jobs.notify_event(inline.ctx, event.topic, dict(event.payload), event.id) == 0
    # The risk check delivered again after the bank's decision changes nothing.
    assert jobs.risk_check(inline.ctx, app.id) == "approved"
    with Session(engine) as s:
        again = s.get(FinanceApplication, app.id)
        assert again is not None and again.risk_checked_at == stored.risk_checked_at
