"""Row loading shared by the use cases of every domain."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel, select

from qianfan.errors import NotFound

__all__ = ["load_row"]

T = TypeVar("T", bound=SQLModel)


def load_row(session: Session, model: type[T], ident: int, what_zh: str, what_en: str, *, lock: bool = False) -> T:
    """The row of *model* with primary key *ident* (``SELECT … FOR UPDATE`` when *lock*), or a bilingual NotFound
    naming it ("订单 12 不存在 / Order 12 not found")."""
    stmt = select(model).where(model.id == ident)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update()
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound.of(what_zh, what_en, ident)
    return row
