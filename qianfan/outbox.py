"""The outbox relay: hands committed events to the broker, at least once, in order, never losing one.

A use case writes its events into ``outbox_event`` in the same transaction as its change (:mod:`qianfan.uow`).
:func:`relay` claims undispatched rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays never send the
same row at once), sends each through the given ``send`` callable (the workers' broker publisher — this core module
knows nothing of Celery), and marks it dispatched in the same transaction.  If ``send`` fails (broker down), the row
keeps ``dispatched_at`` NULL, its ``attempts`` and ``last_error`` record why, and the batch stops: the event is sent
when the broker is back.  A crash after sending and before the commit sends the event again on the next run, so
consumers are idempotent (tasks re-read state and their effects are keyed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from qianfan.clock import Clock, SystemClock
from qianfan.db import WRITE_OPTIONS
from qianfan.events import Event
from qianfan.models import OutboxEvent

Send = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class RelayResult:
    dispatched: int
    failed: bool
    error: str | None = None


def relay(engine: Engine, send: Send, *, clock: Clock | None = None, batch: int = 200) -> RelayResult:
    """Send up to ``batch`` pending events, oldest first; stop at the first failure."""
    clock = clock or SystemClock()
    sent = 0
    # It reads, then marks what it sent: on SQLite it takes the write lock up front (BEGIN IMMEDIATE), like a unit of
    # work, or a worker's write between the two would refuse it with "database is locked".
    with Session(engine.execution_options(**WRITE_OPTIONS), expire_on_commit=False) as session:
        stmt = (
            select(OutboxEvent)
            .where(col(OutboxEvent.dispatched_at).is_(None))
            .order_by(col(OutboxEvent.id))
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        rows = session.exec(stmt).all()
        for row in rows:
            try:
                send(Event(row.topic, dict(row.payload), row.id))
            except Exception as exc:  # the broker is down or refused: keep the row for the next run
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                session.add(row)
                session.commit()
                return RelayResult(sent, True, row.last_error)
            row.dispatched_at = clock.now()
            row.attempts += 1
            row.last_error = None
            session.add(row)
            sent += 1
        session.commit()
    return RelayResult(sent, False)


def relay_all(engine: Engine, send: Send, *, clock: Clock | None = None, batch: int = 200) -> RelayResult:
    """Relay until nothing is pending or a send fails."""
    total = 0
    while True:
        result = relay(engine, send, clock=clock, batch=batch)
        total += result.dispatched
        if result.failed:
            return RelayResult(total, True, result.error)
        if result.dispatched < batch:
            return RelayResult(total, False)


def pending_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).where(col(OutboxEvent.dispatched_at).is_(None))).one())
