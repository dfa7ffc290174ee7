"""One unit of work per use case: open, check rules, write, commit once.  Events published inside it go to the
outbox in the same transaction and reach subscribers only after the commit."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from qianfan import audit
from qianfan.clock import Clock, SystemClock
from qianfan.db import WRITE_OPTIONS, get_engine
from qianfan.events import Event, dispatch_committed
from qianfan.models.system import AuditEvent, OutboxEvent


class UnitOfWork:
    def __init__(self, engine: Engine | None = None, clock: Clock | None = None) -> None:
        self.engine = engine or get_engine()
        self.clock: Clock = clock or SystemClock()
        self._outbox: list[OutboxEvent] = []
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        # On SQLite the transaction starts with BEGIN IMMEDIATE (see ``qianfan.db``): a use case writes.
        self.session = Session(self.engine.execution_options(**WRITE_OPTIONS), expire_on_commit=False)
        self._outbox = []
        self._committed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                if exc_type is None:
                    # Nothing to write (an idempotent no-op): keep what was read usable after close.
                    self.session.expunge_all()
                self.session.rollback()
        finally:
            self.session.close()

    def publish(self, topic: str, **payload: Any) -> None:
        row = OutboxEvent(topic=topic, payload=payload, created_at=self.clock.now())
        self.session.add(row)
        self._outbox.append(row)

    def audit(
        self, entity_type: str, entity_id: int, action: str, *, actor_id: int | None = None, **payload: Any
    ) -> AuditEvent:
        return audit.append(
            self.session,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            at=self.clock.now(),
            actor_id=actor_id,
            payload=payload,
        )

    def commit(self) -> None:
        self.session.commit()
        self._committed = True
        events = [Event(row.topic, dict(row.payload), row.id) for row in self._outbox]
        self._outbox = []
        dispatch_committed(events)

    def rollback(self) -> None:
        self.session.rollback()
        self._outbox = []
