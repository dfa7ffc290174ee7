"""Read models of finance applications: the list an actor may read (the API's list, the SME's finance page, the
bank's pages) and the size of a bank's review queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from finance.access import applications_visible_to, load_application_for
from finance.states import BEFORE_APPROVAL_STATES, OPEN_APPLICATION_STATES, REVIEW_QUEUE_STATES
from qianfan.actors import Actor
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    FinanceApplication,
    FinanceKind,
    Loan,
    Receivable,
    ReceivablePart,
    SmeCreditLine,
)

__all__ = [
    "APPROVED_NOT_DISBURSED_STATES",
    "LATEST_ID_FIRST",
    "NEWEST_FIRST",
    "ApplicationFile",
    "ApplicationFilter",
    "application_count",
    "application_file",
    "application_list",
    "approved_not_disbursed",
    "contract_finance_applications",
    "live_application_on_contract",
    "open_applications_of",
    "review_queue_count",
    "review_queue_list",
]

#: Latest submission first, ties by id (the API's default sort).
NEWEST_FIRST: tuple[Any, ...] = (col(FinanceApplication.submitted_at).desc(), col(FinanceApplication.id).desc())


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Optional filters of an application list; ``submitted_from`` inclusive, ``submitted_before`` exclusive."""

    status: ApplicationStatus | None = None
    kind: FinanceKind | None = None
    sla_status: str | None = None
    bank_id: int | None = None
    applicant_id: int | None = None
    core_enterprise_id: int | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        for field in ("status", "kind", "sla_status", "bank_id", "applicant_id", "core_enterprise_id"):
            value = getattr(self, field)
            if value is not None:
                conditions.append(col(getattr(FinanceApplication, field)) == value)
        if self.submitted_from is not None:
            conditions.append(col(FinanceApplication.submitted_at) >= self.submitted_from)
        if self.submitted_before is not None:
            conditions.append(col(FinanceApplication.submitted_at) < self.submitted_before)
        return conditions


def application_list(
    session: Session,
    actor: Actor,
    filters: ApplicationFilter | None = None,
    *,
    order_by: Sequence[Any] = NEWEST_FIRST,
    offset: int = 0,
    limit: int | None = None,
) -> list[FinanceApplication]:
    """The applications *actor* may read that pass *filters*, in *order_by*, one window of them."""
    stmt = (
        select(FinanceApplication)
        .where(applications_visible_to(actor), *(filters or ApplicationFilter()).conditions())
        .order_by(*order_by)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt).all())


def application_count(session: Session, actor: Actor, filters: ApplicationFilter | None = None) -> int:
    """How many applications *actor* may read pass *filters*."""
    conditions = (applications_visible_to(actor), *(filters or ApplicationFilter()).conditions())
    return session.exec(select(func.count()).select_from(FinanceApplication).where(*conditions)).one()


def review_queue_count(session: Session, actor: Actor) -> int:
    """How many of the applications *actor* (a bank) may read are in its review queue."""
    return session.exec(
        select(func.count())
        .select_from(FinanceApplication)
        .where(applications_visible_to(actor), col(FinanceApplication.status).in_(REVIEW_QUEUE_STATES))
    ).one()


# ------------------------------------------------------------------------------ the pages' and use cases' reads

#: Approved by the bank and not yet disbursed: waiting for the SME's signature or for the money (the open states
#: past the bank's approval).
APPROVED_NOT_DISBURSED_STATES: tuple[ApplicationStatus, ...] = tuple(
    s for s in OPEN_APPLICATION_STATES if s not in BEFORE_APPROVAL_STATES
)


def review_queue_list(session: Session, actor: Actor, *, limit: int = 200) -> list[FinanceApplication]:
    """The applications *actor* (a bank) may read that are in its review queue: the nearest 48-hour deadline first,
    those waiting on the SME's answer last."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(applications_visible_to(actor), col(FinanceApplication.status).in_(REVIEW_QUEUE_STATES))
            .order_by(
                sa.case((col(FinanceApplication.status) == ApplicationStatus.INFO_REQUESTED, 1), else_=0),
                col(FinanceApplication.deadline_at),
                col(FinanceApplication.id),
            )
            .limit(limit)
        ).all()
    )


def approved_not_disbursed(session: Session, actor: Actor) -> list[FinanceApplication]:
    """The applications *actor* may read that are approved or signed and wait to be disbursed, nearest 48-hour
    deadline first."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(applications_visible_to(actor), col(FinanceApplication.status).in_(APPROVED_NOT_DISBURSED_STATES))
            .order_by(col(FinanceApplication.deadline_at), col(FinanceApplication.id))
        ).all()
    )


def open_applications_of(
    session: Session, actor: Actor, states: Sequence[ApplicationStatus]
) -> list[FinanceApplication]:
    """The applications *actor* may read (an SME: its own) in *states* (those still in progress), nearest deadline
    first."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(applications_visible_to(actor), col(FinanceApplication.status).in_(states))
            .order_by(col(FinanceApplication.deadline_at))
        ).all()
    )


def contract_finance_applications(session: Session, actor: Actor, contract_id: int) -> list[FinanceApplication]:
    """The contract-finance applications on *contract_id* that *actor* may read, newest first."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(
                applications_visible_to(actor),
                col(FinanceApplication.contract_id) == contract_id,
                col(FinanceApplication.kind) == FinanceKind.CONTRACT,
            )
            .order_by(col(FinanceApplication.id).desc())
        ).all()
    )


def live_application_on_contract(session: Session, actor: Actor, contract_id: int) -> FinanceApplication | None:
    """The application (or its loan) that holds *contract_id* now (``active_contract_id``), if *actor* may read it."""
    return session.exec(
        select(FinanceApplication).where(
            applications_visible_to(actor), col(FinanceApplication.active_contract_id) == contract_id
        )
    ).first()


@dataclass(frozen=True, slots=True)
class ApplicationFile:
    """One application and what it finances, as the applicant and its bank read it: the product, the receivable and
    part (receivables finance), the contract (contract finance; for receivables finance the contract the receivable
    was registered against), the SME's revolving line (a drawdown) and the loan once disbursed.  The rows behind an
    application are read through it (:mod:`finance.access`)."""

    application: FinanceApplication
    product: BankProduct
    receivable: Receivable | None
    part: ReceivablePart | None
    contract: Contract | None  # the contract financed (contract finance), else None
    receivable_contract: Contract | None  # receivables finance: the contract the receivable was registered against
    line: SmeCreditLine | None
    loan: Loan | None

    @property
    def underlying_contract(self) -> Contract | None:
        """The contract behind the application: the one financed, or the receivable's."""
        return self.contract or self.receivable_contract


def application_file(session: Session, actor: Actor, application_id: int) -> ApplicationFile:
    """The application *application_id* if *actor* may read it (else the bilingual NotFound), with its rows."""
    app = load_application_for(session, actor, application_id)
    product = session.get(BankProduct, app.product_id)
    assert product is not None
    receivable = session.get(Receivable, app.receivable_id) if app.receivable_id is not None else None
    contract = session.get(Contract, app.contract_id) if app.contract_id is not None else None
    receivable_contract = (
        session.get(Contract, receivable.contract_id)
        if contract is None and receivable is not None and receivable.contract_id is not None
        else None
    )
    return ApplicationFile(
        application=app,
        product=product,
        receivable=receivable,
        part=session.get(ReceivablePart, app.part_id) if app.part_id is not None else None,
        contract=contract,
        receivable_contract=receivable_contract,
        line=session.get(SmeCreditLine, app.sme_line_id) if app.sme_line_id is not None else None,
        loan=session.exec(select(Loan).where(col(Loan.application_id) == app.id)).first(),
    )


#: The most recent application first by id (the order of the pages' short lists).
LATEST_ID_FIRST: tuple[Any, ...] = (col(FinanceApplication.id).desc(),)
