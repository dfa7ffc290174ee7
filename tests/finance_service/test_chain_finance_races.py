"""Races of data-chain finance on PostgreSQL: real threads, each with its own unit of work, released together by a
barrier.  A contract is financed at most once at a time however many applications arrive at once; a contract loan
and receivable loans applied for at once never together exceed the contract's unpaid value; drawdowns at once
never exceed the SME's line; a buyer's payment recorded at once repays the contract loan once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from finance.credit_suggestion import TradeRecord
from finance.service import credit_suggestion as cs
from finance.service.common import financed_on_contract
from qianfan.errors import Conflict, RuleViolation
from qianfan.models import FinanceApplication, LedgerPosting, Loan, ReceivablePart, SmeCreditLine
from tests.finance_service.conftest import World, exposure_used, get, grant_access, line_used
from tests.finance_service.test_chain_finance import apply_on, drawdown_due, products, through_to_loan
from tests.finance_service.test_settlement_races import N, race
from tests.finance_service.test_settlement_service import SIGNED, contract, later, plan_30_70

pytestmark = pytest.mark.postgres

ROUNDS = 3


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_simultaneous_applications_finance_a_contract_once(pg_world: World, round_: int) -> None:
    products(pg_world)
    c = contract(pg_world)
    assert c.id is not None
    results = race(N, lambda i: apply_on(pg_world, c.id, f"{100000 + i}.00"))  # type: ignore[arg-type]
    made = [r for r in results if isinstance(r, FinanceApplication)]
    assert len(made) == 1 and all(isinstance(r, Conflict) for r in results if r not in made)
    assert line_used(pg_world) == made[0].requested_fen == exposure_used(pg_world)
    with Session(pg_world.engine) as s:
        live = s.exec(select(FinanceApplication).where(FinanceApplication.active_contract_id == c.id)).all()
    assert [a.id for a in live] == [made[0].id]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_contract_and_receivable_finance_at_once_stay_within_the_unpaid_value(pg_world: World, round_: int) -> None:
    """Unpaid 1,000,000.00: four receivable parts of 250,000.00 each ask for 225,000.00 (90 %) while the contract
    asks for 800,000.00 (80 %) — whatever the order, the total reserved never exceeds 1,000,000.00."""
    products(pg_world)
    c = contract(pg_world)
    assert c.id is not None
    parts = []
    for i in range(4):
        rec = fs.register_receivable(
            pg_world.uow(),
            pg_world.sme,
            {"debtor_id": pg_world.core.organisation_id, "contract_id": c.id, "title": f"分期{i}",
             "face": "250000.00", "issue_date": SIGNED, "due_date": pg_world.due(60),
             "invoice_numbers": [f"R{round_}X{i}"]},
        )  # fmt: skip
        fs.confirm_receivable(pg_world.uow(), pg_world.core, {"receivable_id": rec.id, "irrevocable_undertaking": True})
        with Session(pg_world.engine) as s:
            parts.append(s.exec(select(ReceivablePart).where(ReceivablePart.receivable_id == rec.id)).one().id)

    def call(i: int) -> object:
        if i == 0:
            return apply_on(pg_world, c.id, "800000.00")  # type: ignore[arg-type]
        return fs.apply_for_finance(
            pg_world.uow(),
            pg_world.sme,
            {"part_id": parts[i - 1], "bank_id": pg_world.bank_id, "amount": "225000.00"},
        )

    results = race(5, call)
    made = [r for r in results if isinstance(r, FinanceApplication)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(made) + len(refused) == 5 and made
    for r in refused:  # refused for the contract's headroom, never by a constraint error
        assert r.detail["binding_constraint"] == "contract_headroom" or any(
            e["limit"] == "contract_headroom" for e in r.detail["exceeded"]
        )
    with Session(pg_world.engine) as s:
        assert financed_on_contract(s, c.id) == sum(a.requested_fen for a in made) <= 100_000_000


def test_simultaneous_drawdowns_never_exceed_the_line(pg_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    products(pg_world)
    _establish(monkeypatch)
    grant_access(pg_world)
    line = fs.decide_line(pg_world.uow(), pg_world.bank_admin, pg_world.sme.organisation_id, {"accept": True})
    assert line.id is not None
    each = line.limit_fen // 3 + 1  # three fit only if each is a third: at most two succeed
    amount = str(Decimal(each) / 100)
    results = race(
        N,
        lambda i: fs.apply_for_drawdown(
            pg_world.uow(),
            pg_world.sme,
            {"line_id": line.id, "amount": amount, "due_on": drawdown_due(pg_world)},
        ),
    )
    made = [r for r in results if isinstance(r, FinanceApplication)]
    assert len(made) == 2 and all(isinstance(r, RuleViolation) for r in results if r not in made)
    assert get(pg_world, SmeCreditLine, line.id).used_fen == 2 * each <= line.limit_fen


def _establish(monkeypatch: pytest.MonkeyPatch) -> None:

    def record(session: Session, sme_id: int, today: date) -> TradeRecord:
        return TradeRecord(
            as_of=today, months_on_platform=14, settled_fen=385_000_000, settled_deals=5,
            largest_deal_fen=120_000_000, distinct_buyers=3, deliveries=5, on_time_delivery_share=Decimal(1),
        )  # fmt: skip

    monkeypatch.setattr(cs, "trade_record", record)


def test_a_buyer_payment_recorded_at_once_repays_the_contract_loan_once(pg_world: World) -> None:
    products(pg_world)
    c = contract(pg_world)
    assert c.id is not None
    plan_30_70(pg_world, c.id)
    loan = through_to_loan(pg_world, apply_on(pg_world, c.id, "500000.00"))
    paid_on = later(pg_world, 2)
    results = race(N, lambda i: fs.record_payment(pg_world.uow(), pg_world.core, c.id, "PAY-X", 30_000_000, paid_on))
    assert all(not isinstance(r, Exception) or isinstance(r, Conflict) for r in results)
    after = get(pg_world, Loan, loan.id)
    assert after.principal_outstanding_fen == 50_000_000 - 30_000_000
    with Session(pg_world.engine) as s:
        postings = s.exec(select(LedgerPosting).where(col(LedgerPosting.ref).startswith("contract-payment:"))).all()
        assert len(postings) == 1 and fs.unbalanced_postings(s) == []
    assert line_used(pg_world) == 20_000_000
