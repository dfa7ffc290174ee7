"""Shared plumbing of the list and ranking routes: one page of rows (count + select + joins + sort + page), category
filters, the offer index, ranked pages (matches) with their explanations, and the ``If-Match`` version header.

Tenant scoping is not done here: each route passes the conditions that restrict the rows to what the caller may
see (the marketplace's in :mod:`market.access`, through :mod:`market.queries`), so the count and the page always
agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import MAX_OFFSET, ClockDep, EngineDep, PageParams, SettingsDep
from api.params import MAX_ID
from api.schemas import Page
from market.queries import category_conditions as category_conditions  # re-exported for the list routes
from market.schemas import RankedPublic, SharedTermPublic, score_string
from matcher.rank import Filters
from matcher.service import MAX_PAGE, MAX_RESULTS, OfferIndexStore, RankedItem, RankedPage, offer_index_store
from qianfan import paging
from qianfan.paging import Join
from qianfan.validation import CategoryCode, District, QualificationCode

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F")

#: A record id in a URL path (the field name in a 422 is the parameter's name).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def fetch_page(
    session: Session,
    entity: Any,
    query: PageParams,
    *,
    conditions: Sequence[Any] = (),
    order_by: Sequence[Any] = (),
    joins: Sequence[Join] = (),
    columns: Sequence[Any] = (),
) -> tuple[list[Any], int]:
    """One page of ``entity`` rows (with extra *columns*, e.g. joined names) and the total matching count
    (:func:`qianfan.paging.fetch_page` at the query's limit and offset)."""
    return paging.fetch_page(
        session,
        entity,
        limit=query.limit,
        offset=query.offset,
        conditions=conditions,
        order_by=order_by,
        joins=joins,
        columns=columns,
    )


def list_page(
    session: Session,
    entity: Any,
    query: PageParams,
    convert: Callable[[Any], T],
    *,
    conditions: Sequence[Any] = (),
    order_by: Sequence[Any] = (),
    joins: Sequence[Join] = (),
    columns: Sequence[Any] = (),
) -> Page[T]:
    """:func:`fetch_page` rendered as a :class:`Page`; *convert* maps one result to its public model: the entity
    itself without *columns*, else a row ``(entity, *columns)``."""
    rows, total = fetch_page(
        session, entity, query, conditions=conditions, order_by=order_by, joins=joins, columns=columns
    )
    return Page[Any](items=[convert(row) for row in rows], total=total, limit=query.limit, offset=query.offset)


def filters_from(query: BaseModel, filters: Callable[..., F], **more: Any) -> F:
    """The domain's filter dataclass *filters* from the query's fields of the same names, and *more* (renamed or
    converted ones: ``title_contains=query.q``, amounts in fen)."""
    names = {f.name for f in dataclasses.fields(filters)} - more.keys()  # type: ignore[arg-type]
    return filters(**{name: getattr(query, name) for name in names if name in type(query).model_fields}, **more)


def page_of(items: list[T], total: int, query: PageParams) -> Page[T]:
    """A :class:`Page` of *items* (already public models) at the query's limit and offset."""
    return Page[Any](items=items, total=total, limit=query.limit, offset=query.offset)


# ------------------------------------------------------------------------------------------------ rankings


def get_offer_index(engine: EngineDep, clock: ClockDep, settings: SettingsDep) -> OfferIndexStore:
    """The process's offer index (``<QIANFAN_VAR_DIR>/index/offers``); tests override this dependency."""
    return offer_index_store(engine, clock, settings.var_dir / "index" / "offers")


OfferIndexDep = Annotated[OfferIndexStore, Depends(get_offer_index)]


class RankQuery(PageParams):
    """Filters of a ranking; results are best first and at most 200 in all."""

    limit: int = Field(20, ge=1, le=MAX_PAGE, description="每页条数 / items per page (1–100)", examples=[20])
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数 / items to skip", examples=[0])
    category: list[CategoryCode] = Field(default_factory=list, description="类别（可多个）/ categories (repeatable)")
    district: list[District] = Field(default_factory=list, description="分园（可多个）/ branch parks (repeatable)")
    min_score: Decimal | None = Field(
        None, ge=0, le=100, decimal_places=4, description="最低得分 / minimum score", examples=["0.2"]
    )

    def filters(self, *, max_price_fen: int | None = None, qualifications: Sequence[str] = ()) -> Filters | None:
        if not (self.category or self.district or qualifications or max_price_fen is not None):
            return None
        return Filters(
            categories=tuple(self.category),
            districts=tuple(self.district),
            qualifications=tuple(qualifications),
            max_price_fen=max_price_fen,
        )


class QualifiedRankQuery(RankQuery):
    """A ranking of offers or orders, which can also be filtered by qualification."""

    qualification: list[QualificationCode] = Field(
        default_factory=list, description="资质（可多个）/ qualifications (repeatable)"
    )


def ranked(rank: Callable[[int, int], RankedPage], query: RankQuery) -> tuple[list[RankedItem], int, int]:
    """Call ``rank(offset, limit)`` for the page asked for; returns the items, the total and the first rank.

    With ``min_score`` the whole ranking (at most 200 results, two calls) is read and cut at that score, so the
    total counts only results that reach it.
    """
    if query.min_score is None:
        page = rank(query.offset, query.limit)
        return page.items, page.total, query.offset + 1
    everything: list[RankedItem] = []
    offset = 0
    while offset < MAX_RESULTS:
        page = rank(offset, MAX_PAGE)
        everything.extend(page.items)
        offset += MAX_PAGE
        if not page.has_more:
            break
    # Compared as shown (4 places), so a score read from a response is a floor that keeps that result.
    kept = [item for item in everything if Decimal(score_string(item.score)) >= query.min_score]
    return kept[query.offset : query.offset + query.limit], len(kept), query.offset + 1


def ranked_page(
    items: Iterable[RankedItem],
    total: int,
    first_rank: int,
    query: PageParams,
    rows: dict[int, R],
    convert: Callable[[R], T],
) -> Page[RankedPublic[T]]:
    """Ranked items with their explanations; each item's record (from *rows*, by id) rendered by *convert*.

    Items whose record is missing from *rows* (deleted between the ranking and the read) are left out.
    """
    out: list[RankedPublic[T]] = []
    for rank, item in enumerate(items, first_rank):
        row = rows.get(item.id)
        if row is None:
            continue
        out.append(
            RankedPublic[Any](
                rank=rank,
                score=score_string(item.score),
                contributions={name: score_string(value) for name, value in item.contributions.items()},
                shared_terms=[
                    SharedTermPublic(term=t, contribution=score_string(c)) for t, c in item.shared_terms[:10]
                ],
                why=item.why,
                folded=list(item.folded),
                item=convert(row),
            )
        )
    return Page[Any](items=out, total=total, limit=query.limit, offset=query.offset)


# ------------------------------------------------------------------------------------------------ writes

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(W/)?"?\d{1,9}"?$',
        description=(
            "可选：期望的版本号（见响应中的 version），不一致时返回 409 / optional: the expected version (the "
            "`version` of the record); a mismatch answers 409"
        ),
        examples=['"3"'],
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version number in an ``If-Match`` header (``3``, ``"3"`` or ``W/"3"``), or ``None``."""
    if if_match is None:
        return None
    return int(if_match.removeprefix("W/").strip('"'))
