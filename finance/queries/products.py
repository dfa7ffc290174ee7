"""Read models of the banks' set-up: finance products and the banks' credit lines for core enterprises, as an actor
may read them (the API's lists, the bank's and the SME's pages)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import credit_lines_visible_to, products_visible_to
from qianfan.actors import Actor
from qianfan.models import BankProduct, CreditLine, FinanceKind, Organisation

__all__ = [
    "active_products_by_bank",
    "active_products_with_banks",
    "contract_products_for_buyer",
    "credit_line_count",
    "credit_line_list",
    "credit_lines_with_core_names",
    "product_count",
    "product_for",
    "product_list",
]


def _products(actor: Actor, bank_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [products_visible_to(actor)]
    if bank_id is not None:
        conditions.append(col(BankProduct.bank_id) == bank_id)
    return conditions


def product_list(
    session: Session, actor: Actor, *, bank_id: int | None = None, offset: int = 0, limit: int | None = None
) -> list[BankProduct]:
    """The products *actor* may read (of one bank when *bank_id*), oldest first."""
    stmt = select(BankProduct).where(*_products(actor, bank_id)).order_by(col(BankProduct.id)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def product_count(session: Session, actor: Actor, *, bank_id: int | None = None) -> int:
    """How many products *actor* may read (of one bank when *bank_id*)."""
    return session.exec(select(func.count()).select_from(BankProduct).where(*_products(actor, bank_id))).one()


def credit_line_list(session: Session, actor: Actor, *, offset: int = 0, limit: int | None = None) -> list[CreditLine]:
    """The banks' lines for core enterprises that *actor* may read, oldest first."""
    stmt = select(CreditLine).where(credit_lines_visible_to(actor)).order_by(col(CreditLine.id)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def credit_line_count(session: Session, actor: Actor) -> int:
    """How many of the banks' lines for core enterprises *actor* may read."""
    return session.exec(select(func.count()).select_from(CreditLine).where(credit_lines_visible_to(actor))).one()


# ------------------------------------------------------------------------------ the pages' choices of product


def product_for(session: Session, actor: Actor, product_id: int) -> BankProduct | None:
    """The product *product_id* if *actor* may read it, else ``None``."""
    return session.exec(
        select(BankProduct).where(col(BankProduct.id) == product_id, products_visible_to(actor))
    ).first()


def active_products_with_banks(session: Session, actor: Actor, kind: FinanceKind) -> list[tuple[BankProduct, str]]:
    """The active products of *kind* that *actor* may read, each with its bank's name, oldest first."""
    rows = session.exec(
        select(BankProduct, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(BankProduct.bank_id))
        .where(products_visible_to(actor), col(BankProduct.is_active).is_(True), col(BankProduct.kind) == kind)
        .order_by(col(BankProduct.id))
    ).all()
    return [(p, n) for p, n in rows]


def contract_products_for_buyer(session: Session, actor: Actor, buyer_id: int) -> list[tuple[BankProduct, str]]:
    """The active contract-finance products of the banks that have a credit line for *buyer_id*, with the bank's
    name, by bank name."""
    rows = session.exec(
        select(BankProduct, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(BankProduct.bank_id))
        .join(
            CreditLine,
            sa.and_(
                col(CreditLine.bank_id) == col(BankProduct.bank_id), col(CreditLine.core_enterprise_id) == buyer_id
            ),
        )
        .where(
            products_visible_to(actor),
            col(BankProduct.kind) == FinanceKind.CONTRACT,
            col(BankProduct.is_active).is_(True),
        )
        .order_by(col(Organisation.name), col(BankProduct.id))
    ).all()
    return [(p, n) for p, n in rows]


def active_products_by_bank(
    session: Session, actor: Actor, bank_ids: Iterable[int], kind: FinanceKind
) -> dict[int, list[BankProduct]]:
    """The active products of *kind* of each of *bank_ids* that *actor* may read, oldest first; banks with none
    are absent."""
    wanted = set(bank_ids)
    if not wanted:
        return {}
    products: dict[int, list[BankProduct]] = {}
    for p in session.exec(
        select(BankProduct)
        .where(
            products_visible_to(actor),
            col(BankProduct.bank_id).in_(wanted),
            col(BankProduct.kind) == kind,
            col(BankProduct.is_active).is_(True),
        )
        .order_by(col(BankProduct.id))
    ).all():
        products.setdefault(p.bank_id, []).append(p)
    return products


def credit_lines_with_core_names(session: Session, actor: Actor) -> list[tuple[CreditLine, str]]:
    """The banks' lines for core enterprises that *actor* may read, each with the core enterprise's name."""
    rows = session.exec(
        select(CreditLine, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(CreditLine.core_enterprise_id))
        .where(credit_lines_visible_to(actor))
    ).all()
    return [(line, name) for line, name in rows]
