"""Read models of the banks' set-up: finance products and the banks' credit lines for core enterprises, as an actor
may read them (the API's lists, the bank's and the SME's pages)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import credit_lines_visible_to, products_visible_to
from qianfan.actors import Actor
from qianfan.models import BankProduct, CreditLine

__all__ = ["credit_line_count", "credit_line_list", "product_count", "product_list"]


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
