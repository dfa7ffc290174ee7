"""Login, tokens, lockout and idempotency records at the service level (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from accounts import auth
from accounts import organisations as orgs
from qianfan.clock import FrozenClock
from qianfan.config import Settings
from qianfan.errors import AuthenticationFailed, Conflict, TooManyRequests
from qianfan.models import ApiToken, IdempotencyRecord, LoginAttempt, OrgKind, UserRole
from qianfan.uow import UnitOfWork

PASSWORD = "Service-pass-2026"
SETTINGS = Settings(env="test", login_max_failures=3, login_lockout_minutes=10, login_attempts_per_minute=100)


@pytest.fixture
def user_id(make_org: Callable[..., Any], uow: Callable[[], UnitOfWork]) -> int:
    org, _ = make_org(OrgKind.SME)
    user = orgs.add_user(
        uow(),
        org.id,
        {"username": "svc-user", "display_name": "服务测试", "role": UserRole.ADMIN, "password": PASSWORD},
    )
    return user.id


def _count(uow: Callable[[], UnitOfWork], model: type) -> int:
    with Session(uow().engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_login_authenticate_logout(uow: Callable[[], UnitOfWork], user_id: int, clock: FrozenClock) -> None:
    pair = auth.login(uow(), "SVC-user", PASSWORD, "127.0.0.1", SETTINGS)
    with Session(uow().engine) as s:
        user, org = auth.authenticate(s, pair.access_token, clock.now())
    assert user.id == user_id and org.kind == OrgKind.SME
    auth.logout(uow(), pair.access_token)
    with Session(uow().engine) as s, pytest.raises(AuthenticationFailed):
        auth.authenticate(s, pair.access_token, clock.now())
    auth.logout(uow(), "qf_unknown")  # a no-op


def test_refresh_token_is_not_an_access_token(uow: Callable[[], UnitOfWork], user_id: int, clock: FrozenClock) -> None:
    pair = auth.login(uow(), "svc-user", PASSWORD, "127.0.0.1", SETTINGS)
    with Session(uow().engine) as s, pytest.raises(AuthenticationFailed):
        auth.authenticate(s, pair.refresh_token, clock.now())
    with pytest.raises(AuthenticationFailed):
        auth.refresh(uow(), pair.access_token, SETTINGS)


def test_lockout_counts_failures_in_a_row_within_the_window(
    uow: Callable[[], UnitOfWork], user_id: int, clock: FrozenClock
) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            auth.login(uow(), "svc-user", "wrong-password", "127.0.0.1", SETTINGS)
    clock.advance(timedelta(minutes=11))  # the first two fall out of the window
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            auth.login(uow(), "svc-user", "wrong-password", "127.0.0.1", SETTINGS)
    auth.login(uow(), "svc-user", PASSWORD, "127.0.0.1", SETTINGS)  # not locked: only two in the window
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            auth.login(uow(), "svc-user", "wrong-password", "127.0.0.1", SETTINGS)
    with pytest.raises(TooManyRequests) as locked:
        auth.login(uow(), "svc-user", PASSWORD, "127.0.0.1", SETTINGS)
    assert 0 < locked.value.retry_after <= 10 * 60 + 1
    # Failed attempts are recorded even though the use case raised; the refused (locked) one is not.
    assert _count(uow, LoginAttempt) == 8


def test_unknown_usernames_lock_too(uow: Callable[[], UnitOfWork], clock: FrozenClock) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            auth.login(uow(), "ghost", "whatever-password", "10.0.0.1", SETTINGS)
    with pytest.raises(TooManyRequests):
        auth.login(uow(), "ghost", "whatever-password", "10.0.0.1", SETTINGS)


def test_idempotency_replay_and_conflict(uow: Callable[[], UnitOfWork], user_id: int) -> None:
    route = "POST /api/v1/loans/7/repayments"
    fingerprint = auth.request_hash(route, {"amount": "100.00"})
    assert fingerprint == auth.request_hash(route, {"amount": "100.00"})
    assert fingerprint != auth.request_hash(route, {"amount": "100.01"})
    with uow() as u:
        assert auth.idempotent_replay(u.session, user_id, "key-00000001", route, fingerprint) is None
    auth.remember_response(uow(), user_id, "key-00000001", route, fingerprint, 201, {"id": 1})
    auth.remember_response(uow(), user_id, "key-00000001", route, fingerprint, 201, {"id": 2})  # first one kept
    with uow() as u:
        stored = auth.idempotent_replay(u.session, user_id, "key-00000001", route, fingerprint)
        assert stored is not None and stored.response == {"body": {"id": 1}} and stored.status_code == 201
        with pytest.raises(Conflict):
            auth.idempotent_replay(u.session, user_id, "key-00000001", route, auth.request_hash(route, {}))
        with pytest.raises(Conflict):
            auth.idempotent_replay(u.session, user_id, "key-00000001", "POST /other", fingerprint)


def test_purge_keeps_what_is_recent(uow: Callable[[], UnitOfWork], user_id: int, clock: FrozenClock) -> None:
    auth.login(uow(), "svc-user", PASSWORD, "127.0.0.1", SETTINGS)
    auth.remember_response(uow(), user_id, "key-00000002", "POST /x", "0" * 64, 200, None)
    assert auth.purge(uow()) == auth.Purged(0, 0, 0)
    clock.advance(timedelta(days=9))  # both tokens expired more than a day ago; idempotency > 7 days
    assert auth.purge(uow()) == auth.Purged(2, 0, 1)
    clock.advance(timedelta(days=30))
    assert auth.purge(uow()) == auth.Purged(0, 1, 0)
    assert _count(uow, ApiToken) == _count(uow, IdempotencyRecord) == _count(uow, LoginAttempt) == 0
