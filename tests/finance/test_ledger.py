from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.ledger import (
    Account,
    AccountKind,
    Leg,
    Outstanding,
    Posting,
    allocate_repayment,
    balances,
    balances_for_bank,
    balances_for_core_enterprise,
    balances_for_loan,
    disbursement,
    fee,
    fee_deduction,
    interest_accrual,
    outstanding_for_loan,
    penalty_accrual,
    repayment,
    totals_by_kind,
)
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.money import MAX_AMOUNT_FEN

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CASH = Account(AccountKind.BANK_CASH, 11)
SME = Account(AccountKind.SME_SETTLEMENT, 21)

accounts = st.builds(Account, st.sampled_from(list(AccountKind)), st.sampled_from([1, 2, 3, 31]))
amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def valid_postings(draw: st.DrawFn) -> Posting:
    """A random balanced posting: n debits (or credits) and one or more legs that offset them exactly."""
    positives = draw(st.lists(amounts, min_size=1, max_size=5))
    total = sum(positives)
    # split the total into 1..4 negative legs
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), max_size=3, unique=True))) if total > 1 else []
    bounds = [0, *cuts, total]
    negatives = [-(b - a) for a, b in pairwise(bounds)]
    signed = positives + negatives
    if draw(st.booleans()):
        signed = [-x for x in signed]
    legs = tuple(Leg(draw(accounts), amount) for amount in draw(st.permutations(signed)))
    return Posting(
        draw(st.text(min_size=1, max_size=8).filter(str.strip)),
        T0,
        "random",
        legs,
        loan_id=draw(st.sampled_from([None, 31, 32])),
        bank_id=draw(st.sampled_from([None, 11, 12])),
        core_enterprise_id=draw(st.sampled_from([None, 41])),
    )


@given(valid_postings())
def test_every_posting_sums_to_zero(posting: Posting) -> None:
    assert len(posting.legs) >= 2
    assert sum(leg.amount_fen for leg in posting.legs) == 0
    assert all(leg.amount_fen != 0 for leg in posting.legs)


@given(st.lists(valid_postings(), max_size=12))
def test_balances_over_any_postings_sum_to_zero(postings: list[Posting]) -> None:
    assert sum(balances(postings).values()) == 0
    assert sum(balances_for_loan(postings, 31).values()) == 0
    assert sum(balances_for_bank(postings, 12).values()) == 0
    assert sum(balances_for_core_enterprise(postings, 41).values()) == 0
    assert sum(totals_by_kind(balances(postings)).values()) == 0


@given(st.lists(amounts, min_size=2, max_size=5), st.integers(min_value=1, max_value=10**6))
def test_unbalanced_postings_are_refused(values: list[int], skew: int) -> None:
    signed = [*values[:-1], -(sum(values[:-1])) + skew]
    if signed[-1] == 0:
        signed[-1] = skew
        signed.append(-sum(signed) + 1)
    with pytest.raises(RuleViolation) as err:
        Posting("p", T0, "m", tuple(Leg(CASH, v) for v in signed))
    assert "借贷不平衡" in err.value.message_zh
    assert "Unbalanced" in err.value.message_en


def test_posting_needs_two_legs() -> None:
    with pytest.raises(RuleViolation, match="at least two legs"):
        Posting("p", T0, "m", ())
    with pytest.raises(RuleViolation, match="至少需要两条分录"):
        Posting("p", T0, "m", (Leg(CASH, 0 + 1),))


@pytest.mark.parametrize("bad", [0, 1.0, Decimal("1"), True, "100", MAX_AMOUNT_FEN + 1])
def test_leg_amount_must_be_nonzero_int_in_range(bad: object) -> None:
    with pytest.raises(InvalidInput):
        Leg(CASH, bad)  # type: ignore[arg-type]


def test_posting_refuses_naive_time_and_empty_ref() -> None:
    legs = (Leg(CASH, 5), Leg(SME, -5))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        Posting("p", datetime(2026, 1, 1), "m", legs)
    with pytest.raises(InvalidInput, match="reference"):
        Posting(" ", T0, "m", legs)


@pytest.mark.parametrize("owner", [0, -1, "7", True, None])
def test_account_needs_an_int_owner_id(owner: object) -> None:
    with pytest.raises(InvalidInput):
        Account(AccountKind.BANK_CASH, owner)  # type: ignore[arg-type]


def _loan_life() -> list[Posting]:
    common = {"loan_id": 101, "bank_id": 201, "core_enterprise_id": 301}
    ps = [
        disbursement(ref="d", occurred_at=T0, sme_id=401, amount_fen=1_000_000_00, **common),
        fee(ref="f", occurred_at=T0, amount_fen=500_00, **common),
        interest_accrual(ref="i", occurred_at=T0, amount_fen=8_333_33, **common),
        penalty_accrual(ref="pi", occurred_at=T0, amount_fen=1_234, **common),
    ]
    return ps


def test_loan_life_cycle_balances_and_views() -> None:
    ps = _loan_life()
    owed = outstanding_for_loan(ps, 101)
    assert owed == Outstanding(penalty_fen=1_234, interest_fen=8_333_33, fees_fen=500_00, principal_fen=1_000_000_00)
    # a partial repayment pays penalty, then interest, then fees, then principal
    partial = repayment(
        ref="r1", occurred_at=T0, loan_id=101, bank_id=201, core_enterprise_id=301, amount_fen=10_000_00,
        outstanding=owed,
    )  # fmt: skip
    ps.append(partial)
    after = outstanding_for_loan(ps, 101)
    assert after.penalty_fen == 0 and after.interest_fen == 0 and after.fees_fen == 0
    assert after.principal_fen == 1_000_000_00 - (10_000_00 - 1_234 - 8_333_33 - 500_00)
    # pay the rest plus 1 fen too much: the excess is owed back to the core enterprise
    final = repayment(
        ref="r2", occurred_at=T0, loan_id=101, bank_id=201, core_enterprise_id=301,
        amount_fen=after.total_fen + 1, outstanding=after,
    )  # fmt: skip
    ps.append(final)
    assert outstanding_for_loan(ps, 101).total_fen == 0
    bal = balances_for_bank(ps, 201)
    assert bal[Account(AccountKind.CORE_PAYABLE, 301)] == -1
    assert bal[Account(AccountKind.INTEREST_INCOME, 201)] == -8_333_33
    assert bal[Account(AccountKind.FEE_INCOME, 201)] == -500_00
    assert bal[Account(AccountKind.PENALTY_INCOME, 201)] == -1_234
    assert bal[Account(AccountKind.SME_SETTLEMENT, 401)] == -1_000_000_00
    assert bal[Account(AccountKind.BANK_CASH, 201)] == 1_000_000_00 + 8_333_33 + 500_00 + 1_234 + 1
    assert sum(bal.values()) == 0
    assert balances_for_core_enterprise(ps, 301) == bal
    assert balances_for_loan(ps, 999) == {}


@given(
    st.integers(1, 10**10),
    st.builds(
        Outstanding,
        st.integers(0, 10**8),
        st.integers(0, 10**8),
        st.integers(0, 10**8),
        st.integers(0, 10**9),
    ),
)
def test_allocation_waterfall(amount: int, owed: Outstanding) -> None:
    a = allocate_repayment(amount, owed)
    assert a.total_fen == amount
    assert a.penalty_fen == min(amount, owed.penalty_fen)
    if a.interest_fen or a.fees_fen or a.principal_fen:
        assert a.penalty_fen == owed.penalty_fen
    if a.fees_fen or a.principal_fen:
        assert a.interest_fen == owed.interest_fen
    if a.principal_fen:
        assert a.fees_fen == owed.fees_fen
    if a.excess_fen:
        assert a.principal_fen == owed.principal_fen
    assert a.excess_fen == max(0, amount - owed.total_fen)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_helpers_refuse_non_positive_amounts(bad: object) -> None:
    with pytest.raises(InvalidInput):
        disbursement(
            ref="d", occurred_at=T0, loan_id=102, bank_id=202, sme_id=402, core_enterprise_id=302,
            amount_fen=bad,  # type: ignore[arg-type]
        )  # fmt: skip
    with pytest.raises(InvalidInput):
        Outstanding(principal_fen=-1)


def test_fee_deducted_at_disbursement_leaves_the_sme_the_net_amount() -> None:
    dims = {"loan_id": 7, "bank_id": 2, "core_enterprise_id": 3}
    postings = [
        disbursement(ref="d", occurred_at=T0, sme_id=4, amount_fen=1_000_000, **dims),
        fee(ref="f", occurred_at=T0, amount_fen=1_000, **dims),
        fee_deduction(ref="fd", occurred_at=T0, sme_id=4, amount_fen=1_000, **dims),
    ]
    bal = balances(postings)
    assert bal[Account(AccountKind.SME_SETTLEMENT, 4)] == -999_000  # credited with principal less the fee
    assert bal[Account(AccountKind.FEE_RECEIVABLE, 7)] == 0  # the fee is paid by the deduction
    assert bal[Account(AccountKind.FEE_INCOME, 2)] == -1_000
    assert sum(bal.values()) == 0


def test_repayment_surplus_can_go_to_the_sme_instead_of_the_core_payable() -> None:
    dims = {"loan_id": 7, "bank_id": 2, "core_enterprise_id": 3}
    owed = Outstanding(interest_fen=500, principal_fen=10_000)
    to_core = repayment(ref="r1", occurred_at=T0, amount_fen=12_000, outstanding=owed, **dims)
    to_sme = repayment(
        ref="r2",
        occurred_at=T0,
        amount_fen=12_000,
        outstanding=owed,
        excess_to=Account(AccountKind.SME_SETTLEMENT, 4),
        **dims,
    )
    assert balances([to_core])[Account(AccountKind.CORE_PAYABLE, 3)] == -1_500
    sme_view = balances([to_sme])
    assert sme_view[Account(AccountKind.SME_SETTLEMENT, 4)] == -1_500
    assert Account(AccountKind.CORE_PAYABLE, 3) not in sme_view
