"""What a route handler works with, as one dependency: the engine, the clock, the request's session and the
settings — so a handler names its inputs and its principal, not the same four plumbing parameters each time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from qianfan.clock import Clock
from qianfan.config import Settings
from qianfan.uow import UnitOfWork


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
