"""The safety net behind the outbox: work whose event was relayed but whose effect never happened.

The relay marks an event sent when the broker accepted it.  On Redis a task of a worker that dies is delivered again
after the visibility timeout; kombu's SQLAlchemy transport (the embedded broker) never re-delivers it.  So beat also
runs :func:`stale_jobs` every few minutes: a finance application still ``submitted`` after the grace period has had
no risk check, an open order posted within the last day with no stored match was never matched.  Their jobs are
enqueued again (the tasks are idempotent, so a job that was merely slow does no harm when it runs twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qianfan.models import ApplicationStatus, FinanceApplication, Match, Order, OrderStatus
from workers.relay import MATCH_ORDER, RISK_CHECK, Job

#: How long a job may take before its missing effect counts as lost work.
GRACE = timedelta(minutes=5)
#: Orders older than this with no match are taken as having none to find (not re-matched forever).
ORDER_HORIZON = timedelta(days=1)


def stale_jobs(engine: Engine, now: datetime, *, grace: timedelta = GRACE, limit: int = 500) -> list[Job]:
    """The jobs to enqueue again, oldest first."""
    with Session(engine) as session:
        applications = session.exec(
            select(FinanceApplication.id)
            .where(
                FinanceApplication.status == ApplicationStatus.SUBMITTED,
                col(FinanceApplication.submitted_at) < now - grace,
            )
            .order_by(col(FinanceApplication.id))
            .limit(limit)
        ).all()
        unmatched = ~sa.exists(select(Match.id).where(col(Match.order_id) == col(Order.id)))
        orders = session.exec(
            select(Order.id)
            .where(
                Order.status == OrderStatus.OPEN,
                col(Order.created_at) < now - grace,
                col(Order.created_at) >= now - ORDER_HORIZON,
                unmatched,
            )
            .order_by(col(Order.id))
            .limit(limit)
        ).all()
    return [Job(RISK_CHECK, {"application_id": a}, key="reconcile") for a in applications if a is not None] + [
        Job(MATCH_ORDER, {"order_id": o}, key="reconcile") for o in orders if o is not None
    ]
