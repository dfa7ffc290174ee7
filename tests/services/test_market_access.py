"""market.access: for each aggregate, what each kind of organisation may read — its own chain's rows and the other
chain's — as the condition says it (the ids a ``WHERE`` keeps) and as ``load_*_for`` answers (the row, or a
bilingual NotFound that does not disclose the row).  Runs on SQLite and on PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from market import access
from market import service as mkt
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    IntentOrder,
    Interest,
    Mentor,
    Offer,
    Order,
    Organisation,
    OrgKind,
    ServiceNeed,
    ServicePackage,
)
from qianfan.uow import UnitOfWork
from tests.services.conftest import offer_data, order_data

LF, SME, PROVIDER, BANK, OFFICE = (
    OrgKind.LARGE_FIRM,
    OrgKind.SME,
    OrgKind.SERVICE_PROVIDER,
    OrgKind.BANK,
    OrgKind.PROGRAMME_OFFICE,
)
CHAIN_KINDS = (LF, SME, PROVIDER, BANK)


@dataclass
class World:
    """Chains ``A`` and ``B`` (one organisation of each kind each), the office, and each chain's rows by name."""

    actors: dict[tuple[str, OrgKind], Actor] = field(default_factory=dict)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (chain, name) → id

    def viewers(self) -> list[tuple[str, Actor]]:
        """Chain A's organisations and the office (``"O"``): chain A's rows are theirs, chain B's foreign."""
        return [("A", self.actors["A", kind]) for kind in CHAIN_KINDS] + [("O", self.actors["O", OFFICE])]


def _build(engine: Engine, uow: Callable[[], UnitOfWork], make_org: Any, deadline: date) -> World:
    world = World()
    for chain in ("A", "B"):
        for kind in CHAIN_KINDS:
            quals = [{"code": "hnte"}] if kind is SME else []
            world.actors[chain, kind] = make_org(kind, quals)[1]
        firm, sme, provider = world.actors[chain, LF], world.actors[chain, SME], world.actors[chain, PROVIDER]
        order = mkt.post_order(uow(), firm, order_data(deadline))
        offer = mkt.list_offer(uow(), sme, offer_data())
        withdrawn = mkt.list_offer(uow(), sme, offer_data(title="已下架的产品"))
        mkt.withdraw_offer(uow(), sme, withdrawn.id)
        interest = mkt.express_interest(uow(), sme, order.id, offer.id, "意向")
        shortlist = mkt.shortlist(uow(), firm, order.id, offer.id, "入围")
        intent = mkt.propose_intent_order(
            uow(),
            firm,
            {"order_id": order.id, "offer_id": offer.id, "amount": "1000000.00", "delivery_due": deadline},
        )
        mkt.sign_intent_order(uow(), sme, intent.id)
        with Session(engine) as s:
            contract = mkt.contract_for(s, intent.id)
        assert contract is not None
        package = mkt.publish_service_package(
            uow(), provider, {"title": f"{chain}方服务包", "category": "ict.iot", "value": "50000.00"}
        )
        mentor = mkt.publish_mentor(
            uow(), provider, {"name": f"{chain}方导师", "headline": "导师", "expertise": ["ict.iot"]}
        )
        need = mkt.post_service_need(uow(), sme, {"title": f"{chain}方需求", "category": "ict.iot"})
        for name, row in {
            "order": order,
            "offer": offer,
            "withdrawn_offer": withdrawn,
            "interest": interest,
            "shortlist": shortlist,
            "intent_order": intent,
            "contract": contract,
            "package": package,
            "mentor": mentor,
            "need": need,
        }.items():
            assert row.id is not None
            world.rows[chain, name] = row.id
    world.actors["O", OFFICE] = make_org(OFFICE)[1]
    return world


def _own(viewer_chain: str, row_chain: str) -> bool:
    return viewer_chain == row_chain


#: Per aggregate: (model, its row names, its condition, its loader, who may read a row:
#: ``visible(viewer kind, own row?, row name)``).  This table is today's visibility, written once more by hand.
Rule = tuple[type[SQLModel], tuple[str, ...], Callable[[Actor], Any], Callable[..., Any], Callable[..., bool]]
RULES: dict[str, Rule] = {
    "order": (
        Order,
        ("order",),
        access.orders_visible_to,
        access.load_order_for,
        lambda kind, own, name: kind in (SME, PROVIDER, OFFICE) or (kind is LF and own),
    ),
    "offer": (
        Offer,
        ("offer", "withdrawn_offer"),
        access.offers_visible_to,
        access.load_offer_for,
        lambda kind, own, name: kind is OFFICE or (kind is SME and own) or (kind is LF and name == "offer"),
    ),
    "interest": (
        Interest,
        ("interest", "shortlist"),
        access.interests_visible_to,
        access.load_interest_for,
        lambda kind, own, name: kind is OFFICE or (kind in (SME, LF) and own),
    ),
    "intent_order": (
        IntentOrder,
        ("intent_order",),
        access.intent_orders_visible_to,
        access.load_intent_order_for,
        lambda kind, own, name: kind is OFFICE or (kind in (SME, LF) and own),
    ),
    "contract": (
        Contract,
        ("contract",),
        access.contracts_visible_to,
        access.load_contract_for,
        lambda kind, own, name: kind is OFFICE or (kind in (SME, LF) and own),
    ),
    "service_package": (
        ServicePackage,
        ("package",),
        access.service_packages_visible_to,
        access.load_service_package_for,
        lambda kind, own, name: True,
    ),
    "mentor": (
        Mentor,
        ("mentor",),
        access.mentors_visible_to,
        access.load_mentor_for,
        lambda kind, own, name: True,
    ),
    "service_need": (
        ServiceNeed,
        ("need",),
        access.service_needs_visible_to,
        access.load_service_need_for,
        lambda kind, own, name: kind in (PROVIDER, OFFICE) or (kind is SME and own),
    ),
}


@pytest.mark.parametrize("aggregate", sorted(RULES))
def test_each_kind_reads_exactly_its_own_and_the_shared_rows(
    aggregate: str, engine: Engine, uow: Callable[[], UnitOfWork], make_org: Any, in_30_days: date
) -> None:
    model, names, condition, load, visible = RULES[aggregate]
    world = _build(engine, uow, make_org, in_30_days)
    wrong: list[str] = []
    with Session(engine) as session:
        for viewer_chain, actor in world.viewers():
            kept = set(session.exec(select(col(model.id)).where(condition(actor))).all())  # type: ignore[attr-defined]
            for row_chain in ("A", "B"):
                for name in names:
                    ident = world.rows[row_chain, name]
                    own = _own(viewer_chain, row_chain)
                    expected = visible(actor.kind, own, name)
                    where = f"{actor.kind.value} reading {'own' if own else 'foreign'} {name} {ident}"
                    if (ident in kept) != expected:
                        wrong.append(f"condition: {where}: kept={ident in kept}, expected={expected}")
                    try:
                        row = load(session, actor, ident)
                        loaded = row.id == ident
                    except NotFound as exc:
                        loaded = False
                        assert str(ident) in exc.message_zh and str(ident) in exc.message_en
                    if loaded != expected:
                        wrong.append(f"load: {where}: loaded={loaded}, expected={expected}")
    assert wrong == []


def test_an_unknown_id_and_a_foreign_one_answer_alike(
    engine: Engine, uow: Callable[[], UnitOfWork], make_org: Any, in_30_days: date
) -> None:
    world = _build(engine, uow, make_org, in_30_days)
    firm = world.actors["A", LF]
    foreign = world.rows["B", "order"]
    with Session(engine) as session:
        with pytest.raises(NotFound) as missing:
            access.load_order_for(session, firm, 987654)
        with pytest.raises(NotFound) as hidden:
            access.load_order_for(session, firm, foreign)
        with pytest.raises(NotFound) as offer:
            access.load_offer_for(session, world.actors["A", SME], world.rows["B", "offer"], what=("供给", "Offer"))
    assert missing.value.message_zh == "订单不存在：987654"
    assert hidden.value.message_zh == f"订单不存在：{foreign}"
    assert hidden.value.message_en == f"Order not found: {foreign}"
    assert offer.value.message_zh == f"供给不存在：{world.rows['B', 'offer']}"


def test_a_bank_and_a_provider_read_no_deal_and_no_order_of_anyone(
    engine: Engine, uow: Callable[[], UnitOfWork], make_org: Any, in_30_days: date
) -> None:
    """The kinds a rule names nothing for get ``false``: a condition alone never discloses a row."""
    world = _build(engine, uow, make_org, in_30_days)
    with Session(engine) as session:
        bank = world.actors["A", BANK]
        for model, condition in (
            (Order, access.orders_visible_to),
            (Offer, access.offers_visible_to),
            (Interest, access.interests_visible_to),
            (IntentOrder, access.intent_orders_visible_to),
            (Contract, access.contracts_visible_to),
            (ServiceNeed, access.service_needs_visible_to),
        ):
            assert session.exec(select(model).where(condition(bank))).all() == []
        provider = world.actors["A", PROVIDER]
        assert session.exec(select(Contract).where(access.contracts_visible_to(provider))).all() == []
        assert session.exec(select(Organisation).where(col(Organisation.kind) == OFFICE)).one()
