"""The contracts the firm buys under: their settlement (payment plan, acceptance, payments) and the
form behind each."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter
from fastapi.responses import Response
from sqlmodel import Session

from api.routes.lists import PathId
from api.web.pages._forms import FirmGet, FirmPost, Page
from api.web.pages.firm._shared import SETTLEMENT_LABELS, firm_page, local_today, org_names, settlement_rows
from api.web.render import redirect
from api.web.session import WebUser
from finance import service as fs
from finance import settlement as settlement_rules
from finance.access import load_contract_for
from finance.queries.statements import statement_imports_made_by
from finance.service.settlement import OPEN_CONTRACT
from market.queries_buyer import contracts_bought_by
from qianfan.errors import DomainError, InvalidInput, NotFound
from qianfan.models import Contract, ContractStatus
from qianfan.money import fen_to_yuan, yuan_to_fen

router = APIRouter()

PLAN_KINDS = ("advance", "acceptance", "final", "retention")
PLAN_FIELDS = (*(f"{kind}_percent" for kind in PLAN_KINDS), "advance_due_on", "acceptance_days", "final_days",
               "retention_days")  # fmt: skip
PAYMENT_FIELDS = ("amount", "paid_on", "reference", "idempotency_key")
CONTRACTS_SHOWN = 200
IMPORTS_SHOWN = 20


@dataclass
class ContractRow:
    contract: Contract
    supplier: str
    view: fs.Settlement


def _percent_text(amount_fen: int, total_fen: int) -> str:
    value = Decimal(amount_fen * 100) / Decimal(total_fen)
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def _plan_values(view: fs.Settlement) -> dict[str, str]:
    """The plan form filled with the contract's plan (the statutory default until one is set)."""
    values = dict.fromkeys(PLAN_FIELDS, "")
    values.update(
        acceptance_days="30",
        final_days=str(settlement_rules.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE),
        retention_days="365",
    )
    values["advance_due_on"] = (view.plan.contract_on + timedelta(days=7)).isoformat()
    for item in view.plan.instalments:
        kind = item.kind.value
        values[f"{kind}_percent"] = _percent_text(item.amount_fen, view.plan.contract_amount_fen)
        if item.due_on is not None and kind == "advance":
            values["advance_due_on"] = item.due_on.isoformat()
        elif item.days_after_acceptance is not None and kind != "advance":
            values[f"{kind}_days"] = str(item.days_after_acceptance)
    return values


def _own_contract(session: Session, user: WebUser, contract_id: int) -> Contract:
    """A contract the firm buys under (read through ``finance.access``); any other is a 404 page."""
    contract = load_contract_for(session, user.actor, contract_id)
    if contract.buyer_id != user.organisation_id:
        raise NotFound.of("合同", "Contract", contract_id)
    return contract


def show_contracts(page: Page, *, import_error: tuple[str, str] | None = None, status_code: int = 200) -> Response:
    request, user, session = page.request, page.user, page.session
    today = local_today(page.clock)
    contracts = contracts_bought_by(session, user.actor, limit=CONTRACTS_SHOWN)
    names = org_names(session, {c.supplier_id for c in contracts})
    rows = []
    for contract in contracts:
        assert contract.id is not None
        view = fs.contract_settlement(session, user.actor, contract.id, today)
        rows.append(ContractRow(contract, names.get(contract.supplier_id, "—"), view))
    return firm_page(
        request,
        "contracts.html",
        user,
        status_code=status_code,
        rows=rows,
        late_count=sum(1 for r in rows if r.view.lateness.is_late),
        outstanding_fen=sum(r.view.outstanding_fen for r in rows),
        overdue_fen=sum(r.view.overdue_fen for r in rows),
        imports=statement_imports_made_by(session, user.actor, limit=IMPORTS_SHOWN),
        import_error=import_error,
        labels=SETTLEMENT_LABELS,
        max_kb=settlement_rules.MAX_STATEMENT_BYTES // 1024,
    )


@router.get("/contracts")
def contracts(page: FirmGet) -> Response:
    return show_contracts(page)


@dataclass(frozen=True, slots=True)
class RefusedForm:
    """What the contract page shows again after a refusal: what was typed in the refused form (``plan``, ``accept``
    or ``pay``), the fields in error, and a message at the top of one form (``(form, 中文, English)``) or of the
    statement import (``(中文, English)``)."""

    plan: dict[str, str] | None = None
    accept: dict[str, str] | None = None
    pay: dict[str, str] | None = None
    errors: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    message: tuple[str, str, str] | None = None
    import_error: tuple[str, str] | None = None


def show_contract(page: Page, contract_id: int, refused: RefusedForm | None = None) -> Response:
    """The contract's settlement and its forms; a refused form comes back (422) with what was typed, its errors and
    a message at its top."""
    shown = refused or RefusedForm()
    request, user, session = page.request, page.user, page.session
    contract = _own_contract(session, user, contract_id)
    today = local_today(page.clock)
    view = fs.contract_settlement(session, user.actor, contract_id, today)
    open_ = contract.status in OPEN_CONTRACT  # open to a plan and to payments
    return firm_page(
        request,
        "contract.html",
        user,
        status_code=200 if refused is None else 422,
        contract=contract,
        supplier=org_names(session, {contract.supplier_id}).get(contract.supplier_id, "—"),
        view=view,
        rows=settlement_rows(view),
        today=today,
        labels=SETTLEMENT_LABELS,
        can_plan=open_ and not view.payments,
        can_accept=contract.accepted_on is None and contract.status == ContractStatus.ACTIVE,
        can_pay=open_,
        plan_values=shown.plan or _plan_values(view),
        accept_values=shown.accept or {"accepted_on": today.isoformat()},
        pay_values=shown.pay or {"paid_on": today.isoformat(), "idempotency_key": f"web-{uuid.uuid4().hex}"},
        errors=dict(shown.errors),
        message=shown.message,
        import_error=shown.import_error,
        max_kb=settlement_rules.MAX_STATEMENT_BYTES // 1024,
    )


@router.get("/contracts/{contract_id}")
def contract_page(contract_id: PathId, page: FirmGet) -> Response:
    return show_contract(page, contract_id)


def _form_field(exc: DomainError, fields: tuple[str, ...], default: str) -> dict[str, tuple[str, str]]:
    """The field a refusal names (``detail["field"]``) when the form has it, else the form's *default* field."""
    detail = exc.detail
    name = str(detail.get("field", "")) if isinstance(detail, dict) else ""
    return {name if name in fields else default: (exc.message_zh, exc.message_en)}


def _plan_terms(values: dict[str, str]) -> tuple[list[settlement_rules.PlanTerm], dict[str, tuple[str, str]]]:
    """The plan form → percentage terms (a blank or zero percentage leaves that instalment out) and field errors."""
    terms: list[settlement_rules.PlanTerm] = []
    errors: dict[str, tuple[str, str]] = {}
    for kind in PLAN_KINDS:
        name = f"{kind}_percent"
        raw = values[name].removesuffix("%").strip()
        if not raw:
            continue
        try:
            percent = Decimal(raw)
        except InvalidOperation:
            percent = Decimal("NaN")
        if not percent.is_finite() or not 0 <= percent <= 100:
            errors[name] = (
                "比例须是 0 到 100 之间的数字，如 30 或 12.5",
                "A percentage from 0 to 100, e.g. 30 or 12.5",
            )
            continue
        if percent == 0:
            continue
        weight: int | Decimal = int(percent) if percent == percent.to_integral_value() else percent
        instalment = settlement_rules.InstalmentKind(kind)
        if kind == "advance":
            try:
                due = date.fromisoformat(values["advance_due_on"])
            except ValueError:
                errors["advance_due_on"] = ("请填写预付款的付款日期", "Give the date the advance is due")
                continue
            terms.append(settlement_rules.PlanTerm(instalment, weight, due_on=due))
            continue
        days = values[f"{kind}_days"]
        if not (days.isascii() and days.isdigit()) or int(days) > settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE:
            errors[f"{kind}_days"] = (
                f"验收后天数须是 0 到 {settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE} 的整数",
                f"Days after acceptance: a whole number from 0 to {settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE}",
            )
            continue
        terms.append(settlement_rules.PlanTerm(instalment, weight, days_after_acceptance=int(days)))
    if not terms and not errors:
        errors["final_percent"] = ("请至少填写一期的比例", "Give the percentage of at least one instalment")
    return terms, errors


@router.post("/contracts/{contract_id}/plan")
def set_plan(contract_id: PathId, post: FirmPost) -> Response:
    _own_contract(post.session, post.user, contract_id)
    values = post.values(*PLAN_FIELDS)
    terms, errors = _plan_terms(values)
    if not errors:
        try:
            fs.set_payment_plan(post.uow(), post.user.actor, contract_id, percentages=terms)
        except DomainError as exc:
            message = ("plan", exc.message_zh, exc.message_en)
            return show_contract(post, contract_id, RefusedForm(plan=values, message=message))
        return redirect(
            f"/firm/contracts/{contract_id}",
            ("ok", "付款计划已保存，各期到期日见下表", "Payment plan saved; each instalment's due date is below"),
        )
    return show_contract(post, contract_id, RefusedForm(plan=values, errors=errors))


@router.post("/contracts/{contract_id}/accept")
def accept_delivery(contract_id: PathId, post: FirmPost) -> Response:
    _own_contract(post.session, post.user, contract_id)
    values = post.values("accepted_on")
    try:
        accepted_on = date.fromisoformat(values["accepted_on"])
    except ValueError:
        errors = {"accepted_on": ("请填写验收日期", "Give the date the delivery was accepted")}
        return show_contract(post, contract_id, RefusedForm(accept=values, errors=errors))
    try:
        fs.accept_delivery(post.uow(), post.user.actor, contract_id, accepted_on)
    except DomainError as exc:
        errors = _form_field(exc, ("accepted_on",), "accepted_on")
        return show_contract(post, contract_id, RefusedForm(accept=values, errors=errors))
    deadline = accepted_on + timedelta(days=settlement_rules.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE)
    return redirect(
        f"/firm/contracts/{contract_id}",
        (
            "ok",
            f"已于 {accepted_on} 验收；验收款与尾款最迟应于 {deadline} 前付清（60日规则）",
            f"Accepted on {accepted_on}; the acceptance and final payments are due by {deadline} at the latest "
            "(the 60-day rule)",
        ),
    )


@router.post("/contracts/{contract_id}/payments")
def record_payment(contract_id: PathId, post: FirmPost) -> Response:
    _own_contract(post.session, post.user, contract_id)
    values = post.values(*PAYMENT_FIELDS)
    errors: dict[str, tuple[str, str]] = {}
    amount_fen = 0
    try:
        amount_fen = yuan_to_fen(values["amount"])
    except DomainError as exc:
        errors["amount"] = (exc.message_zh, exc.message_en)
    try:
        paid_on = date.fromisoformat(values["paid_on"])
    except ValueError:
        errors["paid_on"] = ("请填写付款日期", "Give the date of the payment")
    ref = values["reference"] or values["idempotency_key"]
    if not ref:
        errors["reference"] = ("请填写付款的银行流水号或凭证号", "Give the payment's bank reference")
    if errors:
        return show_contract(post, contract_id, RefusedForm(pay=values, errors=errors))
    try:
        done = fs.record_payment(post.uow(), post.user.actor, contract_id, ref, amount_fen, paid_on)
    except DomainError as exc:
        errors = _form_field(exc, ("amount", "paid_on", "reference"), "amount")
        if isinstance(exc, InvalidInput):
            return show_contract(post, contract_id, RefusedForm(pay=values, errors=errors))
        message = ("pay", exc.message_zh, exc.message_en)
        return show_contract(post, contract_id, RefusedForm(pay=values, message=message))
    here = f"/firm/contracts/{contract_id}"
    amount = fen_to_yuan(amount_fen)
    if not done.created:
        return redirect(
            here,
            (
                "info",
                f"这笔付款（{ref}）已登记过，没有重复记录",
                f"This payment ({ref}) was recorded before; not twice",
            ),
        )
    zh, en = f"已登记付款 ¥{amount}", f"Payment of ¥{amount} recorded"
    if done.surplus_fen:
        surplus = fen_to_yuan(done.surplus_fen)
        zh, en = zh + f"；超出应付 ¥{surplus}，请与供应商约定退还", en + f"; ¥{surplus} beyond what is owed, to refund"
    if done.completed:
        zh, en = zh + "；合同已结清", en + "; the contract is settled"
    return redirect(here, ("ok", zh, en))
