"""The matcher's database use cases: index offers, match orders (storing the top matches), rank live for the API.

The ranking engine (:mod:`matcher.index`, :mod:`matcher.rank`) knows nothing about the database; this module turns
rows into :class:`~matcher.index.Document` / :class:`~matcher.rank.Query` values, keeps the offer index current and
writes :class:`qianfan.models.Match` rows.  The API and the workers call the functions below; nothing here imports
FastAPI or Celery.

**Documents.**  An offer's document takes its *district* from the owning organisation (the offer table has none),
its *qualifications* from the organisation's :class:`~qianfan.models.Qualification` rows valid on the clock's date
(Asia/Shanghai) — what the SME really holds, not what the offer claims: a qualification is a property of the
company, and an expired certificate no longer counts — its *owner* is the SME (near-duplicate offers of one SME are
folded into one match by the ranker) and its *record* is the SME's platform track record (:func:`supplier_records`).
Orders (offer → orders), service packages and mentors (service need → packages / mentors) have converters too.

**Track record.**  Evidence ``n`` per supplier: each signed intent order (意向订单) counts 1, each delivered or
completed contract 1 more, a terminated contract cancels its signature.  ``record = 1 − 1/(1 + n/3) = n/(n + 3)``:
0 without evidence, 0.25 after one signed deal, 0.5 at three, 0.75 at nine — saturating, so volume cannot buy the
top slot.

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

**Stored matches.**  :func:`match_order` ranks the offers for an OPEN order in one unit of work, upserts one
:class:`~qianfan.models.Match` row per offer of the top (rank 1..n, score, explanation JSON with contributions, shared
terms, the sentence and the folded near-duplicates, ``engine_version``), deletes rows that left the top, audits
``order/matched`` and publishes :data:`ORDER_MATCHED`.  The order row is locked, so two workers serialise; when the
result equals what is stored the call is a no-op (no write, no event).

**Live ranking** for the API (:func:`rank_offers_for_order`, :func:`rank_orders_for_offer`,
:func:`rank_packages_for_need`, :func:`rank_mentors_for_need`) returns a :class:`RankedPage` of at most
:data:`MAX_RESULTS` results, filtered (:class:`~matcher.rank.Filters`) and paginated.  With an ``actor`` the caller
must own the order / offer / need (another tenant's id is reported as not found).

* Offer → orders: an index over the open orders, built on demand and cached until the set changes (count, id sum,
  version sum and latest ``updated_at`` of the open orders).  The hard filter is inverted: an order requiring a
  qualification the SME does not hold (valid today) is not shown.  The budget feature compares the order's budget
  with the offer's minimum price.  Filters apply to the orders: ``categories`` / ``districts`` of the order,
  ``qualifications`` the order lists, ``max_price_fen`` the order's budget.
* Folding: near-duplicate offers of one SME (and packages of one provider) are folded into the best of them
  (``folded`` lists the others); orders and mentors carry no owner, so each one is shown on its own.
* Need → packages: packages' value is their price; need → mentors: a mentor's expertise (several categories) is
  matched by the service (full category weight for the need's category, half for its cluster) and
  ``filters.categories`` keeps mentors with any expertise among them.  Both corpora are cached like the orders.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from matcher.dense import Embedder, VectorBatch, embed_documents
from matcher.feedback import FeedbackExample, FeedbackModel, Label, feature_names, fit_weights
from matcher.index import FORMAT_VERSION, DocId, Document, IndexVersionError, MatchIndex, analysis_version
from matcher.rank import Filters, Query, Weights, score_clause
from matcher.rank import Match as RankedMatch
from qianfan.actors import Actor
from qianfan.clock import Clock, ensure_utc, to_local
from qianfan.config import get_settings
from qianfan.errors import Conflict, InvalidInput, RuleViolation
from qianfan.models import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    ListingStatus,
    Mentor,
    Offer,
    OfferStatus,
    Order,
    OrderStatus,
    Organisation,
    Qualification,
    ServiceNeed,
    ServicePackage,
)
from qianfan.models import Match as StoredMatch
from qianfan.rows import load_row
from qianfan.taxonomy import CATEGORY_BY_CODE
from qianfan.uow import UnitOfWork

__all__ = [
    "DEFAULT_TOP",
    "FEEDBACK_FILE",
    "MAX_PAGE",
    "MAX_RESULTS",
    "ORDER_MATCHED",
    "SYNC_LAG",
    "OfferIndexStore",
    "RankedItem",
    "RankedPage",
    "clear_caches",
    "default_offer_index_dir",
    "document_from_mentor",
    "document_from_offer",
    "document_from_order",
    "document_from_package",
    "feedback_examples",
    "load_feedback_model",
    "match_order",
    "offer_index_store",
    "query_from_need",
    "query_from_offer",
    "query_from_order",
    "rank_mentors_for_need",
    "rank_offers_for_order",
    "rank_orders_for_offer",
    "rank_packages_for_need",
    "record_score",
    "retrain_feedback",
    "supplier_records",
    "valid_qualifications",
]

log = logging.getLogger(__name__)

#: Outbox topic of :func:`match_order` (payload: ``order_id``, ``offer_ids`` best first, ``engine_version``).
ORDER_MATCHED = "order.matched"
#: Matches stored per order by default, and the most any ranking returns (pages included).
DEFAULT_TOP = 20
MAX_RESULTS = 200
MAX_PAGE = 100
#: How far behind the watermark :meth:`OfferIndexStore.sync` looks (a row is stamped before its commit is visible).
SYNC_LAG = timedelta(minutes=10)
#: The number of deals at which the track record reaches 0.5.
RECORD_HALF = 3.0
#: Candidates ranked for the small corpora (open orders, packages, mentors) before the service's own filters.
_CORPUS_CANDIDATES = 2000
_IN_CHUNK = 900  # ids per IN (…) list: well below SQLite's bound-parameter limit

#: The feedback model (JSON) beside the offer index snapshots; its adopted weights rank for the store.
FEEDBACK_FILE = "feedback.json"
_CURRENT = "CURRENT"
_SOURCE = "source.json"


# ================================================================================================ small helpers


def _today(clock: Clock) -> date:
    return to_local(clock.now()).date()


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def _check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidInput("分页偏移量不能为负数", "The page offset must not be negative", detail={"offset": offset})
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(
            f"每页数量须在1到{MAX_PAGE}之间",
            f"The page size must be between 1 and {MAX_PAGE}",
            detail={"limit": limit},
        )


def _budget_fit(budget_fen: int, price_min_fen: int | None) -> float:
    """The ranker's budget curve: 1 when the budget covers the minimum price, falling to 0 at half of it."""
    if price_min_fen is None or price_min_fen <= 0:
        return 0.0
    if budget_fen >= price_min_fen:
        return 1.0
    return max(0.0, 2.0 * budget_fen / price_min_fen - 1.0)


def _category_fit(category: str | None, codes: Iterable[str]) -> float:
    """1 when *category* is among *codes*, 0.5 when one of them is in the same cluster, else 0."""
    if not category:
        return 0.0
    codes = set(codes)
    if category in codes:
        return 1.0
    cluster = category.split(".", 1)[0]
    return 0.5 if any(c.split(".", 1)[0] == cluster for c in codes) else 0.0


def _clamp01(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


# ================================================================================================ converters


def document_from_offer(
    offer: Offer, organisation_district: str | None, valid_qualifications: Iterable[str], record: float
) -> Document:
    """An SME's offer as the index sees it: district, qualifications and record are the organisation's."""
    assert offer.id is not None
    return Document(
        id=offer.id,
        title=offer.title,
        description=offer.description,
        keywords=tuple(offer.keywords),
        category=offer.category,
        district=organisation_district,
        qualifications=tuple(sorted(set(valid_qualifications))),
        price_min_fen=offer.price_min_fen,
        price_max_fen=offer.price_max_fen,
        capacity=offer.capacity,
        owner=offer.organisation_id,
        record=_clamp01(record),
    )


def query_from_order(order: Order) -> Query:
    """An order as a query for offers: its required qualifications are a hard filter, its budget a feature."""
    return Query(
        title=order.title,
        description=order.description,
        category=order.category,
        district=order.district,
        required_qualifications=tuple(sorted(set(order.required_qualifications))),
        budget_fen=order.budget_fen,
    )


def document_from_order(order: Order) -> Document:
    """An open order as a document for the offer → orders direction.

    ``qualifications`` are the ones the order *requires* (the service drops orders the SME cannot serve) and the
    price range is the budget, so ``Filters.max_price_fen`` bounds the budget.  No owner: every order is a separate
    procurement, so similar orders of one firm are never folded together.
    """
    assert order.id is not None
    return Document(
        id=order.id,
        title=order.title,
        description=order.description,
        category=order.category,
        district=order.district,
        qualifications=tuple(sorted(set(order.required_qualifications))),
        price_min_fen=order.budget_fen,
        price_max_fen=order.budget_fen,
    )


def query_from_offer(offer: Offer, organisation_district: str | None) -> Query:
    """An offer as a query for open orders (no budget: the service compares the order's budget itself)."""
    return Query(
        title=offer.title,
        description=offer.description,
        keywords=tuple(offer.keywords),
        category=offer.category,
        district=organisation_district,
    )


def document_from_package(package: ServicePackage, provider_district: str | None) -> Document:
    """A service package (服务包); its value is its price."""
    assert package.id is not None
    return Document(
        id=package.id,
        title=package.title,
        description=package.description,
        category=package.category,
        district=provider_district,
        price_min_fen=package.value_fen,
        price_max_fen=package.value_fen,
        owner=package.organisation_id,
    )


def document_from_mentor(mentor: Mentor, provider_district: str | None) -> Document:
    """A mentor (创业导师): the headline is the title, the expertise categories' names and keywords are keywords.

    A mentor has several categories, a document one: ``category`` stays empty and the service scores the
    expertise against the need's category.  No owner: mentors are people, never folded together.
    """
    assert mentor.id is not None
    keywords: list[str] = []
    for code in mentor.expertise:
        cat = CATEGORY_BY_CODE.get(code)
        if cat is not None:
            keywords.extend((cat.name_zh, *cat.keywords))
    return Document(
        id=mentor.id,
        title=mentor.headline,
        description=mentor.bio,
        keywords=tuple(dict.fromkeys(keywords)),
        district=provider_district,
    )


def query_from_need(need: ServiceNeed, organisation_district: str | None) -> Query:
    """An SME's service need as a query for packages or mentors."""
    return Query(
        title=need.title,
        description=need.description,
        category=need.category,
        district=organisation_district,
        budget_fen=need.budget_fen,
    )


# ================================================================================================ organisations


def record_score(evidence: float) -> float:
    """``1 − 1/(1 + n/3)``: 0 without evidence, 0.5 at three deals, approaching 1."""
    if evidence <= 0:
        return 0.0
    return 1.0 - 1.0 / (1.0 + evidence / RECORD_HALF)


def supplier_records(session: Session, org_ids: Iterable[int] | None = None) -> dict[int, float]:
    """The track record (0–1) of each supplier in *org_ids* (all suppliers with any evidence when ``None``).

    Evidence: signed intent orders count 1, delivered or completed contracts 1 more, terminated contracts −1.
    """
    ids = None if org_ids is None else sorted(set(org_ids))
    evidence: dict[int, int] = defaultdict(int)
    groups: Iterable[Sequence[int] | None] = [None] if ids is None else _chunks(ids)
    for chunk in groups:
        signed = select(IntentOrder.supplier_id, func.count()).where(IntentOrder.status == IntentStatus.SIGNED)
        contracts = select(Contract.supplier_id, Contract.status, func.count()).where(
            col(Contract.status).in_([ContractStatus.DELIVERED, ContractStatus.COMPLETED, ContractStatus.TERMINATED])
        )
        if chunk is not None:
            signed = signed.where(col(IntentOrder.supplier_id).in_(chunk))
            contracts = contracts.where(col(Contract.supplier_id).in_(chunk))
        for supplier, n in session.exec(signed.group_by(col(IntentOrder.supplier_id))).all():
            evidence[supplier] += int(n)
        for supplier, status, n in session.exec(
            contracts.group_by(col(Contract.supplier_id), col(Contract.status))
        ).all():
            evidence[supplier] += -int(n) if status == ContractStatus.TERMINATED else int(n)
    result = dict.fromkeys(ids, 0.0) if ids is not None else {}
    for supplier, n in evidence.items():
        result[supplier] = record_score(n)
    return result


def valid_qualifications(session: Session, org_ids: Iterable[int], day: date) -> dict[int, frozenset[str]]:
    """The qualification codes each organisation holds on *day* (expired certificates excluded)."""
    ids = sorted(set(org_ids))
    held: dict[int, set[str]] = {i: set() for i in ids}
    for chunk in _chunks(ids):
        for q in session.exec(select(Qualification).where(col(Qualification.organisation_id).in_(chunk))).all():
            if q.is_valid_on(day):
                held[q.organisation_id].add(q.code)
    return {i: frozenset(codes) for i, codes in held.items()}


def _districts(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(org_ids))
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        for oid, district in session.exec(
            select(Organisation.id, Organisation.district).where(col(Organisation.id).in_(chunk))
        ).all():
            assert oid is not None
            out[oid] = district
    return out


# ================================================================================================ offer states


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
        for chunk in _chunks(sorted(set(ids))):
            rows.extend(session.exec(stmt.where(col(Offer.id).in_(chunk))).all())
    owners = {o.organisation_id for o in rows if o.status == OfferStatus.ACTIVE}
    districts = _districts(session, owners)
    held = valid_qualifications(session, owners, day)
    records = supplier_records(session, owners)
    states: list[_OfferState] = []
    for o in rows:
        assert o.id is not None
        doc = None
        if o.status == OfferStatus.ACTIVE:
            org = o.organisation_id
            doc = document_from_offer(o, districts.get(org), held.get(org, ()), records.get(org, 0.0))
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


# ================================================================================================ the offer index


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
            states, _ = _offer_states(session, _today(self.clock), ids=ids)
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
            states, newest = _offer_states(session, _today(self.clock), since=since)
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
            states, newest = _offer_states(session, _today(self.clock), active_only=True)
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


# ================================================================================================ results


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One ranked result: an offer, order, service package or mentor."""

    id: int
    title: str
    score: float
    organisation_id: int | None
    contributions: dict[str, float] = field(default_factory=dict)
    shared_terms: list[tuple[str, float]] = field(default_factory=list)
    why: str = ""
    folded: list[int] = field(default_factory=list)

    def explanation(self) -> dict[str, Any]:
        """The JSON stored with a match (floats rounded to 6 places so a re-run compares equal)."""
        return {
            "contributions": {k: round(v, 6) for k, v in self.contributions.items()},
            "shared_terms": [{"term": t, "contribution": round(c, 6)} for t, c in self.shared_terms[:10]],
            "why": self.why,
            "folded": list(self.folded),
        }


@dataclass(frozen=True, slots=True)
class RankedPage:
    items: list[RankedItem]
    total: int  # results available (at most MAX_RESULTS)
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def _page(items: Sequence[RankedItem], offset: int, limit: int) -> RankedPage:
    items = list(items)[:MAX_RESULTS]
    return RankedPage(items[offset : offset + limit], len(items), offset, limit)


def _item(
    match: RankedMatch,
    *,
    organisation_id: int | None,
    folded: Sequence[DocId] | None = None,
    title: str | None = None,
    extra: dict[str, float] | None = None,
) -> RankedItem:
    """A ranker match as a result; *extra* features scored by the service are added and the sentence re-rendered."""
    contributions = {name: float(value) for name, value in match.contributions.items()}
    score, why = float(match.score), match.why
    if extra:
        for name, value in extra.items():
            contributions[name] = contributions.get(name, 0.0) + float(value)
        score = sum(contributions.values())
        bits = why.split("; ") if why else []
        if bits and bits[-1].startswith("score "):
            bits.pop()
        why = "; ".join([*bits, score_clause(score, contributions)])
    return RankedItem(
        id=int(match.doc_id),
        title=match.title if title is None else title,
        score=score,
        organisation_id=organisation_id,
        contributions=contributions,
        shared_terms=[(t.term, float(t.contribution)) for t in match.shared_terms],
        why=why,
        folded=[int(f) for f in (match.folded if folded is None else folded)],
    )


def _rescored(items: list[RankedItem]) -> list[RankedItem]:
    """Best first after service-side features (stable: ties keep the ranker's order)."""
    return sorted(items, key=lambda item: -item.score)


# ================================================================================================ order → offers


def _offer_items(
    session: Session,
    store: OfferIndexStore,
    order: Order,
    filters: Filters | None,
    k: int,
    day: date,
) -> tuple[list[RankedItem], str]:
    """The best *k* offers for *order*, re-checked in the database: still active, qualifications valid on *day*."""
    query = query_from_order(order)
    matches, version = store.search(query, k + max(10, k // 2), filters=filters)
    required = set(query.required_qualifications) | set(filters.qualifications if filters else ())
    ids = sorted({int(m.doc_id) for m in matches} | {int(f) for m in matches for f in m.folded})
    offers: dict[int, Offer] = {}
    for chunk in _chunks(ids):
        for row in session.exec(select(Offer).where(col(Offer.id).in_(chunk))).all():
            assert row.id is not None
            offers[row.id] = row
    held = valid_qualifications(session, {o.organisation_id for o in offers.values()}, day) if required else {}

    def shown(offer_id: DocId) -> Offer | None:
        offer = offers.get(int(offer_id))
        if offer is None or offer.status != OfferStatus.ACTIVE:
            return None
        if required and not required <= held.get(offer.organisation_id, frozenset()):
            return None
        return offer

    items: list[RankedItem] = []
    for m in matches:
        offer = shown(m.doc_id)
        if offer is None:
            continue
        folded = [f for f in m.folded if shown(f) is not None]
        items.append(_item(m, organisation_id=offer.organisation_id, folded=folded))
        if len(items) == k:
            break
    return items, version


def rank_offers_for_order(
    engine: Engine,
    clock: Clock,
    order_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    store: OfferIndexStore | None = None,
) -> RankedPage:
    """Live ranking of the active offers for an order (any status), filtered and paginated."""
    _check_page(offset, limit)
    if store is None:
        store = offer_index_store(engine, clock)
    with UnitOfWork(engine, clock) as uow:
        order = load_row(uow.session, Order, order_id, "订单", "Order")
        if actor is not None:
            actor.require_owner(order.organisation_id, "订单", "Order", order_id)
        items, _ = _offer_items(uow.session, store, order, filters, MAX_RESULTS, _today(clock))
    return _page(items, offset, limit)


def _same_matches(
    existing: dict[int, StoredMatch], wanted: list[tuple[int, int, float, dict[str, Any]]], v: str
) -> bool:
    if len(existing) != len(wanted):
        return False
    for offer_id, rank, score, explanation in wanted:
        row = existing.get(offer_id)
        if row is None or (row.rank, row.score, row.explanation, row.engine_version) != (rank, score, explanation, v):
            return False
    return True


def match_order(
    engine: Engine,
    clock: Clock,
    order_id: int,
    *,
    store: OfferIndexStore | None = None,
    top: int = DEFAULT_TOP,
    actor: Actor | None = None,
) -> list[StoredMatch]:
    """Rank the offers for an open order and store the top *top* as :class:`~qianfan.models.Match` rows.

    Returns the stored rows, best first.  Idempotent: when the ranking equals what is stored nothing is written.
    """
    if not 1 <= top <= MAX_RESULTS:
        raise InvalidInput(
            f"匹配数量须在1到{MAX_RESULTS}之间", f"top must be between 1 and {MAX_RESULTS}", detail={"top": top}
        )
    if store is None:
        store = offer_index_store(engine, clock)
    with UnitOfWork(engine, clock) as uow:
        s = uow.session
        order = load_row(s, Order, order_id, "订单", "Order", lock=True)
        if actor is not None:
            actor.require_owner(order.organisation_id, "订单", "Order", order_id)
        if order.status != OrderStatus.OPEN:
            raise RuleViolation(
                f"订单当前状态为“{order.status.value}”，只有开放中的订单才会撮合",
                f"The order is {order.status.value}; only open orders are matched",
            )
        items, version = _offer_items(s, store, order, None, top, _today(clock))
        wanted = [
            (item.id, rank, round(item.score, 6), item.explanation() | {"features": _raw_features(item, store.weights)})
            for rank, item in enumerate(items, 1)
        ]
        existing = {row.offer_id: row for row in s.exec(select(StoredMatch).where(StoredMatch.order_id == order_id))}
        if _same_matches(existing, wanted, version):
            return sorted(existing.values(), key=lambda row: row.rank)
        keep = {offer_id for offer_id, *_ in wanted}
        for offer_id, row in existing.items():
            if offer_id not in keep:
                s.delete(row)
        now = clock.now()
        rows: list[StoredMatch] = []
        for offer_id, rank, score, explanation in wanted:
            row = existing.get(offer_id) or StoredMatch(
                order_id=order_id, offer_id=offer_id, rank=rank, score=score, engine_version=version, created_at=now
            )
            row.rank, row.score, row.explanation, row.engine_version = rank, score, explanation, version
            s.add(row)
            rows.append(row)
        try:
            s.flush()
        except IntegrityError:  # only without the row lock (SQLite): a concurrent matcher stored the same pair
            raise Conflict(
                "该订单正在被同时撮合，请稍后重试", "This order is being matched concurrently; retry"
            ) from None
        offer_ids = [offer_id for offer_id, *_ in wanted]
        uow.audit(
            "order",
            order_id,
            "matched",
            actor_id=actor.user_id if actor is not None else None,
            offer_ids=offer_ids,
            engine_version=version,
        )
        uow.publish(ORDER_MATCHED, order_id=order_id, offer_ids=offer_ids, engine_version=version)
        uow.commit()
        return rows


# ================================================================================================ feedback


def _raw_features(item: RankedItem, weights: Weights) -> dict[str, float]:
    """The feature values behind a stored match (contribution / weight used), for learning from feedback later."""
    out: dict[str, float] = {}
    for name in feature_names():
        w = float(getattr(weights, name))
        value = item.contributions.get(name)
        out[name] = round(float(value) / w, 6) if w and value is not None else 0.0
    return out


def feedback_examples(session: Session) -> list[FeedbackExample]:
    """Labelled (order, offer) pairs from what buyers did with stored matches.

    A shortlist is positive, a rejection negative, an intent order (proposed or signed; not cancelled) positive and
    the strongest signal — it overrides the other two for its pair. Only pairs the matcher showed (a stored match
    with its feature values) are examples: the features of a pair the engine never ranked are unknown.
    """
    labels: dict[tuple[int, int], Label] = {}
    for order_id, offer_id, kind in session.exec(
        select(Interest.order_id, Interest.offer_id, Interest.kind).where(
            col(Interest.kind).in_([InterestKind.SHORTLIST, InterestKind.REJECTION])
        )
    ):
        label = Label.SHORTLIST if kind == InterestKind.SHORTLIST else Label.REJECTION
        labels.setdefault((order_id, offer_id), label)
    for order_id, offer_id in session.exec(
        select(IntentOrder.order_id, IntentOrder.offer_id).where(IntentOrder.status != IntentStatus.CANCELLED)
    ):
        labels[(order_id, offer_id)] = Label.INTENT
    if not labels:
        return []
    order_ids = sorted({o for o, _ in labels})
    examples: list[FeedbackExample] = []
    for chunk in _chunks(order_ids):
        rows = session.exec(select(StoredMatch).where(col(StoredMatch.order_id).in_(chunk))).all()
        for row in sorted(rows, key=lambda r: (r.order_id, r.rank)):
            found = labels.get((row.order_id, row.offer_id))
            features = (row.explanation or {}).get("features")
            if found is None or not isinstance(features, dict):
                continue
            values = {name: float(features.get(name, 0.0)) for name in feature_names()}
            examples.append(FeedbackExample(row.order_id, row.offer_id, values, found.target, found.default_weight))
    return examples


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


def retrain_feedback(
    engine: Engine, clock: Clock, *, store: OfferIndexStore | None = None, **thresholds: Any
) -> FeedbackModel | None:
    """Learn rerank weights from the buyers' feedback and, when they measurably beat the defaults, rank with them.

    ``None`` while there are too few labels (the documented default weights stay, see :mod:`matcher.feedback`);
    otherwise the model is saved beside the index (whether adopted or not: its figures say why) and the store ranks
    with :attr:`FeedbackModel.effective_weights`. *thresholds* are passed to :func:`matcher.feedback.fit_weights`.
    """
    if store is None:
        store = offer_index_store(engine, clock)
    with Session(engine) as session:
        examples = feedback_examples(session)
    model = fit_weights(examples, defaults=Weights(), now=clock.now(), **thresholds)
    if model is None:
        return None
    store.directory.mkdir(parents=True, exist_ok=True)
    tmp = store.directory / f".{FEEDBACK_FILE}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, store.directory / FEEDBACK_FILE)
    store.weights = model.effective_weights
    log.info("feedback model: %s (adopted=%s)", model.reason, model.adopt)
    return model


# ================================================================================================ cached corpora


@dataclass(frozen=True, slots=True)
class _Corpus:
    """An index over a small corpus (never mutated after it is built: searched without a lock)."""

    index: MatchIndex
    rows: dict[int, Any]


class _CorpusCache:
    """Indexes of the open orders, active packages and active mentors, rebuilt when their fingerprint changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[Hashable, _Corpus]] = {}

    def get(self, engine: Engine, kind: str, fingerprint: Hashable, build: Callable[[], _Corpus]) -> _Corpus:
        key = (engine.url.render_as_string(hide_password=True), kind)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
        corpus = build()  # outside the lock; two concurrent builds of one state are equal, the last one stays
        with self._lock:
            self._entries[key] = (fingerprint, corpus)
        return corpus

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CORPORA = _CorpusCache()


def clear_caches() -> None:
    """Forget the cached corpora and the per-process offer stores (tests; after restoring a database)."""
    _CORPORA.clear()
    with _STORES_LOCK:
        _STORES.clear()


def _fingerprint(session: Session, *columns: Any, where: Any) -> tuple[str, ...]:
    row = session.exec(select(*columns).where(where)).one()
    return tuple(str(v) for v in row)


def _open_orders(session: Session, engine: Engine) -> _Corpus:
    fingerprint = _fingerprint(
        session,
        func.count(col(Order.id)),
        func.sum(col(Order.id)),
        func.sum(col(Order.version)),
        func.max(col(Order.updated_at)),
        where=Order.status == OrderStatus.OPEN,
    )

    def build() -> _Corpus:
        orders = session.exec(select(Order).where(Order.status == OrderStatus.OPEN).order_by(col(Order.id))).all()
        docs = [document_from_order(o) for o in orders]
        rows = {
            int(d.id): (frozenset(d.qualifications), o.budget_fen, o.organisation_id)
            for d, o in zip(docs, orders, strict=True)
        }
        return _Corpus(MatchIndex.fit(docs), rows)

    return _CORPORA.get(engine, "orders", fingerprint, build)


def _active_packages(session: Session, engine: Engine) -> _Corpus:
    fingerprint = _fingerprint(
        session,
        func.count(col(ServicePackage.id)),
        func.sum(col(ServicePackage.id)),
        func.sum(col(ServicePackage.value_fen)),
        func.max(col(ServicePackage.created_at)),
        where=ServicePackage.status == ListingStatus.ACTIVE,
    )

    def build() -> _Corpus:
        packages = session.exec(
            select(ServicePackage).where(ServicePackage.status == ListingStatus.ACTIVE).order_by(col(ServicePackage.id))
        ).all()
        districts = _districts(session, {p.organisation_id for p in packages})
        docs = [document_from_package(p, districts.get(p.organisation_id)) for p in packages]
        return _Corpus(MatchIndex.fit(docs), {int(d.id): d for d in docs})

    return _CORPORA.get(engine, "packages", fingerprint, build)


def _active_mentors(session: Session, engine: Engine) -> _Corpus:
    fingerprint = _fingerprint(
        session,
        func.count(col(Mentor.id)),
        func.sum(col(Mentor.id)),
        func.max(col(Mentor.created_at)),
        where=Mentor.status == ListingStatus.ACTIVE,
    )

    def build() -> _Corpus:
        mentors = session.exec(
            select(Mentor).where(Mentor.status == ListingStatus.ACTIVE).order_by(col(Mentor.id))
        ).all()
        districts = _districts(session, {m.organisation_id for m in mentors})
        docs = [document_from_mentor(m, districts.get(m.organisation_id)) for m in mentors]
        rows = {int(m.id): (m.name, tuple(m.expertise), m.organisation_id) for m in mentors if m.id is not None}
        return _Corpus(MatchIndex.fit(docs), rows)

    return _CORPORA.get(engine, "mentors", fingerprint, build)


def _candidates(corpus: _Corpus) -> int:
    return max(1, min(len(corpus.index.documents), _CORPUS_CANDIDATES))


# ================================================================================================ offer → orders


def rank_orders_for_offer(
    engine: Engine,
    clock: Clock,
    offer_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
) -> RankedPage:
    """Live ranking of the open orders for an SME's offer; orders needing a qualification it lacks are hidden."""
    _check_page(offset, limit)
    w = weights or Weights()
    day = _today(clock)
    with UnitOfWork(engine, clock) as uow:
        s = uow.session
        offer = load_row(s, Offer, offer_id, "产品/服务", "Offer")
        if actor is not None:
            actor.require_owner(offer.organisation_id, "产品/服务", "Offer", offer_id)
        district = _districts(s, [offer.organisation_id]).get(offer.organisation_id)
        held = valid_qualifications(s, [offer.organisation_id], day)[offer.organisation_id]
        corpus = _open_orders(s, engine)
    matches = corpus.index.search(query_from_offer(offer, district), _candidates(corpus), filters=filters, weights=w)

    items: list[RankedItem] = []
    for m in matches:
        required, budget_fen, organisation_id = corpus.rows[int(m.doc_id)]
        if not required <= held:
            continue
        fit = _budget_fit(budget_fen, offer.price_min_fen)
        items.append(_item(m, organisation_id=organisation_id, extra={"budget": w.budget * fit} if w.budget else None))
    return _page(_rescored(items), offset, limit)


# ================================================================================================ need → services


def _own_need(uow: UnitOfWork, need_id: int, actor: Actor | None) -> tuple[ServiceNeed, str | None]:
    need = load_row(uow.session, ServiceNeed, need_id, "服务需求", "Service need")
    if actor is not None:
        actor.require_owner(need.organisation_id, "服务需求", "Service need", need_id)
    return need, _districts(uow.session, [need.organisation_id]).get(need.organisation_id)


def rank_packages_for_need(
    engine: Engine,
    clock: Clock,
    need_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
) -> RankedPage:
    """Live ranking of the active service packages (服务包) for an SME's service need."""
    _check_page(offset, limit)
    with UnitOfWork(engine, clock) as uow:
        need, district = _own_need(uow, need_id, actor)
        corpus = _active_packages(uow.session, engine)
    query = query_from_need(need, district)
    matches = corpus.index.search(query, min(_candidates(corpus), MAX_RESULTS), filters=filters, weights=weights)
    items = [_item(m, organisation_id=_owner_of(corpus.rows[int(m.doc_id)])) for m in matches]
    return _page(items, offset, limit)


def _owner_of(doc: Document) -> int | None:
    return None if doc.owner is None else int(doc.owner)


def rank_mentors_for_need(
    engine: Engine,
    clock: Clock,
    need_id: int,
    *,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    actor: Actor | None = None,
    weights: Weights | None = None,
) -> RankedPage:
    """Live ranking of the active mentors (创业导师) for an SME's service need; expertise is scored by category."""
    _check_page(offset, limit)
    w = weights or Weights()
    with UnitOfWork(engine, clock) as uow:
        need, district = _own_need(uow, need_id, actor)
        corpus = _active_mentors(uow.session, engine)
    categories = set(filters.categories) if filters else set()
    index_filters = dataclasses.replace(filters, categories=()) if filters else None
    query = query_from_need(need, district)
    matches = corpus.index.search(query, _candidates(corpus), filters=index_filters, weights=w)
    items: list[RankedItem] = []
    for m in matches:
        name, expertise, organisation_id = corpus.rows[int(m.doc_id)]
        if categories and not categories & set(expertise):
            continue
        fit = _category_fit(need.category, expertise)
        items.append(
            _item(
                m,
                organisation_id=organisation_id,
                title=f"{name}：{m.title}",
                extra={"category": w.category * fit} if w.category else None,
            )
        )
    return _page(_rescored(items), offset, limit)
