"""Read models across the domains that the portals' pages and the office's API share: the audit log as the office
reads it, and the finance figures an SME's marketplace pages show beside its deals (its confirmed receivables, its
applications in progress, what it registered against each contract).

The finance figures here read the SME's own rows only (``actor.organisation_id`` as creditor, holder or applicant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from qianfan.actors import Actor
from qianfan.models import (
    ApplicationStatus,
    AuditEvent,
    FinanceApplication,
    PartState,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
)
from qianfan.paging import fetch_page

__all__ = [
    "audit_events_page",
    "confirmed_receivables_held",
    "open_applications_of",
    "registered_face_by_contract",
]


def audit_events_page(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEvent], int]:
    """One page of the audit log, newest first (by ``seq``), optionally for one entity type and id, and the total
    number of events that match."""
    conditions: list[Any] = []
    if entity_type is not None:
        conditions.append(col(AuditEvent.entity_type) == entity_type)
    if entity_id is not None:
        conditions.append(col(AuditEvent.entity_id) == entity_id)
    rows, total = fetch_page(
        session,
        AuditEvent,
        limit=limit,
        offset=offset,
        conditions=conditions,
        order_by=[col(AuditEvent.seq).desc()],
    )
    return list(rows), total


def confirmed_receivables_held(session: Session, actor: Actor) -> tuple[int, int]:
    """How many parts of confirmed receivables (any state past registration) *actor* holds unfinanced, and their sum
    in fen."""
    count, total = session.exec(
        select(func.count(), func.coalesce(func.sum(ReceivablePart.amount_fen), 0))
        .select_from(ReceivablePart)
        .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
        .where(
            col(ReceivablePart.holder_id) == actor.organisation_id,
            col(ReceivablePart.status) == PartState.HELD,
            col(Receivable.status) != ReceivableStatus.REGISTERED,
        )
    ).one()
    return int(count), int(total)


def open_applications_of(
    session: Session, actor: Actor, states: Sequence[ApplicationStatus]
) -> list[FinanceApplication]:
    """*actor*'s own finance applications in *states* (those still in progress), nearest deadline first."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(
                col(FinanceApplication.applicant_id) == actor.organisation_id,
                col(FinanceApplication.status).in_(states),
            )
            .order_by(col(FinanceApplication.deadline_at))
        ).all()
    )


def registered_face_by_contract(session: Session, contract_ids: Iterable[int]) -> dict[int, int]:
    """The face value (fen) of the receivables registered against each of *contract_ids* (cancelled ones left out);
    contracts with none are absent."""
    wanted = list(contract_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Receivable.contract_id, func.sum(Receivable.face_fen))
        .where(col(Receivable.contract_id).in_(wanted), col(Receivable.status) != ReceivableStatus.CANCELLED)
        .group_by(col(Receivable.contract_id))
    ).all()
    return {k: int(v or 0) for k, v in rows if k is not None}
