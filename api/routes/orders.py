"""Large firms' orders (采购订单 / 投资需求 / 并购需求)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from sqlalchemy import func
from sqlmodel import col, select

from api.deps import PageParams, SessionDep, SettingsDep
from api.params import (
    MAX_ID,
    CategoryFilter,
    Id,
    SearchText,
    YuanSchema,
    sort_choice,
    sort_schema,
)
from api.schemas import ERROR_RESPONSES, OrderPublic, Page
from qianfan import taxonomy
from qianfan.errors import NotFound
from qianfan.models import Order, OrderKind, OrderStatus, Organisation
from qianfan.money import yuan_to_fen
from qianfan.validation import District, Yuan, bilingual

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=ERROR_RESPONSES)

ORDER_SORTS: dict[str, tuple[Any, ...]] = {
    "-created_at": (col(Order.created_at).desc(), col(Order.id).desc()),
    "created_at": (col(Order.created_at).asc(), col(Order.id).asc()),
    "budget": (col(Order.budget_fen).asc(), col(Order.id).asc()),
    "-budget": (col(Order.budget_fen).desc(), col(Order.id).desc()),
    "deadline": (col(Order.deadline).asc(), col(Order.id).asc()),
    "-deadline": (col(Order.deadline).desc(), col(Order.id).desc()),
}
DEFAULT_SORT = "-created_at"
_SORT_KEYS = tuple(ORDER_SORTS)

OrderSort = Annotated[str, BeforeValidator(sort_choice(_SORT_KEYS)), sort_schema(_SORT_KEYS, DEFAULT_SORT)]
BudgetYuan = Annotated[Yuan, YuanSchema]


class OrderQuery(PageParams):
    kind: OrderKind | None = Field(None, description="订单类型 / order kind")
    status: OrderStatus | None = Field(None, description="状态 / status")
    category: CategoryFilter | None = None
    district: District | None = Field(None, description="所在分园 / branch park", examples=["海淀园"])
    organisation_id: Id | None = Field(None, description="发布企业 / buyer organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["节能"])
    min_budget: BudgetYuan | None = Field(None, description="最低预算（元）/ minimum budget (yuan)")
    max_budget: BudgetYuan | None = Field(None, description="最高预算（元）/ maximum budget (yuan)")
    sort: OrderSort = Field(DEFAULT_SORT, description="排序 / sort order")

    @field_validator("max_budget")
    @classmethod
    def _range(cls, value: Any, info: ValidationInfo) -> Any:
        low = info.data.get("min_budget")
        if value is not None and low is not None and value < low:
            raise bilingual(
                "invalid_range",
                f"最高预算（{value}）不能低于最低预算（{low}）",
                f"max_budget ({value}) must not be below min_budget ({low})",
            )
        return value


def _conditions(query: OrderQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.kind is not None:
        conditions.append(col(Order.kind) == query.kind)
    if query.status is not None:
        conditions.append(col(Order.status) == query.status)
    if query.category is not None:
        if query.category in taxonomy.CLUSTER_BY_CODE:
            conditions.append(col(Order.category).startswith(f"{query.category}.", autoescape=True))
        else:
            conditions.append(col(Order.category) == query.category)
    if query.district is not None:
        conditions.append(col(Order.district) == query.district)
    if query.organisation_id is not None:
        conditions.append(col(Order.organisation_id) == query.organisation_id)
    if query.q is not None:
        conditions.append(col(Order.title).icontains(query.q, autoescape=True))
    if query.min_budget is not None:
        conditions.append(col(Order.budget_fen) >= yuan_to_fen(query.min_budget))
    if query.max_budget is not None:
        conditions.append(col(Order.budget_fen) <= yuan_to_fen(query.max_budget))
    return conditions


@router.get("", response_model=Page[OrderPublic], summary="订单列表 / List orders")
def list_orders(query: Annotated[OrderQuery, Query()], session: SessionDep, settings: SettingsDep) -> Page[OrderPublic]:
    conditions = _conditions(query)
    total = session.exec(select(func.count()).select_from(Order).where(*conditions)).one()
    rows = session.exec(
        select(Order, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(Order.organisation_id))
        .where(*conditions)
        .order_by(*ORDER_SORTS[query.sort])
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    return Page[OrderPublic](
        items=[OrderPublic.from_model(order, name, settings.tz) for order, name in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/{order_id}", response_model=OrderPublic, summary="订单详情 / Order")
def get_order(
    order_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, settings: SettingsDep
) -> OrderPublic:
    row = session.exec(
        select(Order, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(Order.organisation_id))
        .where(col(Order.id) == order_id)
    ).first()
    if row is None:
        raise NotFound.of("订单", "Order", order_id)
    order, name = row
    return OrderPublic.from_model(order, name, settings.tz)
