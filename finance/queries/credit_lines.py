"""Read models of SMEs' revolving lines (循环额度): the lines an actor may read (the API's list, the SME's and the
bank's line pages)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import sme_credit_lines_visible_to
from qianfan.actors import Actor
from qianfan.models import SmeCreditLine, SmeLineStatus

__all__ = ["SmeLineFilter", "sme_credit_line_count", "sme_credit_line_list"]


@dataclass(frozen=True, slots=True)
class SmeLineFilter:
    sme_id: int | None = None
    status: SmeLineStatus | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.sme_id is not None:
            conditions.append(col(SmeCreditLine.sme_id) == self.sme_id)
        if self.status is not None:
            conditions.append(col(SmeCreditLine.status) == self.status)
        return conditions


def sme_credit_line_list(
    session: Session, actor: Actor, filters: SmeLineFilter | None = None, *, offset: int = 0, limit: int | None = None
) -> list[SmeCreditLine]:
    """The revolving lines *actor* may read that pass *filters*, oldest first."""
    stmt = (
        select(SmeCreditLine)
        .where(sme_credit_lines_visible_to(actor), *(filters or SmeLineFilter()).conditions())
        .order_by(col(SmeCreditLine.id))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def sme_credit_line_count(session: Session, actor: Actor, filters: SmeLineFilter | None = None) -> int:
    """How many revolving lines *actor* may read pass *filters*."""
    conditions = (sme_credit_lines_visible_to(actor), *(filters or SmeLineFilter()).conditions())
    return session.exec(select(func.count()).select_from(SmeCreditLine).where(*conditions)).one()
