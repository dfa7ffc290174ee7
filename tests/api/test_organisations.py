"""GET /api/v1/organisations and /api/v1/organisations/{id}."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from api.deps import get_clock
from qianfan.clock import FrozenClock
from qianfan.models import OrgKind
from tests.api.conftest import (
    Market,
    TestClient,
    add_organisation,
    add_qualification,
    add_user,
    assert_error_shape,
    login,
)

URL = "/api/v1/organisations"


@pytest.fixture(autouse=True)
def _logged_in(request: pytest.FixtureRequest, client: TestClient, session: Session) -> None:
    """The directory is for any logged-in user: a large firm's user with the market, else a bank's."""
    if "market" in request.fixturenames:
        org = request.getfixturevalue("market").energy
    else:
        org = add_organisation(session, "北京中关村银行", kind=OrgKind.BANK)
    add_user(session, org, "reader")
    client.headers.update(login(client, "reader"))
    session.commit()  # end the read transaction the refresh opened: the login has written since


def test_requires_a_token(client: TestClient, market: Market) -> None:
    for url in (URL, f"{URL}/{market.energy.id}"):
        response = client.get(url, headers={"Authorization": ""})
        assert response.status_code == 401
        assert_error_shape(response.json(), "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_list_shape_and_local_time(client: TestClient, market: Market) -> None:
    body = client.get(URL).json()
    assert body["total"] == 4 and body["limit"] == 20 and body["offset"] == 0
    assert [item["id"] for item in body["items"]] == market.ids(
        market.energy, market.tech, market.green_sme, market.data_sme
    )
    first = body["items"][0]
    assert first["name"] == "北京京能集团有限责任公司"
    assert first["kind"] == "large_firm" and first["kind_label"] == "大企业"
    assert first["cluster"] == "green" and first["cluster_name"] == "绿色能源与节能环保"
    assert first["created_at"] == "2026-11-02T09:30:00+08:00"
    assert "qualifications" not in first


def test_pagination(client: TestClient, market: Market) -> None:
    body = client.get(URL, params={"limit": 3, "offset": 2}).json()
    assert body["total"] == 4 and body["limit"] == 3 and body["offset"] == 2
    assert [item["id"] for item in body["items"]] == market.ids(market.green_sme, market.data_sme)
    beyond = client.get(URL, params={"offset": 10}).json()
    assert beyond["items"] == [] and beyond["total"] == 4


FILTERS_CASES = [
    ({"kind": "large_firm"}, ["energy", "tech"]),
    ({"kind": "sme"}, ["green_sme", "data_sme"]),
    ({"kind": "bank"}, []),
    ({"district": "海淀园"}, ["tech", "green_sme"]),
    ({"cluster": "green"}, ["energy", "green_sme"]),
    ({"q": "科技"}, ["green_sme", "data_sme"]),
    ({"q": "  云图 "}, ["data_sme"]),
    ({"q": "greenctrl"}, ["green_sme"]),  # English name, case-insensitive
    ({"q": "%"}, []),  # LIKE wildcards are escaped
    ({"kind": "sme", "district": "海淀园", "cluster": "green"}, ["green_sme"]),
]


def test_filters(client: TestClient, market: Market) -> None:
    for params, expected in FILTERS_CASES:
        body = client.get(URL, params=params).json()
        assert [item["id"] for item in body["items"]] == [getattr(market, name).id for name in expected]
        assert body["total"] == len(expected)


def test_detail_with_qualifications_valid_in_beijing_time(app: FastAPI, client: TestClient, session: Session) -> None:
    org = add_organisation(session, "北京中科测控技术有限公司", kind=OrgKind.SME, cluster="mfg")
    add_qualification(session, org, "hnte", certificate_no="GR202411001234", valid_until=date(2026, 11, 2))
    add_qualification(session, org, "iso9001", valid_until=date(2026, 11, 1))
    add_qualification(session, org, "zjtx")  # no expiry
    # 2026-11-01 20:00 UTC is already 2026-11-02 04:00 in Beijing: a certificate valid until 11-01 has lapsed.
    app.dependency_overrides[get_clock] = lambda: FrozenClock(datetime(2026, 11, 1, 20, 0, tzinfo=UTC))

    response = client.get(f"{URL}/{org.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == org.id and body["name"] == "北京中科测控技术有限公司"
    assert body["qualifications"] == [
        {
            "code": "hnte",
            "name": "国家高新技术企业",
            "name_en": "National high-tech enterprise",
            "certificate_no": "GR202411001234",
            "valid_until": "2026-11-02",
            "valid": True,
        },
        {
            "code": "iso9001",
            "name": "ISO 9001 质量管理体系认证",
            "name_en": "ISO 9001 quality management",
            "certificate_no": None,
            "valid_until": "2026-11-01",
            "valid": False,
        },
        {
            "code": "zjtx",
            "name": "专精特新中小企业",
            "name_en": "Specialised, refined, distinctive and innovative SME",
            "certificate_no": None,
            "valid_until": None,
            "valid": True,
        },
    ]


def test_detail_qualification_validity_follows_the_clock(app: FastAPI, client: TestClient, session: Session) -> None:
    org = add_organisation(session, "北京示例科技有限公司")
    add_qualification(session, org, "hnte", valid_until=date(2026, 11, 2))
    clock = FrozenClock(datetime(2026, 11, 2, 15, 59, tzinfo=UTC))  # 23:59 in Beijing on 11-02
    app.dependency_overrides[get_clock] = lambda: clock
    client.headers.update(login(client, "reader"))  # a token issued at the new time (access tokens last 15 min)
    assert client.get(f"{URL}/{org.id}").json()["qualifications"][0]["valid"] is True
    clock.set(datetime(2026, 11, 2, 16, 0, tzinfo=UTC))  # 00:00 in Beijing on 11-03
    assert client.get(f"{URL}/{org.id}").json()["qualifications"][0]["valid"] is False


def test_detail_not_found(client: TestClient) -> None:
    response = client.get(f"{URL}/424242")
    assert response.status_code == 404
    body = response.json()
    assert_error_shape(body, "not_found")
    assert body["message"] == "机构不存在：424242"
    assert body["message_en"] == "Organisation not found: 424242"


INVALID_FILTERS_CASES = [
    ({"kind": "giant"}, "kind"),
    ({"district": "火星园"}, "district"),
    ({"cluster": "cooking"}, "cluster"),
    ({"q": "长" * 101}, "q"),
    ({"sort": "name"}, "sort"),  # organisations have no sort parameter: unknown parameters are refused
]


def test_invalid_filters(client: TestClient) -> None:
    for params, field in INVALID_FILTERS_CASES:
        response = client.get(URL, params=params)
        assert response.status_code == 422
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert [entry["field"] for entry in body["detail"]] == [field]
