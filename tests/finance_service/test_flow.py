"""The whole path on SQLite and PostgreSQL: register → confirm → apply → risk → approve → sign → disburse →
pay at maturity → settled, with the ledger balanced at every step."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from finance import service as fs
from qianfan import audit
from qianfan.models import ApplicationStatus, Loan, LoanStatus, PartState, Receivable, ReceivablePart, ReceivableStatus
from tests.finance_service.conftest import World


def test_happy_path_end_to_end(world: World) -> None:
    part = world.confirmed_part("1000000.00", days=90)
    app = world.apply(part.id, "900000.00")
    assert app.status == ApplicationStatus.SUBMITTED
    assert app.deadline_at == app.submitted_at + timedelta(hours=48)
    app = fs.run_risk_check(world.uow(), app.id)
    assert app.status == ApplicationStatus.RISK_CHECKED, app.decision_reason
    assert app.risk_report and app.risk_report["passed"]
    with Session(world.engine) as s:
        queue = fs.review_queue(s, world.reviewer, world.clock.now())
    assert [q.application.id for q in queue] == [app.id]
    world.clock.advance(timedelta(hours=3))
    app = fs.approve(world.uow(), world.reviewer, app.id)
    assert app.status == ApplicationStatus.APPROVED
    terms = app.offer_terms
    assert terms["principal_fen"] == 90_000_000 and terms["guarantee"] == "none"
    sig = fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(terms))
    assert len(sig.terms_hash) == 64
    loan = fs.disburse(world.uow(), world.reviewer, app.id, "k1")
    again = fs.disburse(world.uow(), world.reviewer, app.id, "k1")
    assert again.id == loan.id
    with Session(world.engine) as s:
        assert fs.unbalanced_postings(s) == []
        bal = fs.balances(s, loan_id=loan.id)
        assert sum(bal.values()) == 0
        assert bal[f"loan_principal:{loan.id}"] == 90_000_000
    # maturity: the debtor pays the whole receivable
    world.clock.advance(timedelta(days=90))
    pay = fs.pay_receivable(world.uow(), world.core, part.receivable_id, "1000000.00", "pay-1")
    assert sum(line["amount_fen"] for line in pay.allocation) == 100_000_000
    with Session(world.engine) as s:
        loan = s.get(Loan, loan.id)
        assert loan.status == LoanStatus.REPAID and loan.principal_outstanding_fen == 0
        assert s.get(Receivable, part.receivable_id).status == ReceivableStatus.SETTLED
        assert s.get(ReceivablePart, part.id).status == PartState.SETTLED
        bal = fs.balances(s, loan_id=loan.id)
        assert sum(bal.values()) == 0
        assert fs.unbalanced_postings(s) == []
        assert audit.verify_chain(s).ok
