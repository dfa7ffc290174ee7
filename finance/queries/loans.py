"""Loan read models: what a loan owes, and its payoff as of a date — the one figure every page, the API, the
reminders and the repayment use case use (:func:`finance.service.loans.repay_loan` charges exactly
:func:`payoff` of the day it runs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from finance import ledger, pricing
from finance.access import loans_visible_to
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.errors import NotFound
from qianfan.models import FinanceKind, LedgerLeg, LedgerPosting, Loan, LoanStatus

_OWED = (
    ledger.AccountKind.PENALTY_RECEIVABLE,
    ledger.AccountKind.INTEREST_RECEIVABLE,
    ledger.AccountKind.FEE_RECEIVABLE,
    ledger.AccountKind.LOAN_PRINCIPAL,
)


@dataclass(frozen=True)
class Payoff:
    """What repays a loan in full on ``as_of``: the principal outstanding, interest to that day (before the due
    date, :func:`finance.pricing.earned_interest_fen` on the principal outstanding; from the due date, the
    contractual interest accrued at disbursement), penalty interest to that day (accrued in the ledger, plus what
    the maturity sweep has not yet accrued, computed as :func:`finance.service.loans.accrue_penalty` would) and
    fees.  A repaid loan pays off at zero."""

    loan_id: int
    as_of: date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    fees_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.fees_fen

    @property
    def outstanding(self) -> ledger.Outstanding:
        return ledger.Outstanding(
            penalty_fen=self.penalty_fen,
            interest_fen=self.interest_fen,
            fees_fen=self.fees_fen,
            principal_fen=self.principal_fen,
        )


def unaccrued_penalty_fen(loan: Loan, as_of: date) -> int:
    """Penalty interest for the days after the due date up to ``as_of`` that the ledger does not hold yet (the
    rule :func:`finance.service.loans.accrue_penalty` posts)."""
    start = max(loan.penalty_accrued_to or loan.due_date, loan.due_date)
    if loan.status == LoanStatus.REPAID or as_of <= start or loan.principal_outstanding_fen == 0:
        return 0
    return pricing.penalty_interest_fen(
        loan.principal_outstanding_fen, Decimal(loan.annual_rate), start, as_of, pricing.DayCount(loan.day_count)
    )


def payoff(session: Session, loan_id: int, as_of: date) -> Payoff:
    """The loan's payoff as of ``as_of`` (a Beijing business day): what :func:`finance.service.loans.repay_loan`
    charges to repay it in full that day, if nothing else is paid before."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound.of("贷款", "Loan", loan_id)
    owed = loan_outstanding(session, loan_id, as_of=as_of)
    return Payoff(
        loan_id=loan_id,
        as_of=as_of,
        principal_fen=owed.principal_fen,
        interest_fen=owed.interest_fen,
        penalty_fen=owed.penalty_fen + unaccrued_penalty_fen(loan, as_of),
        fees_fen=owed.fees_fen,
    )


def loan_outstanding(session: Session, loan_id: int, *, as_of: date | None = None) -> ledger.Outstanding:
    """What the loan owes, from its receivable accounts in the ledger: by its due date (the contractual interest
    accrued at disbursement) or, with ``as_of`` before the due date, to settle it that day — interest is owed to
    the day on the principal outstanding (:func:`finance.pricing.earned_interest_fen`), never more than accrued."""
    rows = session.exec(
        select(
            LedgerLeg.account_kind,
            sa.func.sum(LedgerLeg.amount_fen),
            sa.func.sum(sa.case((col(LedgerLeg.amount_fen) > 0, col(LedgerLeg.amount_fen)), else_=0)),
        )
        .join(LedgerPosting, col(LedgerPosting.id) == col(LedgerLeg.posting_id))
        .where(
            LedgerPosting.loan_id == loan_id,
            LedgerLeg.owner_id == ledger.owner_column(loan_id),
            col(LedgerLeg.account_kind).in_([k.value for k in _OWED]),
        )
        .group_by(col(LedgerLeg.account_kind))
    ).all()
    bal = {kind: int(total or 0) for kind, total, _ in rows}
    debited = {kind: int(total or 0) for kind, _, total in rows}

    def owed(kind: ledger.AccountKind) -> int:
        return max(0, bal.get(kind.value, 0))

    interest = owed(ledger.AccountKind.INTEREST_RECEIVABLE)
    if as_of is not None:
        loan = session.get(Loan, loan_id)
        if loan is not None and loan.status != LoanStatus.REPAID and as_of < loan.due_date:
            paid = debited.get(ledger.AccountKind.INTEREST_RECEIVABLE.value, 0) - interest
            earned = pricing.earned_interest_fen(
                principal_path(session, loan_id), Decimal(loan.annual_rate), as_of, pricing.DayCount(loan.day_count)
            )
            interest = max(0, min(interest, earned - paid))
    return ledger.Outstanding(
        penalty_fen=owed(ledger.AccountKind.PENALTY_RECEIVABLE),
        interest_fen=interest,
        fees_fen=owed(ledger.AccountKind.FEE_RECEIVABLE),
        principal_fen=owed(ledger.AccountKind.LOAN_PRINCIPAL),
    )


def principal_path(session: Session, loan_id: int) -> list[tuple[date, int]]:
    """The loan's principal balance over time from its ledger: ``(Beijing day from which it holds, balance)``."""
    rows = session.exec(
        select(LedgerPosting.occurred_at, LedgerLeg.amount_fen)
        .join(LedgerPosting, col(LedgerPosting.id) == col(LedgerLeg.posting_id))
        .where(
            LedgerPosting.loan_id == loan_id,
            LedgerLeg.owner_id == ledger.owner_column(loan_id),
            LedgerLeg.account_kind == ledger.AccountKind.LOAN_PRINCIPAL.value,
        )
        .order_by(col(LedgerPosting.occurred_at), col(LedgerPosting.id))
    ).all()
    path: list[tuple[date, int]] = []
    balance = 0
    for at, amount in rows:
        day, balance = to_local(at).date(), balance + amount
        if path and path[-1][0] == day:
            path[-1] = (day, balance)
        else:
            path.append((day, balance))
    return path


# ------------------------------------------------------------------------------ lists of loans (the pages)


def loan_list(session: Session, actor: Actor, statuses: Iterable[LoanStatus] | None = None) -> list[Loan]:
    """The loans *actor* may read (in *statuses* when given), earliest due first."""
    stmt = select(Loan).where(loans_visible_to(actor)).order_by(col(Loan.due_date))
    if statuses is not None:
        stmt = stmt.where(col(Loan.status).in_(list(statuses)))
    return list(session.exec(stmt).all())


def open_loans_by_core_enterprise(session: Session, actor: Actor) -> dict[int | None, tuple[int, int]]:
    """For the loans *actor* may read that are not repaid: per core enterprise, how many and their principal
    outstanding (fen)."""
    rows = session.exec(
        select(Loan.core_enterprise_id, sa.func.count(), sa.func.sum(Loan.principal_outstanding_fen))
        .where(loans_visible_to(actor), Loan.status != LoanStatus.REPAID)
        .group_by(col(Loan.core_enterprise_id))
    ).all()
    return {core: (int(n), int(total or 0)) for core, n, total in rows}


def open_loans_by_sme_line(session: Session, actor: Actor, line_ids: Iterable[int]) -> dict[int, int]:
    """How many drawdown loans not yet repaid each of the revolving lines *line_ids* carries (of the loans *actor*
    may read); lines with none are absent."""
    wanted = list(line_ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Loan.sme_line_id, sa.func.count())
        .where(loans_visible_to(actor), col(Loan.sme_line_id).in_(wanted), Loan.status != LoanStatus.REPAID)
        .group_by(col(Loan.sme_line_id))
    ).all()
    return {line_id: int(n) for line_id, n in rows if line_id is not None}


def contract_loans(session: Session, actor: Actor, contract_id: int) -> list[Loan]:
    """The contract loans on *contract_id* that *actor* may read (not the loans on its receivables)."""
    return list(
        session.exec(
            select(Loan).where(
                loans_visible_to(actor), col(Loan.contract_id) == contract_id, col(Loan.kind) == FinanceKind.CONTRACT
            )
        ).all()
    )
