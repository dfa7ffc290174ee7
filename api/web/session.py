"""Who is looking at a page: the session cookie → the user, and the CSRF token every form carries.

A login (``/login``) starts a server-side session (``accounts.auth.start_session``): a random token in an
HttpOnly, SameSite=Lax cookie, stored only as its SHA-256 digest.  Every form carries a CSRF token derived from the
session token (HMAC-SHA256), so a page of another site cannot post as the user even where SameSite is not honoured.
The login form itself, before any session exists, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from accounts import auth
from api.deps import ClockDep, EngineDep
from qianfan.actors import Actor
from qianfan.errors import AuthenticationFailed
from qianfan.models import Organisation, OrgKind, TokenKind, User

SESSION_COOKIE = "qf_session"
LOGIN_CSRF_COOKIE = "qf_login_csrf"
CSRF_FIELD = "csrf_token"

#: Where each kind of organisation lands after logging in.
HOME_BY_KIND: dict[OrgKind, str] = {
    OrgKind.SME: "/sme",
    OrgKind.LARGE_FIRM: "/firm",
    OrgKind.BANK: "/bank",
    OrgKind.PROGRAMME_OFFICE: "/office",
    OrgKind.SERVICE_PROVIDER: "/provider",
}


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to ``/login?next=…``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageForbidden(Exception):
    """A page not meant for the user's kind of organisation, or a form without a valid CSRF token (403 page)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"qianfan-csrf", hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class WebUser:
    user: User
    organisation: Organisation
    token: str

    @property
    def actor(self) -> Actor:
        return Actor.for_user(self.user, self.organisation)

    @property
    def kind(self) -> OrgKind:
        return self.organisation.kind

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def organisation_id(self) -> int:
        assert self.organisation.id is not None
        return self.organisation.id

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    @property
    def home(self) -> str:
        return HOME_BY_KIND.get(self.kind, "/")


def session_user(request: Request, engine: EngineDep, clock: ClockDep) -> WebUser | None:
    """The logged-in user, or ``None`` (no cookie, or a session that ended or was revoked)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        with Session(engine) as session:
            user, organisation = auth.authenticate(session, token, clock.now(), TokenKind.SESSION)
    except AuthenticationFailed:
        return None
    return WebUser(user, organisation, token)


def _here(request: Request) -> str:
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


def require_user(request: Request, user: Annotated[WebUser | None, Depends(session_user)]) -> WebUser:
    if user is None:
        raise LoginRequired(_here(request) if request.method == "GET" else "")
    return user


def page_for(*kinds: OrgKind) -> object:
    """A dependency admitting only users of organisations of *kinds* (a 403 page otherwise)."""

    def check(user: Annotated[WebUser, Depends(require_user)]) -> WebUser:
        if user.kind not in kinds:
            raise PageForbidden(
                "此页面不属于您的机构类型，请从首页进入您的工作台",
                "This page is not for your kind of organisation; start from your home page",
            )
        return user

    check.__name__ = "page_for_" + "_or_".join(k.value for k in kinds)
    return Depends(check)


UserDep = Annotated[WebUser, Depends(require_user)]
OptionalUserDep = Annotated[WebUser | None, Depends(session_user)]
SmePage = Annotated[WebUser, page_for(OrgKind.SME)]
FirmPage = Annotated[WebUser, page_for(OrgKind.LARGE_FIRM)]
BankPage = Annotated[WebUser, page_for(OrgKind.BANK)]
OfficePage = Annotated[WebUser, page_for(OrgKind.PROGRAMME_OFFICE)]
ProviderPage = Annotated[WebUser, page_for(OrgKind.SERVICE_PROVIDER)]


def check_csrf(form: FormData, expected: str) -> None:
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise PageForbidden(
            "表单已过期或来源不明，请刷新页面后重新提交",
            "The form has expired or did not come from this site; reload the page and submit again",
        )


async def posted_form(request: Request, user: UserDep) -> FormData:
    """The submitted form, after checking its CSRF token against the user's session."""
    form = await request.form()
    check_csrf(form, user.csrf)
    return form


FormDep = Annotated[FormData, Depends(posted_form)]


def login_url(next_url: str) -> str:
    return "/login" + (f"?next={quote(next_url, safe='/')}" if next_url else "")


def safe_next(next_url: str | None) -> str | None:
    """Only a path on this site (``/x``, not ``//evil.example`` or ``https://…``) is followed after login."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return None
    return next_url
