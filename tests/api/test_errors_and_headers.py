"""Error bodies (404, 405, 422, 500, domain errors) and security headers, on every kind of response."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api.app import create_app
from api.middleware import SECURITY_HEADERS
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from tests.api.conftest import TestClient, assert_error_shape

SECRET = "db-password=hunter2 at /srv/qianfan/secret.py"


def _assert_security_headers(headers: Mapping[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"


@pytest.fixture
def failing_app(engine: Engine) -> FastAPI:
    """An app with test-only routes that raise: an unexpected error and each domain error kind."""
    app = create_app(engine=engine)

    @app.get("/api/v1/test-only/boom")
    def boom() -> None:
        raise RuntimeError(SECRET)

    @app.get("/api/v1/test-only/domain/{kind}")
    def domain(kind: str) -> None:
        errors: dict[str, DomainError] = {
            "invalid": InvalidInput("金额无效", "Invalid amount", detail=[{"field": "amount"}]),
            "not_found": NotFound.of("合同", "Contract", 9),
            "conflict": Conflict("已被他人修改", "Changed by someone else"),
            "rule": RuleViolation("超过单笔上限", "Above the per-deal cap"),
            "denied": PermissionDenied("无权操作", "Not allowed"),
            "base": DomainError("其他错误", "Other error"),
        }
        raise errors[kind]

    return app


def test_unexpected_error_is_a_generic_500_without_trace(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="qianfan.api"), TestClient(failing_app) as client:
        response = client.get("/api/v1/test-only/boom")
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body, "internal_error")
    assert body["message"].startswith("服务器内部错误")
    assert body["message_en"].startswith("Internal server error")
    reference = body["detail"]["reference"]
    assert set(body["detail"]) == {"reference"} and len(reference) == 12
    for leak in ("hunter2", "secret", "RuntimeError", "Traceback", "File ", ".py"):
        assert leak not in response.text
    _assert_security_headers(response.headers)
    # ... but the log has everything, under the same reference.
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info is not None and SECRET in str(record.exc_info[1])
    assert "/api/v1/test-only/boom" in record.getMessage()


def test_unexpected_error_even_with_server_exceptions_not_raised(failing_app: FastAPI) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/test-only/boom")
    assert response.status_code == 500
    assert "hunter2" not in response.text


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 422, "invalid_input"),
        ("not_found", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("rule", 422, "rule_violated"),
        ("denied", 403, "permission_denied"),
        ("base", 400, "domain_error"),
    ],
)
def test_domain_errors_map_to_http(failing_app: FastAPI, kind: str, status: int, code: str) -> None:
    with TestClient(failing_app) as client:
        response = client.get(f"/api/v1/test-only/domain/{kind}")
    assert response.status_code == status
    assert_error_shape(response.json(), code)
    _assert_security_headers(response.headers)


def test_domain_error_body_is_to_dict(failing_app: FastAPI) -> None:
    with TestClient(failing_app) as client:
        body = client.get("/api/v1/test-only/domain/invalid").json()
    assert body == {
        "error": "invalid_input",
        "message": "金额无效",
        "message_en": "Invalid amount",
        "detail": [{"field": "amount"}],
    }


def test_unknown_route_is_a_404_in_the_same_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body == {
        "error": "not_found",
        "message": "请求的地址不存在",
        "message_en": "The requested URL was not found",
        "detail": None,
    }
    _assert_security_headers(response.headers)


def test_wrong_method_is_a_405_in_the_same_shape(client: TestClient) -> None:
    response = client.put("/api/v1/orders", json={})
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "path",
    ["/health", "/api/v1/orders", "/api/v1/offers/1", "/api/v1/orders?limit=0", "/openapi.json"],
)
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    _assert_security_headers(response.headers)


def test_cors_is_closed(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/orders",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/api/v1/taxonomy", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
