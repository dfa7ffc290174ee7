"""The bank's decisions on an application: start review, approve (first or second), reject, ask for
information, disburse exactly once; a refusal shows the page again with its reasons in both languages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.web.pages.bank.application import show_application
from api.web.render import act, field_errors, form_values, redirect
from api.web.session import BankPage, FormDep, WebUser
from finance import service as fs
from qianfan.errors import DomainError, InvalidInput
from qianfan.models import ApplicationStatus
from qianfan.uow import UnitOfWork

router = APIRouter()

APPROVE_FIELDS = ("amount", "annual_rate", "note")
DECISION_FIELDS = (*APPROVE_FIELDS, "reason", "question")


def _back(application_id: int) -> str:
    return f"/bank/applications/{application_id}"


@router.post("/applications/{application_id}/start-review")
def start_review(application_id: int, user: BankPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: fs.start_review(UnitOfWork(engine, clock), user.actor, application_id),
        ok_url=_back(application_id),
        ok=("已开始审核", "Review started"),
        back_url=_back(application_id),
    )


def _refused(
    request: Request,
    user: WebUser,
    session: Session,
    settings: Any,
    clock: Any,
    application_id: int,
    exc: DomainError,
    values: dict[str, str],
    failed: str,
) -> Response:
    """The page again, with what was typed, the fields the use case named and its message in both languages."""
    session.rollback()  # read what the refused unit of work left (nothing), not an older snapshot
    return show_application(
        request,
        user,
        session,
        settings,
        clock.now(),
        application_id,
        values=values,
        errors=field_errors(exc) if isinstance(exc, InvalidInput) else {},
        message=(exc.message_zh, exc.message_en),
        failed=failed,
        status_code=422,
    )


def _rate_percent(text: str) -> Decimal | None:
    """The annual rate typed in per cent (``4.25``) as the decimal the use case takes (``0.0425``)."""
    if not text:
        return None
    try:
        value = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput(
            "年利率请填写数字（百分比），如 4.25",
            "Enter the annual rate as a number in per cent, e.g. 4.25",
            detail=[{"field": "annual_rate", "message": "请填写数字，如 4.25", "message_en": "A number, e.g. 4.25"}],
        ) from None
    if not value.is_finite():
        raise InvalidInput(
            "年利率请填写数字（百分比），如 4.25",
            "Enter the annual rate as a number in per cent, e.g. 4.25",
            detail=[{"field": "annual_rate", "message": "请填写数字，如 4.25", "message_en": "A number, e.g. 4.25"}],
        )
    return value / 100


@router.post("/applications/{application_id}/approve")
def approve(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, *APPROVE_FIELDS)
    try:
        data: dict[str, Any] = {"note": values["note"]}
        if values["amount"]:
            data["amount"] = values["amount"]
        rate = _rate_percent(values["annual_rate"])
        if rate is not None:
            data["annual_rate"] = rate
        app = fs.approve(UnitOfWork(engine, clock), user.actor, application_id, data)
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "approve")
    if app.status == ApplicationStatus.AWAITING_SECOND_APPROVAL:
        ok = (
            "初审已批准：金额达到双人审批标准，待另一位审批人复核",
            "First approval given: the amount needs a second approver",
        )
    else:
        ok = ("已批准，融资要约已发给企业签署", "Approved: the offer has gone to the SME to sign")
    return redirect(_back(application_id), ("ok", *ok))


@router.post("/applications/{application_id}/reject")
def reject(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, "reason")
    try:
        fs.reject(UnitOfWork(engine, clock), user.actor, application_id, values["reason"])
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "reject")
    return redirect(
        _back(application_id), ("ok", "已拒绝该申请，额度已释放", "Application rejected; the limits are released")
    )


@router.post("/applications/{application_id}/request-info")
def request_info(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, "question")
    try:
        fs.request_info(UnitOfWork(engine, clock), user.actor, application_id, values["question"])
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "request_info")
    return redirect(
        _back(application_id),
        ("ok", "已要求企业补充材料，时钟计入企业一方", "Information requested; the clock now runs on the SME's time"),
    )


@router.post("/applications/{application_id}/disburse")
def disburse(application_id: int, user: BankPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    key = form.get("idempotency_key")
    return act(
        lambda: fs.disburse(UnitOfWork(engine, clock), user.actor, application_id, key if isinstance(key, str) else ""),
        ok_url=_back(application_id),
        ok=("已放款，贷款已生成", "Disbursed: the loan is running"),
        back_url=_back(application_id),
    )
