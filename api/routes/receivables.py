"""Receivables (应收账款): register, confirm (确权, one by one or all-or-nothing in a batch), dispute, split and
transfer parts, and the debtor's payment at maturity.

Who sees what: an SME the receivables it registered or holds a part of; a large firm the receivables it owes; a
bank only the receivables of finance applications addressed to it (its list is scoped to them, not refused); the
programme office everything (read-only); service providers nothing (403).  Another organisation's receivable is
answered with 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlmodel import Session

from api.auth import LargeFirmDep, Principal, SmeDep, require_kind
from api.deps import PageParams
from api.idempotency import RequiredIdempotencyKey, idempotent, use_case_key
from api.params import MAX_ID, Id, SearchText, SortKey, sort_orders
from api.routes.context import ContextDep
from api.routes.lists import filters_from, page_of
from api.schemas import AUTH_RESPONSES, Page
from finance import service as fs
from finance.access import load_receivable_for
from finance.queries.receivables import (
    ReceivableFilter,
    receivable_count,
    receivable_list,
    receivable_parts_for,
    receivable_payments,
)
from finance.schemas.inputs import ReceivableInput
from finance.schemas.receivables import (
    BatchConfirmBody,
    BatchConfirmPublic,
    ConfirmBody,
    PaymentBody,
    PaymentPublic,
    ReasonBody,
    ReceivableDetail,
    ReceivablePartPublic,
    ReceivablePublic,
    SplitBody,
    TransferBody,
)
from qianfan.models import OrgKind, Receivable, ReceivableStatus

router = APIRouter(prefix="/api/v1/receivables", tags=["receivables"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[
    Principal,
    Depends(require_kind(OrgKind.SME, OrgKind.LARGE_FIRM, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE)),
]
PartyDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.LARGE_FIRM))]
ReceivableId = Annotated[int, Path(ge=1, le=MAX_ID, description="应收账款编号 / receivable id")]
PartId = Annotated[int, Path(ge=1, le=MAX_ID, description="份额编号 / part id")]

SORTS = sort_orders(
    Receivable.id,
    {"registered_at": Receivable.registered_at, "due_date": Receivable.due_date, "face": Receivable.face_fen},
    ("-registered_at", "registered_at", "due_date", "-due_date", "face", "-face"),
)
DEFAULT_SORT = "-registered_at"
ReceivableSort = Annotated[str, SortKey(SORTS, DEFAULT_SORT)]


class ReceivableQuery(PageParams):
    status: ReceivableStatus | None = Field(None, description="状态 / status")
    debtor_id: Id | None = Field(None, description="债务人 / debtor organisation id")
    creditor_id: Id | None = Field(None, description="债权人 / creditor organisation id")
    due_from: date | None = Field(None, description="到期日不早于 / due on or after")
    due_to: date | None = Field(None, description="到期日不晚于 / due on or before")
    q: SearchText = Field(None, description="标题包含 / title contains", examples=["货款"])
    sort: ReceivableSort = Field(DEFAULT_SORT, description="排序 / sort order")


# ---------------------------------------------------------------------------------------------- bodies


# ---------------------------------------------------------------------------------------------- helpers


def _detail(session: Session, principal: Principal, receivable_id: int, settings: Any) -> ReceivableDetail:
    receivable = load_receivable_for(session, principal.actor, receivable_id)
    return ReceivableDetail.from_rows(
        receivable, receivable_parts_for(session, principal.actor, receivable), settings.tz
    )


def _fresh(session: Session) -> Session:
    """End the request session's read snapshot so it sees what a use case just committed."""
    session.rollback()
    return session


def _filters(query: ReceivableQuery) -> ReceivableFilter:
    return filters_from(query, ReceivableFilter, title_contains=query.q)


# ---------------------------------------------------------------------------------------------- reads


@router.get(
    "",
    response_model=Page[ReceivablePublic],
    summary="应收账款列表 / List receivables",
    description="中小企业：登记或持有的；大企业：所欠的；银行：向本行申请融资的；管委会：全部。\n\n"
    "SME: registered or held; large firm: owed; bank: those of applications addressed to it; office: all.",
)
def list_receivables(
    query: Annotated[ReceivableQuery, Query()], principal: ReaderDep, ctx: ContextDep
) -> Page[ReceivablePublic]:
    filters = _filters(query)
    total = receivable_count(ctx.session, principal.actor, filters)
    rows = receivable_list(
        ctx.session, principal.actor, filters, order_by=SORTS[query.sort], offset=query.offset, limit=query.limit
    )
    return page_of([ReceivablePublic.from_model(r, ctx.tz) for r in rows], total, query)


@router.get(
    "/{receivable_id}",
    response_model=ReceivableDetail,
    summary="应收账款详情（份额、发票、确权）/ Receivable with parts, invoices and confirmation",
)
def get_receivable(receivable_id: ReceivableId, principal: ReaderDep, ctx: ContextDep) -> ReceivableDetail:
    return _detail(ctx.session, principal, receivable_id, ctx.settings)


@router.get(
    "/{receivable_id}/payments",
    response_model=list[PaymentPublic],
    summary="应收账款的付款记录 / Payments of a receivable",
)
def list_payments(receivable_id: ReceivableId, principal: ReaderDep, ctx: ContextDep) -> list[PaymentPublic]:
    load_receivable_for(ctx.session, principal.actor, receivable_id)
    rows = receivable_payments(ctx.session, receivable_id)
    return [PaymentPublic.from_model(r, ctx.tz) for r in rows]


# ---------------------------------------------------------------------------------------------- writes


@router.post(
    "",
    response_model=ReceivableDetail,
    status_code=201,
    summary="登记应收账款（中小企业）/ Register a receivable (SME)",
)
def register_receivable(body: ReceivableInput, principal: SmeDep, ctx: ContextDep) -> ReceivableDetail:
    row = fs.register_receivable(ctx.uow(), principal.actor, body)
    assert row.id is not None
    return _detail(_fresh(ctx.session), principal, row.id, ctx.settings)


@router.post(
    "/confirm-batch",
    response_model=BatchConfirmPublic,
    summary="批量确权（全部成功或全部不执行）/ Confirm a batch, all or nothing",
    description="任何一笔不能确权则全部不执行，并在 detail 中列出每一笔被拒绝的原因。\n\n"
    "If any receivable cannot be confirmed none is, and `detail` lists every refusal.",
)
def confirm_batch(body: BatchConfirmBody, principal: LargeFirmDep, ctx: ContextDep) -> BatchConfirmPublic:
    rows = fs.confirm_receivables(ctx.uow(), principal.actor, [item.model_dump() for item in body.items])
    return BatchConfirmPublic(confirmed=len(rows), items=[ReceivablePublic.from_model(r, ctx.tz) for r in rows])


@router.post(
    "/{receivable_id}/confirm",
    response_model=ReceivableDetail,
    summary="确权（债务人）/ Confirm a receivable (the debtor)",
)
def confirm_receivable(
    receivable_id: ReceivableId, body: ConfirmBody, principal: LargeFirmDep, ctx: ContextDep
) -> ReceivableDetail:
    fs.confirm_receivable(ctx.uow(), principal.actor, {"receivable_id": receivable_id, **body.model_dump()})
    return _detail(_fresh(ctx.session), principal, receivable_id, ctx.settings)


@router.post(
    "/{receivable_id}/dispute",
    response_model=ReceivableDetail,
    summary="拒绝确权（债务人）或撤销登记（债权人）/ Dispute (debtor) or cancel one's registration (creditor)",
)
def dispute_receivable(
    receivable_id: ReceivableId, body: ReasonBody, principal: PartyDep, ctx: ContextDep
) -> ReceivableDetail:
    fs.dispute_receivable(ctx.uow(), principal.actor, receivable_id, body.reason)
    return _detail(_fresh(ctx.session), principal, receivable_id, ctx.settings)


@router.post(
    "/parts/{part_id}/split",
    response_model=list[ReceivablePartPublic],
    status_code=201,
    summary="拆分份额（持有人）/ Split a part (its holder)",
)
def split_part(part_id: PartId, body: SplitBody, principal: SmeDep, ctx: ContextDep) -> list[ReceivablePartPublic]:
    parts = fs.split_part(ctx.uow(), principal.actor, part_id, body.amounts)
    return [ReceivablePartPublic.from_model(p, ctx.tz) for p in parts]


@router.post(
    "/parts/{part_id}/transfer",
    response_model=ReceivablePartPublic,
    status_code=201,
    summary="转让份额给供应商（持有人）/ Transfer a part to a supplier (its holder)",
)
def transfer_part(part_id: PartId, body: TransferBody, principal: SmeDep, ctx: ContextDep) -> ReceivablePartPublic:
    part = fs.transfer_part(ctx.uow(), principal.actor, part_id, body.to_id, body.amount)
    return ReceivablePartPublic.from_model(part, ctx.tz)


@router.post(
    "/{receivable_id}/payments",
    response_model=PaymentPublic,
    status_code=201,
    summary="债务人付款（需幂等键）/ The debtor pays (Idempotency-Key required)",
    description="付款按持有人比例分配；已融资份额的部分用于偿还贷款。同一幂等键与相同请求返回第一次的结果。\n\n"
    "The payment is shared over the holders; a financed part's share repays its loan. The same key and request "
    "replays the first answer (`Idempotent-Replayed: true`).",
)
def pay_receivable(
    request: Request,
    receivable_id: ReceivableId,
    body: PaymentBody,
    principal: LargeFirmDep,
    key: RequiredIdempotencyKey,
    ctx: ContextDep,
) -> JSONResponse:
    def run() -> PaymentPublic:
        payment = fs.pay_receivable(ctx.uow(), principal.actor, receivable_id, body.amount, use_case_key(key))
        return PaymentPublic.from_model(payment, ctx.tz)

    return idempotent(request, principal, key, body, run, clock=ctx.clock, status_code=201)
