"""The office's finance figures by product: applications, disbursements, principal outstanding and repaid, and the
application → disbursement turnaround per product, exact, with a period — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session

from finance import service as fs
from qianfan.models import FinanceApplication, Loan
from reports.finance_by_product import ProductFigures, finance_by_product
from tests.finance_service.conftest import World
from tests.finance_service.test_chain_finance import apply_on, products
from tests.finance_service.test_settlement_service import contract, plan_30_70


def _to_loan(world: World, app: FinanceApplication) -> Loan:
    assert app.id is not None
    approved = fs.approve(world.uow(), world.reviewer, app.id)
    assert approved.offer_terms is not None
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(approved.offer_terms))
    return fs.disburse(world.uow(), world.reviewer, app.id, f"disb-{app.id}")


def _figures(world: World, **period: object) -> dict[str, ProductFigures]:
    with Session(world.engine) as s:
        return {f.kind: f for f in finance_by_product(s, **period)}  # type: ignore[arg-type]


def test_an_empty_platform_has_a_row_of_zeros_per_product(world: World) -> None:
    rows = _figures(world)
    assert list(rows) == ["receivable", "contract", "credit_line"]
    assert rows["contract"].label_zh == "订单融资" and rows["credit_line"].label_zh == "循环额度（流水贷）"
    assert rows["receivable"].label_en == "receivables finance"
    for row in rows.values():
        assert (row.applications, row.disbursed_count, row.disbursed_fen, row.outstanding_fen, row.repaid_fen) == (
            0,
            0,
            0,
            0,
            0,
        )
        assert row.median_hours is None and row.p95_hours is None and row.within_48h == 0


def test_figures_by_product_with_known_turnarounds(world: World) -> None:
    start = world.clock.now()
    products(world)
    c = contract(world)
    assert c.id is not None
    plan_30_70(world, c.id)
    first = world.apply(world.confirmed_part("1000000.00").id, "800000.00")
    second = world.apply(world.confirmed_part("1000000.00").id, "500000.00")
    on_contract = apply_on(world, c.id, "700000.00")
    for app in (first, second, on_contract):
        assert app.id is not None
        fs.run_risk_check(world.uow(), app.id)

    world.clock.advance(timedelta(hours=10))
    first_loan = _to_loan(world, first)  # 10 h
    world.clock.advance(timedelta(hours=20))
    contract_loan = _to_loan(world, on_contract)  # 30 h
    world.clock.advance(timedelta(hours=20))
    second_loan = _to_loan(world, second)  # 50 h: over the promise
    assert first_loan.id and contract_loan.id and second_loan.id
    withdrawn = world.apply(world.confirmed_part().id, "100000.00")  # submitted at 50 h, never disbursed
    fs.withdraw(world.uow(), world.sme, withdrawn.id)

    # the SME repays 100,000.00 of the first loan's principal (after its interest and fees)
    with Session(world.engine) as s:
        owed = fs.loan_outstanding(s, first_loan.id, as_of=world.clock.now().date())  # interest to the day
    extra = owed.interest_fen + owed.fees_fen + owed.penalty_fen
    fs.repay_loan(world.uow(), world.sme, first_loan.id, Decimal(extra + 10_000_000) / 100, "repay-stats-1")
    # the buyer pays the contract's advance: it repays 300,000.00 of the contract loan first
    fs.record_payment(world.uow(), world.core, c.id, "PAY-STATS", 30_000_000, world.clock.now().date())

    rows = _figures(world)
    receivable, on_contracts, lines = rows["receivable"], rows["contract"], rows["credit_line"]
    assert receivable.applications == 3 and receivable.disbursed_count == 2
    assert receivable.disbursed_fen == 130_000_000
    assert receivable.repaid_fen == 10_000_000 and receivable.outstanding_fen == 120_000_000
    # waits 10 h and 50 h: median 30.0 h, p95 = 10 + 0.95 × 40 = 48.0 h; one within 48 h
    assert receivable.median_hours == Decimal("30.0") and receivable.p95_hours == Decimal("48.0")
    assert receivable.within_48h == 1
    assert on_contracts.applications == 1 and on_contracts.disbursed_count == 1
    assert on_contracts.disbursed_fen == 70_000_000
    assert on_contracts.repaid_fen == 30_000_000 and on_contracts.outstanding_fen == 40_000_000
    assert on_contracts.median_hours == on_contracts.p95_hours == Decimal("30.0") and on_contracts.within_48h == 1
    assert lines.applications == lines.disbursed_count == lines.outstanding_fen == 0 and lines.median_hours is None

    # a period that ends before the second loan and the withdrawn application: outstanding stays "now"
    early = _figures(world, start=start, end=start + timedelta(hours=40))
    assert early["receivable"].applications == 2 and early["receivable"].disbursed_count == 1
    assert early["receivable"].disbursed_fen == 80_000_000 and early["receivable"].repaid_fen == 10_000_000
    assert early["receivable"].median_hours == early["receivable"].p95_hours == Decimal("10.0")
    assert early["receivable"].outstanding_fen == 120_000_000
    assert early["contract"].disbursed_count == 1
    later = _figures(world, start=start + timedelta(hours=51))
    assert all(r.applications == r.disbursed_count == r.disbursed_fen == r.repaid_fen == 0 for r in later.values())
    assert later["contract"].outstanding_fen == 40_000_000  # still owed, whatever the period
