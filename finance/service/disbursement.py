"""Disbursement exactly once (the loan, its ledger postings, the part financed) and the 48-hour SLA sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from finance import ledger, limits, pricing, sla
from finance.service import common
from finance.service.common import APP
from finance.states import OPEN_APPLICATION_STATES, ApplicationEvent
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    FinanceApplication,
    Loan,
    PartState,
    Receivable,
    ReceivableStatus,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork


def disburse(uow: UnitOfWork, actor: Actor, application_id: int, idempotency_key: str) -> Loan:
    """Disburse exactly once.  Replaying the same key returns the loan; another key after disbursement is refused;
    two concurrent calls serialise on the application's row lock (and ``loan.part_id`` is unique regardless)."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    key = common.idempotency_key(idempotency_key)
    with uow:
        app = common.bank_app(uow, actor, application_id)
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
        due = common.loan_due_date(uow.session, app)
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
            "loan_id": loan.id,
            "bank_id": app.bank_id,
            "core_enterprise_id": app.core_enterprise_id,
        }
        common.post(
            uow,
            ledger.disbursement(
                ref=f"loan:{loan.id}:disbursement",
                occurred_at=now,
                sme_id=app.applicant_id,
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
                    sme_id=app.applicant_id,
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
        is_open = col(FinanceApplication.status).in_(OPEN_APPLICATION_STATES)
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
