"""A party's platform record (finance.queries.history): intent orders, contracts, receivables, financed amounts
and repayments on time or late, read from the SME's side and from the core enterprise's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from finance.queries.history import party_history
from market import service as mkt
from qianfan.errors import NotFound
from qianfan.models import ContractStatus, Loan, OrgKind, ReceivablePart
from tests.finance_service.conftest import World
from tests.finance_service.test_contract_receivables import signed_contract
from tests.services.conftest import offer_data, order_data


def test_a_newcomer_has_an_empty_record(world: World) -> None:
    with Session(world.engine) as s:
        sme = party_history(s, world.supplier.organisation_id)
    assert sme.kind == OrgKind.SME and sme.is_supplier
    assert (sme.contracts, sme.receivables, sme.loans, sme.financed_fen, sme.recent_deals) == (0, 0, 0, 0, ())


def test_both_sides_of_deals_receivables_and_loans(world: World) -> None:
    contract = signed_contract(world, "2000000.00")  # the SME sells to the core enterprise
    order = mkt.post_order(world.uow(), world.core, order_data(world.due(30), required_qualifications=[]))
    offer = mkt.list_offer(world.uow(), world.sme, offer_data(qualifications=[]))
    mkt.propose_intent_order(  # proposed, not signed
        world.uow(),
        world.sme,
        {"order_id": order.id, "offer_id": offer.id, "amount": "300000.00", "delivery_due": world.due(20)},
    )
    on_time = world.disbursed("800000.00", days=30)  # repaid before its due date
    late = world.disbursed("400000.00", face="500000.00", days=60)  # repaid after falling overdue
    world.disbursed("100000.00", face="200000.00", days=90)
    disputed = world.receivable("300000.00")
    fs.dispute_receivable(world.uow(), world.core, disputed.id, "金额不符")

    world.clock.advance(timedelta(days=20))
    receivable_of = _receivable_ids(world)
    fs.pay_receivable(world.uow(), world.core, receivable_of[on_time.id], "1000000.00", "pay-1")
    world.clock.advance(timedelta(days=45))  # day 65: the 60-day loan is overdue
    fs.maturity_sweep(world.uow())
    fs.pay_receivable(world.uow(), world.core, receivable_of[late.id], "500000.00", "pay-2")

    with Session(world.engine) as s:
        sme = party_history(s, world.sme.organisation_id)
        core = party_history(s, world.core.organisation_id)
    assert sme.intent_orders_signed == 1 and sme.intent_order_fen == 200_000_000 and sme.intent_orders_proposed == 1
    assert sme.contracts == 1 and sme.contract_fen == 200_000_000 and sme.contracts_delivered == 0
    assert sme.recent_deals[0].title == contract.title and sme.recent_deals[0].counterparty_id == contract.buyer_id
    assert sme.recent_deals[0].status == ContractStatus.ACTIVE
    assert sme.receivables == 3 and sme.receivables_confirmed == 3 and sme.receivables_disputed == 1
    assert sme.receivable_confirmed_fen == 170_000_000
    assert sme.receivables_paid_on_time == 1 and sme.receivables_paid_late == 1
    assert sme.loans == 3 and sme.financed_fen == 130_000_000 and sme.outstanding_fen == 10_000_000
    assert (sme.loans_repaid_on_time, sme.loans_repaid_late, sme.loans_overdue) == (1, 1, 0)
    # the same deals from the core enterprise's side (buyer, debtor, obligor)
    assert core.kind == OrgKind.LARGE_FIRM and not core.is_supplier
    assert core.intent_orders_signed == 1 and core.contracts == 1
    assert core.recent_deals[0].counterparty_id == world.sme.organisation_id
    assert core.receivables == 3 and core.receivables_paid_late == 1 and core.loans_repaid_late == 1
    assert core.financed_fen == 130_000_000


def _receivable_ids(world: World) -> dict[int | None, int]:
    with Session(world.engine) as s:
        rows = s.exec(
            select(Loan.id, ReceivablePart.receivable_id).join(
                ReceivablePart, col(ReceivablePart.id) == col(Loan.part_id)
            )
        ).all()
    return dict(rows)


def test_a_bank_or_an_unknown_organisation_has_no_record(world: World) -> None:
    with Session(world.engine) as s:
        with pytest.raises(NotFound):
            party_history(s, world.bank_id)
        with pytest.raises(NotFound):
            party_history(s, 999_999)
