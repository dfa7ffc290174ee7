"""Infrastructure tables: the transactional outbox and the hash-chained audit log."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, timestamp


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


class Notification(SQLModel, table=True):
    """An in-app inbox entry for one user; ``dedupe_key`` makes a notification idempotent per user."""

    __tablename__ = "notification"
    __table_args__ = (sa.UniqueConstraint("user_id", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=48, index=True)
    title: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    link: str = Field(default="", max_length=300)
    dedupe_key: str = Field(max_length=128)
    created_at: datetime = timestamp(index=True)
    read_at: datetime | None = timestamp(nullable=True)
    emailed_at: datetime | None = timestamp(nullable=True)


class DeadLetter(SQLModel, table=True):
    """A background task that kept failing after its retries: kept for the programme office to see and replay."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=64, unique=True)
    task_name: str = Field(max_length=128, index=True)
    task_args: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    task_kwargs: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    error: str = Field(default="", sa_type=sa.Text)
    attempts: int = Field(default=0)
    failed_at: datetime = timestamp(index=True)
    replayed_at: datetime | None = timestamp(nullable=True)
    replay_count: int = Field(default=0)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Job(SQLModel, table=True):
    """A long background job (a matcher refit, re-matching every open order) and its progress, one per task id:
    visible to the user or organisation that started it and to the programme office."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=48, index=True)
    task_id: str = Field(max_length=64, unique=True)
    started_by_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=enum_type(JobStatus), index=True)
    total: int | None = Field(default=None)
    done: int = Field(default=0)
    message: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp(index=True)
    started_at: datetime | None = timestamp(nullable=True)
    finished_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp()
