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
from pydantic import Field
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import Principal, require_kind
from api.deps import PageParams
from api.idempotency import IdempotencyKey, idempotent
from api.params import Id, SearchText, SortKey, sort_orders
from api.routes.context import ContextDep
from api.routes.lists import PathId, page_of
from api.schemas import AUTH_RESPONSES, Page
from market import queries_api as deals
from market import service as marketplace
from market.schemas import ContractPublic, IntentOrderPublic
from market.service import IntentOrderInput
from qianfan.models import Contract, ContractStatus, IntentOrder, IntentStatus, OrgKind

intents_router = APIRouter(prefix="/api/v1/intent-orders", tags=["deals"], responses=AUTH_RESPONSES)
contracts_router = APIRouter(prefix="/api/v1/contracts", tags=["deals"], responses=AUTH_RESPONSES)
routers = (intents_router, contracts_router)

PartyDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME))]
ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.PROGRAMME_OFFICE))]

# ------------------------------------------------------------------------------------------------ intent orders

INTENT_SORTS = sort_orders(
    IntentOrder.id,
    {"proposed_at": IntentOrder.proposed_at, "amount": IntentOrder.amount_fen},
    ("-proposed_at", "proposed_at", "-amount", "amount"),
)
IntentSort = Annotated[str, SortKey(INTENT_SORTS, "-proposed_at")]


class IntentQuery(PageParams):
    status: IntentStatus | None = Field(None, description="状态 / status")
    order_id: Id | None = Field(None, description="订单 / order id")
    offer_id: Id | None = Field(None, description="供给 / offer id")
    q: SearchText = Field(None, description="标题包含 / title contains")
    sort: IntentSort = Field("-proposed_at", description="排序 / sort order")


def _intent_public(row: deals.IntentRow, tz: Any) -> IntentOrderPublic:
    intent, buyer, supplier, contract_id = row
    return IntentOrderPublic.from_model(intent, buyer, supplier, contract_id, tz)


def _after_write(engine: Engine, principal: Principal, intent_id: int, tz: Any) -> IntentOrderPublic:
    """Read what a use case just committed in a new session: the request's session may hold an older snapshot
    (SQLite keeps the one its first read took until the transaction ends)."""
    with Session(engine) as session:
        return read_intent(session, principal, intent_id, tz)


def read_intent(session: Session, principal: Principal, intent_id: int, tz: Any) -> IntentOrderPublic:
    return _intent_public(deals.intent_order_for(session, principal.actor, intent_id), tz)


@intents_router.get("", response_model=Page[IntentOrderPublic], summary="意向订单列表 / List intent orders")
def list_intents(
    query: Annotated[IntentQuery, Query()], principal: ReaderDep, ctx: ContextDep
) -> Page[IntentOrderPublic]:
    """买卖双方看到各自参与的意向订单；管委会看到全部；银行与服务机构无权访问（403）。

    The parties list the intent orders they are party to; the programme office lists all; banks and service
    providers are refused (403).
    """
    filters = deals.IntentFilters(query.status, query.order_id, query.offer_id, query.q)
    rows, total = deals.intent_orders_page(
        ctx.session, principal.actor, filters, order_by=INTENT_SORTS[query.sort], limit=query.limit, offset=query.offset
    )
    return page_of([_intent_public(row, ctx.tz) for row in rows], total, query)


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
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """订单方或供给方均可提出，提出方即时签署。/ Either party proposes; the proposer signs at once."""

    def run() -> IntentOrderPublic:
        intent = marketplace.propose_intent_order(ctx.uow(), principal.actor, data)
        assert intent.id is not None
        return _after_write(ctx.engine, principal, intent.id, ctx.tz)

    return idempotent(request, principal, idempotency_key, data, run, clock=ctx.clock, status_code=201)


@intents_router.get("/{intent_id}", response_model=IntentOrderPublic, summary="意向订单详情 / Intent order")
def get_intent(intent_id: PathId, principal: ReaderDep, ctx: ContextDep) -> IntentOrderPublic:
    return read_intent(ctx.session, principal, intent_id, ctx.tz)


@intents_router.post(
    "/{intent_id}/sign",
    response_model=IntentOrderPublic,
    summary="签署意向订单（双方签署后生成合同）/ Sign (both signatures make a contract)",
)
def sign_intent(
    request: Request, intent_id: PathId, principal: PartyDep, ctx: ContextDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """另一方签署后意向订单生效，生成合同，订单标记为已授予。

    The other party's signature makes the intent order binding: a contract is created and the order is awarded.
    """

    def run() -> IntentOrderPublic:
        marketplace.sign_intent_order(ctx.uow(), principal.actor, intent_id)
        return _after_write(ctx.engine, principal, intent_id, ctx.tz)

    return idempotent(request, principal, idempotency_key, None, run, clock=ctx.clock)


@intents_router.post(
    "/{intent_id}/cancel", response_model=IntentOrderPublic, summary="撤销意向订单 / Cancel an intent order"
)
def cancel_intent(intent_id: PathId, principal: PartyDep, ctx: ContextDep) -> IntentOrderPublic:
    """仅限未生效（未双方签署）的意向订单；幂等。/ Only before both have signed; idempotent."""
    marketplace.cancel_intent_order(ctx.uow(), principal.actor, intent_id)
    return _after_write(ctx.engine, principal, intent_id, ctx.tz)


# ------------------------------------------------------------------------------------------------ contracts

CONTRACT_SORTS = sort_orders(
    Contract.id,
    {"signed_at": Contract.signed_at, "amount": Contract.amount_fen, "delivery_due": Contract.delivery_due},
    ("-signed_at", "signed_at", "-amount", "amount", "delivery_due"),
)
ContractSort = Annotated[str, SortKey(CONTRACT_SORTS, "-signed_at")]


class ContractQuery(PageParams):
    status: ContractStatus | None = Field(None, description="状态 / status")
    buyer_id: Id | None = Field(None, description="采购方 / buyer organisation id")
    supplier_id: Id | None = Field(None, description="供应方 / supplier organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains")
    sort: ContractSort = Field("-signed_at", description="排序 / sort order")


@contracts_router.get("", response_model=Page[ContractPublic], summary="合同列表 / List contracts")
def list_contracts(
    query: Annotated[ContractQuery, Query()], principal: ReaderDep, ctx: ContextDep
) -> Page[ContractPublic]:
    """买卖双方看到各自的合同；管委会看到全部；银行与服务机构无权访问（403）。

    The parties list their contracts; the programme office lists all; banks and service providers are refused.
    """
    filters = deals.ContractFilters(query.status, query.buyer_id, query.supplier_id, query.q)
    rows, total = deals.contracts_page(
        ctx.session,
        principal.actor,
        filters,
        order_by=CONTRACT_SORTS[query.sort],
        limit=query.limit,
        offset=query.offset,
    )
    return page_of([ContractPublic.from_model(*row, ctx.tz) for row in rows], total, query)


@contracts_router.get("/{contract_id}", response_model=ContractPublic, summary="合同详情 / Contract")
def get_contract(contract_id: PathId, principal: ReaderDep, ctx: ContextDep) -> ContractPublic:
    return ContractPublic.from_model(*deals.contract_for(ctx.session, principal.actor, contract_id), ctx.tz)
