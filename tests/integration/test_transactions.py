"""A savepoint is part of its transaction on every backend: rolling the transaction back undoes what the savepoint
released.  (pysqlite on its own opens a transaction only at the first write, so a SAVEPOINT issued first used to
commit on release; qianfan.db lets SQLAlchemy emit BEGIN.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
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


INSERT = "INSERT INTO outbox_event (topic, payload, created_at, attempts) VALUES ('{topic}', '{{}}', '2026-11-02', 0)"


def test_a_unit_of_work_on_sqlite_takes_the_write_lock_at_its_first_statement(sqlite_engine: Engine) -> None:
    """BEGIN IMMEDIATE: a use case that reads before it writes cannot be refused the upgrade to a writer while a
    worker writes (that was a 500 "database is locked" under ``make run``); here a second writer waits instead."""
    import sqlite3

    from qianfan.clock import FrozenClock
    from qianfan.uow import UnitOfWork

    at = datetime(2026, 11, 2, tzinfo=UTC)
    path = sqlite_engine.url.database
    assert path
    with UnitOfWork(sqlite_engine, FrozenClock(at)) as uow:
        uow.session.exec(select(OutboxEvent)).all()  # a read only, yet the write lock is held
        other = sqlite3.connect(path, timeout=0.1)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute(INSERT.format(topic="x"))
        finally:
            other.close()
    with Session(sqlite_engine) as session:  # a plain read session does not lock
        session.exec(select(OutboxEvent)).all()
        other = sqlite3.connect(path, timeout=0.1)
        other.execute(
            "INSERT INTO outbox_event (topic, payload, created_at, attempts) VALUES ('y', '{}', '2026-11-02', 0)"
        )
        other.commit()
        other.close()
