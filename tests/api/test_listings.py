"""/api/v1/service-packages, /api/v1/mentors and /api/v1/service-needs: who may read and publish, tenant scoping of
service needs, filters, validation.  The packages and mentors ranked for a need are in test_matches_api.py."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from qianfan.models import Organisation, OrgKind
from tests.api.conftest import TestClient, add_organisation, assert_error_shape, assert_no_floats
from tests.api.test_orders import Logins

PACKAGES = "/api/v1/service-packages"
MENTORS = "/api/v1/mentors"
NEEDS = "/api/v1/service-needs"

PACKAGE = {
    "title": "硬科技初创企业融资辅导服务包",
    "description": "BP打磨、路演辅导与投资人对接",
    "category": "services.incubation",
    "value": "50000.00",
}
MENTOR = {
    "name": "王立新",
    "headline": "连续创业者，专注工业互联网",
    "expertise": ["ict.iiot", "services.incubation", "ict.iiot"],
}
NEED = {"title": "发明专利布局", "category": "services.consulting", "budget": "80000.5"}


@pytest.fixture
def users(client: TestClient, session: Session) -> Logins:
    return Logins(client, session)


@pytest.fixture
def orgs(session: Session) -> dict[str, Organisation]:
    return {
        "provider": add_organisation(session, "北京启航硬科技孵化器有限公司", kind=OrgKind.SERVICE_PROVIDER),
        "provider2": add_organisation(session, "中关村知识产权服务中心", kind=OrgKind.SERVICE_PROVIDER),
        "sme": add_organisation(session, "北京数帆智汇科技有限公司"),
        "sme2": add_organisation(session, "北京云图数据科技有限公司"),
        "firm": add_organisation(session, "北京京华数智城市科技集团", kind=OrgKind.LARGE_FIRM),
        "bank": add_organisation(session, "北京中关村银行", kind=OrgKind.BANK),
        "office": add_organisation(session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE),
    }


def test_routes_need_a_token(client: TestClient) -> None:
    for method, url in [
        ("GET", PACKAGES),
        ("POST", PACKAGES),
        ("GET", f"{PACKAGES}/1"),
        ("GET", MENTORS),
        ("POST", MENTORS),
        ("GET", f"{MENTORS}/1"),
        ("GET", NEEDS),
        ("POST", NEEDS),
        ("GET", f"{NEEDS}/1"),
        ("GET", f"{NEEDS}/1/packages"),
        ("GET", f"{NEEDS}/1/mentors"),
    ]:
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, url)
        assert_error_shape(response.json(), "unauthenticated")


def test_service_packages(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    provider = users(orgs["provider"])
    created = client.post(PACKAGES, headers=provider, json=PACKAGE)
    assert created.status_code == 201, created.text
    package = created.json()
    assert_no_floats(package)
    assert (package["value_fen"], package["value"], package["status"]) == (5_000_000, "50000.00", "active")
    assert package["organisation_name"] == "北京启航硬科技孵化器有限公司"
    assert package["category"] == "services.incubation" and package["category_label"]
    cheap = client.post(
        PACKAGES,
        headers=users(orgs["provider2"]),
        json={"title": "专利检索分析", "category": "services.consulting", "value": 8000},
    ).json()

    # Every kind of logged-in user reads them.
    for org in ("bank", "sme", "firm", "office"):
        body = client.get(PACKAGES, headers=users(orgs[org])).json()
        assert [item["id"] for item in body["items"]] == [cheap["id"], package["id"]] and body["total"] == 2
    bank = users(orgs["bank"])
    assert client.get(f"{PACKAGES}/{package['id']}", headers=bank).json() == package
    for params, expected in [
        ({"category": "services"}, [cheap["id"], package["id"]]),
        ({"category": "services.incubation"}, [package["id"]]),
        ({"max_value": "8000"}, [cheap["id"]]),
        ({"organisation_id": orgs["provider"].id}, [package["id"]]),
        ({"q": "专利"}, [cheap["id"]]),
        ({"sort": "-value"}, [package["id"], cheap["id"]]),
        ({"status": "withdrawn"}, []),
    ]:
        body = client.get(PACKAGES, headers=bank, params=params).json()
        assert [item["id"] for item in body["items"]] == expected, params
    missing = client.get(f"{PACKAGES}/987654", headers=bank)
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")


def test_only_providers_publish(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    for org in ("sme", "firm", "bank", "office"):
        headers = users(orgs[org])
        for url, body in ((PACKAGES, PACKAGE), (MENTORS, MENTOR)):
            response = client.post(url, headers=headers, json=body)
            assert response.status_code == 403, (org, url)
            assert_error_shape(response.json(), "permission_denied")


def test_publish_validation(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    provider = users(orgs["provider"])
    for url, body, field in [
        (PACKAGES, {**PACKAGE, "value": "-1"}, "value"),
        (PACKAGES, {**PACKAGE, "value": 12.5}, "value"),
        (PACKAGES, {**PACKAGE, "category": "nope"}, "category"),
        (PACKAGES, {**PACKAGE, "organisation_id": 1}, "organisation_id"),
        (MENTORS, {**MENTOR, "expertise": []}, "expertise"),
        (MENTORS, {**MENTOR, "name": ""}, "name"),
    ]:
        response = client.post(url, headers=provider, json=body)
        assert response.status_code == 422, (url, body)
        payload = response.json()
        assert_error_shape(payload, "invalid_input")
        assert payload["detail"][0]["field"] == field
        assert payload["message"] != payload["message_en"]


def test_mentors(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    provider = users(orgs["provider"])
    created = client.post(MENTORS, headers=provider, json=MENTOR)
    assert created.status_code == 201, created.text
    mentor = created.json()
    assert mentor["expertise"] == ["ict.iiot", "services.incubation"] and mentor["status"] == "active"
    other = client.post(
        MENTORS, headers=provider, json={"name": "李青", "headline": "医疗器械注册专家", "expertise": ["health.device"]}
    ).json()
    sme = users(orgs["sme"])
    assert client.get(f"{MENTORS}/{mentor['id']}", headers=sme).json() == mentor
    for params, expected in [
        ({}, [other["id"], mentor["id"]]),
        ({"expertise": "ict.iiot"}, [mentor["id"]]),
        ({"expertise": "ict"}, [mentor["id"]]),  # a cluster
        ({"expertise": "ict.iot"}, []),  # not a prefix match of ict.iiot
        ({"expertise": "health"}, [other["id"]]),
        ({"q": "医疗"}, [other["id"]]),
        ({"q": "王立"}, [mentor["id"]]),
        ({"sort": "created_at"}, [mentor["id"], other["id"]]),
    ]:
        body = client.get(MENTORS, headers=sme, params=params).json()
        assert [item["id"] for item in body["items"]] == expected, params
    assert client.get(f"{MENTORS}/987654", headers=sme).status_code == 404
    bad = client.get(MENTORS, headers=sme, params={"expertise": "cooking"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "expertise"


def test_service_needs_are_scoped(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    sme, sme2 = users(orgs["sme"]), users(orgs["sme2"])
    created = client.post(NEEDS, headers=sme, json=NEED)
    assert created.status_code == 201, created.text
    need = created.json()
    assert_no_floats(need)
    assert (need["budget_fen"], need["budget"], need["status"]) == (8_000_050, "80000.50", "open")
    no_budget = client.post(NEEDS, headers=sme2, json={"title": "等保测评", "category": "ict.security"}).json()
    assert (no_budget["budget_fen"], no_budget["budget"]) == (None, None)

    # The SME sees only its own; another SME's need is not found.
    assert [item["id"] for item in client.get(NEEDS, headers=sme).json()["items"]] == [need["id"]]
    foreign = client.get(f"{NEEDS}/{need['id']}", headers=sme2)
    assert foreign.status_code == 404
    assert "专利" not in foreign.text
    # Service providers and the programme office read all; large firms and banks are refused.
    for org in ("provider", "office"):
        headers = users(orgs[org])
        assert client.get(NEEDS, headers=headers).json()["total"] == 2
        assert client.get(f"{NEEDS}/{need['id']}", headers=headers).json() == need
        filtered = client.get(NEEDS, headers=headers, params={"category": "ict"}).json()
        assert [item["id"] for item in filtered["items"]] == [no_budget["id"]]
    for org in ("firm", "bank"):
        for url in (NEEDS, f"{NEEDS}/{need['id']}"):
            response = client.get(url, headers=users(orgs[org]))
            assert response.status_code == 403
            assert_error_shape(response.json(), "permission_denied")


def test_only_smes_post_needs(client: TestClient, orgs: dict[str, Organisation], users: Logins) -> None:
    for org in ("provider", "firm", "office"):
        assert client.post(NEEDS, headers=users(orgs[org]), json=NEED).status_code == 403
    sme = users(orgs["sme"])
    for body, field in [({**NEED, "budget": "0.001"}, "budget"), ({"title": "x"}, "category")]:
        response = client.post(NEEDS, headers=sme, json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == field
