"""Reconciliation of a contract's payments with its plan (pure rules): unique payments, in date order, fill the
instalments oldest-due first; anything beyond the plan is ``surplus_fen``.  :func:`punctuality` summarises how a
buyer paid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from finance.settlement.plan import InstalmentKind, PaymentPlan, require_date
from qianfan.errors import Conflict, InvalidInput
from qianfan.money import format_yuan, require_fen

# --------------------------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment recorded against a contract: a unique reference, an amount in fen and the day it was paid."""

    ref: str
    amount_fen: int
    paid_on: date

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref.strip():
            raise InvalidInput("付款记录必须有编号", "A payment needs a reference", detail={"field": "ref"})
        object.__setattr__(self, "ref", self.ref.strip())
        require_fen(self.amount_fen, "付款金额", "The payment amount")
        require_date(self.paid_on, "付款日期", "The payment date")


class InstalmentStatus(StrEnum):
    PAID = "paid"  # 已付清
    OVERDUE = "overdue"  # 已逾期: the due date has passed and something is outstanding
    DUE = "due"  # 今日到期
    PARTLY_PAID = "partly_paid"  # 部分支付, not yet due
    NOT_YET_DUE = "not_yet_due"  # 未到期
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 待验收: the due date depends on an acceptance not yet made


@dataclass(frozen=True, slots=True)
class InstalmentState:
    index: int
    kind: InstalmentKind
    amount_fen: int
    due_date: date | None
    paid_fen: int
    status: InstalmentStatus
    days_overdue: int

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


@dataclass(frozen=True, slots=True)
class PaymentAllocation:
    """``amount_fen`` of payment ``payment_ref`` went to instalment ``index`` (``None`` = surplus)."""

    payment_ref: str
    index: int | None
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    as_of: date
    instalments: tuple[InstalmentState, ...]
    allocations: tuple[PaymentAllocation, ...]
    received_fen: int  # Σ unique payments counted (dated on or before as_of)
    surplus_fen: int  # paid beyond the whole plan: to refund or to agree on, never lost
    duplicate_refs: tuple[str, ...]  # references seen more than once (counted once)
    later_refs: tuple[str, ...]  # payments dated after as_of, not counted in this view

    @property
    def paid_fen(self) -> int:
        return sum(s.paid_fen for s in self.instalments)

    @property
    def outstanding_fen(self) -> int:
        return sum(s.outstanding_fen for s in self.instalments)

    @property
    def overdue_fen(self) -> int:
        return sum(s.outstanding_fen for s in self.instalments if s.status is InstalmentStatus.OVERDUE)


def unique_payments(payments: Iterable[Payment]) -> tuple[tuple[Payment, ...], tuple[str, ...]]:
    """De-duplicate by reference: ``(unique payments in date order then reference, duplicated references)``.

    The same reference recorded again with the same amount and date is the same payment (idempotent replay);
    with a different amount or date it is a conflict, refused rather than guessed.
    """
    seen: dict[str, Payment] = {}
    duplicates: dict[str, None] = {}
    for payment in payments:
        if not isinstance(payment, Payment):
            raise InvalidInput("付款记录格式无效", "Not a Payment", detail={"value": repr(payment)})
        first = seen.setdefault(payment.ref, payment)
        if first is payment:
            continue
        if first != payment:
            raise Conflict(
                f"付款编号 {payment.ref} 重复出现但金额或日期不同：{format_yuan(first.amount_fen)} {first.paid_on}"
                f" 与 {format_yuan(payment.amount_fen)} {payment.paid_on}",
                f"Payment {payment.ref} appears twice with a different amount or date: "
                f"{format_yuan(first.amount_fen)} on {first.paid_on} vs {format_yuan(payment.amount_fen)} "
                f"on {payment.paid_on}",
                detail={"ref": payment.ref},
            )
        duplicates.setdefault(payment.ref, None)
    ordered = tuple(sorted(seen.values(), key=lambda p: (p.paid_on, p.ref)))
    return ordered, tuple(sorted(duplicates))


def allocation_order(plan: PaymentPlan, acceptance_on: date | None) -> list[int]:
    """Instalment indexes oldest-due first: dated ones by due date, then those awaiting acceptance by offset."""
    due = plan.due_dates(acceptance_on)

    def key(i: int) -> tuple[int, date, int, int]:
        resolved = due[i]
        if resolved is not None:
            return (0, resolved, 0, i)
        return (1, date.min, plan.instalments[i].days_after_acceptance or 0, i)

    return sorted(range(len(plan.instalments)), key=key)


def _status(due: date | None, amount: int, paid: int, as_of: date) -> tuple[InstalmentStatus, int]:
    """Precedence: paid, then overdue / due today (timing first), then partly paid, awaiting acceptance, not due."""
    if paid >= amount:
        return InstalmentStatus.PAID, 0
    if due is not None and as_of > due:
        return InstalmentStatus.OVERDUE, (as_of - due).days
    if due is not None and as_of == due:
        return InstalmentStatus.DUE, 0
    if paid > 0:
        return InstalmentStatus.PARTLY_PAID, 0
    if due is None:
        return InstalmentStatus.AWAITING_ACCEPTANCE, 0
    return InstalmentStatus.NOT_YET_DUE, 0


def reconcile_payments(
    plan: PaymentPlan, payments: Iterable[Payment], as_of: date, *, acceptance_on: date | None = None
) -> Reconciliation:
    """Allocate the contract's payments to its plan as of a day and report each instalment.

    Payments are de-duplicated by reference (:func:`unique_payments`); those dated after ``as_of`` are left out
    (listed in ``later_refs``).  In date order, each payment fills the instalments oldest-due first
    (:func:`allocation_order`), a partial payment filling an instalment partly; what is left after the whole
    plan is paid is ``surplus_fen``.  Hence Σ paid = Σ unique payments − surplus and no instalment is overpaid.
    """
    require_date(as_of, "对账日期", "The as-of date")
    due = plan.due_dates(acceptance_on)
    unique, duplicates = unique_payments(payments)
    counted = [p for p in unique if p.paid_on <= as_of]
    later = tuple(p.ref for p in unique if p.paid_on > as_of)
    order = allocation_order(plan, acceptance_on)
    paid = [0] * len(plan.instalments)
    allocations: list[PaymentAllocation] = []
    surplus = 0
    cursor = 0  # position in `order` of the first instalment not yet paid in full
    for payment in counted:
        left = payment.amount_fen
        while left and cursor < len(order):
            i = order[cursor]
            take = min(left, plan.instalments[i].amount_fen - paid[i])
            paid[i] += take
            left -= take
            allocations.append(PaymentAllocation(payment.ref, i, take))
            if paid[i] == plan.instalments[i].amount_fen:
                cursor += 1
        if left:
            surplus += left
            allocations.append(PaymentAllocation(payment.ref, None, left))
    states = []
    for i, item in enumerate(plan.instalments):
        status, days = _status(due[i], item.amount_fen, paid[i], as_of)
        states.append(InstalmentState(i, item.kind, item.amount_fen, due[i], paid[i], status, days))
    return Reconciliation(
        as_of=as_of,
        instalments=tuple(states),
        allocations=tuple(allocations),
        received_fen=sum(p.amount_fen for p in counted),
        surplus_fen=surplus,
        duplicate_refs=duplicates,
        later_refs=later,
    )


@dataclass(frozen=True, slots=True)
class Punctuality:
    """How a buyer paid one contract's plan as of a day: instalments paid in full by their due date, paid in full
    after it, and the worst delay in days (paid late, or still overdue)."""

    on_time: int = 0
    late: int = 0
    max_days_late: int = 0


def punctuality(
    plan: PaymentPlan, payments: Iterable[Payment], as_of: date, *, acceptance_on: date | None = None
) -> Punctuality:
    """An instalment is paid on the date of the payment that completed it (:func:`reconcile_payments`' order)."""
    recon = reconcile_payments(plan, payments, as_of, acceptance_on=acceptance_on)
    paid_on = {p.ref: p.paid_on for p in unique_payments(payments)[0]}
    completed: dict[int, date] = {}
    for alloc in recon.allocations:
        if alloc.index is not None:
            completed[alloc.index] = paid_on[alloc.payment_ref]  # the last allocation is the completing one
    on_time = late = worst = 0
    for state in recon.instalments:
        if state.status is InstalmentStatus.PAID and state.due_date is not None:
            delay = (completed[state.index] - state.due_date).days
            if delay > 0:
                late += 1
                worst = max(worst, delay)
            else:
                on_time += 1
        elif state.status is InstalmentStatus.OVERDUE:
            worst = max(worst, state.days_overdue)
    return Punctuality(on_time, late, worst)
