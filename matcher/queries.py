"""The matcher's read models over the database: what it needs to know about organisations and feedback.

* :func:`supplier_records` — each supplier's platform track record (the evidence counted here; the score itself is
  :func:`matcher.rank.record_score`, the ranking's rule);
* :func:`valid_qualifications` — the qualification codes an organisation holds on a day (expired ones excluded);
* :func:`feedback_examples` — labelled (order, offer) pairs from what buyers did with stored matches.

Small shared helpers (the business day, ``IN (…)`` chunks, the page check) live here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from sqlmodel import Session, col, func, select

from matcher.feedback import FeedbackExample, Label, feature_names
from matcher.rank import record_score
from qianfan.clock import Clock, to_local
from qianfan.errors import InvalidInput
from qianfan.models import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Organisation,
    Qualification,
)
from qianfan.models import Match as StoredMatch

#: Matches stored per order by default, and the most any ranking returns (pages included).
DEFAULT_TOP = 20
MAX_RESULTS = 200
MAX_PAGE = 100
_IN_CHUNK = 900  # ids per IN (…) list: well below SQLite's bound-parameter limit

__all__ = [
    "DEFAULT_TOP",
    "MAX_PAGE",
    "MAX_RESULTS",
    "check_page",
    "chunks",
    "districts",
    "feedback_examples",
    "supplier_records",
    "today",
    "valid_qualifications",
]


def today(clock: Clock) -> date:
    return to_local(clock.now()).date()


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidInput("分页偏移量不能为负数", "The page offset must not be negative", detail={"offset": offset})
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(
            f"每页数量须在1到{MAX_PAGE}之间",
            f"The page size must be between 1 and {MAX_PAGE}",
            detail={"limit": limit},
        )


def supplier_records(session: Session, org_ids: Iterable[int] | None = None) -> dict[int, float]:
    """The track record (0–1) of each supplier in *org_ids* (all suppliers with any evidence when ``None``).

    Evidence: signed intent orders count 1, delivered or completed contracts 1 more, terminated contracts −1.
    """
    ids = None if org_ids is None else sorted(set(org_ids))
    evidence: dict[int, int] = defaultdict(int)
    groups: Iterable[Sequence[int] | None] = [None] if ids is None else chunks(ids)
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
    for chunk in chunks(ids):
        for q in session.exec(select(Qualification).where(col(Qualification.organisation_id).in_(chunk))).all():
            if q.is_valid_on(day):
                held[q.organisation_id].add(q.code)
    return {i: frozenset(codes) for i, codes in held.items()}


def districts(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(org_ids))
    out: dict[int, str] = {}
    for chunk in chunks(ids):
        for oid, district in session.exec(
            select(Organisation.id, Organisation.district).where(col(Organisation.id).in_(chunk))
        ).all():
            assert oid is not None
            out[oid] = district
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
    for chunk in chunks(order_ids):
        rows = session.exec(select(StoredMatch).where(col(StoredMatch.order_id).in_(chunk))).all()
        for row in sorted(rows, key=lambda r: (r.order_id, r.rank)):
            found = labels.get((row.order_id, row.offer_id))
            features = (row.explanation or {}).get("features")
            if found is None or not isinstance(features, dict):
                continue
            values = {name: float(features.get(name, 0.0)) for name in feature_names()}
            examples.append(FeedbackExample(row.order_id, row.offer_id, values, found.target, found.default_weight))
    return examples
