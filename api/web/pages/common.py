"""Pages every user shares: log in and out, the language switch, the landing redirect, the inbox and the progress
of a long background job (polled by ``app.js``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from accounts import auth
from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.web.i18n import LANG_COOKIE, LANGS
from api.web.render import act, redirect, render
from api.web.session import (
    HOME_BY_KIND,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    FormDep,
    OptionalUserDep,
    UserDep,
    new_login_csrf,
    safe_next,
)
from qianfan import jobs as job_service
from qianfan import notifications
from qianfan.errors import AuthenticationFailed, DomainError, TooManyRequests
from qianfan.models import OrgKind, TokenKind
from qianfan.uow import UnitOfWork

router = APIRouter(include_in_schema=False)

DEMO_ACCOUNTS: list[tuple[str, str, str]] = [
    ("demo-sme", "中小企业", "SME"),
    ("demo-firm", "大企业", "Large firm"),
    ("demo-bank", "银行审批", "Bank reviewer"),
    ("demo-bank-approver", "银行放款", "Bank approver"),
    ("demo-office", "管委会", "Programme office"),
    ("demo-provider", "服务机构", "Service provider"),
]


@router.get("/")
def landing(user: OptionalUserDep) -> RedirectResponse:
    return RedirectResponse(user.home if user is not None else "/login", status_code=303)


def _login_page(
    request: Request,
    settings: Any,
    *,
    username: str = "",
    error: tuple[str, str] | None = None,
    status_code: int = 200,
    next_url: str = "",
) -> Response:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        {
            "username": username,
            "error": error,
            "login_csrf": token,
            "next_url": next_url,
            "demo_accounts": DEMO_ACCOUNTS if settings.env != "production" else [],
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    return response


@router.get("/login")
def login_page(request: Request, user: OptionalUserDep, settings: SettingsDep, next: str = "") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next) or user.home, status_code=303)
    return _login_page(request, settings, next_url=safe_next(next) or "")


@router.post("/login")
def login(
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or csrf_token != expected:
        return _login_page(
            request,
            settings,
            username=username,
            status_code=403,
            next_url=safe_next(next) or "",
            error=("登录页面已过期，请再试一次", "The login page had expired; please try again"),
        )
    if not username.strip() or not password:
        return _login_page(
            request,
            settings,
            username=username,
            status_code=422,
            next_url=safe_next(next) or "",
            error=("请填写用户名和密码", "Enter your username and password"),
        )
    address = request.client.host if request.client else "unknown"
    try:
        session = auth.start_session(UnitOfWork(engine, clock), username, password, address, settings)
    except (AuthenticationFailed, TooManyRequests) as exc:
        status = 429 if isinstance(exc, TooManyRequests) else 401
        return _login_page(
            request,
            settings,
            username=username,
            status_code=status,
            next_url=safe_next(next) or "",
            error=(exc.message_zh, exc.message_en),
        )
    with Session(engine) as s:
        _, organisation = auth.authenticate(s, session.token, clock.now(), TokenKind.SESSION)
    target = safe_next(next) or HOME_BY_KIND.get(organisation.kind, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=settings.web_session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(user: UserDep, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    auth.logout(UnitOfWork(engine, clock), user.token)
    response = redirect("/login", ("ok", "您已安全退出", "You have logged out"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, back: str = "/") -> Response:
    if code not in LANGS:
        code = "zh"
    response = RedirectResponse(safe_next(back) or "/", status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/inbox")
def inbox_page(request: Request, user: UserDep, session: SessionDep, unread: bool = False) -> Response:
    items = notifications.inbox(session, user.user_id, unread_only=unread, limit=100)
    return render(request, "inbox.html", {"items": items, "unread_only": unread}, user=user)


@router.post("/inbox/{notification_id}/read")
def mark_read(notification_id: int, user: UserDep, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    link = form.get("link")
    target = link if isinstance(link, str) and safe_next(link) else "/inbox"
    return act(
        lambda: notifications.mark_read(UnitOfWork(engine, clock), user.actor, notification_id),
        ok_url=target,
        ok=("已标记为已读", "Marked as read"),
        back_url="/inbox",
    )


@router.get("/jobs/{job_id}")
def job_progress(job_id: int, user: UserDep, session: SessionDep, clock: ClockDep) -> JSONResponse:
    """A long job's state for the progress bar (``data-job`` in ``app.js``)."""
    try:
        job = job_service.job_for(session, user.actor, job_id)
    except DomainError:
        return JSONResponse({"error": "not_found"}, status_code=404)
    pct = job_service.percent(job)
    return JSONResponse(
        {
            "id": job.id,
            "kind": job.kind,
            "status": job.status.value,
            "done": job.done,
            "total": job.total,
            "percent": None if pct is None else round(pct, 1),
            "message": job.message,
            "finished": job.status.finished,
        },
        headers={"Cache-Control": "no-store"},
    )


# Notifications carry links that do not depend on who reads them (``workers.notices``); each kind of
# organisation has its own page for the same record.
APPLICATION_PAGES = {
    OrgKind.SME: "/sme/finance/{id}",
    OrgKind.BANK: "/bank/applications/{id}",
    OrgKind.PROGRAMME_OFFICE: "/office/turnaround",
    OrgKind.LARGE_FIRM: "/firm/receivables",
}
ORDER_PAGES = {OrgKind.SME: "/sme/orders/{id}", OrgKind.LARGE_FIRM: "/firm/orders/{id}"}
LOAN_PAGES = {OrgKind.LARGE_FIRM: "/firm/repayments", OrgKind.BANK: "/bank/loans", OrgKind.SME: "/sme/finance"}
RECEIVABLE_PAGES = {OrgKind.LARGE_FIRM: "/firm/receivables", OrgKind.SME: "/sme/receivables"}


@router.get("/finance/applications/{application_id}")
def application_link(application_id: int, user: UserDep) -> RedirectResponse:
    return RedirectResponse(APPLICATION_PAGES.get(user.kind, user.home).format(id=application_id), status_code=303)


@router.get("/orders/{order_id}")
def order_link(order_id: int, user: UserDep) -> RedirectResponse:
    return RedirectResponse(ORDER_PAGES.get(user.kind, user.home).format(id=order_id), status_code=303)


@router.get("/finance/loans/{loan_id}")
def loan_link(loan_id: int, user: UserDep) -> RedirectResponse:
    return RedirectResponse(LOAN_PAGES.get(user.kind, user.home).format(id=loan_id), status_code=303)


@router.get("/finance/receivables/{receivable_id}")
def receivable_link(receivable_id: int, user: UserDep) -> RedirectResponse:
    return RedirectResponse(RECEIVABLE_PAGES.get(user.kind, user.home).format(id=receivable_id), status_code=303)
