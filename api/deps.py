"""Typed request dependencies: a database session per request, the settings, the clock, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from qianfan.clock import Clock, SystemClock
from qianfan.config import Settings

MAX_LIMIT = 200
DEFAULT_LIMIT = 20
MAX_OFFSET = 1_000_000


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session per request, closed (and any open transaction rolled back) when the request ends."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_clock() -> Clock:
    """The real clock; tests override this dependency with a ``FrozenClock``."""
    return SystemClock()


class PageParams(BaseModel):
    """``limit`` and ``offset``.  Unknown query parameters are refused (``extra="forbid"``), so a misspelt
    filter is a 422 rather than silently ignored; resource query models extend this class."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="每页条数 / items per page (1–200)", examples=[20]
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数 / items to skip", examples=[0])


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
Pagination = Annotated[PageParams, Query()]
