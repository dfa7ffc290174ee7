"""Helpers shared by the finance use cases: dates, locks, limit rows, the stage clock and the ledger writer."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from finance import data_chain, ledger, pricing, sla
from finance.access import load_application_for
from finance.states import FINANCE_APPLICATION, OPEN_APPLICATION_STATES, ApplicationEvent
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.config import get_settings
from qianfan.errors import InvalidInput, NotFound, PermissionDenied
from qianfan.models import (
    ApplicationStage,
    BankProduct,
    Contract,
    ContractPayment,
    CreditLine,
    ExposureLimit,
    FinanceApplication,
    LedgerLeg,
    LedgerPosting,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    SmeCreditLine,
    UserRole,
)
from qianfan.money import yuan_to_fen
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

APP = "finance_application"  # the audit topic of an application
REVIEW_ROLES = frozenset({UserRole.ADMIN, UserRole.REVIEWER, UserRole.APPROVER})
SECOND_APPROVER_ROLES = frozenset({UserRole.ADMIN, UserRole.APPROVER})


def today(uow: UnitOfWork) -> date:
    """The business date in Beijing."""
    return to_local(uow.clock.now()).date()


def lpr() -> Decimal:
    return get_settings().lpr_1y


def default_exposure_fen() -> int:
    return yuan_to_fen(get_settings().sme_exposure_limit)


def require_user(actor: Actor, roles: frozenset[UserRole] | None = None) -> int:
    """The acting person's id; finance decisions are always made by a named user (never a bare organisation)."""
    if actor.user_id is None:
        raise PermissionDenied("此操作须由具体用户完成", "This must be done by a signed-in user")
    if roles is not None and actor.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise PermissionDenied(
            f"您的角色（{actor.role.value}）无权执行此操作，需要：{allowed}",
            f"Your role ({actor.role.value}) may not do this; it needs one of: {allowed}",
        )
    return actor.user_id


def organisation(session: Session, org_id: int, kind: OrgKind, what_zh: str, what_en: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or org.kind != kind:
        raise NotFound.of(what_zh, what_en, org_id)
    return org


def product_rule(product: BankProduct) -> pricing.Product:
    spreads = {pricing.RiskGrade(k): v for k, v in product.spreads_bp.items()} or dict(pricing.DEFAULT_SPREADS_BP)
    return pricing.Product(
        code=product.code,
        advance_rate=Decimal(product.advance_rate),
        basis=pricing.DayCount(product.day_count),
        spreads_bp=spreads,
        arrangement_fee_bp=product.arrangement_fee_bp,
        fee_min_fen=product.fee_min_fen,
        fee_max_fen=product.fee_max_fen,
        four_eyes_threshold_fen=product.four_eyes_threshold_fen,
        max_tenor_months=product.max_tenor_months,
    )


# ------------------------------------------------------------------------------------------ limits (row locks)


def lock_part(session: Session, part_id: int) -> ReceivablePart:
    return load_row(session, ReceivablePart, part_id, "应收账款份额", "Receivable part", lock=True)


def credit_line(session: Session, bank_id: int, core_id: int, *, lock: bool) -> CreditLine | None:
    stmt = select(CreditLine).where(CreditLine.bank_id == bank_id, CreditLine.core_enterprise_id == core_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def exposure(uow: UnitOfWork, sme_id: int, *, lock: bool) -> ExposureLimit:
    """The SME's exposure row, created at the default limit the first time (a concurrent creator wins the
    unique constraint; we then read its row)."""
    session = uow.session
    stmt = select(ExposureLimit).where(ExposureLimit.sme_id == sme_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.exec(stmt).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(ExposureLimit(sme_id=sme_id, limit_fen=default_exposure_fen(), updated_at=uow.clock.now()))
    except IntegrityError:
        pass
    row = session.exec(stmt).first()
    assert row is not None
    return row


def exposure_remaining(session: Session, sme_id: int) -> int:
    """What the SME may still borrow on the platform, read without creating its row (a quote writes nothing)."""
    row = session.exec(select(ExposureLimit).where(ExposureLimit.sme_id == sme_id)).first()
    return default_exposure_fen() if row is None else row.limit_fen - row.used_fen


def release_limits(uow: UnitOfWork, app: FinanceApplication, amount_fen: int) -> None:
    """Give back ``amount_fen`` an application reserved."""
    release(uow, app.bank_id, app.core_enterprise_id, app.applicant_id, amount_fen, sme_line_id=app.sme_line_id)


def release(
    uow: UnitOfWork,
    bank_id: int,
    core_id: int | None,
    sme_id: int,
    amount_fen: int,
    *,
    sme_line_id: int | None = None,
) -> None:
    """Give back ``amount_fen`` of what was reserved: the SME's revolving line for a drawdown, else the bank's line
    for the debtor / buyer; and the SME's exposure (locks in the canonical order: line, then exposure)."""
    if amount_fen <= 0:
        return
    now = uow.clock.now()
    if sme_line_id is not None:
        sme_line = load_row(uow.session, SmeCreditLine, sme_line_id, "循环额度", "Revolving line", lock=True)
        sme_line.used_fen = max(0, sme_line.used_fen - amount_fen)
        sme_line.updated_at = now
        uow.session.add(sme_line)
    elif core_id is not None:
        line = credit_line(uow.session, bank_id, core_id, lock=True)
        if line is not None:
            line.used_fen = max(0, line.used_fen - amount_fen)
            line.updated_at = now
            uow.session.add(line)
    exp = exposure(uow, sme_id, lock=True)
    exp.used_fen = max(0, exp.used_fen - amount_fen)
    exp.updated_at = now
    uow.session.add(exp)


def required_text(value: str | None, field: str, zh: str, en: str, max_length: int = 5000) -> str:
    """A stripped, non-empty free text (a reason, a question…), or a bilingual InvalidInput naming the field."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(zh, en, detail={"field": field})
    return text[:max_length]


def idempotency_key(value: str | None) -> str:
    key = (value or "").strip()
    if not key or len(key) > 64:
        raise InvalidInput(
            "需要1–64个字符的幂等键",
            "An idempotency key of 1–64 characters is required",
            detail={"field": "idempotency_key"},
        )
    return key


# ------------------------------------------------------------------------------------------ the stage clock


def enter_stage(uow: UnitOfWork, app: FinanceApplication, stage: sla.Stage | None) -> None:
    """Close the current stage interval and open ``stage`` (``None`` when the clock stops)."""
    now = uow.clock.now()
    assert app.id is not None
    open_interval = uow.session.exec(
        select(ApplicationStage).where(
            ApplicationStage.application_id == app.id, col(ApplicationStage.left_at).is_(None)
        )
    ).first()
    if open_interval is not None:
        open_interval.left_at = now
        uow.session.add(open_interval)
    app.stage = stage.value if stage is not None else None
    app.stage_entered_at = now if stage is not None else None
    app.stage_due_at = None
    if stage is not None:
        due = sla.stage_due_at(stage, now)
        if stage is sla.Stage.BANK_REVIEW:
            # Back from the SME with information: the bank's review budget continues, it does not restart.
            used = bank_review_used(uow.session, app.id, now)
            due = now + max(sla.DEFAULT_POLICY.budgets[stage] - used, timedelta(0))
            app.review_due_at = due
        elif stage is sla.Stage.SME_SIGNATURE:
            app.sign_due_at = due
        elif stage is sla.Stage.DISBURSEMENT:
            app.disburse_due_at = due
        app.stage_due_at = due
        uow.session.add(ApplicationStage(application_id=app.id, stage=stage.value, entered_at=now))
    uow.session.add(app)


def intervals(session: Session, application_id: int) -> list[sla.StageInterval]:
    rows = session.exec(
        select(ApplicationStage)
        .where(ApplicationStage.application_id == application_id)
        .order_by(col(ApplicationStage.id))
    ).all()
    return [sla.StageInterval(sla.Stage(r.stage), r.entered_at, r.left_at) for r in rows]


def bank_review_used(session: Session, application_id: int, now: datetime) -> timedelta:
    total = timedelta(0)
    for iv in intervals(session, application_id):
        if iv.stage is sla.Stage.BANK_REVIEW:
            total += (iv.left_at or now) - iv.entered_at
    return total


def transition(app: FinanceApplication, event: ApplicationEvent) -> None:
    app.status = FINANCE_APPLICATION.transition(app.status, event)
    app.version += 1


def finish(uow: UnitOfWork, app: FinanceApplication, event: ApplicationEvent, reason: str = "") -> None:
    """End an application without a loan: the part is free again and the limits are released."""
    transition(app, event)
    now = uow.clock.now()
    app.finished_at = now
    if reason:
        app.decision_reason = reason
    enter_stage(uow, app, None)
    if app.part_id is not None:
        part = lock_part(uow.session, app.part_id)
        if part.status == PartState.FINANCING:
            part.status = PartState.HELD
            part.version += 1
            uow.session.add(part)
    app.active_part_id = None
    app.active_contract_id = None  # the contract may be financed again
    release_limits(uow, app, app.requested_fen)
    record_breach(uow, app)
    uow.session.add(app)


def record_breach(uow: UnitOfWork, app: FinanceApplication) -> sla.Breach:
    assert app.id is not None
    breach = sla.attribute_breach(
        app.submitted_at, intervals(uow.session, app.id), now=uow.clock.now(), finished_at=app.finished_at
    )
    if breach.breached:
        app.sla_status = sla.SlaStatus.BREACHED.value
        app.breach_party = breach.responsible.value if breach.responsible else None
    elif app.finished_at is not None:
        app.sla_status = sla.SlaStatus.ON_TRACK.value  # finished within the 48 hours: the promise was kept
    return breach


def sla_flag(app: FinanceApplication, now: datetime) -> sla.SlaStatus:
    """The application's flag now, from its stored deadlines (the stage deadline carries over a resumed review)."""
    stage = sla.Stage(app.stage) if app.stage else None
    return sla.flag(now, app.deadline_at, stage, app.stage_due_at if stage else None)


# ------------------------------------------------------------------------------------------ terms and ledger


def canonical_terms(terms: dict[str, Any]) -> str:
    return json.dumps(terms, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def terms_hash(terms: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_terms(terms).encode("utf-8")).hexdigest()


def post(uow: UnitOfWork, posting: ledger.Posting) -> bool:
    """Store a balanced posting once: a posting whose ``ref`` exists is skipped (returns False)."""
    exists = uow.session.exec(select(LedgerPosting.id).where(LedgerPosting.ref == posting.ref)).first()
    if exists is not None:
        return False
    row = LedgerPosting(
        ref=posting.ref,
        occurred_at=posting.occurred_at,
        memo=posting.memo[:200],
        loan_id=posting.loan_id,
        bank_id=posting.bank_id,
        core_enterprise_id=posting.core_enterprise_id,
    )
    uow.session.add(row)
    uow.session.flush()
    assert row.id is not None
    for leg in posting.legs:
        uow.session.add(
            LedgerLeg(
                posting_id=row.id,
                account_kind=leg.account.kind.value,
                owner_id=ledger.owner_column(leg.account.owner_id),  # the one int → str, for the text column
                amount_fen=leg.amount_fen,
            )
        )
    return True


def financed_on_contract(session: Session, contract_id: int) -> int:
    """What is financed on a contract now: live applications' reservations plus outstanding principal of its loans
    (the contract loan and the loans on its receivables)."""
    reserved = session.exec(
        select(sa.func.coalesce(sa.func.sum(FinanceApplication.requested_fen), 0)).where(
            FinanceApplication.contract_id == contract_id,
            col(FinanceApplication.status).in_(list(OPEN_APPLICATION_STATES)),
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


def bank_app(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    """The application addressed to *actor* (a bank), locked; another bank's does not exist for it."""
    actor.require_kind(OrgKind.BANK)
    return load_application_for(uow.session, actor, application_id, lock=True)


def own_app(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    """The application *actor* (the applicant SME) made, locked; another SME's does not exist for it."""
    actor.require_kind(OrgKind.SME)
    return load_application_for(uow.session, actor, application_id, lock=True)


def loan_due_date(session: Session, app: FinanceApplication) -> date:
    """When the loan falls due: the receivable's due date, or the date set when a contract loan or a drawdown was
    applied for."""
    if app.due_on is not None:
        return app.due_on
    assert app.receivable_id is not None
    return load_row(session, Receivable, app.receivable_id, "应收账款", "Receivable").due_date
