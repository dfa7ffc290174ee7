"""Organisations (large firms, SMEs, service providers, banks) and their qualifications.

A directory: any logged-in user of any kind may read it (401 without a bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from accounts.queries import OrganisationFilters, organisation_with_qualifications, organisations_page
from accounts.schemas import OrganisationDetail, OrganisationPublic
from api.auth import PrincipalDep
from api.deps import PageParams
from api.params import SearchText
from api.routes.context import ContextDep
from api.routes.lists import PathId, page_of
from api.schemas import AUTH_RESPONSES, Page
from qianfan.models import OrgKind
from qianfan.validation import ClusterCode, District

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"], responses=AUTH_RESPONSES)


class OrganisationQuery(PageParams):
    kind: OrgKind | None = Field(None, description="机构类型 / organisation kind")
    district: District | None = Field(None, description="所在分园 / branch park", examples=["海淀园"])
    cluster: ClusterCode | None = Field(None, description="产业集群代码 / industry cluster code", examples=["ict"])
    q: SearchText = Field(None, description="名称包含 / name contains", examples=["科技"])


@router.get("", response_model=Page[OrganisationPublic], summary="机构列表 / List organisations")
def list_organisations(
    query: Annotated[OrganisationQuery, Query()], principal: PrincipalDep, ctx: ContextDep
) -> Page[OrganisationPublic]:
    filters = OrganisationFilters(
        kind=query.kind, district=query.district, cluster=query.cluster, name_contains=query.q
    )
    rows, total = organisations_page(ctx.session, filters, limit=query.limit, offset=query.offset)
    return page_of([OrganisationPublic.from_model(row, ctx.tz) for row in rows], total, query)


@router.get(
    "/{organisation_id}",
    response_model=OrganisationDetail,
    summary="机构详情（含资质）/ Organisation with its qualifications",
)
def get_organisation(organisation_id: PathId, principal: PrincipalDep, ctx: ContextDep) -> OrganisationDetail:
    organisation, qualifications = organisation_with_qualifications(ctx.session, organisation_id)
    today = ctx.now().astimezone(ctx.tz).date()
    return OrganisationDetail.from_rows(organisation, qualifications, ctx.tz, today)
