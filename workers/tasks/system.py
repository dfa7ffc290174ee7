"""Queue ``default``: the outbox relay run by beat (not a :class:`QianfanTask`: a failed run is not a dead letter,
the next beat tick simply relays again)."""

from __future__ import annotations

import logging

from accounts import auth
from qianfan.uow import UnitOfWork
from workers import context
from workers.celery_app import app
from workers.reconcile import stale_jobs
from workers.relay import celery_dispatch, relay_once

log = logging.getLogger(__name__)


@app.task(acks_late=False, ignore_result=True)
def relay_outbox() -> int:
    try:
        return relay_once(context.current().engine, app).dispatched
    except Exception:  # the database is unreachable: the next tick tries again
        log.warning("outbox relay failed; retrying at the next tick", exc_info=True)
        return 0


@app.task(acks_late=False, ignore_result=True)
def reconcile() -> int:
    """Enqueue again the work whose task was lost (see :mod:`workers.reconcile`); returns how many jobs."""
    ctx = context.current()
    dispatch = celery_dispatch(app)
    jobs = stale_jobs(ctx.engine, ctx.clock.now())
    for job in jobs:
        dispatch(job, None)
    if jobs:
        log.warning("reconcile: %d lost jobs enqueued again", len(jobs))
    return len(jobs)


@app.task(acks_late=False, ignore_result=True)
def purge_auth_records() -> dict[str, int]:
    """Daily: expired tokens, login attempts older than 30 days, idempotency answers older than 7 days."""
    ctx = context.current()
    purged = auth.purge(UnitOfWork(ctx.engine, ctx.clock))
    return {
        "tokens": purged.tokens,
        "login_attempts": purged.login_attempts,
        "idempotency_records": purged.idempotency_records,
    }
