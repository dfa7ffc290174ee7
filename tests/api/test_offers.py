"""GET /api/v1/offers and /api/v1/offers/{id}: filters, sorting, pages and errors, read by the programme office
(which sees every offer of any status)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from qianfan.models import OrgKind
from tests.api.conftest import (
    Market,
    TestClient,
    add_organisation,
    add_user,
    assert_error_shape,
    assert_no_floats,
    login,
)

URL = "/api/v1/offers"


@pytest.fixture(autouse=True)
def _as_office(client: TestClient, session: Session) -> None:
    """Every request of this module is made by a programme-office user."""
    office = add_organisation(session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE)
    add_user(session, office, "office")
    client.headers.update(login(client, "office"))
    session.commit()  # end the read transaction the refresh opened: the login has written since


def _names(body: dict, market: Market) -> list[str]:
    by_id = {getattr(market, name).id: name for name in ("hvac_offer", "governance_offer", "gateway_offer")}
    return [by_id[item["id"]] for item in body["items"]]


def test_default_lists_active_offers_newest_first(client: TestClient, market: Market) -> None:
    body = client.get(URL).json()
    assert body["total"] == 2 and body["limit"] == 20 and body["offset"] == 0
    assert _names(body, market) == ["governance_offer", "hvac_offer"]


def test_item_shape_money_and_time(client: TestClient, market: Market) -> None:
    response = client.get(f"{URL}/{market.hvac_offer.id}")
    assert response.status_code == 200
    item = response.json()
    assert item == {
        "id": market.hvac_offer.id,
        "organisation_id": market.green_sme.id,
        "organisation_name": "北京绿能智控科技有限公司",
        "kind": "service",
        "title": "中央空调AI节能控制系统",
        "description": "",
        "category": "green.hvac",
        "category_label": "绿色能源与节能环保 / 建筑与暖通节能",
        "price_min_fen": 50_000_000,
        "price_min": "500000.00",
        "price_max_fen": 1_500_000_000,
        "price_max": "15000000.00",
        "capacity": 12,
        "qualifications": ["hnte", "emc"],
        "keywords": ["中央空调", "合同能源管理"],
        "status": "active",
        "version": 1,
        "created_at": "2026-11-02T09:30:00+08:00",
        "updated_at": "2026-11-02T09:30:00+08:00",
    }
    for key in ("price_min_fen", "price_max_fen", "capacity"):
        assert type(item[key]) is int
    for key in ("price_min", "price_max"):
        assert type(item[key]) is str
    assert_no_floats(item)


def test_withdrawn_offer_is_still_readable_by_id(client: TestClient, market: Market) -> None:
    item = client.get(f"{URL}/{market.gateway_offer.id}").json()
    assert item["status"] == "withdrawn"
    assert (item["price_max_fen"], item["price_max"]) == (5_000_001, "50000.01")
    assert item["organisation_name"] == "北京云图数据科技有限公司"


def test_pagination(client: TestClient, market: Market) -> None:
    body = client.get(URL, params={"limit": 1, "offset": 1}).json()
    assert body["total"] == 2 and body["limit"] == 1 and body["offset"] == 1
    assert _names(body, market) == ["hvac_offer"]
    assert_no_floats(body)


FILTERS_CASES = [
    ({"status": "active"}, ["governance_offer", "hvac_offer"]),
    ({"status": "withdrawn"}, ["gateway_offer"]),
    ({"kind": "technology"}, ["governance_offer"]),
    ({"kind": "product"}, []),  # the only product is withdrawn
    ({"kind": "product", "status": "withdrawn"}, ["gateway_offer"]),
    ({"category": "ict.bigdata"}, ["governance_offer"]),
    ({"category": "ict"}, ["governance_offer"]),
    ({"category": "ict", "status": "withdrawn"}, ["gateway_offer"]),
    ({"category": "green"}, ["hvac_offer"]),
    ({"district": "海淀园"}, ["hvac_offer"]),  # the seller's branch park
    ({"district": "昌平园"}, ["governance_offer"]),
    ({"q": "治理"}, ["governance_offer"]),
    ({"q": "ai"}, ["hvac_offer"]),  # case-insensitive
    ({"min_price": "2000000.01"}, ["hvac_offer"]),  # price_max ≥ min_price
    ({"min_price": "2000000"}, ["governance_offer", "hvac_offer"]),
    ({"max_price": "499999.99"}, ["governance_offer"]),  # price_min ≤ max_price
    ({"min_price": "16000000"}, []),
    ({"max_price": "50000.01", "status": "withdrawn"}, ["gateway_offer"]),
]


def test_filters(client: TestClient, market: Market) -> None:
    for params, expected in FILTERS_CASES:
        response = client.get(URL, params=params)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert _names(body, market) == expected
        assert body["total"] == len(expected)


def test_filter_by_organisation(client: TestClient, market: Market) -> None:
    body = client.get(URL, params={"organisation_id": market.data_sme.id}).json()
    assert _names(body, market) == ["governance_offer"]
    withdrawn = client.get(URL, params={"organisation_id": market.data_sme.id, "status": "withdrawn"}).json()
    assert _names(withdrawn, market) == ["gateway_offer"]


SORTING_CASES = [
    ("-created_at", ["governance_offer", "hvac_offer"]),
    ("created_at", ["hvac_offer", "governance_offer"]),
    ("price_min", ["governance_offer", "hvac_offer"]),
    ("-price_min", ["hvac_offer", "governance_offer"]),
    ("price_max", ["governance_offer", "hvac_offer"]),
    ("-price_max", ["hvac_offer", "governance_offer"]),
    ("-capacity", ["governance_offer", "hvac_offer"]),
]


def test_sorting(client: TestClient, market: Market) -> None:
    for sort, expected in SORTING_CASES:
        assert _names(client.get(URL, params={"sort": sort}).json(), market) == expected


def test_detail_not_found(client: TestClient, market: Market) -> None:
    response = client.get(f"{URL}/55555")
    assert response.status_code == 404
    body = response.json()
    assert_error_shape(body, "not_found")
    assert body["message"] == "供给不存在：55555"
    assert body["message_en"] == "Offer not found: 55555"


INVALID_QUERY_PARAMETERS_CASES = [
    ({"limit": "0"}, "limit"),
    ({"sort": "bogus"}, "sort"),
    ({"sort": "budget"}, "sort"),
    ({"min_price": "1.001"}, "min_price"),
    ({"min_price": "10", "max_price": "9.99"}, "max_price"),
    ({"status": "deleted"}, "status"),
    ({"category": "nope"}, "category"),
    ({"price": "5"}, "price"),
]


def test_invalid_query_parameters(client: TestClient) -> None:
    for params, field in INVALID_QUERY_PARAMETERS_CASES:
        response = client.get(URL, params=params)
        assert response.status_code == 422
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert [entry["field"] for entry in body["detail"]] == [field]
