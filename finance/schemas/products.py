"""The API models of a bank's set-up: products, credit lines to core enterprises, exposure limits.

Money goes out twice and never as a float: integer fen (``amount_fen``) and an exact yuan string (``amount`` =
``"1000000.00"``, :data:`qianfan.money.Yuan`); rates are decimal strings (``"0.035"``).  Datetimes are ISO-8601 in
the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from finance.pricing import DayCount
from finance.schemas.common import RateString, rate_string
from qianfan.models import (
    BankProduct,
    CreditLine,
    FinanceKind,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Body, LocalTime, PublicModel, YuanIn, yuan_of
from qianfan.validation import Name


class ProductPublic(PublicModel):
    id: int
    bank_id: int
    kind: FinanceKind = Field(
        description="产品类型：应收账款融资、订单融资、循环额度 / receivable, contract (order) or credit_line"
    )
    code: str
    name: str
    advance_rate: str = Field(description="融资比例（小数字符串）/ advance rate", examples=["0.9"])
    day_count: str = Field(examples=["ACT/360"])
    spreads_bp: dict[str, int | None] = Field(description="各风险等级的利差（基点；空为不予融资）/ spread per grade")
    arrangement_fee_bp: int
    fee_min_fen: Fen
    fee_min: Yuan = yuan_of("fee_min_fen")
    fee_max_fen: Fen
    fee_max: Yuan = yuan_of("fee_max_fen")
    four_eyes_threshold_fen: Fen
    four_eyes_threshold: Yuan = yuan_of("four_eyes_threshold_fen")
    max_tenor_months: int
    is_active: bool
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: BankProduct, tz: ZoneInfo) -> ProductPublic:
        return cls.of(row, tz, advance_rate=rate_string(row.advance_rate) or "0")


class CreditLinePublic(PublicModel):
    id: int
    bank_id: int
    core_enterprise_id: int
    limit_fen: Fen
    limit: Yuan = yuan_of("limit_fen")
    used_fen: Fen
    used: Yuan = yuan_of("used_fen")
    updated_at: LocalTime

    @classmethod
    def from_model(cls, row: CreditLine, tz: ZoneInfo) -> CreditLinePublic:
        return cls.of(row, tz)


class ExposureLimitPublic(PublicModel):
    sme_id: int
    limit_fen: Fen
    limit: Yuan = yuan_of("limit_fen")


#: A limit in yuan that may be zero (closing a line): a string exact to the fen.
LimitYuan = Annotated[
    str,
    Field(
        pattern=r"^\d{1,13}(\.\d{1,2})?$",
        description="额度（元，字符串，可为0）/ limit in yuan as a string (0 allowed)",
        examples=["100000000.00"],
    ),
]


class ProductCreate(Body):
    kind: FinanceKind = Field(
        FinanceKind.RECEIVABLE,
        description="产品类型：receivable 应收账款融资（默认）、contract 订单融资、credit_line 循环额度 / product kind",
    )
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", examples=["RF1"])
    name: Name = Field(examples=["千帆应收账款融资"])
    advance_rate: RateString = Field(description="融资比例（0–1）/ advance rate (0–1)", examples=["0.9"])
    day_count: DayCount | None = None
    spreads_bp: dict[str, int | None] | None = Field(
        None, description="各风险等级利差（基点；null 为不予融资）/ spread per grade (bp; null: not financed)"
    )
    arrangement_fee_bp: int | None = Field(None, ge=0, le=1000)
    fee_min: YuanIn | None = None
    fee_max: YuanIn | None = None
    four_eyes_threshold: YuanIn | None = Field(None, description="须双人审批的金额 / amount needing two approvers")
    max_tenor_months: int | None = Field(None, ge=1, le=12)


class LimitBody(Body):
    limit: LimitYuan
