"""The finance world of ``tests/finance_service`` (built through the real use cases) seen through the API: bearer
tokens for its users, plus a service provider (who may use no finance endpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts import auth
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import OrgKind, User, UserRole
from qianfan.uow import UnitOfWork
from tests.finance_service.conftest import World, _org, build_world

PASSWORD = "Correct-horse-9"  # the password tests/finance_service gives its users


@dataclass
class FinanceWorld:
    w: World
    client: TestClient
    provider: Actor
    _tokens: dict[int, tuple[str, datetime]] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.w.engine

    @property
    def clock(self) -> FrozenClock:
        return self.w.clock

    def h(self, actor: Actor, key: str | None = None) -> dict[str, str]:
        """The Authorization header of *actor*'s user (a token issued at the current clock time, reissued when the
        clock has moved on by ten minutes), and an ``Idempotency-Key`` when given."""
        assert actor.user_id is not None
        now = self.clock.now()
        cached = self._tokens.get(actor.user_id)
        if cached is None or now - cached[1] >= timedelta(minutes=10) or now < cached[1]:
            with Session(self.engine) as s:
                user = s.get(User, actor.user_id)
                assert user is not None
                username = user.username
            pair = auth.login(UnitOfWork(self.engine, self.clock), username, PASSWORD, f"test-{actor.user_id}")
            cached = (pair.access_token, now)
            self._tokens[actor.user_id] = cached
        headers = {"Authorization": f"Bearer {cached[0]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, actor: Actor | None, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.h(actor) if actor else {}, **kw)

    def post(self, actor: Actor | None, path: str, json: Any = None, key: str | None = None) -> Any:
        headers = self.h(actor, key) if actor else ({"Idempotency-Key": key} if key else {})
        return self.client.post(path, json=json, headers=headers)

    def put(self, actor: Actor | None, path: str, json: Any = None) -> Any:
        return self.client.put(path, json=json, headers=self.h(actor) if actor else {})


def build(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    world = build_world(engine, clock)
    (provider,) = _org(lambda: UnitOfWork(engine, clock), OrgKind.SERVICE_PROVIDER, [("provider", UserRole.ADMIN)])
    return FinanceWorld(world, client, provider)
