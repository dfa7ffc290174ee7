"""Suggested revolving credit lines (建议授信额度) grown from an SME's settled trade on the platform (issue 8, part 3).

Read-only.  A bank reads an SME's suggestion only where the SME applied to it or granted it access (授权查询,
:mod:`finance.service.record_access`), and is told on which grounds and since when; for any other SME it gets 404,
as for an id that does not exist.  The programme office reads any SME's; an SME its own (another SME's is answered
with 404); large firms and service providers get 403.  The rules live in :mod:`finance.credit_suggestion`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.auth import Principal, require_kind
from api.deps import ClockDep, SessionDep, SettingsDep
from api.params import MAX_ID
from api.routes.record_access import GroundsPublic
from api.schemas import AUTH_RESPONSES, Fen, YuanString, yuan_string
from finance import service as fs
from finance.credit_suggestion import CreditSuggestion, Reason
from finance.record_access import Grounds
from qianfan.clock import SHANGHAI, to_local
from qianfan.models import OrgKind

router = APIRouter(prefix="/api/v1/finance/credit-suggestions", tags=["finance"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.SME, OrgKind.BANK, OrgKind.PROGRAMME_OFFICE))]
SmeId = Annotated[int, Path(ge=1, le=MAX_ID, description="中小企业编号 / SME organisation id")]


class ReasonPublic(BaseModel):
    code: str
    text_zh: str
    text_en: str
    figure: str = Field(description="依据的数据项 / the figure of the trade record it comes from")
    value: str = Field(description="该数据项的精确值 / the figure's exact value")
    effect: str = Field(description="对额度的影响 / effect on the amount: + - 0 blocking")
    points: int = Field(description="对额度比例的调整（百分点）/ percentage points added to the rate")

    @classmethod
    def of(cls, reason: Reason) -> ReasonPublic:
        return cls(**reason.to_dict())


class CreditSuggestionPublic(BaseModel):
    sme_id: int
    as_of: date
    has_line: bool
    amount_fen: Fen
    amount: YuanString
    rate_pct: int = Field(description="近12个月结清交易额的百分比 / percent of the 12-month settled volume")
    tenor_months: int
    revolving: bool
    review_by: date
    reasons: list[ReasonPublic]
    record: dict[str, str] = Field(description="近12个月交易记录（精确值）/ the 12-month trade record, exact")
    rules_version: str
    grounds: GroundsPublic | None = Field(
        None,
        description="银行查询的依据及日期（企业曾向本行申请或授权本行查询）；管理委员会与企业本身为空 / the bank's "
        "grounds to read the record and since when (the SME applied to it or granted it access); null for the office "
        "and the SME itself",
    )

    @classmethod
    def of(
        cls, sme_id: int, s: CreditSuggestion, grounds: Grounds | None = None, tz: ZoneInfo = SHANGHAI
    ) -> CreditSuggestionPublic:
        data = s.to_dict()
        return cls(
            sme_id=sme_id,
            as_of=s.record.as_of,
            has_line=s.has_line,
            amount_fen=s.amount_fen,
            amount=yuan_string(s.amount_fen),
            rate_pct=s.rate_pct,
            tenor_months=s.tenor_months,
            revolving=s.revolving,
            review_by=s.review_by,
            reasons=[ReasonPublic.of(r) for r in s.reasons],
            record=data["record"],
            rules_version=s.rules_version,
            grounds=None if grounds is None else GroundsPublic.of(grounds, tz),
        )


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
def get_credit_suggestion(
    sme_id: SmeId, principal: ReaderDep, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> CreditSuggestionPublic:
    now = clock.now()
    today = to_local(now, settings.tz).date()
    grounds = fs.require_record_access(session, principal.actor, sme_id, now)
    suggestion = fs.suggest_credit_line(session, principal.actor, sme_id, today, now=now)
    return CreditSuggestionPublic.of(sme_id, suggestion, grounds, settings.tz)
