"""Progress of long background jobs (a matcher refit, re-matching every open order), one row per task id.

* :func:`start_job` is called by whoever enqueues a job (so its starter is known before a worker picks it up) and
  again by the job itself: the second call finds the row and changes nothing (idempotent per task id).  A job that
  failed and is started again (a retry of the same task) is queued again.
* :func:`progress` is cheap: one ``UPDATE`` in its own short transaction, safe to call every few items.  It never
  goes backwards (``done`` only grows, a finished job is left alone) so a late or redelivered report is harmless.
* :func:`finish` marks the job succeeded (``done`` raised to ``total``) or failed, with a message.
* A job is visible to the user who started it, to its organisation when no person started it (the command line
  acting for an organisation), and to the programme office; to anyone else it does not exist.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import Clock, SystemClock
from qianfan.errors import Conflict, NotFound
from qianfan.models import Job, JobStatus, OrgKind
from qianfan.models.base import UTCDateTime
from qianfan.uow import UnitOfWork

#: Job kinds (free text in the table; these are the ones the workers record).
REFIT = "matcher.refit"
REMATCH_ORDERS = "matcher.rematch_orders"

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _by_task(session: Session, task_id: str) -> Job | None:
    return session.exec(select(Job).where(Job.task_id == task_id)).first()


def start_job(uow: UnitOfWork, kind: str, task_id: str, started_by: Actor | None, total: int | None = None) -> Job:
    """The job of *task_id*, created queued if it does not exist yet (by the enqueuer or the job itself)."""
    with uow:
        now = uow.clock.now()
        row = _by_task(uow.session, task_id)
        if row is None:
            row = Job(
                kind=kind[:48],
                task_id=task_id[:64],
                started_by_user_id=started_by.user_id if started_by else None,
                organisation_id=started_by.organisation_id if started_by else None,
                total=total,
                created_at=now,
                updated_at=now,
            )
            try:
                with uow.session.begin_nested():
                    uow.session.add(row)
            except IntegrityError:  # started a moment ago by the enqueuer or a concurrent delivery
                found = _by_task(uow.session, task_id)
                assert found is not None
                return found
            uow.commit()
            return row
        if row.status == JobStatus.FAILED:  # the same task runs again (a retry): it is queued once more
            row.status = JobStatus.QUEUED
            row.finished_at = None
            row.message = "重试 / retrying"
            row.updated_at = now
            if total is not None:
                row.total = total
            uow.session.add(row)
            uow.commit()
        return row


def progress(
    target: Engine | UnitOfWork,
    task_id: str,
    done: int,
    total: int | None = None,
    message: str = "",
    *,
    clock: Clock | None = None,
) -> bool:
    """Report that *done* items (of *total*, if given) are finished; a queued job becomes running.  One ``UPDATE``
    committed at once; ``done`` never decreases and a finished job is not touched.  True if a job was updated."""
    if isinstance(target, UnitOfWork):
        engine, clock = target.engine, clock or target.clock
    else:
        engine, clock = target, clock or SystemClock()
    now = clock.now()
    values: dict[str, object] = {
        "done": sa.case((col(Job.done) < done, done), else_=col(Job.done)),
        "status": JobStatus.RUNNING,
        "started_at": sa.func.coalesce(col(Job.started_at), sa.literal(now, UTCDateTime())),
        "updated_at": now,
    }
    if total is not None:
        values["total"] = max(total, 0)
    if message:
        values["message"] = message
    stmt = sa.update(Job).where(col(Job.task_id) == task_id, col(Job.status).in_(_ACTIVE)).values(**values)
    with engine.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


def finish(uow: UnitOfWork, task_id: str, ok: bool, message: str = "") -> Job | None:
    """Mark the job succeeded (all done) or failed; ``None`` when no job was recorded for *task_id*."""
    with uow:
        row = uow.session.exec(select(Job).where(Job.task_id == task_id).with_for_update()).first()
        if row is None:
            return None
        if row.status.finished and (row.status == JobStatus.SUCCEEDED or not ok):
            return row  # reported twice: the first report stands
        now = uow.clock.now()
        row.status = JobStatus.SUCCEEDED if ok else JobStatus.FAILED
        if ok and row.total is not None:
            row.done = max(row.done, row.total)
        row.started_at = row.started_at or now
        row.finished_at = now
        row.updated_at = now
        if message:
            row.message = message[:10_000]
        uow.session.add(row)
        uow.commit()
        return row


def _visible(actor: Actor) -> sa.ColumnElement[bool] | None:
    """The filter of the jobs *actor* may see (``None``: all of them)."""
    if actor.kind == OrgKind.PROGRAMME_OFFICE:
        return None
    mine = col(Job.organisation_id) == actor.organisation_id
    if actor.user_id is None:  # acting for the organisation: its jobs started without a person
        return mine & col(Job.started_by_user_id).is_(None)
    return mine & or_(col(Job.started_by_user_id) == actor.user_id, col(Job.started_by_user_id).is_(None))


def job_for(session: Session, actor: Actor, job_id: int) -> Job:
    """One job, if *actor* may see it; otherwise (or when it does not exist) :class:`NotFound`."""
    stmt = select(Job).where(Job.id == job_id)
    where = _visible(actor)
    if where is not None:
        stmt = stmt.where(where)
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound.of("后台任务", "Job", job_id)
    return row


def jobs_of(session: Session, actor: Actor, *, active_only: bool = False, limit: int = 50) -> list[Job]:
    """The jobs *actor* may see, newest first."""
    stmt = select(Job)
    where = _visible(actor)
    if where is not None:
        stmt = stmt.where(where)
    if active_only:
        stmt = stmt.where(col(Job.status).in_(_ACTIVE))
    return list(session.exec(stmt.order_by(col(Job.id).desc()).limit(limit)).all())


def percent(job: Job) -> float | None:
    """How far the job is, 0–100 (``None`` while its total is unknown); a succeeded job is at 100."""
    if job.status == JobStatus.SUCCEEDED:
        return 100.0
    if not job.total:
        return None
    return min(100.0, 100.0 * job.done / job.total)


def elapsed_seconds(job: Job, now: datetime) -> float | None:
    """Seconds the job has run (until it finished, or *now*); ``None`` before it started."""
    if job.started_at is None:
        return None
    return max(0.0, ((job.finished_at or now) - job.started_at).total_seconds())


def request_refit(uow: UnitOfWork, actor: Actor, task_id: str | None = None) -> Job:
    """The programme office asks for a matcher refit: the job row (queued, two steps) and the
    :data:`~qianfan.events.REFIT_REQUESTED` event in one unit of work; the worker runs it under *task_id*.
    Refused while another refit is queued or running (a second one would only repeat it)."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    task_id = task_id or f"refit-{uuid.uuid4().hex[:24]}"
    with uow:
        running = uow.session.exec(
            select(Job).where(col(Job.kind) == REFIT, col(Job.status).in_(_ACTIVE)).limit(1)
        ).first()
        if running is not None:
            raise Conflict(
                f"匹配模型正在重建（任务 {running.id}），请等它完成后再试",
                f"A matcher refit is already under way (job {running.id}); wait for it to finish",
            )
        now = uow.clock.now()
        job = Job(
            kind=REFIT,
            task_id=task_id[:64],
            started_by_user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            total=2,
            message="排队中 / queued",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(job)
        uow.session.flush()
        uow.publish(events.REFIT_REQUESTED, task_id=job.task_id, user_id=actor.user_id)
        uow.commit()
        return job
