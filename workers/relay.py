"""Outbox → broker: which task(s) each committed event becomes, and the relay that enqueues them.

:func:`qianfan.outbox.relay_all` claims the pending outbox rows and calls :func:`make_send`'s ``send`` for each;
a publish that fails (broker down) leaves the row pending for the next run.  Each task's id is derived from the
outbox id (``ob<id>.<job>``), so an event sent twice (a relay crashed between publishing and marking the row) is
recognisable as the same task; the tasks are idempotent anyway.

The relay runs from beat every few seconds (:data:`workers.celery_app.RELAY_EVERY`), from ``qianfan relay``, and
right after a commit in processes that :func:`install_commit_kick` (the web app, the workers) — that last one only
shortens the delay: correctness never depends on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from sqlalchemy.engine import Engine

from qianfan import events
from qianfan.events import Event
from qianfan.outbox import RelayResult, Send, relay_all
from workers.notices import NOTICE_TOPICS

log = logging.getLogger(__name__)

MATCH_ORDER = "workers.tasks.matching.match_order"
MATCH_OFFER = "workers.tasks.matching.match_offer"
REMOVE_OFFER = "workers.tasks.matching.remove_offer"
RISK_CHECK = "workers.tasks.finance.risk_check"
NOTIFY_EVENT = "workers.tasks.notifications.notify_event"
IMPORT_OFFERS = "workers.tasks.matching.import_offers"
REFIT = "workers.tasks.matching.refit"


@dataclass(frozen=True, slots=True)
class Job:
    """One task to enqueue for an event: its registered name, keyword arguments and a short key for its id."""

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()
    key: str = ""
    #: A task id chosen by whoever asked for the job (a page showing its progress) instead of one from the outbox.
    fixed_id: str | None = None

    def task_id(self, outbox_id: int | None) -> str | None:
        if self.fixed_id is not None:
            return self.fixed_id
        return None if outbox_id is None else f"ob{outbox_id}.{self.key or self.task.rsplit('.', 1)[-1]}"


def plan(event: Event) -> list[Job]:
    """The tasks *event* causes (none for topics no background work listens to)."""
    topic, p = event.topic, event.payload
    if topic in (events.ORDER_POSTED, events.ORDER_CHANGED):
        return [Job(MATCH_ORDER, {"order_id": int(p["order_id"])})]
    if topic in (events.OFFER_LISTED, events.OFFER_CHANGED):
        return [Job(MATCH_OFFER, {"offer_id": int(p["offer_id"])})]
    if topic == events.OFFER_WITHDRAWN:
        return [Job(REMOVE_OFFER, {"offer_id": int(p["offer_id"])})]
    if topic == events.APPLICATION_SUBMITTED:
        return [Job(RISK_CHECK, {"application_id": int(p["application_id"])})]
    if topic == events.OFFERS_IMPORT_REQUESTED:
        return [Job(IMPORT_OFFERS, dict(p), fixed_id=str(p["task_id"]))]
    if topic == events.REFIT_REQUESTED:
        return [Job(REFIT, dict(p), fixed_id=str(p["task_id"]))]
    if topic == events.DEAD_LETTER_REPLAY_REQUESTED:
        return [Job(str(p["task_name"]), dict(p["kwargs"]), tuple(p["args"]), fixed_id=str(p["task_id"]))]
    if topic in NOTICE_TOPICS:
        return [Job(NOTIFY_EVENT, {"topic": topic, "payload": dict(p), "outbox_id": event.outbox_id})]
    return []


Dispatch = Callable[[Job, str | None], None]


def celery_dispatch(app: Celery) -> Dispatch:
    """Publish a job to *app*'s broker (routed to its queue by the task name)."""

    def dispatch(job: Job, task_id: str | None) -> None:
        app.send_task(job.task, args=list(job.args), kwargs=job.kwargs, task_id=task_id)

    return dispatch


def make_send(dispatch: Dispatch) -> Send:
    def send(event: Event) -> None:
        for job in plan(event):
            dispatch(job, job.task_id(event.outbox_id))

    return send


def relay_once(engine: Engine, app: Celery) -> RelayResult:
    """Relay every pending event to *app*'s broker (stops at the first failed publish)."""
    result = relay_all(engine, make_send(celery_dispatch(app)))
    if result.failed:
        log.warning("outbox relay stopped (the events stay pending): %s", result.error)
    elif result.dispatched:
        log.info("outbox relay: %d events sent", result.dispatched)
    return result


def relay_forever(engine: Engine, app: Celery, *, interval: float = 1.0, stop: threading.Event | None = None) -> None:
    """``qianfan relay``: relay, sleep *interval* (longer after a failure), until *stop* is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            result = relay_once(engine, app)
            pause = interval * 5 if result.failed else interval
        except Exception:  # the database is down: keep trying
            log.exception("outbox relay failed")
            pause = interval * 5
        stop.wait(pause)


class CommitKick:
    """Relays soon after a commit published events, on a background thread (the committing request never waits
    for the broker).  Several commits in a burst share one relay run."""

    def __init__(self, engine: Callable[[], Engine], app: Celery, *, settle: float = 0.05) -> None:
        self._engine = engine
        self._app = app
        self._settle = settle
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0

    def __call__(self, committed: list[Event]) -> None:
        if not any(plan(e) for e in committed):
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="outbox-kick", daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._settle)
            self._wake.clear()
            try:
                relay_once(self._engine(), self._app)
            except Exception:  # beat's relay picks the events up
                log.warning("after-commit relay failed; the periodic relay will send the events", exc_info=True)
            self.runs += 1


_installed: Callable[[], None] | None = None


def install_commit_kick(engine: Callable[[], Engine], app: Celery) -> CommitKick:
    """Subscribe a :class:`CommitKick` to committed events in this process (replacing one installed before)."""
    global _installed
    if _installed is not None:
        _installed()
    kick = CommitKick(engine, app)
    _installed = events.subscribe(kick)
    return kick
