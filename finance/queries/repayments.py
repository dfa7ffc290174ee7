"""Read models of repayment, from the core enterprise's side: the loans it repays (it is the debtor of the financed
receivable, or the buyer of the financed contract), what each costs to pay off today, and what falls due soon.

Every figure of what a loan owes is :func:`finance.queries.loans.payoff` of the day asked for — the amount
:func:`finance.service.loans.repay_loan` charges that day — so the firm's home page and its repayments page show
one number for one loan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from finance.access import loans_visible_to
from finance.queries.loans import Payoff, payoff
from finance.states import OPEN_LOAN_STATES
from qianfan.actors import Actor
from qianfan.models import FinanceKind, Loan, LoanStatus

__all__ = [
    "DueSoon",
    "LoanToRepay",
    "loans_repaid_by",
    "loans_to_repay",
    "repayments_due",
]


def loans_repaid_by(
    session: Session,
    actor: Actor,
    *,
    statuses: Iterable[LoanStatus] | None = None,
    kind: FinanceKind | None = None,
) -> list[Loan]:
    """The loans *actor* repays as core enterprise (of those it may read), in *statuses* and of *kind* when given,
    earliest due first."""
    stmt = select(Loan).where(loans_visible_to(actor), col(Loan.core_enterprise_id) == actor.organisation_id)
    if statuses is not None:
        stmt = stmt.where(col(Loan.status).in_(list(statuses)))
    if kind is not None:
        stmt = stmt.where(col(Loan.kind) == kind)
    return list(session.exec(stmt.order_by(col(Loan.due_date))).all())


@dataclass(frozen=True, slots=True)
class LoanToRepay:
    """An open loan and its payoff as of the day asked for (principal, interest to that day, penalty, fees)."""

    loan: Loan
    payoff: Payoff


def loans_to_repay(session: Session, actor: Actor, as_of: date) -> tuple[list[LoanToRepay], list[Loan]]:
    """The receivable loans *actor* repays: the open ones with their payoff as of *as_of*, and the repaid ones,
    earliest due first.  (A contract loan is repaid by the buyer's payments into the contract, a drawdown by the
    SME.)"""
    open_: list[LoanToRepay] = []
    repaid: list[Loan] = []
    for loan in loans_repaid_by(session, actor, kind=FinanceKind.RECEIVABLE):
        if loan.status not in OPEN_LOAN_STATES:
            repaid.append(loan)
            continue
        assert loan.id is not None
        open_.append(LoanToRepay(loan, payoff(session, loan.id, as_of)))
    return open_, repaid


@dataclass(frozen=True, slots=True)
class DueSoon:
    """The open loans *actor* repays that fall due by a horizon (overdue ones included): how many and their payoff
    in all as of the day asked for; and how many open loans are overdue."""

    count: int
    payoff_fen: int
    overdue: int


def repayments_due(session: Session, actor: Actor, as_of: date, by: date) -> DueSoon:
    """The open loans of every kind *actor* repays that fall due on or before *by*, with their payoff as of
    *as_of*, and the number of overdue open loans."""
    count = payoff_fen = overdue = 0
    for loan in loans_repaid_by(session, actor, statuses=OPEN_LOAN_STATES):
        if loan.status == LoanStatus.OVERDUE:
            overdue += 1
        if loan.due_date <= by:
            assert loan.id is not None
            count += 1
            payoff_fen += payoff(session, loan.id, as_of).total_fen
    return DueSoon(count, payoff_fen, overdue)
