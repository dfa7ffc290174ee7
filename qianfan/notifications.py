"""In-app notifications (an inbox per user) and the dead-letter record of background tasks that kept failing.

Both are written by background work and must be safe to write twice: a notification is unique per user and
``dedupe_key``; a dead letter is unique per task id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import DeadLetter, Notification, OrgKind, User
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork


def notify(
    uow: UnitOfWork,
    organisation_ids: Iterable[int],
    *,
    kind: str,
    title: str,
    title_en: str = "",
    body: str = "",
    link: str = "",
    dedupe_key: str,
) -> int:
    """Put one notification in the inbox of every active user of each organisation; a user who already has one
    with this ``dedupe_key`` gets nothing new.  Returns how many were created (0 on a replay)."""
    org_ids = sorted(set(organisation_ids))
    with uow:
        if not org_ids:
            return 0
        users = uow.session.exec(
            select(User).where(col(User.organisation_id).in_(org_ids), col(User.is_active).is_(True))
        ).all()
        created = 0
        now = uow.clock.now()
        for user in users:
            assert user.id is not None
            exists = uow.session.exec(
                select(Notification.id).where(Notification.user_id == user.id, Notification.dedupe_key == dedupe_key)
            ).first()
            if exists is not None:
                continue
            try:
                with uow.session.begin_nested():
                    uow.session.add(
                        Notification(
                            user_id=user.id,
                            organisation_id=user.organisation_id,
                            kind=kind,
                            title=title[:200],
                            title_en=title_en[:200],
                            body=body,
                            link=link[:300],
                            dedupe_key=dedupe_key[:128],
                            created_at=now,
                        )
                    )
                created += 1
            except IntegrityError:  # written a moment ago by a concurrent run of the same task
                continue
        uow.commit()
        return created


def inbox(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    return list(session.exec(stmt.order_by(col(Notification.id).desc()).limit(limit)).all())


def mark_read(uow: UnitOfWork, actor: Actor, notification_id: int) -> Notification:
    with uow:
        row = load_row(uow.session, Notification, notification_id, "通知", "Notification", lock=True)
        if row.user_id != actor.user_id:
            raise NotFound.of("通知", "Notification", notification_id)
        if row.read_at is None:
            row.read_at = uow.clock.now()
            uow.session.add(row)
            uow.commit()
        return row


# ------------------------------------------------------------------------------------------ dead letters


def record_dead_letter(
    uow: UnitOfWork,
    *,
    task_id: str,
    task_name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    error: str,
    attempts: int,
) -> DeadLetter:
    """Keep a task that exhausted its retries (once per task id: a second report updates the error)."""
    with uow:
        row = uow.session.exec(select(DeadLetter).where(DeadLetter.task_id == task_id)).first()
        if row is None:
            row = DeadLetter(
                task_id=task_id,
                task_name=task_name,
                task_args=list(args),
                task_kwargs=dict(kwargs),
                failed_at=uow.clock.now(),
            )
        row.error = error[:10_000]
        row.attempts = attempts
        uow.session.add(row)
        uow.session.flush()
        uow.audit("dead_letter", row.id or 0, "recorded", task_name=task_name, task_id=task_id)
        uow.commit()
        return row


def dead_letters(session: Session, *, include_replayed: bool = False, limit: int = 200) -> list[DeadLetter]:
    stmt = select(DeadLetter)
    if not include_replayed:
        stmt = stmt.where(col(DeadLetter.replayed_at).is_(None))
    return list(session.exec(stmt.order_by(col(DeadLetter.id).desc()).limit(limit)).all())


def replay_task_id(row: DeadLetter) -> str:
    """A new task id for the next replay (so its own failure is a new dead letter)."""
    return f"{row.task_id[:52]}.r{row.replay_count + 1}"


def _mark_replayed(uow: UnitOfWork, actor: Actor, row: DeadLetter) -> None:
    row.replayed_at = uow.clock.now()
    row.replay_count += 1
    uow.session.add(row)
    uow.audit("dead_letter", row.id or 0, "replayed", actor_id=actor.user_id, task_name=row.task_name)


def mark_replayed(uow: UnitOfWork, actor: Actor, dead_letter_id: int) -> DeadLetter:
    """The programme office replays a dead letter: the caller re-enqueues ``task_name(*task_args, **task_kwargs)``."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    with uow:
        row = load_row(uow.session, DeadLetter, dead_letter_id, "失败任务", "Dead letter", lock=True)
        _mark_replayed(uow, actor, row)
        uow.commit()
        return row


def request_replay(uow: UnitOfWork, actor: Actor, dead_letter_id: int) -> tuple[DeadLetter, str]:
    """The programme office asks, from its page, for a dead letter's task to run again: the row is marked replayed
    and :data:`~qianfan.events.DEAD_LETTER_REPLAY_REQUESTED` carries the task (with a new id) to the outbox relay,
    in one unit of work — so the task is enqueued exactly when the replay is recorded."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    with uow:
        row = load_row(uow.session, DeadLetter, dead_letter_id, "失败任务", "Dead letter", lock=True)
        task_id = replay_task_id(row)
        _mark_replayed(uow, actor, row)
        uow.publish(
            events.DEAD_LETTER_REPLAY_REQUESTED,
            task_id=task_id,
            task_name=row.task_name,
            args=list(row.task_args),
            kwargs=dict(row.task_kwargs),
        )
        uow.commit()
        return row, task_id
