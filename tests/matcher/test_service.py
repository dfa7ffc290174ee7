"""The matcher's database use cases: the offer index store, stored matches, live rankings in every direction."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from market import service as mkt
from matcher import service as svc
from matcher import store as store_module
from matcher.explain import CLUSTER_SHARE, REASON_LABELS, REASON_WEIGHT
from matcher.index import FORMAT_VERSION, Document, MatchIndex
from matcher.rank import Filters, Query, Weights
from matcher.service import OfferIndexStore
from qianfan.actors import Actor
from qianfan.audit import verify_chain
from qianfan.clock import FrozenClock
from qianfan.errors import InvalidInput, NotFound, RuleViolation
from qianfan.models import AuditEvent, Contract, ContractStatus, Match, Offer, Order, OrgKind, OutboxEvent
from qianfan.uow import UnitOfWork
from tests.matcher.test_dense import FakeEmbedder
from tests.services.conftest import offer_data, order_data

HNTE = [{"code": "hnte", "valid_until": "2028-01-01"}]
EXPIRED_HNTE = [{"code": "hnte", "valid_until": "2026-10-31"}]  # the clock stands on 2026-11-02

MakeOrg = Callable[..., tuple[Any, Actor]]
NewUow = Callable[[], UnitOfWork]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    svc.clear_caches()  # corpora are cached per database URL; test databases reuse ids
    yield
    svc.clear_caches()


@pytest.fixture
def store(engine: Engine, clock: FrozenClock, tmp_path: Path) -> OfferIndexStore:
    return OfferIndexStore(engine, tmp_path / "offers", clock=clock, sync_interval=None)


class Market:
    """Organisations, orders and offers made through the marketplace use cases."""

    def __init__(self, engine: Engine, clock: FrozenClock, uow: NewUow, make_org: MakeOrg, deadline: Any) -> None:
        self.engine, self.clock, self.uow, self.make_org, self.deadline = engine, clock, uow, make_org, deadline
        _, self.firm = make_org(OrgKind.LARGE_FIRM)

    def sme(self, qualifications: list[dict[str, Any]] | None = None, **extra: Any) -> Actor:
        return self.make_org(OrgKind.SME, qualifications=qualifications, **extra)[1]

    def order(self, firm: Actor | None = None, **over: Any) -> Order:
        return mkt.post_order(self.uow(), firm or self.firm, order_data(self.deadline, **over))

    def offer(self, sme: Actor, **over: Any) -> Offer:
        return mkt.list_offer(self.uow(), sme, offer_data(**over))

    def rank(self, order: Order, store: OfferIndexStore, **kw: Any) -> svc.RankedPage:
        assert order.id is not None
        return svc.rank_offers_for_order(self.engine, self.clock, order.id, store=store, **kw)


@pytest.fixture
def market(engine: Engine, clock: FrozenClock, uow: NewUow, make_org: MakeOrg, in_30_days: Any) -> Market:
    return Market(engine, clock, uow, make_org, in_30_days)


def ids(page: svc.RankedPage) -> list[int]:
    return [item.id for item in page.items]


def stored(engine: Engine, order_id: int) -> list[tuple[int, int, int, float, str]]:
    with Session(engine) as s:
        rows = s.exec(select(Match).where(Match.order_id == order_id).order_by(Match.rank)).all()
        return [(r.id or 0, r.offer_id, r.rank, r.score, r.engine_version) for r in rows]


def count(engine: Engine, model: Any, **where: Any) -> int:
    with Session(engine) as s:
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return len(s.exec(stmt).all())


# ------------------------------------------------------------------------------------------------ the offer index


def test_an_indexed_offer_is_found_and_indexing_is_idempotent(market: Market, store: OfferIndexStore) -> None:
    order = market.order()
    assert len(store) == 0 and store.origin == "built"
    sme = market.sme(HNTE)
    offer = market.offer(sme)
    assert market.rank(order, store).total == 0  # not indexed yet (automatic sync is off in this store)

    assert offer.id is not None and store.index_offer(offer.id) is True
    page = market.rank(order, store)
    assert ids(page) == [offer.id]
    item = page.items[0]
    assert item.organisation_id == sme.organisation_id and item.title == offer.title
    assert item.score == pytest.approx(sum(item.contributions.values()))
    assert "大数据" in [term for term, _ in item.shared_terms] and "score" in item.why

    generation = store.get().generation
    assert store.index_offer(offer.id) is False  # the same state again changes nothing
    assert store.get().generation == generation


def test_an_edited_offer_is_reindexed(market: Market, store: OfferIndexStore) -> None:
    data_order = market.order()
    hvac_order = market.order(title="办公楼中央空调节能改造", description="合同能源管理", category="green.hvac")
    sme = market.sme(HNTE)
    offer = market.offer(sme)
    assert offer.id is not None
    store.index_offer(offer.id)
    assert ids(market.rank(data_order, store)) == [offer.id]

    mkt.edit_offer(
        market.uow(),
        sme,
        offer.id,
        {
            "title": "中央空调节能改造（合同能源管理）",
            "description": "冷站群控与节能改造",
            "category": "green.hvac",
            "keywords": ["节能改造"],
        },
    )
    assert store.index_offer(offer.id) is True
    assert offer.id not in ids(market.rank(data_order, store))
    assert ids(market.rank(hvac_order, store)) == [offer.id]
    [doc] = store.get().live_documents()
    assert doc.title == "中央空调节能改造（合同能源管理）" and doc.category == "green.hvac"


def test_a_withdrawn_offer_disappears(market: Market, store: OfferIndexStore) -> None:
    order = market.order()
    sme, other = market.sme(HNTE), market.sme(HNTE)
    gone = market.offer(sme)
    kept = market.offer(other, title="政务数据共享交换平台")
    store.get()
    assert gone.id is not None and set(ids(market.rank(order, store))) == {gone.id, kept.id}

    mkt.withdraw_offer(market.uow(), sme, gone.id)
    assert ids(market.rank(order, store)) == [kept.id]  # re-checked in the database before the index knows
    assert gone.id in store
    assert store.index_offer(gone.id) is True
    assert gone.id not in store and len(store) == 1
    assert store.index_offer(gone.id) is False
    assert store.index_offer(987_654) is False  # an offer that never existed: nothing to remove


def test_required_qualifications_are_a_hard_filter(market: Market, store: OfferIndexStore) -> None:
    order = market.order(required_qualifications=["hnte"])
    holder = market.sme(HNTE)
    lacking = market.sme()
    expired = market.sme(EXPIRED_HNTE)
    shown = market.offer(holder)
    market.offer(lacking, qualifications=[])
    market.offer(expired, qualifications=[])
    store.get()
    assert ids(market.rank(order, store)) == [shown.id]
    [doc] = [d for d in store.get().live_documents() if d.id == shown.id]
    assert doc.qualifications == ("hnte",) and doc.owner == holder.organisation_id

    # Without a requirement on the order every SME is shown; a filter brings the requirement back.
    open_order = market.order(required_qualifications=[])
    assert len(market.rank(open_order, store).items) == 3
    assert ids(market.rank(open_order, store, filters=Filters(qualifications=("hnte",)))) == [shown.id]

    # The holder's certificate expires after the offer was indexed: the search re-checks it on the clock's date.
    market.clock.set(market.clock.now() + timedelta(days=800))
    assert market.rank(order, store).total == 0


# ------------------------------------------------------------------------------------------------ stored matches


def _three_offers(market: Market) -> list[Offer]:
    return [
        market.offer(market.sme(HNTE)),
        market.offer(market.sme(HNTE), title="政务数据共享交换平台", category="ict.egov", keywords=["数据共享"]),
        market.offer(market.sme(HNTE), title="城市大数据中台", description="数据汇聚与治理", keywords=[]),
    ]


def test_match_order_stores_ranked_explained_rows_and_is_idempotent(
    market: Market, store: OfferIndexStore, engine: Engine
) -> None:
    order = market.order()
    offers = _three_offers(market)
    assert order.id is not None
    rows = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    assert [r.rank for r in rows] == [1, 2, 3]
    assert {r.offer_id for r in rows} == {o.id for o in offers}
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    version = rows[0].engine_version
    assert version.startswith(FORMAT_VERSION) and len(version) <= 64 and version == store.engine_version()
    for row in rows:
        assert set(row.explanation) == {"contributions", "shared_terms", "why", "folded", "features"}
        contributions = row.explanation["contributions"]
        for name, value in row.explanation["features"].items():  # raw values: contribution / weight used
            w = getattr(store.weights, name)  # (the "cluster" reason is a share of the category weight)
            reasons = sum(v for code, v in contributions.items() if REASON_WEIGHT.get(code, code) == name)
            assert value * w == pytest.approx(reasons, abs=1e-5)
        assert row.score == pytest.approx(sum(row.explanation["contributions"].values()), abs=1e-5)
        assert row.explanation["why"] and row.explanation["folded"] == []
    first = stored(engine, order.id)
    with Session(engine) as s:
        [event] = s.exec(select(OutboxEvent).where(OutboxEvent.topic == svc.ORDER_MATCHED)).all()
        assert event.payload == {
            "order_id": order.id,
            "offer_ids": [r.offer_id for r in rows],
            "engine_version": version,
        }
        [audit] = s.exec(select(AuditEvent).where(AuditEvent.action == "matched")).all()
        assert (audit.entity_type, audit.entity_id) == ("order", order.id)

    again = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    assert [(r.id, r.offer_id, r.rank, r.score) for r in again] == [(i, o, k, sc) for i, o, k, sc, _ in first]
    assert stored(engine, order.id) == first
    assert count(engine, OutboxEvent, topic=svc.ORDER_MATCHED) == 1  # the second run wrote nothing
    assert count(engine, AuditEvent, action="matched") == 1
    with Session(engine) as s:
        assert verify_chain(s).ok


def test_match_order_drops_rows_that_left_the_top(market: Market, store: OfferIndexStore, engine: Engine) -> None:
    order = market.order()
    offers = _three_offers(market)
    assert order.id is not None
    rows = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    best, *_ = rows
    owner = next(o for o in offers if o.id == best.offer_id)
    mkt.withdraw_offer(market.uow(), Actor(owner.organisation_id, OrgKind.SME), best.offer_id)
    store.index_offer(best.offer_id)

    rows = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    assert [r.rank for r in rows] == [1, 2] and best.offer_id not in {r.offer_id for r in rows}
    assert [(o, k) for _, o, k, _, _ in stored(engine, order.id)] == [(r.offer_id, r.rank) for r in rows]
    top1 = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store, top=1)
    assert [(r.offer_id, r.rank) for r in top1] == [(rows[0].offer_id, 1)]
    assert len(stored(engine, order.id)) == 1
    assert count(engine, OutboxEvent, topic=svc.ORDER_MATCHED) == 3


def test_match_order_refuses_closed_missing_and_foreign_orders(
    market: Market, store: OfferIndexStore, engine: Engine, make_org: MakeOrg
) -> None:
    order = market.order()
    assert order.id is not None
    _, stranger = make_org(OrgKind.LARGE_FIRM)
    with pytest.raises(NotFound):
        svc.match_order(UnitOfWork(engine, market.clock), stranger, order.id, store=store)
    with pytest.raises(NotFound):
        svc.match_order(UnitOfWork(engine, market.clock), None, 987_654, store=store)
    with pytest.raises(InvalidInput):
        svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store, top=0)
    assert svc.match_order(UnitOfWork(engine, market.clock), market.firm, order.id, store=store) == []
    mkt.close_order(market.uow(), market.firm, order.id)
    with pytest.raises(RuleViolation, match="only open orders"):
        svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    assert count(engine, OutboxEvent, topic=svc.ORDER_MATCHED) == 0


def test_concurrent_matchers_of_one_order_store_one_set_of_rows(
    market: Market, store: OfferIndexStore, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("races are decided by row locks on PostgreSQL")
    order = market.order()
    _three_offers(market)
    store.get()
    assert order.id is not None
    order_id = order.id
    barrier = threading.Barrier(4)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(
                [r.offer_id for r in svc.match_order(UnitOfWork(engine, market.clock), None, order_id, store=store)]
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 4 and all(r == results[0] for r in results)
    assert [k for _, _, k, _, _ in stored(engine, order_id)] == [1, 2, 3]
    assert count(engine, OutboxEvent, topic=svc.ORDER_MATCHED) == 1


# ------------------------------------------------------------------------------------------------ live rankings


def test_filters_and_pagination(market: Market, store: OfferIndexStore) -> None:
    order = market.order(required_qualifications=[])
    haidian = [market.sme(HNTE) for _ in range(3)]
    changping = [market.sme(HNTE, district="昌平园") for _ in range(2)]
    offers = [
        market.offer(haidian[0], price_min="800000", price_max="3000000"),
        market.offer(haidian[1], title="政务数据共享交换平台", category="ict.egov", price_min="200000"),
        market.offer(
            haidian[2], title="智慧城市政务云平台", category="ict.cloud", price_min="5000000", price_max="9000000"
        ),
        market.offer(changping[0], title="数据中台建设与数据治理咨询", price_min="300000"),
        market.offer(changping[1], title="政务数据安全防护系统", category="ict.security", price_min="400000"),
    ]
    by_id = {o.id: o for o in offers}
    store.get()
    full = market.rank(order, store)
    assert full.total == 5 and set(ids(full)) == set(by_id)

    pages = [market.rank(order, store, offset=offset, limit=2) for offset in (0, 2, 4)]
    assert [len(p.items) for p in pages] == [2, 2, 1] and all(p.total == 5 for p in pages)
    assert [i for p in pages for i in ids(p)] == ids(full)
    assert pages[0].has_more and not pages[2].has_more
    assert market.rank(order, store, offset=10).items == []

    egov = market.rank(order, store, filters=Filters(categories=("ict.egov",)))
    assert ids(egov) == [offers[1].id]
    in_changping = market.rank(order, store, filters=Filters(districts=("昌平园",)))
    assert set(ids(in_changping)) == {offers[3].id, offers[4].id}
    affordable = market.rank(order, store, filters=Filters(max_price_fen=100_000_000))  # 1,000,000.00 yuan
    assert set(ids(affordable)) == set(by_id) - {offers[2].id}
    both = market.rank(order, store, filters=Filters(categories=("ict.bigdata",), districts=("海淀园",)))
    assert ids(both) == [offers[0].id]

    for bad in ({"offset": -1}, {"limit": 0}, {"limit": svc.MAX_PAGE + 1}):
        with pytest.raises(InvalidInput):
            market.rank(order, store, **bad)


def test_near_duplicate_offers_of_one_sme_are_folded(market: Market, store: OfferIndexStore, engine: Engine) -> None:
    order = market.order()
    sme, rival = market.sme(HNTE), market.sme(HNTE)
    v5 = market.offer(sme)
    v6 = market.offer(sme, title="政务大数据治理平台 V6")
    other = market.offer(rival, title="政务数据共享交换平台")
    store.get()
    page = market.rank(order, store)
    assert page.total == 2 and other.id in ids(page)
    [folding] = [i for i in page.items if i.organisation_id == sme.organisation_id]
    assert {folding.id, *folding.folded} == {v5.id, v6.id} and len(folding.folded) == 1
    assert order.id is not None
    rows = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
    assert len(rows) == 2
    assert [r.explanation["folded"] for r in rows if r.offer_id == folding.id] == [folding.folded]

    # A folded offer that was withdrawn meanwhile is no longer listed under the one shown.
    mkt.withdraw_offer(market.uow(), sme, folding.folded[0])
    [again] = [i for i in market.rank(order, store).items if i.id == folding.id]
    assert again.folded == []


def test_live_offer_ranking_checks_the_owner(market: Market, store: OfferIndexStore, make_org: MakeOrg) -> None:
    order = market.order()
    market.offer(market.sme(HNTE))
    _, stranger = make_org(OrgKind.LARGE_FIRM)
    with pytest.raises(NotFound) as err:
        market.rank(order, store, actor=stranger)
    assert err.value.message_en == f"Order not found: {order.id}"
    assert market.rank(order, store, actor=market.firm).total == 1
    with pytest.raises(NotFound):
        svc.rank_offers_for_order(market.engine, market.clock, 987_654, store=store)


def test_offer_to_orders_hides_orders_the_sme_cannot_serve(market: Market, make_org: MakeOrg) -> None:
    needs_hnte = market.order(title="数字政府大数据平台项目", required_qualifications=["hnte"])
    anyone = market.order(title="区级政务大数据治理项目", required_qualifications=[], budget="300000")
    unrelated = market.order(
        title="办公楼中央空调节能改造", description="合同能源管理", category="green.hvac", required_qualifications=[]
    )
    closed = market.order(title="政务大数据治理平台采购", required_qualifications=[])
    assert closed.id is not None and anyone.id is not None
    mkt.close_order(market.uow(), market.firm, closed.id)

    plain = market.sme()
    offer = market.offer(plain, qualifications=[])
    assert offer.id is not None

    def rank(offer_id: int, **kw: Any) -> svc.RankedPage:
        return svc.rank_orders_for_offer(market.engine, market.clock, offer_id, **kw)

    page = rank(offer.id, actor=plain)
    assert anyone.id in ids(page)
    assert needs_hnte.id not in ids(page) and closed.id not in ids(page)
    assert ids(page)[0] == anyone.id and unrelated.id not in ids(page)[:1]
    item = page.items[0]
    assert item.organisation_id == market.firm.organisation_id
    # The 300,000 yuan budget is below the offer's 800,000 minimum price: the budget feature gives nothing.
    assert item.contributions["budget"] == 0.0 and item.score == pytest.approx(sum(item.contributions.values()))

    certified = market.sme(HNTE)
    other_offer = market.offer(certified)
    assert other_offer.id is not None
    page = rank(other_offer.id)
    assert {needs_hnte.id, anyone.id} <= set(ids(page))
    top = next(i for i in page.items if i.id == needs_hnte.id)
    assert top.contributions["budget"] == pytest.approx(Weights().budget)  # 12.5 M covers the minimum price
    assert "budget" in top.why or "预算" in top.why

    # The cached index of open orders follows new, edited and closed orders.
    fresh = market.order(title="政务数据中台升级项目", required_qualifications=[])
    assert fresh.id in ids(rank(offer.id))
    mkt.edit_order(market.uow(), market.firm, anyone.id, {"title": "园区绿化养护服务", "description": "草坪与苗木养护"})
    edited = {i.id: i for i in rank(offer.id).items}
    assert ids(rank(offer.id))[0] == fresh.id
    assert anyone.id not in edited or edited[anyone.id].title == "园区绿化养护服务"  # the cache was rebuilt
    mkt.close_order(market.uow(), market.firm, fresh.id)
    assert fresh.id not in ids(rank(offer.id))

    assert ids(rank(offer.id, filters=Filters(categories=("green.hvac",)))) in ([], [unrelated.id])
    with pytest.raises(NotFound):
        rank(offer.id, actor=certified)  # another SME's offer
    with pytest.raises(NotFound):
        rank(987_654)


def test_need_to_packages_and_mentors(market: Market, make_org: MakeOrg) -> None:
    _, provider = make_org(OrgKind.SERVICE_PROVIDER, district="朝阳园")
    u = market.uow
    ip = mkt.publish_service_package(
        u(),
        provider,
        {
            "title": "知识产权贯标与专利布局服务包",
            "description": "专利挖掘、专利申请与知识产权管理体系贯标",
            "category": "services.consulting",
            "value": "50000",
        },
    )
    incubation = mkt.publish_service_package(
        u(),
        provider,
        {
            "title": "创业孵化加速营",
            "description": "办公空间、创业辅导与投融资对接",
            "category": "services.incubation",
            "value": "20000",
        },
    )
    lawyer = mkt.publish_mentor(
        u(),
        provider,
        {
            "name": "王知远",
            "headline": "知识产权律师，专注专利布局",
            "bio": "十五年专利诉讼与知识产权运营经验",
            "expertise": ["services.consulting"],
        },
    )
    founder = mkt.publish_mentor(
        u(),
        provider,
        {
            "name": "李创",
            "headline": "连续创业者，创业辅导与融资",
            "bio": "曾辅导创业企业做知识产权规划与股权融资",
            "expertise": ["services.incubation", "services.fintech"],
        },
    )
    engineer = mkt.publish_mentor(
        u(),
        provider,
        {
            "name": "赵研",
            "headline": "研发管理专家，专利与技术服务",
            "bio": "二十年研发外包与检验检测经验",
            "expertise": ["services.rnd"],
        },
    )
    sme = market.sme(HNTE)
    need = mkt.post_service_need(
        u(),
        sme,
        {
            "title": "专利布局与知识产权保护",
            "description": "需要专利申请和知识产权贯标服务",
            "category": "services.consulting",
            "budget": "80000",
        },
    )
    assert need.id is not None
    engine, clock = market.engine, market.clock

    packages = svc.rank_packages_for_need(engine, clock, need.id, actor=sme)
    assert ids(packages)[0] == ip.id
    first = packages.items[0]
    assert first.organisation_id == provider.organisation_id
    assert first.contributions["budget"] == pytest.approx(Weights().budget)  # 80,000 covers the 50,000 value
    assert first.contributions["category"] == pytest.approx(Weights().category)
    cheap = svc.rank_packages_for_need(engine, clock, need.id, filters=Filters(max_price_fen=3_000_000))
    assert ip.id not in ids(cheap) and set(ids(cheap)) <= {incubation.id}

    mentors = svc.rank_mentors_for_need(engine, clock, need.id, actor=sme)
    assert ids(mentors)[0] == lawyer.id
    by_id = {i.id: i for i in mentors.items}
    assert by_id[lawyer.id].title == "王知远：知识产权律师，专注专利布局"
    assert by_id[lawyer.id].contributions["category"] == pytest.approx(Weights().category)
    if (
        engineer.id in by_id
    ):  # same cluster (现代服务业): half the category weight, said as the cluster, not the category
        assert by_id[engineer.id].contributions["cluster"] == pytest.approx(Weights().category / 2)
        assert by_id[engineer.id].contributions["category"] == 0.0
    for item in mentors.items:
        assert item.score == pytest.approx(sum(item.contributions.values()))
    assert [i.score for i in mentors.items] == sorted((i.score for i in mentors.items), reverse=True)
    incubators = svc.rank_mentors_for_need(engine, clock, need.id, filters=Filters(categories=("services.incubation",)))
    assert ids(incubators) == [founder.id]

    stranger = market.sme(HNTE)
    with pytest.raises(NotFound):
        svc.rank_packages_for_need(engine, clock, need.id, actor=stranger)
    with pytest.raises(NotFound):
        svc.rank_mentors_for_need(engine, clock, need.id, actor=stranger)


# ------------------------------------------------------------------------------------------------ persistence


def _snapshot(directory: Path) -> Path:
    return directory / (directory / "CURRENT").read_text(encoding="utf-8")


def _results(market: Market, order: Order, store: OfferIndexStore) -> list[tuple[int, float]]:
    return [(i.id, i.score) for i in market.rank(order, store).items]


def _same(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> bool:
    return [i for i, _ in a] == [i for i, _ in b] and [s for _, s in a] == pytest.approx([s for _, s in b])


def test_store_saves_and_loads_round_trip(
    market: Market, store: OfferIndexStore, engine: Engine, clock: FrozenClock
) -> None:
    order = market.order()
    _three_offers(market)
    before = _results(market, order, store)
    assert store.origin == "built" and len(before) == 3
    snapshot = _snapshot(store.directory)
    assert (snapshot / "manifest.json").exists() and (snapshot / "source.json").exists()

    again = OfferIndexStore(engine, store.directory, clock=clock, sync_interval=None)
    assert _same(_results(market, order, again), before)
    assert again.origin == "loaded" and again.get().generation == store.get().generation

    late = market.offer(market.sme(HNTE), title="政务大数据可视化平台")  # listed by another process after the save
    third = OfferIndexStore(engine, store.directory, clock=clock, sync_interval=None)
    assert late.id in {i for i, _ in _results(market, order, third)}  # caught up once after loading
    assert third.origin == "loaded" and late.id not in again  # the earlier store does not sync on its own


@pytest.mark.parametrize("damage", ["garbage manifest", "outdated format", "other database", "missing", "pointer"])
def test_store_rebuilds_a_corrupt_or_outdated_directory(
    market: Market, store: OfferIndexStore, engine: Engine, clock: FrozenClock, damage: str
) -> None:
    order = market.order()
    _three_offers(market)
    before = _results(market, order, store)
    snapshot = _snapshot(store.directory)
    if damage == "garbage manifest":
        (snapshot / "manifest.json").write_text("{not json", encoding="utf-8")
    elif damage == "outdated format":
        manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
        manifest["format"] = "qianfan-matcher/0"
        (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    elif damage == "other database":
        (snapshot / "source.json").write_text(json.dumps({"database": "0" * 16}), encoding="utf-8")
    elif damage == "missing":
        shutil.rmtree(snapshot)
    else:
        (store.directory / "CURRENT").write_text("../../elsewhere", encoding="utf-8")

    rebuilt = OfferIndexStore(engine, store.directory, clock=clock, sync_interval=None)
    assert _same(_results(market, order, rebuilt), before)
    assert rebuilt.origin == "built"
    assert _snapshot(store.directory) != snapshot and (_snapshot(store.directory) / "manifest.json").exists()
    if damage in {"garbage manifest", "outdated format", "other database"}:
        assert not snapshot.exists()  # the unusable snapshot is cleaned up after the new one is saved
    assert OfferIndexStore(engine, store.directory, clock=clock, sync_interval=None).get() is not None


def test_refit_keeps_results_and_replays_offers_indexed_meanwhile(
    market: Market, store: OfferIndexStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = market.order()
    _three_offers(market)
    before = _results(market, order, store)
    generation, version, snapshot = store.get().generation, store.engine_version(), _snapshot(store.directory)

    assert store.refit() == 3
    assert _same(_results(market, order, store), before)
    assert store.get().generation > generation and store.engine_version() != version
    assert _snapshot(store.directory) != snapshot

    build = store._build
    late: list[Offer] = []

    def build_while_an_offer_arrives() -> Any:
        result = build()
        late.append(market.offer(market.sme(HNTE), title="政务大数据可视化平台"))
        assert late[0].id is not None and store.index_offer(late[0].id)  # lands in the old index, noted as dirty
        return result

    monkeypatch.setattr(store, "_build", build_while_an_offer_arrives)
    assert store.refit() == 4
    assert late[0].id in store and late[0].id in {i for i, _ in _results(market, order, store)}


def test_an_older_read_never_overwrites_a_newer_one(market: Market, store: OfferIndexStore) -> None:
    sme = market.sme(HNTE)
    offer = market.offer(sme)
    assert offer.id is not None
    store.get()
    mkt.edit_offer(market.uow(), sme, offer.id, {"title": "政务大数据治理平台 V6"})
    store.index_offer(offer.id)
    stale = store_module._OfferState(offer.id, 1, None)  # a withdrawal read at version 1, applied late
    assert store._apply([stale]) == 0
    assert offer.id in store and store.get().live_documents()[0].title == "政务大数据治理平台 V6"


def test_sync_catches_up_with_other_processes(
    market: Market, engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    order = market.order()
    syncing = OfferIndexStore(engine, tmp_path / "offers", clock=clock, sync_interval=0)
    assert len(syncing) == 0
    sme = market.sme(HNTE)
    offer = market.offer(sme)  # indexed by nobody: another process listed it
    assert ids(market.rank(order, syncing)) == [offer.id]
    assert offer.id is not None
    mkt.withdraw_offer(market.uow(), sme, offer.id)
    clock.advance(timedelta(hours=1))
    assert market.rank(order, syncing).total == 0 and offer.id not in syncing
    assert syncing.sync() == 0  # nothing new


# ------------------------------------------------------------------------------------------------ track record


def test_supplier_records_from_signed_and_delivered_deals(
    market: Market, store: OfferIndexStore, engine: Engine
) -> None:
    assert svc.record_score(0) == 0.0 and svc.record_score(3) == 0.5 and svc.record_score(9) == 0.75
    sme, newcomer = market.sme(HNTE), market.sme(HNTE)
    order = market.order()
    offer = market.offer(sme)
    assert order.id is not None and offer.id is not None
    intent = mkt.propose_intent_order(
        market.uow(),
        market.firm,
        {"order_id": order.id, "offer_id": offer.id, "amount": "900000", "delivery_due": market.deadline},
    )
    assert intent.id is not None
    mkt.sign_intent_order(market.uow(), sme, intent.id)
    with Session(engine) as s:
        assert svc.supplier_records(s, [sme.organisation_id, newcomer.organisation_id]) == {
            sme.organisation_id: 0.25,
            newcomer.organisation_id: 0.0,
        }
        contract = s.exec(select(Contract)).one()
        contract.status = ContractStatus.DELIVERED
        s.add(contract)
        s.commit()
        assert svc.supplier_records(s)[sme.organisation_id] == pytest.approx(0.4)  # signed + delivered: n = 2
    store.refit()
    [doc] = [d for d in store.get().live_documents() if d.id == offer.id]
    assert doc.record == pytest.approx(0.4)
    with pytest.raises(RuleViolation):  # the awarded order is no longer open
        svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)


# ------------------------------------------------------------------------------------------------ dense view


def test_dense_vectors_are_computed_off_the_lock_and_carried_over_by_refit(
    market: Market, engine: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    order = market.order()
    _three_offers(market)
    embedder = FakeEmbedder()
    dense = OfferIndexStore(engine, tmp_path / "dense", clock=clock, embedder=embedder, sync_interval=None)
    index = dense.get()
    assert index.dense is not None and index.dense.n_with_vectors == 0  # built lexical first, vectors pending
    assert dense.embed_pending() == 3 and dense.get().dense.n_with_vectors == 3  # type: ignore[union-attr]

    extra = market.offer(market.sme(HNTE), title="政务大数据可视化平台")
    assert extra.id is not None and dense.index_offer(extra.id)
    assert dense.get().pending_documents() == []  # index_offer embeds the new document at once

    embedded = embedder.texts_embedded
    dense.refit()
    assert embedder.texts_embedded == embedded  # no document embedded twice
    assert dense.get().dense.n_with_vectors == 4  # type: ignore[union-attr]
    assert "dense" in market.rank(order, dense).items[0].contributions

    loaded = OfferIndexStore(engine, dense.directory, clock=clock, embedder=embedder, sync_interval=None)
    assert loaded.get().dense.n_with_vectors == 4 and loaded.origin == "loaded"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ feedback


def test_buyer_feedback_becomes_examples_and_a_model_the_store_ranks_with(
    market: Market, store: OfferIndexStore, engine: Engine, tmp_path: Path
) -> None:
    """Shortlists and intent orders are positives, rejections negatives, on the pairs the matcher showed."""
    smes = [market.sme(HNTE, district=d) for d in ("海淀园", "昌平园", "海淀园", "亦庄园", "海淀园", "丰台园")]
    for i, sme in enumerate(smes):
        market.offer(sme, title=f"政务大数据治理平台 V{i}", price_min=f"{(i + 1) * 500000}")
    assert svc.retrain_feedback(UnitOfWork(engine, market.clock), store=store) is None  # no labels yet: defaults stay
    orders = [market.order(title=f"数字政府大数据平台项目（{n}期）") for n in range(6)]
    n_labels = 0
    for order in orders:
        assert order.id is not None
        rows = svc.match_order(UnitOfWork(engine, market.clock), None, order.id, store=store)
        for row in rows:
            decide = mkt.shortlist if row.explanation["contributions"].get("district") else mkt.reject_offer
            decide(market.uow(), market.firm, order.id, row.offer_id)
            n_labels += 1
    with Session(engine) as s:
        examples = svc.feedback_examples(s)
    assert len(examples) == n_labels == 36
    assert {e.label for e in examples} == {0, 1}
    assert sum(e.label for e in examples) == 18  # the three SMEs in the buyer's park were shortlisted

    model = svc.retrain_feedback(
        UnitOfWork(engine, market.clock), store=store, min_examples=20, min_per_class=5, min_queries=3
    )
    assert model is not None and model.n_examples == 36 and model.n_queries == 6
    assert store.weights == model.effective_weights
    saved = svc.load_feedback_model(store.directory)
    assert saved is not None and saved.to_json() == model.to_json()
    # A store opened on the same directory (another process) ranks with the saved weights.
    assert OfferIndexStore(engine, store.directory, clock=market.clock, sync_interval=None).weights == store.weights
    # The buyer only cared about the park: the learned weight of the park went up; but the defaults already put
    # every shortlisted offer above every rejected one, so there is no measured gain and the defaults stay.
    assert model.weights.district > Weights().district
    assert model.auc_default == 1.0 and not model.adopt and store.weights == Weights()


# ------------------------------------------------------------------------------------------------ one score per pair


def test_a_pair_has_one_score_and_one_explanation_whichever_side_looks(
    market: Market, store: OfferIndexStore, engine: Engine
) -> None:
    """The firm's ranked offers for its order and the SME's ranked orders for its offer agree on every shared pair.

    Before, offer → orders ranked in an index of the open orders (another corpus's idf, the offer as the query, no
    track record, the budget added afterwards), so the same pair scored differently with other reasons.
    """
    order = market.order()
    market.order(title="区级政务大数据治理项目", required_qualifications=[], budget="300000")
    offers = _three_offers(market)
    assert order.id is not None
    compared = 0
    for offer in offers:
        assert offer.id is not None
        from_order = {i.id: i for i in market.rank(order, store, limit=100).items}
        from_offer = {
            i.id: i for i in svc.rank_orders_for_offer(engine, market.clock, offer.id, store=store, limit=100).items
        }
        a, b = from_order.get(offer.id), from_offer.get(order.id)
        if a is None or b is None:
            continue
        assert b.score == a.score
        assert b.contributions == a.contributions
        assert b.why == a.why and b.shared_terms == a.shared_terms
        compared += 1
    assert compared >= 2


def test_a_shared_cluster_is_never_called_the_same_category() -> None:
    index = MatchIndex.fit(
        [
            Document(1, "工业互联网平台数据采集", category="ict.iiot"),
            Document(2, "物联网平台数据采集终端", category="ict.iot"),
            Document(3, "数据采集平台节能改造", category="green.hvac"),
        ]
    )
    query = Query("工业互联网数据采集平台", category="ict.iiot")
    by_id = {m.doc_id: m for m in index.search(query, 10)}
    same, cluster = by_id[1], by_id[2]
    assert same.contributions["category"] == pytest.approx(Weights().category) and "cluster" not in same.contributions
    assert cluster.contributions["category"] == 0.0
    assert cluster.contributions["cluster"] == pytest.approx(Weights().category * CLUSTER_SHARE)
    assert "同一行业集群 same industry cluster +0.075" in cluster.why
    assert "同一类别 same category +0.000" in cluster.why  # said with nothing, never with the cluster's share
    assert "cluster" not in by_id[3].contributions
    # The one table of labels covers every reason a match can carry.
    assert {f.name for f in dataclasses.fields(Weights)} | {"cluster"} == set(REASON_LABELS)
    assert REASON_LABELS["cluster"] == ("同一行业集群", "same industry cluster")
