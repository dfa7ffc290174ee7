"""Data-chain finance use cases (issue 8): contract (order) loans before delivery, repaid from the buyer's payments
into the contract, and revolving lines grown from settled trade — the bank sets or declines the suggested line,
the SME draws down on it.

Both new products go through the receivables pipeline from submission on (risk check, the bank's queue, approval
with four-eyes, the SME's signature, disbursement exactly once, the 48-hour clock, the ledger and the audit chain):
only applying and the risk facts differ (``FinanceApplication.kind``).

What holds under concurrency:

- a contract is financed at most once at a time: ``finance_application.active_contract_id`` is unique and stays
  set while the application or its loan is live; every finance on a contract (its loan and the loans on its
  receivables) first locks the contract row and checks the contract's headroom, so together they never exceed
  its unpaid value;
- a drawdown reserves the SME line's ``used_fen`` under the line's row lock (``CHECK used_fen <= limit_fen``);
- a buyer's payment repays the contract loan once: the ledger reference is the payment's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from finance import limits, sla
from finance import settlement as rules
from finance.access import load_sme_credit_line_for
from finance.queries.credit_lines import sme_credit_line_list
from finance.schemas.inputs import ContractApplicationInput, DrawdownInput, LineDecisionInput
from finance.service import common
from finance.service.common import APP, contract_headroom, financed_on_contract
from finance.service.credit_suggestion import suggest_credit_line
from finance.service.products import product_of_kind
from finance.service.settlement import settlement_of
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, NotFound, RuleViolation
from qianfan.models import (
    Contract,
    ContractStatus,
    CreditLine,
    ExposureLimit,
    FinanceApplication,
    FinanceKind,
    OrgKind,
    SmeCreditLine,
    SmeLineStatus,
    UserRole,
)
from qianfan.money import format_yuan
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import parse_input

LINE = "sme_credit_line"
LINE_DECIDERS = frozenset({UserRole.ADMIN, UserRole.APPROVER})


# --------------------------------------------------------------------------------------------- products


def _submit(
    uow: UnitOfWork,
    actor: Actor,
    reserved: tuple[CreditLine | SmeCreditLine, ExposureLimit],
    app: FinanceApplication,
    **audit: Any,
) -> FinanceApplication:
    """Reserve the application's amount on the (locked) line and exposure, store it with its 48-hour clock started
    now, audit it and publish it for the risk check."""
    now = uow.clock.now()
    for row in reserved:
        row.used_fen += app.requested_fen
        row.updated_at = now
        uow.session.add(row)
    app.applicant_id = actor.organisation_id
    app.applicant_user_id = actor.user_id
    app.submitted_at = now
    app.deadline_at = sla.overall_due_at(now)
    uow.session.add(app)
    uow.session.flush()
    common.enter_stage(uow, app, sla.Stage.RISK_CHECK)
    assert app.id is not None
    uow.audit(APP, app.id, "submitted", actor_id=actor.user_id, kind=app.kind.value, **audit)
    uow.publish(events.APPLICATION_SUBMITTED, application_id=app.id)
    return app


def _previous(
    uow: UnitOfWork, actor: Actor, key: str | None, same: tuple[Any, ...], fields: tuple[str, ...]
) -> FinanceApplication | None:
    if not key:
        return None
    previous = uow.session.exec(
        select(FinanceApplication).where(
            FinanceApplication.applicant_id == actor.organisation_id, FinanceApplication.idempotency_key == key
        )
    ).first()
    if previous is not None and tuple(getattr(previous, f) for f in fields) != same:
        raise Conflict("该幂等键已用于另一笔融资申请", "This idempotency key was used for another finance application")
    return previous


# --------------------------------------------------------------------------------------------- contract loans


@dataclass(frozen=True)
class ContractQuote:
    """What the SME may ask for on a contract: the maximum, the limit that binds it, and when the loan falls due."""

    max_amount_fen: int
    binding_constraint: str
    limits_fen: dict[str, int]
    unpaid_fen: int
    financed_fen: int
    due_date: date
    product_id: int


def _suppliers_contract(session: Session, actor: Actor, contract_id: int, *, lock: bool) -> Contract:
    contract = load_row(session, Contract, contract_id, "合同", "Contract", lock=lock)
    if contract.supplier_id != actor.organisation_id:
        raise NotFound.of("合同", "Contract", contract_id)
    live = session.exec(select(FinanceApplication).where(FinanceApplication.active_contract_id == contract_id)).first()
    if live is not None and lock:
        raise Conflict(
            f"该合同已有进行中的订单融资（申请 {live.id}），同一合同同一时间只能融资一次",
            f"This contract already has contract finance in progress (application {live.id}); "
            "a contract is financed once at a time",
            detail={"application_id": live.id},
        )
    if contract.status != ContractStatus.ACTIVE:
        raise RuleViolation(
            "订单融资须在交付前申请：该合同已交付、完成或终止",
            "Contract finance is applied for before delivery: this contract is delivered, completed or terminated",
        )
    return contract


def contract_due_date(session: Session, contract: Contract, today: date, max_tenor_months: int) -> date:
    """When a contract loan falls due: the last payment of the plan before retention (acceptance assumed on the
    delivery date when not yet made), at most the product's tenor from today."""
    view = settlement_of(session, contract, today)
    due = view.plan.due_dates(contract.accepted_on or contract.delivery_due)
    dated = [(d, item.kind) for d, item in zip(due, view.plan.instalments, strict=True) if d is not None]
    dates = [d for d, kind in dated if kind is not rules.InstalmentKind.RETENTION] or [d for d, _ in dated]
    last = max(dates, default=contract.delivery_due)
    cap = limits.add_months(today, max_tenor_months)
    due_on = min(last, cap)
    if due_on <= today:
        raise RuleViolation(
            "该合同的付款计划已全部到期，无可融资的未来回款",
            "Every payment of this contract's plan is already due: no future payment to finance",
        )
    return due_on


def contract_quote(
    uow: UnitOfWork, actor: Actor, contract_id: int, bank_id: int, product_id: int | None = None
) -> ContractQuote:
    actor.require_kind(OrgKind.SME)
    with uow:
        s = uow.session
        contract = _suppliers_contract(s, actor, contract_id, lock=False)
        common.organisation(s, bank_id, OrgKind.BANK, "银行", "Bank")
        product = product_of_kind(s, bank_id, product_id, FinanceKind.CONTRACT)
        today = common.today(uow)
        view = settlement_of(s, contract, today)
        unpaid = max(0, contract.amount_fen - view.paid_fen)
        assert contract.id is not None and product.id is not None
        financed = financed_on_contract(s, contract.id)
        line = common.credit_line(s, bank_id, contract.buyer_id, lock=False)
        result = limits.max_amount(
            unpaid,
            Decimal(product.advance_rate),
            (line.limit_fen - line.used_fen) if line else 0,
            common.exposure_remaining(s, actor.organisation_id),
            {limits.BindingConstraint.CONTRACT_HEADROOM: max(0, unpaid - financed)},
        )
        return ContractQuote(
            result.amount_fen,
            str(result.binding_constraint),
            {str(k): v for k, v in result.limits_fen.items()},
            unpaid,
            financed,
            contract_due_date(s, contract, today, product.max_tenor_months),
            product.id,
        )


def apply_for_contract_finance(
    uow: UnitOfWork, actor: Actor, data: ContractApplicationInput | Mapping[str, Any]
) -> FinanceApplication:
    """The supplier applies for a loan on its signed contract, before delivery and with no guarantee.

    One transaction: lock the contract (every finance on it queues here), the bank's line for the buyer and the
    SME's exposure; check the contract is free (at most once at a time), the amount against the unpaid value ×
    the advance rate, the contract's headroom, the 30,000,000.00 cap and both limits; reserve and start the
    48-hour clock.  The same idempotency key returns the first application.
    """
    actor.require_kind(OrgKind.SME)
    data = parse_input(ContractApplicationInput, data)
    requested = data.amount  # fen, parsed once from the yuan given
    with uow:
        s = uow.session
        load_row(s, Contract, data.contract_id, "合同", "Contract", lock=True)  # retries queue here
        previous = _previous(
            uow,
            actor,
            data.idempotency_key,
            (data.contract_id, data.bank_id, requested),
            ("contract_id", "bank_id", "requested_fen"),
        )
        if previous is not None:
            return previous
        contract = _suppliers_contract(s, actor, data.contract_id, lock=True)
        assert contract.id is not None
        common.organisation(s, data.bank_id, OrgKind.BANK, "银行", "Bank")
        product = product_of_kind(s, data.bank_id, data.product_id, FinanceKind.CONTRACT)
        today = common.today(uow)
        due_on = contract_due_date(s, contract, today, product.max_tenor_months)
        view = settlement_of(s, contract, today)
        unpaid = max(0, contract.amount_fen - view.paid_fen)
        headroom = contract_headroom(uow, contract.id)
        line = common.credit_line(s, data.bank_id, contract.buyer_id, lock=True)
        if line is None:
            raise RuleViolation(
                "该银行尚未对该采购方授信，请选择其他银行",
                "This bank has no credit line for the buyer; choose another bank",
            )
        exp = common.exposure(uow, actor.organisation_id, lock=True)
        limits.check_request(
            requested,
            unpaid,
            Decimal(product.advance_rate),
            line.limit_fen - line.used_fen,
            exp.limit_fen - exp.used_fen,
            {limits.BindingConstraint.CONTRACT_HEADROOM: headroom},
            base_label=("合同未付金额", "unpaid contract value"),
        )
        assert product.id is not None
        app = FinanceApplication(
            applicant_id=actor.organisation_id,
            bank_id=data.bank_id,
            product_id=product.id,
            kind=FinanceKind.CONTRACT,
            core_enterprise_id=contract.buyer_id,
            contract_id=contract.id,
            active_contract_id=contract.id,
            due_on=due_on,
            idempotency_key=data.idempotency_key,
            requested_fen=requested,
        )
        _submit(uow, actor, (line, exp), app, contract_id=contract.id, requested_fen=requested)
        uow.commit()
        return app


# --------------------------------------------------------------------------------------------- SME lines


def decide_line(
    uow: UnitOfWork, actor: Actor, sme_id: int, data: LineDecisionInput | Mapping[str, Any]
) -> SmeCreditLine:
    """The bank accepts the platform's suggested line (at most the suggested amount) or declines it.

    Deciding again replaces the decision (a lower limit never below what is drawn).  The suggestion the bank saw
    — its amount and every reason — is kept with the line and in the audit chain.
    """
    actor.require_kind(OrgKind.BANK)
    user_id = common.require_user(actor, LINE_DECIDERS)
    data = parse_input(LineDecisionInput, data)
    with uow:
        s = uow.session
        today = common.today(uow)
        suggestion = suggest_credit_line(s, actor, sme_id, today)
        now = uow.clock.now()
        row = s.exec(
            select(SmeCreditLine)
            .where(SmeCreditLine.bank_id == actor.organisation_id, SmeCreditLine.sme_id == sme_id)
            .with_for_update()
        ).first()
        if data.accept:
            if not suggestion.has_line:
                raise RuleViolation(
                    "平台未建议为该企业设立额度（见建议理由），不能接受",
                    "The platform suggests no line for this SME (see the reasons): there is nothing to accept",
                )
            limit = data.limit if data.limit is not None else suggestion.amount_fen  # fen, parsed once
            if not 0 < limit <= suggestion.amount_fen:
                raise RuleViolation(
                    f"额度须大于零且不超过建议额度{format_yuan(suggestion.amount_fen)}",
                    f"The line must be positive and at most the suggested {format_yuan(suggestion.amount_fen)}",
                    detail={"field": "limit", "suggested_fen": suggestion.amount_fen},
                )
            if row is not None and row.used_fen > limit:
                raise RuleViolation(
                    f"额度不能低于已使用的{format_yuan(row.used_fen)}",
                    f"The line cannot be below the {format_yuan(row.used_fen)} already drawn",
                )
            status, expires = SmeLineStatus.ACTIVE, limits.add_months(today, suggestion.tenor_months)
        else:
            if row is not None and row.used_fen > 0:
                raise RuleViolation(
                    f"额度尚有{format_yuan(row.used_fen)}未还，不能拒绝或关闭",
                    f"{format_yuan(row.used_fen)} is still drawn on the line: it cannot be declined or closed",
                )
            limit, expires = 0, None
            closing = row is not None and row.status == SmeLineStatus.ACTIVE
            status = SmeLineStatus.CLOSED if closing else SmeLineStatus.DECLINED
        if row is None:
            row = SmeCreditLine(
                bank_id=actor.organisation_id, sme_id=sme_id, status=status, decided_at=now, updated_at=now
            )
        else:
            row.version += 1
        row.status = status
        row.limit_fen = limit
        row.suggested_fen = suggestion.amount_fen
        row.expires_on = expires
        row.suggestion = suggestion.to_dict()
        row.note = data.note
        row.decided_by_user_id = user_id
        row.decided_at = now
        row.updated_at = now
        s.add(row)
        s.flush()
        assert row.id is not None
        uow.audit(
            LINE,
            row.id,
            status.value,
            actor_id=user_id,
            sme_id=sme_id,
            limit_fen=limit,
            suggested_fen=suggestion.amount_fen,
            expires_on=expires.isoformat() if expires else None,
        )
        uow.publish(events.CREDIT_LINE_DECIDED, line_id=row.id, sme_id=sme_id, status=status.value)
        uow.commit()
        return row


def lines_of(session: Session, actor: Actor) -> list[SmeCreditLine]:
    """The lines a bank set (or declined), or an SME's lines at every bank."""
    actor.require_kind(OrgKind.BANK, OrgKind.SME, OrgKind.PROGRAMME_OFFICE)
    return sme_credit_line_list(session, actor)  # sme_credit_lines_visible_to(actor), oldest first


def apply_for_drawdown(uow: UnitOfWork, actor: Actor, data: DrawdownInput | Mapping[str, Any]) -> FinanceApplication:
    """The SME draws on its active line: lock the line and the exposure, check the amount and the due date
    (within the product's tenor and the line's expiry), reserve, and start the 48-hour clock."""
    actor.require_kind(OrgKind.SME)
    data = parse_input(DrawdownInput, data)
    requested = data.amount  # fen, parsed once from the yuan given
    with uow:
        s = uow.session
        line = load_sme_credit_line_for(s, actor, data.line_id, lock=True)  # another SME's line is not found
        previous = _previous(
            uow,
            actor,
            data.idempotency_key,
            (data.line_id, requested),
            ("sme_line_id", "requested_fen"),
        )
        if previous is not None:
            return previous
        today = common.today(uow)
        if line.status != SmeLineStatus.ACTIVE or (line.expires_on is not None and line.expires_on < today):
            raise RuleViolation("该循环额度未生效、已关闭或已到期", "This revolving line is not active or has expired")
        product = product_of_kind(s, line.bank_id, data.product_id, FinanceKind.CREDIT_LINE)
        limits.tenor(today, data.due_on, product.max_tenor_months)
        if line.expires_on is not None and data.due_on > line.expires_on:
            raise RuleViolation(
                f"还款日不能晚于额度到期日 {line.expires_on}",
                f"The due date cannot be after the line expires ({line.expires_on})",
                detail={"field": "due_on"},
            )
        exp = common.exposure(uow, actor.organisation_id, lock=True)
        limits.check_request(
            requested,
            requested,  # a drawdown is not an advance on anything: the line itself is the limit
            Decimal(1),
            limits.MAX_DEAL_FEN,  # no buyer's line: the per-deal cap stands in for it
            exp.limit_fen - exp.used_fen,
            {limits.BindingConstraint.SME_LINE: line.limit_fen - line.used_fen},
        )
        assert product.id is not None and line.id is not None
        app = FinanceApplication(
            applicant_id=actor.organisation_id,
            bank_id=line.bank_id,
            product_id=product.id,
            kind=FinanceKind.CREDIT_LINE,
            sme_line_id=line.id,
            due_on=data.due_on,
            idempotency_key=data.idempotency_key,
            requested_fen=requested,
        )
        _submit(uow, actor, (line, exp), app, line_id=line.id, requested_fen=requested)
        uow.commit()
        return app
