"""Finance applications (融资申请) and their 48-hour path — quote, apply, risk report, the bank's review queue and
decisions, the offer and its e-signature, disbursement, the timeline — and the banks' set-up (products, credit
lines) and the programme office's SME exposure limits.

Who sees an application: the applicant SME, the bank it is addressed to, and the programme office (read-only).
Another organisation's application is answered with 404; large firms and service providers get 403.  The automatic
risk check runs in the worker after submission; over HTTP its report is read.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.auth import BankDep, OfficeDep, Principal, SmeDep, require_kind
from api.deps import PageParams, Pagination
from api.idempotency import IdempotencyKey, RequiredIdempotencyKey, idempotent, use_case_key
from api.params import MAX_ID, Id, SortKey, sort_orders
from api.routes.context import ContextDep, apply_once
from api.routes.lists import page_of
from api.routes.loans import loan_public
from api.schemas import AUTH_RESPONSES, Page
from finance import service as fs
from finance.access import load_application_for
from finance.queries.applications import ApplicationFilter, application_count, application_list, review_queue_count
from finance.queries.products import credit_line_count, credit_line_list, product_count, product_list
from finance.schemas.applications import (
    ApplicationPublic,
    FinanceOfferPublic,
    InfoAnswerBody,
    InfoRequestBody,
    QueueItemPublic,
    QuotePublic,
    RejectBody,
    RiskReportPublic,
    SignaturePublic,
    SignBody,
    TimelinePublic,
)
from finance.schemas.inputs import ApplicationInput, ApprovalInput
from finance.schemas.loans import LoanPublic
from finance.schemas.products import CreditLinePublic, ExposureLimitPublic, LimitBody, ProductCreate, ProductPublic
from finance.service import common
from finance.service.review import QueueItem
from qianfan.config import Settings
from qianfan.errors import Conflict
from qianfan.models import ApplicationStatus, FinanceApplication, FinanceKind, OrgKind

router = APIRouter(prefix="/api/v1/finance", tags=["finance"], responses=AUTH_RESPONSES)

AppReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE))]
ProductReaderDep = Annotated[
    Principal,
    Depends(require_kind(OrgKind.SME, OrgKind.LARGE_FIRM, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE)),
]
LineReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.BANK, OrgKind.PROGRAMME_OFFICE))]
ApplicationId = Annotated[int, Path(ge=1, le=MAX_ID, description="融资申请编号 / application id")]
OrgId = Annotated[int, Path(ge=1, le=MAX_ID)]

SORTS = sort_orders(
    FinanceApplication.id,
    {
        "submitted_at": FinanceApplication.submitted_at,
        "deadline_at": FinanceApplication.deadline_at,
        "requested": FinanceApplication.requested_fen,
    },
    ("-submitted_at", "submitted_at", "deadline_at", "-deadline_at", "-requested", "requested"),
)
DEFAULT_SORT = "-submitted_at"
ApplicationSort = Annotated[str, SortKey(SORTS, DEFAULT_SORT)]


class ApplicationQuery(PageParams):
    status: ApplicationStatus | None = Field(None, description="状态 / status")
    kind: FinanceKind | None = Field(None, description="融资类型 / receivable, contract or credit_line")
    sla_status: str | None = Field(
        None, pattern=r"^(on_track|at_risk|breached)$", description="时效标记（按最近一次巡检）/ stored SLA flag"
    )
    bank_id: Id | None = None
    applicant_id: Id | None = None
    core_enterprise_id: Id | None = None
    submitted_from: date | None = Field(None, description="提交日期不早于（北京时间）/ submitted on or after (Beijing)")
    submitted_to: date | None = Field(None, description="提交日期不晚于（北京时间）/ submitted on or before (Beijing)")
    sort: ApplicationSort = Field(DEFAULT_SORT, description="排序 / sort order")


class ProductQuery(PageParams):
    bank_id: Id | None = Field(None, description="银行 / bank")


class QuoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_id: Id = Field(description="应收账款份额 / the receivable part")
    bank_id: Id = Field(description="银行 / the bank")
    product_id: Id | None = Field(None, description="融资产品（银行只有一个时可省略）/ product (optional if only one)")


# ---------------------------------------------------------------------------------------------- bodies


# ---------------------------------------------------------------------------------------------- helpers


def _public(app: FinanceApplication, settings: Settings, clock_now: datetime) -> ApplicationPublic:
    return ApplicationPublic.from_model(app, settings.tz, clock_now)


def _start_of(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time.min, tzinfo=settings.tz)


# ---------------------------------------------------------------------------------------------- applications: reads


@router.get(
    "/applications/quote",
    response_model=QuotePublic,
    summary="融资试算：可申请最高金额及约束限额（中小企业）/ Quote: the maximum and the binding limit (SME)",
)
def quote(query: Annotated[QuoteQuery, Query()], principal: SmeDep, ctx: ContextDep) -> QuotePublic:
    result = fs.quote(ctx.uow(), principal.actor, query.part_id, query.bank_id, query.product_id)
    return QuotePublic.of(result, part_id=query.part_id, bank_id=query.bank_id)


@router.get(
    "/applications",
    response_model=Page[ApplicationPublic],
    summary="融资申请列表 / List finance applications",
    description="中小企业：本企业的申请；银行：向本行提出的；管委会：全部。\n\n"
    "SME: its own; bank: those addressed to it; programme office: all.",
)
def list_applications(
    query: Annotated[ApplicationQuery, Query()], principal: AppReaderDep, ctx: ContextDep
) -> Page[ApplicationPublic]:
    filters = ApplicationFilter(
        status=query.status,
        kind=query.kind,
        sla_status=query.sla_status,
        bank_id=query.bank_id,
        applicant_id=query.applicant_id,
        core_enterprise_id=query.core_enterprise_id,
        submitted_from=None if query.submitted_from is None else _start_of(query.submitted_from, ctx.settings),
        submitted_before=(
            None if query.submitted_to is None else _start_of(query.submitted_to, ctx.settings) + timedelta(days=1)
        ),
    )
    actor = principal.actor
    total = application_count(ctx.session, actor, filters)
    rows = application_list(
        ctx.session, actor, filters, order_by=SORTS[query.sort], offset=query.offset, limit=query.limit
    )
    now = ctx.now()
    return page_of([_public(a, ctx.settings, now) for a in rows], total, query)


@router.get(
    "/applications/review-queue",
    response_model=Page[QueueItemPublic],
    summary="银行审核队列（按48小时时限排序）/ The bank's review queue, nearest deadline first",
    description="待审核、审核中、待复核与待补充材料的申请；待中小企业补充材料的排在最后。\n\n"
    "Risk-checked, under review, awaiting second approval and waiting for information (listed last).",
)
def review_queue(page: Pagination, principal: BankDep, ctx: ContextDep) -> Page[QueueItemPublic]:
    now = ctx.now()
    items = fs.review_queue(ctx.session, principal.actor, now, limit=page.offset + page.limit)[page.offset :]
    total = review_queue_count(ctx.session, principal.actor)
    return page_of([_queue_item(item, now, ctx.tz) for item in items], total, page)


def _queue_item(item: QueueItem, now: datetime, tz: ZoneInfo) -> QueueItemPublic:
    computed = ApplicationPublic.computed(item.application, now)
    left = item.overall_left // timedelta(seconds=1)
    return QueueItemPublic.of(item.application, tz, **computed, overall_left_seconds=left)


@router.get("/applications/{application_id}", response_model=ApplicationPublic, summary="融资申请详情 / Application")
def get_application(application_id: ApplicationId, principal: AppReaderDep, ctx: ContextDep) -> ApplicationPublic:
    return _public(load_application_for(ctx.session, principal.actor, application_id), ctx.settings, ctx.now())


@router.get(
    "/applications/{application_id}/risk-report",
    response_model=RiskReportPublic,
    summary="自动风控报告 / The automatic risk report",
)
def risk_report(application_id: ApplicationId, principal: AppReaderDep, ctx: ContextDep) -> RiskReportPublic:
    return RiskReportPublic.from_model(load_application_for(ctx.session, principal.actor, application_id), ctx.tz)


@router.get(
    "/applications/{application_id}/offer",
    response_model=FinanceOfferPublic,
    summary="融资要约：条款及其 SHA-256（供签署）/ The offer: terms and their SHA-256 to sign",
    responses={409: {"description": "尚未批准，没有要约 / not approved yet: no offer"}},
)
def get_offer(application_id: ApplicationId, principal: AppReaderDep, ctx: ContextDep) -> FinanceOfferPublic:
    app = load_application_for(ctx.session, principal.actor, application_id)
    if app.offer_terms is None:
        raise Conflict(
            "该申请尚未获批，没有融资要约",
            "The application has not been approved: there is no offer yet",
            detail={"status": app.status.value},
        )
    return FinanceOfferPublic.from_model(app, ctx.tz)


@router.get(
    "/applications/{application_id}/timeline",
    response_model=TimelinePublic,
    summary="48小时时间线：各阶段用时、时限与时效状态 / The 48-hour timeline: stages, due times, SLA status",
)
def timeline(application_id: ApplicationId, principal: AppReaderDep, ctx: ContextDep) -> TimelinePublic:
    app = load_application_for(ctx.session, principal.actor, application_id)
    assert app.id is not None
    return TimelinePublic.from_model(app, common.intervals(ctx.session, app.id), ctx.tz, ctx.now())


# ---------------------------------------------------------------------------------------------- applications: writes


@router.post(
    "/applications",
    response_model=ApplicationPublic,
    status_code=201,
    summary="申请融资（中小企业；建议带幂等键）/ Apply for finance (SME; Idempotency-Key recommended)",
    description="锁定份额、占用银行授信与企业敞口并启动48小时计时。同一幂等键与相同请求返回第一次的结果。\n\n"
    "Reserves the part, the bank's line and the SME's exposure and starts the 48-hour clock. The same key and "
    "request replays the first answer (`Idempotent-Replayed: true`).",
)
def apply(
    request: Request, body: ApplicationInput, principal: SmeDep, ctx: ContextDep, key: IdempotencyKey = None
) -> JSONResponse:
    return apply_once(fs.apply_for_finance, request, body, principal, ctx, key)


@router.post(
    "/applications/{application_id}/start-review",
    response_model=ApplicationPublic,
    summary="开始审核（银行）/ Start the review (bank)",
)
def start_review(application_id: ApplicationId, principal: BankDep, ctx: ContextDep) -> ApplicationPublic:
    app = fs.start_review(ctx.uow(), principal.actor, application_id)
    return _public(app, ctx.settings, ctx.now())


@router.post(
    "/applications/{application_id}/approve",
    response_model=ApplicationPublic,
    summary="批准（银行；大额须另一人复核；建议带幂等键）/ Approve (bank; four-eyes above the threshold)",
)
def approve(
    request: Request,
    application_id: ApplicationId,
    principal: BankDep,
    ctx: ContextDep,
    body: ApprovalInput | None = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    data = body or ApprovalInput()

    def run() -> ApplicationPublic:
        app = fs.approve(ctx.uow(), principal.actor, application_id, data)
        return _public(app, ctx.settings, ctx.now())

    return idempotent(request, principal, key, data, run, clock=ctx.clock)


@router.post(
    "/applications/{application_id}/reject",
    response_model=ApplicationPublic,
    summary="拒绝（银行）/ Reject (bank)",
)
def reject(application_id: ApplicationId, body: RejectBody, principal: BankDep, ctx: ContextDep) -> ApplicationPublic:
    app = fs.reject(ctx.uow(), principal.actor, application_id, body.reason)
    return _public(app, ctx.settings, ctx.now())


@router.post(
    "/applications/{application_id}/request-info",
    response_model=ApplicationPublic,
    summary="要求补充材料（银行）/ Ask the SME for information (bank)",
)
def request_info(
    application_id: ApplicationId, body: InfoRequestBody, principal: BankDep, ctx: ContextDep
) -> ApplicationPublic:
    app = fs.request_info(ctx.uow(), principal.actor, application_id, body.question)
    return _public(app, ctx.settings, ctx.now())


@router.post(
    "/applications/{application_id}/provide-info",
    response_model=ApplicationPublic,
    summary="补充材料（中小企业）/ Provide the information (SME)",
)
def provide_info(
    application_id: ApplicationId, body: InfoAnswerBody, principal: SmeDep, ctx: ContextDep
) -> ApplicationPublic:
    app = fs.provide_info(ctx.uow(), principal.actor, application_id, body.answer)
    return _public(app, ctx.settings, ctx.now())


@router.post(
    "/applications/{application_id}/withdraw",
    response_model=ApplicationPublic,
    summary="撤回申请（中小企业，签约前）/ Withdraw (SME, before signing)",
)
def withdraw(application_id: ApplicationId, principal: SmeDep, ctx: ContextDep) -> ApplicationPublic:
    app = fs.withdraw(ctx.uow(), principal.actor, application_id)
    return _public(app, ctx.settings, ctx.now())


@router.post(
    "/applications/{application_id}/sign",
    response_model=SignaturePublic,
    summary="签署融资要约（中小企业，提交所见条款的哈希）/ Sign the offer (SME sends the terms' hash)",
)
def sign(
    request: Request,
    application_id: ApplicationId,
    body: SignBody,
    principal: SmeDep,
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    def run() -> SignaturePublic:
        signature = fs.sign_offer(ctx.uow(), principal.actor, application_id, body.terms_hash)
        return SignaturePublic.from_model(signature, ctx.tz)

    return idempotent(request, principal, key, body, run, clock=ctx.clock)


@router.post(
    "/applications/{application_id}/disburse",
    response_model=LoanPublic,
    status_code=201,
    summary="放款（银行；必须带幂等键，只放款一次）/ Disburse (bank; Idempotency-Key required; exactly once)",
)
def disburse(
    request: Request, application_id: ApplicationId, principal: BankDep, key: RequiredIdempotencyKey, ctx: ContextDep
) -> JSONResponse:
    def run() -> LoanPublic:
        loan = fs.disburse(ctx.uow(), principal.actor, application_id, use_case_key(key))
        with Session(ctx.engine) as session:
            return loan_public(session, loan, ctx.settings)

    return idempotent(request, principal, key, None, run, clock=ctx.clock, status_code=201)


# ---------------------------------------------------------------------------------------------- set-up


@router.get(
    "/products",
    response_model=Page[ProductPublic],
    summary="银行融资产品 / Banks' finance products",
    tags=["finance-setup"],
)
def list_products(
    page: Annotated[ProductQuery, Query()], principal: ProductReaderDep, ctx: ContextDep
) -> Page[ProductPublic]:
    actor = principal.actor  # a bank also sees its own inactive products
    total = product_count(ctx.session, actor, bank_id=page.bank_id)
    rows = product_list(ctx.session, actor, bank_id=page.bank_id, offset=page.offset, limit=page.limit)
    return page_of([ProductPublic.from_model(r, ctx.tz) for r in rows], total, page)


@router.post(
    "/products",
    response_model=ProductPublic,
    status_code=201,
    summary="新建融资产品（银行管理员）/ Create a finance product (bank admin)",
    tags=["finance-setup"],
)
def create_product(body: ProductCreate, principal: BankDep, ctx: ContextDep) -> ProductPublic:
    data = body.model_dump(exclude_none=True)
    data["advance_rate"] = Decimal(body.advance_rate)
    row = fs.create_product(ctx.uow(), principal.actor, data)
    return ProductPublic.from_model(row, ctx.tz)


@router.get(
    "/credit-lines",
    response_model=Page[CreditLinePublic],
    summary="核心企业授信额度（银行：本行；管委会：全部）/ Credit lines (bank: its own; office: all)",
    tags=["finance-setup"],
)
def list_credit_lines(page: Pagination, principal: LineReaderDep, ctx: ContextDep) -> Page[CreditLinePublic]:
    total = credit_line_count(ctx.session, principal.actor)
    rows = credit_line_list(ctx.session, principal.actor, offset=page.offset, limit=page.limit)
    return page_of([CreditLinePublic.from_model(r, ctx.tz) for r in rows], total, page)


@router.put(
    "/credit-lines/{core_enterprise_id}",
    response_model=CreditLinePublic,
    summary="设定对核心企业的授信额度（银行管理员或审批人）/ Set the line for a core enterprise (bank admin/approver)",
    tags=["finance-setup"],
)
def set_credit_line(
    core_enterprise_id: OrgId, body: LimitBody, principal: BankDep, ctx: ContextDep
) -> CreditLinePublic:
    line = fs.set_credit_line(ctx.uow(), principal.actor, core_enterprise_id, body.limit)
    return CreditLinePublic.from_model(line, ctx.tz)


@router.put(
    "/exposure-limits/{sme_id}",
    response_model=ExposureLimitPublic,
    summary="设定中小企业融资敞口限额（管委会）/ Set an SME's exposure limit (programme office)",
    tags=["finance-setup"],
)
def set_exposure_limit(sme_id: OrgId, body: LimitBody, principal: OfficeDep, ctx: ContextDep) -> ExposureLimitPublic:
    limit_fen = fs.set_exposure_limit(ctx.uow(), principal.actor, sme_id, body.limit)
    return ExposureLimitPublic(sme_id=sme_id, limit_fen=limit_fen)
