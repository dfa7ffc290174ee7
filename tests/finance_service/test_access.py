"""finance.access: what each kind of organisation may read, as a query condition — own rows and foreign rows, on
SQLite and PostgreSQL.  Only the rows built here are looked at (``mine``), so the expectations are exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from finance import access
from finance import service as fs
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    BankProduct,
    BankStatementImport,
    Contract,
    CreditLine,
    FinanceApplication,
    Loan,
    OrgKind,
    Receivable,
    ReceivablePart,
    SmeCreditLine,
    SmeLineStatus,
)
from tests.finance_service.conftest import World
from tests.finance_service.test_settlement_service import contract


@dataclass
class Rows:
    """One of each finance aggregate: a loan on receivable ``financed`` (SME → core, bank), receivable ``shared``
    (SME → core) with a part transferred to the supplier, a contract (core buys from the SME), an SME line at the
    bank, an inactive product of the bank and a statement import of the core."""

    application: int
    loan: int
    financed: int
    financed_part: int
    shared: int
    supplier_part: int
    contract: int
    line: int
    inactive_product: int
    statement: int


def build(world: World) -> Rows:
    loan = world.disbursed("800000.00")
    shared = world.confirmed_part("500000.00")
    moved = fs.transfer_part(world.uow(), world.sme, shared.id, world.supplier.organisation_id, "200000.00")
    c = contract(world)
    statement = fs.import_statement(
        world.uow(), world.core, "2026-11 对账单.csv", [{"交易日期": "2026-11-02", "贷方金额": "1.00", "摘要": "HT-0"}]
    )
    with Session(world.engine) as s:
        line = SmeCreditLine(
            bank_id=world.bank_id,
            sme_id=world.sme.organisation_id,
            status=SmeLineStatus.ACTIVE,
            limit_fen=100_000_00,
            decided_at=world.clock.now(),
            updated_at=world.clock.now(),
        )
        product = BankProduct(
            bank_id=world.bank_id,
            code="OLD",
            name="停用产品",
            advance_rate=Decimal("0.8"),
            is_active=False,
            created_at=world.clock.now(),
        )
        s.add_all([line, product])
        s.commit()
        app = s.exec(select(FinanceApplication).where(col(FinanceApplication.id) == loan.application_id)).one()
        assert line.id and product.id and c.id and statement.statement.id and app.part_id and app.receivable_id
        return Rows(
            application=app.id or 0,
            loan=loan.id,
            financed=app.receivable_id,
            financed_part=app.part_id,
            shared=shared.receivable_id,
            supplier_part=moved.id,
            contract=c.id,
            line=line.id,
            inactive_product=product.id,
            statement=statement.statement.id,
        )


@pytest.fixture
def rows(world: World) -> Rows:
    return build(world)


def _ids(world: World, model: type[SQLModel], condition: ColumnElement[bool], mine: set[int]) -> set[int]:
    with Session(world.engine) as s:
        found = set(s.exec(select(model.id).where(condition)).all())  # type: ignore[attr-defined]
    return found & mine


def provider(world: World) -> Actor:
    """A service provider (no finance rows of its own)."""
    return Actor(world.office.organisation_id + 10_000, OrgKind.SERVICE_PROVIDER)


def test_applications(world: World, rows: Rows) -> None:
    mine = {rows.application}
    see: Callable[[Actor], set[int]] = lambda a: _ids(  # noqa: E731
        world, FinanceApplication, access.applications_visible_to(a), mine
    )
    assert see(world.sme) == see(world.bank_admin) == see(world.reviewer) == see(world.office) == mine
    for foreign in (world.supplier, world.bank2_admin, world.core, provider(world)):
        assert see(foreign) == set()


def test_loans(world: World, rows: Rows) -> None:
    mine = {rows.loan}
    see: Callable[[Actor], set[int]] = lambda a: _ids(world, Loan, access.loans_visible_to(a), mine)  # noqa: E731
    assert see(world.sme) == see(world.bank_admin) == see(world.core) == see(world.office) == mine
    for foreign in (world.supplier, world.bank2_admin, world.core2, provider(world)):
        assert see(foreign) == set()


def test_receivables(world: World, rows: Rows) -> None:
    both = {rows.financed, rows.shared}
    see: Callable[[Actor], set[int]] = lambda a: _ids(  # noqa: E731
        world, Receivable, access.receivables_visible_to(a), both
    )
    assert see(world.sme) == see(world.core) == see(world.office) == both
    assert see(world.supplier) == {rows.shared}  # holds a part of it
    assert see(world.bank_admin) == {rows.financed}  # an application addressed to it
    for foreign in (world.bank2_admin, world.core2, provider(world)):
        assert see(foreign) == set()


def test_receivable_parts(world: World, rows: Rows) -> None:
    with Session(world.engine) as s:
        shared = s.get(Receivable, rows.shared)
        financed = s.get(Receivable, rows.financed)
        assert shared is not None and financed is not None
        every_shared = set(s.exec(select(ReceivablePart.id).where(ReceivablePart.receivable_id == rows.shared)).all())
        every_financed = set(
            s.exec(select(ReceivablePart.id).where(ReceivablePart.receivable_id == rows.financed)).all()
        )

    def parts(actor: Actor, receivable: Receivable) -> set[int]:
        mine = every_shared | every_financed
        return _ids(world, ReceivablePart, access.receivable_parts_visible_to(actor, receivable), mine)

    assert len(every_shared) >= 2  # the original (superseded), what stayed and what moved
    for party in (world.sme, world.core, world.office):
        assert parts(party, shared) == every_shared
    assert parts(world.supplier, shared) == {rows.supplier_part}
    assert parts(world.bank_admin, financed) == {rows.financed_part}
    assert parts(world.bank_admin, shared) == set()


def test_contracts(world: World, rows: Rows) -> None:
    mine = {rows.contract}
    see: Callable[[Actor], set[int]] = lambda a: _ids(world, Contract, access.contracts_visible_to(a), mine)  # noqa: E731
    assert see(world.core) == see(world.sme) == see(world.office) == mine
    for foreign in (world.core2, world.supplier, world.bank_admin, provider(world)):
        assert see(foreign) == set()


def test_sme_credit_lines(world: World, rows: Rows) -> None:
    mine = {rows.line}
    see: Callable[[Actor], set[int]] = lambda a: _ids(  # noqa: E731
        world, SmeCreditLine, access.sme_credit_lines_visible_to(a), mine
    )
    assert see(world.bank_admin) == see(world.sme) == see(world.office) == mine
    for foreign in (world.bank2_admin, world.supplier, world.core, provider(world)):
        assert see(foreign) == set()


def test_credit_lines_products_and_statement_imports(world: World, rows: Rows) -> None:
    with Session(world.engine) as s:
        lines = set(s.exec(select(CreditLine.id).where(CreditLine.bank_id == world.bank_id)).all())
    assert len(lines) == 2
    assert _ids(world, CreditLine, access.credit_lines_visible_to(world.bank_admin), lines) == lines
    assert _ids(world, CreditLine, access.credit_lines_visible_to(world.office), lines) == lines
    for foreign in (world.bank2_admin, world.core, world.sme):
        assert _ids(world, CreditLine, access.credit_lines_visible_to(foreign), lines) == set()

    products = {world.product.id or 0, rows.inactive_product}
    assert _ids(world, BankProduct, access.products_visible_to(world.bank_admin), products) == products
    for other in (world.bank2_admin, world.sme, world.core, world.office):
        assert _ids(world, BankProduct, access.products_visible_to(other), products) == {world.product.id}

    imports = {rows.statement}
    for reader in (world.core, world.office):
        assert _ids(world, BankStatementImport, access.statement_imports_visible_to(reader), imports) == imports
    for foreign in (world.core2, world.sme, world.bank_admin):
        assert _ids(world, BankStatementImport, access.statement_imports_visible_to(foreign), imports) == set()


@pytest.mark.parametrize(
    ("load", "field", "own", "foreign"),
    [
        (access.load_application_for, "application", "sme", "supplier"),
        (access.load_application_for, "application", "bank_admin", "bank2_admin"),
        (access.load_loan_for, "loan", "core", "core2"),
        (access.load_receivable_for, "shared", "supplier", "bank_admin"),
        (access.load_contract_for, "contract", "sme", "supplier"),
        (access.load_sme_credit_line_for, "line", "sme", "supplier"),
        (access.load_statement_import_for, "statement", "core", "core2"),
    ],
)
def test_load_for_returns_own_rows_and_hides_foreign_ones(
    world: World, rows: Rows, load: Callable[..., Any], field: str, own: str, foreign: str
) -> None:
    ident = getattr(rows, field)
    with Session(world.engine) as s:
        assert load(s, getattr(world, own), ident).id == ident
        assert load(s, world.office, ident).id == ident
        assert load(s, getattr(world, own), ident, lock=True).id == ident  # SELECT … FOR UPDATE in a use case
        with pytest.raises(NotFound) as refused:
            load(s, getattr(world, foreign), ident)
        with pytest.raises(NotFound):
            load(s, getattr(world, own), 10**9)
    assert str(ident) in refused.value.message_en
