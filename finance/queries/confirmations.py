"""Read models of confirmation (确权), from the debtor's side: the receivables a core enterprise owes that wait for
its confirmation, what they add up to, and those it has confirmed.

Each reads through :func:`finance.access.receivables_visible_to` and keeps the debtor's own (``debtor_id``): a large
firm confirms only what it owes.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import receivables_visible_to
from finance.states import CONFIRMED_RECEIVABLE_STATES
from qianfan.actors import Actor
from qianfan.models import Receivable, ReceivableStatus

__all__ = [
    "CONFIRMED_OR_SETTLED_STATES",
    "receivables_awaiting_confirmation",
    "receivables_awaiting_confirmation_total",
    "receivables_confirmed",
]

#: Confirmed by the debtor at some point: still open or financed (:data:`finance.states.CONFIRMED_RECEIVABLE_STATES`)
#: or settled since (a receivable is settled only from a confirmed state).
CONFIRMED_OR_SETTLED_STATES: tuple[ReceivableStatus, ...] = (*CONFIRMED_RECEIVABLE_STATES, ReceivableStatus.SETTLED)


def _owed_by(actor: Actor) -> ColumnElement[bool]:
    return col(Receivable.debtor_id) == actor.organisation_id


def _awaiting(actor: Actor) -> tuple[ColumnElement[bool], ...]:
    return receivables_visible_to(actor), _owed_by(actor), col(Receivable.status) == ReceivableStatus.REGISTERED


def receivables_awaiting_confirmation(session: Session, actor: Actor, *, limit: int) -> list[Receivable]:
    """The receivables *actor* owes that wait for its confirmation, earliest due first (ties by id)."""
    return list(
        session.exec(
            select(Receivable)
            .where(*_awaiting(actor))
            .order_by(col(Receivable.due_date), col(Receivable.id))
            .limit(limit)
        ).all()
    )


def receivables_awaiting_confirmation_total(session: Session, actor: Actor) -> tuple[int, int]:
    """How many receivables *actor* owes wait for its confirmation, and their face value in all (fen)."""
    count, face = session.exec(
        select(func.count(), func.coalesce(func.sum(Receivable.face_fen), 0)).where(*_awaiting(actor))
    ).one()
    return int(count), int(face)


def receivables_confirmed(session: Session, actor: Actor, *, limit: int) -> list[Receivable]:
    """The receivables *actor* owes and has confirmed (settled ones too), latest confirmation first (ties by id)."""
    return list(
        session.exec(
            select(Receivable)
            .where(
                receivables_visible_to(actor),
                _owed_by(actor),
                col(Receivable.status).in_(CONFIRMED_OR_SETTLED_STATES),
            )
            .order_by(col(Receivable.confirmed_at).desc(), col(Receivable.id).desc())
            .limit(limit)
        ).all()
    )
