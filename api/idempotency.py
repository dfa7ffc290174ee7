"""``Idempotency-Key`` on money-moving POSTs (apply, approve, sign, disburse, repay).

The first answer to a (user, key) is stored with a digest of the method, path and parsed body.  The same key with
the same request replays that answer (header ``Idempotent-Replayed: true``); the same key with another request is
refused with 409.  Where the use case has its own key (apply, disburse, repay) the header is passed down too, so
two concurrent first requests still produce one application, one loan, one repayment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from accounts import auth
from api.auth import Principal
from qianfan.clock import Clock
from qianfan.uow import UnitOfWork

KEY_PATTERN = r"^[A-Za-z0-9._:\-]{8,128}$"
_KEY_DOC = (
    "幂等键：同一键与相同请求返回第一次的结果，用于不同请求则拒绝（8–128 位字母、数字或 . _ : -）/ "
    "Idempotency key: the same key and request replays the first answer; reused for another request it is refused"
)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=KEY_PATTERN, description=_KEY_DOC, examples=["apply-2026-11-23-0001"]),
]
RequiredIdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=KEY_PATTERN, description=_KEY_DOC, examples=["disburse-7f3a9c21"]),
]

REPLAY_HEADER = "Idempotent-Replayed"


def idempotent(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel | dict[str, Any] | None,
    run: Callable[[], BaseModel],
    *,
    clock: Clock,
    status_code: int = 200,
) -> JSONResponse:
    """Run *run* once per (user, *key*) and request; without a key, just run it."""
    engine = request.app.state.engine
    if key is None:
        return JSONResponse(jsonable_encoder(run()), status_code=status_code)
    route = f"{request.method} {request.url.path}"
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else jsonable_encoder(body)
    fingerprint = auth.request_hash(route, payload)
    with Session(engine) as session:  # a read: no write lock
        stored = auth.idempotent_replay(session, principal.user_id, key, route, fingerprint)
    if stored is not None:
        return JSONResponse(stored.response["body"], status_code=stored.status_code, headers={REPLAY_HEADER: "true"})
    content = jsonable_encoder(run())
    auth.remember_response(UnitOfWork(engine, clock), principal.user_id, key, route, fingerprint, status_code, content)
    return JSONResponse(content, status_code=status_code)


def use_case_key(key: str) -> str:
    """The ``Idempotency-Key`` header (8–128 characters) as the use cases' key (at most 64): itself when it fits,
    else a digest of it — the same header always maps to the same key."""
    if len(key) <= 64:
        return key
    return "h:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:62]
