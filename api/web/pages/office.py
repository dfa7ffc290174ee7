"""The programme office's pages (管委会): the whole funnel with its charts, the 48-hour promise, the downloads (the
figures as CSV, orders and awards as an OCDS release package), the background work (dead letters, jobs, a matcher
refit) and the audit hash chain.

Read-only apart from asking for a refit: the figures come from :mod:`reports.stats` (whose docstring
defines every figure), the release package from :mod:`market.ocds`, the refit from
:func:`qianfan.jobs.request_refit`, the chain check from :func:`qianfan.audit.verify_chain`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from accounts.queries import organisation_names, user_display_names
from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.routes.stats import StatsQuery, stats_csv_response
from api.web import labels
from api.web.i18n import lang_of
from api.web.render import act, field_errors, render, wan
from api.web.session import FormDep, OfficePage, WebUser
from finance import service as fs
from finance.settlement import MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE
from market import ocds
from market.queries import contract_titles
from qianfan import jobs as job_service
from qianfan import notifications
from qianfan.audit import verify_chain
from qianfan.clock import to_local
from qianfan.config import Settings
from qianfan.errors import InvalidInput
from qianfan.models import Job
from qianfan.uow import UnitOfWork
from qianfan.validation import parse_input
from reports import stats
from reports.finance_by_product import finance_by_product
from reports.queries import audit_events_page
from reports.stats import Figures, GroupBy, Scope

router = APIRouter(prefix="/office", include_in_schema=False)

FILTER_FIELDS = ("from", "to", "cluster", "district")
AUDIT_PAGE_SIZE = 25

#: The metrics the charts can show: (figure, 中文, English, is money).
CHART_METRICS: dict[str, tuple[str, str, bool]] = {
    "orders": ("需求条数", "Orders", False),
    "orders_amount_fen": ("需求金额", "Order amount", True),
    "auto_matched_orders": ("自动匹配订单", "Auto-matched orders", False),
    "intent_orders_signed": ("签约意向订单", "Intent orders signed", False),
    "contracts_amount_fen": ("合同金额", "Contract amount", True),
    "receivables_confirmed_amount_fen": ("确权金额", "Confirmed receivables", True),
    "financed_amount_fen": ("融资金额", "Amount financed", True),
}
DEFAULT_METRIC = "orders_amount_fen"


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the funnel: how many, how much (fen; ``None`` when the step has no amount) and the share of the
    previous step's count that reached it."""

    zh: str
    en: str
    count: int
    amount_fen: int | None
    conversion: Decimal | None


def funnel(f: Figures) -> list[Step]:
    """Orders → auto-matched orders → signed intent orders → contracts → confirmed receivables → loans disbursed."""
    raw: list[tuple[str, str, int, int | None]] = [
        ("需求订单", "Orders", f.orders, f.orders_amount_fen),
        ("自动匹配订单", "Auto-matched orders", f.auto_matched_orders, None),
        ("签约意向订单", "Intent orders signed", f.intent_orders_signed, f.intent_orders_signed_amount_fen),
        ("合同", "Contracts", f.contracts, f.contracts_amount_fen),
        ("已确权应收账款", "Receivables confirmed", f.receivables_confirmed, f.receivables_confirmed_amount_fen),
        ("已放款融资", "Financed", f.applications_disbursed, f.financed_amount_fen),
    ]
    steps: list[Step] = []
    previous: int | None = None
    for zh, en, count, amount in raw:
        conversion = None
        if previous:
            conversion = (Decimal(count) / Decimal(previous)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
        steps.append(Step(zh, en, count, amount, conversion))
        previous = count
    return steps


def _filters(request: Request, settings: Settings) -> tuple[dict[str, str], Scope | None, dict[str, Any]]:
    """The filter form's values, and the scope they select (``None`` with the field errors when refused)."""
    values = {name: request.query_params.get(name, "").strip() for name in FILTER_FIELDS}
    given = {name: value for name, value in values.items() if value}
    try:
        query = parse_input(StatsQuery, given)
    except InvalidInput as exc:
        return values, None, field_errors(exc)
    return values, query.scope(settings), {}


def _query_string(values: dict[str, str]) -> str:
    return urlencode({k: v for k, v in values.items() if v})


def _chart_rows(groups: list[stats.Group], metric: str, lang: str) -> list[tuple[str, int, str]]:
    money = CHART_METRICS[metric][2]
    rows = []
    for g in groups:
        value = int(getattr(g.figures, metric))
        text = stats_text(value, money)
        rows.append((g.label_en if lang == "en" else g.label, value, text))
    return rows


def stats_text(value: int, money: bool) -> str:
    return wan(value) if money else f"{value:,}"


@router.get("")
def funnel_page(request: Request, user: OfficePage, session: SessionDep, settings: SettingsDep) -> Response:
    values, scope, errors = _filters(request, settings)
    metric = request.query_params.get("metric", DEFAULT_METRIC)
    if metric not in CHART_METRICS:
        metric = DEFAULT_METRIC
    values["metric"] = metric
    lang = lang_of(request)
    context: dict[str, Any] = {
        "values": values,
        "errors": errors,
        "metrics": CHART_METRICS,
        "metric": metric,
        "metric_options": [(key, en if lang == "en" else zh) for key, (zh, en, _) in CHART_METRICS.items()],
    }
    if scope is None:
        return render(request, "office/funnel.html", context, user=user, status_code=422)
    total = stats.programme_stats(session, scope, tz=settings.tz)
    charts = []
    for group_by, zh, en in (
        (GroupBy.CLUSTER, "按产业集群", "By industry cluster"),
        (GroupBy.DISTRICT, "按分园", "By branch park"),
        (GroupBy.MONTH, "按月份", "By month"),
    ):
        groups = stats.programme_stats_by(session, group_by, scope, tz=settings.tz)
        charts.append((zh, en, _chart_rows(groups, metric, lang)))
    context.update(
        figures=total,
        steps=funnel(total),
        charts=charts,
        filtered=any(values[name] for name in FILTER_FIELDS),
        query=_query_string({k: values[k] for k in FILTER_FIELDS}),
    )
    return render(request, "office/funnel.html", context, user=user)


@router.get("/turnaround")
def turnaround_page(request: Request, user: OfficePage, session: SessionDep, settings: SettingsDep) -> Response:
    values, scope, errors = _filters(request, settings)
    context: dict[str, Any] = {"values": values, "errors": errors}
    if scope is None:
        return render(request, "office/turnaround.html", context, user=user, status_code=422)
    result = stats.turnaround(session, scope, tz=settings.tz)
    top = max((b.count for b in result.buckets), default=0)
    context.update(
        result=result,
        top=top,
        promise_hours=int(stats.DISBURSAL_PROMISE.total_seconds() // 3600),
        by_product=finance_by_product(session, scope.start, scope.end),
        kind_labels=labels.FINANCE_KINDS,
    )
    return render(request, "office/turnaround.html", context, user=user)


# ------------------------------------------------------------------------------------------ exports


@router.get("/exports")
def exports_page(request: Request, user: OfficePage) -> Response:
    return render(request, "office/exports.html", {"values": {}, "errors": {}}, user=user)


def _export_refused(request: Request, user: WebUser, values: dict[str, str], errors: dict[str, Any]) -> Response:
    return render(request, "office/exports.html", {"values": values, "errors": errors}, user=user, status_code=422)


@router.get("/exports/stats.csv")
def export_stats_csv(request: Request, user: OfficePage, session: SessionDep, settings: SettingsDep) -> Response:
    """The figures as ``GET /api/v1/stats.csv`` gives them (same code), grouped as chosen."""
    values, scope, errors = _filters(request, settings)
    group = request.query_params.get("group_by", "").strip()
    values["group_by"] = group
    group_by = GroupBy(group) if group in {g.value for g in GroupBy} else None
    if group and group_by is None:
        errors["group_by"] = ("分组方式无效", "Unknown grouping")
    if scope is None or errors:
        return _export_refused(request, user, values, errors)
    total = stats.programme_stats(session, scope, tz=settings.tz)
    groups = [] if group_by is None else stats.programme_stats_by(session, group_by, scope, tz=settings.tz)
    return stats_csv_response(total, groups, group_by)


@router.get("/exports/ocds.json")
def export_ocds(
    request: Request, user: OfficePage, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    """Orders and their awards as an OCDS 1.1 release package, releases dated in the chosen days."""
    values = {name: request.query_params.get(name, "").strip() for name in ("from", "to")}
    try:
        query = parse_input(StatsQuery, {k: v for k, v in values.items() if v})
    except InvalidInput as exc:
        return _export_refused(request, user, {f"ocds_{k}": v for k, v in values.items()}, _prefixed(exc))
    scope = query.scope(settings)
    package = ocds.release_package(
        session,
        uri=str(request.url),
        published_at=clock.now(),
        publisher=user.organisation.name,
        start=scope.start,
        end=scope.end,
        tz=settings.tz,
    )
    name = "qianfan-ocds.json"
    return Response(
        content=ocds.dumps(package),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _prefixed(exc: InvalidInput) -> dict[str, tuple[str, str]]:
    return {f"ocds_{name}": message for name, message in field_errors(exc).items()}


# ------------------------------------------------------------------------------------------ operations


@router.get("/operations")
def operations_page(
    request: Request, user: OfficePage, session: SessionDep, clock: ClockDep, job: int | None = None
) -> Response:
    shown = None if job is None else job_service.job_for(session, user.actor, job)  # unknown id: a 404 page
    rows = job_service.jobs_of(session, user.actor, limit=30)
    people = user_display_names(session, {j.started_by_user_id for j in rows if j.started_by_user_id is not None})
    context = {
        "dead_letters": notifications.dead_letters(session, include_replayed=True, limit=100),
        "jobs": rows,
        "people": people,
        "shown": shown,
        "percent": job_service.percent,
        "elapsed": lambda j: job_service.elapsed_seconds(j, clock.now()),
        "refit_running": any(j.kind == job_service.REFIT and not j.status.finished for j in rows),
    }
    return render(request, "office/operations.html", context, user=user)


@router.post("/operations/refit")
def refit(user: OfficePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    task_id = f"refit-{secrets.token_hex(12)}"

    def ok_url(job: Job) -> str:
        return f"/office/operations?job={job.id}"

    return act(
        lambda: job_service.request_refit(UnitOfWork(engine, clock), user.actor, task_id=task_id),
        ok_url=ok_url,
        ok=("已提交匹配模型重建任务", "The matcher refit has been queued"),
        back_url="/office/operations",
    )


@router.post("/operations/dead-letters/{dead_letter_id}/replay")
def replay_dead_letter(
    dead_letter_id: int, user: OfficePage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    return act(
        lambda: notifications.request_replay(UnitOfWork(engine, clock), user.actor, dead_letter_id),
        ok_url="/office/operations#dead",
        ok=(
            f"失败任务 #{dead_letter_id} 已重新入队",
            f"Dead letter #{dead_letter_id} has been queued again",
        ),
        back_url="/office/operations#dead",
    )


# ------------------------------------------------------------------------------------------ audit chain


def _audit_context(session: Session, page: int) -> dict[str, Any]:
    page = max(0, page)
    # One more than a page: whether a next page exists.
    events, total = audit_events_page(session, limit=AUDIT_PAGE_SIZE + 1, offset=page * AUDIT_PAGE_SIZE)
    people = user_display_names(session, {e.actor_id for e in events if e.actor_id is not None})
    return {
        "total": total,
        "events": events[:AUDIT_PAGE_SIZE],
        "page": page,
        "has_next": len(events) > AUDIT_PAGE_SIZE,
        "people": people,
        "report": None,
    }


def _reason_zh(reason: str | None) -> str:
    """The chain check's reason (English, from :mod:`qianfan.audit`) in Chinese."""
    if reason is None:
        return ""
    if reason.startswith("gap"):
        return "记录序号不连续"
    if reason.startswith("prev_hash"):
        return "记录中的上一条哈希与上一条记录不符"
    return "记录内容被修改：哈希与内容不符"


@router.get("/audit")
def audit_page(request: Request, user: OfficePage, session: SessionDep, page: int = 0) -> Response:
    return render(request, "office/audit.html", _audit_context(session, page), user=user)


@router.post("/audit/verify")
def verify_audit(request: Request, user: OfficePage, form: FormDep, session: SessionDep, clock: ClockDep) -> Response:
    """Recompute every link of the chain and show the answer on the page (a read: nothing is written)."""
    context = _audit_context(session, 0)
    report = verify_chain(session)
    context.update(report=report, reason_zh=_reason_zh(report.reason), verified_at=clock.now())
    return render(request, "office/audit.html", context, user=user)


# ------------------------------------------------------------------------------------------ late buyers


@router.get("/late-buyers")
def late_buyers_page(request: Request, user: OfficePage, session: SessionDep, clock: ClockDep) -> Response:
    """Contracts whose large-firm buyer is late under the 60-day rule (:func:`finance.service.late_buyers`), most
    days late first, with the count and the totals at the top."""
    today = to_local(clock.now()).date()
    rows = fs.late_buyers(session, user.actor, today)
    ids = {r.buyer_id for r in rows} | {r.supplier_id for r in rows}
    names = organisation_names(session, ids)
    titles = contract_titles(session, user.actor, [r.contract_id for r in rows])
    context = {
        "rows": rows,
        "names": names,
        "titles": titles,
        "today": today,
        "late_total": sum(r.late_fen for r in rows),
        "outstanding_total": sum(r.outstanding_fen for r in rows),
        "buyers": len({r.buyer_id for r in rows}),
        "max_days": MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE,
    }
    return render(request, "office/late_buyers.html", context, user=user)
