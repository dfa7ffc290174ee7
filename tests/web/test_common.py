"""Login, logout, CSRF, the language switch, the landing redirect, the inbox and the error pages."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from qianfan.models import Notification, OrgKind
from tests.api.conftest import T0, add_organisation, add_user
from tests.web.conftest import Pages, reread


def _sme(session: Session, username: str = "web-sme") -> Any:
    org = add_organisation(session, "网页测试科技有限公司", kind=OrgKind.SME)
    return org, add_user(session, org, username, display_name="王经理")


def test_login_lands_each_kind_on_its_home(session: Session, pages: Pages, client: Any) -> None:
    homes = {
        OrgKind.SME: "/sme",
        OrgKind.LARGE_FIRM: "/firm",
        OrgKind.BANK: "/bank",
        OrgKind.PROGRAMME_OFFICE: "/office",
        OrgKind.SERVICE_PROVIDER: "/provider",
    }
    for i, (kind, home) in enumerate(homes.items()):
        session.rollback()  # end the read snapshot: the app wrote since (SQLite WAL refuses a stale writer)
        org = add_organisation(session, f"机构{i}", kind=kind)
        add_user(session, org, f"user{i}")
        client.cookies.clear()
        response = pages.login(f"user{i}")
        assert response.headers["location"] == home
        cookie = response.headers["set-cookie"]
        assert "qf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_wrong_password_keeps_the_username_and_says_why(session: Session, pages: Pages) -> None:
    _sme(session)
    response = pages.login("web-sme", "wrong", expect=401)
    assert "用户名或密码错误" in response.text
    assert 'value="web-sme"' in response.text
    assert "qf_session" not in response.headers.get("set-cookie", "")


def test_login_without_its_csrf_cookie_is_refused(session: Session, client: Any) -> None:
    _sme(session)
    response = client.post("/login", data={"username": "web-sme", "password": "x", "csrf_token": "forged"})
    assert response.status_code == 403
    assert "登录页面已过期" in response.text


def test_pages_need_a_session_and_come_back_after_login(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    response = client.get("/inbox?unread=true", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/inbox%3Funread%3Dtrue"
    page = client.get(response.headers["location"])
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert 'name="next" value="/inbox?unread=true"' in page.text
    back = client.post(
        "/login",
        data={
            "username": "web-sme",
            "password": "qianfan-test-pass",
            "csrf_token": token,
            "next": "/inbox?unread=true",
        },
        follow_redirects=False,
    )
    assert back.headers["location"] == "/inbox?unread=true"


def test_next_never_leaves_the_site(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value=""' in page.text  # dropped: only paths on this site are followed


def test_a_form_without_the_csrf_token_changes_nothing(session: Session, pages: Pages, client: Any) -> None:
    _, user = _sme(session)
    session.add(
        Notification(
            user_id=user.id,
            organisation_id=user.organisation_id,
            kind="t",
            title="新订单",
            dedupe_key="k1",
            created_at=T0,
        )
    )
    session.commit()
    pages.login("web-sme")
    note = session.exec(select(Notification)).one()
    response = client.post(f"/inbox/{note.id}/read", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert "表单已过期或来源不明" in response.text
    assert reread(session, note).read_at is None
    pages.post(f"/inbox/{note.id}/read")
    assert reread(session, note).read_at is not None


def test_logout_ends_the_session(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    pages.login("web-sme")
    old = client.cookies.get("qf_session")
    pages.get("/inbox")
    pages.post("/logout")
    client.cookies.set("qf_session", old)
    assert client.get("/inbox", follow_redirects=False).status_code == 303  # the old cookie is dead


def test_language_switch_and_page_headers(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    pages.login("web-sme")
    page = pages.get("/inbox")
    assert '<html lang="zh-CN">' in page.text and "暂时没有消息" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    switched = client.get("/lang/en?back=/inbox", follow_redirects=False)
    assert switched.headers["location"] == "/inbox"
    page = client.get("/inbox")
    assert '<html lang="en">' in page.text and "No messages yet" in page.text
    assert client.get("/lang/en?back=https://evil.example", follow_redirects=False).headers["location"] == "/"


def test_error_pages_are_pages_and_the_api_stays_json(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    pages.login("web-sme")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "找不到该页面或记录" in missing.text
    forbidden = client.get("/provider")
    assert forbidden.status_code == 403 and "此页面不属于您的机构类型" in forbidden.text
    api = client.get("/api/v1/no-such")
    assert api.status_code == 404 and api.json()["error"] == "not_found"


def test_static_assets_are_served_locally(client: Any) -> None:
    for asset in ("/static/web/app.css", "/static/web/app.js", "/static/web/favicon.svg"):
        assert client.get(asset).status_code == 200


def test_a_provider_publishes_a_package_and_a_refusal_keeps_what_was_typed(session: Session, pages: Pages) -> None:
    org = add_organisation(session, "海淀创业服务中心", kind=OrgKind.SERVICE_PROVIDER)
    add_user(session, org, "web-provider")
    pages.login("web-provider")
    assert "还没有服务包" in pages.get("/provider").text
    refused = pages.post(
        "/provider/packages", {"title": "知识产权托管服务", "category": "ai.nlp", "value": "12.345"}, expect=422
    )
    assert 'value="知识产权托管服务"' in refused.text and 'aria-invalid="true"' in refused.text
    done = pages.post("/provider/packages", {"title": "知识产权托管服务", "category": "ai.nlp", "value": "120000.00"})
    page = pages.follow(done)
    assert "已发布" in page.text and "¥120,000.00" in page.text


def test_a_session_is_not_a_bearer_token_and_a_bearer_token_is_not_a_session(
    session: Session, pages: Pages, client: Any
) -> None:
    _sme(session)
    pages.login("web-sme")
    cookie = client.cookies.get("qf_session")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    tokens = client.post("/api/v1/auth/token", data={"username": "web-sme", "password": "qianfan-test-pass"}).json()
    client.cookies.set("qf_session", tokens["access_token"])
    assert client.get("/inbox", follow_redirects=False).status_code == 303  # back to the login page


def test_a_session_ends_after_its_hours(session: Session, pages: Pages, client: Any, clock: Any) -> None:
    from datetime import timedelta

    _sme(session)
    pages.login("web-sme")
    clock.advance(timedelta(hours=7, minutes=59))
    pages.get("/inbox")
    clock.advance(timedelta(minutes=2))
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_repeated_failures_lock_the_web_login_too(session: Session, pages: Pages) -> None:
    _sme(session)
    for _ in range(5):
        pages.login("web-sme", "wrong", expect=401)
    locked = pages.login("web-sme", expect=429)
    assert "账户已锁定" in locked.text


def test_notification_links_open_each_kinds_own_page(session: Session, pages: Pages, client: Any) -> None:
    _sme(session)
    pages.login("web-sme")
    assert client.get("/finance/applications/7", follow_redirects=False).headers["location"] == "/sme/finance/7"
    assert client.get("/orders/3", follow_redirects=False).headers["location"] == "/sme/orders/3"
    assert client.get("/finance/loans/5", follow_redirects=False).headers["location"] == "/sme/finance"
    assert client.get("/finance/receivables/9", follow_redirects=False).headers["location"] == "/sme/receivables"


def test_an_unexpected_error_on_a_page_is_a_page_with_a_reference(session: Session, app: Any) -> None:
    from fastapi.testclient import TestClient

    @app.get("/boom-page")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.get("/boom-page")
    assert response.status_code == 500 and "text/html" in response.headers["content-type"]
    assert "服务器内部错误" in response.text and "secret internals" not in response.text
    assert "错误编号" in response.text
