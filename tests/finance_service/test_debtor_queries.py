"""The core enterprise's finance read models — the loans it repays with their payoff (finance.queries.repayments),
the receivables it owes to confirm and has confirmed (finance.queries.confirmations), its statement imports
(finance.queries.statements) — read through finance.access and keep the actor's own side: another firm's records
never show, and the SME and the bank of the same loan read none of them here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from finance import service as fs
from finance.queries import confirmations, repayments, statements
from finance.queries.loans import payoff
from qianfan.clock import FrozenClock, to_local
from qianfan.models import FinanceKind, LoanStatus, OrgKind, ReceivableStatus
from qianfan.uow import UnitOfWork
from tests.api.tenants import Tenants, build_tenants

FIRM, SME, BANK = OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.BANK


@pytest.fixture
def tenants(engine: Engine, clock: FrozenClock) -> Tenants:
    return build_tenants(engine, clock)


def test_open_loan_states_are_the_ones_the_loan_machine_can_leave() -> None:
    assert repayments.OPEN_LOAN_STATES == (LoanStatus.DISBURSED, LoanStatus.REPAID_PARTIALLY, LoanStatus.OVERDUE)


def test_the_loans_a_firm_repays_with_their_payoff_of_the_day(
    engine: Engine, clock: FrozenClock, tenants: Tenants, session: Session
) -> None:
    firm, other = tenants.a.actors[FIRM], tenants.b.actors[FIRM]
    loan_id = tenants.a.ids["loan"]
    assert [loan.id for loan in repayments.loans_repaid_by(session, firm)] == [loan_id]
    assert [loan.id for loan in repayments.loans_repaid_by(session, other)] == [tenants.b.ids["loan"]]
    for borrower_or_bank in (tenants.a.actors[SME], tenants.a.actors[BANK]):
        assert repayments.loans_repaid_by(session, borrower_or_bank) == []  # they read it, but do not repay it
    assert repayments.loans_repaid_by(session, firm, kind=FinanceKind.CONTRACT) == []
    assert repayments.loans_repaid_by(session, firm, statuses=[LoanStatus.REPAID]) == []

    clock.advance(timedelta(days=70))  # 20 days before the due date
    today = to_local(clock.now()).date()
    owed, repaid = repayments.loans_to_repay(session, firm, today)
    assert repaid == [] and [row.loan.id for row in owed] == [loan_id]
    assert owed[0].payoff == payoff(session, loan_id, today)
    assert repayments.repayments_due(session, firm, today, today + timedelta(days=19)) == repayments.DueSoon(0, 0, 0)
    due = repayments.repayments_due(session, firm, today, today + timedelta(days=30))
    assert due == repayments.DueSoon(1, payoff(session, loan_id, today).total_fen, 0)

    fs.repay_loan(UnitOfWork(engine, clock), firm, loan_id, "10000.00", "debtor-reads-partial")
    session.rollback()
    owed, _ = repayments.loans_to_repay(session, firm, today)
    assert owed[0].payoff == payoff(session, loan_id, today) and owed[0].loan.status == LoanStatus.REPAID_PARTIALLY
    clock.advance(timedelta(days=25))  # five days overdue
    fs.maturity_sweep(UnitOfWork(engine, clock))
    session.rollback()
    today = to_local(clock.now()).date()
    due = repayments.repayments_due(session, firm, today, today)
    assert due == repayments.DueSoon(1, payoff(session, loan_id, today).total_fen, 1)
    total = payoff(session, loan_id, today).total_fen
    fs.repay_loan(UnitOfWork(engine, clock), firm, loan_id, f"{total // 100}.{total % 100:02d}", "debtor-reads-all")
    session.rollback()
    owed, repaid = repayments.loans_to_repay(session, firm, today)
    assert owed == [] and [loan.id for loan in repaid] == [loan_id]
    assert repayments.repayments_due(session, firm, today, today) == repayments.DueSoon(0, 0, 0)


def test_receivables_the_firm_owes_to_confirm_and_has_confirmed(
    engine: Engine, clock: FrozenClock, tenants: Tenants, session: Session
) -> None:
    firm, other, sme = tenants.a.actors[FIRM], tenants.b.actors[FIRM], tenants.a.actors[SME]
    assert confirmations.receivables_awaiting_confirmation(session, firm, limit=10) == []
    assert confirmations.receivables_awaiting_confirmation_total(session, firm) == (0, 0)
    confirmed = confirmations.receivables_confirmed(session, firm, limit=10)
    assert {r.id for r in confirmed} == {tenants.a.ids["receivable"], tenants.a.ids["spare_receivable"]}
    today = clock.now().date()
    faces = ("120000.00", "30000.50")
    for days, face in zip((60, 30), faces, strict=True):
        fs.register_receivable(
            UnitOfWork(engine, clock),
            sme,
            {
                "title": f"待确权货款{days}",
                "debtor_id": firm.organisation_id,
                "face": face,
                "issue_date": today,
                "due_date": today + timedelta(days=days),
                "invoice_numbers": [f"INV77{days}"],
            },
        )
    session.rollback()
    waiting = confirmations.receivables_awaiting_confirmation(session, firm, limit=10)
    assert [r.title for r in waiting] == ["待确权货款30", "待确权货款60"]  # earliest due first
    assert all(r.status == ReceivableStatus.REGISTERED for r in waiting)
    assert confirmations.receivables_awaiting_confirmation(session, firm, limit=1) == waiting[:1]
    assert confirmations.receivables_awaiting_confirmation_total(session, firm) == (2, 15_000_050)
    for actor in (other, sme):  # another debtor; the creditor (it reads them, but confirms none)
        assert confirmations.receivables_awaiting_confirmation(session, actor, limit=10) == []
        assert confirmations.receivables_awaiting_confirmation_total(session, actor) == (0, 0)
    assert confirmations.receivables_confirmed(session, sme, limit=10) == []
    assert {r.id for r in confirmations.receivables_confirmed(session, other, limit=10)} == {
        tenants.b.ids["receivable"],
        tenants.b.ids["spare_receivable"],
    }
    assert ReceivableStatus.SETTLED in confirmations.CONFIRMED_OR_SETTLED_STATES
    assert ReceivableStatus.REGISTERED not in confirmations.CONFIRMED_OR_SETTLED_STATES


def test_statement_imports_are_the_importers_own(tenants: Tenants, session: Session) -> None:
    firm, other = tenants.a.actors[FIRM], tenants.b.actors[FIRM]
    assert [i.id for i in statements.statement_imports_made_by(session, firm, limit=5)] == [tenants.a.ids["statement"]]
    assert [i.id for i in statements.statement_imports_made_by(session, other, limit=5)] == [tenants.b.ids["statement"]]
    assert statements.statement_imports_made_by(session, tenants.a.actors[SME], limit=5) == []
    assert statements.statement_imports_made_by(session, tenants.office, limit=5) == []  # it made none itself
