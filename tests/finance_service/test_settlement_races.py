"""Races of payment → settlement on PostgreSQL: real threads, each with its own unit of work, released together by
a barrier.  The same payment recorded at once is one payment; different payments at once are all counted exactly
(the surplus reported, the contract completed once); a statement row and a manual payment with the same
transaction key count once; the plan changes only while nothing is paid, whatever the interleaving."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from finance.settlement import Instalment, InstalmentKind, PaymentPlan, PlanTerm
from qianfan import events
from qianfan.errors import DomainError, RuleViolation
from qianfan.models import AuditEvent, BankTransaction, Contract, ContractStatus, OutboxEvent
from tests.finance_service.conftest import World, get
from tests.finance_service.test_settlement_service import (
    SIGNED,
    actions,
    chain_ok,
    contract,
    later,
    payments,
    settlement,
)

pytestmark = pytest.mark.postgres

N = 8


def race(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in ``n`` threads started together; each result is the return value or the domain error
    (anything else — an IntegrityError, a deadlock — propagates and fails the test)."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        try:
            return call(i)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        return [f.result(timeout=120) for f in futures]


def outbox_count(world: World, topic: str, contract_id: int) -> int:
    with Session(world.engine) as s:
        rows = s.exec(select(OutboxEvent).where(OutboxEvent.topic == topic)).all()
    return sum(1 for r in rows if r.payload.get("contract_id") == contract_id)


def test_the_same_payment_recorded_at_once_is_one_payment(pg_world: World) -> None:
    world = pg_world
    c = contract(world, "1000.00")
    assert c.id is not None
    today = later(world, 3)

    results = race(N, lambda i: fs.record_payment(world.uow(), world.core, c.id or 0, "PAY-1", 40_000, today))

    assert all(isinstance(r, fs.RecordedPayment) for r in results), results
    assert sum(r.created for r in results) == 1  # one recorded it, the others replayed it
    assert len({r.payment.id for r in results}) == 1
    assert len(payments(world, c.id)) == 1
    assert actions(world, c.id).count("payment_recorded") == 1
    assert outbox_count(world, events.CONTRACT_PAYMENT_RECORDED, c.id) == 1
    view = settlement(world, c.id)
    assert (view.received_fen, view.paid_fen, view.surplus_fen) == (40_000, 40_000, 0)
    chain_ok(world)


def test_different_payments_at_once_are_all_counted_and_the_surplus_is_exact(pg_world: World) -> None:
    world = pg_world
    c = contract(world, "1000.00")  # 100 000 fen, planned 30 / 70
    assert c.id is not None
    fs.set_payment_plan(
        world.uow(),
        world.core,
        c.id,
        percentages=[
            PlanTerm(InstalmentKind.ADVANCE, 30, due_on=SIGNED + timedelta(days=7)),
            PlanTerm(InstalmentKind.ACCEPTANCE, 70, days_after_acceptance=30),
        ],
    )
    today = later(world, 3)
    each = 20_000  # 8 × 200.00 = 1 600.00 > 1 000.00

    results = race(N, lambda i: fs.record_payment(world.uow(), world.core, c.id or 0, f"P-{i}", each, today))

    assert all(isinstance(r, fs.RecordedPayment) and r.created for r in results), results
    # Serialised on the contract's lock: each payment saw all the ones before it.
    assert sorted(r.surplus_fen for r in results) == sorted(max(0, each * k - 100_000) for k in range(1, N + 1))
    assert not any(r.completed for r in results)  # not accepted: paid in full, still active
    view = settlement(world, c.id)
    assert view.received_fen == N * each
    assert (view.paid_fen, view.surplus_fen, view.outstanding_fen) == (100_000, N * each - 100_000, 0)
    assert view.paid_fen + view.surplus_fen == N * each
    assert all(s.paid_fen <= s.amount_fen for s in view.reconciliation.instalments)
    assert [s.paid_fen for s in view.reconciliation.instalments] == [30_000, 70_000]
    assert len(payments(world, c.id)) == N and actions(world, c.id).count("payment_recorded") == N
    assert get(world, Contract, c.id).status == ContractStatus.ACTIVE

    assert fs.accept_delivery(world.uow(), world.core, c.id, today).status == ContractStatus.COMPLETED
    assert actions(world, c.id).count("completed") == 1
    chain_ok(world)


def test_payments_at_once_on_an_accepted_contract_complete_it_once(pg_world: World) -> None:
    world = pg_world
    c = contract(world, "1000.00")
    assert c.id is not None
    today = later(world, 3)
    fs.accept_delivery(world.uow(), world.core, c.id, today)
    each = 30_000  # the fourth payment completes it (1 200.00 ≥ 1 000.00); a completed contract takes no more

    results = race(N, lambda i: fs.record_payment(world.uow(), world.core, c.id or 0, f"P-{i}", each, today))

    recorded = [r for r in results if isinstance(r, fs.RecordedPayment)]
    refused = [r for r in results if not isinstance(r, fs.RecordedPayment)]
    assert len(recorded) == 4 and all(r.created for r in recorded), results
    assert len(refused) == N - 4 and all(isinstance(e, RuleViolation) for e in refused), results
    assert sum(r.completed for r in recorded) == 1
    assert sorted(r.surplus_fen for r in recorded) == [0, 0, 0, 20_000]
    view = settlement(world, c.id)
    assert (view.received_fen, view.paid_fen, view.surplus_fen) == (4 * each, 100_000, 20_000)
    assert view.paid_fen + view.surplus_fen == sum(r.payment.amount_fen for r in recorded)
    assert all(s.paid_fen <= s.amount_fen for s in view.reconciliation.instalments)
    assert get(world, Contract, c.id).status == ContractStatus.COMPLETED
    assert actions(world, c.id).count("completed") == 1
    assert outbox_count(world, events.CONTRACT_SETTLED, c.id) == 1
    assert len(payments(world, c.id)) == 4
    chain_ok(world)


@pytest.mark.parametrize("rounds", [6])
def test_a_statement_row_and_a_manual_payment_with_one_key_count_once(pg_world: World, rounds: int) -> None:
    world = pg_world
    c = contract(world)
    assert c.id is not None
    today = later(world, 2)
    outcomes: list[tuple[str, str]] = []
    for n in range(rounds):  # several rounds: each interleaving (import first, manual first, in between)
        txn = f"R{n}"
        rows = [{"date": today.isoformat(), "amount": "1,000.00", "memo": f"HT-{c.id}", "txn id": txn}]

        def call(i: int, rows: list[dict[str, Any]] = rows, txn: str = txn) -> Any:
            if i == 0:
                return fs.import_statement(world.uow(), world.core, f"{txn}.csv", rows)
            return fs.record_payment(world.uow(), world.core, c.id or 0, f"txn:{txn}", 100_000, today)

        imported, manual = race(2, call)
        assert isinstance(imported, fs.StatementImportResult), imported
        assert isinstance(manual, fs.RecordedPayment), manual
        row_status = imported.rows[0].status.value
        assert (row_status, manual.created) in {("matched", False), ("duplicate", True)}, (row_status, manual)
        outcomes.append((row_status, "created" if manual.created else "replayed"))
        assert [p.ref for p in payments(world, c.id)].count(f"txn:{txn}") == 1

    assert len(payments(world, c.id)) == rounds
    assert settlement(world, c.id).received_fen == rounds * 100_000
    assert actions(world, c.id).count("payment_recorded") == rounds
    with Session(world.engine) as s:  # a bank transaction only for the rows the import recorded
        assert len(s.exec(select(BankTransaction)).all()) == sum(st == "matched" for st, _ in outcomes)
    chain_ok(world)


PLAN_A = [
    Instalment(InstalmentKind.ADVANCE, 30_000, due_on=SIGNED),
    Instalment(InstalmentKind.FINAL, 70_000, days_after_acceptance=30),
]
PLAN_B = [
    Instalment(InstalmentKind.ADVANCE, 10_000, due_on=SIGNED),
    Instalment(InstalmentKind.FINAL, 80_000, days_after_acceptance=30),
    Instalment(InstalmentKind.RETENTION, 10_000, days_after_acceptance=365),
]


@pytest.mark.parametrize("rounds", [5])
def test_plan_changes_racing_the_first_payment_never_replan_a_paid_contract(pg_world: World, rounds: int) -> None:
    world = pg_world
    today = later(world, 2)
    for _ in range(rounds):
        c = contract(world, "1000.00")
        assert c.id is not None
        cid = c.id

        def call(i: int, cid: int = cid) -> Any:
            if i == 2:
                return fs.record_payment(world.uow(), world.core, cid, "FIRST", 25_000, today)
            return fs.set_payment_plan(world.uow(), world.core, cid, instalments=PLAN_A if i == 0 else PLAN_B)

        results = race(3, call)
        paid = results[2]
        assert isinstance(paid, fs.RecordedPayment) and paid.created, results
        plans = results[:2]
        assert all(isinstance(r, PaymentPlan | RuleViolation) for r in plans), results

        # The rule: the plan changes only while nothing is paid.  So every plan_set precedes the payment.
        trail = actions(world, cid)
        assert trail.count("payment_recorded") == 1
        assert trail.count("plan_set") == sum(not isinstance(r, RuleViolation) for r in plans)
        assert "plan_set" not in trail[trail.index("payment_recorded") :]

        view = settlement(world, cid)
        assert sum(i.amount_fen for i in view.plan.instalments) == 100_000
        with Session(world.engine) as s:  # the plan in force is the last one set (or the default if none was)
            last = s.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.entity_type == "contract", AuditEvent.entity_id == cid, AuditEvent.action == "plan_set"
                )
                .order_by(col(AuditEvent.seq).desc())
            ).first()
        expected = [100_000] if last is None else [i["amount_fen"] for i in last.payload["instalments"]]
        assert [i.amount_fen for i in view.plan.instalments] == expected
        # The payment is allocated against that plan, nothing more and nothing less.
        assert sum(a.amount_fen for a in view.reconciliation.allocations if a.index is not None) == 25_000
        assert all(a.index is None or a.index < len(view.plan.instalments) for a in view.reconciliation.allocations)
        assert view.paid_fen == 25_000 and view.surplus_fen == 0
        with pytest.raises(RuleViolation):  # and after the race it stays fixed
            fs.set_payment_plan(world.uow(), world.core, cid, instalments=PLAN_A)
    chain_ok(world)
