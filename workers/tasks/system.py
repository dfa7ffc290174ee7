"""Queue ``default``: the outbox relay run by beat (not a :class:`QianfanTask`: a failed run is not a dead letter,
the next beat tick simply relays again)."""

from __future__ import annotations

import logging

from workers import context
from workers.celery_app import app
from workers.relay import relay_once

log = logging.getLogger(__name__)


@app.task(acks_late=False, ignore_result=True)
def relay_outbox() -> int:
    try:
        return relay_once(context.current().engine, app).dispatched
    except Exception:  # the database is unreachable: the next tick tries again
        log.warning("outbox relay failed; retrying at the next tick", exc_info=True)
        return 0
