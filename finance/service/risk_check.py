"""The automatic risk check (自动风控) of an application, in seconds: the facts gathered from the database for the
pure rules (:mod:`finance.risk` for receivables, :mod:`finance.data_chain` for contract loans and drawdowns),
the report stored for the bank, and the application passed on or refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from finance import data_chain, limits, risk, sla
from finance.platform_age import days_on_platform
from finance.queries.platform import platform_since
from finance.service import chain_facts, common
from finance.service.common import APP
from finance.service.credit_suggestion import trade_record
from finance.states import CONFIRMED_RECEIVABLE_STATES, ApplicationEvent
from qianfan import events
from qianfan.clock import to_local
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    ContractStatus,
    FinanceApplication,
    FinanceKind,
    Loan,
    Organisation,
    Receivable,
    ReceivablePart,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

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
    record = trade_record(s, app.applicant_id, today)  # its loans: the same record the other products read
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
        receivable_confirmed=receivable.status in CONFIRMED_RECEIVABLE_STATES,
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
        sme_days_on_platform=days_on_platform(platform_since(s, app.applicant_id), today),
        sme_overdue_loans=record.loans_overdue_now,
        sme_defaults=record.defaults,
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
