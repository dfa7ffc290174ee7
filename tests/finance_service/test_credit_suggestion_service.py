"""The suggested credit line read from an SME's platform record (finance.service.credit_suggestion), on SQLite and
PostgreSQL, with the history built through the use cases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from finance.credit_suggestion import Effect
from finance.platform_age import months_between
from finance.service.credit_suggestion import suggest_credit_line, trade_record
from qianfan.actors import Actor
from qianfan.errors import NotFound, PermissionDenied
from qianfan.models import Contract, ContractStatus, Loan, ReceivablePart
from tests.finance_service.conftest import World, grant_access
from tests.finance_service.test_contract_receivables import signed_contract

_keys = iter(range(10**6))


def settled(world: World, face: str, core: Actor | None = None) -> None:
    """A receivable confirmed by its buyer and paid in full."""
    core = core or world.core
    part = world.confirmed_part(face, core=core)
    fs.pay_receivable(world.uow(), core, part.receivable_id, face, f"pay-{next(_keys)}")


def today(world: World) -> date:
    return world.clock.now().date()


def test_a_strong_sme_is_offered_a_line_with_its_reasons(world: World) -> None:
    settled(world, "5000000.00")
    settled(world, "3000000.00", world.core2)
    world.disbursed("800000.00")  # its receivable (1,000,000.00) paid before the due date repays the loan
    with Session(world.engine) as s:
        receivable_id = s.exec(
            select(ReceivablePart.receivable_id).join(Loan, col(Loan.part_id) == col(ReceivablePart.id))
        ).one()
    fs.pay_receivable(world.uow(), world.core, receivable_id, "1000000.00", "pay-loan")
    contract = signed_contract(world, "2000000.00")  # accepted on time and paid in full: completed
    assert contract.id is not None
    fs.accept_delivery(world.uow(), world.core, contract.id, today(world))
    fs.record_payment(world.uow(), world.core, contract.id, "HT-PAY-1", 200_000_000, today(world))
    with Session(world.engine) as s:
        completed = s.get(Contract, contract.id)
        assert completed is not None and completed.status == ContractStatus.COMPLETED
    world.clock.advance(timedelta(days=200))  # six whole months on the platform

    with Session(world.engine) as s:
        suggestion = suggest_credit_line(s, world.reviewer, world.sme.organisation_id, today(world))
    r = suggestion.record
    assert (r.settled_fen, r.settled_deals, r.largest_deal_fen, r.distinct_buyers) == (1_100_000_000, 4, 500_000_000, 2)
    assert (r.confirmed_receivables, r.confirmed_fen, r.disputes) == (3, 900_000_000, 0)
    assert (r.deliveries, str(r.on_time_delivery_share)) == (1, "1.0000")
    assert (r.loans_repaid_on_time, r.loans_repaid_late, r.loans_overdue_now, r.defaults) == (1, 0, 0, 0)
    assert r.months_on_platform == 6
    # 30 base − 5 (two buyers) + 5 (on time) + 2 (one loan repaid on time) + 5 (three confirmations) = 37 %
    assert suggestion.has_line and suggestion.rate_pct == 37
    assert suggestion.amount_fen == 407_000_000  # 11,000,000.00 × 37 % = 4,070,000.00
    assert {x.figure for x in suggestion.reasons} >= {"settled_fen", "distinct_buyers", "on_time_delivery_share"}

    world.clock.advance(timedelta(days=200))  # the trade is now more than 12 months old
    with Session(world.engine) as s:
        later = suggest_credit_line(s, world.office, world.sme.organisation_id, today(world))
    assert later.record.settled_deals == 0 and not later.has_line
    assert [x.code for x in later.reasons] == ["too_few_deals"]


def test_a_late_delivery_lowers_the_on_time_share(world: World) -> None:
    on_time, late = signed_contract(world, "1000000.00"), signed_contract(world, "1000000.00")
    assert on_time.id is not None and late.id is not None
    fs.accept_delivery(world.uow(), world.core, on_time.id, today(world))
    world.clock.advance(timedelta(days=30))  # past the delivery due date (20 days)
    fs.accept_delivery(world.uow(), world.core, late.id, today(world))
    with Session(world.engine) as s:
        record = trade_record(s, world.sme.organisation_id, today(world))
    assert (record.deliveries, record.on_time_delivery_share) == (2, Decimal("0.5"))
    assert record.settled_deals == 0  # accepted, not paid: delivered, not settled


def test_a_newcomer_gets_no_line(world: World) -> None:
    grant_access(world)  # a newcomer has applied nowhere: the bank reads its record with its consent
    with Session(world.engine) as s:
        suggestion = suggest_credit_line(s, world.bank_admin, world.sme.organisation_id, today(world))
    assert not suggestion.has_line and suggestion.amount_fen == 0
    assert [x.code for x in suggestion.reasons] == ["too_new", "too_few_deals"]
    assert all(x.effect == Effect.BLOCKING for x in suggestion.reasons)


def test_an_overdue_loan_blocks_and_becomes_a_default(world: World) -> None:
    for face in ("1000000.00", "2000000.00", "3000000.00"):
        settled(world, face)
    world.disbursed("800000.00", days=30)
    world.clock.advance(timedelta(days=60))  # overdue, not yet swept: still overdue now
    with Session(world.engine) as s:
        assert trade_record(s, world.sme.organisation_id, today(world)).loans_overdue_now == 1
    world.clock.advance(timedelta(days=140))  # 170 days late: a default
    fs.maturity_sweep(world.uow())
    with Session(world.engine) as s:
        suggestion = suggest_credit_line(s, world.approver, world.sme.organisation_id, today(world))
    assert not suggestion.has_line
    assert [x.code for x in suggestion.reasons] == ["default", "overdue_now"]
    assert suggestion.record.settled_deals == 3


def test_one_buyer_only(world: World) -> None:
    for face in ("1000000.00", "2000000.00", "3000000.00"):
        settled(world, face)
    world.clock.advance(timedelta(days=190))
    with Session(world.engine) as s:
        suggestion = suggest_credit_line(s, world.sme, world.sme.organisation_id, today(world))  # its own
    assert suggestion.record.distinct_buyers == 1
    # 30 − 10 (one buyer) + 5 (three confirmations) = 25 % of 6,000,000.00
    assert suggestion.rate_pct == 25 and suggestion.amount_fen == 150_000_000
    conc = next(x for x in suggestion.reasons if x.code == "buyer_concentration")
    assert (conc.value, conc.effect) == ("1", Effect.MINUS)


def test_who_may_ask(world: World) -> None:
    sme_id = world.sme.organisation_id
    with Session(world.engine) as s, pytest.raises(NotFound):  # the SME never applied to it nor granted access
        suggest_credit_line(s, world.bank2_admin, sme_id, today(world))
    grant_access(world, world.bank2_admin)
    with Session(world.engine) as s:
        suggest_credit_line(s, world.bank2_admin, sme_id, today(world))
        with pytest.raises(PermissionDenied):
            suggest_credit_line(s, world.core, sme_id, today(world))
        with pytest.raises(NotFound):  # another SME's suggestion is not disclosed
            suggest_credit_line(s, world.supplier, sme_id, today(world))
        with pytest.raises(NotFound):  # not an SME
            suggest_credit_line(s, world.office, world.core.organisation_id, today(world))
        with pytest.raises(NotFound):
            suggest_credit_line(s, world.office, 999_999, today(world))


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 5, 23), date(2026, 11, 22), 5),
        (date(2026, 5, 23), date(2026, 11, 23), 6),
        (date(2026, 5, 23), date(2026, 1, 1), 0),
    ],
)
def test_months_between(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months
