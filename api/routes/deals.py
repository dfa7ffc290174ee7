"""Intent orders (意向订单) and contracts: propose, sign, cancel, read.

Who sees what: the two parties — the buyer (large firm) and the supplier (SME) — see their intent orders and
contracts; the programme office reads all of them.  A large firm or SME that is not a party gets 404 for the id and
does not find the record in its lists.  Banks and service providers are refused the whole endpoint (403), as
they are refused orders (banks) and offers (both).  Proposing, signing and cancelling are for the parties only.

Proposing and signing accept an optional ``Idempotency-Key``: a retried request replays the first answer instead of
reporting a conflict.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, Field
from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from api.auth import Principal, require_kind
from api.deps import ClockDep, EngineDep, PageParams, SessionDep, SettingsDep
from api.idempotency import IdempotencyKey, idempotent
from api.params import Id, SearchText, sort_choice, sort_orders, sort_schema
from api.routes.lists import PathId, list_page
from api.schemas import AUTH_RESPONSES, Page
from market import service as marketplace
from market.schemas import ContractPublic, IntentOrderPublic
from market.service import IntentOrderInput
from qianfan.errors import NotFound
from qianfan.models import Contract, ContractStatus, IntentOrder, IntentStatus, Organisation, OrgKind
from qianfan.uow import UnitOfWork

intents_router = APIRouter(prefix="/api/v1/intent-orders", tags=["deals"], responses=AUTH_RESPONSES)
contracts_router = APIRouter(prefix="/api/v1/contracts", tags=["deals"], responses=AUTH_RESPONSES)
routers = (intents_router, contracts_router)

PartyDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME))]
ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.PROGRAMME_OFFICE))]

Buyer = aliased(Organisation, name="buyer")
Supplier = aliased(Organisation, name="supplier")


def _party_scope(principal: Principal, buyer_id: Any, supplier_id: Any) -> list[Any]:
    if principal.is_(OrgKind.PROGRAMME_OFFICE):
        return []
    return [or_(buyer_id == principal.organisation_id, supplier_id == principal.organisation_id)]


# ------------------------------------------------------------------------------------------------ intent orders

INTENT_SORTS = sort_orders(
    IntentOrder.id,
    {"proposed_at": IntentOrder.proposed_at, "amount": IntentOrder.amount_fen},
    ("-proposed_at", "proposed_at", "-amount", "amount"),
)
_INTENT_KEYS = tuple(INTENT_SORTS)
IntentSort = Annotated[str, BeforeValidator(sort_choice(_INTENT_KEYS)), sort_schema(_INTENT_KEYS, "-proposed_at")]
_INTENT_JOINS = [
    (Buyer, col(Buyer.id) == col(IntentOrder.buyer_id)),
    (Supplier, col(Supplier.id) == col(IntentOrder.supplier_id)),
]


class IntentQuery(PageParams):
    status: IntentStatus | None = Field(None, description="状态 / status")
    order_id: Id | None = Field(None, description="订单 / order id")
    offer_id: Id | None = Field(None, description="供给 / offer id")
    q: SearchText = Field(None, description="标题包含 / title contains")
    sort: IntentSort = Field("-proposed_at", description="排序 / sort order")


def _intent_rows(session: Session, *conditions: Any) -> Any:
    stmt = select(IntentOrder, Buyer.name, Supplier.name, Contract.id)
    for target, on in _INTENT_JOINS:
        stmt = stmt.join(target, on)
    stmt = stmt.outerjoin(Contract, col(Contract.intent_order_id) == col(IntentOrder.id))
    return session.exec(stmt.where(*conditions))


def _intent_public(row: Any, tz: Any) -> IntentOrderPublic:
    intent, buyer, supplier, contract_id = row
    return IntentOrderPublic.from_model(intent, buyer, supplier, contract_id, tz)


def _after_write(engine: Engine, principal: Principal, intent_id: int, tz: Any) -> IntentOrderPublic:
    """Read what a use case just committed in a new session: the request's session may hold an older snapshot
    (SQLite keeps the one its first read took until the transaction ends)."""
    with Session(engine) as session:
        return read_intent(session, principal, intent_id, tz)


def read_intent(session: Session, principal: Principal, intent_id: int, tz: Any) -> IntentOrderPublic:
    scope = _party_scope(principal, col(IntentOrder.buyer_id), col(IntentOrder.supplier_id))
    row = _intent_rows(session, col(IntentOrder.id) == intent_id, *scope).first()
    if row is None:
        raise NotFound.of("意向订单", "Intent order", intent_id)
    return _intent_public(row, tz)


@intents_router.get("", response_model=Page[IntentOrderPublic], summary="意向订单列表 / List intent orders")
def list_intents(
    query: Annotated[IntentQuery, Query()], principal: ReaderDep, session: SessionDep, settings: SettingsDep
) -> Page[IntentOrderPublic]:
    """买卖双方看到各自参与的意向订单；管委会看到全部；银行与服务机构无权访问（403）。

    The parties list the intent orders they are party to; the programme office lists all; banks and service
    providers are refused (403).
    """
    conditions: list[Any] = _party_scope(principal, col(IntentOrder.buyer_id), col(IntentOrder.supplier_id))
    if query.status is not None:
        conditions.append(col(IntentOrder.status) == query.status)
    if query.order_id is not None:
        conditions.append(col(IntentOrder.order_id) == query.order_id)
    if query.offer_id is not None:
        conditions.append(col(IntentOrder.offer_id) == query.offer_id)
    if query.q is not None:
        conditions.append(col(IntentOrder.title).icontains(query.q, autoescape=True))
    page = list_page(
        session,
        IntentOrder,
        query,
        lambda row: row,
        conditions=conditions,
        order_by=INTENT_SORTS[query.sort],
        joins=_INTENT_JOINS,
        columns=[Buyer.name, Supplier.name],
    )
    ids = [row[0].id for row in page.items]
    contracts = (
        dict(
            session.exec(
                select(Contract.intent_order_id, Contract.id).where(col(Contract.intent_order_id).in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    return Page[IntentOrderPublic](
        items=[
            IntentOrderPublic.from_model(intent, buyer, supplier, contracts.get(intent.id), settings.tz)
            for intent, buyer, supplier in page.items
        ],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@intents_router.post(
    "",
    response_model=IntentOrderPublic,
    status_code=201,
    summary="提出意向订单 / Propose an intent order",
)
def propose_intent(
    request: Request,
    data: Annotated[
        IntentOrderInput,
        Body(
            openapi_examples={
                "proposal": {
                    "value": {
                        "order_id": 7,
                        "offer_id": 11,
                        "amount": "9800000.00",
                        "delivery_due": "2027-06-30",
                        "terms": "分三期交付，验收后付款",
                    }
                }
            }
        ),
    ],
    principal: PartyDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """订单方或供给方均可提出，提出方即时签署。/ Either party proposes; the proposer signs at once."""

    def run() -> IntentOrderPublic:
        intent = marketplace.propose_intent_order(UnitOfWork(engine, clock), principal.actor, data)
        assert intent.id is not None
        return _after_write(engine, principal, intent.id, settings.tz)

    return idempotent(request, principal, idempotency_key, data, run, clock=clock, status_code=201)


@intents_router.get("/{intent_id}", response_model=IntentOrderPublic, summary="意向订单详情 / Intent order")
def get_intent(
    intent_id: PathId, principal: ReaderDep, session: SessionDep, settings: SettingsDep
) -> IntentOrderPublic:
    return read_intent(session, principal, intent_id, settings.tz)


@intents_router.post(
    "/{intent_id}/sign",
    response_model=IntentOrderPublic,
    summary="签署意向订单（双方签署后生成合同）/ Sign (both signatures make a contract)",
)
def sign_intent(
    request: Request,
    intent_id: PathId,
    principal: PartyDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """另一方签署后意向订单生效，生成合同，订单标记为已授予。

    The other party's signature makes the intent order binding: a contract is created and the order is awarded.
    """

    def run() -> IntentOrderPublic:
        marketplace.sign_intent_order(UnitOfWork(engine, clock), principal.actor, intent_id)
        return _after_write(engine, principal, intent_id, settings.tz)

    return idempotent(request, principal, idempotency_key, None, run, clock=clock)


@intents_router.post(
    "/{intent_id}/cancel", response_model=IntentOrderPublic, summary="撤销意向订单 / Cancel an intent order"
)
def cancel_intent(
    intent_id: PathId,
    principal: PartyDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> IntentOrderPublic:
    """仅限未生效（未双方签署）的意向订单；幂等。/ Only before both have signed; idempotent."""
    marketplace.cancel_intent_order(UnitOfWork(engine, clock), principal.actor, intent_id)
    return _after_write(engine, principal, intent_id, settings.tz)


# ------------------------------------------------------------------------------------------------ contracts

CONTRACT_SORTS = sort_orders(
    Contract.id,
    {"signed_at": Contract.signed_at, "amount": Contract.amount_fen, "delivery_due": Contract.delivery_due},
    ("-signed_at", "signed_at", "-amount", "amount", "delivery_due"),
)
_CONTRACT_KEYS = tuple(CONTRACT_SORTS)
ContractSort = Annotated[str, BeforeValidator(sort_choice(_CONTRACT_KEYS)), sort_schema(_CONTRACT_KEYS, "-signed_at")]
_CONTRACT_JOINS = [
    (Buyer, col(Buyer.id) == col(Contract.buyer_id)),
    (Supplier, col(Supplier.id) == col(Contract.supplier_id)),
]


class ContractQuery(PageParams):
    status: ContractStatus | None = Field(None, description="状态 / status")
    buyer_id: Id | None = Field(None, description="采购方 / buyer organisation id")
    supplier_id: Id | None = Field(None, description="供应方 / supplier organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains")
    sort: ContractSort = Field("-signed_at", description="排序 / sort order")


@contracts_router.get("", response_model=Page[ContractPublic], summary="合同列表 / List contracts")
def list_contracts(
    query: Annotated[ContractQuery, Query()], principal: ReaderDep, session: SessionDep, settings: SettingsDep
) -> Page[ContractPublic]:
    """买卖双方看到各自的合同；管委会看到全部；银行与服务机构无权访问（403）。

    The parties list their contracts; the programme office lists all; banks and service providers are refused.
    """
    conditions: list[Any] = _party_scope(principal, col(Contract.buyer_id), col(Contract.supplier_id))
    if query.status is not None:
        conditions.append(col(Contract.status) == query.status)
    if query.buyer_id is not None:
        conditions.append(col(Contract.buyer_id) == query.buyer_id)
    if query.supplier_id is not None:
        conditions.append(col(Contract.supplier_id) == query.supplier_id)
    if query.q is not None:
        conditions.append(col(Contract.title).icontains(query.q, autoescape=True))
    return list_page(
        session,
        Contract,
        query,
        lambda row: ContractPublic.from_model(row[0], row[1], row[2], settings.tz),
        conditions=conditions,
        order_by=CONTRACT_SORTS[query.sort],
        joins=_CONTRACT_JOINS,
        columns=[Buyer.name, Supplier.name],
    )


@contracts_router.get("/{contract_id}", response_model=ContractPublic, summary="合同详情 / Contract")
def get_contract(
    contract_id: PathId, principal: ReaderDep, session: SessionDep, settings: SettingsDep
) -> ContractPublic:
    stmt = select(Contract, Buyer.name, Supplier.name)
    for target, on in _CONTRACT_JOINS:
        stmt = stmt.join(target, on)
    scope = _party_scope(principal, col(Contract.buyer_id), col(Contract.supplier_id))
    row = session.exec(stmt.where(col(Contract.id) == contract_id, *scope)).first()
    if row is None:
        raise NotFound.of("合同", "Contract", contract_id)
    return ContractPublic.from_model(row[0], row[1], row[2], settings.tz)
