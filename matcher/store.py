"""The process's index of active offers (one per database and directory), kept current and persisted.

**The offer index** (:class:`OfferIndexStore`, one per (database, directory) in a process via
:func:`offer_index_store`) holds the :class:`~matcher.index.MatchIndex` of the active offers:

* ``get()`` loads the saved index (``<QIANFAN_VAR_DIR>/index/offers`` by default); a missing, corrupt or outdated
  directory (:class:`~matcher.index.IndexVersionError`), or one saved for another database, is rebuilt from the
  database and saved.  The layout is ``<dir>/CURRENT`` naming a snapshot sub-directory, replaced atomically, so a
  reader in another process never sees half of a save.
* ``index_offer(id)`` adds or replaces the offer's document, or removes it when the offer is withdrawn or gone,
  without a refit; applying the same state twice changes nothing, and an older read never overwrites a newer version.
* ``sync()`` catches up with offers changed by other processes: every offer with ``updated_at`` after the
  watermark minus :data:`SYNC_LAG` (transactions commit after they stamp their rows) is re-indexed idempotently.
  ``get()`` runs it at most every ``sync_interval`` seconds (``None`` disables that), and always once after
  loading a saved index.
* ``refit()`` rebuilds the index from the database outside the lock (fresh idf, fresh track records and
  qualification validity; document vectors carried over), swaps it in, re-applies offers indexed meanwhile, saves.
* Searches share a read lock; ``index_offer`` / swaps take the write lock (a small readers–writer lock).
* ``store.weights`` is a plain attribute: a feedback model may replace it.  Qualifications can expire after an
  offer was indexed, so every search re-checks the hard filter (and that the offer is still active) in the database.

"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.convert import document_from_offer
from matcher.dense import Embedder, VectorBatch, embed_documents
from matcher.feedback import FeedbackModel
from matcher.index import FORMAT_VERSION, DocId, Document, IndexVersionError, MatchIndex, analysis_version
from matcher.queries import chunks, districts, supplier_records, today, valid_qualifications
from matcher.rank import Filters, Query, Weights, score_pair
from matcher.rank import Match as RankedMatch
from qianfan.clock import Clock, ensure_utc
from qianfan.config import get_settings
from qianfan.models import (
    Offer,
    OfferStatus,
)

log = logging.getLogger(__name__)

#: How far behind the watermark :meth:`OfferIndexStore.sync` looks (a row is stamped before its commit is visible).
SYNC_LAG = timedelta(minutes=10)
#: The feedback model (JSON) beside the offer index snapshots; its adopted weights rank for the store.
FEEDBACK_FILE = "feedback.json"
_CURRENT = "CURRENT"
_SOURCE = "source.json"

__all__ = [
    "FEEDBACK_FILE",
    "SYNC_LAG",
    "OfferIndexStore",
    "clear_stores",
    "default_offer_index_dir",
    "load_feedback_model",
    "offer_index_store",
]


def load_feedback_model(directory: str | Path) -> FeedbackModel | None:
    """The feedback model saved beside an offer index, if any (an unreadable file is ignored, with a warning)."""
    path = Path(directory) / FEEDBACK_FILE
    try:
        return FeedbackModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the feedback model at %s: %s", path, exc)
        return None


@dataclass(frozen=True, slots=True)
class _OfferState:
    """What the index should hold for one offer: its document, or nothing (withdrawn, or gone when no version)."""

    offer_id: int
    version: int | None
    document: Document | None


def _offer_states(
    session: Session,
    day: date,
    *,
    ids: Sequence[int] | None = None,
    since: datetime | None = None,
    active_only: bool = False,
) -> tuple[list[_OfferState], datetime | None]:
    """The index state of the selected offers and the latest ``updated_at`` among them."""
    stmt = select(Offer)
    if active_only:
        stmt = stmt.where(Offer.status == OfferStatus.ACTIVE)
    if since is not None:
        stmt = stmt.where(col(Offer.updated_at) >= since)
    rows: list[Offer] = []
    if ids is None:
        rows = list(session.exec(stmt.order_by(col(Offer.id))).all())
    else:
        for chunk in chunks(sorted(set(ids))):
            rows.extend(session.exec(stmt.where(col(Offer.id).in_(chunk))).all())
    owners = {o.organisation_id for o in rows if o.status == OfferStatus.ACTIVE}
    district_of = districts(session, owners)
    held = valid_qualifications(session, owners, day)
    records = supplier_records(session, owners)
    states: list[_OfferState] = []
    for o in rows:
        assert o.id is not None
        doc = None
        if o.status == OfferStatus.ACTIVE:
            org = o.organisation_id
            doc = document_from_offer(o, district_of.get(org), held.get(org, ()), records.get(org, 0.0))
        states.append(_OfferState(o.id, o.version, doc))
    if ids is not None:
        seen = {s.offer_id for s in states}
        states.extend(_OfferState(i, None, None) for i in sorted(set(ids) - seen))
    newest = max((ensure_utc(o.updated_at) for o in rows), default=None)
    return states, newest


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer keeps new readers out (no writer starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def default_offer_index_dir() -> Path:
    return get_settings().var_dir / "index" / "offers"


def _database_fingerprint(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _vectors_of(index: MatchIndex) -> VectorBatch | None:
    """The attached document vectors of *index*'s live rows, to carry into a rebuilt index."""
    dense = index.dense
    if dense is None:
        return None
    rows = np.flatnonzero(index.alive_mask() & dense.has_mask())
    if rows.size == 0:
        return None
    vectors = [dense.vector(int(r)) for r in rows]
    return VectorBatch(
        dense.model,
        [index.documents[int(r)].id for r in rows],
        [dense.row_hash(int(r)) for r in rows],
        np.stack([v for v in vectors if v is not None]).astype(np.float32),
    )


class OfferIndexStore:
    """The process's index of active offers for one database, persisted under *directory* (see the module doc).

    *clock* dates the qualification check; *embedder* (optional) gives the index a dense view whose vectors are
    computed off the write lock; *sync_interval* (seconds, ``None`` = never) paces the automatic catch-up in
    :meth:`get`.  *monotonic* is the pacing timer (not business time).
    """

    def __init__(
        self,
        engine: Engine,
        directory: str | Path | None = None,
        *,
        clock: Clock,
        embedder: Embedder | None = None,
        weights: Weights | None = None,
        sync_interval: float | None = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.directory = Path(directory) if directory is not None else default_offer_index_dir()
        self.clock = clock
        self.embedder = embedder
        if weights is None:
            model = load_feedback_model(self.directory)
            weights = model.effective_weights if model is not None else Weights()
        self.weights: Weights = weights
        self.sync_interval = sync_interval
        self._monotonic = monotonic
        self._rw = _ReadWriteLock()
        self._init_lock = threading.Lock()
        self._refit_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._index: MatchIndex | None = None
        self._docs: dict[DocId, Document] = {}
        self._versions: dict[int, int] = {}
        self._watermark: datetime | None = None
        self._dirty: set[int] | None = None
        self._last_sync = float("-inf")
        self._saved: list[Path] = []
        self._discard: set[Path] = set()
        self._database = _database_fingerprint(engine)
        self._analysis = analysis_version()
        #: How the index was obtained: "loaded" (from the directory), "built" (from the database) or "" (not yet).
        self.origin = ""

    # ------------------------------------------------------------------------------------------- reading

    def get(self) -> MatchIndex:
        """The current index (loaded or built on first use; caught up when a sync is due).

        Search it through :meth:`search`, which holds the read lock; mutate it only through the store.
        """
        index = self._ensure()
        self._maybe_sync()
        return self._index if self._index is not None else index

    def search(self, query: Query, k: int, *, filters: Filters | None = None) -> tuple[list[RankedMatch], str]:
        """Rank the offers for *query* with :attr:`weights`; returns the matches and the engine version used."""
        self.get()
        with self._rw.read():
            index = self._current()
            matches = index.search(query, k, filters=filters, weights=self.weights)
            return matches, self._engine_version(index)

    def score_pairs(
        self, queries: Sequence[Query], offer_id: int, *, weights: Weights | None = None
    ) -> list[RankedMatch | None]:
        """The score and explanation of each (query, offer) pair, as :meth:`search` ranks the offer for the query.

        ``None`` for a pair the ranking would not show (the offer is not indexed, lacks a required qualification,
        or scores nothing). With :attr:`weights` unless *weights* are given.
        """
        self.get()
        with self._rw.read():
            index = self._current()
            w = weights or self.weights
            return [score_pair(index, query, offer_id, weights=w) for query in queries]

    def engine_version(self) -> str:
        """``FORMAT_VERSION+a<analysis>+w<weights and embedder>+g<generation>`` (at most 64 characters)."""
        self._ensure()
        with self._rw.read():
            return self._engine_version(self._current())

    def __len__(self) -> int:
        self._ensure()
        with self._rw.read():
            return len(self._current())

    def __contains__(self, offer_id: object) -> bool:
        self._ensure()
        with self._rw.read():
            return offer_id in self._docs

    def _current(self) -> MatchIndex:
        assert self._index is not None
        return self._index

    def _engine_version(self, index: MatchIndex) -> str:
        key = f"{self.weights!r}|{self.embedder.key if self.embedder is not None else 'lexical'}"
        fingerprint = hashlib.sha256(key.encode()).hexdigest()[:8]
        return f"{FORMAT_VERSION}+a{self._analysis[:12]}+w{fingerprint}+g{index.generation}"[:64]

    # ------------------------------------------------------------------------------------------- writing

    def index_offer(self, offer_id: int) -> bool:
        """Add or replace the offer's document, or remove it (withdrawn or missing); True if the index changed."""
        return self.index_offers([offer_id]) > 0

    def index_offers(self, offer_ids: Iterable[int]) -> int:
        """:meth:`index_offer` for several offers at once; returns how many documents changed."""
        ids = sorted(set(offer_ids))
        if not ids:
            return 0
        self._ensure()
        with Session(self.engine) as session:
            states, _ = _offer_states(session, today(self.clock), ids=ids)
        changed = self._apply(states)
        if changed and self.embedder is not None:
            self.embed_pending()
        return changed

    def sync(self) -> int:
        """Re-index every offer changed since the watermark (minus :data:`SYNC_LAG`); returns the changes."""
        self._ensure()
        self._last_sync = self._monotonic()
        with self._rw.read():
            since = None if self._watermark is None else self._watermark - SYNC_LAG
        with Session(self.engine) as session:
            states, newest = _offer_states(session, today(self.clock), since=since)
        changed = self._apply(states, watermark=newest)
        if changed and self.embedder is not None:
            self.embed_pending()
        return changed

    def embed_pending(self) -> int:
        """Embed the live documents whose vector is missing (outside the lock) and attach them; returns how many."""
        if self.embedder is None:
            return 0
        self._ensure()
        with self._rw.read():
            docs = self._current().pending_documents()
        if not docs:
            return 0
        batch = embed_documents(self.embedder, docs)
        with self._rw.write():
            index = self._current()
            if index.dense is None or index.dense.model != batch.model:
                return 0
            return index.attach_vectors(batch)

    def refit(self) -> int:
        """Rebuild the index from the database and swap it in; returns the number of live documents.

        The slow part runs without the write lock; offers indexed meanwhile are re-applied after the swap.
        """
        with self._refit_lock:
            self._ensure()
            with self._rw.write():
                self._dirty = set()
            try:
                fresh, versions, newest = self._build()
                if self.embedder is not None and fresh.dense is not None:
                    with self._rw.read():
                        carried = _vectors_of(self._current())
                    if carried is not None and carried.model == fresh.dense.model:
                        fresh.attach_vectors(carried)
                    fresh.embed_pending()
                with self._rw.write():
                    fresh.generation = max(fresh.generation, self._current().generation + 1)
                    self._install(fresh, versions, newest)
                    dirty = self._dirty or set()
            finally:
                with self._rw.write():
                    self._dirty = None
            if dirty:
                self.index_offers(dirty)
            self.save()
            with self._rw.read():
                return len(self._current())

    def save(self) -> Path:
        """Write a snapshot sub-directory and point ``CURRENT`` at it atomically; returns the snapshot's path."""
        self._ensure()
        with self._save_lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._rw.read():
                index = self._current()
                target = self.directory / f"g{index.generation}-{uuid.uuid4().hex[:12]}"
                index.save(target)
                watermark = self._watermark
            source = {
                "database": self._database,
                "watermark": None if watermark is None else watermark.isoformat(),
                "saved_at": ensure_utc(self.clock.now()).isoformat(),
            }
            (target / _SOURCE).write_text(json.dumps(source), encoding="utf-8")
            pointer = self.directory / f"{_CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
            pointer.write_text(target.name, encoding="utf-8")
            os.replace(pointer, self.directory / _CURRENT)
            # Keep this snapshot and the previous one (a reader may still be loading it); drop older ones we wrote.
            self._saved.append(target)
            stale = [*self._saved[:-2], *self._discard]
            self._saved = self._saved[-2:]
            self._discard.clear()
            for path in stale:
                if path != target:
                    shutil.rmtree(path, ignore_errors=True)
            return target

    # ------------------------------------------------------------------------------------------- internals

    def _ensure(self) -> MatchIndex:
        if self._index is not None:
            return self._index
        with self._init_lock:
            if self._index is not None:
                return self._index
            loaded = self.load_row()
            built = loaded is None
            if loaded is not None:
                index, watermark = loaded
                with self._rw.write():
                    self._install(index, {}, watermark)
                self.origin = "loaded"
                self.sync()  # catch up with what changed since the save (whatever the sync interval)
            else:
                index, versions, newest = self._build()
                with self._rw.write():
                    self._install(index, versions, newest)
                self.origin = "built"
                self._last_sync = self._monotonic()
        if built:
            self.save()
        return index

    def _install(self, index: MatchIndex, versions: dict[int, int], watermark: datetime | None) -> None:
        """Swap *index* in (call with the write lock held)."""
        self._index = index
        self._docs = {d.id: d for d in index.live_documents()}
        self._versions = dict(versions)
        self._watermark = watermark

    def _build(self) -> tuple[MatchIndex, dict[int, int], datetime | None]:
        with Session(self.engine) as session:
            states, newest = _offer_states(session, today(self.clock), active_only=True)
        docs = [s.document for s in states if s.document is not None]
        if self.embedder is not None:
            index = MatchIndex.fit(docs, embedder=self.embedder, embed=False)
        else:
            index = MatchIndex.fit(docs)
        versions = {s.offer_id: s.version for s in states if s.version is not None}
        return index, versions, newest

    def load_row(self) -> tuple[MatchIndex, datetime | None] | None:
        pointer = self.directory / _CURRENT
        if not pointer.exists():
            return None
        path: Path | None = None
        try:
            name = pointer.read_text(encoding="utf-8").strip()
            if not name or name != Path(name).name or name.startswith("."):
                raise ValueError(f"bad snapshot name {name!r} in {pointer}")
            path = self.directory / name
            source = json.loads((path / _SOURCE).read_text(encoding="utf-8"))
            if source.get("database") != self._database:
                raise IndexVersionError("the saved index belongs to another database")
            index = MatchIndex.load(path, embedder=self.embedder)
            raw = source.get("watermark")
            watermark = None if raw is None else ensure_utc(datetime.fromisoformat(raw))
        except IndexVersionError as exc:
            log.info("offer index in %s is outdated (%s); rebuilding from the database", self.directory, exc)
        except Exception:  # a corrupt cache must never stop matching: the database is the source of truth
            log.warning("offer index in %s is unreadable; rebuilding from the database", self.directory, exc_info=True)
        else:
            return index, watermark
        if path is not None and path.is_dir():
            self._discard.add(path)
        return None

    def _maybe_sync(self) -> None:
        if self.sync_interval is None:
            return
        if self._monotonic() - self._last_sync >= self.sync_interval:
            self.sync()

    def _apply(self, states: Sequence[_OfferState], *, watermark: datetime | None = None) -> int:
        with self._rw.write():
            index = self._current()
            if self._dirty is not None:
                self._dirty.update(s.offer_id for s in states)
            removals: list[DocId] = []
            additions: list[Document] = []
            for state in states:
                oid = state.offer_id
                known = self._versions.get(oid)
                if state.version is not None and known is not None and state.version < known:
                    continue  # an older read lost a race with a newer one: keep the newer state
                if state.version is None:
                    self._versions.pop(oid, None)
                else:
                    self._versions[oid] = state.version
                if state.document is None:
                    if self._docs.pop(oid, None) is not None:
                        removals.append(oid)
                elif self._docs.get(oid) != state.document:
                    self._docs[oid] = state.document
                    additions.append(state.document)
            if removals:
                index.remove(removals)
            if additions:
                index.add(additions, embed=False)
            self._watermark = _latest(self._watermark, watermark)
            return len(removals) + len(additions)


_STORES: dict[tuple[str, str], OfferIndexStore] = {}
_STORES_LOCK = threading.Lock()


def offer_index_store(
    engine: Engine,
    clock: Clock,
    directory: str | Path | None = None,
    *,
    embedder: Embedder | None = None,
) -> OfferIndexStore:
    """The process's store for (*engine*'s database, *directory*); created on first use with these arguments."""
    path = Path(directory) if directory is not None else default_offer_index_dir()
    key = (engine.url.render_as_string(hide_password=True), str(path.resolve()))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = OfferIndexStore(engine, path, clock=clock, embedder=embedder)
        return store


def clear_stores() -> None:
    """Forget the per-process offer stores (tests; after restoring a database)."""
    with _STORES_LOCK:
        _STORES.clear()
