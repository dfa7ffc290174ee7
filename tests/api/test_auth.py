"""Logging in, tokens (expiry, refresh rotation, reuse detection, logout), rate limit and lockout, /me."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.deps import get_clock
from qianfan.clock import FrozenClock
from qianfan.config import Settings
from qianfan.models import ApiToken, OrgKind, UserRole
from tests.api.conftest import TEST_PASSWORD, add_organisation, add_user, assert_error_shape, login


@pytest.fixture
def sme_user(session: Session):  # type: ignore[no-untyped-def]
    org = add_organisation(session, "北京测试科技有限公司", kind=OrgKind.SME)
    return add_user(session, org, "alice", UserRole.MEMBER, display_name="李爱丽")


def _token(client: TestClient, username: str = "alice", password: str = TEST_PASSWORD) -> dict:  # type: ignore[type-arg]
    return client.post("/api/v1/auth/token", data={"username": username, "password": password}).json()


def test_login_returns_tokens_and_me_answers(client: TestClient, sme_user) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/token", data={"username": "Alice ", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("qf_")
    assert body["expires_in"] == 15 * 60 and body["refresh_expires_in"] == 7 * 86400
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and me.json()["kind"] == "sme"
    assert me.json()["organisation"]["name"] == "北京测试科技有限公司"


def test_tokens_are_stored_only_as_digests(client: TestClient, sme_user, session: Session) -> None:  # type: ignore[no-untyped-def]
    body = _token(client)
    session.rollback()  # end the read snapshot taken when the user was created
    digests = set(session.exec(select(ApiToken.digest)).all())
    assert body["access_token"] not in digests and len(digests) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic YWxpY2U6eA=="},
        {"Authorization": "Bearer qf_x"},
    ],
)
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error_shape(response.json(), "unauthenticated")


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, sme_user) -> None:  # type: ignore[no-untyped-def]
    wrong = client.post("/api/v1/auth/token", data={"username": "alice", "password": "not-the-password"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["message"] == "用户名或密码错误"


def test_missing_fields_are_a_clear_422(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "alice"})
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


def test_access_token_expires(client: TestClient, sme_user, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    headers = login(client, "alice")
    clock.advance(timedelta(minutes=14, seconds=59))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient, sme_user) -> None:  # type: ignore[no-untyped-def]
    first = _token(client)
    second = client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    new = second.json()
    assert new["access_token"] != first["access_token"]
    # The access token issued with the spent refresh token ends; the new one works.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first['access_token']}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    # Replaying the spent refresh token (a stolen copy) revokes the whole family, the new pair included.
    replay = client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 401
    again = client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}
    )
    assert again.status_code == 401


def test_logout_revokes_access_and_refresh(client: TestClient, sme_user) -> None:  # type: ignore[no-untyped-def]
    body = _token(client)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    refreshed = client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 401


def test_inactive_user_cannot_log_in_or_use_a_token(client: TestClient, sme_user, session: Session) -> None:  # type: ignore[no-untyped-def]
    headers = login(client, "alice")
    session.rollback()
    user = session.get(type(sme_user), sme_user.id)
    user.is_active = False
    session.add(user)
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD}).status_code == 401


def test_lockout_after_five_failures_even_with_the_right_password(
    client: TestClient,
    sme_user,
    clock: FrozenClock,  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(5):
        assert client.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-one"}).status_code == 401
    locked = client.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD})
    assert locked.status_code == 429
    assert_error_shape(locked.json(), "too_many_requests")
    assert "锁定" in locked.json()["message"]
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    clock.advance(timedelta(minutes=15, seconds=1))
    assert client.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD}).status_code == 200


def test_a_success_resets_the_failure_count(client: TestClient, sme_user) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        client.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-one"})
    login(client, "alice")
    for _ in range(4):
        client.post("/api/v1/auth/token", data={"username": "alice", "password": "wrong-one"})
    login(client, "alice")


def test_rate_limit_per_address(engine, clock: FrozenClock, sme_user) -> None:  # type: ignore[no-untyped-def]
    app: FastAPI = create_app(Settings(env="test", login_attempts_per_minute=3), engine=engine)
    app.dependency_overrides[get_clock] = lambda: clock
    with TestClient(app) as client:
        for name in ("a1x", "b2y", "c3z"):
            assert client.post("/api/v1/auth/token", data={"username": name, "password": "x" * 10}).status_code == 401
        limited = client.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD})
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
        clock.advance(timedelta(seconds=61))
        assert (
            client.post("/api/v1/auth/token", data={"username": "alice", "password": TEST_PASSWORD}).status_code == 200
        )


def test_oversized_body_is_413(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", content=b"x" * (1_048_576 + 1))
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_no_cors_by_default(client: TestClient) -> None:
    response = client.options(
        "/api/v1/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers
