"""The API models of the programme office's reports: the programme's figures (overall and per group), finance by
product, the audit chain's verification and the audit events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from qianfan.clock import to_local
from qianfan.config import Settings
from qianfan.models import AuditEvent, FinanceKind
from qianfan.money import Fen, Yuan
from qianfan.schema_types import PublicModel, yuan_of
from reports.finance_by_product import ProductFigures
from reports.stats import Figures, GroupBy

HoursString = Annotated[
    str,
    Field(
        pattern=r"^\d+\.\d{2}$",
        description="小时（精确到0.01，字符串）/ hours to 0.01, as a string",
        examples=["31.50"],
    ),
]
TenthHours = Annotated[
    str,
    Field(
        pattern=r"^\d+\.\d$",
        description="小时（精确到0.1，字符串）/ hours to 0.1, as a string",
        examples=["31.5"],
    ),
]
ShareString = Annotated[
    str,
    Field(pattern=r"^[01]\.\d{4}$", description="比例（四位小数，字符串）/ share, four decimals", examples=["0.9160"]),
]


class FiguresPublic(PublicModel):
    """The programme's figures.  Each record counts once, at its event time, for its attributed organisation."""

    large_firms_with_orders: int = Field(
        description="有需求的大企业数：期间内发布过≥1条订单的大企业（去重）/ distinct organisations of kind "
        "large_firm owning ≥1 order created in the period"
    )
    orders: int = Field(description="需求（订单）条数：期间内创建的订单，任何状态 / orders created in the period")
    orders_amount_fen: Fen = Field(description="需求金额（分）：这些订单预算之和 / sum of their budgets")
    orders_amount: Yuan = yuan_of("orders_amount_fen")
    auto_matched_orders: int = Field(
        description="自动匹配订单数：首次匹配发生在期间内的订单（即有≥1条匹配的订单）/ orders with ≥1 match, "
        "counted when first matched; attributed to the buyer"
    )
    matches: int = Field(description="匹配条数：期间内生成的订单↔产品匹配 / matches created in the period")
    offers: int = Field(
        description="中小企业产品与服务：期间内发布且仍有效的 / SME offers created in the period, still active"
    )
    service_packages: int = Field(
        description="服务包：期间内发布且有效的 / active service packages created in the period"
    )
    service_packages_value_fen: Fen = Field(description="服务资源价值（分）/ sum of their value")
    service_packages_value: Yuan = yuan_of("service_packages_value_fen")
    mentors: int = Field(description="创业导师：期间内发布且有效的 / active mentors created in the period")
    service_providers: int = Field(
        description="孵化器和服务机构：期间内发布过有效服务包或导师的服务机构（去重）/ distinct service providers "
        "with ≥1 active package or mentor created in the period"
    )
    service_needs: int = Field(description="服务需求：期间内发布的 / service needs created in the period")
    service_needs_matched: int = Field(
        description="已匹配的服务需求：存在同类别有效服务包的 / of those, needs with ≥1 active service package of "
        "the same category"
    )
    intent_orders_signed: int = Field(
        description="签约意向订单：状态为已签约，按双方中较晚的签署时间 / intent orders signed by both sides, "
        "at the later signature; attributed to the supplier"
    )
    intent_orders_signed_amount_fen: Fen
    intent_orders_signed_amount: Yuan = yuan_of("intent_orders_signed_amount_fen")
    contracts: int = Field(description="合同：期间内签订的合同 / contracts signed in the period (by supplier)")
    contracts_amount_fen: Fen
    contracts_amount: Yuan = yuan_of("contracts_amount_fen")
    receivables_confirmed: int = Field(
        description="已确权应收账款：期间内由核心企业确权的 / receivables confirmed by the debtor in the period "
        "(attributed to the creditor)"
    )
    receivables_confirmed_amount_fen: Fen = Field(description="确权金额（分）/ sum of the confirmed amounts")
    receivables_confirmed_amount: Yuan = yuan_of("receivables_confirmed_amount_fen")
    applications_disbursed: int = Field(
        description="已放款的融资申请：贷款在期间内放款的申请 / applications whose loan was disbursed in the period"
    )
    financed_amount_fen: Fen = Field(description="融资金额（分）：这些贷款的本金 / disbursed principal")
    financed_amount: Yuan = yuan_of("financed_amount_fen")
    disbursal_hours_p50: HoursString | None = Field(
        description="申请到放款用时中位数（小时，线性插值）；无放款时为空 / median hours from application to "
        "disbursement (linear interpolation); null when nothing was disbursed"
    )
    disbursal_hours_p95: HoursString | None = Field(description="同上，第95百分位 / the same, 95th percentile")
    disbursed_within_48h: int = Field(
        description="48小时内放款的申请数（≤48小时）/ disbursed at most 48 hours after the application"
    )
    disbursed_within_48h_share: ShareString | None = Field(
        description="48小时内放款占比（四位小数）；无放款时为空 / their share of applications_disbursed; null when 0"
    )
    disbursed_within_48h_bp: int | None = Field(description="同上，以基点（万分之一）表示 / the same in basis points")

    @classmethod
    def from_figures(cls, f: Figures) -> FiguresPublic:
        p50, p95, share = f.disbursal_hours_p50, f.disbursal_hours_p95, f.disbursed_within_48h_share
        return cls(
            **f.counts(),
            disbursal_hours_p50=None if p50 is None else format(p50, "f"),
            disbursal_hours_p95=None if p95 is None else format(p95, "f"),
            disbursed_within_48h_share=None if share is None else format(share, "f"),
            disbursed_within_48h_bp=f.disbursed_within_48h_bp,
        )


class GroupPublic(FiguresPublic):
    key: str | None = Field(
        description="分组键：产业集群代码、分园或 YYYY-MM；无集群的机构为空 / cluster code, branch park or "
        "YYYY-MM; null for organisations without a cluster"
    )
    label: str = Field(examples=["新一代信息技术"])
    label_en: str = Field(examples=["Next-generation information technology"])


class StatsFilters(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    cluster: str | None
    district: str | None
    from_: date | None = Field(alias="from")
    to: date | None
    month: str | None


class StatsPublic(BaseModel):
    group_by: GroupBy | None
    filters: StatsFilters
    period_start: datetime | None = Field(description="统计区间起点（含）/ start of the period, inclusive")
    period_end: datetime | None = Field(description="统计区间终点（不含）/ end of the period, exclusive")
    timezone: str = Field(description="日期与月份所用时区 / time zone of days and months", examples=["Asia/Shanghai"])
    total: FiguresPublic = Field(description="全部（按筛选条件）/ the figures for the whole selection")
    groups: list[GroupPublic] = Field(description="每组一行；未分组时为空 / one row per group; empty without group_by")


class ProductFiguresPublic(PublicModel):
    """One finance product's figures (see :mod:`reports.finance_by_product` for each definition)."""

    kind: FinanceKind = Field(description="产品 / receivable, contract or credit_line")
    label: str = Field(examples=["订单融资"])
    label_en: str = Field(examples=["contract (order) finance"])
    applications: int = Field(description="期间内提交的申请 / applications submitted in the period")
    disbursed_count: int = Field(description="期间内放款的贷款笔数 / loans disbursed in the period")
    disbursed_fen: Fen = Field(description="期间内放款本金 / principal disbursed in the period")
    disbursed: Yuan = yuan_of("disbursed_fen")
    outstanding_fen: Fen = Field(
        description="当前未还本金（该产品全部未结清贷款，不限期间）/ principal outstanding now over every loan of the "
        "product not repaid, whatever the period"
    )
    outstanding: Yuan = yuan_of("outstanding_fen")
    repaid_fen: Fen = Field(
        description="期间内放款的贷款已还本金 / principal repaid on the loans disbursed in the period"
    )
    repaid: Yuan = yuan_of("repaid_fen")
    median_hours: TenthHours | None = Field(
        description="申请到放款用时中位数（小时，线性插值）；无放款时为空 / median hours from application to "
        "disbursement; null when nothing was disbursed"
    )
    p95_hours: TenthHours | None = Field(description="同上，第95百分位 / the same, 95th percentile")
    within_48h: int = Field(description="48小时内放款的笔数 / disbursed at most 48 hours after the application")

    @classmethod
    def build(cls, f: ProductFigures) -> ProductFiguresPublic:
        return cls(
            kind=FinanceKind(f.kind),
            label=f.label_zh,
            label_en=f.label_en,
            applications=f.applications,
            disbursed_count=f.disbursed_count,
            disbursed_fen=f.disbursed_fen,
            outstanding_fen=f.outstanding_fen,
            repaid_fen=f.repaid_fen,
            median_hours=None if f.median_hours is None else format(f.median_hours, "f"),
            p95_hours=None if f.p95_hours is None else format(f.p95_hours, "f"),
            within_48h=f.within_48h,
        )


class FinanceByProductPublic(BaseModel):
    filters: StatsFilters
    period_start: datetime | None = Field(description="统计区间起点（含）/ start of the period, inclusive")
    period_end: datetime | None = Field(description="统计区间终点（不含）/ end of the period, exclusive")
    timezone: str = Field(examples=["Asia/Shanghai"])
    products: list[ProductFiguresPublic] = Field(
        description="每种产品一行（无数据时为零）/ one row per product: receivable, contract, credit_line (zeros too)"
    )


class ChainReportPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "events_checked": 169,
                    "broken_seq": None,
                    "reason": None,
                    "message": "审计链完整：已校验 169 条记录",
                    "message_en": "Audit chain intact: 169 records checked",
                    "verified_at": "2026-11-02T09:30:00+08:00",
                }
            ]
        }
    )

    ok: bool = Field(description="整条链是否完整 / whether every link holds")
    events_checked: int = Field(description="断点之前已校验的记录数 / records verified (before the break, if any)")
    broken_seq: int | None = Field(description="第一条断开的记录序号 / seq of the first broken record")
    reason: str | None = Field(description="断开原因 / why it is broken")
    message: str
    message_en: str
    verified_at: datetime


class AuditEventPublic(BaseModel):
    seq: int
    entity_type: str = Field(examples=["receivable"])
    entity_id: int
    action: str = Field(examples=["confirmed"])
    actor_id: int | None = Field(description="操作用户 / the acting user, if any")
    payload: dict[str, Any]
    at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def from_model(cls, row: AuditEvent, settings: Settings) -> AuditEventPublic:
        return cls(
            seq=row.seq,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            action=row.action,
            actor_id=row.actor_id,
            payload=row.payload,
            at=to_local(row.at, settings.tz),
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
