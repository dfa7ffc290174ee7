"""What a route handler works with, as one dependency: the engine, the clock, the request's session and the
settings — so a handler names its inputs and its principal, not the same four plumbing parameters each time — and
the write shapes several routes share (creating a finance application once per idempotency key)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import Principal
from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.idempotency import idempotent, use_case_key
from finance.schemas.applications import ApplicationPublic
from qianfan.actors import Actor
from qianfan.clock import Clock
from qianfan.config import Settings
from qianfan.models import FinanceApplication
from qianfan.uow import UnitOfWork

#: A finance application's input (receivable, contract or drawdown), which carries the idempotency key.
AppInput = TypeVar("AppInput", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Context:
    engine: Engine
    clock: Clock
    session: Session
    settings: Settings

    @property
    def tz(self) -> ZoneInfo:
        """The display time zone (Asia/Shanghai)."""
        return self.settings.tz

    def now(self) -> datetime:
        return self.clock.now()

    def uow(self) -> UnitOfWork:
        """A new unit of work for one use case (it commits once)."""
        return UnitOfWork(self.engine, self.clock)


def get_context(engine: EngineDep, clock: ClockDep, session: SessionDep, settings: SettingsDep) -> Context:
    return Context(engine, clock, session, settings)


ContextDep = Annotated[Context, Depends(get_context)]


def apply_once(
    use_case: Callable[[UnitOfWork, Actor, AppInput], FinanceApplication],
    request: Request,
    body: AppInput,
    principal: Principal,
    ctx: Context,
    key: str | None,
) -> JSONResponse:
    """Create a finance application through *use_case* (receivable, contract or drawdown), once per idempotency
    key: the same key and request replays the first answer (201).

    *body* is the use case's input as validated from the request; the ``Idempotency-Key`` header is laid over it
    (``model_copy``: no second validation).  The key is not a body field: one sent in the JSON is refused like any
    unknown field."""
    if "idempotency_key" in body.model_fields_set:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", "idempotency_key"),
                    "msg": "Extra inputs are not permitted",
                    "input": getattr(body, "idempotency_key", None),
                }
            ]
        )

    def run() -> ApplicationPublic:
        data = body.model_copy(update={"idempotency_key": use_case_key(key) if key else None})
        app = use_case(ctx.uow(), principal.actor, data)
        return ApplicationPublic.from_model(app, ctx.tz, ctx.now())

    return idempotent(request, principal, key, body, run, clock=ctx.clock, status_code=201)
