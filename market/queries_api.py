"""Read models of the marketplace's API lists and lookups: service packages, mentors, service needs, intent orders
and contracts — each page, lookup by id and lookup of a ranking's ids with the owners' names, read through
:mod:`market.access` so that a list, its count and a lookup agree on what the actor may see.

The orders' and offers' equivalents are in :mod:`market.queries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import String, cast, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from market.access import (
    CONTRACT,
    INTENT_ORDER,
    MENTOR,
    SERVICE_NEED,
    SERVICE_PACKAGE,
    contracts_visible_to,
    intent_orders_visible_to,
    mentors_visible_to,
    service_needs_visible_to,
    service_packages_visible_to,
)
from market.queries import category_conditions
from qianfan import taxonomy
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    ListingStatus,
    Mentor,
    NeedStatus,
    Organisation,
    ServiceNeed,
    ServicePackage,
)
from qianfan.paging import Join, fetch_page

__all__ = [
    "ContractFilters",
    "IntentFilters",
    "MentorFilters",
    "NeedFilters",
    "PackageFilters",
    "contract_for",
    "contracts_page",
    "intent_order_for",
    "intent_orders_page",
    "mentor_for",
    "mentors_page",
    "mentors_with_providers",
    "need_for",
    "needs_page",
    "package_for",
    "packages_page",
    "packages_with_providers",
]

E = TypeVar("E")

Buyer = aliased(Organisation, name="buyer")
Supplier = aliased(Organisation, name="supplier")

_PROVIDER: Join = (Organisation, col(Organisation.id) == col(ServicePackage.organisation_id))
_MENTOR_ORG: Join = (Organisation, col(Organisation.id) == col(Mentor.organisation_id))
_NEED_ORG: Join = (Organisation, col(Organisation.id) == col(ServiceNeed.organisation_id))
_INTENT_PARTIES: tuple[Join, ...] = (
    (Buyer, col(Buyer.id) == col(IntentOrder.buyer_id)),
    (Supplier, col(Supplier.id) == col(IntentOrder.supplier_id)),
)
_CONTRACT_PARTIES: tuple[Join, ...] = (
    (Buyer, col(Buyer.id) == col(Contract.buyer_id)),
    (Supplier, col(Supplier.id) == col(Contract.supplier_id)),
)


@dataclass(frozen=True, slots=True)
class _Listing:
    """How one kind of record is read with its owners' names: the entity, its joins, the names' columns."""

    entity: Any
    joins: tuple[Join, ...]
    columns: tuple[Any, ...]
    what: tuple[str, str]

    def page(
        self, session: Session, conditions: Sequence[Any], order_by: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[Any], int]:
        return fetch_page(
            session,
            self.entity,
            limit=limit,
            offset=offset,
            conditions=conditions,
            order_by=order_by,
            joins=self.joins,
            columns=self.columns,
        )

    def _select(self, *conditions: Any) -> Any:
        stmt = select(self.entity, *self.columns)
        for target, on in self.joins:
            stmt = stmt.join(target, on)
        return stmt.where(*conditions)

    def one(self, session: Session, ident: int, condition: Any) -> Any:
        row = session.exec(self._select(col(self.entity.id) == ident, condition)).first()
        if row is None:
            raise NotFound.of(self.what[0], self.what[1], ident)
        return tuple(row)

    def by_ids(self, session: Session, ids: Iterable[int], condition: Any) -> dict[int, tuple[Any, ...]]:
        wanted = list(ids)
        if not wanted:
            return {}
        rows = session.exec(self._select(col(self.entity.id).in_(wanted), condition)).all()
        return {row[0].id: tuple(row) for row in rows if row[0].id is not None}


_PACKAGES = _Listing(ServicePackage, (_PROVIDER,), (Organisation.name,), SERVICE_PACKAGE)
_MENTORS = _Listing(Mentor, (_MENTOR_ORG,), (Organisation.name,), MENTOR)
_NEEDS = _Listing(ServiceNeed, (_NEED_ORG,), (Organisation.name,), SERVICE_NEED)
_INTENTS = _Listing(IntentOrder, _INTENT_PARTIES, (Buyer.name, Supplier.name), INTENT_ORDER)
_CONTRACTS = _Listing(Contract, _CONTRACT_PARTIES, (Buyer.name, Supplier.name), CONTRACT)


def _equal(entity: Any, **values: Any) -> list[Any]:
    """``entity.<field> == value`` for each value given (``None`` means no filter)."""
    return [col(getattr(entity, field)) == value for field, value in values.items() if value is not None]


def _title(entity: Any, text: str | None) -> list[Any]:
    return [] if text is None else [col(entity.title).icontains(text, autoescape=True)]


# ------------------------------------------------------------------------------------------------ packages


@dataclass(frozen=True, slots=True)
class PackageFilters:
    status: ListingStatus = ListingStatus.ACTIVE
    category: str | None = None
    organisation_id: int | None = None
    title_contains: str | None = None
    max_value_fen: int | None = None

    def conditions(self) -> list[Any]:
        conditions = [col(ServicePackage.status) == self.status]
        conditions += category_conditions(col(ServicePackage.category), self.category)
        conditions += _equal(ServicePackage, organisation_id=self.organisation_id)
        conditions += _title(ServicePackage, self.title_contains)
        if self.max_value_fen is not None:
            conditions.append(col(ServicePackage.value_fen) <= self.max_value_fen)
        return conditions


def packages_page(
    session: Session, actor: Actor, filters: PackageFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[ServicePackage, str]], int]:
    """One page of the service packages *actor* may read passing *filters*, each with its provider's name."""
    conditions = [*filters.conditions(), service_packages_visible_to(actor)]
    return _PACKAGES.page(session, conditions, order_by, limit, offset)


def package_for(session: Session, actor: Actor, package_id: int) -> tuple[ServicePackage, str]:
    """The service package and its provider's name, else a bilingual NotFound."""
    package, name = _PACKAGES.one(session, package_id, service_packages_visible_to(actor))
    return package, name


def packages_with_providers(
    session: Session, actor: Actor, ids: Iterable[int]
) -> dict[int, tuple[ServicePackage, str]]:
    """The service packages among *ids* (e.g. a ranking's) by id, each with its provider's name."""
    return _PACKAGES.by_ids(session, ids, service_packages_visible_to(actor))


# ------------------------------------------------------------------------------------------------ mentors


def _expertise_condition(code: str) -> Any:
    """``expertise`` is a JSON list of category codes; its text holds each code in double quotes."""
    text = cast(col(Mentor.expertise), String)
    if code in taxonomy.CLUSTER_BY_CODE:
        return text.contains(f'"{code}.', autoescape=True)
    return text.contains(f'"{code}"', autoescape=True)


@dataclass(frozen=True, slots=True)
class MentorFilters:
    """``expertise``: a category (or a whole cluster) among the mentor's; ``text_contains``: in name or headline."""

    status: ListingStatus = ListingStatus.ACTIVE
    expertise: str | None = None
    organisation_id: int | None = None
    text_contains: str | None = None

    def conditions(self) -> list[Any]:
        conditions = [col(Mentor.status) == self.status, *_equal(Mentor, organisation_id=self.organisation_id)]
        if self.expertise is not None:
            conditions.append(_expertise_condition(self.expertise))
        if self.text_contains is not None:
            conditions.append(
                or_(
                    col(Mentor.name).icontains(self.text_contains, autoescape=True),
                    col(Mentor.headline).icontains(self.text_contains, autoescape=True),
                )
            )
        return conditions


def mentors_page(
    session: Session, actor: Actor, filters: MentorFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[Mentor, str]], int]:
    """One page of the mentors *actor* may read passing *filters*, each with its provider's name."""
    return _MENTORS.page(session, [*filters.conditions(), mentors_visible_to(actor)], order_by, limit, offset)


def mentor_for(session: Session, actor: Actor, mentor_id: int) -> tuple[Mentor, str]:
    mentor, name = _MENTORS.one(session, mentor_id, mentors_visible_to(actor))
    return mentor, name


def mentors_with_providers(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, tuple[Mentor, str]]:
    return _MENTORS.by_ids(session, ids, mentors_visible_to(actor))


# ------------------------------------------------------------------------------------------------ needs


@dataclass(frozen=True, slots=True)
class NeedFilters:
    status: NeedStatus | None = None
    category: str | None = None
    organisation_id: int | None = None
    title_contains: str | None = None

    def conditions(self) -> list[Any]:
        conditions = category_conditions(col(ServiceNeed.category), self.category)
        conditions += _equal(ServiceNeed, status=self.status, organisation_id=self.organisation_id)
        return conditions + _title(ServiceNeed, self.title_contains)


def needs_page(
    session: Session, actor: Actor, filters: NeedFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[ServiceNeed, str]], int]:
    """One page of the service needs *actor* may read passing *filters*, each with its SME's name."""
    return _NEEDS.page(session, [*filters.conditions(), service_needs_visible_to(actor)], order_by, limit, offset)


def need_for(session: Session, actor: Actor, need_id: int) -> tuple[ServiceNeed, str]:
    need, name = _NEEDS.one(session, need_id, service_needs_visible_to(actor))
    return need, name


# ------------------------------------------------------------------------------------------------ intent orders


@dataclass(frozen=True, slots=True)
class IntentFilters:
    status: IntentStatus | None = None
    order_id: int | None = None
    offer_id: int | None = None
    title_contains: str | None = None

    def conditions(self) -> list[Any]:
        conditions = _equal(IntentOrder, status=self.status, order_id=self.order_id, offer_id=self.offer_id)
        return conditions + _title(IntentOrder, self.title_contains)


#: An intent order with its buyer's and supplier's names and its contract's id (once both have signed).
IntentRow = tuple[IntentOrder, str, str, int | None]


def _with_contracts(session: Session, rows: Sequence[Any]) -> list[IntentRow]:
    ids = [row[0].id for row in rows]
    contracts: dict[int, int] = {}
    if ids:
        found = session.exec(
            select(Contract.intent_order_id, Contract.id).where(col(Contract.intent_order_id).in_(ids))
        )
        contracts = {intent_id: contract_id for intent_id, contract_id in found.all() if contract_id is not None}
    return [(intent, buyer, supplier, contracts.get(intent.id or 0)) for intent, buyer, supplier in rows]


def intent_orders_page(
    session: Session, actor: Actor, filters: IntentFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[IntentRow], int]:
    """One page of the intent orders *actor* is party to (all for the office) passing *filters*."""
    conditions = [*filters.conditions(), intent_orders_visible_to(actor)]
    rows, total = _INTENTS.page(session, conditions, order_by, limit, offset)
    return _with_contracts(session, rows), total


def intent_order_for(session: Session, actor: Actor, intent_id: int) -> IntentRow:
    """The intent order with its parties' names and contract id if *actor* may read it, else NotFound."""
    return _with_contracts(session, [_INTENTS.one(session, intent_id, intent_orders_visible_to(actor))])[0]


# ------------------------------------------------------------------------------------------------ contracts


@dataclass(frozen=True, slots=True)
class ContractFilters:
    status: ContractStatus | None = None
    buyer_id: int | None = None
    supplier_id: int | None = None
    title_contains: str | None = None

    def conditions(self) -> list[Any]:
        conditions = _equal(Contract, status=self.status, buyer_id=self.buyer_id, supplier_id=self.supplier_id)
        return conditions + _title(Contract, self.title_contains)


def contracts_page(
    session: Session, actor: Actor, filters: ContractFilters, *, order_by: Sequence[Any], limit: int, offset: int
) -> tuple[list[tuple[Contract, str, str]], int]:
    """One page of the contracts *actor* is party to (all for the office) passing *filters*, with the names."""
    return _CONTRACTS.page(session, [*filters.conditions(), contracts_visible_to(actor)], order_by, limit, offset)


def contract_for(session: Session, actor: Actor, contract_id: int) -> tuple[Contract, str, str]:
    contract, buyer, supplier = _CONTRACTS.one(session, contract_id, contracts_visible_to(actor))
    return contract, buyer, supplier
