"""The base of every task: acknowledged late, retried with exponential backoff on transient errors, and kept as a
dead letter (:func:`qianfan.notifications.record_dead_letter`) when it still fails."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.signals import worker_init, worker_process_init
from sqlalchemy.exc import OperationalError

from qianfan.notifications import record_dead_letter
from workers import context
from workers.celery_app import app
from workers.relay import install_commit_kick

log = logging.getLogger(__name__)

#: Errors worth another attempt: the database or a connection was briefly unavailable.
TRANSIENT: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)


class QianfanTask(Task):
    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT
    retry_backoff = 2  # 2, 4, 8, … seconds
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """The task failed for good (retries exhausted, or an error retrying cannot fix): keep it for replay."""
        attempts = int(getattr(self.request, "retries", 0) or 0) + 1
        try:
            record_dead_letter(
                context.current().uow(),
                task_id=task_id,
                task_name=self.name,
                args=list(args or ()),
                kwargs=dict(kwargs or {}),
                error=f"{type(exc).__name__}: {exc}\n{einfo}",
                attempts=attempts,
            )
        except Exception:  # the database itself is down: the broker log is all that is left
            log.exception("could not record the dead letter of %s[%s]", self.name, task_id)
        log.error("task %s[%s] failed after %d attempts: %s", self.name, task_id, attempts, exc)


@worker_process_init.connect
def _fresh_process(**_: Any) -> None:
    context.reset_after_fork()


@worker_init.connect
def _relay_after_commit(sender: Any = None, **_: Any) -> None:
    """Events committed by tasks (matches stored, SLA breaches) are relayed at once, not at the next beat tick."""
    install_commit_kick(lambda: context.current().engine, app)
