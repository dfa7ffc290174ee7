"""Queue ``matching``: index offers, store matches for orders, refit the index, re-match every open order."""

from __future__ import annotations

from typing import Any

from qianfan.errors import Conflict
from workers import context, jobs
from workers.celery_app import app
from workers.tasks.base import TRANSIENT, QianfanTask

# match_order reports a concurrent matcher of the same order (SQLite has no row lock) as a Conflict: retry.
_RETRY = (*TRANSIENT, Conflict)


@app.task(base=QianfanTask, autoretry_for=_RETRY)
def match_order(order_id: int) -> int:
    return jobs.match_order(context.current(), order_id)


@app.task(base=QianfanTask, autoretry_for=_RETRY)
def match_offer(offer_id: int) -> int:
    return jobs.match_offer(context.current(), offer_id)


@app.task(base=QianfanTask, autoretry_for=_RETRY)
def remove_offer(offer_id: int) -> int:
    return jobs.remove_offer(context.current(), offer_id)


@app.task(base=QianfanTask)
def index_offer(offer_id: int) -> bool:
    return jobs.index_offer(context.current(), offer_id)


@app.task(base=QianfanTask, bind=True, max_retries=2)
def refit(self: QianfanTask, task_id: str | None = None, user_id: int | None = None) -> dict[str, Any]:
    """Progress is recorded under this task's id (started by whoever enqueued it, or by nobody: beat).  Asked for
    from the office's page (``REFIT_REQUESTED``), the payload names the task id, whose job row already records who
    started it (``qianfan.jobs.request_refit``); *user_id* is that person, carried for the record."""
    return jobs.refit(context.current(), task_id=task_id or self.request.id)


@app.task(base=QianfanTask, bind=True, autoretry_for=_RETRY, max_retries=2)
def rematch_orders(self: QianfanTask, every: int = jobs.REMATCH_EVERY) -> dict[str, int]:
    """Match every open order again, recording progress under this task's id."""
    return jobs.rematch_orders(context.current(), task_id=self.request.id, every=every)


@app.task(base=QianfanTask, bind=True, autoretry_for=_RETRY, max_retries=2)
def import_offers(
    self: QianfanTask, task_id: str, organisation_id: int, user_id: int, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """List an SME's imported offers, recording progress under the task id the page chose."""
    return jobs.import_offers(context.current(), task_id, organisation_id, user_id, rows)
