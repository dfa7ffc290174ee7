"""Suggested revolving credit lines: pick an SME whose record this bank may read (授权查询: the SME applied to the
bank, or granted it access in its portal — :mod:`finance.service.record_access`), read its suggested line with the
grounds, every reason and the 12-month record behind it, and (an admin or approver) accept or decline it.  Any
other SME is neither listed nor found, and its page is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from accounts.queries import organisation_by_id
from api.deps import ClockDep, EngineDep, SessionDep
from api.params import MAX_ID
from api.web import labels
from api.web.pages.bank._shared import APP_STATES, KIND_LABELS, LINE_STATES
from api.web.render import field_errors, form_values, redirect, render, yuan
from api.web.session import BankPage, FormDep, WebUser
from finance import credit_suggestion as cs
from finance import service as fs
from finance.limits import add_months
from finance.queries.credit_suggestions import decider_of, latest_applications_from, line_for_sme
from finance.record_access import GroundsKind
from finance.service.chain_finance import LINE_DECIDERS
from finance.service.credit_suggestion import WINDOW_MONTHS
from qianfan.clock import to_local
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from qianfan.models import SmeCreditLine, SmeLineStatus
from qianfan.uow import UnitOfWork

router = APIRouter()

#: The figures of the 12-month trade record and a reason's effect (shared with the SME's own page).
FIGURE_LABELS = labels.FIGURE_LABELS
EFFECT_LABELS = labels.EFFECT_LABELS
figure_text = labels.figure_text
SME_SEARCH_LIMIT = 30


@router.get("/credit-suggestions")
def credit_suggestions(
    request: Request, user: BankPage, session: SessionDep, clock: ClockDep, sme_id: str = "", q: str = ""
) -> Response:
    """Pick an SME whose record this bank may read (授权查询: it applied to the bank, or granted it access), from
    the list grouped by those grounds or by a part of its name.  No other SME is offered or found."""
    if sme_id.strip().isdigit() and 1 <= int(sme_id) <= MAX_ID:
        return redirect(f"/bank/credit-suggestions/{int(sme_id)}")
    now = clock.now()
    readable = fs.readable_smes(session, user.actor.organisation_id, now)
    q = q.strip()[:100]
    found: list[fs.ReadableSme] | None = None
    if q:
        found = fs.readable_smes(session, user.actor.organisation_id, now, name_contains=q, limit=SME_SEARCH_LIMIT + 1)
    errors = {}
    if sme_id.strip():
        errors["sme_id"] = ("请选择一家企业", "Choose an SME")
    context = {
        "applied": [r for r in readable if r.grounds.kind == GroundsKind.APPLIED],
        "granted": [r for r in readable if r.grounds.kind == GroundsKind.GRANTED],
        "options": [(r.sme_id, r.name) for r in readable],
        "found": found[:SME_SEARCH_LIMIT] if found is not None else None,
        "more": found is not None and len(found) > SME_SEARCH_LIMIT,
        "values": {"q": q, "sme_id": ""},
        "errors": errors,
        "limit": SME_SEARCH_LIMIT,
    }
    return render(request, "bank/credit_suggestions.html", context, user=user, status_code=422 if errors else 200)


LINE_FIELDS = ("decision", "limit", "note")


def _line_of(session: Session, user: WebUser, sme_id: int) -> SmeCreditLine | None:
    return line_for_sme(session, user.actor, sme_id)


def _plain_yuan(fen: int) -> str:
    """Fen as a plain yuan string for an input (``134000000`` → ``1340000.00``), exact."""
    return f"{fen // 100}.{fen % 100:02d}"


def _suggestion_page(
    request: Request,
    user: WebUser,
    session: Session,
    now: datetime,
    sme_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if not 1 <= sme_id <= MAX_ID:
        raise NotFound.of("中小企业", "SME", sme_id)
    today = to_local(now).date()
    # 授权查询: the grounds this bank reads the SME's record on (shown with their date); none is a 404
    grounds = fs.require_record_access(session, user.actor, sme_id, now)
    suggestion = fs.suggest_credit_line(session, user.actor, sme_id, today, now=now)
    sme = organisation_by_id(session, sme_id)
    assert sme is not None
    record = suggestion.record
    line = _line_of(session, user, sme_id)
    decider = decider_of(session, line)
    if values is None:
        current = line.limit_fen if line is not None and line.status == SmeLineStatus.ACTIVE else 0
        default = min(current, suggestion.amount_fen) if current else suggestion.amount_fen
        values = {"limit": _plain_yuan(default) if suggestion.has_line else "", "note": ""}
    context = {
        "sme": sme,
        "grounds": grounds,
        "s": suggestion,
        "line": line,
        "decider": decider,
        "line_states": LINE_STATES,
        "can_decide": user.user.role in LINE_DECIDERS,
        "values": values,
        "errors": errors or {},
        "message": message,
        "reasons": [
            (
                r,
                FIGURE_LABELS.get(r.figure, (r.figure, r.figure)),
                figure_text(r.figure, r.value),
                EFFECT_LABELS[r.effect.value],
            )
            for r in suggestion.reasons
        ],
        "record_rows": [
            (label, figure_text(figure, record.value_of(figure))) for figure, label in FIGURE_LABELS.items()
        ],
        "window_start": add_months(today, -WINDOW_MONTHS),
        "applications": latest_applications_from(session, user.actor, sme_id, 5),
        "app_states": APP_STATES,
        "kind_labels": KIND_LABELS,
        "rules": {
            "base": cs.BASE_RATE_PCT,
            "max_rate": cs.MAX_RATE_PCT,
            "multiple": cs.LARGEST_DEAL_MULTIPLE,
            "cap_fen": cs.MAX_LINE_FEN,
            "unit_fen": cs.ROUND_UNIT_FEN,
            "min_months": cs.MIN_MONTHS_ON_PLATFORM,
            "min_deals": cs.MIN_SETTLED_DEALS,
        },
    }
    return render(request, "bank/credit_suggestion.html", context, user=user, status_code=status_code)


@router.get("/credit-suggestions/{sme_id}")
def credit_suggestion(sme_id: int, request: Request, user: BankPage, session: SessionDep, clock: ClockDep) -> Response:
    """The suggested revolving line of one SME with every reason and the 12-month record behind it, the bank's
    current line for it, and (for an admin or approver) the form to accept or decline the suggestion."""
    return _suggestion_page(request, user, session, clock.now(), sme_id)


def form_field_errors(exc: DomainError) -> dict[str, tuple[str, str]]:
    """The fields a refusal names: an ``InvalidInput``'s list, or a rule's ``{"field": …}`` detail."""
    if isinstance(exc, InvalidInput):
        return field_errors(exc)
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("field"), str):
        return {detail["field"]: (exc.message_zh, exc.message_en)}
    return {}


@router.post("/credit-suggestions/{sme_id}/decision")
def decide_suggested_line(
    sme_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    """Accept the suggested line (at most the suggestion) or decline it, with a note → :func:`fs.decide_line`."""
    values = form_values(form, *LINE_FIELDS)
    accept = values["decision"] == "accept"
    data: dict[str, Any] = {"accept": accept, "note": values["note"]}
    if accept and values["limit"]:
        data["limit"] = values["limit"]
    try:
        if values["decision"] not in ("accept", "decline"):
            raise InvalidInput(
                "请选择接受或拒绝",
                "Choose to accept or to decline",
                detail=[{"field": "decision", "message": "请选择接受或拒绝", "message_en": "Accept or decline"}],
            )
        line = fs.decide_line(UnitOfWork(engine, clock), user.actor, sme_id, data)
    except (InvalidInput, RuleViolation, Conflict) as exc:
        session.rollback()
        return _suggestion_page(
            request,
            user,
            session,
            clock.now(),
            sme_id,
            values=values,
            errors=form_field_errors(exc),
            message=(exc.message_zh, exc.message_en),
            status_code=422,
        )
    if line.status == SmeLineStatus.ACTIVE:
        ok = (
            f"已核定循环额度 {yuan(line.limit_fen)}，到期日 {line.expires_on}；企业现在可以支用",
            f"Revolving line of {yuan(line.limit_fen)} set, expiring {line.expires_on}; the SME may now draw on it",
        )
    elif line.status == SmeLineStatus.CLOSED:
        ok = ("已关闭该企业的循环额度", "The SME's revolving line is closed")
    else:
        ok = ("已拒绝建议额度", "The suggested line is declined")
    return redirect(f"/bank/credit-suggestions/{sme_id}", ("ok", *ok))
