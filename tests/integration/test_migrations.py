"""Alembic migrations are the single source of the schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import qianfan.models  # noqa: F401
from qianfan.db import make_engine
from qianfan.migrate import current_revision, downgrade, head_revision, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scratch_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    # A separate database so the session-wide migrated one is untouched.
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base_url = request.getfixturevalue("postgres_url")
    admin = make_engine(base_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"qianfan_mig_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"autogenerate found differences between models and migrations: {diff}"


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    engine = make_engine(scratch_url)
    upgrade(scratch_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"organisation", "demand_order", "offer", "contract", "audit_event"} <= tables

    downgrade(scratch_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None

    upgrade(scratch_url)
    assert set(inspect(engine).get_table_names()) == tables
    assert current_revision(engine) == head_revision()
    engine.dispose()
