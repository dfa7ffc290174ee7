"""The bank's decisions on an application: start review, approve (first or second), reject, ask for
information, disburse exactly once; a refusal shows the page again with its reasons in both languages."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import SettingsDep
from api.web.pages._forms import BankPost, Post
from api.web.pages.bank.application import show_application
from api.web.render import field_errors, redirect
from finance import service as fs
from qianfan.errors import DomainError, InvalidInput
from qianfan.models import ApplicationStatus, FinanceApplication

router = APIRouter()

T = TypeVar("T")

APPROVE_FIELDS = ("amount", "annual_rate", "note")
DECISION_FIELDS = (*APPROVE_FIELDS, "reason", "question")


def _back(application_id: int) -> str:
    return f"/bank/applications/{application_id}"


@router.post("/applications/{application_id}/start-review")
def start_review(application_id: int, post: BankPost) -> Response:
    return post.act(fs.start_review, application_id, back=_back(application_id), ok=("已开始审核", "Review started"))


def _decide(
    post: Post,
    settings: Any,
    application_id: int,
    failed: str,
    values: dict[str, str],
    run: Callable[[], T],
    ok: Callable[[T], tuple[str, str]],
) -> Response:
    """Run the decision; on success back to the application with *ok* of its result, on a refusal the page again
    (422) with what was typed, the fields the use case named and its message in both languages."""
    try:
        result = run()
    except DomainError as exc:
        post.session.rollback()  # read what the refused unit of work left (nothing), not an older snapshot
        return _refused(post, settings, application_id, exc, values, failed)
    return redirect(_back(application_id), ("ok", *ok(result)))


def _refused(
    post: Post, settings: Any, application_id: int, exc: DomainError, values: dict[str, str], failed: str
) -> Response:
    return show_application(
        post.request,
        post.user,
        post.session,
        settings,
        post.clock.now(),
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
def approve(application_id: int, post: BankPost, settings: SettingsDep) -> Response:
    values = post.values(*APPROVE_FIELDS)

    def run() -> FinanceApplication:
        data: dict[str, Any] = {"note": values["note"]}
        if values["amount"]:
            data["amount"] = values["amount"]
        rate = _rate_percent(values["annual_rate"])
        if rate is not None:
            data["annual_rate"] = rate
        return fs.approve(post.uow(), post.user.actor, application_id, data)

    def ok(app: FinanceApplication) -> tuple[str, str]:
        if app.status == ApplicationStatus.AWAITING_SECOND_APPROVAL:
            return (
                "初审已批准：金额达到双人审批标准，待另一位审批人复核",
                "First approval given: the amount needs a second approver",
            )
        return ("已批准，融资要约已发给企业签署", "Approved: the offer has gone to the SME to sign")

    return _decide(post, settings, application_id, "approve", values, run, ok)


def _decide_on_text(
    post: Post, settings: Any, application_id: int, failed: str, field: str, use_case: Any, ok: tuple[str, str]
) -> Response:
    """A decision whose one input is a text the bank types (the reason of a rejection, the question to the SME)."""
    values = post.values(field)

    def run() -> Any:
        return use_case(post.uow(), post.user.actor, application_id, values[field])

    return _decide(post, settings, application_id, failed, values, run, lambda _: ok)


@router.post("/applications/{application_id}/reject")
def reject(application_id: int, post: BankPost, settings: SettingsDep) -> Response:
    ok = ("已拒绝该申请，额度已释放", "Application rejected; the limits are released")
    return _decide_on_text(post, settings, application_id, "reject", "reason", fs.reject, ok)


@router.post("/applications/{application_id}/request-info")
def request_info(application_id: int, post: BankPost, settings: SettingsDep) -> Response:
    ok = ("已要求企业补充材料，时钟计入企业一方", "Information requested; the clock now runs on the SME's time")
    return _decide_on_text(post, settings, application_id, "request_info", "question", fs.request_info, ok)


@router.post("/applications/{application_id}/disburse")
def disburse(application_id: int, post: BankPost) -> Response:
    key = post.form.get("idempotency_key")
    ok = ("已放款，贷款已生成", "Disbursed: the loan is running")
    return post.act(fs.disburse, application_id, key if isinstance(key, str) else "", back=_back(application_id), ok=ok)
