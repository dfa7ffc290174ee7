"""market.queries_buyer: the buyer's side of the marketplace (the large firm's portal) reads through market.access
and keeps the records in which the actor is the buyer — another firm's orders, decisions, intent orders and
contracts never show, and an SME (the supplier of the same deals) reads none of them here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from market import queries_buyer as buyer
from market import service as mkt
from qianfan.clock import FrozenClock
from qianfan.errors import NotFound
from qianfan.models import InterestKind, Match, Offer, OfferStatus, Order, OrgKind
from qianfan.uow import UnitOfWork
from tests.api.tenants import Tenants, build_tenants

FIRM, SME = OrgKind.LARGE_FIRM, OrgKind.SME


@pytest.fixture
def tenants(engine: Engine, clock: FrozenClock) -> Tenants:
    return build_tenants(engine, clock)


def _open_order(engine: Engine, clock: FrozenClock, tenants: Tenants, budget: str = "1200000.00") -> Order:
    return mkt.post_order(
        UnitOfWork(engine, clock),
        tenants.a.actors[FIRM],
        {
            "title": "园区巡检机器人采购",
            "category": "ict.iot",
            "budget": budget,
            "district": "海淀园",
            "deadline": clock.now().date() + timedelta(days=40),
        },
    )


def _match(session: Session, order_id: int, offer_id: int, clock: FrozenClock, days_ago: int = 0) -> None:
    session.add(
        Match(
            order_id=order_id,
            offer_id=offer_id,
            rank=1,
            score=0.9,
            engine_version="test",
            created_at=clock.now() - timedelta(days=days_ago),
        )
    )
    session.commit()


def test_open_orders_and_their_matches_are_the_buyers_own(
    engine: Engine, clock: FrozenClock, tenants: Tenants, session: Session
) -> None:
    firm, other = tenants.a.actors[FIRM], tenants.b.actors[FIRM]
    assert buyer.open_orders_total(session, firm) == (0, 0)  # the chain's order is awarded
    order = _open_order(engine, clock, tenants)
    assert order.id is not None
    session.rollback()  # a new snapshot: the order posted through its own unit of work
    assert buyer.open_orders_total(session, firm) == (1, 120_000_000)
    assert buyer.open_orders_total(session, tenants.a.actors[SME]) == (0, 0)
    _match(session, order.id, tenants.a.ids["offer"], clock)
    _match(session, order.id, tenants.a.ids["spare_offer"], clock, days_ago=10)
    _match(session, tenants.b.ids["order"], tenants.b.ids["offer"], clock)
    since = clock.now() - timedelta(days=7)
    assert buyer.new_matched_offer_count(session, firm, since) == 1
    assert buyer.new_matched_offer_count(session, other, since) == 0  # its order is awarded, no longer open
    wanted = [order.id, tenants.a.ids["order"], tenants.b.ids["order"]]
    assert buyer.match_counts(session, firm, wanted) == {order.id: 2}
    assert buyer.match_counts(session, other, wanted) == {tenants.b.ids["order"]: 1}
    assert buyer.match_counts(session, firm, []) == {}


def test_ranked_offers_decisions_and_the_shortlist(
    engine: Engine, clock: FrozenClock, tenants: Tenants, session: Session
) -> None:
    firm, other = tenants.a.actors[FIRM], tenants.b.actors[FIRM]
    order = _open_order(engine, clock, tenants)
    assert order.id is not None
    offer, spare, foreign = tenants.a.ids["offer"], tenants.a.ids["spare_offer"], tenants.b.ids["offer"]
    found = buyer.offers_with_suppliers(session, firm, [offer, foreign, 987654])
    assert set(found) == {offer, foreign}  # every active offer is open to a buyer
    assert found[offer][1].id == tenants.a.org_id(SME)
    withdrawn = session.get(Offer, spare)
    assert withdrawn is not None
    withdrawn.status = OfferStatus.WITHDRAWN
    session.add(withdrawn)
    session.commit()
    assert buyer.offers_with_suppliers(session, firm, [spare]) == {}
    withdrawn.status = OfferStatus.ACTIVE
    session.add(withdrawn)
    session.commit()

    mkt.shortlist(UnitOfWork(engine, clock), firm, order.id, offer)
    mkt.reject_offer(UnitOfWork(engine, clock), firm, order.id, spare)
    session.rollback()
    assert buyer.decisions_on_offers(session, firm, order.id, [offer, spare, foreign]) == {
        offer: InterestKind.SHORTLIST.value,
        spare: InterestKind.REJECTION.value,
    }
    assert buyer.decisions_on_offers(session, other, order.id, [offer, spare]) == {}
    assert [(o.id, name) for o, name in buyer.shortlisted_offers(session, firm, order.id)] == [
        (offer, found[offer][1].name)
    ]
    assert buyer.shortlisted_offers(session, other, order.id) == []
    assert buyer.shortlisted_offer(session, firm, order.id, offer)[0].id == offer
    for actor, offer_id in ((firm, spare), (other, offer)):
        with pytest.raises(NotFound):
            buyer.shortlisted_offer(session, actor, order.id, offer_id)


def test_intent_orders_and_contracts_where_the_actor_buys(
    engine: Engine, clock: FrozenClock, tenants: Tenants, session: Session
) -> None:
    firm, sme, other = tenants.a.actors[FIRM], tenants.a.actors[SME], tenants.b.actors[FIRM]
    order_id, offer_id = tenants.a.ids["order"], tenants.a.ids["offer"]
    intents = buyer.intent_orders_bought_by(session, firm, limit=10)
    assert [i.id for i in intents] == [tenants.a.ids["intent_order"]]
    assert buyer.intent_orders_bought_by(session, sme, limit=10) == []  # the supplier's side is not a buyer's
    on_order = buyer.intent_orders_on_order(session, firm, order_id)
    assert list(on_order) == [offer_id] and on_order[offer_id].id == tenants.a.ids["intent_order"]
    assert buyer.intent_orders_on_order(session, firm, order_id, [tenants.a.ids["spare_offer"]]) == {}
    assert buyer.intent_orders_on_order(session, other, order_id) == {}
    assert [c.id for c in buyer.contracts_bought_by(session, firm, limit=10)] == [tenants.a.ids["contract"]]
    assert buyer.contracts_bought_by(session, sme, limit=10) == []
    assert [c.id for c in buyer.contracts_bought_by(session, other, limit=10)] == [tenants.b.ids["contract"]]
    assert buyer.contracts_bought_by(session, firm, limit=0) == []
