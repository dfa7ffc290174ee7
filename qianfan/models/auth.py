"""Authentication state: API tokens (stored only as SHA-256 digests), login attempts (rate limit and lockout)
and idempotency records for money-moving requests."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, timestamp


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    SESSION = "session"  # a web page session, carried in an HttpOnly cookie


class ApiToken(SQLModel, table=True):
    """A bearer token.  The secret is shown once; only its SHA-256 digest is kept, so a copy of the database
    does not hand out sessions.  An access token and its refresh token share a ``family``: logging out or
    re-using a rotated refresh token revokes the whole family."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)
    kind: TokenKind = Field(sa_type=enum_type(TokenKind))
    family: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(index=True)
    revoked_at: datetime | None = timestamp(nullable=True)
    used_at: datetime | None = timestamp(nullable=True)  # a refresh token is spent once (rotation)


class LoginAttempt(SQLModel, table=True):
    """Every password login, kept for rate limiting by address and lockout by account."""

    __tablename__ = "login_attempt"
    __table_args__ = (sa.Index("ix_login_attempt_username_at", "username", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    address: str = Field(max_length=64, index=True)
    succeeded: bool = Field(default=False)
    at: datetime = timestamp(index=True)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a money-moving request with an ``Idempotency-Key``, replayed for the same key and
    body, refused for the same key with another body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    key: str = Field(max_length=128)
    route: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # {"body": …}
    created_at: datetime = timestamp()
