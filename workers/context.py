"""What a worker process needs to run jobs: the database engine, the clock and one offer index store.

Created lazily in the process that runs the jobs (after a prefork worker forks, never before: a connection pool or
a lock must not be shared across processes).  Tests install their own with :func:`use`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from matcher.service import OfferIndexStore, offer_index_store
from qianfan.clock import Clock, SystemClock
from qianfan.config import get_settings
from qianfan.db import get_engine
from qianfan.uow import UnitOfWork


@dataclass
class Context:
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    #: Where the offer index is persisted (``<var_dir>/index/offers`` by default).
    index_dir: Path | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    @property
    def store(self) -> OfferIndexStore:
        """The process-wide offer index of this database (one per process, shared by its threads)."""
        directory = self.index_dir or get_settings().var_dir / "index" / "offers"
        return offer_index_store(self.engine, self.clock, directory)


_current: Context | None = None
_lock = threading.Lock()


def current() -> Context:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = Context(get_engine())
    return _current


@contextmanager
def use(context: Context) -> Iterator[Context]:
    """Run jobs against *context* (tests, the CLI) and restore the previous one afterwards."""
    global _current
    previous, _current = _current, context
    try:
        yield context
    finally:
        _current = previous


def reset_after_fork() -> None:
    """Drop the pooled connections inherited from the parent (called in each prefork child)."""
    global _current
    if _current is not None:
        _current.engine.dispose(close=False)
    _current = None
    get_engine().dispose(close=False)
