"""Infrastructure tables: the transactional outbox and the hash-chained audit log."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import timestamp


class OutboxEvent(SQLModel, table=True):
    """An event written in the same transaction as the change it reports; a relay hands it to the broker."""

    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = timestamp()
    dispatched_at: datetime | None = timestamp(nullable=True, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=sa.Text)


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical record)``."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    entity_type: str = Field(max_length=48, index=True)
    entity_id: int = Field(index=True)
    action: str = Field(max_length=48)
    actor_id: int | None = Field(default=None)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    at: datetime = timestamp()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
