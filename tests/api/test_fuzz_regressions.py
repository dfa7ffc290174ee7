"""Requests that schemathesis once turned into a 500, kept as plain tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from qianfan.clock import FrozenClock
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.tenants import PASSWORD, build_tenants


def _token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_control_characters_in_searches_and_logins_are_refused_not_a_500(
    client: TestClient, engine: Engine, clock: FrozenClock
) -> None:
    # PostgreSQL refuses NUL in any string: GET /mentors?q=%00 was a 500 there.
    tenants = build_tenants(engine, clock)
    headers = _token(client, tenants.a.usernames[next(iter(tenants.a.usernames))])
    for path in ("/api/v1/mentors", "/api/v1/service-packages", "/api/v1/organisations", "/api/v1/orders"):
        response = client.get(path, params={"q": "数据\x00中台"}, headers=headers)
        assert response.status_code in (403, 422), (path, response.text)
        if response.status_code == 422:
            assert_error_shape(response.json(), "invalid_input")
    login = client.post("/api/v1/auth/token", data={"username": "demo\x00sme", "password": "x" * 12})
    assert login.status_code == 401
    assert_error_shape(login.json(), "unauthenticated")


def test_a_refusal_whose_detail_holds_decimals_renders_them_as_strings(
    client: TestClient, engine: Engine, clock: FrozenClock
) -> None:
    # POST /receivables with a face far above the contract and dates centuries ahead was a 500
    # ("Decimal is not JSON serializable" while rendering the refusal).
    tenants = build_tenants(engine, clock)
    headers = _token(client, tenants.a.usernames[next(k for k in tenants.a.usernames if k.value == "sme")])
    response = client.post(
        "/api/v1/receivables",
        json={
            "title": "超额应收账款",
            "contract_id": tenants.a.ids["contract"],
            "face": "500185632999",
            "issue_date": "2801-06-12",
            "due_date": "2801-06-12",
        },
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), response.json()["error"])
    assert_no_floats(response.json())
