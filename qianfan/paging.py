"""One page of rows and the total they are a page of, with the same conditions and joins: the read every domain's
paged list query shares (``market.queries``, ``accounts.queries``, ``reports.queries``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

__all__ = ["Join", "fetch_page"]

#: ``(target, on-clause)`` pairs joined in both the count and the page query.
Join = tuple[Any, Any]


def fetch_page(
    session: Session,
    entity: Any,
    *,
    limit: int,
    offset: int,
    conditions: Sequence[Any] = (),
    order_by: Sequence[Any] = (),
    joins: Sequence[Join] = (),
    columns: Sequence[Any] = (),
) -> tuple[list[Any], int]:
    """The rows ``offset … offset + limit`` of *entity* (with extra *columns*, e.g. joined names: rows are then
    tuples) matching *conditions* in *order_by*, and the total count of matching rows."""
    count = select(func.count()).select_from(entity)
    rows = select(entity, *columns)
    for target, on in joins:
        count = count.join(target, on)
        rows = rows.join(target, on)
    total = session.exec(count.where(*conditions)).one()
    page = session.exec(rows.where(*conditions).order_by(*order_by).offset(offset).limit(limit)).all()
    return list(page), int(total)
