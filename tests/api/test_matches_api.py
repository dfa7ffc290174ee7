"""Ranked matches through the API: offers for an order (owner and office), orders for an offer (owning SME),
service packages and mentors for a service need (owning SME).  Scores cross JSON as decimal strings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matcher.service import clear_caches
from qianfan.clock import FrozenClock
from qianfan.models import OrgKind
from tests.api.conftest import (
    Market,
    TestClient,
    add_organisation,
    add_qualification,
    assert_error_shape,
    assert_no_floats,
    use_fresh_offer_index,
)
from tests.api.test_orders import Logins

ORDERS = "/api/v1/orders"
OFFERS = "/api/v1/offers"
NEEDS = "/api/v1/service-needs"


@pytest.fixture(autouse=True)
def _fresh_index(app: FastAPI, engine: Engine, clock: FrozenClock, tmp_path: Path) -> Iterator[None]:
    """Each test ranks on an index of its own database (the process-wide caches would outlive the test's rows)."""
    use_fresh_offer_index(app, engine, clock, tmp_path / "offers")
    yield
    clear_caches()


@pytest.fixture
def users(client: TestClient, session: Session) -> Logins:
    return Logins(client, session)


@pytest.fixture
def qualified(session: Session, market: Market) -> Market:
    """The HVAC SME holds the certificates the HVAC order requires."""
    add_qualification(session, market.green_sme, "hnte", valid_until=date(2027, 12, 31))
    add_qualification(session, market.green_sme, "emc")
    return market


def _check_ranked(body: dict, ids: list[int | None]) -> None:
    assert_no_floats(body)
    assert [entry["item"]["id"] for entry in body["items"]] == ids
    assert body["total"] == len(ids)
    for rank, entry in enumerate(body["items"], 1 + body["offset"]):
        assert entry["rank"] == rank
        assert float(entry["score"]) > 0 and len(entry["score"].split(".")[1]) == 4
        assert entry["why"]
        assert all(isinstance(value, str) for value in entry["contributions"].values())


def test_offers_ranked_for_an_order(client: TestClient, qualified: Market, users: Logins) -> None:
    market = qualified
    url = f"{ORDERS}/{market.hvac_order.id}/matches"
    energy = users(market.energy)
    response = client.get(url, headers=energy)
    assert response.status_code == 200, response.text
    body = response.json()
    # The data SME lacks the required certificates and the gateway is withdrawn: only the HVAC offer qualifies.
    _check_ranked(body, [market.hvac_offer.id])
    top = body["items"][0]
    assert top["item"]["organisation_name"] == "北京绿能智控科技有限公司"
    assert (top["item"]["price_min_fen"], top["item"]["price_min"]) == (50_000_000, "500000.00")
    assert top["folded"] == []
    # The programme office sees the same ranking.
    assert client.get(url, headers=users.kind(OrgKind.PROGRAMME_OFFICE)).json() == body

    score = top["score"]
    for params, ids in [
        ({"district": "海淀园"}, [market.hvac_offer.id]),
        ({"district": "昌平园"}, []),
        ({"qualification": "zjtx"}, []),
        ({"qualification": ["hnte", "emc"]}, [market.hvac_offer.id]),
        ({"category": "green.hvac"}, [market.hvac_offer.id]),
        ({"category": "ict.cloud"}, []),
        ({"min_score": score}, [market.hvac_offer.id]),
        ({"min_score": "99"}, []),
        ({"offset": 1}, []),
    ]:
        page = client.get(url, headers=energy, params=params)
        assert page.status_code == 200, (params, page.text)
        assert [entry["item"]["id"] for entry in page.json()["items"]] == ids, params
    assert client.get(url, headers=energy, params={"offset": 1}).json()["total"] == 1


def test_order_matches_are_for_the_owner_and_the_office(client: TestClient, qualified: Market, users: Logins) -> None:
    market = qualified
    url = f"{ORDERS}/{market.hvac_order.id}/matches"
    foreign = client.get(url, headers=users(market.tech))
    assert foreign.status_code == 404
    assert_error_shape(foreign.json(), "not_found")
    assert "空调" not in foreign.text
    for headers in (users(market.green_sme), users.kind(OrgKind.SERVICE_PROVIDER), users.kind(OrgKind.BANK)):
        response = client.get(url, headers=headers)
        assert response.status_code == 403
        assert_error_shape(response.json(), "permission_denied")
    assert client.get(url, headers={"Authorization": ""}).status_code == 401
    energy = users(market.energy)
    assert client.get(f"{ORDERS}/987654/matches", headers=energy).status_code == 404
    for params, field in [
        ({"limit": "101"}, "limit"),
        ({"min_score": "-1"}, "min_score"),
        ({"district": "火星园"}, "district.0"),
        ({"qualification": "nobel"}, "qualification.0"),
        ({"sort": "score"}, "sort"),
    ]:
        response = client.get(url, headers=energy, params=params)
        assert response.status_code == 422, params
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == field
        assert body["message"] != body["message_en"]


def test_orders_ranked_for_an_offer(client: TestClient, qualified: Market, users: Logins) -> None:
    market = qualified
    data = users(market.data_sme)
    url = f"{OFFERS}/{market.governance_offer.id}/matches"
    response = client.get(url, headers=data)
    assert response.status_code == 200, response.text
    body = response.json()
    # Open orders only, and not the HVAC order: it requires certificates the data SME does not hold.
    _check_ranked(body, [market.datahub_order.id])
    order = body["items"][0]["item"]
    assert (order["budget_fen"], order["budget"], order["status"]) == (300_000_000, "3000000.00", "open")
    assert client.get(url, headers=data, params={"district": "朝阳园"}).json()["total"] == 0

    green = users(market.green_sme)
    hvac_ranking = client.get(f"{OFFERS}/{market.hvac_offer.id}/matches", headers=green).json()
    assert hvac_ranking["items"][0]["item"]["id"] == market.hvac_order.id  # it holds the certificates
    foreign = client.get(url, headers=green)
    assert foreign.status_code == 404
    assert "数据治理" not in foreign.text
    for headers in (users(market.energy), users.kind(OrgKind.PROGRAMME_OFFICE)):
        assert client.get(url, headers=headers).status_code == 403


def test_packages_and_mentors_ranked_for_a_need(
    client: TestClient, market: Market, users: Logins, session: Session
) -> None:
    provider = users(add_organisation(session, "北京启航硬科技孵化器有限公司", kind=OrgKind.SERVICE_PROVIDER))
    incubation = client.post(
        "/api/v1/service-packages",
        headers=provider,
        json={"title": "节能技术企业孵化加速服务包", "category": "services.incubation", "value": "50000"},
    ).json()
    patents = client.post(
        "/api/v1/service-packages",
        headers=provider,
        json={"title": "暖通节能专利布局服务", "category": "services.consulting", "value": "8000"},
    ).json()
    mentor = client.post(
        "/api/v1/mentors",
        headers=provider,
        json={"name": "王立新", "headline": "暖通节能与合同能源管理专家", "expertise": ["green.hvac"]},
    ).json()
    client.post(
        "/api/v1/mentors",
        headers=provider,
        json={"name": "李青", "headline": "医疗器械注册专家", "expertise": ["health.device"]},
    )
    green = users(market.green_sme)
    need = client.post(
        NEEDS,
        headers=green,
        json={"title": "暖通节能专利布局", "description": "中央空调节能控制的专利", "category": "services.consulting"},
    ).json()

    packages = client.get(f"{NEEDS}/{need['id']}/packages", headers=green)
    assert packages.status_code == 200, packages.text
    body = packages.json()
    assert_no_floats(body)
    ids = [entry["item"]["id"] for entry in body["items"]]
    assert ids[0] == patents["id"] and set(ids) <= {patents["id"], incubation["id"]}
    assert body["items"][0]["item"]["value"] == "8000.00"
    cheap = client.get(f"{NEEDS}/{need['id']}/packages", headers=green, params={"max_value": "10000"}).json()
    assert [entry["item"]["id"] for entry in cheap["items"]] == [patents["id"]]

    mentors = client.get(f"{NEEDS}/{need['id']}/mentors", headers=green)
    assert mentors.status_code == 200, mentors.text
    assert mentors.json()["items"][0]["item"]["id"] == mentor["id"]
    assert_no_floats(mentors.json())
    only_health = client.get(f"{NEEDS}/{need['id']}/mentors", headers=green, params={"category": "health.device"})
    assert mentor["id"] not in [entry["item"]["id"] for entry in only_health.json()["items"]]

    for path in ("packages", "mentors"):
        foreign = client.get(f"{NEEDS}/{need['id']}/{path}", headers=users(market.data_sme))
        assert foreign.status_code == 404
        assert "专利" not in foreign.text
        assert client.get(f"{NEEDS}/{need['id']}/{path}", headers=provider).status_code == 403
