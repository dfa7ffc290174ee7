"""Progress of long background jobs: started once per task id, progress that never goes backwards, finished once,
and visible only to whoever started it (and the programme office)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import organisations as orgs
from qianfan import jobs
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.errors import NotFound
from qianfan.models import Job, JobStatus, OrgKind
from qianfan.uow import UnitOfWork

PW = "Correct-horse-9"


@pytest.fixture
def people(engine: Engine, clock: FrozenClock, make_org: Callable[..., tuple]) -> dict[str, Actor]:
    """Two users of one SME, the SME acting without a person, another SME's user and the programme office."""
    sme, sme_system = make_org(OrgKind.SME)
    other, _ = make_org(OrgKind.SME)
    office, _ = make_org(OrgKind.PROGRAMME_OFFICE)

    def user(org, name: str) -> Actor:  # type: ignore[no-untyped-def]
        row = orgs.add_user(UnitOfWork(engine, clock), org.id, {"username": name, "display_name": name, "password": PW})
        return Actor.for_user(row, org)

    return {
        "alice": user(sme, "jobalice"),
        "bob": user(sme, "jobbob"),
        "sme": sme_system,
        "stranger": user(other, "jobstranger"),
        "office": Actor.system(office),
    }


def _job(engine: Engine, task_id: str) -> Job:
    with Session(engine) as s:
        return s.exec(select(Job).where(Job.task_id == task_id)).one()


def test_start_is_idempotent_per_task_id(engine: Engine, clock: FrozenClock, people: dict[str, Actor]) -> None:
    first = jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-1", people["alice"], total=2)
    again = jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-1", None)  # the worker starts it too
    assert again.id == first.id
    row = _job(engine, "t-1")
    assert (row.status, row.total, row.done) == (JobStatus.QUEUED, 2, 0)
    assert (row.started_by_user_id, row.organisation_id) == (people["alice"].user_id, people["alice"].organisation_id)
    assert (row.created_at, row.started_at) == (clock.now(), None)
    with Session(engine) as s:
        assert len(s.exec(select(Job)).all()) == 1


def test_progress_starts_the_job_and_never_goes_backwards(engine: Engine, clock: FrozenClock) -> None:
    jobs.start_job(UnitOfWork(engine, clock), jobs.REMATCH_ORDERS, "t-2", None)
    assert jobs.progress(engine, "t-2", 0, 100, "starting", clock=clock)
    row = _job(engine, "t-2")
    assert (row.status, row.done, row.total, row.message, row.started_at) == (
        JobStatus.RUNNING,
        0,
        100,
        "starting",
        clock.now(),
    )
    clock.advance(timedelta(seconds=5))
    jobs.progress(UnitOfWork(engine, clock), "t-2", 40)
    jobs.progress(UnitOfWork(engine, clock), "t-2", 25, message="a late report")  # delivered out of order
    row = _job(engine, "t-2")
    assert (row.done, row.total, row.message) == (40, 100, "a late report")
    assert row.started_at == clock.now() - timedelta(seconds=5) and row.updated_at == clock.now()
    assert jobs.percent(row) == 40.0
    assert jobs.elapsed_seconds(row, clock.now()) == 5.0
    assert not jobs.progress(engine, "no-such-task", 3, clock=clock)


def test_finish_completes_once_and_freezes_the_job(engine: Engine, clock: FrozenClock) -> None:
    jobs.start_job(UnitOfWork(engine, clock), jobs.REMATCH_ORDERS, "t-3", None)
    jobs.progress(engine, "t-3", 7, 10, clock=clock)
    clock.advance(timedelta(minutes=2))
    done = jobs.finish(UnitOfWork(engine, clock), "t-3", True, "all matched")
    assert done is not None
    assert (done.status, done.done, done.total, done.message) == (JobStatus.SUCCEEDED, 10, 10, "all matched")
    assert done.finished_at == clock.now() and jobs.percent(done) == 100.0
    assert not jobs.progress(engine, "t-3", 11, clock=clock)  # a finished job does not move
    again = jobs.finish(UnitOfWork(engine, clock), "t-3", False, "late failure")  # the first report stands
    assert again is not None and again.status == JobStatus.SUCCEEDED and again.message == "all matched"
    assert jobs.elapsed_seconds(_job(engine, "t-3"), clock.now() + timedelta(hours=1)) == 120.0
    assert jobs.finish(UnitOfWork(engine, clock), "never-started", True) is None


def test_a_failed_job_started_again_is_queued_again(engine: Engine, clock: FrozenClock) -> None:
    jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-4", None)
    jobs.progress(engine, "t-4", 1, 2, clock=clock)
    failed = jobs.finish(UnitOfWork(engine, clock), "t-4", False, "OperationalError: database is locked")
    assert failed is not None and failed.status == JobStatus.FAILED and failed.done == 1
    retried = jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-4", None)  # the same task, retried
    assert retried.status == JobStatus.QUEUED and retried.finished_at is None
    assert jobs.progress(engine, "t-4", 2, clock=clock)
    assert _job(engine, "t-4").status == JobStatus.RUNNING


def test_only_the_starter_and_the_programme_office_see_a_job(
    engine: Engine, clock: FrozenClock, people: dict[str, Actor]
) -> None:
    alices = jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-a", people["alice"])
    smes = jobs.start_job(UnitOfWork(engine, clock), jobs.REMATCH_ORDERS, "t-s", people["sme"])
    nightly = jobs.start_job(UnitOfWork(engine, clock), jobs.REFIT, "t-beat", None)  # beat: nobody started it
    with Session(engine) as s:
        assert jobs.job_for(s, people["alice"], alices.id).task_id == "t-a"  # type: ignore[arg-type]
        assert jobs.job_for(s, people["office"], alices.id).task_id == "t-a"  # type: ignore[arg-type]
        for who in ("bob", "sme", "stranger"):
            with pytest.raises(NotFound):
                jobs.job_for(s, people[who], alices.id)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            jobs.job_for(s, people["stranger"], smes.id)  # type: ignore[arg-type]
        for who in ("alice", "bob", "sme", "stranger"):
            with pytest.raises(NotFound):
                jobs.job_for(s, people[who], nightly.id)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            jobs.job_for(s, people["office"], 999_999)

        def seen(who: str) -> list[str]:
            return [j.task_id for j in jobs.jobs_of(s, people[who])]

        assert seen("alice") == ["t-s", "t-a"]  # her own, and her organisation's started without a person
        assert seen("bob") == ["t-s"]
        assert seen("sme") == ["t-s"]
        assert seen("stranger") == []
        assert seen("office") == ["t-beat", "t-s", "t-a"]
    jobs.finish(UnitOfWork(engine, clock), "t-s", True)
    with Session(engine) as s:
        assert [j.task_id for j in jobs.jobs_of(s, people["office"], active_only=True)] == ["t-beat", "t-a"]
