"""Read models of receivables: the list an actor may read (the API's list, the SME's receivables page), the parts
of one receivable it may read, and a receivable's payments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import receivable_parts_visible_to, receivables_visible_to
from qianfan.actors import Actor
from qianfan.models import Payment, Receivable, ReceivablePart, ReceivableStatus

__all__ = [
    "NEWEST_FIRST",
    "ReceivableFilter",
    "receivable_count",
    "receivable_list",
    "receivable_parts_for",
    "receivable_payments",
]

#: Latest registration first, ties by id (the API's default sort).
NEWEST_FIRST: tuple[Any, ...] = (col(Receivable.registered_at).desc(), col(Receivable.id).desc())


@dataclass(frozen=True, slots=True)
class ReceivableFilter:
    """Optional filters of a receivable list (due dates inclusive; ``title_contains`` case-insensitive)."""

    status: ReceivableStatus | None = None
    debtor_id: int | None = None
    creditor_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    title_contains: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.status is not None:
            conditions.append(col(Receivable.status) == self.status)
        if self.debtor_id is not None:
            conditions.append(col(Receivable.debtor_id) == self.debtor_id)
        if self.creditor_id is not None:
            conditions.append(col(Receivable.creditor_id) == self.creditor_id)
        if self.due_from is not None:
            conditions.append(col(Receivable.due_date) >= self.due_from)
        if self.due_to is not None:
            conditions.append(col(Receivable.due_date) <= self.due_to)
        if self.title_contains is not None:
            conditions.append(col(Receivable.title).icontains(self.title_contains, autoescape=True))
        return conditions


def receivable_list(
    session: Session,
    actor: Actor,
    filters: ReceivableFilter | None = None,
    *,
    order_by: Sequence[Any] = NEWEST_FIRST,
    offset: int = 0,
    limit: int | None = None,
) -> list[Receivable]:
    """The receivables *actor* may read that pass *filters*, in *order_by*, one window of them."""
    stmt = (
        select(Receivable)
        .where(receivables_visible_to(actor), *(filters or ReceivableFilter()).conditions())
        .order_by(*order_by)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def receivable_count(session: Session, actor: Actor, filters: ReceivableFilter | None = None) -> int:
    """How many receivables *actor* may read pass *filters*."""
    conditions = (receivables_visible_to(actor), *(filters or ReceivableFilter()).conditions())
    return session.exec(select(func.count()).select_from(Receivable).where(*conditions)).one()


def receivable_parts_for(session: Session, actor: Actor, receivable: Receivable) -> list[ReceivablePart]:
    """The parts of *receivable* (one *actor* may read) that *actor* may read, in id order."""
    return list(
        session.exec(
            select(ReceivablePart)
            .where(receivable_parts_visible_to(actor, receivable))
            .order_by(col(ReceivablePart.id))
        ).all()
    )


def receivable_payments(session: Session, receivable_id: int) -> list[Payment]:
    """The debtor's payments of a receivable, in the order they were recorded."""
    return list(
        session.exec(select(Payment).where(col(Payment.receivable_id) == receivable_id).order_by(col(Payment.id))).all()
    )
