"""Logging in (OAuth2 password flow → bearer tokens), refreshing, logging out, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response

from accounts import auth
from accounts.schemas import MePublic, OrganisationPublic, TokenPublic
from api.auth import PrincipalDep
from api.deps import SettingsDep
from api.routes.context import ContextDep
from api.schemas import AUTH_RESPONSES, ErrorPublic
from qianfan.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=AUTH_RESPONSES)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _token_body(pair: auth.TokenPair, now: datetime) -> TokenPublic:
    return TokenPublic(
        access_token=pair.access_token,
        expires_in=int((pair.access_expires_at - now).total_seconds()),
        refresh_token=pair.refresh_token,
        refresh_expires_in=int((pair.refresh_expires_at - now).total_seconds()),
    )


@router.post(
    "/auth/token",
    response_model=TokenPublic,
    summary="登录获取令牌 / Log in for a bearer token",
    responses={
        401: {"model": ErrorPublic, "description": "用户名或密码错误 / Wrong username or password"},
        429: {"model": ErrorPublic, "description": "尝试过于频繁或账户已锁定 / Rate limited or account locked"},
    },
)
def issue_token(
    request: Request,
    ctx: ContextDep,
    response: Response,
    grant_type: Annotated[
        Literal["password", "refresh_token"], Form(description="password 或 refresh_token / grant type")
    ] = "password",
    username: Annotated[str, Form(max_length=64, examples=["demo-sme"])] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    refresh_token: Annotated[str, Form(max_length=200)] = "",
) -> TokenPublic:
    """OAuth2 token endpoint (form-encoded).  ``grant_type=password`` with ``username`` and ``password``;
    ``grant_type=refresh_token`` with ``refresh_token`` spends it for a new pair."""
    response.headers["Cache-Control"] = "no-store"
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidInput("缺少 refresh_token", "refresh_token is required", detail=[{"field": "refresh_token"}])
        pair = auth.refresh(ctx.uow(), refresh_token, ctx.settings)
    else:
        if not username or not password:
            raise InvalidInput(
                "请填写用户名和密码", "username and password are required", detail=[{"field": "username"}]
            )
        pair = auth.login(ctx.uow(), username, password, _client_address(request), ctx.settings)
    return _token_body(pair, ctx.now())


@router.post("/auth/logout", status_code=204, summary="退出登录（吊销令牌）/ Log out (revoke the tokens)")
def logout(principal: PrincipalDep, ctx: ContextDep) -> Response:
    auth.logout(ctx.uow(), principal.token)
    return Response(status_code=204)


@router.get("/me", response_model=MePublic, summary="当前用户 / The logged-in user")
def me(principal: PrincipalDep, settings: SettingsDep) -> MePublic:
    user = principal.user
    return MePublic.of(
        user,
        settings.tz,
        id=principal.user_id,
        organisation=OrganisationPublic.from_model(principal.organisation, settings.tz),
        kind=principal.kind,
    )
