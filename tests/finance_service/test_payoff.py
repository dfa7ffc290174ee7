"""One payoff per loan as of a date (issue 16): ``finance.queries.loans.payoff`` is what ``repay_loan`` charges on
that day — early (interest to the day), at maturity (the contractual interest) and overdue before the maturity
sweep has run (penalty to the day) — so every page, the API and the reminders show the figure a repayment takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from finance import service as fs
from finance.queries.loans import payoff
from qianfan.clock import to_local
from qianfan.errors import InvalidInput, NotFound
from qianfan.models import Loan, LoanStatus
from tests.finance_service.conftest import World, get


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@pytest.mark.parametrize("days", [0, 30, 60, 90, 95, 120])
def test_the_payoff_as_of_a_date_is_what_repaying_that_day_charges(world: World, days: int) -> None:
    loan = world.disbursed("800000.00")  # due in 90 days
    assert loan.id is not None
    on = to_local(world.clock.now()).date() + timedelta(days=days)
    with Session(world.engine) as s:
        planned = payoff(s, loan.id, on)  # read today for a day ahead: no sweep will run in between
    assert planned.as_of == on and planned.total_fen == (
        planned.principal_fen + planned.interest_fen + planned.penalty_fen + planned.fees_fen
    )
    assert (planned.penalty_fen > 0) == (on > loan.due_date)
    assert (planned.interest_fen < loan.interest_fen) == (on < loan.due_date)
    world.clock.advance(timedelta(days=days))
    with pytest.raises(InvalidInput) as exc:
        fs.repay_loan(world.uow(), world.sme, loan.id, yuan(planned.total_fen + 1), f"over-{days}")
    assert exc.value.detail["owed_fen"] == planned.total_fen
    done = fs.repay_loan(world.uow(), world.sme, loan.id, yuan(planned.total_fen), f"all-{days}")
    assert done["status"] == LoanStatus.REPAID and done["excess_fen"] == 0
    assert (done["interest_fen"], done["penalty_fen"]) == (planned.interest_fen, planned.penalty_fen)
    with Session(world.engine) as s:
        assert payoff(s, loan.id, on).total_fen == 0
        assert fs.unbalanced_postings(s) == []


def test_an_overdue_loan_pays_off_with_the_penalty_the_sweep_has_not_accrued_yet(world: World) -> None:
    """The contradiction: the repayments page read the ledger as of today and left out the penalty the sweep had
    not yet posted, while repaying charges it; the payoff includes it, and after the sweep nothing changes."""
    loan = world.disbursed("800000.00")
    assert loan.id is not None
    world.clock.advance(timedelta(days=100))
    today = to_local(world.clock.now()).date()
    with Session(world.engine) as s:
        before_sweep = payoff(s, loan.id, today)
        ledger_only = fs.loan_outstanding(s, loan.id, as_of=today)
    assert before_sweep.penalty_fen > ledger_only.penalty_fen == 0
    fs.maturity_sweep(world.uow())
    with Session(world.engine) as s:
        assert payoff(s, loan.id, today) == before_sweep
    assert get(world, Loan, loan.id).penalty_accrued_fen == before_sweep.penalty_fen


def test_early_the_payoff_is_below_the_contractual_total_the_home_page_showed(world: World) -> None:
    """30 days before the due date the loan is repaid with interest to the day: less than the principal plus the
    whole term's interest (the figure the firm's home page summed), and exactly what repaying charges."""
    loan = world.disbursed("800000.00")
    assert loan.id is not None
    world.clock.advance(timedelta(days=60))
    today = to_local(world.clock.now()).date()
    with Session(world.engine) as s:
        contractual = fs.loan_outstanding(s, loan.id).total_fen
        figure = payoff(s, loan.id, today)
    assert figure.total_fen < contractual == loan.principal_fen + loan.interest_fen
    done = fs.repay_loan(world.uow(), world.core, loan.id, yuan(figure.total_fen), "early")
    assert done["status"] == LoanStatus.REPAID


def test_the_payoff_of_an_unknown_loan_is_not_found(world: World) -> None:
    with Session(world.engine) as s, pytest.raises(NotFound):
        payoff(s, 999_999, to_local(world.clock.now()).date())
