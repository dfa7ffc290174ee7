"""The Celery application, built from settings.

* Broker: ``settings.broker_url`` — by default kombu's SQLAlchemy transport on a SQLite file under ``var/`` (no
  server needed; its directory is created here), ``redis://…`` in production.  No result backend: callers never
  wait for results, effects are in the database.
* Safety: ``acks_late`` + ``reject_on_worker_lost`` (a task is acknowledged after it ran, so a crashed worker's task
  is delivered again), prefetch 1 (a long task never holds short ones hostage), JSON only.
* Queues: ``matching``, ``finance``, ``notifications`` and ``default`` (the outbox relay), routed by task module,
  so each can be consumed by its own machines (``qianfan worker --queues matching``).
* Beat: relay the outbox every few seconds (the safety net behind the after-commit kick), the finance SLA sweep
  every minute, the maturity sweep hourly (idempotent per day) and the matcher refit nightly.  Long waits are
  these sweeps over due dates in the database, never countdowns in the broker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue
from sqlalchemy.engine import make_url

from qianfan.config import Settings, get_settings

QUEUES = ("matching", "finance", "notifications", "default")
WORKER_QUEUES = ",".join(QUEUES)

#: Seconds between two outbox relays by beat.
RELAY_EVERY = 3.0
#: How long Redis waits before delivering an unacknowledged task again (a worker died holding it), by default
#: (``QIANFAN_BROKER_VISIBILITY_TIMEOUT``).  Longer than any task (the nightly refit included), or a slow task would
#: be started twice.
VISIBILITY_TIMEOUT = 2 * 3600

TASK_MODULES = (
    "workers.tasks.matching",
    "workers.tasks.finance",
    "workers.tasks.notifications",
    "workers.tasks.system",
)
TASK_ROUTES = {
    "workers.tasks.matching.*": {"queue": "matching"},
    "workers.tasks.finance.*": {"queue": "finance"},
    "workers.tasks.notifications.*": {"queue": "notifications"},
    "workers.tasks.system.*": {"queue": "default"},
}


def broker_file(broker_url: str) -> Path | None:
    """The SQLite file of an embedded (``sqla+sqlite:///…``) broker, else ``None``."""
    if not broker_url.startswith(("sqla+", "sqlalchemy+")):
        return None
    url = make_url(broker_url.split("+", 1)[1])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _transport_options(broker_url: str, visibility_timeout: int = VISIBILITY_TIMEOUT) -> dict[str, Any]:
    if broker_file(broker_url) is not None:
        # kombu hands these to sqlalchemy.create_engine: wait for the file lock instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    if broker_url.startswith(("redis://", "rediss://")):
        return {"visibility_timeout": visibility_timeout}
    return {}


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        "relay-outbox": {
            "task": "workers.tasks.system.relay_outbox",
            "schedule": RELAY_EVERY,
            "options": {"expires": 30},
        },
        "reconcile-lost-work": {
            "task": "workers.tasks.system.reconcile",
            "schedule": 300.0,
            "options": {"expires": 280},
        },
        "finance-sla-sweep": {
            "task": "workers.tasks.finance.sla_sweep",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
        "finance-maturity-sweep": {
            "task": "workers.tasks.finance.maturity_sweep",
            "schedule": crontab(minute=7),
            "options": {"expires": 3000},
        },
        "purge-auth-records": {
            "task": "workers.tasks.system.purge_auth_records",
            "schedule": crontab(hour=3, minute=17),
            "options": {"expires": 6 * 3600},
        },
        "matcher-refit": {
            "task": "workers.tasks.matching.refit",
            "schedule": crontab(hour=2, minute=30),
            "options": {"expires": 6 * 3600},
        },
    }


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    path = broker_file(settings.broker_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    celery = Celery("qianfan", set_as_current=False)
    exchange = Exchange("qianfan", type="direct")
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=_transport_options(settings.broker_url, settings.broker_visibility_timeout),
        broker_connection_retry_on_startup=True,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        event_serializer="json",
        timezone=settings.timezone,
        enable_utc=True,
        task_queues=[Queue(name, exchange, routing_key=name) for name in QUEUES],
        task_default_queue="default",
        task_default_exchange="qianfan",
        task_default_routing_key="default",
        task_routes=TASK_ROUTES,
        # A publish to a dead broker fails within seconds (the relay keeps the event for its next run).
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        beat_schedule=beat_schedule(),
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    celery.conf.include = list(TASK_MODULES)
    return celery


app = make_celery()
