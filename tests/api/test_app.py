"""The application factory and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import qianfan
from api.app import create_app
from qianfan.config import Settings, get_settings
from qianfan.migrate import upgrade
from tests.api.conftest import TestClient


def test_state_and_metadata(engine: Engine) -> None:
    app = create_app(engine=engine)
    assert app.state.engine is engine
    assert isinstance(app.state.settings, Settings)
    assert app.version == qianfan.__version__
    assert "千帆" in app.title and "Qianfan" in app.title
    assert "订单" in app.description and "order matching" in app.description


def test_factory_builds_its_engine_from_given_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    upgrade(url)
    app = create_app(settings=Settings(env="test", database_url=url))
    try:
        assert str(app.state.engine.url) == url
        with TestClient(app) as client:
            assert client.get("/health").json()["status"] == "ok"
    finally:
        app.state.engine.dispose()


def test_factory_without_arguments_uses_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``uvicorn --factory api.app:create_app`` does."""
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("QIANFAN_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        app = create_app()
        assert app.state.settings.database_url == url
        assert str(app.state.engine.url) == url
    finally:
        get_settings.cache_clear()


def test_openapi_document(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["version"] == qianfan.__version__
    paths = set(spec["paths"])
    # Every resource of the issue is there (the authorisation matrix checks each operation's rule).
    for prefix in (
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/organisations",
        "/api/v1/orders",
        "/api/v1/offers",
        "/api/v1/service-packages",
        "/api/v1/service-needs",
        "/api/v1/mentors",
        "/api/v1/orders/{order_id}/matches",
        "/api/v1/offers/{offer_id}/matches",
        "/api/v1/intent-orders",
        "/api/v1/contracts",
        "/api/v1/receivables",
        "/api/v1/finance/applications",
        "/api/v1/loans",
        "/api/v1/stats",
        "/api/v1/taxonomy",
        "/health",
    ):
        assert prefix in paths, prefix
    assert all(path == "/health" or path.startswith("/api/v1/") for path in paths)
    # The OAuth2 password flow is declared, so the docs page can log in.
    flows = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    schemas = spec["components"]["schemas"]
    for name in ("OrderPublic", "OfferPublic", "OrganisationPublic", "HealthPublic", "ErrorPublic"):
        assert schemas[name].get("examples"), name
    assert schemas["OrderPublic"]["properties"]["budget"]["type"] == "string"
    assert schemas["OrderPublic"]["properties"]["budget_fen"]["type"] == "integer"
    sort = next(p for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"] if p["name"] == "sort")
    assert sort["schema"]["enum"] == ["-created_at", "created_at", "budget", "-budget", "deadline", "-deadline"]
    error_ref = spec["paths"]["/api/v1/orders/{order_id}"]["get"]["responses"]["404"]
    assert error_ref["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorPublic")


def test_no_cdn_docs_pages(client: TestClient) -> None:
    # ReDoc would load its script from a CDN: it is off (Swagger UI is served locally, below).
    assert client.get("/redoc").status_code == 404
    assert "cdn" not in client.get("/openapi.json").text.lower()


def test_docs_served_without_cdn(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<body>")[0]
    assert "'self'" in page.headers["content-security-policy"]
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["version"]
