"""Loan use cases after disbursement: repayment (by the debtor at maturity, full or partial, or directly), the
maturity sweep (overdue status, penalty interest), and ledger balances read back from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlmodel import Session, col, select

from finance import ledger, pricing
from finance.queries.loans import loan_outstanding, payoff
from finance.service import common
from finance.states import LOAN, OPEN_LOAN_STATES, LoanEvent
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, NotFound
from qianfan.models import FinanceApplication, FinanceKind, LedgerLeg, LedgerPosting, Loan, LoanStatus
from qianfan.money import format_yuan, yuan_to_fen
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork

LOAN_TOPIC = "loan"


class LoanDims(TypedDict):
    loan_id: int
    bank_id: int
    core_enterprise_id: int | None


def _dims(loan: Loan) -> LoanDims:
    assert loan.id is not None
    return {"loan_id": loan.id, "bank_id": loan.bank_id, "core_enterprise_id": loan.core_enterprise_id}


def allocation_order(loan: Loan) -> tuple[str, ...]:
    """The waterfall the loan's terms state: a contract loan repays principal first (see ``finance.ledger``)."""
    return ledger.CONTRACT_ALLOCATION_ORDER if loan.kind == FinanceKind.CONTRACT else ledger.ALLOCATION_ORDER


def _loan_event(loan: Loan, event: LoanEvent) -> None:
    loan.status = LOAN.transition(loan.status, event)
    loan.version += 1


def accrue_penalty(uow: UnitOfWork, loan: Loan, until: date) -> int:
    """Penalty interest (1.5 × the loan rate, the loan's day count) on the unpaid principal for the days after the
    due date up to ``until``, posted once per loan and day range.  Returns the amount posted."""
    start = max(loan.penalty_accrued_to or loan.due_date, loan.due_date)
    if until <= start or loan.principal_outstanding_fen == 0:
        return 0
    amount = pricing.penalty_interest_fen(
        loan.principal_outstanding_fen, Decimal(loan.annual_rate), start, until, pricing.DayCount(loan.day_count)
    )
    loan.penalty_accrued_to = until
    if amount > 0:
        common.post(
            uow,
            ledger.penalty_accrual(
                ref=f"loan:{loan.id}:penalty:{start.isoformat()}:{until.isoformat()}",
                occurred_at=uow.clock.now(),
                amount_fen=amount,
                **_dims(loan),
            ),
        )
        loan.penalty_accrued_fen += amount
    uow.session.add(loan)
    return amount


def apply_to_loan(uow: UnitOfWork, loan: Loan, amount_fen: int, *, ref: str, surplus_to_sme: bool) -> dict[str, Any]:
    """Apply a payment to a (locked) loan through the waterfall and post it; the caller commits."""
    if loan.status == LoanStatus.REPAID:
        surplus = ledger.Account(ledger.AccountKind.SME_SETTLEMENT, loan.sme_id)
        posting = ledger.repayment(
            ref=ref,
            occurred_at=uow.clock.now(),
            amount_fen=amount_fen,
            outstanding=ledger.Outstanding(),
            excess_to=surplus if surplus_to_sme else None,
            **_dims(loan),
        )
        common.post(uow, posting)
        return {"excess_fen": amount_fen}
    today = common.today(uow)
    if today > loan.due_date:
        accrue_penalty(uow, loan, today)
    uow.session.flush()
    assert loan.id is not None
    owed = payoff(uow.session, loan.id, today).outstanding  # before the due date: interest to the day
    order = allocation_order(loan)
    alloc = ledger.allocate_repayment(amount_fen, owed, order)
    excess_to = ledger.Account(ledger.AccountKind.SME_SETTLEMENT, loan.sme_id) if surplus_to_sme else None
    common.post(
        uow,
        ledger.repayment(
            ref=ref,
            occurred_at=uow.clock.now(),
            amount_fen=amount_fen,
            outstanding=owed,
            excess_to=excess_to,
            order=order,
            **_dims(loan),
        ),
    )
    loan.repaid_fen += amount_fen - alloc.excess_fen
    loan.principal_outstanding_fen -= alloc.principal_fen
    if alloc.principal_fen:
        _release_principal(uow, loan, alloc.principal_fen)
    if owed.total_fen - (alloc.total_fen - alloc.excess_fen) == 0:
        _write_back_unearned_interest(uow, loan)
        _loan_event(loan, LoanEvent.REPAY_FULL)
        loan.repaid_at = uow.clock.now()
        if loan.contract_id is not None:  # the contract may be financed again
            app = uow.session.get(FinanceApplication, loan.application_id)
            if app is not None and app.active_contract_id is not None:
                app.active_contract_id = None
                uow.session.add(app)
        uow.publish(events.LOAN_REPAID, loan_id=loan.id)
    else:
        _loan_event(loan, LoanEvent.REPAY_PARTIAL)
    uow.session.add(loan)
    uow.audit(
        LOAN_TOPIC, loan.id, "repayment", amount_fen=amount_fen, allocation=_alloc_dict(alloc), status=loan.status.value
    )
    return _alloc_dict(alloc)


def _write_back_unearned_interest(uow: UnitOfWork, loan: Loan) -> None:
    """A loan repaid before its due date paid interest to the day: what was accrued beyond it is written back."""
    assert loan.id is not None
    uow.session.flush()
    unearned = loan_outstanding(uow.session, loan.id).interest_fen
    if unearned > 0:
        common.post(
            uow,
            ledger.interest_rebate(
                ref=f"loan:{loan.id}:interest-rebate", occurred_at=uow.clock.now(), amount_fen=unearned, **_dims(loan)
            ),
        )
        uow.audit(LOAN_TOPIC, loan.id, "unearned_interest_written_back", amount_fen=unearned)


def _alloc_dict(alloc: ledger.Allocation) -> dict[str, int]:
    return {
        "penalty_fen": alloc.penalty_fen,
        "interest_fen": alloc.interest_fen,
        "fees_fen": alloc.fees_fen,
        "principal_fen": alloc.principal_fen,
        "excess_fen": alloc.excess_fen,
    }


def _release_principal(uow: UnitOfWork, loan: Loan, principal_fen: int) -> None:
    """Repaid principal frees the bank's line and the SME's exposure."""
    common.release(uow, loan.bank_id, loan.core_enterprise_id, loan.sme_id, principal_fen, sme_line_id=loan.sme_line_id)


def repay_loan(uow: UnitOfWork, actor: Actor, loan_id: int, amount: Any, idempotency_key: str) -> dict[str, Any]:
    """Direct repayment of a loan by its debtor or its SME (e.g. what a receivable payment did not cover).
    The same idempotency key never posts twice; anything beyond what is owed is refused, not kept."""
    key = common.idempotency_key(idempotency_key)
    amount_fen = yuan_to_fen(amount)
    with uow:
        loan = load_row(uow.session, Loan, loan_id, "贷款", "Loan", lock=True)
        # A receivable loan is repaid by its debtor or its SME; a contract loan or a drawdown by the SME (the
        # buyer's payments into the contract repay a contract loan through the settlement waterfall).
        payers = (loan.sme_id, loan.core_enterprise_id) if loan.kind == FinanceKind.RECEIVABLE else (loan.sme_id,)
        if actor.organisation_id not in payers:
            raise NotFound.of("贷款", "Loan", loan_id)
        ref = f"loan:{loan_id}:repay:{key}"
        done = uow.session.exec(select(LedgerPosting.id).where(LedgerPosting.ref == ref)).first()
        if done is not None:
            paid = uow.session.exec(
                select(LedgerLeg.amount_fen).where(
                    LedgerLeg.posting_id == done, LedgerLeg.account_kind == ledger.AccountKind.BANK_CASH.value
                )
            ).first()
            if paid != amount_fen:  # a replay is the same request, not a new amount under an old key
                raise Conflict(
                    "该幂等键已用于金额不同的另一笔还款", "This idempotency key was used for a different amount"
                )
            return {"loan_id": loan_id, "replayed": True, "status": loan.status.value}
        if loan.status == LoanStatus.REPAID:
            raise Conflict("贷款已还清", "The loan is already repaid")
        today = common.today(uow)
        if today > loan.due_date:
            accrue_penalty(uow, loan, today)
            uow.session.flush()
        owed = payoff(uow.session, loan_id, today).total_fen  # the figure every page shows for today
        if amount_fen > owed:
            raise InvalidInput(
                f"还款金额超过应还总额 {format_yuan(owed)}",
                f"The amount exceeds what is owed ({format_yuan(owed)})",
                detail={"owed_fen": owed},
            )
        allocation = apply_to_loan(uow, loan, amount_fen, ref=ref, surplus_to_sme=False)
        uow.commit()
        return {"loan_id": loan_id, "replayed": False, "status": loan.status.value, **allocation}


@dataclass(frozen=True)
class SweepResult:
    marked_overdue: int
    penalty_loans: int
    penalty_fen: int


def maturity_sweep(uow: UnitOfWork) -> SweepResult:
    """Mark loans past their due date overdue and accrue penalty interest up to today (safe to run every minute:
    a day already accrued is not accrued again)."""
    with uow:
        today = common.today(uow)
        due = uow.session.exec(
            select(Loan)
            .where(
                col(Loan.status).in_(OPEN_LOAN_STATES),
                Loan.due_date < today,
            )
            .order_by(col(Loan.id))
            .with_for_update()
        ).all()
        marked = penalised = total = 0
        for loan in due:
            if loan.status != LoanStatus.OVERDUE:
                _loan_event(loan, LoanEvent.MARK_OVERDUE)
                loan.overdue_at = uow.clock.now()
                marked += 1
                uow.audit(LOAN_TOPIC, loan.id or 0, "overdue", due_date=loan.due_date.isoformat())
                uow.publish(events.LOAN_OVERDUE, loan_id=loan.id, core_enterprise_id=loan.core_enterprise_id)
            amount = accrue_penalty(uow, loan, today)
            if amount:
                penalised += 1
                total += amount
            uow.session.add(loan)
        uow.commit()
        return SweepResult(marked, penalised, total)


# ------------------------------------------------------------------------------------------ balances


def balances(
    session: Session, *, loan_id: int | None = None, bank_id: int | None = None, core_enterprise_id: int | None = None
) -> dict[str, int]:
    """Net balance (debit positive) per ``"kind:owner"`` account over the postings of one loan, bank or core
    enterprise (or all postings); every view sums to zero."""
    stmt = (
        select(LedgerLeg.account_kind, LedgerLeg.owner_id, sa.func.sum(LedgerLeg.amount_fen))
        .join(LedgerPosting, col(LedgerPosting.id) == col(LedgerLeg.posting_id))
        .group_by(col(LedgerLeg.account_kind), col(LedgerLeg.owner_id))
    )
    if loan_id is not None:
        stmt = stmt.where(LedgerPosting.loan_id == loan_id)
    if bank_id is not None:
        stmt = stmt.where(LedgerPosting.bank_id == bank_id)
    if core_enterprise_id is not None:
        stmt = stmt.where(LedgerPosting.core_enterprise_id == core_enterprise_id)
    return {f"{kind}:{owner}": int(total) for kind, owner, total in session.exec(stmt).all()}


def unbalanced_postings(session: Session) -> list[str]:
    """References of postings whose legs do not sum to zero (always empty unless the table was tampered with)."""
    stmt = (
        select(LedgerPosting.ref)
        .join(LedgerLeg, col(LedgerPosting.id) == col(LedgerLeg.posting_id))
        .group_by(col(LedgerPosting.id), col(LedgerPosting.ref))
        .having(sa.func.sum(LedgerLeg.amount_fen) != 0)
    )
    return list(session.exec(stmt).all())
