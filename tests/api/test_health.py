"""GET /health: 200 when the database is reachable and migrated, 503 "degraded" otherwise."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

import qianfan
from api.app import create_app
from qianfan.db import make_engine
from tests.api.conftest import TestClient


def _health(engine: Engine) -> tuple[int, dict[str, str]]:
    with TestClient(create_app(engine=engine)) as client:
        response = client.get("/health")
    return response.status_code, response.json()


def _unmigrated(engine: Engine, tmp_path: Path) -> Engine:
    """An empty database of the same kind: a new SQLite file, or a PostgreSQL search path with no tables."""
    if engine.dialect.name == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    url = engine.url.render_as_string(hide_password=False)
    return sa.create_engine(url, connect_args={"options": "-c search_path=qianfan_no_such_schema"})


def _unreachable(engine: Engine, tmp_path: Path) -> Engine:
    if engine.dialect.name == "sqlite":
        return sa.create_engine(f"sqlite:///{tmp_path}")  # a directory cannot be opened as a database
    url = make_url(engine.url.render_as_string(hide_password=False)).set(host="127.0.0.1", port=1)
    return sa.create_engine(url, connect_args={"connect_timeout": 2})


def test_health_ok(engine: Engine) -> None:
    status, body = _health(engine)
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "schema": "up_to_date", "version": qianfan.__version__}


def test_health_behind_on_unmigrated_database(engine: Engine, tmp_path: Path) -> None:
    empty = _unmigrated(engine, tmp_path)
    try:
        status, body = _health(empty)
    finally:
        empty.dispose()
    assert status == 503
    assert body == {
        "status": "degraded",
        "database": "ok",
        "schema": "behind",
        "version": qianfan.__version__,
    }


def test_health_degraded_when_database_unreachable(engine: Engine, tmp_path: Path) -> None:
    broken = _unreachable(engine, tmp_path)
    try:
        status, body = _health(broken)
    finally:
        broken.dispose()
    assert status == 503
    assert body == {
        "status": "degraded",
        "database": "unreachable",
        "schema": "unknown",
        "version": qianfan.__version__,
    }
