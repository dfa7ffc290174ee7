"""market.queries (and the small account and report reads beside them): lists, counts and lookups read through
market.access, so a page, its total and a lookup by id agree on what an actor may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from accounts import queries as accounts
from market import queries
from market import service as mkt
from qianfan.errors import NotFound
from qianfan.models import Offer, OfferStatus, Order, OrgKind
from qianfan.uow import UnitOfWork
from reports.queries import audit_events_page
from tests.services.conftest import order_data
from tests.services.test_market_access import World, _build

NEWEST = (col(Order.id).desc(),)


@pytest.fixture
def world(engine: Engine, uow: Callable[[], UnitOfWork], make_org: Any, in_30_days: date) -> World:
    return _build(engine, uow, make_org, in_30_days)


def test_a_page_of_orders_and_its_total_agree_with_the_scope(engine: Engine, world: World) -> None:
    firm, sme = world.actors["A", OrgKind.LARGE_FIRM], world.actors["A", OrgKind.SME]
    with Session(engine) as s:
        rows, total = queries.orders_page(s, firm, queries.OrderFilters(), order_by=NEWEST, limit=10, offset=0)
        assert total == 1 and [o.id for o, _ in rows] == [world.rows["A", "order"]]
        rows, total = queries.orders_page(s, sme, queries.OrderFilters(), order_by=NEWEST, limit=1, offset=0)
        assert total == 2 and len(rows) == 1 and rows[0][0].id == world.rows["B", "order"]
        rows, total = queries.orders_page(
            s, sme, queries.OrderFilters(category="ict", min_budget_fen=1), order_by=NEWEST, limit=10, offset=0
        )
        assert total == 2  # a cluster code matches its categories
        found = queries.orders_with_buyers(s, firm, [world.rows["A", "order"], world.rows["B", "order"], 987654])
        assert list(found) == [world.rows["A", "order"]]
        order, buyer = queries.order_and_buyer_for(s, sme, world.rows["B", "order"])
        assert buyer == accounts.organisation_name(s, order.organisation_id)
        with pytest.raises(NotFound):
            queries.order_and_buyer_for(s, firm, world.rows["B", "order"])


def test_offers_as_a_buyer_and_as_their_seller_see_them(engine: Engine, world: World) -> None:
    firm, sme = world.actors["A", OrgKind.LARGE_FIRM], world.actors["A", OrgKind.SME]
    withdrawn = world.rows["A", "withdrawn_offer"]
    with Session(engine) as s:
        _, total = queries.offers_page(s, firm, queries.OfferFilters(), order_by=(col(Offer.id),), limit=10, offset=0)
        assert total == 2  # both chains' active offers
        gone = queries.OfferFilters(status=OfferStatus.WITHDRAWN)
        assert queries.offers_page(s, firm, gone, order_by=(col(Offer.id),), limit=10, offset=0) == ([], 0)
        rows, total = queries.offers_page(s, sme, gone, order_by=(col(Offer.id),), limit=10, offset=0)
        assert total == 1 and rows[0][0].id == withdrawn
        assert list(queries.offers_with_sellers(s, firm, [withdrawn])) == []
        with pytest.raises(NotFound) as refused:
            queries.offer_and_seller_for(s, firm, withdrawn, what=("供给", "Offer"))
        assert refused.value.message_zh == f"供给不存在：{withdrawn}"
        mine = queries.offers_of(s, sme.organisation_id)
        assert [o.status for o in mine] == [OfferStatus.ACTIVE, OfferStatus.WITHDRAWN]
        assert [o.id for o in queries.offers_of(s, sme.organisation_id, active_only=True)] == [world.rows["A", "offer"]]


def test_deals_as_the_sme_reads_them(
    engine: Engine, world: World, uow: Callable[[], UnitOfWork], in_30_days: date
) -> None:
    firm, sme = world.actors["A", OrgKind.LARGE_FIRM], world.actors["A", OrgKind.SME]
    order_b = world.rows["B", "order"]
    with Session(engine) as s:
        assert queries.interested_order_count(s, sme) == 1
        interests = queries.interests_on_order_for(s, sme, world.rows["A", "order"])
        assert [i.kind.value for i, _ in interests] == ["interest", "shortlist"]
        assert queries.interests_on_order_for(s, sme, order_b) == []
        assert [i.id for i in queries.intent_orders_for(s, sme)] == [world.rows["A", "intent_order"]]
        assert [c.id for c in queries.contracts_supplied_by(s, sme)] == [world.rows["A", "contract"]]
        assert queries.contracts_supplied_by(s, firm) == []  # the firm is the buyer
        assert queries.supplier_intent_orders_on(s, sme, order_b) == []
        contracts = [world.rows["A", "contract"], world.rows["B", "contract"]]
        assert list(queries.contract_titles(s, sme, contracts)) == [world.rows["A", "contract"]]
        assert queries.intent_orders_awaiting_signature(s, sme) == 0
    # A second intent order proposed by the firm waits for the SME's signature, not for the firm's.
    second = mkt.post_order(uow(), firm, order_data(in_30_days, title="第二个订单"))
    mkt.propose_intent_order(
        uow(),
        firm,
        {"order_id": second.id, "offer_id": world.rows["A", "offer"], "amount": "1000.00", "delivery_due": in_30_days},
    )
    with Session(engine) as s:
        assert queries.intent_orders_awaiting_signature(s, sme) == 1
        assert queries.intent_orders_awaiting_signature(s, firm) == 0
        assert queries.intent_orders_awaiting_signature(s, world.actors["A", OrgKind.BANK]) == 0


def test_directory_names_and_the_audit_page(engine: Engine, world: World) -> None:
    sme = world.actors["A", OrgKind.SME]
    with Session(engine) as s:
        rows, total = accounts.organisations_page(s, accounts.OrganisationFilters(kind=OrgKind.SME), limit=1, offset=0)
        assert total == 2 and len(rows) == 1
        organisation, qualifications = accounts.organisation_with_qualifications(s, sme.organisation_id)
        assert [q.code for q in qualifications] == ["hnte"]
        assert accounts.organisation_names(s, [sme.organisation_id]) == {sme.organisation_id: organisation.name}
        assert accounts.organisation_names(s, []) == {}
        with pytest.raises(NotFound):
            accounts.organisation_with_qualifications(s, 987654)
        events, total = audit_events_page(s, limit=5, offset=0)
        assert len(events) <= 5 and total >= len(events)
        assert [e.seq for e in events] == sorted((e.seq for e in events), reverse=True)
