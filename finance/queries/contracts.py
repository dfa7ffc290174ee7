"""Read models of contracts as finance reads them (the contracts behind an SME's applications)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from finance.access import contracts_visible_to
from qianfan.actors import Actor
from qianfan.models import Contract

__all__ = ["contracts_by_id"]


def contracts_by_id(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, Contract]:
    """The contracts among *ids* whose finance *actor* may read (its buyer, its supplier, the office), by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(select(Contract).where(col(Contract.id).in_(wanted), contracts_visible_to(actor))).all()
    return {c.id: c for c in rows if c.id is not None}
