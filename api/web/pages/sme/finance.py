"""Receivables finance: the SME's applications, and the wizard (part → product → amount → review) with its live
maximum."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from accounts.queries import organisation_by_id
from api.deps import ClockDep, EngineDep, SessionDep
from api.web import labels
from api.web.pages.sme._shared import (
    APPLICATION_NAMES,
    CAP_NAMES,
    FormRefusal,
    org_names,
    plain_yuan,
)
from api.web.render import form_values, redirect, render
from api.web.session import FormDep, SmePage
from finance import service as fs
from finance.limits import MAX_DEAL_FEN
from finance.queries.applications import application_list
from finance.queries.contracts import contracts_by_id
from finance.queries.products import active_products_with_banks, product_for
from finance.queries.receivables import financeable_parts, held_part, receivables_by_id
from finance.states import OPEN_APPLICATION_STATES
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from qianfan.models import BankProduct, FinanceKind, Receivable, ReceivablePart
from qianfan.money import format_yuan, yuan_to_fen
from qianfan.uow import UnitOfWork

router = APIRouter()


def _financeable_parts(session: Session, user: SmePage) -> list[tuple[ReceivablePart, Receivable]]:
    """The parts the SME holds of confirmed receivables, not yet in an application: what it can finance."""
    return financeable_parts(session, user.actor)


@router.get("/finance")
def finance_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    apps = application_list(session, user.actor)
    receivables = receivables_by_id(session, user.actor, {a.receivable_id for a in apps if a.receivable_id})
    contracts = contracts_by_id(session, user.actor, {a.contract_id for a in apps if a.contract_id is not None})
    context = {
        "apps": apps,
        "receivables": receivables,
        "contracts": contracts,
        "kind_names": labels.FINANCE_KINDS,
        "names": org_names(session, [a.bank_id for a in apps]),
        "status_names": APPLICATION_NAMES,
        "open_states": {s.value for s in OPEN_APPLICATION_STATES},
        "financeable": len(_financeable_parts(session, user)),
    }
    return render(request, "sme/finance.html", context, user=user)


def _products(session: Session, user: SmePage) -> list[tuple[BankProduct, str]]:
    """The receivables-finance products the wizard offers (contract finance is on the contract's page, drawdowns
    on /sme/credit-lines)."""
    return active_products_with_banks(session, user.actor, FinanceKind.RECEIVABLE)


def _quote_view(
    engine: Any, clock: Any, user: SmePage, part_id: int, product: BankProduct, amount_text: str
) -> dict[str, Any]:
    """The live maximum for (part, product) and what it says about *amount_text*: every cap, which one binds,
    and whether the amount may be asked for.  A refusal of the quote itself is a message, not an error."""
    assert product.id is not None
    try:
        quote = fs.quote(UnitOfWork(engine, clock), user.actor, part_id, product.bank_id, product.id)
    except (InvalidInput, RuleViolation, Conflict) as exc:
        return {"ok": False, "message_zh": exc.message_zh, "message_en": exc.message_en, "caps": []}
    caps = [
        {
            "key": key,
            "zh": CAP_NAMES.get(key, (key, key))[0],
            "en": CAP_NAMES.get(key, (key, key))[1],
            "fen": value,
            "text": format_yuan(value),
            "binding": key == quote.binding_constraint,
        }
        for key, value in quote.limits_fen.items()
    ]
    view: dict[str, Any] = {
        "ok": True,
        "max_fen": quote.max_amount_fen,
        "max_text": format_yuan(quote.max_amount_fen),
        "max_plain": plain_yuan(quote.max_amount_fen),
        "binding": quote.binding_constraint,
        "binding_zh": CAP_NAMES.get(quote.binding_constraint, ("", ""))[0],
        "binding_en": CAP_NAMES.get(quote.binding_constraint, ("", ""))[1],
        "caps": caps,
        "due_date": quote.due_date.isoformat(),
        "amount_ok": False,
        "amount_fen": None,
        "message_zh": "",
        "message_en": "",
    }
    if amount_text:
        try:
            amount_fen = yuan_to_fen(amount_text)
        except DomainError as exc:
            view["message_zh"], view["message_en"] = exc.message_zh, exc.message_en
            return view
        view["amount_fen"] = amount_fen
        view["amount_text"] = format_yuan(amount_fen)
        if amount_fen > quote.max_amount_fen:
            view["message_zh"] = (
                f"申请金额{format_yuan(amount_fen)}超过可申请的最高金额{format_yuan(quote.max_amount_fen)}"
                f"（受限于：{view['binding_zh']}）"
            )
            view["message_en"] = (
                f"{format_yuan(amount_fen)} is above the maximum of {format_yuan(quote.max_amount_fen)} "
                f"(limited by the {view['binding_en']})"
            )
        else:
            view["amount_ok"] = True
    return view


@router.get("/finance/quote")
def finance_quote(
    user: SmePage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    part: int = 0,
    product: int = 0,
    amount: str = "",
) -> JSONResponse:
    """The wizard's live maximum (``sme.js``): the same quote use case the page shows, as JSON."""
    row = product_for(session, user.actor, product) if product else None
    if row is None or not row.is_active:
        body: dict[str, Any] = {
            "ok": False,
            "message_zh": "请选择融资产品",
            "message_en": "Choose a finance product",
            "caps": [],
        }
    else:
        body = _quote_view(engine, clock, user, part, row, amount.strip()[:32])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True, slots=True)
class WizardChoice:
    """Where the SME is in the wizard: the part and the product chosen so far, the amount typed, and whether it
    asked to review the application before submitting it."""

    part: int | None
    product: int | None
    amount: str
    review: bool = False


def _wizard(
    request: Request,
    user: SmePage,
    session: Session,
    engine: Any,
    clock: Any,
    choice: WizardChoice,
    *,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The wizard at the step *choice* reaches: 1 the part, 2 the product, 3 the amount, 4 the review."""
    part, product, amount = choice.part, choice.product, choice.amount
    parts = _financeable_parts(session, user)
    products = _products(session, user)
    chosen_part = next(((p, r) for p, r in parts if p.id == part), None)
    if part is not None and chosen_part is None and held_part(session, user.actor, part) is None:
        raise NotFound.of("应收账款份额", "Receivable part", part)
    chosen_product = next(((p, n) for p, n in products if p.id == product), None)
    debtor = None
    if chosen_part is not None:
        debtor = organisation_by_id(session, chosen_part[1].debtor_id)
    quote = None
    if chosen_part is not None and chosen_product is not None and chosen_part[0].id is not None:
        quote = _quote_view(engine, clock, user, chosen_part[0].id, chosen_product[0], amount)
    step = 1 if chosen_part is None else 2 if chosen_product is None else 3
    if step == 3 and choice.review and quote and quote.get("amount_ok"):
        step = 4
    context = {
        "step": step,
        "parts": parts,
        "products": products,
        "chosen_part": chosen_part,
        "chosen_product": chosen_product,
        "debtor": debtor,
        "amount": amount,
        "quote": quote,
        "error": error,
        "key": uuid.uuid4().hex,
        "max_deal": MAX_DEAL_FEN,
    }
    return render(request, "sme/apply.html", context, user=user, status_code=status_code)


@router.get("/finance/apply")
def apply_page(
    request: Request,
    user: SmePage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    part: int | None = None,
    product: int | None = None,
    amount: str = "",
    review: str = "",
) -> Response:
    choice = WizardChoice(part, product, amount.strip()[:32], bool(review))
    return _wizard(request, user, session, engine, clock, choice)


@router.post("/finance/apply")
def submit_application(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    values = form_values(form, "part", "product", "amount", "key")
    part = int(values["part"]) if values["part"].isdigit() else None
    product_id = int(values["product"]) if values["product"].isdigit() else None
    product = product_for(session, user.actor, product_id) if product_id else None
    data = {
        "part_id": part,
        "bank_id": product.bank_id if product else None,
        "product_id": product_id,
        "amount": values["amount"],
        "idempotency_key": values["key"][:64] or None,
    }
    try:
        app = fs.apply_for_finance(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        session.rollback()
        choice = WizardChoice(part, product_id, values["amount"])
        return _wizard(
            request, user, session, engine, clock, choice, error=(exc.message_zh, exc.message_en), status_code=422
        )
    return redirect(
        f"/sme/finance/{app.id}",
        ("ok", "融资申请已提交，48小时计时开始", "Application submitted; the 48-hour clock has started"),
    )
