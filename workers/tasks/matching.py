"""Queue ``matching``: index offers, store matches for orders, refit the index."""

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


@app.task(base=QianfanTask, max_retries=2)
def refit() -> dict[str, Any]:
    return jobs.refit(context.current())
