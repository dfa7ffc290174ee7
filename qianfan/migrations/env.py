"""Alembic environment: the schema's single source is these migrations, compared against SQLModel.metadata."""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import qianfan.models  # noqa: F401  (registers every table)
from qianfan.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTERs
        compare_type=True,
    )
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); other tables' rows refer to it, so SQLite's foreign
        # keys are switched off for the migration (only possible outside a transaction) and checked at its end.
        _raw_pragma(connection, "PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            _raw_pragma(connection, "PRAGMA foreign_keys=ON")


def _raw_pragma(connection: Connection, sql: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
