"""Late payment by the buyer (pure rules): what falls due on delivery is paid within
:data:`~finance.settlement.plan.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE` (60) days of acceptance unless the contract says
a shorter period (《保障中小企业款项支付条例》); retention money is held until its own due date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from finance.settlement.plan import MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE, InstalmentKind, PaymentPlan
from finance.settlement.reconciliation import Payment, reconcile_payments
from qianfan.errors import InvalidInput

# --------------------------------------------------------------------------------------------- late payment


@dataclass(frozen=True, slots=True)
class LateInstalment:
    index: int
    kind: InstalmentKind
    deadline: date | None  # the day by which it must be paid (None: awaiting acceptance)
    outstanding_fen: int
    days_late: int
    capped: bool  # the contract allowed longer than the statutory limit; the limit applies


@dataclass(frozen=True, slots=True)
class Lateness:
    as_of: date
    statutory_deadline: date | None  # acceptance + 60 days, once acceptance is known
    lines: tuple[LateInstalment, ...]

    @property
    def late_lines(self) -> tuple[LateInstalment, ...]:
        return tuple(line for line in self.lines if line.days_late > 0)

    @property
    def is_late(self) -> bool:
        return bool(self.late_lines)

    @property
    def days_late(self) -> int:
        """Days since the earliest deadline missed (0 when not late)."""
        return max((line.days_late for line in self.lines), default=0)

    @property
    def late_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.late_lines)


#: The instalments that pay for what was delivered, hence within the statutory limit after acceptance.
_DUE_ON_DELIVERY = frozenset({InstalmentKind.ACCEPTANCE, InstalmentKind.FINAL})


def buyer_lateness(
    plan: PaymentPlan,
    payments: Iterable[Payment],
    acceptance_on: date | None,
    today: date,
    *,
    limit_days: int = MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE,
) -> Lateness:
    """Is the buyer late, by how many days and with how much?

    Payments are allocated as in :func:`reconcile_payments` (as of ``today``).  Each instalment's deadline is
    its contractual due date, except that an acceptance or final payment is due at the latest ``limit_days``
    after acceptance (a shorter contractual term stands, a longer one is capped).  Advances keep their own date;
    retention is due at the end of its warranty.  An instalment is late from the day after its deadline while
    anything of it is outstanding.
    """
    if isinstance(limit_days, bool) or not isinstance(limit_days, int) or limit_days <= 0:
        raise InvalidInput(
            f"付款期限天数必须是正整数：{limit_days!r}",
            f"The payment limit must be a positive number of days: {limit_days!r}",
            detail={"field": "limit_days"},
        )
    recon = reconcile_payments(plan, payments, today, acceptance_on=acceptance_on)
    statutory = acceptance_on + timedelta(days=limit_days) if acceptance_on is not None else None
    lines = []
    for state in recon.instalments:
        deadline = state.due_date
        capped = False
        if statutory is not None and state.kind in _DUE_ON_DELIVERY and deadline is not None and deadline > statutory:
            capped, deadline = True, statutory
        late = (today - deadline).days if deadline is not None and state.outstanding_fen and today > deadline else 0
        lines.append(LateInstalment(state.index, state.kind, deadline, state.outstanding_fen, late, capped))
    return Lateness(today, statutory, tuple(lines))
