"""Dead letters replayed by the programme office: the task is enqueued again (under a new id, so its own failure
would be a new dead letter) and the row is marked replayed."""

from __future__ import annotations

from celery import Celery
from sqlmodel import Session, select

from qianfan.actors import Actor
from qianfan.errors import NotFound, RuleViolation
from qianfan.models import DeadLetter, Organisation, OrgKind
from qianfan.notifications import mark_replayed, replay_task_id
from workers.context import Context


def office_actor(ctx: Context) -> Actor:
    """The programme office, acting without a person (the command line)."""
    with Session(ctx.engine) as s:
        office = s.exec(select(Organisation).where(Organisation.kind == OrgKind.PROGRAMME_OFFICE)).first()
    if office is None:
        raise RuleViolation("尚未登记管委会，无法重放失败任务", "No programme office is registered: nobody may replay")
    return Actor.system(office)


def replay(ctx: Context, app: Celery, dead_letter_id: int, actor: Actor | None = None) -> tuple[DeadLetter, str]:
    """Enqueue the dead letter's task again, then mark it replayed; returns the row and the new task id."""
    actor = actor or office_actor(ctx)
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    with Session(ctx.engine) as s:
        row = s.get(DeadLetter, dead_letter_id)
    if row is None:
        raise NotFound.of("失败任务", "Dead letter", dead_letter_id)
    task_id = replay_task_id(row)
    app.send_task(row.task_name, args=list(row.task_args), kwargs=dict(row.task_kwargs), task_id=task_id)
    return mark_replayed(ctx.uow(), actor, dead_letter_id), task_id
