"""A small finance world built through the real use cases: a core enterprise, two SMEs, a bank with an admin,
a reviewer and an approver, the programme office, one product and a credit line."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from accounts import organisations as orgs
from finance import service as fs
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import BankProduct, CreditLine, ExposureLimit, Organisation, OrgKind, UserRole
from qianfan.uow import UnitOfWork
from tests.conftest import clean_tables
from tests.services.conftest import credit_code

_n = itertools.count(5000)
T = TypeVar("T", bound=SQLModel)


@dataclass
class World:
    engine: Engine
    clock: FrozenClock
    core: Actor
    core2: Actor
    sme: Actor
    supplier: Actor
    bank_admin: Actor
    reviewer: Actor
    approver: Actor
    bank2_admin: Actor
    office: Actor
    product: BankProduct

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    @property
    def bank_id(self) -> int:
        return self.bank_admin.organisation_id

    def due(self, days: int = 90) -> date:
        return (self.clock.now() + timedelta(days=days)).date()

    def receivable(
        self,
        face: str = "1000000.00",
        *,
        days: int = 90,
        sme: Actor | None = None,
        invoice: str | None = None,
        core: Actor | None = None,
    ) -> Any:
        sme = sme or self.sme
        core = core or self.core
        return fs.register_receivable(
            self.uow(),
            sme,
            {
                "title": "智慧道路巡检系统 第一期货款",
                "debtor_id": core.organisation_id,
                "face": face,
                "issue_date": self.clock.now().date(),
                "due_date": self.due(days),
                "invoice_numbers": [invoice or f"INV{next(_n)}"],
            },
        )

    def confirmed_part(self, face: str = "1000000.00", **kw: Any) -> Any:
        rec = self.receivable(face, **kw)
        fs.confirm_receivable(
            self.uow(), kw.get("core") or self.core, {"receivable_id": rec.id, "irrevocable_undertaking": True}
        )
        with self.uow() as u:
            parts = fs.live_parts(u, rec.id)
        assert len(parts) == 1
        return parts[0]

    def apply(self, part_id: int, amount: str = "800000.00", **kw: Any) -> Any:
        return fs.apply_for_finance(
            self.uow(), kw.pop("sme", self.sme), {"part_id": part_id, "bank_id": self.bank_id, "amount": amount, **kw}
        )

    def approved(self, amount: str = "800000.00", **kw: Any) -> Any:
        part = self.confirmed_part(**kw)
        app = self.apply(part.id, amount)
        fs.run_risk_check(self.uow(), app.id)
        return fs.approve(self.uow(), self.reviewer, app.id)

    def disbursed(self, amount: str = "800000.00", **kw: Any) -> Any:
        app = self.approved(amount, **kw)
        fs.sign_offer(self.uow(), self.sme, app.id, fs.terms_hash(app.offer_terms))
        return fs.disburse(self.uow(), self.reviewer, app.id, f"disb-{app.id}")


def grant_access(world: World, bank: Actor | None = None) -> None:
    """The world's SME grants a bank (its first by default) access to its platform record (授权查询): the world's
    SME has applied nowhere yet, and a bank reads a record only on grounds."""
    fs.grant_record_access(world.uow(), world.sme, (bank or world.bank_admin).organisation_id)


def get(world: World, model: type[T], ident: int | None) -> T:
    """A fresh read of one row (outside any unit of work)."""
    with Session(world.engine) as s:
        row = s.get(model, ident)
        assert row is not None, f"{model.__name__} {ident} not found"
        return row


def line_used(world: World, core: Actor | None = None, bank_id: int | None = None) -> int:
    with Session(world.engine) as s:
        line = s.exec(
            select(CreditLine).where(
                CreditLine.bank_id == (bank_id or world.bank_id),
                CreditLine.core_enterprise_id == (core or world.core).organisation_id,
            )
        ).one()
        return line.used_fen


def exposure_used(world: World, sme: Actor | None = None) -> int:
    with Session(world.engine) as s:
        row = s.exec(select(ExposureLimit).where(ExposureLimit.sme_id == (sme or world.sme).organisation_id)).first()
        return row.used_fen if row else 0


def _org(uow: Callable[[], UnitOfWork], kind: OrgKind, users: list[tuple[str, UserRole]]) -> list[Actor]:
    n = next(_n)
    org: Organisation = orgs.register_organisation(
        uow(),
        {"kind": kind, "name": f"金融测试机构{n}有限公司", "credit_code": credit_code(n), "district": "海淀园"},
    )
    actors = []
    for name, role in users:
        user = orgs.add_user(
            uow(),
            org.id,
            {"username": f"{name}{n}", "display_name": name, "role": role, "password": "Correct-horse-9"},
        )
        actors.append(Actor.for_user(user, org))
    return actors


def build_world(engine: Engine, clock: FrozenClock) -> World:
    def uow() -> UnitOfWork:
        return UnitOfWork(engine, clock)

    (core,) = _org(uow, OrgKind.LARGE_FIRM, [("core", UserRole.ADMIN)])
    (core2,) = _org(uow, OrgKind.LARGE_FIRM, [("coretwo", UserRole.ADMIN)])
    (sme,) = _org(uow, OrgKind.SME, [("sme", UserRole.ADMIN)])
    (supplier,) = _org(uow, OrgKind.SME, [("supplier", UserRole.ADMIN)])
    bank_admin, reviewer, approver = _org(
        uow,
        OrgKind.BANK,
        [("bankadmin", UserRole.ADMIN), ("reviewer", UserRole.REVIEWER), ("approver", UserRole.APPROVER)],
    )
    (bank2_admin,) = _org(uow, OrgKind.BANK, [("banktwo", UserRole.ADMIN)])
    (office,) = _org(uow, OrgKind.PROGRAMME_OFFICE, [("office", UserRole.ADMIN)])
    product = fs.create_product(
        uow(),
        bank_admin,
        {
            "code": "RF1",
            "name": "千帆应收账款融资",
            "advance_rate": "0.9",
            "arrangement_fee_bp": 10,
            "fee_min": "100.00",
            "fee_max": "50000.00",
            "four_eyes_threshold": "5000000.00",
            # this bank also lends to newcomers (grade D) at a higher spread
            "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300},
        },
    )
    fs.set_credit_line(uow(), bank_admin, core.organisation_id, "100000000.00")
    fs.set_credit_line(uow(), bank_admin, core2.organisation_id, "100000000.00")
    return World(
        engine, clock, core, core2, sme, supplier, bank_admin, reviewer, approver, bank2_admin, office, product
    )


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> World:
    """The world on SQLite and on PostgreSQL (through the parametrised ``engine`` fixture)."""
    return build_world(engine, clock)


@pytest.fixture
def pg_world(pg_engine: Engine, clock: FrozenClock) -> World:
    """The world on PostgreSQL only (for the tests that race on row locks)."""
    return build_world(pg_engine, clock)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine, clock: FrozenClock) -> Iterator[World]:
    """The world on SQLite only (for property tests, where one database is enough)."""
    clean_tables(sqlite_engine)
    yield build_world(sqlite_engine, clock)
    clean_tables(sqlite_engine)
