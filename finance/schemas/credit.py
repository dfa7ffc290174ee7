"""The API model of a suggested credit line (建议授信额度) with its reasons and the bank's grounds to read it."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from finance.credit_suggestion import CreditSuggestion, Reason
from finance.record_access import Grounds
from finance.schemas.record_access import GroundsPublic
from qianfan.clock import SHANGHAI
from qianfan.money import Fen, Yuan
from qianfan.schema_types import PublicModel, yuan_of


class ReasonPublic(BaseModel):
    code: str
    text_zh: str
    text_en: str
    figure: str = Field(description="依据的数据项 / the figure of the trade record it comes from")
    value: str = Field(description="该数据项的精确值 / the figure's exact value")
    effect: str = Field(description="对额度的影响 / effect on the amount: + - 0 blocking")
    points: int = Field(description="对额度比例的调整（百分点）/ percentage points added to the rate")

    @classmethod
    def build(cls, reason: Reason) -> ReasonPublic:
        return cls(**reason.to_dict())


class CreditSuggestionPublic(PublicModel):
    sme_id: int
    as_of: date
    has_line: bool
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
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
    def build(
        cls, sme_id: int, s: CreditSuggestion, grounds: Grounds | None = None, tz: ZoneInfo = SHANGHAI
    ) -> CreditSuggestionPublic:
        data = s.to_dict()
        return cls(
            sme_id=sme_id,
            as_of=s.record.as_of,
            has_line=s.has_line,
            amount_fen=s.amount_fen,
            rate_pct=s.rate_pct,
            tenor_months=s.tenor_months,
            revolving=s.revolving,
            review_by=s.review_by,
            reasons=[ReasonPublic.build(r) for r in s.reasons],
            record=data["record"],
            rules_version=s.rules_version,
            grounds=None if grounds is None else GroundsPublic.build(grounds, tz),
        )
