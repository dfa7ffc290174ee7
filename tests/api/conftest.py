"""API test fixtures: an app on the migrated test database (SQLite and PostgreSQL), a frozen clock, and rows
inserted directly as model instances (no use cases: the API's read side is tested on its own)."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client and says so once, at import; httpx still works.
    warnings.filterwarnings("ignore", message=r".*install `httpx2` instead", category=UserWarning)
    from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_clock
from qianfan.clock import FrozenClock
from qianfan.models import (
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderKind,
    OrderStatus,
    Organisation,
    OrgKind,
    Qualification,
)

#: 2026-11-02 01:30 UTC = 09:30 in Beijing.
T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)

_serial = itertools.count(1)


@pytest.fixture
def app(engine: Engine, clock: FrozenClock) -> FastAPI:
    application = create_app(engine=engine)
    application.dependency_overrides[get_clock] = lambda: clock
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def add_organisation(session: Session, name: str, **fields: Any) -> Organisation:
    n = next(_serial)
    values: dict[str, Any] = {
        "kind": OrgKind.SME,
        "credit_code": f"91110108TEST{n:06d}",
        "district": "海淀园",
        "created_at": T0,
    }
    values.update(fields)
    org = Organisation(name=name, **values)
    session.add(org)
    session.commit()
    session.refresh(org)
    return org


def add_order(session: Session, buyer: Organisation, title: str, **fields: Any) -> Order:
    values: dict[str, Any] = {
        "kind": OrderKind.PROCUREMENT,
        "category": "ict.cloud",
        "budget_fen": 100_000_00,
        "district": buyer.district,
        "deadline": date(2026, 12, 31),
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    assert buyer.id is not None
    order = Order(organisation_id=buyer.id, title=title, **values)
    session.add(order)
    session.commit()
    session.refresh(order)
    return order


def add_offer(session: Session, seller: Organisation, title: str, **fields: Any) -> Offer:
    values: dict[str, Any] = {
        "kind": OfferKind.SERVICE,
        "category": "ict.cloud",
        "price_min_fen": 10_000_00,
        "price_max_fen": 100_000_00,
        "capacity": 5,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    assert seller.id is not None
    offer = Offer(organisation_id=seller.id, title=title, **values)
    session.add(offer)
    session.commit()
    session.refresh(offer)
    return offer


def add_qualification(session: Session, org: Organisation, code: str, **fields: Any) -> Qualification:
    assert org.id is not None
    qualification = Qualification(organisation_id=org.id, code=code, **fields)
    session.add(qualification)
    session.commit()
    session.refresh(qualification)
    return qualification


@dataclass
class Market:
    """A small marketplace: two large firms, two SMEs, four orders, three offers."""

    energy: Organisation
    tech: Organisation
    green_sme: Organisation
    data_sme: Organisation
    hvac_order: Order
    datahub_order: Order
    cloud_investment: Order
    storage_merger: Order
    hvac_offer: Offer
    governance_offer: Offer
    gateway_offer: Offer

    def ids(self, *rows: Order | Offer | Organisation) -> list[int | None]:
        return [row.id for row in rows]


@pytest.fixture
def market(session: Session) -> Market:
    energy = add_organisation(
        session,
        "北京京能集团有限责任公司",
        name_en="Beijing Energy Holding",
        kind=OrgKind.LARGE_FIRM,
        district="朝阳园",
        cluster="green",
    )
    tech = add_organisation(session, "中关村智慧城市集团", kind=OrgKind.LARGE_FIRM, district="海淀园", cluster="ict")
    green_sme = add_organisation(
        session,
        "北京绿能智控科技有限公司",
        name_en="Beijing GreenCtrl Technology",
        district="海淀园",
        cluster="green",
    )
    data_sme = add_organisation(session, "北京云图数据科技有限公司", district="昌平园", cluster="ict")

    hvac_order = add_order(
        session,
        energy,
        "园区中央空调节能改造",
        category="green.hvac",
        budget_fen=1_250_000_000,  # 12,500,000.00
        deadline=date(2026, 12, 31),
        required_qualifications=["hnte", "emc"],
        created_at=T0,
    )
    datahub_order = add_order(
        session,
        tech,
        "城市数据中台建设",
        category="ict.bigdata",
        budget_fen=300_000_000,  # 3,000,000.00
        deadline=date(2026, 12, 15),
        created_at=T0 + timedelta(hours=1),
    )
    cloud_investment = add_order(
        session,
        tech,
        "政务云平台企业投资",
        kind=OrderKind.INVESTMENT,
        category="ict.cloud",
        budget_fen=5_000_000_000,  # 50,000,000.00
        deadline=date(2027, 3, 1),
        status=OrderStatus.CLOSED,
        created_at=T0 + timedelta(hours=2),
        closed_at=T0 + timedelta(days=3),
    )
    storage_merger = add_order(
        session,
        energy,
        "储能企业并购 100%_股权",
        kind=OrderKind.MERGER,
        category="green.grid",
        budget_fen=80_000_050,  # 800,000.50
        district="亦庄园",
        deadline=date(2027, 1, 10),
        status=OrderStatus.AWARDED,
        created_at=T0 + timedelta(hours=3),
    )

    hvac_offer = add_offer(
        session,
        green_sme,
        "中央空调AI节能控制系统",
        category="green.hvac",
        price_min_fen=50_000_000,  # 500,000.00
        price_max_fen=1_500_000_000,  # 15,000,000.00
        capacity=12,
        qualifications=["hnte", "emc"],
        keywords=["中央空调", "合同能源管理"],
        created_at=T0,
    )
    governance_offer = add_offer(
        session,
        data_sme,
        "数据治理平台",
        kind=OfferKind.TECHNOLOGY,
        category="ict.bigdata",
        price_min_fen=20_000_000,  # 200,000.00
        price_max_fen=200_000_000,  # 2,000,000.00
        capacity=30,
        created_at=T0 + timedelta(hours=1),
    )
    gateway_offer = add_offer(
        session,
        data_sme,
        "边缘物联网网关",
        kind=OfferKind.PRODUCT,
        category="ict.iot",
        price_min_fen=1_000_000,  # 10,000.00
        price_max_fen=5_000_001,  # 50,000.01
        capacity=500,
        status=OfferStatus.WITHDRAWN,
        created_at=T0 + timedelta(hours=2),
    )
    return Market(
        energy,
        tech,
        green_sme,
        data_sme,
        hvac_order,
        datahub_order,
        cloud_investment,
        storage_merger,
        hvac_offer,
        governance_offer,
        gateway_offer,
    )


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error", "message", "message_en", "detail"}
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["message_en"], str) and body["message_en"]


def assert_no_floats(value: Any) -> None:
    """Money (and everything else here) crosses JSON as strings or integers, never as a float."""
    if isinstance(value, dict):
        for item in value.values():
            assert_no_floats(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_floats(item)
    else:
        assert not isinstance(value, float), value


# ---------------------------------------------------------------------------------------------- logged-in users

#: One password for every test user, hashed once (argon2 is slow on purpose).
TEST_PASSWORD = "qianfan-test-pass"
_TEST_PASSWORD_HASH: list[str] = []


def add_user(session: Session, org: Organisation, username: str, role: Any = None, **fields: Any) -> Any:
    """A user of *org* with :data:`TEST_PASSWORD`."""
    from qianfan.models import User, UserRole
    from qianfan.security import hash_password

    if not _TEST_PASSWORD_HASH:
        _TEST_PASSWORD_HASH.append(hash_password(TEST_PASSWORD))
    assert org.id is not None
    user = User(
        organisation_id=org.id,
        username=username,
        display_name=fields.pop("display_name", username),
        role=role or UserRole.ADMIN,
        password_hash=_TEST_PASSWORD_HASH[0],
        created_at=T0,
        **fields,
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def login(client: TestClient, username: str, password: str = TEST_PASSWORD) -> dict[str, str]:
    """Log in through the token endpoint; the ``Authorization`` header to send."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def use_fresh_offer_index(app: FastAPI, engine: Engine, clock: FrozenClock, directory: Any) -> None:
    """Rank on an offer index of this test's own database, in *directory*: the process-wide index (under
    ``var/``) and the matcher's caches would otherwise outlive the test's rows."""
    from api.routes.lists import get_offer_index
    from matcher.service import OfferIndexStore, clear_caches

    clear_caches()
    store = OfferIndexStore(engine, directory, clock=clock, sync_interval=0.0)
    app.dependency_overrides[get_offer_index] = lambda: store
