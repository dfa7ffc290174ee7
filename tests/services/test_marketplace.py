from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from market import service as mkt
from qianfan.audit import verify_chain
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    Contract,
    IntentStatus,
    Interest,
    InterestKind,
    Offer,
    OfferStatus,
    Order,
    OrderStatus,
    OrgKind,
    OutboxEvent,
)
from qianfan.uow import UnitOfWork
from tests.services.conftest import offer_data, order_data

HNTE = [{"code": "hnte", "valid_until": "2028-01-01"}]


@pytest.fixture
def parties(make_org):  # type: ignore[no-untyped-def]
    _, firm = make_org(OrgKind.LARGE_FIRM)
    _, sme = make_org(OrgKind.SME, qualifications=HNTE)
    _, other_sme = make_org(OrgKind.SME)
    return firm, sme, other_sme


def test_post_order_stores_fen_and_publishes(uow, parties, in_30_days, engine) -> None:  # type: ignore[no-untyped-def]
    firm, _, _ = parties
    order = mkt.post_order(uow(), firm, order_data(in_30_days, budget="12500000.01"))
    with Session(engine) as s:
        stored = s.get(Order, order.id)
        assert stored is not None and stored.budget_fen == 1_250_000_001
        assert isinstance(stored.budget_fen, int)
        assert stored.status is OrderStatus.OPEN and stored.created_at.tzinfo is not None
        assert [e.payload for e in s.exec(select(OutboxEvent).where(OutboxEvent.topic == "order.posted"))] == [
            {"order_id": order.id}
        ]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"budget": "-5"}, "负数"),
        ({"budget": "0"}, "大于零"),
        ({"budget": "100.001"}, "分"),
        ({"budget": 1.5}, "浮点"),
        ({"title": ""}, "标题不能为空"),
        ({"title": "订" * 201}, "过长"),
        ({"description": "述" * 5001}, "过长"),
        ({"category": "ict.quantum-teleport"}, "未知的类别"),
        ({"required_qualifications": ["nobel"]}, "未知的资质"),
    ],
)
def test_bad_order_input_refused(uow, parties, in_30_days, engine, override, fragment) -> None:  # type: ignore[no-untyped-def]
    firm, _, _ = parties
    with pytest.raises(InvalidInput) as err:
        mkt.post_order(uow(), firm, order_data(in_30_days, **override))
    assert fragment in str(err.value)
    with Session(engine) as s:
        assert s.exec(select(Order)).all() == []


def test_only_large_firms_post_orders_and_deadline_in_future(uow, parties, clock) -> None:  # type: ignore[no-untyped-def]
    firm, sme, _ = parties
    with pytest.raises(PermissionDenied):
        mkt.post_order(uow(), sme, order_data(clock.now().date() + timedelta(days=3)))
    with pytest.raises(RuleViolation, match="晚于今天"):
        mkt.post_order(uow(), firm, order_data(clock.now().date()))


def test_edit_with_version_and_ownership(uow, parties, in_30_days, make_org) -> None:  # type: ignore[no-untyped-def]
    firm, _, _ = parties
    order = mkt.post_order(uow(), firm, order_data(in_30_days))
    edited = mkt.edit_order(uow(), firm, order.id, {"budget": "99.99", "title": "新标题"}, expected_version=1)
    assert (edited.budget_fen, edited.title, edited.version) == (9999, "新标题", 2)
    with pytest.raises(Conflict, match="版本"):
        mkt.edit_order(uow(), firm, order.id, {"title": "x"}, expected_version=1)
    _, other_firm = make_org(OrgKind.LARGE_FIRM)
    with pytest.raises(NotFound):  # another firm's order does not exist for it
        mkt.edit_order(uow(), other_firm, order.id, {"title": "hijack"})
    closed = mkt.close_order(uow(), firm, order.id)
    assert closed.status is OrderStatus.CLOSED
    assert mkt.close_order(uow(), firm, order.id).version == closed.version  # idempotent
    with pytest.raises(RuleViolation):
        mkt.edit_order(uow(), firm, order.id, {"title": "too late"})


def test_offer_rules(uow, parties, engine) -> None:  # type: ignore[no-untyped-def]
    _, sme, other_sme = parties
    offer = mkt.list_offer(uow(), sme, offer_data())
    assert (offer.price_min_fen, offer.price_max_fen) == (80_000_000, 300_000_050)
    with pytest.raises(InvalidInput, match="最低价"):
        mkt.list_offer(uow(), sme, offer_data(price_min="10", price_max="9.99"))
    with pytest.raises(InvalidInput):
        mkt.list_offer(uow(), sme, offer_data(capacity=0))
    with pytest.raises(RuleViolation, match="hnte"):  # cannot claim a qualification it does not hold
        mkt.list_offer(uow(), other_sme, offer_data())
    with pytest.raises(RuleViolation, match="最低价"):
        mkt.edit_offer(uow(), sme, offer.id, {"price_min": "5000000"})
    edited = mkt.edit_offer(uow(), sme, offer.id, {"keywords": ["数据", "数据", "治理"]})
    assert edited.keywords == ["数据", "治理"]
    with pytest.raises(NotFound):
        mkt.withdraw_offer(uow(), other_sme, offer.id)
    assert mkt.withdraw_offer(uow(), sme, offer.id).status is OfferStatus.WITHDRAWN
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status is OfferStatus.WITHDRAWN  # type: ignore[union-attr]


def test_expired_qualification_cannot_be_claimed(uow, make_org, clock) -> None:  # type: ignore[no-untyped-def]
    _, sme = make_org(OrgKind.SME, qualifications=[{"code": "hnte", "valid_until": "2026-01-01"}])
    with pytest.raises(RuleViolation, match="过期"):
        mkt.list_offer(uow(), sme, offer_data())


def test_service_listings(uow, make_org, parties) -> None:  # type: ignore[no-untyped-def]
    _, provider = make_org(OrgKind.SERVICE_PROVIDER)
    _, sme, _ = parties
    pkg = mkt.publish_service_package(
        uow(), provider, {"title": "知识产权托管服务包", "category": "services.consulting", "value": "50000"}
    )
    assert pkg.value_fen == 5_000_000
    mentor = mkt.publish_mentor(
        uow(),
        provider,
        {"name": "王老师", "headline": "连续创业者", "expertise": ["ai.nlp", "services.fintech"]},
    )
    assert mentor.expertise == ["ai.nlp", "services.fintech"]
    need = mkt.post_service_need(uow(), sme, {"title": "申请高新技术企业认定辅导", "category": "services.consulting"})
    assert need.budget_fen is None
    with pytest.raises(PermissionDenied):
        mkt.publish_service_package(uow(), sme, {"title": "x", "category": "services.hr", "value": "1"})
    with pytest.raises(InvalidInput):
        mkt.publish_mentor(uow(), provider, {"name": "无专长", "headline": "x", "expertise": []})


def test_interest_shortlist_rejection(uow, parties, in_30_days, engine) -> None:  # type: ignore[no-untyped-def]
    firm, sme, other_sme = parties
    order = mkt.post_order(uow(), firm, order_data(in_30_days))
    offer = mkt.list_offer(uow(), sme, offer_data())
    first = mkt.express_interest(uow(), sme, order.id, offer.id, "我们做过三个同类项目")
    assert mkt.express_interest(uow(), sme, order.id, offer.id).id == first.id  # idempotent
    with pytest.raises(NotFound):
        mkt.express_interest(uow(), other_sme, order.id, offer.id)
    mkt.shortlist(uow(), firm, order.id, offer.id)
    mkt.reject_offer(uow(), firm, order.id, offer.id, "预算不符")
    with Session(engine) as s:
        kinds = sorted(i.kind for i in s.exec(select(Interest)).all())
    assert kinds == sorted([InterestKind.INTEREST, InterestKind.REJECTION])  # rejection replaced the shortlist


def test_the_buyers_note_is_its_own_and_the_message_is_the_suppliers(  # type: ignore[no-untyped-def]
    uow, parties, in_30_days, engine
) -> None:
    firm, sme, other_sme = parties
    order = mkt.post_order(uow(), firm, order_data(in_30_days))
    offer = mkt.list_offer(uow(), sme, offer_data())
    row = mkt.shortlist(uow(), firm, order.id, offer.id, " 报价偏高，内部再议 ", " 请补充近三年案例 ")
    assert (row.note, row.message_to_supplier) == ("报价偏高，内部再议", "请补充近三年案例")
    assert mkt.note_visible_to(row, firm.organisation_id)
    assert not mkt.note_visible_to(row, sme.organisation_id)
    with Session(engine) as s:
        seen = mkt.interests_on_offer(s, sme, offer.id)
        assert [(i.kind, i.message_to_supplier) for i in seen] == [(InterestKind.SHORTLIST, "请补充近三年案例")]
        with pytest.raises(NotFound):  # another SME's offer
            mkt.interests_on_offer(s, other_sme, offer.id)
        with pytest.raises(PermissionDenied):
            mkt.interests_on_offer(s, firm, offer.id)
    ruled_out = mkt.reject_offer(uow(), firm, order.id, offer.id, "不考虑")
    assert ruled_out.message_to_supplier == "" and ruled_out.note == "不考虑"


def test_intent_order_to_contract(uow, parties, in_30_days, engine, make_org) -> None:  # type: ignore[no-untyped-def]
    firm, sme, other_sme = parties
    order = mkt.post_order(uow(), firm, order_data(in_30_days))
    offer = mkt.list_offer(uow(), sme, offer_data())
    intent = mkt.propose_intent_order(
        uow(),
        firm,
        {"order_id": order.id, "offer_id": offer.id, "amount": "11800000", "delivery_due": in_30_days},
    )
    assert intent.status is IntentStatus.PROPOSED and intent.buyer_signed_at is not None
    with pytest.raises(Conflict, match="已有意向订单"):
        mkt.propose_intent_order(
            uow(),
            sme,
            {"order_id": order.id, "offer_id": offer.id, "amount": "1", "delivery_due": in_30_days},
        )
    with pytest.raises(Conflict, match="买方已签署"):
        mkt.sign_intent_order(uow(), firm, intent.id)
    with pytest.raises(NotFound):
        mkt.sign_intent_order(uow(), other_sme, intent.id)
    signed = mkt.sign_intent_order(uow(), sme, intent.id)
    assert signed.status is IntentStatus.SIGNED
    with Session(engine) as s:
        contract = mkt.contract_for(s, intent.id)
        assert contract is not None and contract.amount_fen == 1_180_000_000
        assert s.get(Order, order.id).status is OrderStatus.AWARDED  # type: ignore[union-attr]
        report = verify_chain(s)
        assert report.ok and report.checked == 3  # proposed, signed, contract created
    with pytest.raises(RuleViolation):
        mkt.cancel_intent_order(uow(), firm, intent.id)


def test_rollback_drops_events(uow, parties, in_30_days, engine) -> None:  # type: ignore[no-untyped-def]
    firm, _, _ = parties
    with pytest.raises(InvalidInput):
        mkt.post_order(uow(), firm, order_data(in_30_days, budget="-1"))
    with Session(engine) as s:
        assert s.exec(select(OutboxEvent).where(OutboxEvent.topic == "order.posted")).all() == []


@pytest.mark.postgres
def test_concurrent_signatures_make_one_contract(pg_engine, clock, make_org) -> None:  # type: ignore[no-untyped-def]
    """Buyer and supplier race to sign the same proposal many times: exactly one contract."""
    from accounts import organisations as orgs
    from qianfan.actors import Actor
    from tests.services.conftest import credit_code

    def org(kind, n, quals=()):  # type: ignore[no-untyped-def]
        o = orgs.register_organisation(
            UnitOfWork(pg_engine, clock),
            {
                "kind": kind,
                "name": f"并发测试{n}",
                "credit_code": credit_code(5000 + n),
                "district": "海淀园",
                "qualifications": list(quals),
            },
        )
        return Actor.system(o)

    firm, sme = org("large_firm", 1), org("sme", 2, HNTE)
    due = (clock.now() + timedelta(days=20)).date()
    order = mkt.post_order(UnitOfWork(pg_engine, clock), firm, order_data(due))
    offer = mkt.list_offer(UnitOfWork(pg_engine, clock), sme, offer_data())
    intent = mkt.propose_intent_order(
        UnitOfWork(pg_engine, clock),
        firm,
        {"order_id": order.id, "offer_id": offer.id, "amount": "100", "delivery_due": due},
    )
    results: list[str] = []
    barrier = threading.Barrier(8)

    def sign() -> None:
        barrier.wait()
        try:
            mkt.sign_intent_order(UnitOfWork(pg_engine, clock), sme, intent.id)
            results.append("ok")
        except (RuleViolation, Conflict) as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=sign) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    with Session(pg_engine) as s:
        assert len(s.exec(select(Contract)).all()) == 1
        assert verify_chain(s).ok
