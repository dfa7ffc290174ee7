"""The receivables the firm owes: confirm (确权) one or a batch, or dispute one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import PathId
from api.web.pages.firm._shared import firm_page, org_names
from api.web.render import act, form_values, redirect
from api.web.session import FirmPage, FormDep, WebUser
from finance import service as fs
from finance.queries.confirmations import receivables_awaiting_confirmation, receivables_confirmed
from qianfan.errors import DomainError
from qianfan.uow import UnitOfWork

router = APIRouter()

PENDING_SHOWN = 500
CONFIRMED_SHOWN = 100


def _receivables_page(
    request: Request,
    user: WebUser,
    session: Session,
    *,
    failures: list[dict[str, Any]] | None = None,
    failure_message: tuple[str, str] | None = None,
    ticked: set[int] | None = None,
    status_code: int = 200,
) -> Response:
    pending = receivables_awaiting_confirmation(session, user.actor, limit=PENDING_SHOWN)
    confirmed = receivables_confirmed(session, user.actor, limit=CONFIRMED_SHOWN)
    names = org_names(session, {r.creditor_id for r in pending} | {r.creditor_id for r in confirmed})
    return firm_page(
        request,
        "receivables.html",
        user,
        status_code=status_code,
        pending=pending,
        confirmed=confirmed,
        names=names,
        failures=failures or [],
        failure_message=failure_message,
        ticked=ticked or set(),
    )


@router.get("/receivables")
def receivables(request: Request, user: FirmPage, session: SessionDep) -> Response:
    return _receivables_page(request, user, session)


def _undertaking(form: FormData) -> bool:
    return form.get("irrevocable_undertaking") in ("true", "on", "1")


@router.post("/receivables/{receivable_id}/confirm")
def confirm_receivable(
    receivable_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    data = {"receivable_id": receivable_id, "irrevocable_undertaking": _undertaking(form)}
    return act(
        lambda: fs.confirm_receivable(UnitOfWork(engine, clock), user.actor, data),
        ok_url="/firm/receivables",
        ok=(f"应收账款 #{receivable_id} 已确权", f"Receivable #{receivable_id} confirmed"),
        back_url="/firm/receivables",
    )


@router.post("/receivables/confirm-batch")
def confirm_batch(
    request: Request, user: FirmPage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    ids = sorted({int(v) for v in form.getlist("receivable_id") if isinstance(v, str) and v.isdigit()})
    if not ids:
        return redirect(
            "/firm/receivables", ("error", "请先勾选要批量确权的应收账款", "Tick the receivables to confirm first")
        )
    undertaking = _undertaking(form)
    items = [{"receivable_id": i, "irrevocable_undertaking": undertaking} for i in ids]
    try:
        done = fs.confirm_receivables(UnitOfWork(engine, clock), user.actor, items)
    except DomainError as exc:
        failures = exc.detail if isinstance(exc.detail, list) else []
        return _receivables_page(
            request,
            user,
            session,
            failures=[f for f in failures if isinstance(f, dict)],
            failure_message=(exc.message_zh, exc.message_en),
            ticked=set(ids),
            status_code=422,
        )
    return redirect(
        "/firm/receivables",
        ("ok", f"已批量确权{len(done)}笔应收账款", f"{len(done)} receivables confirmed in one batch"),
    )


@router.post("/receivables/{receivable_id}/dispute")
def dispute_receivable(
    receivable_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    reason = form_values(form, "reason")["reason"]
    return act(
        lambda: fs.dispute_receivable(UnitOfWork(engine, clock), user.actor, receivable_id, reason),
        ok_url="/firm/receivables",
        ok=(
            f"已拒绝确权应收账款 #{receivable_id}，债权人会收到您的理由",
            f"Receivable #{receivable_id} disputed; the creditor sees your reason",
        ),
        back_url="/firm/receivables",
    )
