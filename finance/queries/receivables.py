"""Read models of receivables: the list an actor may read (the API's list, the SME's receivables page), the parts
of one receivable it may read, and a receivable's payments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import receivable_parts_visible_to, receivables_visible_to
from finance.states import FINANCEABLE_RECEIVABLE_STATES
from qianfan.actors import Actor
from qianfan.models import Organisation, OrgKind, PartState, Payment, Receivable, ReceivablePart, ReceivableStatus

__all__ = [
    "NEWEST_FIRST",
    "ReceivableFilter",
    "confirmed_receivables_held",
    "debtor_candidates",
    "financeable_parts",
    "held_part",
    "held_parts_of",
    "receivable_count",
    "receivable_list",
    "receivable_parts_for",
    "receivable_payments",
    "receivables_by_id",
    "registered_face_by_contract",
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


# ------------------------------------------------------------------------------ the holder's parts (the SME's pages)


def financeable_parts(session: Session, actor: Actor) -> list[tuple[ReceivablePart, Receivable]]:
    """The parts *actor* holds, not in an application, of receivables in a financeable state (confirmed, split or
    partly transferred: :data:`finance.states.FINANCEABLE_RECEIVABLE_STATES`) — what it can finance — earliest due
    first."""
    rows = session.exec(
        select(ReceivablePart, Receivable)
        .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
        .where(
            receivables_visible_to(actor),
            col(ReceivablePart.holder_id) == actor.organisation_id,
            col(ReceivablePart.status) == PartState.HELD,
            col(Receivable.status).in_(FINANCEABLE_RECEIVABLE_STATES),
        )
        .order_by(col(Receivable.due_date), col(ReceivablePart.id))
    ).all()
    return [(p, r) for p, r in rows]


def held_part(session: Session, actor: Actor, part_id: int) -> ReceivablePart | None:
    """The part *part_id* if *actor* holds (or held) it, whatever its state, else ``None``."""
    return session.exec(
        select(ReceivablePart).where(
            col(ReceivablePart.id) == part_id, col(ReceivablePart.holder_id) == actor.organisation_id
        )
    ).first()


def held_parts_of(session: Session, actor: Actor, receivable_ids: Iterable[int]) -> list[ReceivablePart]:
    """The parts of *receivable_ids* that *actor* holds or held (superseded ones too), in id order."""
    wanted = list(receivable_ids)
    if not wanted:
        return []
    return list(
        session.exec(
            select(ReceivablePart)
            .where(
                col(ReceivablePart.receivable_id).in_(wanted),
                col(ReceivablePart.holder_id) == actor.organisation_id,
            )
            .order_by(col(ReceivablePart.id))
        ).all()
    )


def receivables_by_id(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, Receivable]:
    """The receivables among *ids* that *actor* may read, by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(select(Receivable).where(col(Receivable.id).in_(wanted), receivables_visible_to(actor))).all()
    return {r.id: r for r in rows if r.id is not None}


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


def debtor_candidates(session: Session) -> list[tuple[int, str]]:
    """The organisations a receivable may name as its debtor (the large firms), by name: ``(id, name)``."""
    rows = session.exec(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.kind) == OrgKind.LARGE_FIRM)
        .order_by(col(Organisation.name))
    ).all()
    return [(i, n) for i, n in rows if i is not None]
