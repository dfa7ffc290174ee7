"""Loans after disbursement on SQLite and PostgreSQL: the maturity sweep (overdue, penalty interest once per day
range), direct repayment (partial, full, idempotent, no overpayment), the debtor's payment over financed and held
parts, ledger views that always sum to zero, and a property test of the payment allocation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from finance import pricing
from finance import service as fs
from finance.queries.loans import loan_list
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from qianfan.models import LedgerPosting, Loan, LoanStatus, PartState, Receivable, ReceivablePart, ReceivableStatus
from tests.finance_service.conftest import World, exposure_used, get, line_used


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def penalty(loan: Loan, days_from: int, days_to: int) -> int:
    return pricing.penalty_interest_fen(
        loan.principal_outstanding_fen,
        Decimal(loan.annual_rate),
        loan.due_date + timedelta(days=days_from),
        loan.due_date + timedelta(days=days_to),
        pricing.DayCount(loan.day_count),
    )


def ledger_is_sound(world: World) -> None:
    with Session(world.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert sum(fs.balances(s).values()) == 0
        for bank in (world.bank_id, world.bank2_admin.organisation_id):
            assert sum(fs.balances(s, bank_id=bank).values()) == 0
        for core in (world.core, world.core2):
            assert sum(fs.balances(s, core_enterprise_id=core.organisation_id).values()) == 0


# ------------------------------------------------------------------------------------------ maturity sweep


def test_maturity_sweep_marks_overdue_and_accrues_penalty_once_per_day(world: World) -> None:
    loan = world.disbursed("800000.00")  # due in 90 days
    world.clock.advance(timedelta(days=90))  # the due date itself: not overdue yet
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(0, 0, 0)
    assert get(world, Loan, loan.id).status == LoanStatus.DISBURSED

    world.clock.advance(timedelta(days=1))
    day1 = penalty(loan, 0, 1)
    assert day1 > 0
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(1, 1, day1)
    row = get(world, Loan, loan.id)
    assert row.status == LoanStatus.OVERDUE and row.overdue_at == world.clock.now()
    assert row.penalty_accrued_fen == day1 and row.penalty_accrued_to == loan.due_date + timedelta(days=1)

    world.clock.advance(timedelta(hours=6))  # the same day in Beijing: nothing more
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(0, 0, 0)
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(0, 0, 0)
    assert get(world, Loan, loan.id).penalty_accrued_fen == day1

    world.clock.advance(timedelta(days=2))  # two more days in one range
    more = penalty(loan, 1, 3)
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(0, 1, more)
    with Session(world.engine) as s:
        refs = s.exec(
            select(LedgerPosting.ref)
            .where(LedgerPosting.loan_id == loan.id, col(LedgerPosting.ref).contains(":penalty:"))
            .order_by(col(LedgerPosting.id))
        ).all()
        owed = fs.loan_outstanding(s, loan.id)
    d = loan.due_date
    assert refs == [
        f"loan:{loan.id}:penalty:{d}:{d + timedelta(days=1)}",
        f"loan:{loan.id}:penalty:{d + timedelta(days=1)}:{d + timedelta(days=3)}",
    ]
    assert owed.penalty_fen == day1 + more == get(world, Loan, loan.id).penalty_accrued_fen
    ledger_is_sound(world)


def test_a_repaid_loan_is_not_swept(world: World) -> None:
    loan = world.disbursed("800000.00")
    with Session(world.engine) as s:
        owed = fs.loan_outstanding(s, loan.id, as_of=world.clock.now().date()).total_fen
    fs.repay_loan(world.uow(), world.sme, loan.id, yuan(owed), "all")
    world.clock.advance(timedelta(days=95))
    assert fs.maturity_sweep(world.uow()) == fs.SweepResult(0, 0, 0)
    assert get(world, Loan, loan.id).status == LoanStatus.REPAID


# ------------------------------------------------------------------------------------------ direct repayment


def to_due_date(world: World, loan: Loan) -> None:
    world.clock.advance(timedelta(days=(loan.due_date - world.clock.now().date()).days))
    assert world.clock.now().date() == loan.due_date


def test_partial_then_full_repayment(world: World) -> None:
    loan = world.disbursed("800000.00")
    interest = loan.interest_fen
    assert interest == 1_200_000  # 800,000.00 × 6 % × 90 / 360
    to_due_date(world, loan)  # at maturity the whole term's interest is owed
    first = fs.repay_loan(world.uow(), world.sme, loan.id, "100000.00", "r-1")
    assert first["replayed"] is False and first["status"] == LoanStatus.REPAID_PARTIALLY
    assert (first["interest_fen"], first["principal_fen"]) == (interest, 10_000_000 - interest)  # interest first
    row = get(world, Loan, loan.id)
    assert row.principal_outstanding_fen == 80_000_000 - (10_000_000 - interest)
    assert row.repaid_fen == 10_000_000
    # repaid principal frees the line and the exposure
    assert line_used(world) == row.principal_outstanding_fen == exposure_used(world)

    with Session(world.engine) as s:
        owed = fs.loan_outstanding(s, loan.id)
    assert owed.total_fen == owed.principal_fen == row.principal_outstanding_fen
    with pytest.raises(InvalidInput) as exc:
        fs.repay_loan(world.uow(), world.core, loan.id, yuan(owed.total_fen + 1), "r-2")
    assert exc.value.detail == {"owed_fen": owed.total_fen}
    done = fs.repay_loan(world.uow(), world.core, loan.id, yuan(owed.total_fen), "r-2")
    assert done["status"] == LoanStatus.REPAID and done["excess_fen"] == 0
    row = get(world, Loan, loan.id)
    assert row.principal_outstanding_fen == 0 and row.repaid_at == world.clock.now()
    assert row.repaid_fen == 80_000_000 + interest
    assert line_used(world) == 0 and exposure_used(world) == 0
    with pytest.raises(Conflict):
        fs.repay_loan(world.uow(), world.sme, loan.id, "0.01", "r-3")
    ledger_is_sound(world)


def test_early_repayment_pays_interest_to_the_day_on_the_declining_balance(world: World) -> None:
    loan = world.disbursed("800000.00")
    rate, basis, start = Decimal(loan.annual_rate), pricing.DayCount(loan.day_count), loan.start_date
    world.clock.advance(timedelta(days=30))
    thirty = pricing.interest_fen(80_000_000, rate, start, start + timedelta(days=30), basis)
    with Session(world.engine) as s:
        owed = fs.loan_outstanding(s, loan.id, as_of=world.clock.now().date())
    assert owed.interest_fen == thirty == 400_000  # 800,000.00 × 6 % × 30 / 360
    first = fs.repay_loan(world.uow(), world.sme, loan.id, "300000.00", "early-1")
    assert (first["interest_fen"], first["principal_fen"]) == (thirty, 30_000_000 - thirty)
    world.clock.advance(timedelta(days=30))
    left = 80_000_000 - (30_000_000 - thirty)
    then = pricing.interest_fen(left, rate, start + timedelta(days=30), start + timedelta(days=60), basis)
    with Session(world.engine) as s:
        owed = fs.loan_outstanding(s, loan.id, as_of=world.clock.now().date())
        contractual = fs.loan_outstanding(s, loan.id)
    assert (owed.principal_fen, owed.interest_fen) == (left, then)
    assert contractual.interest_fen == loan.interest_fen - thirty  # accrued to the due date, less what was paid
    with pytest.raises(InvalidInput):  # more than settles it today
        fs.repay_loan(world.uow(), world.sme, loan.id, yuan(owed.total_fen + 1), "early-2")
    done = fs.repay_loan(world.uow(), world.sme, loan.id, yuan(owed.total_fen), "early-2")
    assert done["status"] == LoanStatus.REPAID and done["excess_fen"] == 0
    with Session(world.engine) as s:
        bal = fs.balances(s, loan_id=loan.id)
        rebate = s.exec(select(LedgerPosting).where(LedgerPosting.ref == f"loan:{loan.id}:interest-rebate")).one()
    # the bank earned 60 days of interest on what was outstanding; the rest of the accrual was written back
    assert -bal[f"interest_income:{world.bank_id}"] == thirty + then < loan.interest_fen
    assert bal[f"interest_receivable:{loan.id}"] == 0 and bal[f"loan_principal:{loan.id}"] == 0
    assert rebate.memo.startswith("提前还款冲回未实现利息")
    assert line_used(world) == 0 and exposure_used(world) == 0
    ledger_is_sound(world)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 10**7)), min_size=1, max_size=4))
def test_property_earned_interest_never_exceeds_the_term_and_matches_one_stretch(steps: list[tuple[int, int]]) -> None:
    start, rate = date(2026, 1, 1), Decimal("0.06")
    principal = 80_000_000
    path, day, bal = [(start, principal)], start, principal
    for days, repaid in steps:
        day, bal = day + timedelta(days=days), max(0, bal - repaid)
        path.append((day, bal))
    end = day + timedelta(days=1)
    earned = pricing.earned_interest_fen(path, rate, end)
    assert 0 <= earned <= pricing.interest_fen(principal, rate, start, end)
    assert pricing.earned_interest_fen(path[:1], rate, end) == pricing.interest_fen(principal, rate, start, end)
    assert pricing.earned_interest_fen(path, rate, start) == 0


def test_repayment_idempotency(world: World) -> None:
    loan = world.disbursed("800000.00")
    fs.repay_loan(world.uow(), world.sme, loan.id, "50000.00", "same")
    again = fs.repay_loan(world.uow(), world.sme, loan.id, "50000.00", "same")
    assert again["replayed"] is True
    assert get(world, Loan, loan.id).repaid_fen == 5_000_000
    with Session(world.engine) as s:
        assert len(s.exec(select(LedgerPosting).where(col(LedgerPosting.ref).contains(":repay:"))).all()) == 1
    with pytest.raises(Conflict):  # the key was used for another amount
        fs.repay_loan(world.uow(), world.sme, loan.id, "60000.00", "same")
    assert get(world, Loan, loan.id).repaid_fen == 5_000_000
    with pytest.raises(InvalidInput):
        fs.repay_loan(world.uow(), world.sme, loan.id, "1.00", "")


def test_only_the_parties_repay_a_loan(world: World) -> None:
    loan = world.disbursed("800000.00")
    for stranger in (world.supplier, world.core2, world.bank2_admin):
        with pytest.raises(NotFound):
            fs.repay_loan(world.uow(), stranger, loan.id, "1.00", "x")
    with pytest.raises(NotFound):
        fs.repay_loan(world.uow(), world.sme, 10_000_000, "1.00", "x")
    assert get(world, Loan, loan.id).repaid_fen == 0


def test_overdue_repayment_pays_the_penalty_first_and_stays_overdue_until_repaid(world: World) -> None:
    loan = world.disbursed("800000.00")
    world.clock.advance(timedelta(days=92))
    fs.maturity_sweep(world.uow())
    pen = get(world, Loan, loan.id).penalty_accrued_fen
    assert pen == penalty(loan, 0, 2)
    part = fs.repay_loan(world.uow(), world.sme, loan.id, "20000.00", "late-1")
    assert part["penalty_fen"] == pen and part["interest_fen"] == loan.interest_fen
    assert part["status"] == LoanStatus.OVERDUE
    world.clock.advance(timedelta(days=1))  # the next day's penalty is accrued by the repayment itself
    row = get(world, Loan, loan.id)
    extra = pricing.penalty_interest_fen(
        row.principal_outstanding_fen,
        Decimal(row.annual_rate),
        loan.due_date + timedelta(days=2),
        loan.due_date + timedelta(days=3),
        pricing.DayCount(row.day_count),
    )
    owed_now = row.principal_outstanding_fen + extra
    with pytest.raises(InvalidInput):
        fs.repay_loan(world.uow(), world.sme, loan.id, yuan(owed_now + 1), "late-2")
    done = fs.repay_loan(world.uow(), world.sme, loan.id, yuan(owed_now), "late-2")
    assert done["status"] == LoanStatus.REPAID and done["penalty_fen"] == extra
    assert get(world, Loan, loan.id).penalty_accrued_fen == pen + extra
    ledger_is_sound(world)


# ------------------------------------------------------------------------------------------ the debtor pays


def test_late_payment_of_a_financed_receivable_repays_the_loan_and_the_surplus_goes_to_the_sme(world: World) -> None:
    loan = world.disbursed("800000.00")
    part = get(world, ReceivablePart, loan.part_id)
    world.clock.advance(timedelta(days=92))
    pay = fs.pay_receivable(world.uow(), world.core, part.receivable_id, "1000000.00", "maturity")
    (line,) = pay.allocation
    pen = penalty(loan, 0, 2)
    assert line["loan_id"] == loan.id and line["loan"]["penalty_fen"] == pen
    assert line["loan"]["excess_fen"] == 100_000_000 - 80_000_000 - loan.interest_fen - pen
    row = get(world, Loan, loan.id)
    assert row.status == LoanStatus.REPAID and row.principal_outstanding_fen == 0
    assert get(world, Receivable, part.receivable_id).status == ReceivableStatus.SETTLED
    assert line_used(world) == 0 and exposure_used(world) == 0
    with Session(world.engine) as s:
        bal = fs.balances(s, loan_id=loan.id)
    # the SME received the principal net of the fee, then the surplus over the loan
    sme = f"sme_settlement:{world.sme.organisation_id}"
    assert bal[sme] == -(80_000_000 - loan.fee_fen) - line["loan"]["excess_fen"]
    assert bal[f"bank_cash:{world.bank_id}"] == 100_000_000
    ledger_is_sound(world)


def test_payment_over_a_financed_and_a_held_part(world: World) -> None:
    whole = world.confirmed_part("1000000.00")
    financed, held = fs.split_part(world.uow(), world.sme, whole.id, ["600000.00", "400000.00"])
    app = world.apply(financed.id, "500000.00")
    fs.run_risk_check(world.uow(), app.id)
    app = fs.approve(world.uow(), world.reviewer, app.id)
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(app.offer_terms or {}))
    loan = fs.disburse(world.uow(), world.reviewer, app.id, "k")
    assert get(world, Receivable, whole.receivable_id).status == ReceivableStatus.SPLIT  # only a part is financed

    first = fs.pay_receivable(world.uow(), world.core, whole.receivable_id, "500000.00", "half")
    shares = {line["part_id"]: line for line in first.allocation}
    assert shares[financed.id]["amount_fen"] == 30_000_000 and shares[held.id]["amount_fen"] == 20_000_000
    assert "loan" not in shares[held.id]
    assert get(world, Loan, loan.id).status == LoanStatus.REPAID_PARTIALLY
    world.clock.advance(timedelta(days=90))
    fs.pay_receivable(world.uow(), world.core, whole.receivable_id, "500000.00", "rest")
    assert get(world, Loan, loan.id).status == LoanStatus.REPAID
    for p in (financed, held):
        row = get(world, ReceivablePart, p.id)
        assert row.status == PartState.SETTLED and row.paid_fen == row.amount_fen
    assert get(world, Receivable, whole.receivable_id).status == ReceivableStatus.SETTLED
    assert line_used(world) == 0 and exposure_used(world) == 0
    ledger_is_sound(world)


def test_ledger_views_sum_to_zero_over_many_loans(world: World) -> None:
    loans = [
        world.disbursed("800000.00"),
        world.disbursed("450000.00", core=world.core2),
        world.disbursed("300000.00", days=30),
    ]
    fs.repay_loan(world.uow(), world.sme, loans[0].id, "12345.67", "a")
    world.clock.advance(timedelta(days=33))
    fs.maturity_sweep(world.uow())
    part = get(world, ReceivablePart, loans[1].part_id)
    fs.pay_receivable(world.uow(), world.core2, part.receivable_id, "300000.00", "b")
    with Session(world.engine) as s:
        for loan in loans:
            assert sum(fs.balances(s, loan_id=loan.id).values()) == 0
        # the loans each party may read (finance.access.loans_visible_to): the office reads them all
        assert len(loan_list(s, world.sme)) == 3
        assert [x.id for x in loan_list(s, world.core2)] == [loans[1].id]
        assert len(loan_list(s, world.bank_admin, [LoanStatus.OVERDUE])) == 1
        assert len(loan_list(s, world.office)) == 3
    ledger_is_sound(world)


def test_only_the_debtor_pays_the_receivable_of_a_loan(world: World) -> None:
    loan = world.disbursed("800000.00")
    part = get(world, ReceivablePart, loan.part_id)
    with pytest.raises(PermissionDenied):
        fs.pay_receivable(world.uow(), world.bank_admin, part.receivable_id, "1.00", "x")
    assert get(world, Loan, loan.id).repaid_fen == 0


# ------------------------------------------------------------------------------------------ property


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    holdings=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=2, max_size=5),
    to_supplier=st.lists(st.booleans(), min_size=5, max_size=5),
    payments=st.lists(st.integers(min_value=1, max_value=20_000_000), min_size=1, max_size=4),
)
def test_random_partial_payments_always_sum_exactly(
    sqlite_world: World, holdings: list[int], to_supplier: list[bool], payments: list[int]
) -> None:
    world = sqlite_world
    total = sum(holdings)
    whole = world.confirmed_part(yuan(total))
    children = fs.split_part(world.uow(), world.sme, whole.id, [yuan(a) for a in holdings])
    parts = [
        fs.transfer_part(world.uow(), world.sme, c.id, world.supplier.organisation_id) if move else c
        for c, move in zip(children, to_supplier, strict=False)
    ]
    rid = whole.receivable_id
    paid_total = 0
    for i, wanted in enumerate(payments):
        amount = min(wanted, total - paid_total)
        if amount == 0:
            break
        pay = fs.pay_receivable(world.uow(), world.core, rid, yuan(amount), f"p{i}")
        assert sum(line["amount_fen"] for line in pay.allocation) == amount
        paid_total += amount
        rows = [get(world, ReceivablePart, p.id) for p in parts]
        assert all(0 <= r.paid_fen <= r.amount_fen for r in rows)
        assert sum(r.paid_fen for r in rows) == paid_total == get(world, Receivable, rid).paid_fen
    if paid_total < total:
        fs.pay_receivable(world.uow(), world.core, rid, yuan(total - paid_total), "final")
    rows = [get(world, ReceivablePart, p.id) for p in parts]
    assert all(r.paid_fen == r.amount_fen and r.status == PartState.SETTLED for r in rows)
    assert get(world, Receivable, rid).status == ReceivableStatus.SETTLED


def test_a_partly_repaid_loan_becomes_overdue_and_a_repaid_one_passes_the_payment_to_the_sme(world: World) -> None:
    partly = world.disbursed("800000.00")
    early = world.disbursed("400000.00")
    fs.repay_loan(world.uow(), world.sme, partly.id, "100000.00", "p")
    with Session(world.engine) as s:  # repaid on the day it was paid out: no interest is owed yet
        owed = fs.loan_outstanding(s, early.id, as_of=world.clock.now().date()).total_fen
    assert owed == early.principal_fen
    fs.repay_loan(world.uow(), world.sme, early.id, yuan(owed), "all")
    world.clock.advance(timedelta(days=91))
    assert fs.maturity_sweep(world.uow()).marked_overdue == 1
    assert get(world, Loan, partly.id).status == LoanStatus.OVERDUE
    # the debtor still pays the receivable behind the repaid loan: all of it goes to the SME
    part = get(world, ReceivablePart, early.part_id)
    pay = fs.pay_receivable(world.uow(), world.core, part.receivable_id, "1000000.00", "m")
    assert pay.allocation[0]["loan"] == {"excess_fen": 100_000_000}
    row = get(world, Loan, early.id)
    assert row.status == LoanStatus.REPAID and row.repaid_fen == owed
    assert get(world, Receivable, part.receivable_id).status == ReceivableStatus.SETTLED
    with Session(world.engine) as s:
        bal = fs.balances(s, loan_id=early.id)
    assert bal[f"sme_settlement:{world.sme.organisation_id}"] == -(40_000_000 - early.fee_fen) - 100_000_000
    ledger_is_sound(world)
