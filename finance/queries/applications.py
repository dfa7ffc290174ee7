"""Read models of finance applications: the list an actor may read (the API's list, the SME's finance page, the
bank's pages) and the size of a bank's review queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import applications_visible_to
from finance.states import REVIEW_QUEUE_STATES
from qianfan.actors import Actor
from qianfan.models import ApplicationStatus, FinanceApplication, FinanceKind

__all__ = ["NEWEST_FIRST", "ApplicationFilter", "application_count", "application_list", "review_queue_count"]

#: Latest submission first, ties by id (the API's default sort).
NEWEST_FIRST: tuple[Any, ...] = (col(FinanceApplication.submitted_at).desc(), col(FinanceApplication.id).desc())


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Optional filters of an application list; ``submitted_from`` inclusive, ``submitted_before`` exclusive."""

    status: ApplicationStatus | None = None
    kind: FinanceKind | None = None
    sla_status: str | None = None
    bank_id: int | None = None
    applicant_id: int | None = None
    core_enterprise_id: int | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        for field in ("status", "kind", "sla_status", "bank_id", "applicant_id", "core_enterprise_id"):
            value = getattr(self, field)
            if value is not None:
                conditions.append(col(getattr(FinanceApplication, field)) == value)
        if self.submitted_from is not None:
            conditions.append(col(FinanceApplication.submitted_at) >= self.submitted_from)
        if self.submitted_before is not None:
            conditions.append(col(FinanceApplication.submitted_at) < self.submitted_before)
        return conditions


def application_list(
    session: Session,
    actor: Actor,
    filters: ApplicationFilter | None = None,
    *,
    order_by: Sequence[Any] = NEWEST_FIRST,
    offset: int = 0,
    limit: int | None = None,
) -> list[FinanceApplication]:
    """The applications *actor* may read that pass *filters*, in *order_by*, one window of them."""
    stmt = (
        select(FinanceApplication)
        .where(applications_visible_to(actor), *(filters or ApplicationFilter()).conditions())
        .order_by(*order_by)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def application_count(session: Session, actor: Actor, filters: ApplicationFilter | None = None) -> int:
    """How many applications *actor* may read pass *filters*."""
    conditions = (applications_visible_to(actor), *(filters or ApplicationFilter()).conditions())
    return session.exec(select(func.count()).select_from(FinanceApplication).where(*conditions)).one()


def review_queue_count(session: Session, actor: Actor) -> int:
    """How many of the applications *actor* (a bank) may read are in its review queue."""
    return session.exec(
        select(func.count())
        .select_from(FinanceApplication)
        .where(applications_visible_to(actor), col(FinanceApplication.status).in_(REVIEW_QUEUE_STATES))
    ).one()
