"""Data-chain finance (issue 8): contract (order) finance before delivery and drawdowns on an SME's revolving line
grown from its settled trade.

- ``GET /contract-quote`` and ``POST /contract-applications``: the supplier SME of a signed contract asks what it
  may borrow on the contract and applies (at most the unpaid value × the product's advance rate, within the
  contract's headroom shared with its receivables, the bank's line for the buyer and the SME's exposure).
- ``GET /sme-credit-lines`` and ``POST /sme-credit-lines/{sme_id}/decision``: a bank sets (or declines) the
  revolving line the platform suggests for an SME; the SME and the office read the lines.  (The path is not
  ``/credit-lines``: that resource is the banks' lines for core enterprises.)
- ``POST /drawdowns``: the SME draws on its active line.

Both kinds of application then follow the receivables' path: ``/applications/{id}`` (risk report with the data
chain's links, review, approval, offer, signature, disbursement, timeline) and ``/loans``.  Another organisation's
contract or line is answered with 404; kinds that may not call a route get 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import BankDep, Principal, SmeDep, require_kind
from api.deps import PageParams
from api.idempotency import IdempotencyKey
from api.params import MAX_ID, Id
from api.routes.context import ContextDep, apply_once
from api.schemas import AUTH_RESPONSES, Page
from finance import service as fs
from finance.queries.credit_lines import SmeLineFilter, sme_credit_line_count, sme_credit_line_list
from finance.schemas.applications import ApplicationPublic
from finance.schemas.chain import (
    ContractQuotePublic,
    SmeCreditLinePublic,
)
from finance.schemas.inputs import ContractApplicationInput, DrawdownInput, LineDecisionInput
from qianfan.clock import to_local
from qianfan.models import OrgKind, SmeLineStatus

router = APIRouter(prefix="/api/v1/finance", tags=["finance"], responses=AUTH_RESPONSES)

LineReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE))]
SmeId = Annotated[int, Path(ge=1, le=MAX_ID, description="中小企业编号 / SME organisation id")]

_RULE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "合同、银行、产品或额度不存在或不属于本企业 / contract, bank, product or line not found"},
    409: {
        "description": "该合同已有进行中的订单融资，或幂等键已用于另一请求 / contract already financed, or key reused"
    },
    422: {
        "description": "超出限额（detail.binding_constraint 指明哪一项：advance_rate、contract_headroom、sme_line…）"
        "或输入无效 / over a limit (detail.binding_constraint names it) or invalid input"
    },
}


# ---------------------------------------------------------------------------------------------- schemas


class ContractQuoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract_id: Id = Field(description="合同 / the signed contract")
    bank_id: Id = Field(description="银行 / the bank")
    product_id: Id | None = Field(
        None, description="订单融资产品（银行只有一个时可省略）/ product (optional if only one)"
    )


class LineQuery(PageParams):
    sme_id: Id | None = Field(None, description="中小企业 / SME")
    status: SmeLineStatus | None = Field(None, description="状态 / status")


def _today(clock: Any, settings: Any) -> date:
    return to_local(clock.now(), settings.tz).date()


# ---------------------------------------------------------------------------------------------- contract finance


@router.get(
    "/contract-quote",
    response_model=ContractQuotePublic,
    summary="订单融资试算（中小企业）/ Contract finance quote: the maximum and the binding limit (SME)",
    description="合同未付金额 × 融资比例，受合同剩余可融资额（与其应收账款融资共享）、银行对采购方的授信与企业敞口"
    "限制。\n\nThe unpaid value × the advance rate, within the contract's headroom (shared with its receivables' "
    "loans), the bank's line for the buyer and the SME's exposure.",
    responses=_RULE_RESPONSES,
)
def contract_quote(
    query: Annotated[ContractQuoteQuery, Query()], principal: SmeDep, ctx: ContextDep
) -> ContractQuotePublic:
    result = fs.contract_quote(ctx.uow(), principal.actor, query.contract_id, query.bank_id, query.product_id)
    return ContractQuotePublic.of(result, contract_id=query.contract_id, bank_id=query.bank_id)


@router.post(
    "/contract-applications",
    response_model=ApplicationPublic,
    status_code=201,
    summary="申请订单融资（中小企业；建议带幂等键）/ Apply for contract finance (SME; Idempotency-Key recommended)",
    description="交付前以已签订合同申请，无需担保；锁定合同（同一合同同一时间只融资一次），占用银行对采购方的授信与"
    "企业敞口并启动48小时计时。同一幂等键与相同请求返回第一次的结果。\n\n"
    "Before delivery, on a signed contract, with no guarantee: locks the contract (financed once at a time), "
    "reserves the bank's line for the buyer and the SME's exposure and starts the 48-hour clock. The same key and "
    "request replays the first answer (`Idempotent-Replayed: true`).",
    responses=_RULE_RESPONSES,
)
def apply_for_contract_finance(
    request: Request, body: ContractApplicationInput, principal: SmeDep, ctx: ContextDep, key: IdempotencyKey = None
) -> JSONResponse:
    return apply_once(fs.apply_for_contract_finance, request, body, principal, ctx, key)


# ---------------------------------------------------------------------------------------------- revolving lines


@router.get(
    "/sme-credit-lines",
    response_model=Page[SmeCreditLinePublic],
    summary="中小企业循环额度（银行：本行设立的；中小企业：本企业的；管委会：全部）/ SMEs' revolving lines",
    description="银行依据平台建议为中小企业设立（或拒绝）的循环额度，含额度、已用、可用、到期日与建议理由。\n\n"
    "The revolving lines banks set (or declined) from the platform's suggestion: limit, used, available, expiry "
    "and the suggestion's reasons.  Bank: the lines it decided; SME: its own; programme office: all.",
    tags=["finance-setup"],
)
def list_sme_credit_lines(
    query: Annotated[LineQuery, Query()], principal: LineReaderDep, ctx: ContextDep
) -> Page[SmeCreditLinePublic]:
    filters = SmeLineFilter(sme_id=query.sme_id, status=query.status)
    rows = sme_credit_line_list(ctx.session, principal.actor, filters, offset=query.offset, limit=query.limit)
    today = _today(ctx.clock, ctx.settings)
    return Page[SmeCreditLinePublic](
        items=[SmeCreditLinePublic.build(r, ctx.settings, today) for r in rows],
        total=sme_credit_line_count(ctx.session, principal.actor, filters),
        limit=query.limit,
        offset=query.offset,
    )


@router.post(
    "/sme-credit-lines/{sme_id}/decision",
    response_model=SmeCreditLinePublic,
    summary="设立或拒绝建议的循环额度（银行管理员或审批人）/ Set or decline the suggested line (bank admin/approver)",
    description="接受时额度默认为平台建议额度，且不得超过；拒绝或关闭时须无未还提款。再次决定将替换前一次决定。\n\n"
    "Accepting sets the line at the suggestion (or a lower limit); declining or closing needs nothing drawn.  "
    "Deciding again replaces the decision; the suggestion seen is kept with the line and in the audit chain.",
    tags=["finance-setup"],
    responses={
        403: {"description": "非银行管理员或审批人 / not a bank admin or approver"},
        404: {"description": "不是中小企业 / not an SME"},
        422: {
            "description": "无建议额度、超过建议额度或低于已用额度 / no suggestion, above it, or below what is drawn"
        },
    },
)
def decide_sme_credit_line(
    sme_id: SmeId, body: LineDecisionInput, principal: BankDep, ctx: ContextDep
) -> SmeCreditLinePublic:
    row = fs.decide_line(ctx.uow(), principal.actor, sme_id, body)
    return SmeCreditLinePublic.build(row, ctx.settings, _today(ctx.clock, ctx.settings))


@router.post(
    "/drawdowns",
    response_model=ApplicationPublic,
    status_code=201,
    summary="循环额度提款（中小企业；建议带幂等键）/ Draw on a revolving line (SME; Idempotency-Key recommended)",
    description="锁定额度与企业敞口，校验金额与还款日（产品期限与额度到期日之内），占用额度并启动48小时计时。"
    "同一幂等键与相同请求返回第一次的结果。\n\n"
    "Locks the line and the SME's exposure, checks the amount and the due date (within the product's tenor and "
    "the line's expiry), reserves and starts the 48-hour clock. The same key and request replays the first answer.",
    responses=_RULE_RESPONSES,
)
def apply_for_drawdown(
    request: Request, body: DrawdownInput, principal: SmeDep, ctx: ContextDep, key: IdempotencyKey = None
) -> JSONResponse:
    return apply_once(fs.apply_for_drawdown, request, body, principal, ctx, key)
