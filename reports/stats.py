"""The programme office's statistics: the figures the Qianfan plan reports, as SQL aggregates over the tables.

Read-only; no unit of work, no events.  Every function takes a :class:`~sqlmodel.Session` and a :class:`Scope`
(period, cluster, district) and answers exact integers (money in fen); percentiles and shares are exact
``Decimal`` values.  The same code runs on SQLite and PostgreSQL.

How each figure is counted
--------------------------

Each record is counted once, at one moment (its *event time*) and for one organisation (its *attributed
organisation*).  The ``cluster`` and ``district`` filters and groupings use the attributed organisation's
``Organisation.cluster`` / ``Organisation.district``; the period filter and the month grouping use the event
time, taken in the display time zone (Asia/Shanghai by default: a month runs from the 1st 00:00 Beijing time).
Because every record has exactly one attributed organisation and one event time, the count and amount figures
of the cluster and district groups add up to the ungrouped figure (organisations without a cluster form their own
group, key ``None``).

Demand side — attributed to the organisation that posted the order (the large firm):

- ``large_firms_with_orders``: distinct organisations of kind ``large_firm`` owning ≥ 1 order created in the
  period (大企业数).
- ``orders`` / ``orders_amount_fen``: orders created in the period, whatever their status now (open, awarded,
  closed: each was a need the programme collected), and the sum of their budgets (需求条数 / 金额).
- ``auto_matched_orders``: orders whose *first* stored match was created in the period, i.e. orders with ≥ 1
  match, counted once, in the month they were first matched (自动匹配订单).
- ``matches``: stored matches (order ↔ offer) created in the period.

Supply side — attributed to the organisation that listed it:

- ``offers``: SME offers (products, technologies, services) created in the period and still active (withdrawn
  offers are no longer on offer and are not counted).
- ``service_packages`` / ``service_packages_value_fen``: active service packages (服务包) created in the period and
  the sum of their ``value_fen`` (服务资源价值).
- ``mentors``: active mentors (创业导师) created in the period.
- ``service_providers``: distinct organisations of kind ``service_provider`` owning ≥ 1 active service package or
  active mentor created in the period (孵化器和服务机构).
- ``service_needs``: SMEs' service needs created in the period, any status.
- ``service_needs_matched``: of those, the needs for which at least one active service package of the same
  category exists (when the figure is computed).  Rankings of packages for a need are computed live and never
  stored, so this counts the needs the matcher has a same-category candidate for (服务需求匹配).

Deals and finance — attributed to the SME (supplier, creditor, borrower), the firm the programme helps:

- ``intent_orders_signed`` / ``intent_orders_signed_amount_fen``: intent orders (意向订单) with status ``signed``,
  at the later of the two signatures.
- ``contracts`` / ``contracts_amount_fen``: contracts signed in the period (``Contract.signed_at``), any status.
- ``receivables_confirmed`` / ``receivables_confirmed_amount_fen``: receivables the core enterprise confirmed
  (确权) in the period (``confirmed_at``), whatever happened to them since (financed, split, settled …), with the
  confirmed amount (``confirmed_fen``); attributed to the creditor that registered them.
- ``applications_disbursed``: finance applications whose loan was disbursed in the period (``Loan.disbursed_at``;
  an application has at most one loan).
- ``financed_amount_fen``: the principal of those loans (融资金额 = disbursed principal).
- ``disbursal_hours_p50`` / ``disbursal_hours_p95``: percentiles of the time from application
  (``FinanceApplication.submitted_at``) to disbursement (``Loan.disbursed_at``) over those loans, in hours,
  by linear interpolation between closest ranks (as PostgreSQL's ``percentile_cont``, numpy's default and Excel's
  ``PERCENTILE.INC``), rounded half-even to 0.01 h; ``None`` when no loan was disbursed.
- ``disbursed_within_48h``: of those loans, how many were disbursed at most 48 hours after the application;
  ``disbursed_within_48h_share`` that number over ``applications_disbursed`` (four decimals, half-even; ``None``
  when no loan was disbursed).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from finance.sla import SlaPolicy
from qianfan import taxonomy
from qianfan.clock import SHANGHAI, ensure_utc
from qianfan.models import (
    Contract,
    FinanceApplication,
    IntentOrder,
    IntentStatus,
    ListingStatus,
    Loan,
    Match,
    Mentor,
    Offer,
    OfferStatus,
    Order,
    Organisation,
    OrgKind,
    Receivable,
    ServiceNeed,
    ServicePackage,
)

#: The programme's promise: application to disbursement within 48 hours.
#: The programme's promise, application → disbursement: the SLA's overall deadline (finance.sla).
DISBURSAL_PROMISE = SlaPolicy().overall
_MICROS_PER_HOUR = 3_600_000_000
_HUNDREDTH = Decimal("0.01")
_SHARE_PLACES = Decimal("0.0001")


class GroupBy(StrEnum):
    CLUSTER = "cluster"
    DISTRICT = "district"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Scope:
    """What to count: event times in ``[start, end)`` (aware, either end open when ``None``) and attributed
    organisations in ``cluster`` / ``district`` (no restriction when ``None``)."""

    start: datetime | None = None
    end: datetime | None = None
    cluster: str | None = None
    district: str | None = None

    def __post_init__(self) -> None:
        if self.start is not None:
            object.__setattr__(self, "start", ensure_utc(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", ensure_utc(self.end))


def month_period(month: str, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """``"YYYY-MM"`` → the month's ``[start, end)`` in UTC, the month taken in *tz*."""
    year, mon = (int(part) for part in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def date_period(
    first: date | None, last: date | None, tz: ZoneInfo = SHANGHAI
) -> tuple[datetime | None, datetime | None]:
    """Inclusive calendar days in *tz* → ``(start, end)`` in UTC, ``end`` exclusive (the day after *last*)."""
    start = None if first is None else datetime.combine(first, time(), tz).astimezone(UTC)
    end = None if last is None else datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


# ------------------------------------------------------------------------------------------------- the figures


@dataclass(slots=True)
class Figures:
    """The programme's figures for one scope (see the module docstring for each definition)."""

    large_firms_with_orders: int = 0
    orders: int = 0
    orders_amount_fen: int = 0
    auto_matched_orders: int = 0
    matches: int = 0
    offers: int = 0
    service_packages: int = 0
    service_packages_value_fen: int = 0
    mentors: int = 0
    service_providers: int = 0
    service_needs: int = 0
    service_needs_matched: int = 0
    intent_orders_signed: int = 0
    intent_orders_signed_amount_fen: int = 0
    contracts: int = 0
    contracts_amount_fen: int = 0
    receivables_confirmed: int = 0
    receivables_confirmed_amount_fen: int = 0
    applications_disbursed: int = 0
    financed_amount_fen: int = 0
    disbursed_within_48h: int = 0
    #: application → disbursement of each loan, in microseconds (the raw material of the percentiles)
    disbursal_micros: list[int] = field(default_factory=list, repr=False)

    @property
    def disbursal_hours_p50(self) -> Decimal | None:
        return _hours(percentile(self.disbursal_micros, Fraction(1, 2)))

    @property
    def disbursal_hours_p95(self) -> Decimal | None:
        return _hours(percentile(self.disbursal_micros, Fraction(95, 100)))

    @property
    def disbursed_within_48h_share(self) -> Decimal | None:
        """``disbursed_within_48h / applications_disbursed`` to four decimals (half-even); ``None`` when 0/0."""
        if not self.applications_disbursed:
            return None
        share = Decimal(self.disbursed_within_48h) / Decimal(self.applications_disbursed)
        return share.quantize(_SHARE_PLACES, rounding=ROUND_HALF_EVEN)

    @property
    def disbursed_within_48h_bp(self) -> int | None:
        """The same share in basis points (1/10,000), rounded half-even."""
        share = self.disbursed_within_48h_share
        return None if share is None else int(share * 10_000)

    def counts(self) -> dict[str, int]:
        """The integer figures by name (without the raw durations)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "disbursal_micros"}


@dataclass(frozen=True, slots=True)
class Group:
    key: str | None
    label: str
    label_en: str
    figures: Figures


def percentile(values: Sequence[int], p: Fraction) -> Fraction | None:
    """The *p*-quantile (0 ≤ p ≤ 1) by linear interpolation between closest ranks, exactly; ``None`` if empty.

    With the values sorted as x₀ ≤ … ≤ xₙ₋₁ and h = (n − 1)·p: x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋).
    """
    if not values:
        return None
    if not 0 <= p <= 1:
        raise ValueError("percentile p must be within [0, 1]")
    xs = sorted(values)
    h = (len(xs) - 1) * p
    low = int(h)  # h ≥ 0, so int() is the floor
    if low + 1 >= len(xs):
        return Fraction(xs[low])
    return xs[low] + (h - low) * (xs[low + 1] - xs[low])


def _hours(micros: Fraction | None) -> Decimal | None:
    if micros is None:
        return None
    hours = Decimal(micros.numerator) / Decimal(micros.denominator * _MICROS_PER_HOUR)
    return hours.quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN)


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# ------------------------------------------------------------------------------------------------- the queries

#: A figure query's result rows: (group key, value, value, …); the key is ``None`` when ungrouped.
_Rows = Iterable[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class _Query:
    session: Session
    scope: Scope
    group_by: GroupBy | None
    tz: ZoneInfo

    def run(
        self,
        columns: Sequence[Any],
        *,
        org_id: Any,
        at: Any,
        select_from: Any,
        where: Sequence[Any] = (),
        aggregate: bool = True,
    ) -> _Rows:
        """``SELECT key, *columns FROM select_from JOIN organisation ON org_id WHERE scope AND where GROUP BY key``.

        *org_id* is the attributed organisation's id column, *at* the event time column.
        """
        key = self._key(at)
        stmt = (
            sa.select(key.label("group_key"), *columns)
            .select_from(select_from)
            .join(Organisation, col(Organisation.id) == org_id)
            .where(*where, *self._conditions(at))
        )
        if aggregate and self.group_by is not None:
            # By the output name: PostgreSQL would not see two renderings of an expression with bound
            # parameters (the month's time zone and format) as the same expression.
            stmt = stmt.group_by(sa.literal_column("group_key"))
        return self.session.execute(stmt).all()

    def _conditions(self, at: Any) -> list[Any]:
        s = self.scope
        conditions: list[Any] = []
        if s.start is not None:
            conditions.append(at >= s.start)
        if s.end is not None:
            conditions.append(at < s.end)
        if s.cluster is not None:
            conditions.append(col(Organisation.cluster) == s.cluster)
        if s.district is not None:
            conditions.append(col(Organisation.district) == s.district)
        return conditions

    def _key(self, at: Any) -> Any:
        if self.group_by is GroupBy.CLUSTER:
            return col(Organisation.cluster)
        if self.group_by is GroupBy.DISTRICT:
            return col(Organisation.district)
        if self.group_by is GroupBy.MONTH:
            return local_month(self.session, at, self.tz)
        return sa.null()


def local_month(session: Session, at: Any, tz: ZoneInfo) -> ColumnElement[str]:
    """``"YYYY-MM"`` of the timestamp column *at* in *tz*, computed by the database.

    PostgreSQL converts the ``timestamptz`` itself; SQLite stores naive UTC text and has no time-zone database, so
    a small deterministic function (``qianfan_local_month``) is registered on the connection for the query.
    """
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone(tz.key, at), "YYYY-MM")

    def to_month(value: str | None) -> str | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m")

    raw = session.connection().connection.driver_connection
    raw.create_function("qianfan_local_month", 1, to_month, deterministic=True)  # type: ignore[union-attr]
    return sa.func.qianfan_local_month(at, type_=sa.String)


def _int(value: Any) -> int:
    return int(value or 0)


def _collect(session: Session, scope: Scope, group_by: GroupBy | None, tz: ZoneInfo) -> dict[str | None, Figures]:
    q = _Query(session, scope, group_by, tz)
    out: dict[str | None, Figures] = defaultdict(Figures)

    def put(rows: _Rows, setter: Callable[[Figures, Sequence[Any]], None]) -> None:
        for row in rows:
            setter(out[row[0]], row[1:])

    # --- demand side: the large firm that posted the order
    large_firm = sa.case((col(Organisation.kind) == OrgKind.LARGE_FIRM, col(Order.organisation_id)))
    put(
        q.run(
            [sa.func.count(sa.distinct(large_firm)), sa.func.count(col(Order.id)), sa.func.sum(col(Order.budget_fen))],
            org_id=col(Order.organisation_id),
            at=col(Order.created_at),
            select_from=Order,
        ),
        lambda f, v: _set(f, large_firms_with_orders=v[0], orders=v[1], orders_amount_fen=v[2]),
    )
    first_match = (
        sa.select(col(Match.order_id).label("order_id"), sa.func.min(col(Match.created_at)).label("first_at"))
        .group_by(col(Match.order_id))
        .subquery("first_match")
    )
    put(
        q.run(
            [sa.func.count()],
            org_id=col(Order.organisation_id),
            at=first_match.c.first_at,
            select_from=sa.join(first_match, Order, col(Order.id) == first_match.c.order_id),
        ),
        lambda f, v: _set(f, auto_matched_orders=v[0]),
    )
    put(
        q.run(
            [sa.func.count(col(Match.id))],
            org_id=col(Order.organisation_id),
            at=col(Match.created_at),
            select_from=sa.join(Match, Order, col(Order.id) == col(Match.order_id)),
        ),
        lambda f, v: _set(f, matches=v[0]),
    )

    # --- supply side: the SME or service provider that listed it
    put(
        q.run(
            [sa.func.count(col(Offer.id))],
            org_id=col(Offer.organisation_id),
            at=col(Offer.created_at),
            select_from=Offer,
            where=[col(Offer.status) == OfferStatus.ACTIVE],
        ),
        lambda f, v: _set(f, offers=v[0]),
    )
    put(
        q.run(
            [sa.func.count(col(ServicePackage.id)), sa.func.sum(col(ServicePackage.value_fen))],
            org_id=col(ServicePackage.organisation_id),
            at=col(ServicePackage.created_at),
            select_from=ServicePackage,
            where=[col(ServicePackage.status) == ListingStatus.ACTIVE],
        ),
        lambda f, v: _set(f, service_packages=v[0], service_packages_value_fen=v[1]),
    )
    put(
        q.run(
            [sa.func.count(col(Mentor.id))],
            org_id=col(Mentor.organisation_id),
            at=col(Mentor.created_at),
            select_from=Mentor,
            where=[col(Mentor.status) == ListingStatus.ACTIVE],
        ),
        lambda f, v: _set(f, mentors=v[0]),
    )
    listings = sa.union_all(
        sa.select(
            col(ServicePackage.organisation_id).label("organisation_id"), col(ServicePackage.created_at).label("at")
        ).where(col(ServicePackage.status) == ListingStatus.ACTIVE),
        sa.select(col(Mentor.organisation_id), col(Mentor.created_at)).where(
            col(Mentor.status) == ListingStatus.ACTIVE
        ),
    ).subquery("listing")
    put(
        q.run(
            [sa.func.count(sa.distinct(listings.c.organisation_id))],
            org_id=listings.c.organisation_id,
            at=listings.c.at,
            select_from=listings,
            where=[col(Organisation.kind) == OrgKind.SERVICE_PROVIDER],
        ),
        lambda f, v: _set(f, service_providers=v[0]),
    )
    candidate = (
        sa.select(sa.literal(1))
        .select_from(ServicePackage)
        .where(
            col(ServicePackage.category) == col(ServiceNeed.category),
            col(ServicePackage.status) == ListingStatus.ACTIVE,
        )
        .exists()
    )
    put(
        q.run(
            [sa.func.count(col(ServiceNeed.id)), sa.func.sum(sa.case((candidate, 1), else_=0))],
            org_id=col(ServiceNeed.organisation_id),
            at=col(ServiceNeed.created_at),
            select_from=ServiceNeed,
        ),
        lambda f, v: _set(f, service_needs=v[0], service_needs_matched=v[1]),
    )

    # --- deals and finance: the SME (supplier, creditor, borrower)
    signed_at = sa.case(
        (col(IntentOrder.buyer_signed_at) >= col(IntentOrder.supplier_signed_at), col(IntentOrder.buyer_signed_at)),
        else_=col(IntentOrder.supplier_signed_at),
    )
    put(
        q.run(
            [sa.func.count(col(IntentOrder.id)), sa.func.sum(col(IntentOrder.amount_fen))],
            org_id=col(IntentOrder.supplier_id),
            at=signed_at,
            select_from=IntentOrder,
            where=[col(IntentOrder.status) == IntentStatus.SIGNED],
        ),
        lambda f, v: _set(f, intent_orders_signed=v[0], intent_orders_signed_amount_fen=v[1]),
    )
    put(
        q.run(
            [sa.func.count(col(Contract.id)), sa.func.sum(col(Contract.amount_fen))],
            org_id=col(Contract.supplier_id),
            at=col(Contract.signed_at),
            select_from=Contract,
        ),
        lambda f, v: _set(f, contracts=v[0], contracts_amount_fen=v[1]),
    )
    put(
        q.run(
            [sa.func.count(col(Receivable.id)), sa.func.sum(col(Receivable.confirmed_fen))],
            org_id=col(Receivable.creditor_id),
            at=col(Receivable.confirmed_at),
            select_from=Receivable,
            where=[col(Receivable.confirmed_at).is_not(None)],
        ),
        lambda f, v: _set(f, receivables_confirmed=v[0], receivables_confirmed_amount_fen=v[1]),
    )
    # One row per loan: the durations feed the percentiles, computed here rather than with the databases'
    # different percentile functions.
    for key, principal, submitted_at, disbursed_at in q.run(
        [col(Loan.principal_fen), col(FinanceApplication.submitted_at), col(Loan.disbursed_at)],
        org_id=col(Loan.sme_id),
        at=col(Loan.disbursed_at),
        select_from=sa.join(Loan, FinanceApplication, col(FinanceApplication.id) == col(Loan.application_id)),
        aggregate=False,
    ):
        figures = out[key]
        waited = ensure_utc(disbursed_at) - ensure_utc(submitted_at)
        figures.applications_disbursed += 1
        figures.financed_amount_fen += int(principal)
        figures.disbursal_micros.append(_micros(waited))
        if waited <= DISBURSAL_PROMISE:
            figures.disbursed_within_48h += 1
    return dict(out)


def _set(figures: Figures, **values: Any) -> None:
    for name, value in values.items():
        setattr(figures, name, _int(value))


# ------------------------------------------------------------------------------------------------- public API


def programme_stats(session: Session, scope: Scope | None = None, *, tz: ZoneInfo = SHANGHAI) -> Figures:
    """The programme's figures for *scope* (everything when ``None``); an empty database gives all zeros."""
    return _collect(session, scope or Scope(), None, tz).get(None) or Figures()


def programme_stats_by(
    session: Session, group_by: GroupBy, scope: Scope | None = None, *, tz: ZoneInfo = SHANGHAI
) -> list[Group]:
    """The figures for *scope*, one :class:`Group` per cluster, district or month.

    Clusters and districts: every one of the taxonomy (or only the filtered one), zeros included, in the
    taxonomy's order, then any other value found (organisations without a cluster last, key ``None``).
    Months (``"YYYY-MM"`` in *tz*): every month from the scope's start (or the first month with data) to its end
    (or the last month with data), zeros included.
    """
    scope = scope or Scope()
    found = _collect(session, scope, group_by, tz)
    keys: list[str | None]
    if group_by is GroupBy.CLUSTER:
        known = [scope.cluster] if scope.cluster is not None else list(taxonomy.CLUSTER_CODES)
        keys = _with_others(known, found)
    elif group_by is GroupBy.DISTRICT:
        known = [scope.district] if scope.district is not None else list(taxonomy.DISTRICTS)
        keys = _with_others(known, found)
    else:
        keys = list(_months(scope, [k for k in found if k is not None], tz))
    return [Group(key, *_label(group_by, key), found.get(key) or Figures()) for key in keys]


def _with_others(known: list[str], found: dict[str | None, Figures]) -> list[str | None]:
    others = sorted(k for k in found if k is not None and k not in known)
    tail: list[str | None] = [None] if None in found else []
    return [*known, *others, *tail]


def _months(scope: Scope, present: list[str], tz: ZoneInfo) -> Iterable[str]:
    first = scope.start.astimezone(tz).strftime("%Y-%m") if scope.start is not None else min(present, default=None)
    last = (
        (scope.end - timedelta(microseconds=1)).astimezone(tz).strftime("%Y-%m")
        if scope.end is not None
        else max(present, default=None)
    )
    if first is None or last is None:
        return
    year, month = (int(p) for p in first.split("-"))
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _label(group_by: GroupBy, key: str | None) -> tuple[str, str]:
    if group_by is GroupBy.CLUSTER:
        if key is None:
            return "未分类", "Unclassified"
        cluster = taxonomy.CLUSTER_BY_CODE.get(key)
        return (cluster.name_zh, cluster.name_en) if cluster else (key, key)
    if group_by is GroupBy.MONTH and key is not None:
        year, month = (int(p) for p in key.split("-"))
        return f"{year}年{month}月", f"{calendar.month_abbr[month]} {year}"
    return (key, key) if key is not None else ("未知", "Unknown")


# ------------------------------------------------------------------------------------------------- the 48 hours

#: The turnaround histogram's bucket edges in hours: (0, 6], (6, 12], … (48, 72], then over 72 h.
TURNAROUND_EDGES: tuple[int, ...] = (0, 6, 12, 24, 36, 48, 72)


@dataclass(frozen=True, slots=True)
class Disbursal:
    """One disbursed loan's application → disbursement time (counted as in :class:`Figures`)."""

    application_id: int
    loan_id: int
    bank_id: int
    bank_name: str
    sme_id: int
    sme_name: str
    principal_fen: int
    submitted_at: datetime
    disbursed_at: datetime
    micros: int

    @property
    def hours(self) -> Decimal:
        """The wait in hours, rounded half-even to 0.01 h."""
        value = _hours(Fraction(self.micros))
        assert value is not None
        return value

    @property
    def within_promise(self) -> bool:
        return self.micros <= _micros(DISBURSAL_PROMISE)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Loans whose wait lies in ``(low_hours, high_hours]`` (the first bucket includes 0; ``high_hours`` is
    ``None`` for the last, open bucket)."""

    low_hours: int
    high_hours: int | None
    count: int

    @property
    def within_promise(self) -> bool:
        return self.high_hours is not None and self.high_hours <= DISBURSAL_PROMISE.total_seconds() // 3600


@dataclass(frozen=True, slots=True)
class Turnaround:
    """The application → disbursement times of a scope against the 48-hour promise."""

    disbursals: list[Disbursal]
    buckets: list[Bucket]

    @property
    def count(self) -> int:
        return len(self.disbursals)

    @property
    def within_promise(self) -> int:
        return sum(1 for d in self.disbursals if d.within_promise)

    @property
    def within_promise_share(self) -> Decimal | None:
        """Four decimals, half-even; ``None`` when nothing was disbursed (as ``Figures.disbursed_within_48h_share``)."""
        if not self.disbursals:
            return None
        share = Decimal(self.within_promise) / Decimal(self.count)
        return share.quantize(_SHARE_PLACES, rounding=ROUND_HALF_EVEN)

    @property
    def hours_p50(self) -> Decimal | None:
        return _hours(percentile([d.micros for d in self.disbursals], Fraction(1, 2)))

    @property
    def hours_p95(self) -> Decimal | None:
        return _hours(percentile([d.micros for d in self.disbursals], Fraction(95, 100)))

    @property
    def breaches(self) -> list[Disbursal]:
        """The loans disbursed more than 48 hours after their application, longest wait first."""
        return sorted((d for d in self.disbursals if not d.within_promise), key=lambda d: (-d.micros, d.loan_id))


def histogram(micros: Iterable[int], edges: Sequence[int] = TURNAROUND_EDGES) -> list[Bucket]:
    """Count waits (microseconds) into ``(edges[i], edges[i+1]]`` hours (0 falls in the first) and one bucket above
    the last edge.  A wait of exactly 48 h is in the 36–48 h bucket: within the promise."""
    bounds = [e * _MICROS_PER_HOUR for e in edges]
    counts = [0] * len(edges)
    for value in micros:
        index = len(edges) - 1
        for i in range(1, len(bounds)):
            if value <= bounds[i]:
                index = i - 1
                break
        counts[index] += 1
    return [Bucket(edges[i], edges[i + 1] if i + 1 < len(edges) else None, counts[i]) for i in range(len(edges))]


def disbursals(session: Session, scope: Scope | None = None, *, tz: ZoneInfo = SHANGHAI) -> list[Disbursal]:
    """Every loan disbursed in *scope* (attributed to the SME, at ``Loan.disbursed_at``, as the figures count
    them), with its bank and application → disbursement time; oldest disbursement first."""
    bank = sa.orm.aliased(Organisation, name="bank")
    q = _Query(session, scope or Scope(), None, tz)
    rows = q.run(
        [
            col(Loan.application_id),
            col(Loan.id),
            col(Loan.bank_id),
            bank.name,
            col(Organisation.id),
            col(Organisation.name),
            col(Loan.principal_fen),
            col(FinanceApplication.submitted_at),
            col(Loan.disbursed_at),
        ],
        org_id=col(Loan.sme_id),
        at=col(Loan.disbursed_at),
        select_from=sa.join(Loan, FinanceApplication, col(FinanceApplication.id) == col(Loan.application_id)).join(
            bank, col(bank.id) == col(Loan.bank_id)
        ),
        aggregate=False,
    )
    out = [
        Disbursal(
            application_id=int(app_id),
            loan_id=int(loan_id),
            bank_id=int(bank_id),
            bank_name=str(bank_name),
            sme_id=int(sme_id),
            sme_name=str(sme_name),
            principal_fen=int(principal),
            submitted_at=ensure_utc(submitted),
            disbursed_at=ensure_utc(disbursed),
            micros=_micros(ensure_utc(disbursed) - ensure_utc(submitted)),
        )
        for _, app_id, loan_id, bank_id, bank_name, sme_id, sme_name, principal, submitted, disbursed in rows
    ]
    return sorted(out, key=lambda d: (d.disbursed_at, d.loan_id))


def turnaround(session: Session, scope: Scope | None = None, *, tz: ZoneInfo = SHANGHAI) -> Turnaround:
    """The disbursals of *scope* and their histogram over :data:`TURNAROUND_EDGES`."""
    found = disbursals(session, scope, tz=tz)
    return Turnaround(found, histogram(d.micros for d in found))
