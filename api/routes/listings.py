"""Service listings: service packages (服务包) and mentors (创业导师) from service providers, and SMEs' service needs.

Who sees what: any logged-in user reads the packages and mentors; service providers publish them.  A service need
is posted by an SME and read by that SME (only its own; another SME's need answers 404), by service providers and
by the programme office; large firms and banks are refused (403).  The packages and mentors ranked for a need are
for the SME that posted it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Field
from sqlmodel import Session

from api.auth import Principal, PrincipalDep, ProviderDep, SmeDep, require_kind
from api.deps import PageParams
from api.params import CategoryFilter, Id, SearchText, SortKey, sort_orders
from api.routes.context import ContextDep
from api.routes.lists import PathId, RankQuery, page_of, ranked, ranked_page
from api.schemas import AUTH_RESPONSES, Page
from market import queries_api as listings
from market import service as marketplace
from market.schemas import MentorPublic, RankedPublic, ServiceNeedPublic, ServicePackagePublic
from market.service import MentorInput, ServiceNeedInput, ServicePackageInput
from matcher import service as matching
from qianfan.models import ListingStatus, Mentor, NeedStatus, Organisation, OrgKind, ServiceNeed, ServicePackage
from qianfan.money import yuan_to_fen
from qianfan.schema_types import YuanIn

packages_router = APIRouter(prefix="/api/v1/service-packages", tags=["services"], responses=AUTH_RESPONSES)
mentors_router = APIRouter(prefix="/api/v1/mentors", tags=["services"], responses=AUTH_RESPONSES)
needs_router = APIRouter(prefix="/api/v1/service-needs", tags=["services"], responses=AUTH_RESPONSES)
routers = (packages_router, mentors_router, needs_router)

NeedReaderDep = Annotated[
    Principal, Depends(require_kind(OrgKind.SME, OrgKind.SERVICE_PROVIDER, OrgKind.PROGRAMME_OFFICE))
]


def _names(session: Session, organisation_id: int) -> str:
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    return organisation.name


# ------------------------------------------------------------------------------------------------ packages

PACKAGE_SORTS = sort_orders(
    ServicePackage.id,
    {"created_at": ServicePackage.created_at, "value": ServicePackage.value_fen},
    ("-created_at", "created_at", "value", "-value"),
)
PackageSort = Annotated[str, SortKey(PACKAGE_SORTS, "-created_at")]


class PackageQuery(PageParams):
    status: ListingStatus = Field(ListingStatus.ACTIVE, description="状态 / status (default active)")
    category: CategoryFilter | None = None
    organisation_id: Id | None = Field(None, description="服务机构 / provider organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["融资"])
    max_value: YuanIn | None = Field(None, description="最高价值（元）/ maximum value (yuan)")
    sort: PackageSort = Field("-created_at", description="排序 / sort order")


@packages_router.get("", response_model=Page[ServicePackagePublic], summary="服务包列表 / List service packages")
def list_packages(
    query: Annotated[PackageQuery, Query()], principal: PrincipalDep, ctx: ContextDep
) -> Page[ServicePackagePublic]:
    max_fen = None if query.max_value is None else yuan_to_fen(query.max_value)
    filters = listings.PackageFilters(query.status, query.category, query.organisation_id, query.q, max_fen)
    rows, total = listings.packages_page(
        ctx.session,
        principal.actor,
        filters,
        order_by=PACKAGE_SORTS[query.sort],
        limit=query.limit,
        offset=query.offset,
    )
    return page_of([ServicePackagePublic.from_model(*row, ctx.tz) for row in rows], total, query)


@packages_router.post(
    "", response_model=ServicePackagePublic, status_code=201, summary="发布服务包 / Publish a service package"
)
def publish_package(
    data: Annotated[
        ServicePackageInput,
        Body(
            openapi_examples={
                "incubation": {
                    "value": {
                        "title": "硬科技初创企业融资辅导服务包",
                        "description": "BP打磨、路演辅导与投资人对接。",
                        "category": "services.incubation",
                        "value": "50000.00",
                    }
                }
            }
        ),
    ],
    principal: ProviderDep,
    ctx: ContextDep,
) -> ServicePackagePublic:
    """仅限服务机构。/ Service providers only."""
    package = marketplace.publish_service_package(ctx.uow(), principal.actor, data)
    return ServicePackagePublic.from_model(package, _names(ctx.session, package.organisation_id), ctx.tz)


@packages_router.get("/{package_id}", response_model=ServicePackagePublic, summary="服务包详情 / Service package")
def get_package(package_id: PathId, principal: PrincipalDep, ctx: ContextDep) -> ServicePackagePublic:
    return ServicePackagePublic.from_model(*listings.package_for(ctx.session, principal.actor, package_id), ctx.tz)


# ------------------------------------------------------------------------------------------------ mentors

MENTOR_SORTS = sort_orders(
    Mentor.id, {"created_at": Mentor.created_at, "name": Mentor.name}, ("-created_at", "created_at", "name")
)
MentorSort = Annotated[str, SortKey(MENTOR_SORTS, "-created_at")]


class MentorQuery(PageParams):
    status: ListingStatus = Field(ListingStatus.ACTIVE, description="状态 / status (default active)")
    expertise: CategoryFilter | None = Field(
        None, description="擅长类别，或产业集群 / expertise category, or cluster", examples=["ict.iiot"]
    )
    organisation_id: Id | None = Field(None, description="服务机构 / provider organisation id")
    q: SearchText = Field(None, description="姓名或简介包含 / name or headline contains", examples=["创业"])
    sort: MentorSort = Field("-created_at", description="排序 / sort order")


@mentors_router.get("", response_model=Page[MentorPublic], summary="创业导师列表 / List mentors")
def list_mentors(
    query: Annotated[MentorQuery, Query()], principal: PrincipalDep, ctx: ContextDep
) -> Page[MentorPublic]:
    filters = listings.MentorFilters(query.status, query.expertise, query.organisation_id, query.q)
    rows, total = listings.mentors_page(
        ctx.session, principal.actor, filters, order_by=MENTOR_SORTS[query.sort], limit=query.limit, offset=query.offset
    )
    return page_of([MentorPublic.from_model(*row, ctx.tz) for row in rows], total, query)


@mentors_router.post("", response_model=MentorPublic, status_code=201, summary="发布创业导师 / Publish a mentor")
def publish_mentor(
    data: Annotated[
        MentorInput,
        Body(
            openapi_examples={
                "mentor": {
                    "value": {
                        "name": "王立新",
                        "headline": "连续创业者，专注工业互联网",
                        "bio": "曾创办两家工业软件企业。",
                        "expertise": ["ict.iiot", "services.incubation"],
                    }
                }
            }
        ),
    ],
    principal: ProviderDep,
    ctx: ContextDep,
) -> MentorPublic:
    """仅限服务机构。/ Service providers only."""
    mentor = marketplace.publish_mentor(ctx.uow(), principal.actor, data)
    return MentorPublic.from_model(mentor, _names(ctx.session, mentor.organisation_id), ctx.tz)


@mentors_router.get("/{mentor_id}", response_model=MentorPublic, summary="创业导师详情 / Mentor")
def get_mentor(mentor_id: PathId, principal: PrincipalDep, ctx: ContextDep) -> MentorPublic:
    return MentorPublic.from_model(*listings.mentor_for(ctx.session, principal.actor, mentor_id), ctx.tz)


# ------------------------------------------------------------------------------------------------ needs

NEED_SORTS = sort_orders(ServiceNeed.id, {"created_at": ServiceNeed.created_at}, ("-created_at", "created_at"))
NeedSort = Annotated[str, SortKey(NEED_SORTS, "-created_at")]


class NeedQuery(PageParams):
    status: NeedStatus | None = Field(None, description="状态 / status")
    category: CategoryFilter | None = None
    organisation_id: Id | None = Field(None, description="提出需求的企业 / SME organisation id")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["知识产权"])
    sort: NeedSort = Field("-created_at", description="排序 / sort order")


class PackageRankQuery(RankQuery):
    max_value: YuanIn | None = Field(None, description="服务包最高价值（元）/ maximum package value (yuan)")


@needs_router.get("", response_model=Page[ServiceNeedPublic], summary="服务需求列表 / List service needs")
def list_needs(
    query: Annotated[NeedQuery, Query()], principal: NeedReaderDep, ctx: ContextDep
) -> Page[ServiceNeedPublic]:
    """中小企业只能看到本企业的需求；服务机构与管委会可看到全部；大企业与银行无权访问。

    An SME lists only its own needs; service providers and the programme office list all; large firms and banks
    are refused.
    """
    filters = listings.NeedFilters(query.status, query.category, query.organisation_id, query.q)
    rows, total = listings.needs_page(
        ctx.session, principal.actor, filters, order_by=NEED_SORTS[query.sort], limit=query.limit, offset=query.offset
    )
    return page_of([ServiceNeedPublic.from_model(*row, ctx.tz) for row in rows], total, query)


@needs_router.post("", response_model=ServiceNeedPublic, status_code=201, summary="发布服务需求 / Post a service need")
def post_need(
    data: Annotated[
        ServiceNeedInput,
        Body(
            openapi_examples={
                "ip": {
                    "value": {
                        "title": "发明专利布局与申请代理",
                        "description": "围绕边缘计算网关布局5–8件发明专利。",
                        "category": "services.consulting",
                        "budget": "80000.00",
                    }
                }
            }
        ),
    ],
    principal: SmeDep,
    ctx: ContextDep,
) -> ServiceNeedPublic:
    """仅限中小企业。/ SMEs only."""
    need = marketplace.post_service_need(ctx.uow(), principal.actor, data)
    return ServiceNeedPublic.from_model(need, _names(ctx.session, need.organisation_id), ctx.tz)


@needs_router.get("/{need_id}", response_model=ServiceNeedPublic, summary="服务需求详情 / Service need")
def get_need(need_id: PathId, principal: NeedReaderDep, ctx: ContextDep) -> ServiceNeedPublic:
    return ServiceNeedPublic.from_model(*listings.need_for(ctx.session, principal.actor, need_id), ctx.tz)


@needs_router.get(
    "/{need_id}/packages",
    response_model=Page[RankedPublic[ServicePackagePublic]],
    summary="需求的匹配服务包 / Service packages ranked for a need",
)
def need_packages(
    need_id: PathId, query: Annotated[PackageRankQuery, Query()], principal: SmeDep, ctx: ContextDep
) -> Page[RankedPublic[ServicePackagePublic]]:
    """仅限发布该需求的中小企业。筛选：`category`、`district`（服务机构所在分园）、`max_value`、`min_score`。

    For the SME that posted the need.  Filters: `category`, `district` (the provider's), `max_value`, `min_score`.
    """
    max_fen = None if query.max_value is None else yuan_to_fen(query.max_value)
    filters = query.filters(max_price_fen=max_fen)

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_packages_for_need(
            ctx.engine, ctx.clock, need_id, filters=filters, offset=offset, limit=limit, actor=principal.actor
        )

    items, total, first = ranked(rank, query)
    found = listings.packages_with_providers(ctx.session, principal.actor, [item.id for item in items])
    packages = {i: ServicePackagePublic.from_model(p, name, ctx.tz) for i, (p, name) in found.items()}
    return ranked_page(items, total, first, query, packages, lambda package: package)


@needs_router.get(
    "/{need_id}/mentors",
    response_model=Page[RankedPublic[MentorPublic]],
    summary="需求的匹配创业导师 / Mentors ranked for a need",
)
def need_mentors(
    need_id: PathId, query: Annotated[RankQuery, Query()], principal: SmeDep, ctx: ContextDep
) -> Page[RankedPublic[MentorPublic]]:
    """仅限发布该需求的中小企业。筛选：`category`（导师擅长任一类别）、`district`、`min_score`。

    For the SME that posted the need.  Filters: `category` (any of the mentor's expertise), `district`,
    `min_score`.
    """
    filters = query.filters()

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_mentors_for_need(
            ctx.engine, ctx.clock, need_id, filters=filters, offset=offset, limit=limit, actor=principal.actor
        )

    items, total, first = ranked(rank, query)
    found = listings.mentors_with_providers(ctx.session, principal.actor, [item.id for item in items])
    mentors = {i: MentorPublic.from_model(m, name, ctx.tz) for i, (m, name) in found.items()}
    return ranked_page(items, total, first, query, mentors, lambda mentor: mentor)
