"""GET /api/v1/orders and /api/v1/orders/{id}: filters, sorting, pages and errors, read by the programme office
(which sees every order).  Writes, matches and tenant scoping are in test_orders_write.py-style tests below."""

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

URL = "/api/v1/orders"


@pytest.fixture(autouse=True)
def _as_office(client: TestClient, session: Session) -> None:
    """Every request of this module is made by a programme-office user (it reads all orders)."""
    office = add_organisation(session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE)
    add_user(session, office, "office")
    client.headers.update(login(client, "office"))
    session.commit()  # end the read transaction the refresh opened: the login has written since


def _names(body: dict, market: Market) -> list[str]:
    by_id = {
        getattr(market, name).id: name for name in ("hvac_order", "datahub_order", "cloud_investment", "storage_merger")
    }
    return [by_id[item["id"]] for item in body["items"]]


def test_list_default_newest_first(client: TestClient, market: Market) -> None:
    body = client.get(URL).json()
    assert body["total"] == 4 and body["limit"] == 20 and body["offset"] == 0
    assert _names(body, market) == ["storage_merger", "cloud_investment", "datahub_order", "hvac_order"]


def test_item_shape_money_and_time(client: TestClient, market: Market) -> None:
    response = client.get(f"{URL}/{market.hvac_order.id}")
    assert response.status_code == 200
    item = response.json()
    assert item == {
        "id": market.hvac_order.id,
        "organisation_id": market.energy.id,
        "organisation_name": "北京京能集团有限责任公司",
        "kind": "procurement",
        "title": "园区中央空调节能改造",
        "description": "",
        "category": "green.hvac",
        "category_label": "绿色能源与节能环保 / 建筑与暖通节能",
        "budget_fen": 1_250_000_000,
        "budget": "12500000.00",
        "district": "朝阳园",
        "deadline": "2026-12-31",
        "required_qualifications": ["hnte", "emc"],
        "status": "open",
        "version": 1,
        "created_at": "2026-11-02T09:30:00+08:00",
        "updated_at": "2026-11-02T09:30:00+08:00",
        "closed_at": None,
    }
    assert type(item["budget_fen"]) is int and type(item["budget"]) is str
    assert_no_floats(item)


def test_money_never_float_in_lists(client: TestClient, market: Market) -> None:
    body = client.get(URL).json()
    assert_no_floats(body)
    budgets = {item["id"]: (item["budget_fen"], item["budget"]) for item in body["items"]}
    assert budgets[market.storage_merger.id] == (80_000_050, "800000.50")
    assert budgets[market.cloud_investment.id] == (5_000_000_000, "50000000.00")
    closed = next(item for item in body["items"] if item["id"] == market.cloud_investment.id)
    assert closed["closed_at"] == "2026-11-05T09:30:00+08:00"


def test_pagination(client: TestClient, market: Market) -> None:
    first = client.get(URL, params={"limit": 3}).json()
    second = client.get(URL, params={"limit": 3, "offset": 3}).json()
    assert first["total"] == second["total"] == 4
    assert (first["limit"], first["offset"], second["offset"]) == (3, 0, 3)
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert _names(first, market) + _names(second, market) == _names(client.get(URL).json(), market)


FILTERS_CASES = [
    ({"kind": "procurement"}, ["datahub_order", "hvac_order"]),
    ({"kind": "merger"}, ["storage_merger"]),
    ({"status": "open"}, ["datahub_order", "hvac_order"]),
    ({"status": "closed"}, ["cloud_investment"]),
    ({"status": "awarded"}, ["storage_merger"]),
    ({"category": "ict.cloud"}, ["cloud_investment"]),
    ({"category": "ict"}, ["cloud_investment", "datahub_order"]),  # a cluster matches ict.*
    ({"category": "green"}, ["storage_merger", "hvac_order"]),
    ({"category": "health"}, []),
    ({"district": "海淀园"}, ["cloud_investment", "datahub_order"]),
    ({"district": "亦庄园"}, ["storage_merger"]),
    ({"q": "数据"}, ["datahub_order"]),
    ({"q": "100%_"}, ["storage_merger"]),  # wildcards are literal
    ({"q": "%"}, ["storage_merger"]),
    ({"q": "  "}, ["storage_merger", "cloud_investment", "datahub_order", "hvac_order"]),
    ({"min_budget": "3000000"}, ["cloud_investment", "datahub_order", "hvac_order"]),
    ({"min_budget": "3000000.01"}, ["cloud_investment", "hvac_order"]),
    ({"max_budget": "3000000.00"}, ["storage_merger", "datahub_order"]),
    ({"max_budget": "800000.49"}, []),
    ({"min_budget": "800000.50", "max_budget": "800000.50"}, ["storage_merger"]),
    ({"min_budget": "1,000,000", "max_budget": "20000000"}, ["datahub_order", "hvac_order"]),
    ({"kind": "procurement", "status": "open", "category": "green", "district": "朝阳园"}, ["hvac_order"]),
]


def test_filters(client: TestClient, market: Market) -> None:
    for params, expected in FILTERS_CASES:
        response = client.get(URL, params=params)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert _names(body, market) == expected
        assert body["total"] == len(expected)


def test_filter_by_organisation(client: TestClient, market: Market) -> None:
    body = client.get(URL, params={"organisation_id": market.tech.id}).json()
    assert _names(body, market) == ["cloud_investment", "datahub_order"]
    assert {item["organisation_name"] for item in body["items"]} == {"中关村智慧城市集团"}
    assert client.get(URL, params={"organisation_id": market.green_sme.id}).json()["total"] == 0


SORTING_CASES = [
    ("-created_at", ["storage_merger", "cloud_investment", "datahub_order", "hvac_order"]),
    ("created_at", ["hvac_order", "datahub_order", "cloud_investment", "storage_merger"]),
    ("budget", ["storage_merger", "datahub_order", "hvac_order", "cloud_investment"]),
    ("-budget", ["cloud_investment", "hvac_order", "datahub_order", "storage_merger"]),
    ("deadline", ["datahub_order", "hvac_order", "storage_merger", "cloud_investment"]),
    ("-deadline", ["cloud_investment", "storage_merger", "hvac_order", "datahub_order"]),
]


def test_sorting(client: TestClient, market: Market) -> None:
    for sort, expected in SORTING_CASES:
        assert _names(client.get(URL, params={"sort": sort}).json(), market) == expected


def test_sorting_with_pagination(client: TestClient, market: Market) -> None:
    page = client.get(URL, params={"sort": "-budget", "limit": 2, "offset": 1}).json()
    assert _names(page, market) == ["hvac_order", "datahub_order"]
    assert page["total"] == 4


def test_detail_not_found(client: TestClient, market: Market) -> None:
    response = client.get(f"{URL}/987654")
    assert response.status_code == 404
    body = response.json()
    assert_error_shape(body, "not_found")
    assert body == {
        "error": "not_found",
        "message": "订单不存在：987654",
        "message_en": "Order not found: 987654",
        "detail": None,
    }


INVALID_QUERY_PARAMETERS_CASES = [
    ({"limit": "0"}, "limit", "数值过小"),
    ({"limit": "201"}, "limit", "数值过大"),
    ({"limit": "ten"}, "limit", "应为整数"),
    ({"offset": "-1"}, "offset", "数值过小"),
    ({"sort": "bogus"}, "sort", "不支持的排序方式"),
    ({"sort": "title"}, "sort", "不支持的排序方式"),
    ({"min_budget": "1.001"}, "min_budget", "金额最小单位为分"),
    ({"min_budget": "abc"}, "min_budget", "金额格式无效"),
    ({"min_budget": "-5"}, "min_budget", "金额不能为负数"),
    ({"max_budget": "NaN"}, "max_budget", "金额格式无效"),
    ({"min_budget": "200", "max_budget": "100"}, "max_budget", "不能低于最低预算"),
    ({"kind": "gift"}, "kind", "取值不在允许范围内"),
    ({"status": "OPEN"}, "status", "取值不在允许范围内"),
    ({"category": "ict.cooking"}, "category", "未知的类别或产业集群"),
    ({"district": "火星园"}, "district", "未知的分园"),
    ({"organisation_id": "0"}, "organisation_id", "数值过小"),
    ({"budget": "100"}, "budget", "不允许的字段"),  # misspelt filter: refused, not ignored
]


def test_invalid_query_parameters(client: TestClient, market: Market) -> None:
    for params, field, fragment_zh in INVALID_QUERY_PARAMETERS_CASES:
        response = client.get(URL, params=params)
        assert response.status_code == 422
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert len(body["detail"]) == 1
        entry = body["detail"][0]
        assert set(entry) == {"field", "message", "message_en"}
        assert entry["field"] == field
        assert fragment_zh in entry["message"]
        assert entry["message_en"] and entry["message_en"] != entry["message"]
        assert body["message"] == f"请求参数有误（{field}）：{entry['message']}"
        assert body["message_en"] == f"Invalid request parameter ({field}): {entry['message_en']}"


def test_unknown_sort_message_lists_the_choices(client: TestClient) -> None:
    entry = client.get(URL, params={"sort": "bogus"}).json()["detail"][0]
    assert entry["message"] == (
        "不支持的排序方式：bogus；可选：-created_at、created_at、budget、-budget、deadline、-deadline"
    )
    assert entry["message_en"] == (
        "Unsupported sort: bogus; choose one of: -created_at, created_at, budget, -budget, deadline, -deadline"
    )


def test_several_bad_parameters_are_all_reported(client: TestClient) -> None:
    body = client.get(URL, params={"limit": "0", "sort": "bogus", "min_budget": "1.001"}).json()
    assert sorted(entry["field"] for entry in body["detail"]) == ["limit", "min_budget", "sort"]


def test_invalid_path_id(client: TestClient) -> None:
    for bad_id in ["0", "-1", "abc", "2147483648", "1.5"]:
        response = client.get(f"{URL}/{bad_id}")
        assert response.status_code == 422
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == "order_id"
