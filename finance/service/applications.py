"""Finance application use cases: bank set-up (products, credit lines), SME exposure limits, applying, the
automatic risk check, the bank's review (queue by deadline, approve / reject / ask for information, four-eyes),
the SME's e-signature, disbursement exactly once, and the 48-hour SLA sweep."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from finance import data_chain, ledger, limits, pricing, risk, sla
from finance.service import chain_facts, common
from finance.states import ApplicationEvent, approval_event, check_second_approver
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.errors import Conflict, InvalidInput, NotFound, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    Approval,
    BankProduct,
    Contract,
    ContractPayment,
    ContractStatus,
    CreditLine,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    ReviewDecision,
    Signature,
    UserRole,
)
from qianfan.money import format_yuan, yuan_to_fen
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import Description, Input, Name, Yuan, parse_input

APP = "finance_application"
#: 司法保护上限: courts do not protect interest above four times the 1-year LPR.
RATE_CAP_LPR_MULTIPLE = 4
_CONFIRMED_STATES = (ReceivableStatus.CONFIRMED, ReceivableStatus.SPLIT, ReceivableStatus.PARTLY_TRANSFERRED)
REVIEW_QUEUE_STATES = (
    ApplicationStatus.RISK_CHECKED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.AWAITING_SECOND_APPROVAL,
    ApplicationStatus.INFO_REQUESTED,
)


# ------------------------------------------------------------------------------------------ inputs


class ProductInput(Input):
    kind: FinanceKind = FinanceKind.RECEIVABLE
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: Name
    advance_rate: Decimal = Field(gt=0, le=1, max_digits=5, decimal_places=4)
    day_count: pricing.DayCount = pricing.DayCount.ACT_360
    spreads_bp: dict[pricing.RiskGrade, int | None] = Field(default_factory=lambda: dict(pricing.DEFAULT_SPREADS_BP))
    arrangement_fee_bp: int = Field(default=0, ge=0, le=1000)
    fee_min: Yuan | None = None
    fee_max: Yuan | None = None
    four_eyes_threshold: Yuan = Decimal("5000000.00")
    max_tenor_months: int = Field(default=limits.MAX_TENOR_MONTHS, ge=1, le=limits.MAX_TENOR_MONTHS)


class ApplicationInput(Input):
    part_id: int
    bank_id: int
    product_id: int | None = None  # the bank's only active product when omitted
    amount: Yuan
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=64)


class ApprovalInput(Input):
    amount: Yuan | None = None  # at most the requested amount; defaults to it
    annual_rate: Decimal | None = Field(default=None, ge=0, le=1)  # defaults to LPR + the grade's spread
    note: Description = ""


# ------------------------------------------------------------------------------------------ bank set-up


def create_product(uow: UnitOfWork, actor: Actor, data: ProductInput | Mapping[str, Any]) -> BankProduct:
    actor.require_kind(OrgKind.BANK)
    common.require_user(actor, frozenset({UserRole.ADMIN}))
    data = parse_input(ProductInput, data)
    with uow:
        row = BankProduct(
            bank_id=actor.organisation_id,
            kind=data.kind,
            code=data.code,
            name=data.name,
            advance_rate=data.advance_rate,
            day_count=data.day_count.value,
            spreads_bp={g.value: v for g, v in data.spreads_bp.items()},
            arrangement_fee_bp=data.arrangement_fee_bp,
            fee_min_fen=yuan_to_fen(data.fee_min) if data.fee_min is not None else 0,
            fee_max_fen=yuan_to_fen(data.fee_max) if data.fee_max is not None else 0,
            four_eyes_threshold_fen=yuan_to_fen(data.four_eyes_threshold),
            max_tenor_months=data.max_tenor_months,
            created_at=uow.clock.now(),
        )
        common.product_rule(row)  # the pure rules validate the whole product (fee range, spreads…)
        exists = uow.session.exec(
            select(BankProduct.id).where(BankProduct.bank_id == actor.organisation_id, BankProduct.code == data.code)
        ).first()
        if exists is not None:
            raise Conflict(f"产品代码已存在：{data.code}", f"A product with code {data.code} exists")
        uow.session.add(row)
        uow.session.flush()
        uow.audit("bank_product", row.id or 0, "created", actor_id=actor.user_id, code=data.code)
        uow.commit()
        return row


def set_credit_line(uow: UnitOfWork, actor: Actor, core_enterprise_id: int, limit: Yuan | str | int) -> CreditLine:
    """The bank grants (or changes) its line for a core enterprise; it cannot go below what is in use."""
    actor.require_kind(OrgKind.BANK)
    common.require_user(actor, frozenset({UserRole.ADMIN, UserRole.APPROVER}))
    limit_fen = yuan_to_fen(limit, allow_zero=True)
    with uow:
        common.organisation(uow.session, core_enterprise_id, OrgKind.LARGE_FIRM, "核心企业", "Core enterprise")
        line = common.credit_line(uow.session, actor.organisation_id, core_enterprise_id, lock=True)
        now = uow.clock.now()
        if line is None:
            line = CreditLine(
                bank_id=actor.organisation_id,
                core_enterprise_id=core_enterprise_id,
                limit_fen=limit_fen,
                updated_at=now,
            )
        elif limit_fen < line.used_fen:
            raise RuleViolation(
                f"授信额度不能低于已占用的{format_yuan(line.used_fen)}",
                f"The line cannot be set below the {format_yuan(line.used_fen)} in use",
                detail={"used_fen": line.used_fen},
            )
        line.limit_fen = limit_fen
        line.updated_at = now
        uow.session.add(line)
        uow.session.flush()
        uow.audit("credit_line", line.id or 0, "set", actor_id=actor.user_id, limit_fen=limit_fen)
        uow.commit()
        return line


def set_exposure_limit(uow: UnitOfWork, actor: Actor, sme_id: int, limit: Yuan | str | int) -> int:
    """The programme office sets an SME's total exposure limit (not below what it already uses)."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    limit_fen = yuan_to_fen(limit, allow_zero=True)
    with uow:
        common.organisation(uow.session, sme_id, OrgKind.SME, "中小企业", "SME")
        row = common.exposure(uow, sme_id, lock=True)
        if limit_fen < row.used_fen:
            raise RuleViolation(
                f"敞口限额不能低于已占用的{format_yuan(row.used_fen)}",
                f"The exposure limit cannot be set below the {format_yuan(row.used_fen)} in use",
            )
        row.limit_fen = limit_fen
        row.updated_at = uow.clock.now()
        uow.session.add(row)
        uow.audit("exposure_limit", sme_id, "set", actor_id=actor.user_id, limit_fen=limit_fen)
        uow.commit()
        return limit_fen


def product_of_kind(
    session: Session, bank_id: int, product_id: int | None, kind: FinanceKind = FinanceKind.RECEIVABLE
) -> BankProduct:
    """The bank's active product of ``kind`` (its only one when ``product_id`` is omitted)."""
    stmt = select(BankProduct).where(
        BankProduct.bank_id == bank_id, BankProduct.kind == kind, col(BankProduct.is_active).is_(True)
    )
    if product_id is not None:
        row = session.exec(stmt.where(BankProduct.id == product_id)).first()
        if row is None:
            raise NotFound.of("融资产品", "Finance product", product_id)
        return row
    rows = session.exec(stmt.order_by(col(BankProduct.id))).all()
    if len(rows) != 1:
        zh, en = PRODUCT_NAMES[kind]
        raise InvalidInput(
            f"该银行没有（或有多个）{zh}产品，请指定产品",
            f"The bank has no (or several) {en} products: choose one",
            detail={"field": "product_id", "products": [r.id for r in rows]},
        )
    return rows[0]


PRODUCT_NAMES: dict[FinanceKind, tuple[str, str]] = {
    FinanceKind.RECEIVABLE: ("应收账款融资", "receivables finance"),
    FinanceKind.CONTRACT: ("订单融资", "contract (order) finance"),
    FinanceKind.CREDIT_LINE: ("循环额度", "revolving line"),
}


# ------------------------------------------------------------------------------------------ quote and apply


@dataclass(frozen=True)
class Quote:
    """What the SME may ask for before applying: the maximum and the limit that binds it."""

    max_amount_fen: int
    binding_constraint: str
    limits_fen: dict[str, int]
    due_date: date
    product_id: int


def quote(uow: UnitOfWork, actor: Actor, part_id: int, bank_id: int, product_id: int | None = None) -> Quote:
    actor.require_kind(OrgKind.SME)
    with uow:
        part, receivable, product = _checked_part(uow, actor, part_id, bank_id, product_id, for_update=False)
        line = common.credit_line(uow.session, bank_id, receivable.debtor_id, lock=False)
        result = limits.max_amount(
            part.amount_fen - part.paid_fen,  # the advance is on what the debtor still owes on the part
            Decimal(product.advance_rate),
            (line.limit_fen - line.used_fen) if line else 0,
            common.exposure_remaining(uow.session, actor.organisation_id),
        )
        assert product.id is not None
        return Quote(
            result.amount_fen,
            str(result.binding_constraint),
            {str(k): v for k, v in result.limits_fen.items()},
            receivable.due_date,
            product.id,
        )


def _checked_part(
    uow: UnitOfWork, actor: Actor, part_id: int, bank_id: int, product_id: int | None, *, for_update: bool
) -> tuple[Any, Receivable, BankProduct]:
    part = load_row(uow.session, ReceivablePart, part_id, "应收账款份额", "Receivable part", lock=for_update)
    if part.holder_id != actor.organisation_id:
        raise NotFound.of("应收账款份额", "Receivable part", part_id)
    if part.status == PartState.FINANCING:
        raise Conflict(
            "该应收账款正在申请融资，不能重复申请", "A finance application on this receivable is already in progress"
        )
    if part.status == PartState.FINANCED:
        raise RuleViolation(
            "该应收账款已融资，每笔应收账款只能融资一次",
            "This receivable is already financed; a receivable is financed at most once",
        )
    if part.status != PartState.HELD:
        raise RuleViolation(
            f"该份额当前状态为“{part.status.value}”，不能融资",
            f"The part is {part.status.value} and cannot be financed",
        )
    receivable = load_row(uow.session, Receivable, part.receivable_id, "应收账款", "Receivable")
    if receivable.status not in _CONFIRMED_STATES:
        raise RuleViolation(
            "应收账款须经债务人确权后才能融资", "A receivable must be confirmed by the debtor before it can be financed"
        )
    common.organisation(uow.session, bank_id, OrgKind.BANK, "银行", "Bank")
    product = product_of_kind(uow.session, bank_id, product_id)
    limits.tenor(common.today(uow), receivable.due_date, product.max_tenor_months)
    return part, receivable, product


def financed_on_contract(session: Session, contract_id: int) -> int:
    """What is financed on a contract now: live applications' reservations plus outstanding principal of its loans
    (the contract loan and the loans on its receivables)."""
    reserved = session.exec(
        select(sa.func.coalesce(sa.func.sum(FinanceApplication.requested_fen), 0)).where(
            FinanceApplication.contract_id == contract_id,
            col(FinanceApplication.status).in_(list(common.OPEN_STATES)),
        )
    ).one()
    lent = session.exec(
        select(sa.func.coalesce(sa.func.sum(Loan.principal_outstanding_fen), 0)).where(
            Loan.contract_id == contract_id, Loan.status != LoanStatus.REPAID
        )
    ).one()
    return int(reserved) + int(lent)


def contract_headroom(uow: UnitOfWork, contract_id: int) -> int:
    """Lock the contract (the one row every finance on it queues on) and say what may still be financed on it."""
    contract = load_row(uow.session, Contract, contract_id, "合同", "Contract", lock=True)
    paid = uow.session.exec(
        select(sa.func.coalesce(sa.func.sum(ContractPayment.amount_fen), 0)).where(
            ContractPayment.contract_id == contract_id
        )
    ).one()
    return data_chain.contract_headroom_fen(
        contract.amount_fen, min(int(paid), contract.amount_fen), financed_on_contract(uow.session, contract_id)
    )


def apply_for_finance(uow: UnitOfWork, actor: Actor, data: ApplicationInput | Mapping[str, Any]) -> FinanceApplication:
    """The holder applies to a bank.  Within one transaction: lock the part, the bank's line for the debtor and
    the SME's exposure (always in that order), check every limit, reserve the amount and start the 48-hour clock.
    The same idempotency key returns the first application; twenty concurrent applications yield one."""
    actor.require_kind(OrgKind.SME)
    data = parse_input(ApplicationInput, data)
    requested = yuan_to_fen(data.amount)
    with uow:
        if data.idempotency_key:
            # Retries of one request queue on the part's row lock, so a concurrent retry finds the first one.
            common.lock_part(uow.session, data.part_id)
            previous = uow.session.exec(
                select(FinanceApplication).where(
                    FinanceApplication.applicant_id == actor.organisation_id,
                    FinanceApplication.idempotency_key == data.idempotency_key,
                )
            ).first()
            if previous is not None:
                if (previous.part_id, previous.bank_id, previous.requested_fen) != (
                    data.part_id,
                    data.bank_id,
                    requested,
                ):
                    raise Conflict(
                        "该幂等键已用于另一笔融资申请", "This idempotency key was used for another finance application"
                    )
                return previous
        part, receivable, product = _checked_part(
            uow, actor, data.part_id, data.bank_id, data.product_id, for_update=True
        )
        extra: dict[limits.BindingConstraint, int] = {}
        if receivable.contract_id is not None:
            # Finance on the receivables of a contract and the contract loan together stay within its unpaid value.
            extra[limits.BindingConstraint.CONTRACT_HEADROOM] = contract_headroom(uow, receivable.contract_id)
        line = common.credit_line(uow.session, data.bank_id, receivable.debtor_id, lock=True)
        if line is None:
            raise RuleViolation(
                "该银行尚未对该核心企业授信，请选择其他银行",
                "This bank has no credit line for the debtor; choose another bank",
            )
        exp = common.exposure(uow, actor.organisation_id, lock=True)
        limits.check_request(
            requested,
            part.amount_fen - part.paid_fen,  # the advance is on what the debtor still owes on the part
            Decimal(product.advance_rate),
            line.limit_fen - line.used_fen,
            exp.limit_fen - exp.used_fen,
            extra,
        )
        now = uow.clock.now()
        line.used_fen += requested
        line.updated_at = now
        exp.used_fen += requested
        exp.updated_at = now
        part.status = PartState.FINANCING
        part.version += 1
        assert product.id is not None and part.id is not None and receivable.id is not None
        app = FinanceApplication(
            applicant_id=actor.organisation_id,
            applicant_user_id=actor.user_id,
            bank_id=data.bank_id,
            product_id=product.id,
            core_enterprise_id=receivable.debtor_id,
            receivable_id=receivable.id,
            part_id=part.id,
            active_part_id=part.id,
            contract_id=receivable.contract_id,
            idempotency_key=data.idempotency_key,
            requested_fen=requested,
            submitted_at=now,
            deadline_at=sla.overall_due_at(now),
        )
        for row in (line, exp, part, app):
            uow.session.add(row)
        uow.session.flush()
        common.enter_stage(uow, app, sla.Stage.RISK_CHECK)
        assert app.id is not None
        uow.audit(APP, app.id, "submitted", actor_id=actor.user_id, part_id=part.id, requested_fen=requested)
        uow.publish(events.APPLICATION_SUBMITTED, application_id=app.id)
        uow.commit()
        return app


# ------------------------------------------------------------------------------------------ risk check


def _risk_facts(uow: UnitOfWork, app: FinanceApplication, product: BankProduct) -> risk.RiskFacts:
    s = uow.session
    today = common.today(uow)
    assert app.core_enterprise_id is not None and app.part_id is not None and app.receivable_id is not None
    sme = load_row(s, Organisation, app.applicant_id, "企业", "Organisation")
    debtor = load_row(s, Organisation, app.core_enterprise_id, "企业", "Organisation")
    part = load_row(s, ReceivablePart, app.part_id, "应收账款份额", "Receivable part")
    receivable = load_row(s, Receivable, app.receivable_id, "应收账款", "Receivable")
    line = common.credit_line(s, app.bank_id, app.core_enterprise_id, lock=False)
    exp = common.exposure(uow, app.applicant_id, lock=False)
    own = app.requested_fen  # this application's own reservation is part of what it may use
    confirmed: Any = s.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Receivable.confirmed_fen), 0)).where(
            Receivable.creditor_id == app.applicant_id, col(Receivable.confirmed_fen).is_not(None)
        )
    ).one()
    # The debtor's payment record on the platform: receivables it settled and loans on its receivables.
    settled = s.exec(
        select(col(Receivable.due_date), col(Receivable.settled_at)).where(
            Receivable.debtor_id == app.core_enterprise_id, col(Receivable.settled_at).is_not(None)
        )
    ).all()
    late_loans = s.exec(
        select(col(Loan.due_date), col(Loan.repaid_at)).where(
            Loan.core_enterprise_id == app.core_enterprise_id, col(Loan.overdue_at).is_not(None)
        )
    ).all()
    delays = [(to_local(at).date() - due).days for due, at in settled if at is not None]
    on_time = sum(1 for d in delays if d <= 0)
    days_late = [d for d in delays if d > 0] + [
        ((to_local(at).date() if at else today) - due).days for due, at in late_loans
    ]
    return risk.RiskFacts(
        sme_credit_code=sme.credit_code,
        debtor_credit_code=debtor.credit_code,
        receivable_confirmed=receivable.status in (*_CONFIRMED_STATES, ReceivableStatus.FINANCED),
        already_financed=s.exec(select(Loan.id).where(Loan.part_id == app.part_id)).first() is not None,
        overdue=receivable.due_date <= today,
        debtor_in_default=any(d > 90 for d in days_late),
        requested_fen=app.requested_fen,
        advance_limit_fen=limits.advance_fen(part.amount_fen - part.paid_fen, Decimal(product.advance_rate)),
        bank_line_remaining_fen=(line.limit_fen - line.used_fen + own) if line else 0,
        sme_exposure_remaining_fen=exp.limit_fen - exp.used_fen + own,
        sme_delivered_contracts=s.exec(
            select(sa.func.count()).where(
                Contract.supplier_id == app.applicant_id,
                col(Contract.status).in_([ContractStatus.DELIVERED, ContractStatus.COMPLETED]),
            )
        ).one(),
        sme_confirmed_receivables=int(confirmed[0]),
        sme_confirmed_amount_fen=int(confirmed[1]),
        sme_disputes=s.exec(
            select(sa.func.count()).where(
                Receivable.creditor_id == app.applicant_id, col(Receivable.disputed).is_(True)
            )
        ).one(),
        sme_days_on_platform=max(0, (today - sme.created_at.date()).days),
        debtor_on_time_repayments=on_time,
        debtor_max_days_late=max([0, *days_late]),
    )


def run_risk_check(uow: UnitOfWork, application_id: int) -> FinanceApplication:
    """Automatic risk control (seconds): hard rules and a grade with reasons, stored for the bank.  Safe to run
    twice: an application already past the check is returned unchanged."""
    with uow:
        app = load_row(uow.session, FinanceApplication, application_id, "融资申请", "Finance application", lock=True)
        if app.status != ApplicationStatus.SUBMITTED:
            return app
        product = load_row(uow.session, BankProduct, app.product_id, "融资产品", "Finance product")
        if app.kind == FinanceKind.CONTRACT:
            report = data_chain.assess_contract(chain_facts.contract_facts(uow, app, product))
        elif app.kind == FinanceKind.CREDIT_LINE:
            report = data_chain.assess_drawdown(chain_facts.drawdown_facts(uow, app))
        else:
            report = risk.assess(_risk_facts(uow, app, product))
        now = uow.clock.now()
        app.risk_report = report.to_dict()
        app.risk_grade = report.grade.value
        app.risk_score = report.score
        app.risk_checked_at = now
        spread = common.product_rule(product).spreads_bp.get(report.grade)
        if report.passed and spread is not None:
            common.transition(app, ApplicationEvent.PASS_RISK_CHECK)
            common.enter_stage(uow, app, sla.Stage.BANK_REVIEW)
            uow.audit(APP, application_id, "risk_passed", grade=report.grade.value, score=report.score)
            uow.publish(events.APPLICATION_RISK_PASSED, application_id=application_id, bank_id=app.bank_id)
        else:
            reasons = [f"{r.message_zh} / {r.message_en}" for r in report.hard_failures]
            if not reasons:
                reasons = [f"风险等级{report.grade.value}不予融资 / risk grade {report.grade.value} is not financed"]
            common.finish(uow, app, ApplicationEvent.FAIL_RISK_CHECK, "；".join(reasons))
            app.decided_at = now
            uow.audit(APP, application_id, "risk_failed", grade=report.grade.value, reasons=reasons)
            uow.publish(events.APPLICATION_REJECTED, application_id=application_id, by="risk_check")
        uow.session.add(app)
        uow.commit()
        return app


# ------------------------------------------------------------------------------------------ bank review


@dataclass(frozen=True)
class QueueItem:
    application: FinanceApplication
    sla_status: str
    overall_left: timedelta
    stage_due_at: datetime | None


def review_queue(session: Session, actor: Actor, now: datetime, *, limit: int = 200) -> list[QueueItem]:
    """The bank's open applications, the nearest 48-hour deadline first (waiting on the SME listed last)."""
    actor.require_kind(OrgKind.BANK)
    rows = session.exec(
        select(FinanceApplication)
        .where(
            FinanceApplication.bank_id == actor.organisation_id, col(FinanceApplication.status).in_(REVIEW_QUEUE_STATES)
        )
        .order_by(
            sa.case((col(FinanceApplication.status) == ApplicationStatus.INFO_REQUESTED, 1), else_=0),
            col(FinanceApplication.deadline_at),
            col(FinanceApplication.id),
        )
        .limit(limit)
    ).all()
    return [QueueItem(app, common.sla_flag(app, now).value, app.deadline_at - now, app.stage_due_at) for app in rows]


def _bank_app(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    app = load_row(uow.session, FinanceApplication, application_id, "融资申请", "Finance application", lock=True)
    common.require_bank_of(app, actor)
    return app


def _claim(uow: UnitOfWork, app: FinanceApplication) -> None:
    """A decision on a risk-checked application starts its review first."""
    if app.status == ApplicationStatus.RISK_CHECKED:
        common.transition(app, ApplicationEvent.START_REVIEW)


def start_review(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    with uow:
        app = _bank_app(uow, actor, application_id)
        if app.status == ApplicationStatus.UNDER_REVIEW:
            return app
        common.transition(app, ApplicationEvent.START_REVIEW)
        uow.session.add(app)
        uow.audit(APP, application_id, "review_started", actor_id=user_id)
        uow.commit()
        return app


def _rate(app: FinanceApplication, product: BankProduct, requested: Decimal | None) -> Decimal:
    grade = pricing.RiskGrade(app.risk_grade or "D")
    default = pricing.annual_rate(common.lpr(), grade, common.product_rule(product).spreads_bp)
    if requested is None:
        return default
    if requested != requested.quantize(Decimal("0.0001")):
        raise InvalidInput("年利率最小单位为0.01%（1个基点）", "The annual rate is set in whole basis points (0.01%)")
    cap = common.lpr() * RATE_CAP_LPR_MULTIPLE
    if requested > cap:
        raise RuleViolation(
            f"年利率{requested:.2%}超过LPR四倍的司法保护上限{cap:.2%}",
            f"The annual rate {requested:.2%} exceeds the legal ceiling of 4 × LPR ({cap:.2%})",
        )
    return requested


def loan_due_date(session: Session, app: FinanceApplication) -> date:
    """When the loan falls due: the receivable's due date, or the date set when a contract loan or a drawdown was
    applied for."""
    if app.due_on is not None:
        return app.due_on
    assert app.receivable_id is not None
    return load_row(session, Receivable, app.receivable_id, "应收账款", "Receivable").due_date


def _price(
    uow: UnitOfWork, app: FinanceApplication, product: BankProduct, amount_fen: int, rate: Decimal
) -> dict[str, Any]:
    """The offer the SME sees and signs: amounts in fen, rate as a decimal string."""
    rule = common.product_rule(product)
    grade = pricing.RiskGrade(app.risk_grade or "D")
    spread_bp = int((rate - common.lpr()) * pricing.BP)
    priced = dataclasses.replace(rule, spreads_bp={grade: spread_bp})
    offer = pricing.offer(priced, amount_fen, grade, common.lpr(), common.today(uow), loan_due_date(uow.session, app))
    return {
        "application_id": app.id,
        "bank_id": app.bank_id,
        "product_kind": app.kind.value,
        "repayment_order": list(
            ledger.CONTRACT_ALLOCATION_ORDER if app.kind == FinanceKind.CONTRACT else ledger.ALLOCATION_ORDER
        ),
        "product_code": offer.product_code,
        "grade": offer.grade.value,
        "principal_fen": offer.principal_fen,
        "annual_rate": str(offer.annual_rate),
        "lpr": str(common.lpr()),
        "day_count": offer.basis.value,
        "start": offer.start.isoformat(),
        "due": offer.due.isoformat(),
        "days": offer.days,
        "interest_fen": offer.interest_fen,
        "fee_fen": offer.fee_fen,
        "net_disbursed_fen": offer.net_disbursed_fen,
        "total_repayable_fen": offer.total_repayable_fen,
        "effective_annual_cost": str(offer.effective_annual_cost),
        "guarantee": "none",
        "early_repayment": "interest to the repayment day on the principal outstanding; the fee is not refunded",
        "rounding": "interest ROUND_HALF_UP to the fen",
    }


def approve(
    uow: UnitOfWork, actor: Actor, application_id: int, data: ApprovalInput | Mapping[str, Any] | None = None
) -> FinanceApplication:
    """Approve with amount and rate.  At or above the product's four-eyes amount the first approval waits for a
    second, by another person with the approver role, who confirms the first approver's terms."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    data = parse_input(ApprovalInput, data or {})
    with uow:
        app = _bank_app(uow, actor, application_id)
        product = load_row(uow.session, BankProduct, app.product_id, "融资产品", "Finance product")
        _claim(uow, app)
        now = uow.clock.now()
        if app.status == ApplicationStatus.AWAITING_SECOND_APPROVAL:
            if actor.role not in common.SECOND_APPROVER_ROLES:
                raise RuleViolation("复核须由具有复核权限的用户完成", "The second approval needs the approver role")
            first = uow.session.exec(
                select(Approval)
                .where(Approval.application_id == application_id, Approval.decision == ReviewDecision.APPROVE_FIRST)
                .order_by(col(Approval.id).desc())
            ).first()
            assert first is not None and first.amount_fen is not None and first.annual_rate is not None
            check_second_approver(str(first.user_id), str(user_id))
            common.transition(app, ApplicationEvent.APPROVE_SECOND)
            amount_fen, rate, decision = first.amount_fen, Decimal(first.annual_rate), ReviewDecision.APPROVE_SECOND
        else:
            amount_fen = yuan_to_fen(data.amount) if data.amount is not None else app.requested_fen
            if amount_fen > app.requested_fen:
                raise RuleViolation(
                    f"批准金额不能超过申请金额{format_yuan(app.requested_fen)}",
                    f"The approved amount cannot exceed the {format_yuan(app.requested_fen)} requested",
                )
            rate = _rate(app, product, data.annual_rate)
            event = approval_event(amount_fen, product.four_eyes_threshold_fen)
            common.transition(app, event)
            decision = ReviewDecision(event.value)
        terms = _price(uow, app, product, amount_fen, rate)  # refuses terms the rules do not allow
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=decision,
                amount_fen=amount_fen,
                annual_rate=rate,
                note=data.note,
                at=now,
            )
        )
        if app.status == ApplicationStatus.APPROVED:
            if amount_fen < app.requested_fen:  # approved lower: give the difference back
                common.release_limits(uow, app, app.requested_fen - amount_fen)
                app.requested_fen = amount_fen
            app.approved_fen = amount_fen
            app.annual_rate = rate
            app.offer_terms = terms
            app.decided_at = now
            common.enter_stage(uow, app, sla.Stage.SME_SIGNATURE)
            uow.publish(events.APPLICATION_APPROVED, application_id=application_id, applicant_id=app.applicant_id)
        uow.session.add(app)
        uow.audit(APP, application_id, decision.value, actor_id=user_id, amount_fen=amount_fen, annual_rate=str(rate))
        uow.commit()
        return app


def reject(uow: UnitOfWork, actor: Actor, application_id: int, reason: str) -> FinanceApplication:
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    reason = common.required_text(reason, "reason", "拒绝时须说明理由", "A rejection needs a reason")
    with uow:
        app = _bank_app(uow, actor, application_id)
        _claim(uow, app)
        common.finish(uow, app, ApplicationEvent.REJECT, reason[:2000])
        app.decided_at = uow.clock.now()
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=ReviewDecision.REJECT,
                note=reason,
                at=uow.clock.now(),
            )
        )
        uow.audit(APP, application_id, "rejected", actor_id=user_id, reason=reason[:2000])
        uow.publish(events.APPLICATION_REJECTED, application_id=application_id, by="bank")
        uow.commit()
        return app


def request_info(uow: UnitOfWork, actor: Actor, application_id: int, question: str) -> FinanceApplication:
    """Ask the SME for information: the clock now runs on the SME's time until it answers."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    question = common.required_text(question, "question", "请写明需要补充的材料", "Say what information is needed")
    with uow:
        app = _bank_app(uow, actor, application_id)
        _claim(uow, app)
        common.transition(app, ApplicationEvent.REQUEST_INFO)
        app.info_request = question[:5000]
        common.enter_stage(uow, app, sla.Stage.INFO_REQUESTED)
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=ReviewDecision.REQUEST_INFO,
                note=question[:5000],
                at=uow.clock.now(),
            )
        )
        uow.audit(APP, application_id, "info_requested", actor_id=user_id)
        uow.publish(events.APPLICATION_INFO_REQUESTED, application_id=application_id, applicant_id=app.applicant_id)
        uow.commit()
        return app


def _own_app(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    app = load_row(uow.session, FinanceApplication, application_id, "融资申请", "Finance application", lock=True)
    actor.require_owner(app.applicant_id, "融资申请", "Finance application", application_id)
    return app


def provide_info(uow: UnitOfWork, actor: Actor, application_id: int, answer: str) -> FinanceApplication:
    actor.require_kind(OrgKind.SME)
    answer = common.required_text(answer, "answer", "补充内容不能为空", "The answer must not be empty")
    with uow:
        app = _own_app(uow, actor, application_id)
        common.transition(app, ApplicationEvent.PROVIDE_INFO)
        app.info_response = answer[:5000]
        common.enter_stage(uow, app, sla.Stage.BANK_REVIEW)
        uow.audit(APP, application_id, "info_provided", actor_id=actor.user_id)
        uow.publish(events.APPLICATION_INFO_PROVIDED, application_id=application_id, bank_id=app.bank_id)
        uow.commit()
        return app


def withdraw(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    actor.require_kind(OrgKind.SME)
    with uow:
        app = _own_app(uow, actor, application_id)
        common.finish(uow, app, ApplicationEvent.WITHDRAW, "申请人撤回 / withdrawn by the applicant")
        uow.audit(APP, application_id, "withdrawn", actor_id=actor.user_id)
        uow.commit()
        return app


# ------------------------------------------------------------------------------------------ sign and disburse


def sign_offer(uow: UnitOfWork, actor: Actor, application_id: int, terms_hash: str) -> Signature:
    """The SME accepts the offer it was shown: it sends back the hash of those terms, which must match."""
    actor.require_kind(OrgKind.SME)
    user_id = common.require_user(actor)
    with uow:
        app = _own_app(uow, actor, application_id)
        existing = uow.session.exec(select(Signature).where(Signature.application_id == application_id)).first()
        if existing is not None and existing.terms_hash == terms_hash:
            return existing  # a retried click
        common.transition(app, ApplicationEvent.SIGN_OFFER)
        assert app.offer_terms is not None
        expected = common.terms_hash(app.offer_terms)
        if terms_hash != expected:
            raise Conflict(
                "您签署的条款与银行批准的条款不一致，请刷新后重新查看要约",
                "The terms you signed differ from the approved offer; reload and review the offer",
                detail={"expected_terms_hash": expected},
            )
        now = uow.clock.now()
        signature = Signature(
            application_id=application_id,
            user_id=user_id,
            organisation_id=actor.organisation_id,
            terms=app.offer_terms,
            terms_hash=expected,
            signed_at=now,
        )
        uow.session.add(signature)
        app.signed_at = now
        common.enter_stage(uow, app, sla.Stage.DISBURSEMENT)
        uow.audit(APP, application_id, "signed", actor_id=user_id, terms_hash=expected)
        uow.publish(events.APPLICATION_OFFER_SIGNED, application_id=application_id, bank_id=app.bank_id)
        uow.commit()
        return signature


def disburse(uow: UnitOfWork, actor: Actor, application_id: int, idempotency_key: str) -> Loan:
    """Disburse exactly once.  Replaying the same key returns the loan; another key after disbursement is refused;
    two concurrent calls serialise on the application's row lock (and ``loan.part_id`` is unique regardless)."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    key = common.idempotency_key(idempotency_key)
    with uow:
        app = _bank_app(uow, actor, application_id)
        previous = uow.session.exec(select(Loan).where(Loan.disbursement_key == key)).first()
        if previous is not None:
            if previous.application_id != application_id:
                raise Conflict("该幂等键已用于另一笔放款", "This idempotency key was used for another disbursement")
            return previous
        if app.status == ApplicationStatus.DISBURSED:
            loan_id = uow.session.exec(select(Loan.id).where(Loan.application_id == application_id)).first()
            raise Conflict(
                f"该申请已放款（贷款编号 {loan_id}），请用原幂等键重试以取回结果",
                f"This application was already disbursed (loan {loan_id}); retry with the original key to get it",
                detail={"loan_id": loan_id},
            )
        common.transition(app, ApplicationEvent.DISBURSE)
        assert app.offer_terms is not None and app.approved_fen is not None and app.annual_rate is not None
        product = load_row(uow.session, BankProduct, app.product_id, "融资产品", "Finance product")
        receivable = part = None
        if app.receivable_id is not None and app.part_id is not None:
            receivable = load_row(uow.session, Receivable, app.receivable_id, "应收账款", "Receivable", lock=True)
            part = common.lock_part(uow.session, app.part_id)
        due = loan_due_date(uow.session, app)
        start = common.today(uow)
        basis = pricing.DayCount(product.day_count)
        # Interest runs from the actual disbursement date: never more than the signed offer.
        limits.tenor(start, due, product.max_tenor_months)
        interest = pricing.interest_fen(app.approved_fen, Decimal(app.annual_rate), start, due, basis)
        fee = int(app.offer_terms["fee_fen"])
        now = uow.clock.now()
        loan = Loan(
            application_id=application_id,
            kind=app.kind,
            part_id=app.part_id,
            contract_id=app.contract_id,
            sme_line_id=app.sme_line_id,
            disbursement_key=key,
            bank_id=app.bank_id,
            sme_id=app.applicant_id,
            core_enterprise_id=app.core_enterprise_id,
            principal_fen=app.approved_fen,
            principal_outstanding_fen=app.approved_fen,
            fee_fen=fee,
            interest_fen=interest,
            annual_rate=app.annual_rate,
            day_count=basis.value,
            start_date=start,
            due_date=due,
            disbursed_at=now,
        )
        uow.session.add(loan)
        uow.session.flush()
        assert loan.id is not None
        dims: dict[str, Any] = {
            "loan_id": str(loan.id),
            "bank_id": str(app.bank_id),
            "core_enterprise_id": str(app.core_enterprise_id) if app.core_enterprise_id is not None else None,
        }
        common.post(
            uow,
            ledger.disbursement(
                ref=f"loan:{loan.id}:disbursement",
                occurred_at=now,
                sme_id=str(app.applicant_id),
                amount_fen=app.approved_fen,
                **dims,
            ),
        )
        if interest:
            common.post(
                uow,
                ledger.interest_accrual(ref=f"loan:{loan.id}:interest", occurred_at=now, amount_fen=interest, **dims),
            )
        if fee:
            common.post(uow, ledger.fee(ref=f"loan:{loan.id}:fee", occurred_at=now, amount_fen=fee, **dims))
            common.post(
                uow,
                ledger.fee_deduction(
                    ref=f"loan:{loan.id}:fee-deduction",
                    occurred_at=now,
                    sme_id=str(app.applicant_id),
                    amount_fen=fee,
                    **dims,
                ),
            )
        if part is not None and receivable is not None:
            part.status = PartState.FINANCED
            part.version += 1
            uow.session.add(part)
            if part.parent_id is None and receivable.status == ReceivableStatus.CONFIRMED:
                receivable.status = ReceivableStatus.FINANCED  # the whole, unsplit receivable is now financed
                receivable.version += 1
                uow.session.add(receivable)
        app.finished_at = now
        common.enter_stage(uow, app, None)
        breach = common.record_breach(uow, app)
        uow.session.add(app)
        uow.audit(
            APP,
            application_id,
            "disbursed",
            actor_id=user_id,
            loan_id=loan.id,
            elapsed_s=breach.elapsed // timedelta(seconds=1),  # whole seconds: no float in the hash chain
        )
        uow.audit(
            "loan",
            loan.id,
            "disbursed",
            actor_id=user_id,
            principal_fen=loan.principal_fen,
            fee_fen=fee,
            interest_fen=interest,
            due_date=loan.due_date.isoformat(),
        )
        uow.publish(
            events.APPLICATION_DISBURSED, application_id=application_id, loan_id=loan.id, applicant_id=app.applicant_id
        )
        uow.commit()
        return loan


# ------------------------------------------------------------------------------------------ the 48-hour sweep


@dataclass(frozen=True)
class SlaSweep:
    checked: int
    at_risk: int
    breached: int
    escalated: int
    expired: int


def sla_sweep(uow: UnitOfWork) -> SlaSweep:
    """Every minute: refresh the at-risk / breached flags of open applications, escalate each breach once (naming
    the party that caused it), and expire applications whose receivable matured before disbursement.

    Only rows whose flag can change are read: those with a deadline inside :func:`finance.sla.watch_window` of
    now, or already flagged — so the cost follows the applications near their deadline, not all open ones.
    """
    with uow:
        now = uow.clock.now()
        today = common.today(uow)
        is_open = col(FinanceApplication.status).in_(list(common.OPEN_STATES))
        matured = uow.session.exec(
            select(FinanceApplication)
            .join(Receivable, col(Receivable.id) == col(FinanceApplication.receivable_id))
            .where(is_open, Receivable.due_date <= today)
            .order_by(col(FinanceApplication.id))
            .with_for_update(skip_locked=True)
        ).all()
        for app in matured:
            assert app.id is not None
            common.finish(uow, app, ApplicationEvent.EXPIRE, "应收账款已到期 / the receivable has matured")
            uow.audit(APP, app.id, "expired", reason="receivable matured")
        lapsed = uow.session.exec(  # contract loans and drawdowns whose due date came before disbursement
            select(FinanceApplication)
            .where(is_open, col(FinanceApplication.due_on).is_not(None), col(FinanceApplication.due_on) <= today)
            .order_by(col(FinanceApplication.id))
            .with_for_update(skip_locked=True)
        ).all()
        for app in lapsed:
            assert app.id is not None
            common.finish(uow, app, ApplicationEvent.EXPIRE, "还款日已到 / the due date has come")
            uow.audit(APP, app.id, "expired", reason="due date reached")
        matured = [*matured, *lapsed]
        horizon = now + sla.watch_window()
        rows = uow.session.exec(
            select(FinanceApplication)
            .where(
                is_open,
                sa.or_(
                    col(FinanceApplication.deadline_at) <= horizon,
                    col(FinanceApplication.stage_due_at) <= horizon,
                    col(FinanceApplication.sla_status) != sla.SlaStatus.ON_TRACK.value,
                ),
            )
            .order_by(col(FinanceApplication.id))
            .with_for_update(skip_locked=True)
        ).all()
        at_risk = breached = escalated = 0
        for app in rows:
            assert app.id is not None
            flag = common.sla_flag(app, now)
            if flag is sla.SlaStatus.BREACHED:
                breached += 1
                if app.escalated_at is None:
                    breach = common.record_breach(uow, app)
                    app.escalated_at = now
                    escalated += 1
                    party = breach.responsible.value if breach.responsible else None
                    uow.audit(APP, app.id, "sla_breached", party=party)
                    uow.publish(
                        events.APPLICATION_SLA_BREACHED, application_id=app.id, bank_id=app.bank_id, party=party
                    )
            elif flag is sla.SlaStatus.AT_RISK:
                at_risk += 1
            if app.sla_status != flag.value:
                app.sla_status = flag.value
                uow.session.add(app)
        uow.commit()
        return SlaSweep(len(rows), at_risk, breached, escalated, len(matured))
