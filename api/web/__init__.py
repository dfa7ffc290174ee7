"""The web pages: server-rendered with Jinja2 on the same FastAPI app, Chinese first with an English switch.

:func:`install_web` mounts the static assets (served from this package: no CDN), the portals' routers, and the
error pages: below ``/api`` errors stay JSON; elsewhere a person gets a page (or the login page) in their language.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.deps import get_clock
from api.web.render import STATIC_DIR, redirect, render
from api.web.session import LoginRequired, PageForbidden, WebUser, login_url, session_user


def is_page(request: Request) -> bool:
    """Whether *request* is for a web page (errors answered as HTML) rather than the JSON API."""
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/") or path in {"/openapi.json", "/docs"})


def _user_of(request: Request) -> WebUser | None:
    clock_factory = request.app.dependency_overrides.get(get_clock, get_clock)
    try:
        return session_user(request, request.app.state.engine, clock_factory())
    except Exception:  # an error page must render even when the database is the problem
        return None


def error_page(request: Request, status: int, zh: str, en: str, reference: str = "") -> Response:
    user = _user_of(request)
    context = {"status": status, "message_zh": zh, "message_en": en, "reference": reference}
    return render(request, "error.html", context, user=user, status_code=status)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect(login_url(exc.next_url), ("info", "请先登录", "Please log in first"))


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageForbidden)
    return error_page(request, 403, exc.zh, exc.en)


def install_web(app: FastAPI) -> None:
    from api.web.pages import bank, common, firm, office, provider, sme

    app.mount("/static/web", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    for module in (common, sme, firm, bank, office, provider):
        app.include_router(module.router)
