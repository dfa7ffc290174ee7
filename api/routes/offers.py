"""SMEs' offers (products, technologies, services)."""

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
from api.schemas import ERROR_RESPONSES, OfferPublic, Page
from qianfan import taxonomy
from qianfan.errors import NotFound
from qianfan.models import Offer, OfferKind, OfferStatus, Organisation
from qianfan.money import yuan_to_fen
from qianfan.validation import District, Yuan, bilingual

router = APIRouter(prefix="/api/v1/offers", tags=["offers"], responses=ERROR_RESPONSES)

OFFER_SORTS: dict[str, tuple[Any, ...]] = {
    "-created_at": (col(Offer.created_at).desc(), col(Offer.id).desc()),
    "created_at": (col(Offer.created_at).asc(), col(Offer.id).asc()),
    "price_min": (col(Offer.price_min_fen).asc(), col(Offer.id).asc()),
    "-price_min": (col(Offer.price_min_fen).desc(), col(Offer.id).desc()),
    "price_max": (col(Offer.price_max_fen).asc(), col(Offer.id).asc()),
    "-price_max": (col(Offer.price_max_fen).desc(), col(Offer.id).desc()),
    "-capacity": (col(Offer.capacity).desc(), col(Offer.id).desc()),
}
DEFAULT_SORT = "-created_at"
_SORT_KEYS = tuple(OFFER_SORTS)

OfferSort = Annotated[str, BeforeValidator(sort_choice(_SORT_KEYS)), sort_schema(_SORT_KEYS, DEFAULT_SORT)]
PriceYuan = Annotated[Yuan, YuanSchema]


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
    min_price: PriceYuan | None = Field(
        None, description="价格区间上限不低于此值（元）/ offers whose price_max ≥ this (yuan)"
    )
    max_price: PriceYuan | None = Field(
        None, description="价格区间下限不高于此值（元）/ offers whose price_min ≤ this (yuan)"
    )
    sort: OfferSort = Field(DEFAULT_SORT, description="排序 / sort order")

    @field_validator("max_price")
    @classmethod
    def _range(cls, value: Any, info: ValidationInfo) -> Any:
        low = info.data.get("min_price")
        if value is not None and low is not None and value < low:
            raise bilingual(
                "invalid_range",
                f"最高价格（{value}）不能低于最低价格（{low}）",
                f"max_price ({value}) must not be below min_price ({low})",
            )
        return value


def _conditions(query: OfferQuery) -> list[Any]:
    conditions: list[Any] = [col(Offer.status) == (query.status or OfferStatus.ACTIVE)]
    if query.kind is not None:
        conditions.append(col(Offer.kind) == query.kind)
    if query.category is not None:
        if query.category in taxonomy.CLUSTER_BY_CODE:
            conditions.append(col(Offer.category).startswith(f"{query.category}.", autoescape=True))
        else:
            conditions.append(col(Offer.category) == query.category)
    if query.district is not None:
        conditions.append(col(Organisation.district) == query.district)
    if query.organisation_id is not None:
        conditions.append(col(Offer.organisation_id) == query.organisation_id)
    if query.q is not None:
        conditions.append(col(Offer.title).icontains(query.q, autoescape=True))
    if query.min_price is not None:
        conditions.append(col(Offer.price_max_fen) >= yuan_to_fen(query.min_price))
    if query.max_price is not None:
        conditions.append(col(Offer.price_min_fen) <= yuan_to_fen(query.max_price))
    return conditions


_JOIN_SELLER = (Organisation, col(Organisation.id) == col(Offer.organisation_id))


@router.get("", response_model=Page[OfferPublic], summary="供给列表 / List offers")
def list_offers(query: Annotated[OfferQuery, Query()], session: SessionDep, settings: SettingsDep) -> Page[OfferPublic]:
    conditions = _conditions(query)
    total = session.exec(select(func.count()).select_from(Offer).join(*_JOIN_SELLER).where(*conditions)).one()
    rows = session.exec(
        select(Offer, Organisation.name)
        .join(*_JOIN_SELLER)
        .where(*conditions)
        .order_by(*OFFER_SORTS[query.sort])
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    return Page[OfferPublic](
        items=[OfferPublic.from_model(offer, name, settings.tz) for offer, name in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/{offer_id}", response_model=OfferPublic, summary="供给详情 / Offer")
def get_offer(
    offer_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, settings: SettingsDep
) -> OfferPublic:
    row = session.exec(select(Offer, Organisation.name).join(*_JOIN_SELLER).where(col(Offer.id) == offer_id)).first()
    if row is None:
        raise NotFound.of("供给", "Offer", offer_id)
    offer, name = row
    return OfferPublic.from_model(offer, name, settings.tz)
