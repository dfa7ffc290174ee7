"""Queue ``finance``: the risk check of a new application and the periodic sweeps (SLA, maturity)."""

from __future__ import annotations

from workers import context, jobs
from workers.celery_app import app
from workers.tasks.base import QianfanTask


@app.task(base=QianfanTask)
def risk_check(application_id: int) -> str | None:
    return jobs.risk_check(context.current(), application_id)


@app.task(base=QianfanTask, max_retries=1)
def sla_sweep() -> dict[str, int]:
    return jobs.sla_sweep(context.current())


@app.task(base=QianfanTask, max_retries=3)
def maturity_sweep() -> dict[str, int]:
    return jobs.maturity_sweep(context.current())
