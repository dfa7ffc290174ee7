"""The programme office asks for a matcher refit from its page: the job row and the event in one unit of work, the
relay turns the event into the refit task under the page's task id, and the job ends succeeded; the Celery task
takes the event's payload."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import organisations as orgs
from qianfan import jobs as job_service
from qianfan.actors import Actor
from qianfan.clock import Clock
from qianfan.errors import Conflict, PermissionDenied
from qianfan.models import Job, JobStatus, OrgKind
from qianfan.uow import UnitOfWork
from tests.services.conftest import credit_code
from tests.workers.conftest import InlineWorker, Market
from workers import context
from workers.context import Context
from workers.relay import REFIT


def _office(engine: Engine, clock: Clock) -> Actor:
    org = orgs.register_organisation(
        UnitOfWork(engine, clock),
        {
            "kind": OrgKind.PROGRAMME_OFFICE,
            "name": "中关村管委会（测试）",
            "credit_code": credit_code(9701),
            "district": "海淀园",
        },
    )
    user = orgs.add_user(
        UnitOfWork(engine, clock),
        org.id or 0,
        {"username": "office-refit", "display_name": "管委会", "password": "Correct-horse-9"},
    )
    return Actor(org.id or 0, OrgKind.PROGRAMME_OFFICE, user.id)


def test_a_requested_refit_runs_under_the_pages_task_id(
    engine: Engine, clock: Clock, market: Market, inline: InlineWorker
) -> None:
    office = _office(engine, clock)
    job = job_service.request_refit(UnitOfWork(engine, clock), office, task_id="page-refit-1")
    assert (job.status, job.total, job.started_by_user_id) == (JobStatus.QUEUED, 2, office.user_id)
    with pytest.raises(Conflict):  # one at a time
        job_service.request_refit(UnitOfWork(engine, clock), office)

    inline.relay()
    ((sent, task_id),) = [(j, t) for j, t in inline.sent if j.task == REFIT]
    assert task_id == "page-refit-1" and sent.kwargs == {"task_id": "page-refit-1", "user_id": office.user_id}
    with Session(engine) as s:
        row = s.exec(select(Job).where(Job.task_id == "page-refit-1")).one()
    assert (row.status, row.done, row.total, row.started_by_user_id) == (JobStatus.SUCCEEDED, 2, 2, office.user_id)
    again = job_service.request_refit(UnitOfWork(engine, clock), office)  # finished: another may be asked for
    assert again.task_id != "page-refit-1"


def test_only_the_programme_office_asks_for_a_refit(engine: Engine, clock: Clock, market: Market) -> None:
    with pytest.raises(PermissionDenied):
        job_service.request_refit(UnitOfWork(engine, clock), market.firm)


def test_the_celery_task_takes_the_events_payload(engine: Engine, clock: Clock, market: Market, ctx: Context) -> None:
    from workers.tasks.matching import refit

    office = _office(engine, clock)
    job_service.request_refit(UnitOfWork(engine, clock), office, task_id="page-refit-2")
    with context.use(ctx):
        result = refit.apply(kwargs={"task_id": "page-refit-2", "user_id": office.user_id}, task_id="page-refit-2")
    assert result.successful(), result.traceback
    with Session(engine) as s:
        row = s.exec(select(Job).where(Job.task_id == "page-refit-2")).one()
    assert row.status == JobStatus.SUCCEEDED and row.started_by_user_id == office.user_id
