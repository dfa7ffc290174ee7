"""/api/v1/orders: reads (filters, sorting, pages, errors) by the programme office, which sees every order; then
tenant scoping, posting, editing, closing, shortlisting and rejecting.  Ranked matches: test_matches_api.py."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from qianfan.models import Organisation, OrgKind
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


# ------------------------------------------------------------------------------------- tenancy, writes, decisions


class Logins:
    """Users of the given organisations, each logged in once per test (argon2 makes a login cost ~0.2 s)."""

    def __init__(self, client: TestClient, session: Session) -> None:
        self.client, self.session = client, session
        self.headers: dict[int | None, dict[str, str]] = {}

    def __call__(self, org: Organisation) -> dict[str, str]:
        if org.id not in self.headers:
            add_user(self.session, org, f"user{org.id}")
            self.headers[org.id] = login(self.client, f"user{org.id}")
            self.session.commit()  # the login wrote: end the session's read transaction
        return self.headers[org.id]

    def kind(self, kind: OrgKind) -> dict[str, str]:
        """A user of a new organisation of *kind*."""
        return self(add_organisation(self.session, f"某{kind.value}机构", kind=kind))


@pytest.fixture
def users(client: TestClient, session: Session) -> Logins:
    return Logins(client, session)


NEW_ORDER = {
    "kind": "procurement",
    "title": "  智慧园区能耗监测平台  ",
    "description": "覆盖20栋楼宇的分项计量与能耗分析",
    "category": "green.hvac",
    "budget": "1500000.50",
    "district": "朝阳园",
    "deadline": "2026-12-20",
    "required_qualifications": ["hnte", "hnte"],
}


def test_every_order_route_needs_a_token(client: TestClient, market: Market) -> None:
    anonymous = {"Authorization": ""}
    oid = market.hvac_order.id
    for method, url in [
        ("GET", URL),
        ("GET", f"{URL}/{oid}"),
        ("POST", URL),
        ("PATCH", f"{URL}/{oid}"),
        ("POST", f"{URL}/{oid}/close"),
        ("GET", f"{URL}/{oid}/matches"),
        ("POST", f"{URL}/{oid}/shortlist"),
        ("POST", f"{URL}/{oid}/reject"),
    ]:
        response = client.request(method, url, headers=anonymous, json={})
        assert response.status_code == 401, (method, url)
        assert_error_shape(response.json(), "unauthenticated")


def test_a_large_firm_sees_only_its_own_orders(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    body = client.get(URL, headers=energy).json()
    assert _names(body, market) == ["storage_merger", "hvac_order"] and body["total"] == 2
    # Asking for another firm's orders by filter gives nothing; by id, a 404 that says nothing about it.
    assert client.get(URL, headers=energy, params={"organisation_id": market.tech.id}).json()["total"] == 0
    response = client.get(f"{URL}/{market.datahub_order.id}", headers=energy)
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    assert "城市数据中台" not in response.text
    missing = client.get(f"{URL}/987654", headers=energy).json()
    assert {k: v for k, v in missing.items() if k not in ("message", "message_en")} == {
        k: v for k, v in response.json().items() if k not in ("message", "message_en")
    }


def test_smes_and_providers_see_all_orders_banks_are_refused(client: TestClient, market: Market, users: Logins) -> None:
    for headers in (users(market.green_sme), users.kind(OrgKind.SERVICE_PROVIDER)):
        assert client.get(URL, headers=headers).json()["total"] == 4
        assert client.get(f"{URL}/{market.datahub_order.id}", headers=headers).status_code == 200
    bank = users.kind(OrgKind.BANK)
    for url in (URL, f"{URL}/{market.hvac_order.id}"):
        response = client.get(url, headers=bank)
        assert response.status_code == 403
        assert_error_shape(response.json(), "permission_denied")


def test_post_order(client: TestClient, market: Market, users: Logins) -> None:
    response = client.post(URL, headers=users(market.energy), json=NEW_ORDER)
    assert response.status_code == 201, response.text
    order = response.json()
    assert_no_floats(order)
    assert order["organisation_id"] == market.energy.id
    assert order["organisation_name"] == "北京京能集团有限责任公司"
    assert order["title"] == "智慧园区能耗监测平台"
    assert (order["budget_fen"], order["budget"]) == (150_000_050, "1500000.50")
    assert order["required_qualifications"] == ["hnte"]
    assert (order["status"], order["version"]) == ("open", 1)
    assert order["created_at"] == "2026-11-02T09:30:00+08:00"
    assert client.get(f"{URL}/{order['id']}", headers=users(market.energy)).json() == order


def test_only_large_firms_post_orders(client: TestClient, market: Market, users: Logins) -> None:
    for headers in (users(market.green_sme), users.kind(OrgKind.PROGRAMME_OFFICE)):
        response = client.post(URL, headers=headers, json=NEW_ORDER)
        assert response.status_code == 403
        assert_error_shape(response.json(), "permission_denied")


def test_post_order_validation_is_bilingual(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    for change, field in [
        ({"budget": "1.001"}, "budget"),
        ({"budget": 1500000.5}, "budget"),  # a float amount is refused
        ({"title": ""}, "title"),
        ({"category": "ict.cooking"}, "category"),
        ({"district": "火星园"}, "district"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"required_qualifications": ["nobel"]}, "required_qualifications.0"),
        ({"budget_fen": 100}, "budget_fen"),  # unknown fields are refused
    ]:
        response = client.post(URL, headers=energy, json={**NEW_ORDER, **change})
        assert response.status_code == 422, (change, response.text)
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == field, change
        assert body["message"] != body["message_en"]
    past = client.post(URL, headers=energy, json={**NEW_ORDER, "deadline": "2026-11-02"})
    assert past.status_code == 422
    assert_error_shape(past.json(), "rule_violated")
    assert client.get(URL, headers=energy).json()["total"] == 2  # nothing was stored


def test_edit_order(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    url = f"{URL}/{market.hvac_order.id}"
    response = client.patch(url, headers=energy, json={"budget": "13000000", "deadline": "2027-01-15"})
    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["budget_fen"], order["budget"], order["deadline"]) == (1_300_000_000, "13000000.00", "2027-01-15")
    assert order["version"] == 2 and order["title"] == "园区中央空调节能改造"  # untouched fields stay

    stale = client.patch(url, headers={**energy, "If-Match": '"1"'}, json={"title": "新标题"})
    assert stale.status_code == 409
    assert_error_shape(stale.json(), "conflict")
    fresh = client.patch(url, headers={**energy, "If-Match": '"2"'}, json={"title": "新标题"})
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    bad = client.patch(url, headers={**energy, "If-Match": "yesterday"}, json={"title": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "If-Match"


def test_edit_order_of_another_firm_or_by_another_kind(client: TestClient, market: Market, users: Logins) -> None:
    foreign = client.patch(f"{URL}/{market.datahub_order.id}", headers=users(market.energy), json={"title": "x"})
    assert foreign.status_code == 404
    assert_error_shape(foreign.json(), "not_found")
    assert "城市数据中台" not in foreign.text
    sme = client.patch(f"{URL}/{market.hvac_order.id}", headers=users(market.green_sme), json={"title": "x"})
    assert sme.status_code == 403
    closed = client.patch(f"{URL}/{market.cloud_investment.id}", headers=users(market.tech), json={"title": "x"})
    assert closed.status_code == 422
    assert_error_shape(closed.json(), "rule_violated")
    invalid = client.patch(f"{URL}/{market.hvac_order.id}", headers=users(market.energy), json={"status": "closed"})
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["field"] == "status"


def test_close_order(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    url = f"{URL}/{market.hvac_order.id}/close"
    first = client.post(url, headers=energy)
    assert first.status_code == 200
    order = first.json()
    assert order["status"] == "closed" and order["closed_at"] == "2026-11-02T09:30:00+08:00"
    again = client.post(url, headers=energy)
    assert again.status_code == 200 and again.json() == order  # idempotent
    foreign = client.post(f"{URL}/{market.datahub_order.id}/close", headers=energy)
    assert foreign.status_code == 404
    assert client.get(f"{URL}/{market.datahub_order.id}", headers=users(market.tech)).json()["status"] == "open"


def test_shortlist_and_reject(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    offer_id = market.hvac_offer.id
    url = f"{URL}/{market.hvac_order.id}"
    shortlisted = client.post(f"{url}/shortlist", headers=energy, json={"offer_id": offer_id, "note": "资质齐全"})
    assert shortlisted.status_code == 200, shortlisted.text
    body = shortlisted.json()
    assert (body["kind"], body["offer_id"], body["order_id"], body["note"]) == (
        "shortlist",
        offer_id,
        market.hvac_order.id,
        "资质齐全",
    )
    assert client.post(f"{url}/shortlist", headers=energy, json={"offer_id": offer_id}).json()["id"] == body["id"]
    rejected = client.post(f"{url}/reject", headers=energy, json={"offer_id": offer_id})
    assert rejected.status_code == 200 and rejected.json()["kind"] == "rejection"


def test_shortlist_refusals(client: TestClient, market: Market, users: Logins) -> None:
    energy = users(market.energy)
    body = {"offer_id": market.governance_offer.id}
    foreign = client.post(f"{URL}/{market.datahub_order.id}/shortlist", headers=energy, json=body)
    assert foreign.status_code == 404
    sme = client.post(f"{URL}/{market.hvac_order.id}/reject", headers=users(market.green_sme), json=body)
    assert sme.status_code == 403
    withdrawn = {"offer_id": market.gateway_offer.id}
    gone = client.post(f"{URL}/{market.hvac_order.id}/shortlist", headers=energy, json=withdrawn)
    assert gone.status_code == 422
    assert_error_shape(gone.json(), "rule_violated")
    unknown = client.post(f"{URL}/{market.hvac_order.id}/shortlist", headers=energy, json={"offer_id": 987654})
    assert unknown.status_code == 404
    for bad, field in [({}, "offer_id"), ({"offer_id": 0}, "offer_id"), ({**body, "note": "长" * 1001}, "note")]:
        response = client.post(f"{URL}/{market.hvac_order.id}/shortlist", headers=energy, json=bad)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == field
