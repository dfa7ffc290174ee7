"""The facts of the data chain, gathered from the database for the risk check of a contract loan or a drawdown
(the pure rules are :mod:`finance.data_chain`).  Read only."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, col, select

from finance import data_chain, limits
from finance import settlement as rules
from finance.platform_age import days_on_platform
from finance.queries.platform import platform_since
from finance.service import common
from finance.service.credit_suggestion import trade_record
from finance.service.settlement import settlement_of
from qianfan.models import (
    BankProduct,
    Contract,
    ContractStatus,
    FinanceApplication,
    IntentOrder,
    Match,
    Organisation,
    SmeCreditLine,
    SmeLineStatus,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork


def sme_record(session: Session, sme_id: int, today: date) -> data_chain.SmeRecord:
    """The SME's deliveries, settlements and loans on the platform: the same 12-month record a bank's suggested
    line is computed from (:func:`finance.service.credit_suggestion.trade_record`)."""
    org = load_row(session, Organisation, sme_id, "企业", "Organisation")
    record = trade_record(session, sme_id, today)
    on_time = int((record.on_time_delivery_share * record.deliveries).to_integral_value(ROUND_HALF_UP))
    return data_chain.SmeRecord(
        credit_code=org.credit_code,
        delivered_contracts=record.deliveries,
        delivered_on_time=min(on_time, record.deliveries),
        settled_fen_12m=record.settled_fen,
        disputes=record.disputes,
        days_on_platform=days_on_platform(platform_since(session, sme_id), today),
        overdue_loans=record.loans_overdue_now,
        defaults=record.defaults,
    )


def buyer_punctuality(session: Session, buyer_id: int, today: date) -> tuple[rules.Punctuality, int]:
    """How the buyer paid every contract's plan on the platform, and what it is late on now (60-day rule)."""
    on_time = late = worst = late_now = 0
    for contract in session.exec(select(Contract).where(col(Contract.buyer_id) == buyer_id)).all():
        view = settlement_of(session, contract, today)
        p = rules.punctuality(
            view.plan,
            [rules.Payment(r.ref, r.amount_fen, r.paid_on) for r in view.payments],
            today,
            acceptance_on=contract.accepted_on,
        )
        on_time += p.on_time
        late += p.late
        worst = max(worst, p.max_days_late)
        if view.lateness.is_late:
            late_now += view.lateness.late_fen
    return rules.Punctuality(on_time, late, worst), late_now


def contract_match(session: Session, contract: Contract) -> tuple[bool, int | None]:
    """Whether the platform matched the contract's order to the SME's offer, and the score in whole percent."""
    intent = load_row(session, IntentOrder, contract.intent_order_id, "意向订单", "Intent order")
    match = session.exec(
        select(Match).where(Match.order_id == intent.order_id, Match.offer_id == intent.offer_id)
    ).first()
    if match is None:
        return False, None
    pct = int((Decimal(str(match.score)) * 100).to_integral_value(ROUND_HALF_UP))
    return True, max(0, min(100, pct))


def contract_facts(uow: UnitOfWork, app: FinanceApplication, product: BankProduct) -> data_chain.ContractFacts:
    s = uow.session
    today = common.today(uow)
    assert app.contract_id is not None and app.core_enterprise_id is not None
    contract = load_row(s, Contract, app.contract_id, "合同", "Contract")
    buyer = load_row(s, Organisation, app.core_enterprise_id, "企业", "Organisation")
    intent = load_row(s, IntentOrder, contract.intent_order_id, "意向订单", "Intent order")
    matched, score = contract_match(s, contract)
    punctual, late_now = buyer_punctuality(s, contract.buyer_id, today)
    view = settlement_of(s, contract, today)
    unpaid = max(0, contract.amount_fen - view.paid_fen)
    line = common.credit_line(s, app.bank_id, app.core_enterprise_id, lock=False)
    exp = common.exposure(uow, app.applicant_id, lock=False)
    own = app.requested_fen  # this application's own reservation is part of what it may use
    other_live = s.exec(
        select(FinanceApplication.id).where(
            FinanceApplication.active_contract_id == contract.id, FinanceApplication.id != app.id
        )
    ).first()
    return data_chain.ContractFacts(
        sme=sme_record(s, app.applicant_id, today),
        buyer_credit_code=buyer.credit_code,
        contract_active=contract.status == ContractStatus.ACTIVE,
        delivery_due=contract.delivery_due,
        today=today,
        matched=matched,
        match_score_pct=score,
        intent_signed=intent.buyer_signed_at is not None and intent.supplier_signed_at is not None,
        buyer_paid_on_time=punctual.on_time,
        buyer_paid_late=punctual.late,
        buyer_max_days_late=punctual.max_days_late,
        buyer_late_now_fen=late_now,
        already_financed=other_live is not None,
        requested_fen=app.requested_fen,
        advance_limit_fen=limits.advance_fen(unpaid, Decimal(product.advance_rate)),
        contract_headroom_fen=common.contract_headroom(uow, contract.id) + own if contract.id is not None else 0,
        bank_line_remaining_fen=(line.limit_fen - line.used_fen + own) if line else 0,
        sme_exposure_remaining_fen=exp.limit_fen - exp.used_fen + own,
    )


def drawdown_facts(uow: UnitOfWork, app: FinanceApplication) -> data_chain.DrawdownFacts:
    s = uow.session
    today = common.today(uow)
    assert app.sme_line_id is not None
    line = load_row(s, SmeCreditLine, app.sme_line_id, "循环额度", "Revolving line")
    exp = common.exposure(uow, app.applicant_id, lock=False)
    own = app.requested_fen
    return data_chain.DrawdownFacts(
        sme=sme_record(s, app.applicant_id, today),
        line_active=line.status == SmeLineStatus.ACTIVE,
        line_expired=line.expires_on is not None and line.expires_on < today,
        line_limit_fen=line.limit_fen,
        line_remaining_fen=line.limit_fen - line.used_fen + own,
        requested_fen=app.requested_fen,
        sme_exposure_remaining_fen=exp.limit_fen - exp.used_fen + own,
    )
