"""Payment → settlement use cases: payment plans, acceptance, payments, bank-statement imports, the settlement
view and late buyers — on SQLite and PostgreSQL, with a race of two imports on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from finance.settlement import Instalment, InstalmentKind, InstalmentStatus, PlanTerm
from market import service as mkt
from qianfan import audit, events
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    AuditEvent,
    BankStatementImport,
    BankTransaction,
    Contract,
    ContractPayment,
    ContractStatus,
    OutboxEvent,
)
from tests.finance_service.conftest import World, get
from tests.services.conftest import offer_data, order_data

SIGNED = date(2026, 11, 2)  # the world's clock: contracts are signed on this day (Beijing)


def contract(world: World, amount: str = "1000000.00", buyer: Actor | None = None) -> Contract:
    buyer = buyer or world.core
    order = mkt.post_order(world.uow(), buyer, order_data(world.due(30), required_qualifications=[]))
    offer = mkt.list_offer(world.uow(), world.sme, offer_data(qualifications=[]))
    intent = mkt.propose_intent_order(
        world.uow(),
        world.sme,
        {"order_id": order.id, "offer_id": offer.id, "amount": amount, "delivery_due": world.due(20)},
    )
    mkt.sign_intent_order(world.uow(), buyer, intent.id)
    with Session(world.engine) as s:
        row = mkt.contract_for(s, intent.id)
    assert row is not None and row.id is not None
    return row


def plan_30_70(world: World, contract_id: int) -> None:
    fs.set_payment_plan(
        world.uow(),
        world.core,
        contract_id,
        percentages=[
            PlanTerm(InstalmentKind.ADVANCE, 30, due_on=SIGNED + timedelta(days=7)),
            PlanTerm(InstalmentKind.ACCEPTANCE, 70, days_after_acceptance=30),
        ],
    )


def settlement(world: World, contract_id: int, actor: Actor | None = None) -> fs.Settlement:
    with Session(world.engine) as s:
        return fs.contract_settlement(s, actor or world.core, contract_id, world.clock.now().date())


def later(world: World, days: int) -> date:
    world.clock.advance(timedelta(days=days))
    return world.clock.now().date()


def chain_ok(world: World) -> None:
    with Session(world.engine) as s:
        report = audit.verify_chain(s)
    assert report.ok, report


def actions(world: World, contract_id: int) -> list[str]:
    with Session(world.engine) as s:
        return list(
            s.exec(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "contract", AuditEvent.entity_id == contract_id)
                .order_by(col(AuditEvent.seq))
            )
        )


def payments(world: World, contract_id: int) -> list[ContractPayment]:
    with Session(world.engine) as s:
        return list(s.exec(select(ContractPayment).where(ContractPayment.contract_id == contract_id)))


# --------------------------------------------------------------------------------------------- plan


def test_plan_set_replaced_and_refused(world: World) -> None:
    c = contract(world)
    assert c.id is not None
    view = settlement(world, c.id)
    assert not view.plan_agreed and [i.kind for i in view.plan.instalments] == [InstalmentKind.FINAL]
    assert view.reconciliation.instalments[0].status is InstalmentStatus.AWAITING_ACCEPTANCE

    plan_30_70(world, c.id)
    view = settlement(world, c.id)
    assert view.plan_agreed and [i.amount_fen for i in view.plan.instalments] == [30_000_000, 70_000_000]

    plan = fs.set_payment_plan(  # replaced while nothing is paid
        world.uow(),
        world.core,
        c.id,
        instalments=[
            Instalment(InstalmentKind.ADVANCE, 10_000_000, due_on=SIGNED),
            Instalment(InstalmentKind.FINAL, 80_000_000, days_after_acceptance=30),
            Instalment(InstalmentKind.RETENTION, 10_000_000, days_after_acceptance=365),
        ],
    )
    assert len(plan.instalments) == 3 and len(settlement(world, c.id).plan.instalments) == 3

    with pytest.raises(RuleViolation) as err:  # must sum to the contract amount
        fs.set_payment_plan(
            world.uow(), world.core, c.id, instalments=[Instalment(InstalmentKind.ADVANCE, 1, due_on=SIGNED)]
        )
    assert err.value.detail["gap"] == 1 - 100_000_000
    with pytest.raises(InvalidInput):
        fs.set_payment_plan(world.uow(), world.core, c.id)
    with pytest.raises(PermissionDenied):  # the supplier reads but does not change
        plan_30_70_by(world, world.sme, c.id)
    with pytest.raises(NotFound):  # another large firm does not see it
        plan_30_70_by(world, world.core2, c.id)

    fs.record_payment(world.uow(), world.core, c.id, "PAY-1", 10_000_000, SIGNED)
    with pytest.raises(RuleViolation):  # something is paid: the plan is fixed
        plan_30_70(world, c.id)
    assert len(settlement(world, c.id).plan.instalments) == 3
    assert actions(world, c.id).count("plan_set") == 2
    chain_ok(world)


def plan_30_70_by(world: World, actor: Actor, contract_id: int) -> None:
    fs.set_payment_plan(
        world.uow(), actor, contract_id, percentages=[PlanTerm(InstalmentKind.FINAL, 100, days_after_acceptance=30)]
    )


# --------------------------------------------------------------------------------------------- acceptance


def test_acceptance_is_a_dated_event_by_the_buyer(world: World) -> None:
    c = contract(world)
    assert c.id is not None
    today = later(world, 10)
    with pytest.raises(PermissionDenied):
        fs.accept_delivery(world.uow(), world.sme, c.id, today)
    with pytest.raises(RuleViolation):  # not in the future
        fs.accept_delivery(world.uow(), world.core, c.id, today + timedelta(days=1))
    with pytest.raises(RuleViolation):  # not before the contract date
        fs.accept_delivery(world.uow(), world.core, c.id, SIGNED - timedelta(days=1))

    accepted = fs.accept_delivery(world.uow(), world.core, c.id, today - timedelta(days=2))
    assert accepted.status == ContractStatus.DELIVERED and accepted.accepted_on == today - timedelta(days=2)
    row = get(world, Contract, c.id)
    assert row.accepted_by_user_id == world.core.user_id and row.delivered_at is not None
    fs.accept_delivery(world.uow(), world.core, c.id, today - timedelta(days=2))  # same day again: no-op
    with pytest.raises(Conflict):
        fs.accept_delivery(world.uow(), world.core, c.id, today)

    view = settlement(world, c.id, world.sme)
    assert view.reconciliation.instalments[0].due_date == today - timedelta(days=2) + timedelta(days=60)
    assert actions(world, c.id).count("accepted") == 1
    with Session(world.engine) as s:
        topics = list(s.exec(select(OutboxEvent.topic).where(OutboxEvent.topic == events.CONTRACT_DELIVERED)))
    assert len(topics) == 1
    chain_ok(world)


# --------------------------------------------------------------------------------------------- payments


def test_payments_idempotent_partial_surplus_and_completion(world: World) -> None:
    c = contract(world)
    assert c.id is not None
    plan_30_70(world, c.id)
    today = later(world, 5)

    first = fs.record_payment(world.uow(), world.core, c.id, "PAY-1", 30_000_000, today)
    assert first.created and first.surplus_fen == 0
    again = fs.record_payment(world.uow(), world.core, c.id, " PAY-1 ", 30_000_000, today)
    assert not again.created and again.payment.id == first.payment.id
    with pytest.raises(Conflict):
        fs.record_payment(world.uow(), world.core, c.id, "PAY-1", 30_000_001, today)
    with pytest.raises(RuleViolation):
        fs.record_payment(world.uow(), world.core, c.id, "PAY-F", 1, today + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        fs.record_payment(world.uow(), world.sme, c.id, "PAY-X", 1, today)
    with pytest.raises(InvalidInput):
        fs.record_payment(world.uow(), world.core, c.id, "PAY-0", 0, today)

    fs.record_payment(world.uow(), world.core, c.id, "PAY-2", 50_000_000, today)  # partial acceptance payment
    view = settlement(world, c.id)
    assert [s.status for s in view.reconciliation.instalments] == [
        InstalmentStatus.PAID,
        InstalmentStatus.PARTLY_PAID,
    ]
    assert (view.paid_fen, view.outstanding_fen, view.surplus_fen) == (80_000_000, 20_000_000, 0)

    # Paid in full (and beyond) before acceptance: the surplus is reported, the contract stays active.
    over = fs.record_payment(world.uow(), world.core, c.id, "PAY-3", 30_000_000, today)
    assert over.created and over.surplus_fen == 10_000_000 and not over.completed
    assert get(world, Contract, c.id).status == ContractStatus.ACTIVE
    done = fs.accept_delivery(world.uow(), world.core, c.id, today)
    assert done.status == ContractStatus.COMPLETED
    view = settlement(world, c.id, world.office)
    assert (view.paid_fen, view.received_fen, view.surplus_fen, view.outstanding_fen) == (
        100_000_000,
        110_000_000,
        10_000_000,
        0,
    )
    assert len(view.payments) == 3
    with pytest.raises(RuleViolation):  # a completed contract takes no new payments
        fs.record_payment(world.uow(), world.core, c.id, "PAY-4", 1, today)
    assert fs.record_payment(world.uow(), world.core, c.id, "PAY-3", 30_000_000, today).created is False
    assert actions(world, c.id).count("payment_recorded") == 3 and "completed" in actions(world, c.id)
    chain_ok(world)


def test_contract_completes_when_an_accepted_contract_is_paid(world: World) -> None:
    c = contract(world, "1000.00")
    assert c.id is not None
    today = later(world, 3)
    fs.accept_delivery(world.uow(), world.core, c.id, today)
    assert not fs.record_payment(world.uow(), world.core, c.id, "A", 40_000, today).completed
    assert fs.record_payment(world.uow(), world.core, c.id, "B", 60_000, today).completed
    assert get(world, Contract, c.id).status == ContractStatus.COMPLETED
    chain_ok(world)


# --------------------------------------------------------------------------------------------- statements


def statement(c1: int, c_other: int, day: date) -> list[dict[str, Any]]:
    d = day.isoformat()
    return [
        {"交易日期": d, "贷方金额": "300,000.00", "摘要": f"{fs.contract_reference(c1)} 预付款", "交易流水号": "T1"},
        {"交易日期": d, "贷方金额": "300,000.00", "摘要": f"HT-{c1} 预付款", "交易流水号": "T1"},  # same txn
        {"交易日期": d, "贷方金额": "200,000.00", "摘要": f"货款 HT{c1}", "付款人": "测试集团"},  # partial, no id
        {"交易日期": d, "贷方金额": "1,000.00", "摘要": "HT-999999", "交易流水号": "T3"},  # no such contract
        {"交易日期": d, "贷方金额": "5,000.00", "摘要": f"HT-{c_other}", "交易流水号": "T4"},  # another buyer's
        {"交易日期": d, "贷方金额": "abc", "摘要": f"HT-{c1}", "交易流水号": "T5"},  # invalid
        {"交易日期": d, "借方金额": "10.00", "摘要": f"HT-{c1}", "交易流水号": "T6"},  # outgoing: invalid
    ]


def test_statement_import_reports_row_by_row_and_never_double_counts(world: World) -> None:
    c = contract(world)
    other = contract(world, "5000.00", buyer=world.core2)
    assert c.id is not None and other.id is not None
    plan_30_70(world, c.id)
    today = later(world, 4)
    rows = statement(c.id, other.id, today)

    result = fs.import_statement(world.uow(), world.core, "2026-11 工商银行.csv", rows)
    st = result.statement
    assert [r.status.value for r in result.rows] == [
        "matched",
        "duplicate",
        "matched",
        "unknown_reference",
        "unknown_reference",
        "invalid",
        "invalid",
    ]
    assert (st.rows_total, st.matched_count, st.matched_fen) == (7, 2, 50_000_000)
    assert (st.duplicate_count, st.duplicate_fen, st.unknown_count, st.unknown_fen, st.invalid_count) == (
        1,
        30_000_000,
        2,
        600_000,
        2,
    )
    assert result.rows[1].reason_en == "The same transaction as line 1"
    assert result.rows[0].contract_id == c.id and result.rows[4].contract_id is None
    assert {p.ref for p in payments(world, c.id)} == {"txn:T1", result.rows[2].txn_key}
    assert payments(world, other.id) == []
    view = settlement(world, c.id)
    assert view.paid_fen == 50_000_000
    assert [s.status for s in view.reconciliation.instalments] == [
        InstalmentStatus.PAID,
        InstalmentStatus.PARTLY_PAID,
    ]

    # The same file again changes nothing: the matched rows are now duplicates, recorded before.
    again = fs.import_statement(world.uow(), world.core, "2026-11 工商银行.csv", rows)
    assert again.statement.matched_count == 0 and again.statement.duplicate_count == 3
    assert again.rows[0].reason_en == "This transaction was recorded before"
    assert len(payments(world, c.id)) == 2 and settlement(world, c.id).paid_fen == 50_000_000

    # A manual payment whose reference is a transaction key counts as recorded too.
    fs.record_payment(world.uow(), world.core, c.id, "txn:T9", 1_000, today)
    third = fs.import_statement(
        world.uow(),
        world.core,
        "补充.csv",
        [{"date": today.isoformat(), "amount": "10.00", "memo": f"HT-{c.id}", "transaction id": "T9"}],
    )
    assert third.statement.duplicate_count == 1 and len(payments(world, c.id)) == 3

    with Session(world.engine) as s:
        loaded = fs.statement_import(s, world.core, st.id or 0)
        assert len(loaded.rows) == 7 and loaded.statement.file_name == "2026-11 工商银行.csv"
        fs.statement_import(s, world.office, st.id or 0)
        with pytest.raises(NotFound):
            fs.statement_import(s, world.core2, st.id or 0)
    chain_ok(world)


def test_only_a_large_firm_imports_its_own_statement(world: World) -> None:
    c = contract(world)
    assert c.id is not None
    today = later(world, 1)
    rows = [{"date": today.isoformat(), "amount": "1.00", "memo": f"HT-{c.id}", "txn id": "X1"}]
    with pytest.raises(PermissionDenied):
        fs.import_statement(world.uow(), world.sme, "s.csv", rows)
    with pytest.raises(InvalidInput):
        fs.import_statement(world.uow(), world.core, "s.csv", [])
    with pytest.raises(InvalidInput):
        fs.import_statement(world.uow(), world.core, " ", rows)
    result = fs.import_statement(world.uow(), world.core2, "s.csv", rows)  # not core2's contract: unknown
    assert result.statement.unknown_count == 1 and payments(world, c.id) == []
    result = fs.import_statement(world.uow(), world.core, "s.csv", [{**rows[0], "memo": str(c.id)}])
    assert result.statement.matched_count == 1


def test_a_statement_completes_an_accepted_contract(world: World) -> None:
    c = contract(world, "1000.00")
    assert c.id is not None
    today = later(world, 2)
    fs.accept_delivery(world.uow(), world.core, c.id, today)
    rows = [{"date": today.isoformat(), "amount": "1,000.00", "memo": f"HT-{c.id}", "txn id": "Z1"}]
    fs.import_statement(world.uow(), world.core, "z.csv", rows)
    assert get(world, Contract, c.id).status == ContractStatus.COMPLETED
    chain_ok(world)


# --------------------------------------------------------------------------------------------- late buyers


def test_late_buyers_under_the_60_day_rule(world: World) -> None:
    c = contract(world)
    on_time = contract(world)
    assert c.id is not None and on_time.id is not None
    fs.set_payment_plan(  # a 90-day term: capped at 60 days after acceptance
        world.uow(),
        world.core,
        c.id,
        percentages=[PlanTerm(InstalmentKind.ACCEPTANCE, 100, days_after_acceptance=90)],
    )
    accepted = later(world, 1)
    fs.accept_delivery(world.uow(), world.core, c.id, accepted)
    fs.accept_delivery(world.uow(), world.core, on_time.id, accepted)
    fs.record_payment(world.uow(), world.core, on_time.id, "P", 100_000_000, accepted)
    today = later(world, 65)
    with Session(world.engine) as s:
        late = fs.late_buyers(s, world.office, today)
        with pytest.raises(PermissionDenied):
            fs.late_buyers(s, world.sme, today)
    assert [(r.contract_id, r.days_late, r.late_fen) for r in late] == [(c.id, 5, 100_000_000)]
    view = settlement(world, c.id, world.sme)
    assert view.lateness.is_late and view.lateness.lines[0].capped
    assert view.due_fen == 0 and view.overdue_fen == 0  # by the contract's own term it is not yet due


def test_settlement_is_visible_to_the_parties_and_the_office_only(world: World) -> None:
    c = contract(world)
    assert c.id is not None
    for actor in (world.core, world.sme, world.office):
        assert settlement(world, c.id, actor).reference == f"HT-{c.id}"
    for actor in (world.core2, world.supplier, world.bank_admin):
        with pytest.raises(NotFound):
            settlement(world, c.id, actor)


# --------------------------------------------------------------------------------------------- race


@pytest.mark.postgres
def test_two_imports_of_one_statement_at_once_record_each_transaction_once(pg_world: World) -> None:
    world = pg_world
    c = contract(world)
    other = contract(world, "5000.00", buyer=world.core2)
    assert c.id is not None and other.id is not None
    today = later(world, 4)
    rows = statement(c.id, other.id, today)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(fs.import_statement(world.uow(), world.core, "same.csv", rows))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(isinstance(r, fs.StatementImportResult) for r in results), results
    assert sorted(r.statement.matched_count for r in results) == [0, 2]
    assert len(payments(world, c.id)) == 2
    with Session(world.engine) as s:
        assert len(list(s.exec(select(BankTransaction)))) == 2
        assert len(list(s.exec(select(BankStatementImport)))) == 2
    assert settlement(world, c.id).received_fen == 50_000_000
    chain_ok(world)
