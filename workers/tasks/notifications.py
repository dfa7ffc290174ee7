"""Queue ``notifications``: the in-app inbox entries events cause."""

from __future__ import annotations

from typing import Any

from workers import context, jobs
from workers.celery_app import app
from workers.tasks.base import QianfanTask


@app.task(base=QianfanTask)
def notify_event(topic: str, payload: dict[str, Any], outbox_id: int | None = None) -> int:
    return jobs.notify_event(context.current(), topic, payload, outbox_id)
