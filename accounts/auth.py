"""Logging in, bearer tokens and idempotency records.

Tokens are opaque random strings (``qf_…``); only their SHA-256 digest is stored.  An access token lives
``access_token_minutes``, its refresh token ``refresh_token_days``; refreshing spends the refresh token and issues
a new pair in the same family, and presenting a spent refresh token again (a stolen copy being replayed) revokes
the whole family.  Logging out revokes the family too.

Logins are limited per client address (``login_attempts_per_minute``) and an account locks for
``login_lockout_minutes`` after ``login_max_failures`` failures in a row.  The lock is decided before the password
is checked, and applies to unknown usernames as well, so neither guessing nor probing for accounts gets further.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select, update

from qianfan.config import Settings, get_settings
from qianfan.errors import AuthenticationFailed, Conflict, TooManyRequests
from qianfan.models import ApiToken, IdempotencyRecord, LoginAttempt, Organisation, TokenKind, User
from qianfan.security import hash_password, needs_rehash, verify_password
from qianfan.uow import UnitOfWork

TOKEN_PREFIX = "qf_"
_dummy_hash: list[str] = []


def _dummy() -> str:
    """A hash to verify against when the user is unknown, so that such a login costs what a real one costs
    (made once, on first use, with the hasher's current parameters)."""
    if not _dummy_hash:
        _dummy_hash.append(hash_password(secrets.token_urlsafe(16)))
    return _dummy_hash[0]


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    user_id: int


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _invalid_credentials() -> AuthenticationFailed:
    return AuthenticationFailed("用户名或密码错误", "Wrong username or password")


def _invalid_token() -> AuthenticationFailed:
    return AuthenticationFailed(
        "登录凭证无效或已过期，请重新登录", "The token is invalid or has expired; please log in again"
    )


def _issue(session: Session, user_id: int, family: str, now: datetime, settings: Settings) -> TokenPair:
    access, refresh = _new_token(), _new_token()
    access_expires = now + timedelta(minutes=settings.access_token_minutes)
    refresh_expires = now + timedelta(days=settings.refresh_token_days)
    session.add(
        ApiToken(
            digest=digest(access),
            kind=TokenKind.ACCESS,
            family=family,
            user_id=user_id,
            created_at=now,
            expires_at=access_expires,
        )
    )
    session.add(
        ApiToken(
            digest=digest(refresh),
            kind=TokenKind.REFRESH,
            family=family,
            user_id=user_id,
            created_at=now,
            expires_at=refresh_expires,
        )
    )
    return TokenPair(access, refresh, access_expires, refresh_expires, user_id)


def _rate_limit(session: Session, address: str, now: datetime, settings: Settings) -> None:
    recent = session.exec(
        select(func.count())
        .select_from(LoginAttempt)
        .where(col(LoginAttempt.address) == address, col(LoginAttempt.at) > now - timedelta(minutes=1))
    ).one()
    if recent >= settings.login_attempts_per_minute:
        raise TooManyRequests(
            "登录尝试过于频繁，请一分钟后再试", "Too many login attempts; try again in a minute", retry_after=60
        )


def lockout_remaining(session: Session, username: str, now: datetime, settings: Settings) -> timedelta | None:
    """How long *username* stays locked, or ``None``: locked when the last ``login_max_failures`` attempts
    within the lockout window all failed; the lock runs from the last of them."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    recent = session.exec(
        select(LoginAttempt.succeeded, LoginAttempt.at)
        .where(col(LoginAttempt.username) == username, col(LoginAttempt.at) > now - window)
        .order_by(col(LoginAttempt.at).desc(), col(LoginAttempt.id).desc())
        .limit(settings.login_max_failures)
    ).all()
    if len(recent) < settings.login_max_failures or any(ok for ok, _ in recent):
        return None
    remaining = recent[0][1] + window - now
    return remaining if remaining > timedelta(0) else None


def _check_password(uow: UnitOfWork, username: str, password: str, address: str, settings: Settings) -> User:
    """Rate limit, lockout and the password check, inside *uow*: the active user, or raise.  Every attempt is
    recorded (committed even when it fails)."""
    username = username.strip().lower()[:64]
    address = address[:64]
    if any(unicodedata.category(ch) == "Cc" for ch in username):
        raise _invalid_credentials()  # no account has such a name (and PostgreSQL refuses NUL in a string)
    now = uow.clock.now()
    s = uow.session
    _rate_limit(s, address, now, settings)
    locked = lockout_remaining(s, username, now, settings)
    if locked is not None:
        minutes = max(1, int(locked.total_seconds() // 60) + (1 if locked.total_seconds() % 60 else 0))
        raise TooManyRequests(
            f"连续登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试",
            f"Too many failed logins: the account is locked; try again in {minutes} minutes",
            retry_after=int(locked.total_seconds()) + 1,
        )
    user = s.exec(select(User).where(col(User.username) == username)).first()
    ok = verify_password(user.password_hash if user else _dummy(), password)
    ok = ok and user is not None and user.is_active
    s.add(LoginAttempt(username=username, address=address, succeeded=ok, at=now))
    if not ok or user is None or user.id is None:
        uow.commit()
        raise _invalid_credentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    s.add(user)
    return user


def login(uow: UnitOfWork, username: str, password: str, address: str, settings: Settings | None = None) -> TokenPair:
    """Check the password and issue a token pair; every attempt is recorded (committed even when it fails)."""
    settings = settings or get_settings()
    with uow:
        user = _check_password(uow, username, password, address, settings)
        assert user.id is not None
        pair = _issue(uow.session, user.id, secrets.token_hex(16), uow.clock.now(), settings)
        uow.commit()
        return pair


@dataclass(frozen=True, slots=True)
class WebSession:
    token: str
    expires_at: datetime
    user_id: int


def start_session(
    uow: UnitOfWork, username: str, password: str, address: str, settings: Settings | None = None
) -> WebSession:
    """Log in for the web pages: the same checks as :func:`login`, and one session token that lives
    ``web_session_hours`` (carried in an HttpOnly cookie; :func:`logout` ends it)."""
    settings = settings or get_settings()
    with uow:
        user = _check_password(uow, username, password, address, settings)
        assert user.id is not None
        now = uow.clock.now()
        token = _new_token()
        expires = now + timedelta(hours=settings.web_session_hours)
        uow.session.add(
            ApiToken(
                digest=digest(token),
                kind=TokenKind.SESSION,
                family=secrets.token_hex(16),
                user_id=user.id,
                created_at=now,
                expires_at=expires,
            )
        )
        uow.commit()
        return WebSession(token, expires, user.id)


def refresh(uow: UnitOfWork, refresh_token: str, settings: Settings | None = None) -> TokenPair:
    """Spend *refresh_token* for a new pair.  A second use of the same refresh token revokes its family."""
    settings = settings or get_settings()
    with uow:
        now = uow.clock.now()
        s = uow.session
        row = s.exec(
            select(ApiToken)
            .where(col(ApiToken.digest) == digest(refresh_token), col(ApiToken.kind) == TokenKind.REFRESH)
            .with_for_update()
        ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise _invalid_token()
        if row.used_at is not None:
            _revoke_family(s, row.family, now)
            uow.commit()
            raise _invalid_token()
        user = s.get(User, row.user_id)
        if user is None or not user.is_active:
            raise _invalid_token()
        row.used_at = now
        s.add(row)
        # The access token issued beside the spent refresh token ends now; the new pair replaces it.
        s.exec(
            update(ApiToken)
            .where(
                col(ApiToken.family) == row.family,
                col(ApiToken.kind) == TokenKind.ACCESS,
                col(ApiToken.revoked_at).is_(None),
            )
            .values(revoked_at=now)
        )
        pair = _issue(s, row.user_id, row.family, now, settings)
        uow.commit()
        return pair


def _revoke_family(session: Session, family: str, now: datetime) -> None:
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.family) == family, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def logout(uow: UnitOfWork, access_token: str) -> None:
    """Revoke the token's family (the access token and its refresh token).  Unknown tokens are a no-op."""
    with uow:
        row = uow.session.exec(select(ApiToken).where(col(ApiToken.digest) == digest(access_token))).first()
        if row is None:
            return
        _revoke_family(uow.session, row.family, uow.clock.now())
        uow.commit()


def authenticate(
    session: Session, access_token: str, now: datetime, kind: TokenKind = TokenKind.ACCESS
) -> tuple[User, Organisation]:
    """The active user (and organisation) an unexpired, unrevoked token of *kind* belongs to (an access token
    for the API, a session token for the web pages)."""
    if not access_token.startswith(TOKEN_PREFIX) or len(access_token) > 200:
        raise _invalid_token()
    row = session.exec(
        select(User, Organisation, ApiToken.expires_at, ApiToken.revoked_at)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(col(ApiToken.digest) == digest(access_token), col(ApiToken.kind) == kind)
    ).first()
    if row is None:
        raise _invalid_token()
    user, organisation, expires_at, revoked_at = row
    if revoked_at is not None or expires_at <= now or not user.is_active:
        raise _invalid_token()
    return user, organisation


# ------------------------------------------------------------------------------------------ idempotency


def request_hash(route: str, body: Any) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotent_replay(
    session: OrmSession, user_id: int, key: str, route: str, fingerprint: str
) -> IdempotencyRecord | None:
    """The stored answer for (*user_id*, *key*) when the request is the same; ``Conflict`` when the key was used
    for another request; ``None`` when the key is new."""
    row = session.execute(
        select(IdempotencyRecord).where(col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key)
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.route != route or row.request_hash != fingerprint:
        raise Conflict(
            "该幂等键（Idempotency-Key）已用于另一个请求，请换一个新的键",
            "This Idempotency-Key was used for a different request; use a new key",
            detail={"idempotency_key": key},
        )
    return row


def remember_response(
    uow: UnitOfWork, user_id: int, key: str, route: str, fingerprint: str, status_code: int, body: Any
) -> None:
    """Store the first answer; when a concurrent request with the same key stored one first, keep that one."""
    with uow:
        uow.session.add(
            IdempotencyRecord(
                user_id=user_id,
                key=key,
                route=route,
                request_hash=fingerprint,
                status_code=status_code,
                response={"body": body},
                created_at=uow.clock.now(),
            )
        )
        try:
            uow.commit()
        except IntegrityError:
            uow.rollback()


# ------------------------------------------------------------------------------------------ housekeeping

#: How long records outlive their use: login attempts (for the audit of break-in attempts), idempotency answers
#: (clients retry within minutes; a day's margin), tokens after they expire or are revoked.
LOGIN_ATTEMPTS_KEPT = timedelta(days=30)
IDEMPOTENCY_KEPT = timedelta(days=7)
TOKENS_KEPT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Purged:
    tokens: int
    login_attempts: int
    idempotency_records: int


def purge(uow: UnitOfWork) -> Purged:
    """Delete expired tokens, old login attempts and old idempotency answers (run daily by the workers)."""
    with uow:
        now = uow.clock.now()
        s = uow.session
        tokens = s.exec(
            delete(ApiToken).where(
                or_(col(ApiToken.expires_at) < now - TOKENS_KEPT, col(ApiToken.revoked_at) < now - TOKENS_KEPT)
            )
        ).rowcount
        attempts = s.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - LOGIN_ATTEMPTS_KEPT)).rowcount
        records = s.exec(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < now - IDEMPOTENCY_KEPT)
        ).rowcount
        uow.commit()
        return Purged(tokens, attempts, records)
