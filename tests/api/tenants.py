"""Two tenants side by side, built through the real use cases: chain A and chain B, each with a large firm, an
SME, a bank (reviewer + approver), a service provider, and one of everything — order, offer, interest, intent
order, contract, receivable (confirmed), finance application, loan, service package, mentor, service need — plus
the programme office.  Every private text of chain B carries the marker ``乙方机密``, so a response that leaks it
is caught by a plain substring search."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import organisations as orgs
from finance import service as fs
from market import service as mkt
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import Loan, Organisation, OrgKind, ReceivablePart, UserRole
from qianfan.uow import UnitOfWork
from tests.services.conftest import credit_code

PASSWORD = "Tenant-pass-2026"
FOREIGN_MARKER = "乙方机密"
_n = itertools.count(7000)

#: The kinds of organisation each chain has, in the order users are named.
KINDS = (OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.BANK, OrgKind.SERVICE_PROVIDER)


@dataclass
class Chain:
    """One tenant's organisations (by kind), their users (username by kind) and record ids (by name)."""

    name: str
    actors: dict[OrgKind, Actor] = field(default_factory=dict)
    usernames: dict[OrgKind, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def org_id(self, kind: OrgKind) -> int:
        return self.actors[kind].organisation_id


@dataclass
class Tenants:
    a: Chain
    b: Chain
    office: Actor
    office_username: str


def _org(engine: Engine, clock: FrozenClock, kind: OrgKind, chain: str, roles: list[UserRole]) -> list[Actor]:
    n = next(_n)
    label = {OrgKind.LARGE_FIRM: "集团", OrgKind.SME: "科技", OrgKind.BANK: "银行", OrgKind.SERVICE_PROVIDER: "孵化器"}
    org: Organisation = orgs.register_organisation(
        UnitOfWork(engine, clock),
        {
            "kind": kind,
            "name": f"租户{chain}{label.get(kind, '管委会')}{n}有限公司",
            "credit_code": credit_code(n),
            "district": "海淀园",
            "cluster": "ict",
        },
    )
    actors = []
    for i, role in enumerate(roles):
        user = orgs.add_user(
            UnitOfWork(engine, clock),
            org.id,
            {
                "username": f"t{chain.lower()}{kind.value.replace('_', '')}{i}",
                "display_name": f"{chain}{i}",
                "role": role,
                "password": PASSWORD,
            },
        )
        actors.append(Actor.for_user(user, org))
    return actors


def _chain(engine: Engine, clock: FrozenClock, name: str) -> Chain:
    """One tenant's whole flow, from an order to a disbursed loan."""

    def uow() -> UnitOfWork:
        return UnitOfWork(engine, clock)

    secret = FOREIGN_MARKER if name == "B" else "甲方"
    chain = Chain(name)
    for kind in KINDS:
        roles = [UserRole.ADMIN, UserRole.REVIEWER] if kind == OrgKind.BANK else [UserRole.ADMIN]
        actors = _org(engine, clock, kind, name, roles)
        chain.actors[kind] = actors[0]
        # The bank's viewer is its reviewer (who reviews and disburses); the others are admins.
        chain.usernames[kind] = f"t{name.lower()}{kind.value.replace('_', '')}{len(actors) - 1}"
    firm, sme, bank, provider = (chain.actors[k] for k in KINDS)
    today = clock.now().date()

    order = mkt.post_order(
        uow(),
        firm,
        {
            "title": f"{secret}智慧道路巡检系统采购",
            "category": "ict.iot",
            "budget": "2000000.00",
            "district": "海淀园",
            "deadline": today + timedelta(days=60),
        },
    )
    offer = mkt.list_offer(
        uow(),
        sme,
        {
            "title": f"{secret}道路巡检AI识别平台",
            "category": "ict.iot",
            "price_min": "500000.00",
            "price_max": "3000000.00",
            "capacity": 10,
            "keywords": ["巡检"],
        },
    )
    spare_offer = mkt.list_offer(
        uow(),
        sme,
        {
            "title": f"{secret}边缘计算网关",
            "category": "ict.iot",
            "price_min": "10000.00",
            "price_max": "50000.00",
            "capacity": 100,
        },
    )
    mkt.express_interest(uow(), sme, order.id, offer.id, f"{secret}意向说明")
    intent = mkt.propose_intent_order(
        uow(),
        firm,
        {
            "order_id": order.id,
            "offer_id": offer.id,
            "amount": "1800000.00",
            "delivery_due": today + timedelta(days=30),
            "terms": f"{secret}条款",
        },
    )
    mkt.sign_intent_order(uow(), sme, intent.id)
    with Session(engine) as s:
        contract = mkt.contract_for(s, intent.id)
    assert contract is not None and contract.id is not None

    receivable = fs.register_receivable(
        uow(),
        sme,
        {
            "title": f"{secret}巡检系统第一期货款",
            "contract_id": contract.id,
            "face": "1000000.00",
            "issue_date": today,
            "due_date": today + timedelta(days=90),
        },
    )
    fs.confirm_receivable(uow(), firm, {"receivable_id": receivable.id, "irrevocable_undertaking": True})
    spare = fs.register_receivable(
        uow(),
        sme,
        {
            "title": f"{secret}巡检系统第二期货款",
            "contract_id": contract.id,
            "face": "500000.00",
            "issue_date": today,
            "due_date": today + timedelta(days=90),
        },
    )
    fs.confirm_receivable(uow(), firm, {"receivable_id": spare.id, "irrevocable_undertaking": True})

    product = fs.create_product(
        uow(),
        bank,
        {
            "code": f"RF{name}",
            "name": f"{name}方应收账款融资",  # the product catalogue is public
            "advance_rate": "0.9",
            "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300},
        },
    )
    fs.set_credit_line(uow(), bank, firm.organisation_id, "50000000.00")
    with Session(engine) as s:
        part = s.exec(select(ReceivablePart).where(ReceivablePart.receivable_id == receivable.id)).one()
        spare_part = s.exec(select(ReceivablePart).where(ReceivablePart.receivable_id == spare.id)).one()
    reviewer = _reviewer(engine, bank)
    app = fs.apply_for_finance(uow(), sme, {"part_id": part.id, "bank_id": bank.organisation_id, "amount": "800000.00"})
    fs.run_risk_check(uow(), app.id)
    app = fs.approve(uow(), reviewer, app.id)
    fs.sign_offer(uow(), sme, app.id, fs.terms_hash(app.offer_terms))
    loan = fs.disburse(uow(), reviewer, app.id, f"disb-{name}-{app.id}")
    # A second application still in review (for the bank's review actions).
    pending = fs.apply_for_finance(
        uow(), sme, {"part_id": spare_part.id, "bank_id": bank.organisation_id, "amount": "400000.00"}
    )
    fs.run_risk_check(uow(), pending.id)

    package = mkt.publish_service_package(
        uow(),
        provider,
        {
            "title": f"{name}方知识产权服务包",
            "category": "ict.iot",
            "value": "50000.00",
        },
    )
    mentor = mkt.publish_mentor(
        uow(),
        provider,
        {
            "name": f"{name}方导师",
            "headline": "物联网创业导师",
            "expertise": ["ict.iot"],
        },
    )
    need = mkt.post_service_need(
        uow(),
        sme,
        {
            "title": f"{secret}专利申请服务需求",
            "category": "ict.iot",
            "budget": "30000.00",
        },
    )
    with Session(engine) as s:
        loan_row = s.exec(select(Loan).where(Loan.application_id == app.id)).one()
    statement = fs.import_statement(  # one row of no known contract: nothing is paid
        uow(), firm, f"{secret}对账单.csv", [{"交易日期": today.isoformat(), "贷方金额": "1.00", "摘要": f"{secret}"}]
    )
    chain.ids.update(
        order=order.id,
        offer=offer.id,
        spare_offer=spare_offer.id,
        intent_order=intent.id,
        contract=contract.id,
        receivable=receivable.id,
        spare_receivable=spare.id,
        part=part.id,
        spare_part=spare_part.id,
        product=product.id,
        application=app.id,
        pending_application=pending.id,
        loan=loan_row.id,
        package=package.id,
        mentor=mentor.id,
        need=need.id,
        statement=statement.statement.id or 0,
        large_firm_org=firm.organisation_id,
        sme_org=sme.organisation_id,
        bank_org=bank.organisation_id,
    )
    assert loan.id == loan_row.id
    return chain


def _reviewer(engine: Engine, bank: Actor) -> Actor:
    from qianfan.models import User

    with Session(engine) as s:
        user = s.exec(
            select(User).where(User.organisation_id == bank.organisation_id, User.role == UserRole.REVIEWER)
        ).one()
        org = s.get(Organisation, bank.organisation_id)
        assert org is not None
        return Actor.for_user(user, org)


def build_tenants(engine: Engine, clock: FrozenClock) -> Tenants:
    a = _chain(engine, clock, "A")
    b = _chain(engine, clock, "B")
    (office,) = _org(engine, clock, OrgKind.PROGRAMME_OFFICE, "O", [UserRole.ADMIN])
    return Tenants(a, b, office, "toprogrammeoffice0")


def bank_admin(tenants: Tenants) -> str:
    """Chain A's bank administrator (products, credit lines), beside its reviewer (the bank viewer)."""
    return "tabank0"


def usernames(tenants: Tenants) -> dict[str, str]:
    """Viewer label → username: chain A's users and the office (chain B is the foreign tenant)."""
    names: dict[str, Any] = {kind.value: tenants.a.usernames[kind] for kind in KINDS}
    names[OrgKind.PROGRAMME_OFFICE.value] = tenants.office_username
    return names
