"""Large firms' orders (采购订单 / 投资需求 / 并购需求): read, post, edit, close, ranked matches, shortlist / reject.

Who sees what: a large firm sees only its own orders (another firm's order id answers 404, as if it did not
exist); SMEs, service providers and the programme office see every order; banks are refused (403).  Writes are for
the owning large firm.  The ranked matches of an order are for its owner and the programme office.  What each kind
reads is decided in :func:`market.access.orders_visible_to`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field
from sqlmodel import Session

from accounts.queries import organisation_name
from api.auth import LargeFirmDep, Principal, require_kind
from api.deps import PageParams
from api.params import CategoryFilter, Id, SearchText, SortKey, not_below, sort_orders
from api.routes.context import Context, ContextDep
from api.routes.lists import (
    IfMatch,
    OfferIndexDep,
    PathId,
    QualifiedRankQuery,
    expected_version,
    filters_from,
    page_of,
    ranked,
    ranked_page,
)
from api.schemas import AUTH_RESPONSES, Page
from market import queries
from market import service as marketplace
from market.schemas import DecisionInput, InterestPublic, OfferPublic, OrderPublic, RankedPublic
from market.service import OrderChanges, OrderInput
from matcher import service as matching
from qianfan.models import Order, OrderKind, OrderStatus, OrgKind
from qianfan.money import yuan_to_fen
from qianfan.schema_types import YuanIn
from qianfan.validation import District

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=AUTH_RESPONSES)

#: Who may read orders at all (banks may not).
READERS = (OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.SERVICE_PROVIDER, OrgKind.PROGRAMME_OFFICE)
ReaderDep = Annotated[Principal, Depends(require_kind(*READERS))]
MatchReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.PROGRAMME_OFFICE))]

ORDER_SORTS = sort_orders(
    Order.id,
    {"created_at": Order.created_at, "budget": Order.budget_fen, "deadline": Order.deadline},
    ("-created_at", "created_at", "budget", "-budget", "deadline", "-deadline"),
)
DEFAULT_SORT = "-created_at"
OrderSort = Annotated[str, SortKey(ORDER_SORTS, DEFAULT_SORT)]

ORDER_EXAMPLE = {
    "kind": "procurement",
    "title": "园区楼宇中央空调节能改造",
    "description": "对12栋办公楼的中央空调系统进行节能改造，采用合同能源管理模式。",
    "category": "green.hvac",
    "budget": "12500000.00",
    "district": "海淀园",
    "deadline": "2026-12-31",
    "required_qualifications": ["hnte", "emc"],
}


class OrderQuery(PageParams):
    kind: OrderKind | None = Field(None, description="订单类型 / order kind")
    status: OrderStatus | None = Field(None, description="状态 / status")
    category: CategoryFilter | None = None
    district: District | None = Field(None, description="所在分园 / branch park", examples=["海淀园"])
    organisation_id: Id | None = Field(None, description="发布企业 / buyer organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["节能"])
    min_budget: YuanIn | None = Field(None, description="最低预算（元）/ minimum budget (yuan)")
    max_budget: YuanIn | None = Field(None, description="最高预算（元）/ maximum budget (yuan)")
    sort: OrderSort = Field(DEFAULT_SORT, description="排序 / sort order")

    _range = not_below("max_budget", "min_budget", "最高预算", "最低预算")


def _filters(query: OrderQuery) -> queries.OrderFilters:
    return filters_from(
        query,
        queries.OrderFilters,
        title_contains=query.q,
        min_budget_fen=None if query.min_budget is None else yuan_to_fen(query.min_budget),
        max_budget_fen=None if query.max_budget is None else yuan_to_fen(query.max_budget),
    )


def read_order(session: Session, principal: Principal, order_id: int, settings_tz: Any) -> OrderPublic:
    """One order as *principal* may see it (404 for a missing order and for one outside its scope alike)."""
    order, name = queries.order_and_buyer_for(session, principal.actor, order_id)
    return OrderPublic.from_model(order, name, settings_tz)


def _public(session: Session, order: Order, tz: Any) -> OrderPublic:
    return OrderPublic.from_model(order, organisation_name(session, order.organisation_id), tz)


@router.get("", response_model=Page[OrderPublic], summary="订单列表 / List orders")
def list_orders(query: Annotated[OrderQuery, Query()], principal: ReaderDep, ctx: ContextDep) -> Page[OrderPublic]:
    """大企业只能看到本企业的订单；中小企业、服务机构和管委会可看到全部订单。

    A large firm lists only its own orders; SMEs, service providers and the programme office list all of them.
    """
    rows, total = queries.orders_page(
        ctx.session,
        principal.actor,
        _filters(query),
        order_by=ORDER_SORTS[query.sort],
        limit=query.limit,
        offset=query.offset,
    )
    return page_of([OrderPublic.from_model(order, name, ctx.tz) for order, name in rows], total, query)


@router.post("", response_model=OrderPublic, status_code=201, summary="发布订单 / Post an order")
def post_order(
    data: Annotated[OrderInput, Body(openapi_examples={"procurement": {"value": ORDER_EXAMPLE}})],
    principal: LargeFirmDep,
    ctx: ContextDep,
) -> OrderPublic:
    """仅限大企业。/ Large firms only."""
    order = marketplace.post_order(ctx.uow(), principal.actor, data)
    return _public(ctx.session, order, ctx.tz)


@router.get("/{order_id}", response_model=OrderPublic, summary="订单详情 / Order")
def get_order(order_id: PathId, principal: ReaderDep, ctx: ContextDep) -> OrderPublic:
    return read_order(ctx.session, principal, order_id, ctx.tz)


@router.patch("/{order_id}", response_model=OrderPublic, summary="修改订单 / Edit an order")
def edit_order(
    order_id: PathId,
    changes: Annotated[
        OrderChanges, Body(openapi_examples={"budget": {"value": {"budget": "13000000.00", "deadline": "2027-01-15"}}})
    ],
    principal: LargeFirmDep,
    ctx: ContextDep,
    if_match: IfMatch = None,
) -> OrderPublic:
    """只改提交的字段；仅限开放中的本企业订单。带 `If-Match: "版本号"` 时，版本不符返回 409。

    Changes only the fields sent, on an open order of the caller's own.  With `If-Match: "<version>"` a stale
    version answers 409.
    """
    order = marketplace.edit_order(ctx.uow(), principal.actor, order_id, changes, expected_version(if_match))
    return _public(ctx.session, order, ctx.tz)


@router.post("/{order_id}/close", response_model=OrderPublic, summary="关闭订单 / Close an order")
def close_order(order_id: PathId, principal: LargeFirmDep, ctx: ContextDep) -> OrderPublic:
    """幂等：关闭已关闭的订单不改变任何内容。/ Idempotent: closing a closed order changes nothing."""
    order = marketplace.close_order(ctx.uow(), principal.actor, order_id)
    return _public(ctx.session, order, ctx.tz)


@router.get(
    "/{order_id}/matches",
    response_model=Page[RankedPublic[OfferPublic]],
    summary="订单的匹配供给（含理由）/ Offers ranked for an order, with explanations",
)
def order_matches(
    order_id: PathId,
    query: Annotated[QualifiedRankQuery, Query()],
    principal: MatchReaderDep,
    ctx: ContextDep,
    store: OfferIndexDep,
) -> Page[RankedPublic[OfferPublic]]:
    """上架中的中小企业供给按匹配度排序，附每项得分构成与共同关键词；仅订单所属大企业与管委会可查看。
    筛选：`category`、`district`（供方所在分园）、`qualification`（供方须持有）、`min_score`。

    Active SME offers ranked for the order, each with its score breakdown and shared terms; for the order's owner
    and the programme office.  Filters: `category`, `district` (the seller's), `qualification` (held by the
    seller), `min_score`.
    """
    actor = principal.actor if principal.is_(OrgKind.LARGE_FIRM) else None
    filters = query.filters(qualifications=query.qualification)

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_offers_for_order(
            ctx.engine, ctx.clock, order_id, filters=filters, offset=offset, limit=limit, actor=actor, store=store
        )

    items, total, first = ranked(rank, query)
    rows = queries.offers_with_sellers(ctx.session, principal.actor, [item.id for item in items])
    offers = {i: OfferPublic.from_model(offer, name, ctx.tz) for i, (offer, name) in rows.items()}
    return ranked_page(items, total, first, query, offers, lambda offer: offer)


def _decision(kind: str, order_id: int, data: DecisionInput, principal: Principal, ctx: Context) -> InterestPublic:
    decide = marketplace.shortlist if kind == "shortlist" else marketplace.reject_offer
    interest = decide(ctx.uow(), principal.actor, order_id, data.offer_id, data.note, data.message_to_supplier)
    return InterestPublic.from_model(interest, ctx.tz, principal.organisation_id)


@router.post(
    "/{order_id}/shortlist", response_model=InterestPublic, summary="供给入围 / Shortlist an offer for the order"
)
def shortlist(order_id: PathId, data: DecisionInput, principal: LargeFirmDep, ctx: ContextDep) -> InterestPublic:
    """幂等；取代此前对同一供给的淘汰。/ Idempotent; replaces an earlier rejection of the same offer."""
    return _decision("shortlist", order_id, data, principal, ctx)


@router.post("/{order_id}/reject", response_model=InterestPublic, summary="淘汰供给 / Reject an offer for the order")
def reject(order_id: PathId, data: DecisionInput, principal: LargeFirmDep, ctx: ContextDep) -> InterestPublic:
    """幂等；取代此前对同一供给的入围。/ Idempotent; replaces an earlier shortlisting of the same offer."""
    return _decision("reject", order_id, data, principal, ctx)
