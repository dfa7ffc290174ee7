"""SMEs' offers (products, technologies, services): read, list, edit, withdraw, ranked orders, interest.

Who sees what: an SME sees only its own offers (any status); large firms see every active offer; the programme
office sees every offer of any status; service providers and banks are refused (403).  Another organisation's
offer id answers 404, as does a withdrawn offer for a large firm.  Writes and the offer's ranked orders are for the
owning SME.  What each kind reads is decided in :func:`market.access.offers_visible_to`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field
from sqlmodel import Session

from accounts.queries import organisation_name
from api.auth import Principal, SmeDep, require_kind
from api.deps import PageParams
from api.params import CategoryFilter, Id, SearchText, SortKey, not_below, sort_orders
from api.routes.context import ContextDep
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
from market.schemas import InterestInput, InterestPublic, OfferPublic, OrderPublic, RankedPublic
from market.service import OfferChanges, OfferInput
from matcher import service as matching
from qianfan.models import Offer, OfferKind, OfferStatus, OrgKind
from qianfan.money import yuan_to_fen
from qianfan.schema_types import YuanIn
from qianfan.validation import District

router = APIRouter(prefix="/api/v1/offers", tags=["offers"], responses=AUTH_RESPONSES)

READERS = (OrgKind.SME, OrgKind.LARGE_FIRM, OrgKind.PROGRAMME_OFFICE)
ReaderDep = Annotated[Principal, Depends(require_kind(*READERS))]

OFFER_SORTS = sort_orders(
    Offer.id,
    {
        "created_at": Offer.created_at,
        "price_min": Offer.price_min_fen,
        "price_max": Offer.price_max_fen,
        "capacity": Offer.capacity,
    },
    ("-created_at", "created_at", "price_min", "-price_min", "price_max", "-price_max", "-capacity"),
)
DEFAULT_SORT = "-created_at"
OfferSort = Annotated[str, SortKey(OFFER_SORTS, DEFAULT_SORT)]

#: How this API names an offer in a "not found" message.
OFFER_NAME = ("供给", "Offer")

OFFER_EXAMPLE = {
    "kind": "service",
    "title": "中央空调AI节能控制系统",
    "description": "基于负荷预测的冷站群控，节能率15%–30%。",
    "category": "green.hvac",
    "price_min": "500000.00",
    "price_max": "15000000.00",
    "capacity": 12,
    "qualifications": ["hnte"],
    "keywords": ["中央空调", "合同能源管理"],
}


class OfferQuery(PageParams):
    kind: OfferKind | None = Field(None, description="供给类型 / offer kind")
    status: OfferStatus | None = Field(
        None, description="状态，默认仅显示上架中 / status; by default only active offers are listed"
    )
    category: CategoryFilter | None = None
    district: District | None = Field(
        None, description="提供方所在分园 / the seller's branch park", examples=["海淀园"]
    )
    organisation_id: Id | None = Field(None, description="提供方 / seller organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["空调"])
    min_price: YuanIn | None = Field(
        None, description="价格区间上限不低于此值（元）/ offers whose price_max ≥ this (yuan)"
    )
    max_price: YuanIn | None = Field(
        None, description="价格区间下限不高于此值（元）/ offers whose price_min ≤ this (yuan)"
    )
    sort: OfferSort = Field(DEFAULT_SORT, description="排序 / sort order")

    _range = not_below("max_price", "min_price", "最高价格", "最低价格")


def _filters(query: OfferQuery) -> queries.OfferFilters:
    return filters_from(
        query,
        queries.OfferFilters,
        status=query.status or OfferStatus.ACTIVE,
        title_contains=query.q,
        min_price_fen=None if query.min_price is None else yuan_to_fen(query.min_price),
        max_price_fen=None if query.max_price is None else yuan_to_fen(query.max_price),
    )


def _public(session: Session, offer: Offer, tz: Any) -> OfferPublic:
    return OfferPublic.from_model(offer, organisation_name(session, offer.organisation_id), tz)


@router.get("", response_model=Page[OfferPublic], summary="供给列表 / List offers")
def list_offers(query: Annotated[OfferQuery, Query()], principal: ReaderDep, ctx: ContextDep) -> Page[OfferPublic]:
    """中小企业只能看到本企业的供给；大企业看到全部上架中的供给；管委会看到全部。

    An SME lists only its own offers; large firms list every active offer; the programme office lists all.
    """
    rows, total = queries.offers_page(
        ctx.session,
        principal.actor,
        _filters(query),
        order_by=OFFER_SORTS[query.sort],
        limit=query.limit,
        offset=query.offset,
    )
    return page_of([OfferPublic.from_model(offer, name, ctx.tz) for offer, name in rows], total, query)


@router.post("", response_model=OfferPublic, status_code=201, summary="发布供给 / List an offer")
def list_offer(
    data: Annotated[OfferInput, Body(openapi_examples={"service": {"value": OFFER_EXAMPLE}})],
    principal: SmeDep,
    ctx: ContextDep,
) -> OfferPublic:
    """仅限中小企业；所列资质须为本企业持有且在有效期内。/ SMEs only; claimed qualifications must be held and valid."""
    offer = marketplace.list_offer(ctx.uow(), principal.actor, data)
    return _public(ctx.session, offer, ctx.tz)


@router.get("/{offer_id}", response_model=OfferPublic, summary="供给详情 / Offer")
def get_offer(offer_id: PathId, principal: ReaderDep, ctx: ContextDep) -> OfferPublic:
    offer, name = queries.offer_and_seller_for(ctx.session, principal.actor, offer_id, what=OFFER_NAME)
    return OfferPublic.from_model(offer, name, ctx.tz)


@router.patch("/{offer_id}", response_model=OfferPublic, summary="修改供给 / Edit an offer")
def edit_offer(
    offer_id: PathId,
    changes: Annotated[
        OfferChanges, Body(openapi_examples={"price": {"value": {"price_min": "450000.00", "capacity": 15}}})
    ],
    principal: SmeDep,
    ctx: ContextDep,
    if_match: IfMatch = None,
) -> OfferPublic:
    """只改提交的字段；仅限上架中的本企业供给。带 `If-Match: "版本号"` 时，版本不符返回 409。

    Changes only the fields sent, on an active offer of the caller's own.  With `If-Match: "<version>"` a stale
    version answers 409.
    """
    offer = marketplace.edit_offer(ctx.uow(), principal.actor, offer_id, changes, expected_version(if_match))
    return _public(ctx.session, offer, ctx.tz)


@router.post("/{offer_id}/withdraw", response_model=OfferPublic, summary="下架供给 / Withdraw an offer")
def withdraw_offer(offer_id: PathId, principal: SmeDep, ctx: ContextDep) -> OfferPublic:
    """幂等。/ Idempotent."""
    offer = marketplace.withdraw_offer(ctx.uow(), principal.actor, offer_id)
    return _public(ctx.session, offer, ctx.tz)


@router.get(
    "/{offer_id}/matches",
    response_model=Page[RankedPublic[OrderPublic]],
    summary="供给的匹配订单（含理由）/ Open orders ranked for an offer, with explanations",
)
def offer_matches(
    offer_id: PathId,
    query: Annotated[QualifiedRankQuery, Query()],
    principal: SmeDep,
    ctx: ContextDep,
    store: OfferIndexDep,
) -> Page[RankedPublic[OrderPublic]]:
    """开放中的订单按匹配度排序，要求本企业未持有资质的订单不显示；仅供给所属中小企业可查看。
    筛选：`category`、`district`（订单所在分园）、`qualification`（订单要求）、`min_score`。

    Open orders ranked for the offer (orders requiring a qualification the SME lacks are hidden); for the owning
    SME only.  Filters: `category`, `district` (the order's), `qualification` (required by the order),
    `min_score`.
    """
    filters = query.filters(qualifications=query.qualification)

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_orders_for_offer(
            ctx.engine,
            ctx.clock,
            offer_id,
            filters=filters,
            offset=offset,
            limit=limit,
            actor=principal.actor,
            store=store,
        )

    items, total, first = ranked(rank, query)
    rows = queries.orders_with_buyers(ctx.session, principal.actor, [item.id for item in items])
    orders = {i: OrderPublic.from_model(order, name, ctx.tz) for i, (order, name) in rows.items()}
    return ranked_page(items, total, first, query, orders, lambda order: order)


@router.post(
    "/{offer_id}/interest",
    response_model=InterestPublic,
    summary="以此供给响应订单 / Express interest in an order with this offer",
)
def express_interest(offer_id: PathId, data: InterestInput, principal: SmeDep, ctx: ContextDep) -> InterestPublic:
    """幂等：重复提交返回同一条记录。/ Idempotent: sending it again returns the same record."""
    interest = marketplace.express_interest(ctx.uow(), principal.actor, data.order_id, offer_id, data.note)
    return InterestPublic.from_model(interest, ctx.tz, principal.organisation_id)


@router.get(
    "/{offer_id}/interests",
    response_model=list[InterestPublic],
    summary="此供给的意向、入围与淘汰记录 / Interest, shortlists and rule-outs on this offer",
)
def interests_on_offer(offer_id: PathId, principal: SmeDep, ctx: ContextDep) -> list[InterestPublic]:
    """本企业的意向及采购方的入围、淘汰决定，附采购方给供应商的留言；采购方的内部备注不予显示。

    The SME's own interest and the buyers' decisions on its offer, with each buyer's message to the supplier; a
    buyer's internal note is never shown (``note`` is null on its records)."""
    rows = marketplace.interests_on_offer(ctx.session, principal.actor, offer_id)
    return [InterestPublic.from_model(row, ctx.tz, principal.organisation_id) for row in rows]
