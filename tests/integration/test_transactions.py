"""A savepoint is part of its transaction on every backend: rolling the transaction back undoes what the savepoint
released.  (pysqlite on its own opens a transaction only at the first write, so a SAVEPOINT issued first used to
commit on release; qianfan.db lets SQLAlchemy emit BEGIN.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from qianfan.models import OutboxEvent


def test_rollback_undoes_a_released_savepoint_that_opened_the_transaction(engine: Engine) -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    with Session(engine) as session:
        with session.begin_nested():
            session.add(OutboxEvent(topic="savepoint.first", payload={}, created_at=at))
        session.add(OutboxEvent(topic="after.savepoint", payload={}, created_at=at))
        session.flush()
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(OutboxEvent)).all() == []


def test_commit_keeps_the_savepoint_work(engine: Engine) -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    with Session(engine) as session:
        with session.begin_nested():
            session.add(OutboxEvent(topic="kept", payload={}, created_at=at))
        session.commit()
    with Session(engine) as session:
        assert [e.topic for e in session.exec(select(OutboxEvent)).all()] == ["kept"]
