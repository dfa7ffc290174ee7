"""Web page test fixtures: the app on the migrated test database (SQLite and PostgreSQL) with a frozen clock, and
a :class:`Browser`-like client that logs in through the login form and posts forms with their CSRF token.

Page tests here check what each page shows and refuses, through the TestClient (fast); the journeys in a real
browser are in ``tests/e2e``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api.web.session import SESSION_COOKIE, csrf_for
from tests.api import conftest as api_fixtures
from tests.api.conftest import TEST_PASSWORD

app = api_fixtures.app  # the app and its TestClient, as the API tests have them
client = api_fixtures.client

_LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Pages:
    """One person's browser, without a browser: cookies kept, forms posted with the CSRF token."""

    def __init__(self, http: Any) -> None:
        self.client = http

    def login(self, username: str, password: str = TEST_PASSWORD, *, expect: int = 303) -> Any:
        page = self.client.get("/login")
        token = _LOGIN_CSRF.search(page.text)
        assert token, page.text[:500]
        response = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert response.status_code == expect, response.text[:800]
        return response

    @property
    def csrf(self) -> str:
        return csrf_for(self.client.cookies.get(SESSION_COOKIE, ""))

    def get(self, url: str, expect: int = 200, **kw: Any) -> Any:
        response = self.client.get(url, **kw)
        assert response.status_code == expect, f"GET {url}: {response.status_code} {response.text[:800]}"
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, expect: int = 303, **kw: Any) -> Any:
        body = {"csrf_token": self.csrf, **(data or {})}
        response = self.client.post(url, data=body, follow_redirects=False, **kw)
        assert response.status_code == expect, f"POST {url}: {response.status_code} {response.text[:800]}"
        return response

    def follow(self, response: Any, expect: int = 200) -> Any:
        """GET the page a 303 leads to (the flash message is shown there)."""
        assert response.status_code in (302, 303), response.status_code
        return self.get(response.headers["location"], expect=expect)


@pytest.fixture
def pages(client: Any) -> Pages:
    return Pages(client)


def reread(session: Any, row: Any) -> Any:
    """*row* as the database has it now: the test's session ends its read snapshot first (on SQLite in WAL mode a
    snapshot taken before the app wrote would still show the old row, and refuse to write)."""
    session.rollback()
    session.refresh(row)
    return row


def new_pages(application: FastAPI) -> Pages:
    """A second, independent browser on the same app (another user at the same time)."""
    from fastapi.testclient import TestClient

    return Pages(TestClient(application))


__all__ = ["Engine", "Pages", "new_pages", "reread"]
