"""The suggested revolving credit line of an SME, as a bank or the programme office reads it (issue 8, part 3).

A read query only (no unit of work, nothing written): it gathers the SME's :class:`~finance.credit_suggestion.
TradeRecord` from the database and hands it to the pure rule :func:`finance.credit_suggestion.suggest`.

What the figures count (decided here; the window is the 12 months ``(today − 12 months, today]`` in Beijing days):

- **settled deal**: a receivable of the SME *settled* (paid in full by the buyer) in the window, grouped by its
  contract (a receivable without a contract is a deal of its own), and a contract marked *completed* whose
  delivery falls in the window.  A deal's volume is the larger of the contract's amount (if completed) and what
  the buyer paid on its settled receivables.  ``largest_deal_fen`` is the largest of them; ``distinct_buyers``
  counts the buyers of the settled deals.
- **deliveries**: contracts delivered (delivered or completed) in the window, dated by the buyer's acceptance
  (``accepted_on``, :func:`finance.service.settlement.accept_delivery`) or else the day of ``delivered_at``; on
  time when delivered on or before the contract's delivery due date; the share is rounded down to 4 places.
  A completed contract (accepted and paid in full) counts as settled in the window of its acceptance: no
  completion date is stored.
- **confirmed receivables / disputes**: confirmed by the buyer / refused by the buyer in the window.
- **loans**: repaid in the window, on time or late as in :mod:`finance.queries.history`; overdue now = not
  repaid and past its due date (whether or not the maturity sweep has marked it yet); a **default** is a loan
  ever more than 90 days late (the risk check's "in default"), over the whole history, not only the window.
- **months on the platform**: whole calendar months to ``today`` from the earlier of the organisation's
  registration and its first recorded activity (:mod:`finance.platform_age`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal

from sqlmodel import Session, col, select

from finance.credit_suggestion import CreditSuggestion, TradeRecord, suggest
from finance.limits import add_months
from finance.platform_age import months_on_platform
from finance.queries.history import _late  # the one on-time rule of the platform record
from finance.queries.platform import platform_since
from finance.service.record_access import require_record_access
from qianfan.actors import Actor
from qianfan.clock import SHANGHAI, to_local
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    ContractStatus,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    Receivable,
    ReceivableStatus,
)

WINDOW_MONTHS = 12
DEFAULT_DAYS_LATE = 90  # more days late than this is a default, as in the risk check
SHARE_PLACES = Decimal("0.0001")


def trade_record(session: Session, sme_id: int, today: date) -> TradeRecord:
    """The SME's record over the 12 months up to ``today``."""
    org = session.get(Organisation, sme_id)
    if org is None or org.kind != OrgKind.SME:
        raise NotFound.of("中小企业", "SME", sme_id)
    start = add_months(today, -WINDOW_MONTHS)

    def in_window(day: date) -> bool:
        return start < day <= today

    deals: dict[tuple[str, int], list[int]] = {}  # key → [paid on settled receivables, completed amount, buyer]
    confirmed = confirmed_fen = disputes = 0
    for rec in session.exec(select(Receivable).where(col(Receivable.creditor_id) == sme_id)).all():
        if rec.status == ReceivableStatus.SETTLED and rec.settled_at and in_window(to_local(rec.settled_at).date()):
            key = ("contract", rec.contract_id) if rec.contract_id is not None else ("receivable", rec.id or 0)
            deal = deals.setdefault(key, [0, 0, rec.debtor_id])
            deal[0] += rec.paid_fen
        if rec.confirmed_fen is not None and rec.confirmed_at and in_window(to_local(rec.confirmed_at).date()):
            confirmed += 1
            confirmed_fen += rec.confirmed_fen
        if rec.disputed and in_window(to_local(rec.cancelled_at or rec.registered_at).date()):
            disputes += 1

    deliveries = on_time = 0
    for contract in session.exec(select(Contract).where(col(Contract.supplier_id) == sme_id)).all():
        if contract.status not in (ContractStatus.DELIVERED, ContractStatus.COMPLETED):
            continue
        delivered_on = contract.accepted_on or (contract.delivered_at and to_local(contract.delivered_at).date())
        if delivered_on is None:
            continue
        if not in_window(delivered_on):
            continue
        deliveries += 1
        on_time += delivered_on <= contract.delivery_due
        if contract.status == ContractStatus.COMPLETED:
            deal = deals.setdefault(("contract", contract.id or 0), [0, 0, contract.buyer_id])
            deal[1] = contract.amount_fen

    repaid_on_time = repaid_late = overdue_now = defaults = 0
    for loan in session.exec(select(Loan).where(col(Loan.sme_id) == sme_id)).all():
        if loan.status == LoanStatus.REPAID and loan.repaid_at is not None:
            repaid_on = to_local(loan.repaid_at).date()
            if in_window(repaid_on):
                if loan.overdue_at is not None or _late(loan.due_date, loan.repaid_at):
                    repaid_late += 1
                else:
                    repaid_on_time += 1
            days_late = (repaid_on - loan.due_date).days
        else:
            overdue_now += loan.status == LoanStatus.OVERDUE or loan.due_date < today
            days_late = (today - loan.due_date).days
        defaults += days_late > DEFAULT_DAYS_LATE

    volumes = [max(paid, completed) for paid, completed, _ in deals.values()]
    share = (Decimal(on_time) / Decimal(deliveries)).quantize(SHARE_PLACES, ROUND_DOWN) if deliveries else Decimal(0)
    return TradeRecord(
        as_of=today,
        months_on_platform=months_on_platform(platform_since(session, sme_id), today),
        settled_fen=sum(volumes),
        settled_deals=len(volumes),
        largest_deal_fen=max(volumes, default=0),
        distinct_buyers=len({buyer for _, _, buyer in deals.values()}),
        deliveries=deliveries,
        on_time_delivery_share=share,
        confirmed_receivables=confirmed,
        confirmed_fen=confirmed_fen,
        disputes=disputes,
        loans_repaid_on_time=repaid_on_time,
        loans_repaid_late=repaid_late,
        loans_overdue_now=overdue_now,
        defaults=defaults,
    )


def suggest_credit_line(
    session: Session, actor: Actor, sme_id: int, today: date, *, now: datetime | None = None
) -> CreditSuggestion:
    """The suggestion for ``sme_id`` as of ``today``.  Who may ask is decided by
    :func:`finance.service.record_access.require_record_access` (as things stand at ``now``, by default the end of
    ``today`` in Beijing): a bank only for an SME that applied to it or granted it access (any other is reported as
    not found), the programme office for any SME, an SME for itself only; large firms may not ask."""
    require_record_access(session, actor, sme_id, now or datetime.combine(today, time.max, tzinfo=SHANGHAI))
    return suggest(trade_record(session, sme_id, today))
