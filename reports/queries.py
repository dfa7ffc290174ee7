"""Read models across the domains that the portals' pages and the office's API share: the audit log as the office
reads it.  (The finance figures an SME's marketplace pages show beside its deals live in :mod:`finance.queries`.)
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col

from qianfan.models import AuditEvent
from qianfan.paging import fetch_page

__all__ = ["audit_events_page"]


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
