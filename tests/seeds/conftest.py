"""The demo seed is big: load it once per backend for a whole test module (and clean up afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from qianfan.clock import FrozenClock
from qianfan.db import make_engine
from qianfan.migrate import upgrade
from qianfan.models import Offer, Order, Organisation
from seeds.demo import load_demo
from seeds.report import DemoReport
from tests.conftest import clean_tables

#: The same moment as the shared ``clock`` fixture: 09:30 Beijing time on a Monday.
SEED_MOMENT = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


@dataclass(frozen=True)
class Snapshot:
    """What must come out the same from every fresh load: rows in insertion order, and table sizes."""

    offer_titles: list[str]
    orders: list[tuple[str, int]]
    credit_codes: list[str]
    counts: dict[str, int]


def snapshot(engine: Engine) -> Snapshot:
    with Session(engine) as s:
        return Snapshot(
            list(s.exec(select(Offer.title).order_by(col(Offer.id))).all()),
            [(o.title, o.budget_fen) for o in s.exec(select(Order).order_by(col(Order.id))).all()],
            list(s.exec(select(Organisation.credit_code).order_by(col(Organisation.id))).all()),
            table_counts(engine),
        )


@pytest.fixture(scope="session")
def reference_demo(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """A fresh load into a database of its own, to compare every backend's fresh load with."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        load_demo(engine, FrozenClock(SEED_MOMENT))
        return snapshot(engine)
    finally:
        engine.dispose()


@dataclass
class DemoDb:
    engine: Engine
    clock: FrozenClock
    first: DemoReport
    second: DemoReport
    after_first: Snapshot
    counts_after_second: dict[str, int]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_db(request: pytest.FixtureRequest) -> Iterator[DemoDb]:
    """A database holding the demo data set, loaded twice (the second load must create nothing)."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    clean_tables(engine)
    clock = FrozenClock(SEED_MOMENT)
    first = load_demo(engine, clock)
    after_first = snapshot(engine)
    second = load_demo(engine, clock)
    after_second = table_counts(engine)
    try:
        yield DemoDb(engine, clock, first, second, after_first, after_second)
    finally:
        clean_tables(engine)
