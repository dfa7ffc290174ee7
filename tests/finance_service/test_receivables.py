"""Receivable use cases on SQLite and PostgreSQL: register, confirm (one by one and in a batch), dispute, split,
transfer, and the debtor's payment shared over the holders of record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    FinanceApplication,
    PartState,
    Payment,
    Receivable,
    ReceivableInvoice,
    ReceivablePart,
    ReceivableStatus,
)
from qianfan.uow import UnitOfWork
from tests.finance_service.conftest import World, exposure_used, get, line_used


def parts_of(world: World, receivable_id: int | None) -> list[ReceivablePart]:
    with Session(world.engine) as s:
        return list(
            s.exec(
                select(ReceivablePart)
                .where(ReceivablePart.receivable_id == receivable_id)
                .order_by(col(ReceivablePart.id))
            ).all()
        )


def live(world: World, receivable_id: int | None) -> list[ReceivablePart]:
    assert receivable_id is not None
    with world.uow() as u:
        return fs.live_parts(u, receivable_id)


def register(world: World, actor: Actor | None = None, _uow: UnitOfWork | None = None, **overrides: Any) -> Receivable:
    data: dict[str, Any] = {
        "title": "配套零部件货款",
        "debtor_id": world.core.organisation_id,
        "face": "1000000.00",
        "issue_date": world.clock.now().date(),
        "due_date": world.due(90),
        "invoice_numbers": ["FP20261102001"],
    }
    data.update(overrides)
    return fs.register_receivable(_uow or world.uow(), actor or world.sme, data)


def confirm(world: World, receivable_id: int | None, actor: Actor | None = None, **extra: Any) -> Receivable:
    data = {"receivable_id": receivable_id, "irrevocable_undertaking": True, **extra}
    return fs.confirm_receivable(world.uow(), actor or world.core, data)


# ------------------------------------------------------------------------------------------ register


def test_register_stores_the_receivable_with_normalised_invoices(world: World) -> None:
    rec = register(world, invoice_numbers=[" fp 0001 ", "FP0002", "ｆｐ０００１"])
    assert rec.status == ReceivableStatus.REGISTERED
    assert rec.face_fen == 100_000_000 and rec.confirmed_fen is None
    assert rec.creditor_id == world.sme.organisation_id and rec.debtor_id == world.core.organisation_id
    assert rec.invoice_numbers == ["FP0001", "FP0002"]  # normalised and de-duplicated
    with Session(world.engine) as s:
        keys = s.exec(select(ReceivableInvoice.invoice_key).where(ReceivableInvoice.receivable_id == rec.id)).all()
    assert sorted(keys) == [f"{world.core.organisation_id}:FP0001", f"{world.core.organisation_id}:FP0002"]
    assert parts_of(world, rec.id) == []  # no part before confirmation


def test_stand_alone_receivable_needs_an_invoice(world: World) -> None:
    with pytest.raises(InvalidInput) as exc:
        register(world, invoice_numbers=[])
    assert exc.value.detail["field"] == "invoice_numbers"
    with pytest.raises(InvalidInput):
        register(world, invoice_numbers=["   "])  # blank numbers do not count


@pytest.mark.parametrize(
    "spelling", ["fp20261102001", " FP 2026 1102 001 ", "ＦＰ２０２６１１０２００１", "ｆｐ20261102001"]
)
def test_same_invoice_twice_is_a_conflict_however_spelled(world: World, spelling: str) -> None:
    first = register(world, invoice_numbers=["FP20261102001"])
    with pytest.raises(Conflict) as exc:
        register(world, invoice_numbers=["NEW0001", spelling])
    assert exc.value.detail == {"invoice_numbers": ["FP20261102001"]}
    # nothing of the refused registration was stored, and the first is untouched
    with Session(world.engine) as s:
        assert len(s.exec(select(Receivable)).all()) == 1
        assert (
            s.exec(select(ReceivableInvoice).where(col(ReceivableInvoice.invoice_key).contains("NEW0001"))).all() == []
        )
    assert get(world, Receivable, first.id).status == ReceivableStatus.REGISTERED


def test_same_invoice_number_against_another_debtor_is_another_invoice(world: World) -> None:
    register(world, invoice_numbers=["FP77"])
    other = register(world, invoice_numbers=["FP77"], debtor_id=world.core2.organisation_id)
    assert other.debtor_id == world.core2.organisation_id


def test_debtor_must_be_a_large_firm(world: World) -> None:
    with pytest.raises(NotFound):
        register(world, debtor_id=world.supplier.organisation_id)
    with pytest.raises(NotFound):
        register(world, debtor_id=world.bank_id)
    with pytest.raises(NotFound):
        register(world, debtor_id=10_000_000)


def test_only_an_sme_registers(world: World) -> None:
    for actor in (world.core, world.bank_admin, world.office):
        with pytest.raises(PermissionDenied):
            register(world, actor)
    with Session(world.engine) as s:
        assert s.exec(select(Receivable)).all() == []


def test_registration_dates_are_checked(world: World) -> None:
    with pytest.raises(RuleViolation):
        today = world.clock.now().date()
        register(world, issue_date=today - timedelta(days=30), due_date=today)  # already due
    with pytest.raises(InvalidInput):
        register(world, issue_date=world.due(1))  # issued in the future


# ------------------------------------------------------------------------------------------ confirm


def test_the_debtor_confirms_and_one_part_is_created(world: World) -> None:
    rec = register(world)
    done = confirm(world, rec.id)
    assert done.status == ReceivableStatus.CONFIRMED
    assert done.confirmed_fen == 100_000_000 and done.confirmed_by == world.core.user_id
    assert "不可撤销" in done.undertaking
    (part,) = parts_of(world, rec.id)
    assert (part.holder_id, part.amount_fen, part.status) == (world.sme.organisation_id, 100_000_000, PartState.HELD)


def test_confirmed_lower_than_face_creates_one_part_of_the_confirmed_amount(world: World) -> None:
    rec = register(world, face="1000000.00")
    done = confirm(world, rec.id, confirmed="750000.50")
    assert done.confirmed_fen == 75_000_050 and done.face_fen == 100_000_000
    (part,) = parts_of(world, rec.id)
    assert part.amount_fen == 75_000_050


def test_confirmation_above_face_is_refused(world: World) -> None:
    rec = register(world, face="1000000.00")
    with pytest.raises(RuleViolation) as exc:
        confirm(world, rec.id, confirmed="1000000.01")
    assert exc.value.detail["max"] == 100_000_000
    assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED
    assert parts_of(world, rec.id) == []


def test_confirmation_needs_the_irrevocable_undertaking(world: World) -> None:
    rec = register(world)
    with pytest.raises(RuleViolation) as exc:
        fs.confirm_receivable(world.uow(), world.core, {"receivable_id": rec.id})
    assert exc.value.detail["field"] == "irrevocable_undertaking"
    assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED


def test_only_a_user_of_the_debtor_confirms(world: World) -> None:
    rec = register(world)
    with pytest.raises(PermissionDenied):
        confirm(world, rec.id, world.sme)  # the creditor
    with pytest.raises(NotFound):
        confirm(world, rec.id, world.core2)  # a third party does not even see it
    with pytest.raises(PermissionDenied):
        confirm(world, rec.id, Actor(world.core.organisation_id, world.core.kind))  # no named user
    assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED


def test_confirming_twice_is_refused(world: World) -> None:
    rec = register(world)
    confirm(world, rec.id)
    with pytest.raises(RuleViolation):
        confirm(world, rec.id)
    assert len(parts_of(world, rec.id)) == 1


def test_a_confirmed_receivable_cannot_be_disputed_or_cancelled(world: World) -> None:
    rec = register(world)
    confirm(world, rec.id)
    with pytest.raises(RuleViolation):
        fs.dispute_receivable(world.uow(), world.core, rec.id, "货物有质量问题")
    with pytest.raises(RuleViolation):
        fs.dispute_receivable(world.uow(), world.sme, rec.id, "登记错误")
    row = get(world, Receivable, rec.id)
    assert row.status == ReceivableStatus.CONFIRMED and not row.disputed
    with Session(world.engine) as s:  # the invoice stays registered
        assert s.exec(select(ReceivableInvoice).where(ReceivableInvoice.receivable_id == rec.id)).all()


# ------------------------------------------------------------------------------------------ batch confirm


def test_batch_confirm_is_all_or_nothing(world: World) -> None:
    a = register(world, invoice_numbers=["B1"])
    b = register(world, invoice_numbers=["B2"], face="200000.00")
    c = register(world, invoice_numbers=["B3"])
    other = register(world, invoice_numbers=["B4"], debtor_id=world.core2.organisation_id)
    items = [
        {"receivable_id": a.id, "irrevocable_undertaking": True},
        {"receivable_id": b.id, "irrevocable_undertaking": True, "confirmed": "200000.01"},  # above face
        {"receivable_id": c.id, "irrevocable_undertaking": True},
        {"receivable_id": other.id, "irrevocable_undertaking": True},  # owed to another debtor
    ]
    with pytest.raises(RuleViolation) as exc:
        fs.confirm_receivables(world.uow(), world.core, items)
    failures = {f["receivable_id"]: f for f in exc.value.detail}
    assert set(failures) == {b.id, other.id}
    assert failures[b.id]["error"] == "rule_violated"
    assert failures[other.id]["error"] == "not_found"
    assert "2" in exc.value.message_en and "4" in exc.value.message_en
    for rec in (a, b, c, other):
        assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED
        assert parts_of(world, rec.id) == []
    # the good ones go through together
    done = fs.confirm_receivables(world.uow(), world.core, [items[0], items[2]])
    assert sorted(r.id for r in done if r.id) == sorted(x for x in (a.id, c.id) if x)
    assert get(world, Receivable, a.id).status == ReceivableStatus.CONFIRMED
    assert get(world, Receivable, c.id).status == ReceivableStatus.CONFIRMED
    assert len(parts_of(world, a.id)) == 1 and len(parts_of(world, c.id)) == 1


def test_batch_confirm_refuses_empty_and_repeated_lists(world: World) -> None:
    rec = register(world)
    with pytest.raises(InvalidInput):
        fs.confirm_receivables(world.uow(), world.core, [])
    item = {"receivable_id": rec.id, "irrevocable_undertaking": True}
    with pytest.raises(InvalidInput):
        fs.confirm_receivables(world.uow(), world.core, [item, item])
    assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED


# ------------------------------------------------------------------------------------------ dispute


def test_dispute_by_the_debtor_frees_the_invoices_and_counts_as_a_dispute(world: World) -> None:
    rec = register(world, invoice_numbers=["D1", "D2"])
    with pytest.raises(InvalidInput):
        fs.dispute_receivable(world.uow(), world.core, rec.id, "   ")
    with pytest.raises(NotFound):
        fs.dispute_receivable(world.uow(), world.core2, rec.id, "不认识")
    done = fs.dispute_receivable(world.uow(), world.core, rec.id, "金额与合同不符")
    assert done.status == ReceivableStatus.CANCELLED and done.disputed
    assert done.cancel_reason == "金额与合同不符" and done.cancelled_at == world.clock.now()
    with Session(world.engine) as s:
        assert s.exec(select(ReceivableInvoice).where(ReceivableInvoice.receivable_id == rec.id)).all() == []
    again = register(world, invoice_numbers=["d1", "D2"])  # a corrected registration may reuse the numbers
    assert again.id != rec.id
    with pytest.raises(RuleViolation):
        confirm(world, rec.id)  # the cancelled one can no longer be confirmed


def test_the_creditor_may_cancel_its_own_registration_without_a_dispute(world: World) -> None:
    rec = register(world)
    done = fs.dispute_receivable(world.uow(), world.sme, rec.id, "登记有误")
    assert done.status == ReceivableStatus.CANCELLED and not done.disputed


# ------------------------------------------------------------------------------------------ split


def test_split_into_parts_that_sum_exactly(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    children = fs.split_part(world.uow(), world.sme, part.id, ["333333.33", "333333.33", "333333.34"])
    assert [c.amount_fen for c in children] == [33_333_333, 33_333_333, 33_333_334]
    assert all(c.parent_id == part.id and c.holder_id == world.sme.organisation_id for c in children)
    assert all(c.status == PartState.HELD for c in children)
    assert get(world, ReceivablePart, part.id).status == PartState.SPLIT
    assert get(world, Receivable, part.receivable_id).status == ReceivableStatus.SPLIT
    held = live(world, part.receivable_id)
    assert sorted(p.id for p in held if p.id) == sorted(c.id for c in children if c.id)
    assert sum(p.amount_fen for p in held) == 100_000_000
    # a child may be split again; the receivable stays split
    grandchildren = fs.split_part(world.uow(), world.sme, children[0].id, ["0.01", "333333.32"])
    assert sum(g.amount_fen for g in grandchildren) == 33_333_333
    assert sum(p.amount_fen for p in live(world, part.receivable_id)) == 100_000_000
    assert get(world, Receivable, part.receivable_id).status == ReceivableStatus.SPLIT


def test_split_that_does_not_sum_is_refused(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    with pytest.raises(RuleViolation) as exc:
        fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "499999.99"])
    assert exc.value.detail["sum"] == 99_999_999
    with pytest.raises(InvalidInput):
        fs.split_part(world.uow(), world.sme, part.id, ["1000000.00"])  # one part is no split
    with pytest.raises(InvalidInput):
        fs.split_part(world.uow(), world.sme, part.id, ["1000000.01", "-0.01"])
    assert get(world, ReceivablePart, part.id).status == PartState.HELD
    assert len(parts_of(world, part.receivable_id)) == 1


def test_only_the_holder_splits(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    for actor in (world.supplier, world.core):
        with pytest.raises(NotFound):
            fs.split_part(world.uow(), actor, part.id, ["500000.00", "500000.00"])
    with pytest.raises(NotFound):
        fs.split_part(world.uow(), world.sme, 10_000_000, ["1.00", "1.00"])
    fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"])
    with pytest.raises(RuleViolation):  # the superseded part cannot be split again
        fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"])


# ------------------------------------------------------------------------------------------ transfer


def test_transfer_the_whole_part(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    moved = fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id)
    assert moved.holder_id == world.supplier.organisation_id and moved.amount_fen == 100_000_000
    assert moved.parent_id == part.id and moved.status == PartState.HELD
    assert get(world, ReceivablePart, part.id).status == PartState.TRANSFERRED
    assert get(world, Receivable, part.receivable_id).status == ReceivableStatus.PARTLY_TRANSFERRED
    assert [p.id for p in live(world, part.receivable_id)] == [moved.id]
    # the old holder has nothing left to transfer; the new one may pass it on (even back)
    with pytest.raises(NotFound):
        fs.transfer_part(world.uow(), world.sme, moved.id, world.supplier.organisation_id)
    back = fs.transfer_part(world.uow(), world.supplier, moved.id, world.sme.organisation_id)
    assert back.holder_id == world.sme.organisation_id
    assert get(world, ReceivablePart, moved.id).status == PartState.TRANSFERRED


def test_transfer_part_of_a_part(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    moved = fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id, "400000.00")
    assert moved.amount_fen == 40_000_000 and moved.holder_id == world.supplier.organisation_id
    assert get(world, ReceivablePart, part.id).status == PartState.SPLIT
    held = live(world, part.receivable_id)
    assert {(p.holder_id, p.amount_fen) for p in held} == {
        (world.supplier.organisation_id, 40_000_000),
        (world.sme.organisation_id, 60_000_000),
    }
    kept = next(p for p in held if p.holder_id == world.sme.organisation_id)
    with pytest.raises(InvalidInput):  # more than the part
        fs.transfer_part(world.uow(), world.sme, kept.id, world.supplier.organisation_id, "600000.01")


def test_transfer_only_to_another_sme(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    with pytest.raises(RuleViolation):
        fs.transfer_part(world.uow(), world.sme, part.id, world.sme.organisation_id)  # to itself
    for not_sme in (world.core.organisation_id, world.core2.organisation_id, world.bank_id, 10_000_000):
        with pytest.raises(NotFound):
            fs.transfer_part(world.uow(), world.sme, part.id, not_sme)
    with pytest.raises(NotFound):
        fs.transfer_part(world.uow(), world.supplier, part.id, world.supplier.organisation_id)  # not the holder
    assert get(world, ReceivablePart, part.id).status == PartState.HELD
    assert get(world, ReceivablePart, part.id).holder_id == world.sme.organisation_id


def test_no_transfer_or_split_on_or_after_the_due_date(world: World) -> None:
    part = world.confirmed_part("1000000.00", days=10)
    world.clock.advance(timedelta(days=10))
    with pytest.raises(RuleViolation):
        fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id)
    with pytest.raises(RuleViolation):
        fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"])
    assert get(world, ReceivablePart, part.id).status == PartState.HELD


def test_a_part_under_finance_cannot_be_transferred_or_split(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    world.apply(part.id, "500000.00")
    with pytest.raises(RuleViolation):
        fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id)
    with pytest.raises(RuleViolation):
        fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"])


# ------------------------------------------------------------------------------------------ payment


def _three_holders(world: World) -> tuple[int, list[ReceivablePart]]:
    part = world.confirmed_part("1000000.00")
    a, b, c = fs.split_part(world.uow(), world.sme, part.id, ["333333.33", "333333.33", "333333.34"])
    moved = fs.transfer_part(world.uow(), world.sme, c.id, world.supplier.organisation_id)
    return part.receivable_id, [a, b, moved]


def test_partial_payment_is_shared_pro_rata_to_the_fen(world: World) -> None:
    rid, parts = _three_holders(world)
    pay = fs.pay_receivable(world.uow(), world.core, rid, "100.00", "p-1")
    assert pay.amount_fen == 10_000
    shares = {line["part_id"]: line["amount_fen"] for line in pay.allocation}
    # exact shares 3333.3333…, 3333.3333…, 3333.3334: one fen left over goes to the largest remainder
    assert shares == {parts[0].id: 3333, parts[1].id: 3333, parts[2].id: 3334}
    assert {line["holder_id"] for line in pay.allocation} == {
        world.sme.organisation_id,
        world.supplier.organisation_id,
    }
    assert [get(world, ReceivablePart, p.id).paid_fen for p in parts] == [3333, 3333, 3334]
    rec = get(world, Receivable, rid)
    assert rec.paid_fen == 10_000 and rec.status != ReceivableStatus.SETTLED
    # a second partial payment: the shares follow what is still owed and the totals stay exact
    pay2 = fs.pay_receivable(world.uow(), world.core, rid, "0.01", "p-2")
    assert sum(line["amount_fen"] for line in pay2.allocation) == 1
    paid = [get(world, ReceivablePart, p.id).paid_fen for p in parts]
    assert sum(paid) == 10_001 == get(world, Receivable, rid).paid_fen


def test_payment_replay_and_key_reuse(world: World) -> None:
    rid, _parts = _three_holders(world)
    first = fs.pay_receivable(world.uow(), world.core, rid, "1000.00", "key-1")
    again = fs.pay_receivable(world.uow(), world.core, rid, "1000.00", " key-1 ")
    assert again.id == first.id and again.allocation == first.allocation
    with pytest.raises(Conflict):
        fs.pay_receivable(world.uow(), world.core, rid, "1000.01", "key-1")
    with Session(world.engine) as s:
        assert len(s.exec(select(Payment).where(Payment.receivable_id == rid)).all()) == 1
    assert get(world, Receivable, rid).paid_fen == 100_000
    with pytest.raises(InvalidInput):
        fs.pay_receivable(world.uow(), world.core, rid, "1.00", "  ")
    with pytest.raises(InvalidInput):
        fs.pay_receivable(world.uow(), world.core, rid, "1.00", "k" * 65)


def test_overpayment_is_refused(world: World) -> None:
    rid, parts = _three_holders(world)
    with pytest.raises(RuleViolation):
        fs.pay_receivable(world.uow(), world.core, rid, "1000000.01", "over")
    fs.pay_receivable(world.uow(), world.core, rid, "600000.00", "part")
    with pytest.raises(RuleViolation):
        fs.pay_receivable(world.uow(), world.core, rid, "400000.01", "over-2")
    assert get(world, Receivable, rid).paid_fen == 60_000_000
    assert sum(get(world, ReceivablePart, p.id).paid_fen for p in parts) == 60_000_000


def test_full_payment_settles_the_receivable_and_every_part(world: World) -> None:
    rid, parts = _three_holders(world)
    fs.pay_receivable(world.uow(), world.core, rid, "123456.78", "first")
    world.clock.advance(timedelta(days=90))
    rest = fs.pay_receivable(world.uow(), world.core, rid, "876543.22", "rest")
    assert sum(line["amount_fen"] for line in rest.allocation) == 87_654_322
    rec = get(world, Receivable, rid)
    assert rec.status == ReceivableStatus.SETTLED and rec.paid_fen == rec.confirmed_fen
    assert rec.settled_at == world.clock.now()
    for p in parts:
        row = get(world, ReceivablePart, p.id)
        assert row.status == PartState.SETTLED and row.paid_fen == row.amount_fen
    with pytest.raises(RuleViolation):
        fs.pay_receivable(world.uow(), world.core, rid, "0.01", "after")


def test_only_the_debtor_pays(world: World) -> None:
    rid, _parts = _three_holders(world)
    with pytest.raises(PermissionDenied):
        fs.pay_receivable(world.uow(), world.sme, rid, "1.00", "k")
    with pytest.raises(NotFound):
        fs.pay_receivable(world.uow(), world.core2, rid, "1.00", "k")
    unconfirmed = register(world, invoice_numbers=["UNC1"])
    with pytest.raises(RuleViolation):
        fs.pay_receivable(world.uow(), world.core, unconfirmed.id, "1.00", "k")
    assert get(world, Receivable, rid).paid_fen == 0


def test_full_payment_of_a_part_under_application_ends_the_application(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    app = world.apply(part.id, "800000.00")
    fs.pay_receivable(world.uow(), world.core, part.receivable_id, "1000000.00", "pay")
    row = get(world, FinanceApplication, app.id)
    assert row.status == ApplicationStatus.EXPIRED and row.active_part_id is None
    assert get(world, ReceivablePart, part.id).status == PartState.SETTLED
    assert line_used(world) == 0 and exposure_used(world) == 0


def test_a_partly_paid_part_is_not_split_or_transferred_as_if_unpaid(world: World) -> None:
    """Children of a part start unpaid: splitting or transferring a partly paid part would make the paid amount
    payable again (the receivable could then be paid beyond its confirmed amount and never settle)."""
    part = world.confirmed_part("1000000.00")
    fs.pay_receivable(world.uow(), world.core, part.receivable_id, "100000.00", "early")
    with pytest.raises(RuleViolation):
        fs.split_part(world.uow(), world.sme, part.id, ["500000.00", "500000.00"])
    with pytest.raises(RuleViolation):
        fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id, "300000.00")
    with pytest.raises(RuleViolation):
        fs.transfer_part(world.uow(), world.sme, part.id, world.supplier.organisation_id)
    # the rest is paid once and settles the receivable
    with pytest.raises(RuleViolation):
        fs.pay_receivable(world.uow(), world.core, part.receivable_id, "900000.01", "too-much")
    fs.pay_receivable(world.uow(), world.core, part.receivable_id, "900000.00", "rest")
    rec = get(world, Receivable, part.receivable_id)
    assert rec.status == ReceivableStatus.SETTLED and rec.paid_fen == rec.confirmed_fen


def test_a_matured_receivable_can_no_longer_be_confirmed(world: World) -> None:
    rec = register(world, due_date=world.due(5))
    world.clock.advance(timedelta(days=5))
    with pytest.raises(RuleViolation) as exc:
        confirm(world, rec.id)
    assert "matured" in exc.value.message_en
    assert get(world, Receivable, rec.id).status == ReceivableStatus.REGISTERED


def test_a_failed_registration_leaves_nothing_behind(world: World) -> None:
    """One unit of work commits once: a failure after the receivable was flushed (here: publishing its event)
    must not leave the receivable or its invoice numbers behind."""
    uow = world.uow()

    def broken(topic: str, **payload: Any) -> None:
        raise RuntimeError("outbox unavailable")

    uow.publish = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        register(world, invoice_numbers=["ATOMIC1"], _uow=uow)
    with Session(world.engine) as s:
        assert s.exec(select(Receivable)).all() == []
        assert s.exec(select(ReceivableInvoice)).all() == []
    assert register(world, invoice_numbers=["ATOMIC1"]).invoice_numbers == ["ATOMIC1"]
