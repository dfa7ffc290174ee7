"""A contract the SME supplies under: its settlement (plan, payments, the 60-day rule) and contract (order) finance."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlmodel import Session

from api.web import labels
from api.web.pages._forms import Page, SmeGet, SmePost
from api.web.pages.firm import SETTLEMENT_LABELS, settlement_rows
from api.web.pages.sme._shared import (
    APPLICATION_NAMES,
    CAP_NAMES,
    FormRefusal,
    FormState,
    org_names,
    plain_yuan,
)
from api.web.render import redirect, render
from api.web.session import WebUser
from finance import service as fs
from finance.access import load_contract_for
from finance.limits import BindingConstraint
from finance.queries.applications import contract_finance_applications, live_application_on_contract
from finance.queries.loans import contract_loans
from finance.queries.products import contract_products_for_buyer, product_for
from qianfan.clock import to_local
from qianfan.errors import InvalidInput
from qianfan.models import BankProduct, ContractStatus, FinanceKind
from qianfan.uow import UnitOfWork

router = APIRouter()


def _contract_products(session: Session, user: WebUser, buyer_id: int) -> list[tuple[BankProduct, str]]:
    """Active contract-finance products of the banks that have a credit line for the buyer, with the bank's name."""
    return contract_products_for_buyer(session, user.actor, buyer_id)


#: The limits as they read for a contract: the advance is on the unpaid contract value, not a confirmed amount.
CONTRACT_CAP_NAMES: dict[str, tuple[str, str]] = {
    **CAP_NAMES,
    BindingConstraint.ADVANCE_RATE.value: ("未付合同金额×融资比例", "unpaid contract value × advance rate"),
}


def _contract_quote_view(
    engine: Any, clock: Any, user: WebUser, contract_id: int, product: BankProduct
) -> dict[str, Any]:
    """The live maximum on the contract at this product's bank (:func:`fs.contract_quote`), every limit named."""
    assert product.id is not None
    try:
        quote = fs.contract_quote(UnitOfWork(engine, clock), user.actor, contract_id, product.bank_id, product.id)
    except FormRefusal as exc:
        return {"ok": False, "message": (exc.message_zh, exc.message_en)}
    return {
        "ok": True,
        "quote": quote,
        "binding": CONTRACT_CAP_NAMES.get(
            quote.binding_constraint, (quote.binding_constraint, quote.binding_constraint)
        ),
        "caps": [
            (CONTRACT_CAP_NAMES.get(key, (key, key)), value, key == quote.binding_constraint)
            for key, value in quote.limits_fen.items()
        ],
        "max_plain": plain_yuan(quote.max_amount_fen),
    }


def _contract_page(
    page: Page, contract_id: int, *, product_id: int | None = None, state: FormState | None = None
) -> Response:
    """The contract's settlement and its finance form at the chosen product's bank; without a *state* (the form
    after a refusal) the amount offered is the live maximum."""
    user, session, engine, clock = page.user, page.session, page.engine, page.clock
    contract = load_contract_for(session, user.actor, contract_id)
    view = fs.contract_settlement(session, user.actor, contract_id, to_local(clock.now()).date())
    live = live_application_on_contract(session, user.actor, contract_id)
    history = contract_finance_applications(session, user.actor, contract_id)
    loans = {loan.application_id: loan for loan in contract_loans(session, user.actor, contract_id)}
    can_apply = contract.status == ContractStatus.ACTIVE and live is None
    products = _contract_products(session, user, contract.buyer_id) if can_apply else []
    chosen = next(((p, n) for p, n in products if p.id == product_id), None)
    if chosen is None and len(products) == 1:
        chosen = products[0]
    quote = _contract_quote_view(engine, clock, user, contract_id, chosen[0]) if chosen is not None else None
    if state is None:
        state = FormState({"amount": quote["max_plain"] if quote and quote["ok"] else ""})
    values = {**state.values}
    values["product"] = str(chosen[0].id) if chosen is not None else ""
    context = {
        "contract": contract,
        "buyer": org_names(session, [contract.buyer_id]).get(contract.buyer_id, "—"),
        "view": view,
        "rows": settlement_rows(view),
        "labels": SETTLEMENT_LABELS,
        "contract_names": labels.CONTRACT_STATES,
        "live": live,
        "history": history,
        "loans": loans,
        "bank_names": org_names(session, [a.bank_id for a in history]),
        "can_apply": can_apply,
        "products": products,
        "product_options": [(str(p.id), f"{n} · {p.name}（{percent_text(p.advance_rate)}）") for p, n in products],
        "chosen": chosen,
        "quote": quote,
        "values": values,
        "errors": state.errors,
        "message": state.message,
        "key": uuid.uuid4().hex,
        "waterfall": [p for p in view.payments if p.allocation],
        "waterfall_parts": labels.WATERFALL,
        "status_names": APPLICATION_NAMES,
        "loan_names": labels.LOAN_STATES,
    }
    return render(page.request, "sme/contract.html", context, user=user, status_code=state.status_code)


def percent_text(rate: Any) -> str:
    """An advance rate as a percentage (``0.8000`` → ``80%``), exact."""
    return f"{(Decimal(str(rate)) * 100).normalize():f}%"


@router.get("/contracts/{contract_id}")
def contract_page(contract_id: int, page: SmeGet, product: int | None = None) -> Response:
    """The settlement of a contract the SME supplies under (read-only: the plan, the payments, what is overdue and
    whether the buyer is late under the 60-day rule), its contract finance — the live maximum at a chosen bank and
    the application form before delivery, or the live application — and the waterfall of every buyer payment that
    repaid the contract loan.  Any other contract is a 404 page."""
    return _contract_page(page, contract_id, product_id=product)


@router.post("/contracts/{contract_id}/finance")
def apply_contract_finance(contract_id: int, post: SmePost) -> Response:
    """Apply for contract (order) finance → :func:`fs.apply_for_contract_finance` (idempotent on the form's key)."""
    user, session = post.user, post.session
    load_contract_for(session, user.actor, contract_id)  # another's contract is not found
    values = post.values("product", "amount", "key")
    product_id = int(values["product"]) if values["product"].isdigit() and len(values["product"]) < 12 else None
    product = product_for(session, user.actor, product_id) if product_id else None
    try:
        if product is None or product.kind != FinanceKind.CONTRACT or not product.is_active:
            raise InvalidInput(
                "请选择提供订单融资的银行",
                "Choose a bank that offers contract finance",
                detail=[{"field": "product", "message": "请选择银行", "message_en": "Choose a bank"}],
            )
        app = fs.apply_for_contract_finance(
            post.uow(),
            user.actor,
            {
                "contract_id": contract_id,
                "bank_id": product.bank_id,
                "product_id": product.id,
                "amount": values["amount"],
                "idempotency_key": values["key"][:64] or None,
            },
        )
    except FormRefusal as exc:
        session.rollback()
        state = FormState.limited({"amount": values["amount"]}, exc)
        return _contract_page(post, contract_id, product_id=product_id, state=state)
    return redirect(
        f"/sme/finance/{app.id}",
        (
            "ok",
            "订单融资申请已提交，48小时计时开始",
            "Contract finance application submitted; the 48-hour clock has started",
        ),
    )
