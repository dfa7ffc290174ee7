"""Races on PostgreSQL row locks: many threads, each with its own unit of work, released together by a barrier.
Exactly one application per part, a credit line never exceeded, one loan per application, one payment per key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.errors import Conflict, DomainError, RuleViolation
from qianfan.models import (
    CreditLine,
    FinanceApplication,
    LedgerPosting,
    Loan,
    PartState,
    Payment,
    Receivable,
    ReceivablePart,
)
from tests.finance_service.conftest import World, exposure_used, get, line_used

pytestmark = pytest.mark.postgres


def race(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in ``n`` threads started together; each result is the return value or the exception."""
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


def split(results: list[Any]) -> tuple[list[Any], list[DomainError]]:
    errors = [r for r in results if isinstance(r, DomainError)]
    return [r for r in results if not isinstance(r, DomainError)], errors


def test_twenty_applications_for_one_part_yield_one(pg_world: World) -> None:
    world = pg_world
    part = world.confirmed_part("1000000.00")
    results = race(20, lambda i: world.apply(part.id, "800000.00"))
    ok, errors = split(results)
    assert len(ok) == 1, results
    assert len(errors) == 19 and all(isinstance(e, Conflict | RuleViolation) for e in errors)
    with Session(world.engine) as s:
        apps = s.exec(select(FinanceApplication)).all()
    assert [a.id for a in apps] == [ok[0].id]
    assert line_used(world) == 80_000_000 == exposure_used(world)
    assert get(world, ReceivablePart, part.id).status == PartState.FINANCING


def test_a_small_line_is_never_exceeded(pg_world: World) -> None:
    world = pg_world
    fs.set_credit_line(world.uow(), world.bank_admin, world.core2.organisation_id, "1000000.00")
    parts = [world.confirmed_part("400000.00", core=world.core2) for _ in range(10)]
    results = race(10, lambda i: world.apply(parts[i].id, "300000.00"))
    ok, errors = split(results)
    assert len(ok) == 3, results  # 3 × 300,000.00 fit in 1,000,000.00; a fourth would not
    assert all(isinstance(e, RuleViolation) and e.detail["exceeded"][0]["limit"] == "bank_line" for e in errors)
    with Session(world.engine) as s:
        line = s.exec(
            select(CreditLine).where(
                CreditLine.bank_id == world.bank_id, CreditLine.core_enterprise_id == world.core2.organisation_id
            )
        ).one()
        financing = s.exec(select(ReceivablePart).where(ReceivablePart.status == PartState.FINANCING)).all()
    assert line.used_fen == 90_000_000 <= line.limit_fen
    assert exposure_used(world) == 90_000_000
    assert sorted(p.id for p in financing if p.id) == sorted(a.part_id for a in ok)


def test_concurrent_disbursements_make_one_loan(pg_world: World) -> None:
    world = pg_world
    app = world.approved()
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(app.offer_terms or {}))
    results = race(10, lambda i: fs.disburse(world.uow(), world.reviewer, app.id, f"key-{i}"))
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 9, results
    assert all(isinstance(e, Conflict) and e.detail == {"loan_id": ok[0].id} for e in errors), errors

    same = world.approved()
    fs.sign_offer(world.uow(), world.sme, same.id, fs.terms_hash(same.offer_terms or {}))
    replays = race(10, lambda i: fs.disburse(world.uow(), world.reviewer, same.id, "one-key"))
    assert not [r for r in replays if isinstance(r, DomainError)], replays
    assert len({loan.id for loan in replays}) == 1

    with Session(world.engine) as s:
        loans = s.exec(select(Loan).order_by(col(Loan.id))).all()
        refs = s.exec(select(LedgerPosting.ref).where(col(LedgerPosting.ref).endswith(":disbursement"))).all()
        assert fs.unbalanced_postings(s) == []
    assert [(x.application_id, x.id) for x in loans] == [(app.id, ok[0].id), (same.id, replays[0].id)]
    assert sorted(refs) == sorted(f"loan:{x.id}:disbursement" for x in loans)


def test_concurrent_payments_with_one_key_make_one_payment(pg_world: World) -> None:
    world = pg_world
    part = world.confirmed_part("1000000.00")
    rid = part.receivable_id
    results = race(2, lambda i: fs.pay_receivable(world.uow(), world.core, rid, "400000.00", "pay-once"))
    assert not [r for r in results if isinstance(r, DomainError)], results
    assert results[0].id == results[1].id
    with Session(world.engine) as s:
        assert len(s.exec(select(Payment)).all()) == 1
    assert get(world, Receivable, rid).paid_fen == 40_000_000 == get(world, ReceivablePart, part.id).paid_fen


def test_concurrent_payments_never_overpay(pg_world: World) -> None:
    world = pg_world
    part = world.confirmed_part("1000000.00")
    rid = part.receivable_id
    results = race(5, lambda i: fs.pay_receivable(world.uow(), world.core, rid, "400000.00", f"pay-{i}"))
    ok, errors = split(results)
    assert len(ok) == 2 and len(errors) == 3 and all(isinstance(e, RuleViolation) for e in errors), results
    assert get(world, Receivable, rid).paid_fen == 80_000_000 == get(world, ReceivablePart, part.id).paid_fen


def test_concurrent_splits_of_one_part_split_it_once(pg_world: World) -> None:
    world = pg_world
    part = world.confirmed_part("1000000.00")
    results = race(8, lambda i: fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"]))
    ok, errors = split(results)
    assert len(ok) == 1 and len(errors) == 7 and all(isinstance(e, RuleViolation) for e in errors), results
    with world.uow() as u:
        live = fs.live_parts(u, part.receivable_id)
    assert sorted(p.amount_fen for p in live) == [50_000_000, 50_000_000]


def test_the_sme_exposure_is_never_exceeded_across_debtors(pg_world: World) -> None:
    world = pg_world
    fs.set_exposure_limit(world.uow(), world.office, world.sme.organisation_id, "1000000.00")
    parts = [world.confirmed_part("400000.00", core=(world.core, world.core2)[i % 2]) for i in range(8)]
    results = race(8, lambda i: world.apply(parts[i].id, "300000.00"))
    ok, errors = split(results)
    assert len(ok) == 3, results
    assert all(isinstance(e, RuleViolation) and e.detail["exceeded"][0]["limit"] == "sme_exposure" for e in errors)
    assert exposure_used(world) == 90_000_000
    assert line_used(world) + line_used(world, world.core2) == 90_000_000


def test_the_first_applications_of_an_sme_create_one_exposure_row(pg_world: World) -> None:
    world = pg_world  # no exposure row yet: concurrent first applications against two debtors race to create it
    parts = [world.confirmed_part("400000.00", core=(world.core, world.core2)[i % 2]) for i in range(6)]
    results = race(6, lambda i: world.apply(parts[i].id, "300000.00"))
    assert not [r for r in results if isinstance(r, DomainError)], results
    assert exposure_used(world) == 6 * 30_000_000


def test_concurrent_retries_of_one_application_return_it(pg_world: World) -> None:
    world = pg_world  # a double click: the same request, the same idempotency key, at the same moment
    part = world.confirmed_part("1000000.00")
    results = race(6, lambda i: world.apply(part.id, "800000.00", idempotency_key="once"))
    assert not [r for r in results if isinstance(r, DomainError)], results
    assert len({app.id for app in results}) == 1
    assert line_used(world) == 80_000_000
