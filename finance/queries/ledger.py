"""Read models of loans as the API lists them and of their ledger: the loans an actor may read with their
receivable's id, a loan's postings with their legs, and its repayments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import loans_visible_to
from qianfan.actors import Actor
from qianfan.models import FinanceKind, LedgerLeg, LedgerPosting, Loan, LoanStatus, ReceivablePart

__all__ = [
    "CONTRACT_PAYMENT_REF",
    "RECEIVABLE_PAYMENT_REF",
    "LoanFilter",
    "Posting",
    "loan_count",
    "loan_ledger",
    "loan_list",
    "loan_repayment",
    "loan_repayments",
    "receivable_id_of",
]

#: Ledger reference prefixes of the postings that repay a loan from a payment (the rest are direct repayments).
RECEIVABLE_PAYMENT_REF = "payment:"
CONTRACT_PAYMENT_REF = "contract-payment:"

#: A posting with its legs (in id order).
Posting = tuple[LedgerPosting, list[LedgerLeg]]


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """Optional filters of a loan list (due dates inclusive)."""

    status: LoanStatus | None = None
    kind: FinanceKind | None = None
    contract_id: int | None = None
    bank_id: int | None = None
    sme_id: int | None = None
    core_enterprise_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        for field in ("status", "kind", "contract_id", "bank_id", "sme_id", "core_enterprise_id"):
            value = getattr(self, field)
            if value is not None:
                conditions.append(col(getattr(Loan, field)) == value)
        if self.due_from is not None:
            conditions.append(col(Loan.due_date) >= self.due_from)
        if self.due_to is not None:
            conditions.append(col(Loan.due_date) <= self.due_to)
        return conditions


def loan_list(
    session: Session,
    actor: Actor,
    filters: LoanFilter | None = None,
    *,
    order_by: Sequence[Any] = (),
    offset: int = 0,
    limit: int | None = None,
) -> list[tuple[Loan, int | None]]:
    """The loans *actor* may read that pass *filters*, each with its receivable's id (``None`` for contract loans
    and drawdowns, which finance no part), in *order_by*, one window of them."""
    stmt = (
        select(Loan, ReceivablePart.receivable_id)
        .outerjoin(ReceivablePart, col(ReceivablePart.id) == col(Loan.part_id))
        .where(loans_visible_to(actor), *(filters or LoanFilter()).conditions())
        .order_by(*order_by)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(loan, rid) for loan, rid in session.exec(stmt).all()]


def loan_count(session: Session, actor: Actor, filters: LoanFilter | None = None) -> int:
    """How many loans *actor* may read pass *filters*."""
    conditions = (loans_visible_to(actor), *(filters or LoanFilter()).conditions())
    return session.exec(select(func.count()).select_from(Loan).where(*conditions)).one()


def receivable_id_of(session: Session, loan: Loan) -> int | None:
    """The financed receivable's id (``None`` for contract loans and drawdowns, which finance no part)."""
    if loan.part_id is None:
        return None
    return session.exec(select(ReceivablePart.receivable_id).where(col(ReceivablePart.id) == loan.part_id)).one()


def _postings(session: Session, *conditions: Any) -> list[Posting]:
    postings = session.exec(
        select(LedgerPosting).where(*conditions).order_by(col(LedgerPosting.occurred_at), col(LedgerPosting.id))
    ).all()
    ids = [p.id for p in postings]
    legs: dict[int, list[LedgerLeg]] = {}
    if ids:
        for leg in session.exec(
            select(LedgerLeg).where(col(LedgerLeg.posting_id).in_(ids)).order_by(col(LedgerLeg.id))
        ).all():
            legs.setdefault(leg.posting_id, []).append(leg)
    return [(p, legs.get(p.id or 0, [])) for p in postings]


def loan_ledger(session: Session, loan_id: int) -> list[Posting]:
    """Every posting of a loan with its legs, in the order they occurred."""
    return _postings(session, col(LedgerPosting.loan_id) == loan_id)


def loan_repayments(session: Session, loan_id: int) -> list[Posting]:
    """The postings that repaid a loan: direct repayments and its shares of the debtor's or buyer's payments."""
    return _postings(
        session,
        col(LedgerPosting.loan_id) == loan_id,
        or_(
            col(LedgerPosting.ref).startswith(f"loan:{loan_id}:repay:", autoescape=True),
            col(LedgerPosting.ref).startswith(RECEIVABLE_PAYMENT_REF, autoescape=True),
            col(LedgerPosting.ref).startswith(CONTRACT_PAYMENT_REF, autoescape=True),
        ),
    )


def loan_repayment(session: Session, loan_id: int, key: str) -> Posting:
    """The direct repayment of a loan made under the use case's idempotency *key*."""
    (posting,) = _postings(session, col(LedgerPosting.ref) == f"loan:{loan_id}:repay:{key}")
    return posting
