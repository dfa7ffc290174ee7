"""Organisations (large firms, SMEs, service providers, banks) and their qualifications.

A directory: any logged-in user of any kind may read it (401 without a bearer token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy import or_
from sqlmodel import col, select

from api.auth import PrincipalDep
from api.deps import ClockDep, PageParams, SessionDep, SettingsDep
from api.params import SearchText
from api.routes.lists import PathId, list_page
from api.schemas import AUTH_RESPONSES, OrganisationDetail, OrganisationPublic, Page
from qianfan.errors import NotFound
from qianfan.models import Organisation, OrgKind, Qualification
from qianfan.validation import ClusterCode, District

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"], responses=AUTH_RESPONSES)


class OrganisationQuery(PageParams):
    kind: OrgKind | None = Field(None, description="机构类型 / organisation kind")
    district: District | None = Field(None, description="所在分园 / branch park", examples=["海淀园"])
    cluster: ClusterCode | None = Field(None, description="产业集群代码 / industry cluster code", examples=["ict"])
    q: SearchText = Field(None, description="名称包含 / name contains", examples=["科技"])


def _conditions(query: OrganisationQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.kind is not None:
        conditions.append(col(Organisation.kind) == query.kind)
    if query.district is not None:
        conditions.append(col(Organisation.district) == query.district)
    if query.cluster is not None:
        conditions.append(col(Organisation.cluster) == query.cluster)
    if query.q is not None:
        conditions.append(
            or_(
                col(Organisation.name).icontains(query.q, autoescape=True),
                col(Organisation.name_en).icontains(query.q, autoescape=True),
            )
        )
    return conditions


@router.get("", response_model=Page[OrganisationPublic], summary="机构列表 / List organisations")
def list_organisations(
    query: Annotated[OrganisationQuery, Query()], principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> Page[OrganisationPublic]:
    return list_page(
        session,
        Organisation,
        query,
        lambda row: OrganisationPublic.from_model(row, settings.tz),
        conditions=_conditions(query),
        order_by=[col(Organisation.id)],
    )


@router.get(
    "/{organisation_id}",
    response_model=OrganisationDetail,
    summary="机构详情（含资质）/ Organisation with its qualifications",
)
def get_organisation(
    organisation_id: PathId,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> OrganisationDetail:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.of("机构", "Organisation", organisation_id)
    qualifications = session.exec(
        select(Qualification)
        .where(col(Qualification.organisation_id) == organisation_id)
        .order_by(col(Qualification.code))
    ).all()
    today = clock.now().astimezone(settings.tz).date()
    return OrganisationDetail.from_rows(organisation, list(qualifications), settings.tz, today)
