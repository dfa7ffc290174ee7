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
from api.deps import PageParams
from api.params import Id, not_below
from api.routes.context import ContextDep
from api.routes.lists import page_of
from api.schemas import AUTH_RESPONSES, Page
from qianfan.audit import verify_chain
from qianfan.clock import to_local
from qianfan.config import Settings
from qianfan.validation import ClusterCode, District, bilingual
from reports import stats
from reports.finance_by_product import finance_by_product
from reports.queries import audit_events_page
from reports.schemas import (
    AuditEventPublic,
    ChainReportPublic,
    FiguresPublic,
    FinanceByProductPublic,
    GroupPublic,
    ProductFiguresPublic,
    StatsFilters,
    StatsPublic,
)
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

    _range = not_below("to", "from_", "截止日期", "起始日期", earlier=True)

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
def get_stats(query: Annotated[StatsQuery, Query()], principal: OfficeDep, ctx: ContextDep) -> StatsPublic:
    """需求、供给、撮合、合同、确权与融资的全流程数据（管委会）。The whole funnel for the programme office.

    Money is integer fen plus an exact yuan string; hours and shares are decimal strings; never a float.
    With ``group_by`` the ``groups`` list has one row per cluster (every industry cluster, then organisations
    without one), per branch park, or per month (Beijing time, each month of the period); ``total`` always holds
    the figures of the whole selection.
    """
    scope, total, groups = _compute(query, ctx.session, ctx.settings)
    return StatsPublic(
        group_by=query.group_by,
        filters=StatsFilters(
            cluster=query.cluster, district=query.district, from_=query.from_, to=query.to, month=query.month
        ),
        period_start=None if scope.start is None else to_local(scope.start, ctx.tz),
        period_end=None if scope.end is None else to_local(scope.end, ctx.tz),
        timezone=ctx.settings.timezone,
        total=FiguresPublic.from_figures(total),
        groups=[
            GroupPublic.of(FiguresPublic.from_figures(g.figures), key=g.key, label=g.label, label_en=g.label_en)
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
    public = FiguresPublic.from_figures(figures).model_dump(mode="json")
    values = [public[name] for name, _ in CSV_COLUMNS]
    return [_text_cell(key), _text_cell(label), _text_cell(label_en), *("" if v is None else v for v in values)]


@router.get(
    "/stats.csv",
    tags=["stats"],
    summary="统计数据导出 CSV / The figures as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 (BOM) CSV, bilingual header row"}},
)
def get_stats_csv(query: Annotated[StatsQuery, Query()], principal: OfficeDep, ctx: ContextDep) -> Response:
    """The rows of ``GET /api/v1/stats`` as CSV for Excel: UTF-8 with a byte-order mark, one bilingual header
    row, money in exact yuan.  Without ``group_by`` one row (``all``); with it one row per group and a last
    ``total`` row."""
    _, total, groups = _compute(query, ctx.session, ctx.settings)
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


@router.get(
    "/stats/finance-by-product",
    response_model=FinanceByProductPublic,
    tags=["stats"],
    summary="按产品的融资统计（管委会）/ Finance by product (programme office)",
)
def get_finance_by_product(
    query: Annotated[PeriodQuery, Query()], principal: OfficeDep, ctx: ContextDep
) -> FinanceByProductPublic:
    """应收账款融资、订单融资与循环额度提款：申请、放款金额、未还与已还本金、申请到放款用时（48小时承诺）。
    Receivables finance, contract (order) finance and revolving-line drawdowns side by side: applications, amount
    disbursed, principal outstanding and repaid, and the application → disbursement turnaround.

    Money is integer fen plus an exact yuan string; hours are decimal strings to 0.1 h; never a float.
    """
    start, end = query.period(ctx.settings)
    return FinanceByProductPublic(
        filters=StatsFilters(cluster=None, district=None, from_=query.from_, to=query.to, month=query.month),
        period_start=None if start is None else to_local(start, ctx.tz),
        period_end=None if end is None else to_local(end, ctx.tz),
        timezone=ctx.settings.timezone,
        products=[ProductFiguresPublic.build(f) for f in finance_by_product(ctx.session, start, end)],
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
    query: Annotated[PeriodQuery, Query()], principal: OfficeDep, ctx: ContextDep
) -> Response:
    """The rows of ``GET /api/v1/stats/finance-by-product`` as CSV for Excel: UTF-8 with a byte-order mark, one
    bilingual header row, one row per product, money in exact yuan."""
    start, end = query.period(ctx.settings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in PRODUCT_CSV_COLUMNS])
    for figures in finance_by_product(ctx.session, start, end):
        public = ProductFiguresPublic.build(figures).model_dump(mode="json")
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


@router.get(
    "/audit/verify",
    response_model=ChainReportPublic,
    tags=["audit"],
    summary="校验审计哈希链 / Verify the audit hash chain",
)
def verify_audit_chain(principal: OfficeDep, ctx: ContextDep) -> ChainReportPublic:
    """Recomputes every link of the append-only audit log (each record's SHA-256 over the previous hash and its
    content, sequence numbers without gaps) and names the first broken one."""
    report = verify_chain(ctx.session)
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
        verified_at=to_local(ctx.now(), ctx.tz),
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
    query: Annotated[AuditQuery, Query()], principal: OfficeDep, ctx: ContextDep
) -> Page[AuditEventPublic]:
    """The audit log, newest first (by ``seq``), optionally for one entity type and id."""
    rows, total = audit_events_page(
        ctx.session, entity_type=query.entity_type, entity_id=query.entity_id, limit=query.limit, offset=query.offset
    )
    return page_of([AuditEventPublic.from_model(row, ctx.settings) for row in rows], total, query)
