"""The programme office's view of the whole funnel: the plan's figures (JSON and CSV) and the audit chain.

Programme office only: any other kind of organisation is answered 403, a request without a token 401.
The figures are computed by :mod:`reports.stats`, whose docstring defines each of them; the field
descriptions below (and in the OpenAPI page) repeat the definitions.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from sqlmodel import Session

from api.auth import OfficeDep
from api.deps import ClockDep, PageParams, SessionDep, SettingsDep
from api.params import Id
from api.schemas import AUTH_RESPONSES, Fen, Page, YuanString, yuan_string
from qianfan.audit import verify_chain
from qianfan.clock import to_local
from qianfan.config import Settings
from qianfan.models import AuditEvent, FinanceKind
from qianfan.validation import ClusterCode, District, bilingual
from reports import stats
from reports.finance_by_product import ProductFigures, finance_by_product
from reports.queries import audit_events_page
from reports.stats import Figures, GroupBy, Scope

router = APIRouter(prefix="/api/v1", responses=AUTH_RESPONSES)

# --------------------------------------------------------------------------------------------- the figures

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: The platform's records lie well inside these years; outside them a period cannot be converted to UTC safely.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def _in_years(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise bilingual(
            "date_out_of_range",
            f"日期须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间：{value}",
            f"Dates must lie between {FIRST_YEAR} and {LAST_YEAR}: {value}",
        )
    return value


StatsDate = Annotated[date, AfterValidator(_in_years)]


def _check_month(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        match = _MONTH.match(value)
        if not match:
            raise bilingual("invalid_month", f"月份格式应为 YYYY-MM：{value}", f"month must be YYYY-MM: {value}")
        _in_years(date(int(match.group(1)), int(match.group(2)), 1))
    return value


Month = Annotated[
    str,
    BeforeValidator(_check_month),
    WithJsonSchema({"type": "string", "pattern": _MONTH.pattern, "examples": ["2026-11"]}),
]


class PeriodQuery(BaseModel):
    """A period of Beijing calendar days: ``from``/``to`` (inclusive) or one ``month``; unknown parameters are
    refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: StatsDate | None = Field(
        None, alias="from", description="起始日期（含，北京时间）/ first day, inclusive (Beijing time)"
    )
    to: StatsDate | None = Field(None, description="截止日期（含，北京时间）/ last day, inclusive (Beijing time)")
    month: Month | None = Field(
        None, description="月份 YYYY-MM（北京时间；不能与 from/to 同用）/ month (Beijing time; not with from/to)"
    )

    @field_validator("to")
    @classmethod
    def _range(cls, value: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("from_")
        if value is not None and first is not None and value < first:
            raise bilingual(
                "invalid_range",
                f"截止日期（{value}）不能早于起始日期（{first}）",
                f"to ({value}) must not be before from ({first})",
            )
        return value

    @field_validator("month")
    @classmethod
    def _alone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and (info.data.get("from_") is not None or info.data.get("to") is not None):
            raise bilingual(
                "conflicting_period",
                "month 不能与 from/to 同时使用",
                "month cannot be combined with from/to",
            )
        return value

    def period(self, settings: Settings) -> tuple[datetime | None, datetime | None]:
        """``(start, end)`` in UTC, ``end`` exclusive; ``None`` for an open side."""
        if self.month is not None:
            return stats.month_period(self.month, settings.tz)
        return stats.date_period(self.from_, self.to, settings.tz)


class StatsQuery(PeriodQuery):
    """Filters (all optional, combined with AND) and the grouping.  Unknown parameters are refused."""

    cluster: ClusterCode | None = Field(
        None, description="产业集群代码（按记录的归属机构）/ industry cluster of the attributed organisation"
    )
    district: District | None = Field(
        None, description="分园（按记录的归属机构）/ branch park of the attributed organisation", examples=["海淀园"]
    )
    group_by: GroupBy | None = Field(None, description="分组方式 / one row per cluster, district or month")

    def scope(self, settings: Settings) -> Scope:
        start, end = self.period(settings)
        return Scope(start=start, end=end, cluster=self.cluster, district=self.district)


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


class FiguresPublic(BaseModel):
    """The programme's figures.  Each record counts once, at its event time, for its attributed organisation."""

    large_firms_with_orders: int = Field(
        description="有需求的大企业数：期间内发布过≥1条订单的大企业（去重）/ distinct organisations of kind "
        "large_firm owning ≥1 order created in the period"
    )
    orders: int = Field(description="需求（订单）条数：期间内创建的订单，任何状态 / orders created in the period")
    orders_amount_fen: Fen = Field(description="需求金额（分）：这些订单预算之和 / sum of their budgets")
    orders_amount: YuanString
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
    service_packages_value: YuanString
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
    intent_orders_signed_amount: YuanString
    contracts: int = Field(description="合同：期间内签订的合同 / contracts signed in the period (by supplier)")
    contracts_amount_fen: Fen
    contracts_amount: YuanString
    receivables_confirmed: int = Field(
        description="已确权应收账款：期间内由核心企业确权的 / receivables confirmed by the debtor in the period "
        "(attributed to the creditor)"
    )
    receivables_confirmed_amount_fen: Fen = Field(description="确权金额（分）/ sum of the confirmed amounts")
    receivables_confirmed_amount: YuanString
    applications_disbursed: int = Field(
        description="已放款的融资申请：贷款在期间内放款的申请 / applications whose loan was disbursed in the period"
    )
    financed_amount_fen: Fen = Field(description="融资金额（分）：这些贷款的本金 / disbursed principal")
    financed_amount: YuanString
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
            orders_amount=yuan_string(f.orders_amount_fen),
            service_packages_value=yuan_string(f.service_packages_value_fen),
            intent_orders_signed_amount=yuan_string(f.intent_orders_signed_amount_fen),
            contracts_amount=yuan_string(f.contracts_amount_fen),
            receivables_confirmed_amount=yuan_string(f.receivables_confirmed_amount_fen),
            financed_amount=yuan_string(f.financed_amount_fen),
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


def _compute(query: StatsQuery, session: Session, settings: Settings) -> tuple[Scope, Figures, list[stats.Group]]:
    scope = query.scope(settings)
    total = stats.programme_stats(session, scope, tz=settings.tz)
    groups = [] if query.group_by is None else stats.programme_stats_by(session, query.group_by, scope, tz=settings.tz)
    return scope, total, groups


@router.get(
    "/stats",
    response_model=StatsPublic,
    tags=["stats"],
    summary="千帆计划统计数据 / The programme's figures",
)
def get_stats(
    query: Annotated[StatsQuery, Query()], principal: OfficeDep, session: SessionDep, settings: SettingsDep
) -> StatsPublic:
    """需求、供给、撮合、合同、确权与融资的全流程数据（管委会）。The whole funnel for the programme office.

    Money is integer fen plus an exact yuan string; hours and shares are decimal strings; never a float.
    With ``group_by`` the ``groups`` list has one row per cluster (every industry cluster, then organisations
    without one), per branch park, or per month (Beijing time, each month of the period); ``total`` always holds
    the figures of the whole selection.
    """
    scope, total, groups = _compute(query, session, settings)
    return StatsPublic(
        group_by=query.group_by,
        filters=StatsFilters(
            cluster=query.cluster, district=query.district, from_=query.from_, to=query.to, month=query.month
        ),
        period_start=None if scope.start is None else to_local(scope.start, settings.tz),
        period_end=None if scope.end is None else to_local(scope.end, settings.tz),
        timezone=settings.timezone,
        total=FiguresPublic.from_figures(total),
        groups=[
            GroupPublic(
                key=g.key, label=g.label, label_en=g.label_en, **FiguresPublic.from_figures(g.figures).model_dump()
            )
            for g in groups
        ],
    )


#: The CSV's columns after the group columns: (field of FiguresPublic, bilingual header).  Money in yuan.
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("large_firms_with_orders", "有需求的大企业数 / Large firms with orders"),
    ("orders", "需求条数 / Orders"),
    ("orders_amount", "需求金额（元）/ Order amount (yuan)"),
    ("auto_matched_orders", "自动匹配订单数 / Auto-matched orders"),
    ("matches", "匹配条数 / Matches"),
    ("offers", "中小企业产品与服务 / SME offers"),
    ("service_packages", "服务包 / Service packages"),
    ("service_packages_value", "服务包价值（元）/ Service package value (yuan)"),
    ("mentors", "创业导师 / Mentors"),
    ("service_providers", "孵化器和服务机构 / Service providers"),
    ("service_needs", "服务需求 / Service needs"),
    ("service_needs_matched", "已匹配服务需求 / Service needs matched"),
    ("intent_orders_signed", "签约意向订单 / Intent orders signed"),
    ("intent_orders_signed_amount", "意向订单金额（元）/ Intent order amount (yuan)"),
    ("contracts", "合同 / Contracts"),
    ("contracts_amount", "合同金额（元）/ Contract amount (yuan)"),
    ("receivables_confirmed", "已确权应收账款 / Receivables confirmed"),
    ("receivables_confirmed_amount", "确权金额（元）/ Confirmed amount (yuan)"),
    ("applications_disbursed", "已放款申请 / Applications disbursed"),
    ("financed_amount", "融资金额（元）/ Amount financed (yuan)"),
    ("disbursal_hours_p50", "申请到放款中位数（小时）/ Application to disbursement p50 (hours)"),
    ("disbursal_hours_p95", "申请到放款P95（小时）/ Application to disbursement p95 (hours)"),
    ("disbursed_within_48h", "48小时内放款 / Disbursed within 48 h"),
    ("disbursed_within_48h_share", "48小时内放款占比 / Share disbursed within 48 h"),
)
CSV_GROUP_HEADERS = ("分组 / Group", "名称 / Name", "Name (English)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _csv_row(key: str, label: str, label_en: str, figures: Figures) -> list[Any]:
    public = FiguresPublic.from_figures(figures)
    values = [getattr(public, name) for name, _ in CSV_COLUMNS]
    return [_text_cell(key), _text_cell(label), _text_cell(label_en), *("" if v is None else v for v in values)]


@router.get(
    "/stats.csv",
    tags=["stats"],
    summary="统计数据导出 CSV / The figures as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 (BOM) CSV, bilingual header row"}},
)
def get_stats_csv(
    query: Annotated[StatsQuery, Query()], principal: OfficeDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """The rows of ``GET /api/v1/stats`` as CSV for Excel: UTF-8 with a byte-order mark, one bilingual header
    row, money in exact yuan.  Without ``group_by`` one row (``all``); with it one row per group and a last
    ``total`` row."""
    _, total, groups = _compute(query, session, settings)
    return stats_csv_response(total, groups, query.group_by)


def stats_csv_response(total: Figures, groups: list[stats.Group], group_by: GroupBy | None) -> Response:
    """The figures as the CSV download (shared by ``GET /api/v1/stats.csv`` and the office's export page)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CSV_GROUP_HEADERS, *(header for _, header in CSV_COLUMNS)])
    if group_by is None:
        writer.writerow(_csv_row("all", "全部", "All", total))
    else:
        for g in groups:
            writer.writerow(_csv_row("" if g.key is None else g.key, g.label, g.label_en, g.figures))
        writer.writerow(_csv_row("total", "合计", "Total", total))
    name = "qianfan-stats" if group_by is None else f"qianfan-stats-by-{group_by.value}"
    disposition = f"attachment; filename=\"{name}.csv\"; filename*=UTF-8''{quote('千帆统计')}-{name}.csv"
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


# --------------------------------------------------------------------------------------------- finance by product


class ProductFiguresPublic(BaseModel):
    """One finance product's figures (see :mod:`reports.finance_by_product` for each definition)."""

    kind: FinanceKind = Field(description="产品 / receivable, contract or credit_line")
    label: str = Field(examples=["订单融资"])
    label_en: str = Field(examples=["contract (order) finance"])
    applications: int = Field(description="期间内提交的申请 / applications submitted in the period")
    disbursed_count: int = Field(description="期间内放款的贷款笔数 / loans disbursed in the period")
    disbursed_fen: Fen = Field(description="期间内放款本金 / principal disbursed in the period")
    disbursed: YuanString
    outstanding_fen: Fen = Field(
        description="当前未还本金（该产品全部未结清贷款，不限期间）/ principal outstanding now over every loan of the "
        "product not repaid, whatever the period"
    )
    outstanding: YuanString
    repaid_fen: Fen = Field(
        description="期间内放款的贷款已还本金 / principal repaid on the loans disbursed in the period"
    )
    repaid: YuanString
    median_hours: TenthHours | None = Field(
        description="申请到放款用时中位数（小时，线性插值）；无放款时为空 / median hours from application to "
        "disbursement; null when nothing was disbursed"
    )
    p95_hours: TenthHours | None = Field(description="同上，第95百分位 / the same, 95th percentile")
    within_48h: int = Field(description="48小时内放款的笔数 / disbursed at most 48 hours after the application")

    @classmethod
    def of(cls, f: ProductFigures) -> ProductFiguresPublic:
        return cls(
            kind=FinanceKind(f.kind),
            label=f.label_zh,
            label_en=f.label_en,
            applications=f.applications,
            disbursed_count=f.disbursed_count,
            disbursed_fen=f.disbursed_fen,
            disbursed=yuan_string(f.disbursed_fen),
            outstanding_fen=f.outstanding_fen,
            outstanding=yuan_string(f.outstanding_fen),
            repaid_fen=f.repaid_fen,
            repaid=yuan_string(f.repaid_fen),
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


@router.get(
    "/stats/finance-by-product",
    response_model=FinanceByProductPublic,
    tags=["stats"],
    summary="按产品的融资统计（管委会）/ Finance by product (programme office)",
)
def get_finance_by_product(
    query: Annotated[PeriodQuery, Query()], principal: OfficeDep, session: SessionDep, settings: SettingsDep
) -> FinanceByProductPublic:
    """应收账款融资、订单融资与循环额度提款：申请、放款金额、未还与已还本金、申请到放款用时（48小时承诺）。
    Receivables finance, contract (order) finance and revolving-line drawdowns side by side: applications, amount
    disbursed, principal outstanding and repaid, and the application → disbursement turnaround.

    Money is integer fen plus an exact yuan string; hours are decimal strings to 0.1 h; never a float.
    """
    start, end = query.period(settings)
    return FinanceByProductPublic(
        filters=StatsFilters(cluster=None, district=None, from_=query.from_, to=query.to, month=query.month),
        period_start=None if start is None else to_local(start, settings.tz),
        period_end=None if end is None else to_local(end, settings.tz),
        timezone=settings.timezone,
        products=[ProductFiguresPublic.of(f) for f in finance_by_product(session, start, end)],
    )


#: The finance-by-product CSV's columns: (field of ProductFiguresPublic, bilingual header).  Money in yuan.
PRODUCT_CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "产品 / Product"),
    ("label", "名称 / Name"),
    ("label_en", "Name (English)"),
    ("applications", "申请笔数 / Applications"),
    ("disbursed_count", "放款笔数 / Loans disbursed"),
    ("disbursed", "放款金额（元）/ Disbursed (yuan)"),
    ("outstanding", "未还本金（元）/ Principal outstanding (yuan)"),
    ("repaid", "已还本金（元）/ Principal repaid (yuan)"),
    ("median_hours", "申请到放款中位数（小时）/ Application to disbursement median (hours)"),
    ("p95_hours", "申请到放款P95（小时）/ Application to disbursement p95 (hours)"),
    ("within_48h", "48小时内放款 / Disbursed within 48 h"),
)


@router.get(
    "/stats/finance-by-product.csv",
    tags=["stats"],
    summary="按产品的融资统计导出 CSV / Finance by product as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 (BOM) CSV, bilingual header row"}},
)
def get_finance_by_product_csv(
    query: Annotated[PeriodQuery, Query()], principal: OfficeDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """The rows of ``GET /api/v1/stats/finance-by-product`` as CSV for Excel: UTF-8 with a byte-order mark, one
    bilingual header row, one row per product, money in exact yuan."""
    start, end = query.period(settings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in PRODUCT_CSV_COLUMNS])
    for figures in finance_by_product(session, start, end):
        public = ProductFiguresPublic.of(figures).model_dump(mode="json")
        writer.writerow(
            [_text_cell(str(public[name])) if public[name] is not None else "" for name, _ in PRODUCT_CSV_COLUMNS]
        )
    name = "qianfan-finance-by-product"
    disposition = f"attachment; filename=\"{name}.csv\"; filename*=UTF-8''{quote('千帆融资按产品')}-{name}.csv"
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


# --------------------------------------------------------------------------------------------- the audit chain


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


@router.get(
    "/audit/verify",
    response_model=ChainReportPublic,
    tags=["audit"],
    summary="校验审计哈希链 / Verify the audit hash chain",
)
def verify_audit_chain(
    principal: OfficeDep, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> ChainReportPublic:
    """Recomputes every link of the append-only audit log (each record's SHA-256 over the previous hash and its
    content, sequence numbers without gaps) and names the first broken one."""
    report = verify_chain(session)
    if report.ok:
        zh = f"审计链完整：已校验 {report.checked} 条记录"
        en = f"Audit chain intact: {report.checked} records checked"
    else:
        zh = f"审计链在第 {report.broken_seq} 条记录处断开（此前 {report.checked} 条完好）"
        en = f"Audit chain broken at seq {report.broken_seq}: {report.reason} ({report.checked} records intact before)"
    return ChainReportPublic(
        ok=report.ok,
        events_checked=report.checked,
        broken_seq=report.broken_seq,
        reason=report.reason,
        message=zh,
        message_en=en,
        verified_at=to_local(clock.now(), settings.tz),
    )


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


class AuditQuery(PageParams):
    entity_type: str | None = Field(
        None, min_length=1, max_length=48, description="对象类型 / entity type", examples=["receivable"]
    )
    entity_id: Id | None = Field(None, description="对象编号 / entity id")


@router.get(
    "/audit/events",
    response_model=Page[AuditEventPublic],
    tags=["audit"],
    summary="审计记录 / Audit events",
)
def list_audit_events(
    query: Annotated[AuditQuery, Query()], principal: OfficeDep, session: SessionDep, settings: SettingsDep
) -> Page[AuditEventPublic]:
    """The audit log, newest first (by ``seq``), optionally for one entity type and id."""
    rows, total = audit_events_page(
        session, entity_type=query.entity_type, entity_id=query.entity_id, limit=query.limit, offset=query.offset
    )
    return Page[AuditEventPublic](
        items=[AuditEventPublic.from_model(row, settings) for row in rows],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )
