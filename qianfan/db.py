"""Engines and sessions.  One code path for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from qianfan.config import get_settings

SQLITE_BEGIN_OPTION = "qianfan_sqlite_begin"
#: Execution options of a session that will write (``UnitOfWork``); ignored by PostgreSQL.
WRITE_OPTIONS = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}

#: Connections per process: the web server runs sync routes on a pool of 40 threads, and a request may hold two
#: connections at once (a read session beside a use case's unit of work).  SQLAlchemy's default (5 + 10 overflow)
#: let 15 requests each hold one and wait for a second until the 30 s timeout (500s under load, bench/api_load).
POOL = {"pool_size": 10, "max_overflow": 40, "pool_timeout": 30}


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout so it behaves like a server."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if database and database != ":memory:":
            kwargs.update(POOL)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Let SQLAlchemy, not the driver, open transactions: pysqlite otherwise starts one only at the first
            # write, so a SAVEPOINT issued first would commit on release (the documented SQLAlchemy recipe).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A unit of work asks for BEGIN IMMEDIATE (``WRITE_OPTIONS``): it takes SQLite's write lock up front,
            # waiting up to the busy timeout, instead of failing at once with "database is locked" when a read
            # transaction tries to become a writer while another process (a worker, the relay) is writing.
            immediate = conn.get_execution_options().get(SQLITE_BEGIN_OPTION) == "IMMEDIATE"
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs["pool_pre_ping"] = True
    kwargs.update(POOL)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": 5}  # an unreachable server fails fast, never hangs /health
    return create_engine(url, **kwargs)


@lru_cache(maxsize=4)
def _engine_for(url: str, echo: bool) -> Engine:
    return make_engine(url, echo=echo)


def get_engine() -> Engine:
    settings = get_settings()
    return _engine_for(settings.database_url, settings.sql_echo)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A read-only convenience session (writes go through :class:`qianfan.uow.UnitOfWork`)."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session
