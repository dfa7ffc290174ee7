"""Suggested revolving credit lines (建议授信额度) grown from an SME's settled trade on the platform (issue 8, part 3).

Read-only.  A bank reads an SME's suggestion only where the SME applied to it or granted it access (授权查询,
:mod:`finance.service.record_access`), and is told on which grounds and since when; for any other SME it gets 404,
as for an id that does not exist.  The programme office reads any SME's; an SME its own (another SME's is answered
with 404); large firms and service providers get 403.  The rules live in :mod:`finance.credit_suggestion`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.auth import Principal, require_kind
from api.params import MAX_ID
from api.routes.context import ContextDep
from api.schemas import AUTH_RESPONSES
from finance import service as fs
from finance.schemas.credit import CreditSuggestionPublic
from qianfan.clock import to_local
from qianfan.models import OrgKind

router = APIRouter(prefix="/api/v1/finance/credit-suggestions", tags=["finance"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE))]
SmeId = Annotated[int, Path(ge=1, le=MAX_ID, description="中小企业编号 / SME organisation id")]


@router.get(
    "/{sme_id}",
    response_model=CreditSuggestionPublic,
    summary="建议授信额度 / Suggested credit line",
    description="依据近12个月在平台结清的交易，给出循环授信额度建议及理由，每条理由注明所依据的数据。\n\n"
    "A suggested revolving credit line from the SME's trade settled on the platform in the last 12 months, with "
    "the reasons, each naming the figure it came from.  A suggestion only: the bank decides.\n\n"
    "银行仅可查询曾向其申请融资或授权其查询的企业（其他企业返回404），并返回依据及日期。\n\n"
    "A bank reads only SMEs that applied to it or granted it access (any other answers 404), with the grounds.",
    responses={404: {"description": "企业不存在，或未向本行申请亦未授权本行查询 / no such SME, or no grounds to read"}},
)
def get_credit_suggestion(sme_id: SmeId, principal: ReaderDep, ctx: ContextDep) -> CreditSuggestionPublic:
    now = ctx.now()
    today = to_local(now, ctx.tz).date()
    grounds = fs.require_record_access(ctx.session, principal.actor, sme_id, now)
    suggestion = fs.suggest_credit_line(ctx.session, principal.actor, sme_id, today, now=now)
    return CreditSuggestionPublic.build(sme_id, suggestion, grounds, ctx.tz)
