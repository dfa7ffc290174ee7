"""The schedule's ``payoff_today`` is the one payoff read model (``finance.queries.loans.payoff``): what repaying
in full today charges, also on an overdue loan the maturity sweep has not reached yet (issue 16)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from qianfan.clock import FrozenClock
from tests.api import finance_world
from tests.api.finance_world import FinanceWorld

URL = "/api/v1/loans"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def test_payoff_today_is_what_a_repayment_today_takes_before_the_sweep(fw: FinanceWorld) -> None:
    w = fw.w
    loan = w.disbursed("800000.00", days=30)
    fw.clock.advance(timedelta(days=40))  # 10 days overdue; the maturity sweep has not run
    schedule = fw.get(w.sme, f"{URL}/{loan.id}/schedule").json()
    assert schedule["payoff_today_fen"] > schedule["total_fen"]  # the penalty to today, not yet in the ledger
    path = f"{URL}/{loan.id}/repayments"
    over = fw.post(w.sme, path, {"amount": schedule["payoff_today"]}, key="payoff-over-01")
    assert over.status_code == 201, over.text
    assert over.json()["loan_status"] == "repaid" and over.json()["allocation"]["excess_fen"] == 0
