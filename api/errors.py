"""The one place where errors become HTTP responses.

Domain errors (``qianfan.errors``) carry no HTTP codes; they are mapped here once.  Every error body has the same
shape: ``{"error": code, "message": 中文, "message_en": English, "detail": ...}``.  Unexpected exceptions are
logged with a reference and answered with a generic bilingual 500 that carries neither a stack trace nor the
exception's text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qianfan.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
    TooManyRequests,
)
from qianfan.validation import field_errors_from

logger = logging.getLogger("qianfan.api")

#: Domain error kind → HTTP status.  The most specific class in an error's MRO wins.
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    RuleViolation: 422,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
    TooManyRequests: 429,
    DomainError: 400,
}

#: Request-parameter locations FastAPI puts in front of a field name; the client knows the field by its name.
_LOCATIONS = frozenset({"query", "path", "header", "cookie", "body"})

#: HTTP errors raised by the framework itself (unknown route, wrong method …).
_HTTP_MESSAGES: dict[int, tuple[str, str, str]] = {
    401: ("unauthenticated", "请先登录", "Authentication required"),
    404: ("not_found", "请求的地址不存在", "The requested URL was not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed for this URL"),
    406: ("not_acceptable", "无法提供所请求的格式", "The requested representation is not available"),
    413: ("payload_too_large", "请求内容过大", "Request payload too large"),
    415: ("unsupported_media_type", "不支持的内容类型", "Unsupported media type"),
}

INTERNAL_ERROR_ZH = "服务器内部错误，请稍后重试；如问题持续，请联系平台并提供错误编号"
INTERNAL_ERROR_EN = (
    "Internal server error. Please try again later; if it persists, contact the platform with the reference"
)


def error_body(code: str, message_zh: str, message_en: str, detail: Any = None) -> dict[str, Any]:
    return {"error": code, "message": message_zh, "message_en": message_en, "detail": detail}


def status_for(exc: DomainError) -> int:
    for klass in type(exc).__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cast(type[DomainError], klass)]
    return 400  # pragma: no cover - DomainError itself is in the table


def request_field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """FastAPI's validation errors → ``[{"field", "message" (zh), "message_en"}]`` via ``field_errors``.

    The parameter location (``query``/``path``/``body``…) is dropped from the field name.
    """
    cleaned = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        cleaned.append({**err, "loc": loc})
    return field_errors_from(cleaned)


def invalid_request(details: list[dict[str, str]]) -> InvalidInput:
    if not details:
        return InvalidInput("请求参数有误", "Invalid request parameters", detail=details)
    first = details[0]
    return InvalidInput(
        f"请求参数有误（{first['field']}）：{first['message']}",
        f"Invalid request parameter ({first['field']}): {first['message_en']}",
        detail=details,
    )


def internal_error_body(reference: str) -> dict[str, Any]:
    return error_body("internal_error", INTERNAL_ERROR_ZH, INTERNAL_ERROR_EN, {"reference": reference})


def log_unhandled(scope: Scope, exc: BaseException) -> str:
    """Log an unexpected exception with a short reference the client can quote; return the reference."""
    reference = uuid.uuid4().hex[:12]
    logger.error(
        "unhandled error %s on %s %s",
        reference,
        scope.get("method", "?"),
        scope.get("path", "?"),
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return reference


def _page_error(request: Request, status: int, zh: str, en: str, reference: str = "") -> Response | None:
    """The HTML answer for a web page (outside ``/api``), or ``None`` for the JSON API."""
    from api.web import error_page, is_page

    return error_page(request, status, zh, en, reference) if is_page(request) else None


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    page = _page_error(request, status_for(exc), exc.message_zh, exc.message_en)
    if page is not None:
        return page
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    # A detail may carry Decimal amounts or dates: exact strings, never floats.
    body = jsonable_encoder(exc.to_dict(), custom_encoder={Decimal: lambda d: format(d, "f")})
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = invalid_request(request_field_errors(exc.errors()))
    page = _page_error(request, 422, error.message_zh, error.message_en)
    if page is not None:
        return page
    return JSONResponse(error.to_dict(), status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status in _HTTP_MESSAGES:
        code, zh, en = _HTTP_MESSAGES[status]
        detail = None
    else:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "HTTP error"
        code, zh, en = "http_error", f"请求失败（HTTP {status}）", f"{phrase} (HTTP {status})"
        detail = exc.detail if isinstance(exc.detail, str | dict | list) else None
    page = _page_error(request, status, zh, en)
    if page is not None:
        return page
    return JSONResponse(error_body(code, zh, en, detail), status_code=status, headers=exc.headers)


async def _unhandled_error(request: Request, exc: Exception) -> Response:
    # Last resort (Starlette's ServerErrorMiddleware); normally CatchAllMiddleware answers first.
    reference = log_unhandled(request.scope, exc)
    page = _page_error(request, 500, INTERNAL_ERROR_ZH, INTERNAL_ERROR_EN, reference)
    if page is not None:
        return page
    return JSONResponse(internal_error_body(reference), status_code=500)


class CatchAllMiddleware:
    """Turns any exception that escapes the routes into the generic 500 body.

    It sits inside the security-headers middleware, so even a 500 carries the headers (Starlette's own
    last-resort handler runs outside every middleware).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for a clean answer: let the server close the connection
                raise
            reference = log_unhandled(scope, exc)
            response: Response = JSONResponse(internal_error_body(reference), status_code=500)
            if scope.get("app") is not None:
                try:
                    page = _page_error(Request(scope), 500, INTERNAL_ERROR_ZH, INTERNAL_ERROR_EN, reference)
                except Exception:  # the page itself failed: the plain JSON answer still goes out
                    page = None
                response = page if page is not None else response
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled_error)
