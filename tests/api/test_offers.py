"""/api/v1/offers: reads (filters, sorting, pages, errors) by the programme office, which sees every offer of any
status; then tenant scoping, listing, editing, withdrawing and expressing interest.  Ranked orders are in
test_matches_api.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from qianfan.models import Organisation, OrgKind
from tests.api.conftest import (
    Market,
    TestClient,
    add_organisation,
    add_qualification,
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


# ------------------------------------------------------------------------------------- tenancy, writes, interest


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
        return self(add_organisation(self.session, f"某{kind.value}机构", kind=kind))


@pytest.fixture
def users(client: TestClient, session: Session) -> Logins:
    return Logins(client, session)


NEW_OFFER = {
    "kind": "product",
    "title": "楼宇能耗监测终端",
    "description": "LoRa 分项计量终端",
    "category": "green.hvac",
    "price_min": "20000",
    "price_max": "80000.50",
    "capacity": 200,
    "qualifications": ["hnte"],
    "keywords": ["能耗监测", "能耗监测", "LoRa"],
}


def test_every_offer_route_needs_a_token(client: TestClient, market: Market) -> None:
    oid = market.hvac_offer.id
    for method, url in [
        ("GET", URL),
        ("GET", f"{URL}/{oid}"),
        ("POST", URL),
        ("PATCH", f"{URL}/{oid}"),
        ("POST", f"{URL}/{oid}/withdraw"),
        ("GET", f"{URL}/{oid}/matches"),
        ("POST", f"{URL}/{oid}/interest"),
    ]:
        response = client.request(method, url, headers={"Authorization": ""}, json={})
        assert response.status_code == 401, (method, url)
        assert_error_shape(response.json(), "unauthenticated")


def test_an_sme_sees_only_its_own_offers(client: TestClient, market: Market, users: Logins) -> None:
    data = users(market.data_sme)
    assert _names(client.get(URL, headers=data).json(), market) == ["governance_offer"]
    assert _names(client.get(URL, headers=data, params={"status": "withdrawn"}).json(), market) == ["gateway_offer"]
    assert client.get(f"{URL}/{market.gateway_offer.id}", headers=data).status_code == 200
    foreign = client.get(f"{URL}/{market.hvac_offer.id}", headers=data)
    assert foreign.status_code == 404
    assert_error_shape(foreign.json(), "not_found")
    assert "空调" not in foreign.text
    assert client.get(URL, headers=data, params={"organisation_id": market.green_sme.id}).json()["total"] == 0


def test_large_firms_see_active_offers_only(client: TestClient, market: Market, users: Logins) -> None:
    firm = users(market.energy)
    assert _names(client.get(URL, headers=firm).json(), market) == ["governance_offer", "hvac_offer"]
    assert client.get(URL, headers=firm, params={"status": "withdrawn"}).json()["total"] == 0
    assert client.get(f"{URL}/{market.gateway_offer.id}", headers=firm).status_code == 404
    assert client.get(f"{URL}/{market.hvac_offer.id}", headers=firm).status_code == 200


def test_providers_and_banks_are_refused(client: TestClient, market: Market, users: Logins) -> None:
    for kind in (OrgKind.SERVICE_PROVIDER, OrgKind.BANK):
        headers = users.kind(kind)
        for url in (URL, f"{URL}/{market.hvac_offer.id}"):
            response = client.get(url, headers=headers)
            assert response.status_code == 403
            assert_error_shape(response.json(), "permission_denied")


def test_list_an_offer(client: TestClient, session: Session, market: Market, users: Logins) -> None:
    add_qualification(session, market.green_sme, "hnte", valid_until=date(2027, 6, 30))
    response = client.post(URL, headers=users(market.green_sme), json=NEW_OFFER)
    assert response.status_code == 201, response.text
    offer = response.json()
    assert_no_floats(offer)
    assert offer["organisation_id"] == market.green_sme.id
    assert (offer["price_min_fen"], offer["price_min"]) == (2_000_000, "20000.00")
    assert (offer["price_max_fen"], offer["price_max"]) == (8_000_050, "80000.50")
    assert offer["keywords"] == ["能耗监测", "LoRa"] and offer["qualifications"] == ["hnte"]
    assert (offer["status"], offer["version"]) == ("active", 1)


def test_list_an_offer_refusals(client: TestClient, market: Market, users: Logins) -> None:
    sme = users(market.green_sme)
    not_held = client.post(URL, headers=sme, json=NEW_OFFER)  # the SME holds no hnte certificate
    assert not_held.status_code == 422
    assert_error_shape(not_held.json(), "rule_violated")
    assert not_held.json()["detail"] == {"missing": ["hnte"]}
    for change, field in [
        ({"price_min": "90000"}, "__root__"),  # above price_max
        ({"price_max": 80000.5}, "price_max"),  # a float amount is refused
        ({"capacity": 0}, "capacity"),
        ({"kind": "gift"}, "kind"),
        ({"keywords": ["长" * 33]}, "keywords.0"),
        ({"price": "1"}, "price"),
    ]:
        response = client.post(URL, headers=sme, json={**NEW_OFFER, "qualifications": [], **change})
        assert response.status_code == 422, (change, response.text)
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == field, (change, body)
        assert body["detail"][0]["message"] != body["detail"][0]["message_en"]
    for kind in (OrgKind.LARGE_FIRM, OrgKind.PROGRAMME_OFFICE):
        response = client.post(URL, headers=users.kind(kind), json={**NEW_OFFER, "qualifications": []})
        assert response.status_code == 403


def test_edit_and_withdraw_an_offer(client: TestClient, market: Market, users: Logins) -> None:
    data = users(market.data_sme)
    url = f"{URL}/{market.governance_offer.id}"
    edited = client.patch(url, headers={**data, "If-Match": "1"}, json={"price_max": "2500000", "capacity": 40})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["price_max"], edited.json()["capacity"], edited.json()["version"]) == ("2500000.00", 40, 2)
    stale = client.patch(url, headers={**data, "If-Match": 'W/"1"'}, json={"capacity": 41})
    assert stale.status_code == 409
    inverted = client.patch(url, headers=data, json={"price_min": "3000000"})  # above the stored maximum
    assert inverted.status_code == 422
    assert_error_shape(inverted.json(), "rule_violated")

    withdrawn = client.post(f"{url}/withdraw", headers=data)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert client.post(f"{url}/withdraw", headers=data).json()["status"] == "withdrawn"  # idempotent
    assert client.patch(url, headers=data, json={"capacity": 2}).status_code == 422  # withdrawn: no more edits
    assert client.get(f"{URL}/{market.governance_offer.id}", headers=users(market.energy)).status_code == 404


def test_edit_or_withdraw_another_smes_offer(client: TestClient, market: Market, users: Logins) -> None:
    green = users(market.green_sme)
    url = f"{URL}/{market.governance_offer.id}"
    for response in (
        client.patch(url, headers=green, json={"capacity": 1}),
        client.post(f"{url}/withdraw", headers=green),
    ):
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
        assert "数据治理" not in response.text
    assert client.post(f"{url}/withdraw", headers=users(market.energy)).status_code == 403


def test_express_interest(client: TestClient, market: Market, users: Logins) -> None:
    data = users(market.data_sme)
    url = f"{URL}/{market.governance_offer.id}/interest"
    first = client.post(url, headers=data, json={"order_id": market.datahub_order.id, "note": "可按期交付"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["kind"], body["order_id"], body["offer_id"], body["organisation_id"]) == (
        "interest",
        market.datahub_order.id,
        market.governance_offer.id,
        market.data_sme.id,
    )
    again = client.post(url, headers=data, json={"order_id": market.datahub_order.id})
    assert again.json()["id"] == body["id"]  # idempotent

    closed = client.post(url, headers=data, json={"order_id": market.cloud_investment.id})
    assert closed.status_code == 422
    assert_error_shape(closed.json(), "rule_violated")
    assert client.post(url, headers=data, json={"order_id": 987654}).status_code == 404
    assert client.post(url, headers=data, json={"order_id": "x"}).status_code == 422
    foreign = client.post(url, headers=users(market.green_sme), json={"order_id": market.datahub_order.id})
    assert foreign.status_code == 404
    firm = client.post(url, headers=users(market.tech), json={"order_id": market.datahub_order.id})
    assert firm.status_code == 403
