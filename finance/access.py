"""Who may read what in finance: one scoped-read condition per aggregate, the one place tenancy is decided.

Each ``*_visible_to(actor)`` returns a SQL condition on the aggregate's table — what this organisation may read —
to put in a ``WHERE`` (lists, counts, exports) or to load one row with (``load_*_for``).  Another organisation's
row is reported as not found (404 over HTTP): its existence is not disclosed.  Which *kinds* may call a route at
all (403) is the edge's business; a kind that may read nothing here gets ``false``.

=================  ===========================================================================================
aggregate          visible to
=================  ===========================================================================================
application        the applicant SME; the bank it is addressed to; the programme office (all)
loan               its bank; its borrower SME; the core enterprise (debtor of the financed receivable, buyer of
                   the financed contract); the programme office (all)
receivable         its creditor SME or an SME holding a part of it; the debtor large firm; a bank with an
                   application on it; the programme office (all)
receivable part    creditor, debtor and office: every part of a receivable they see (superseded ones too);
                   another holder: its own parts; a bank: the parts its applications are on
contract (its      its buyer and its supplier; the programme office (all).  A bank reads the contract behind an
finance)           application through the application.
SME credit line    the bank that decided it; the SME; the programme office (all)
credit line        the bank's own lines for core enterprises; the programme office (all)
product            everyone: active products; a bank also its own inactive ones
statement import   the large firm that imported it; the programme office (all)
=================  ===========================================================================================
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from market.access import contracts_visible_to  # the contract is the market's: one rule, decided there
from qianfan.actors import Actor
from qianfan.errors import NotFound
from qianfan.models import (
    BankProduct,
    BankStatementImport,
    Contract,
    CreditLine,
    FinanceApplication,
    Loan,
    OrgKind,
    Receivable,
    ReceivablePart,
    SmeCreditLine,
)

__all__ = [
    "applications_visible_to",
    "contracts_visible_to",
    "credit_lines_visible_to",
    "load_application_for",
    "load_contract_for",
    "load_loan_for",
    "load_receivable_for",
    "load_sme_credit_line_for",
    "load_statement_import_for",
    "loans_visible_to",
    "products_visible_to",
    "receivable_parts_visible_to",
    "receivables_visible_to",
    "sme_credit_lines_visible_to",
    "statement_imports_visible_to",
]

T = TypeVar("T", bound=SQLModel)

_OFFICE = OrgKind.PROGRAMME_OFFICE


def _everything() -> ColumnElement[bool]:
    return sa.true()


def _nothing() -> ColumnElement[bool]:
    return sa.false()


# --------------------------------------------------------------------------------------------- conditions


def applications_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Finance applications: the applicant SME's own, those addressed to a bank, every one for the office."""
    if actor.kind is _OFFICE:
        return _everything()
    if actor.kind is OrgKind.SME:
        return col(FinanceApplication.applicant_id) == actor.organisation_id
    if actor.kind is OrgKind.BANK:
        return col(FinanceApplication.bank_id) == actor.organisation_id
    return _nothing()


_LOAN_PARTY = {OrgKind.BANK: Loan.bank_id, OrgKind.SME: Loan.sme_id, OrgKind.LARGE_FIRM: Loan.core_enterprise_id}


def loans_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Loans: the bank's, the borrower SME's, the core enterprise's (a drawdown has none), all for the office."""
    if actor.kind is _OFFICE:
        return _everything()
    party = _LOAN_PARTY.get(actor.kind)
    if party is None:
        return _nothing()
    return col(party) == actor.organisation_id


def receivables_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Receivables: an SME's registered or (partly) held ones, a large firm's debts, a bank's financed-or-applied-for
    ones, every one for the office."""
    org = actor.organisation_id
    if actor.kind is _OFFICE:
        return _everything()
    if actor.kind is OrgKind.SME:
        held = select(ReceivablePart.receivable_id).where(col(ReceivablePart.holder_id) == org)
        return sa.or_(col(Receivable.creditor_id) == org, col(Receivable.id).in_(held))
    if actor.kind is OrgKind.LARGE_FIRM:
        return col(Receivable.debtor_id) == org
    if actor.kind is OrgKind.BANK:
        applied = select(FinanceApplication.receivable_id).where(col(FinanceApplication.bank_id) == org)
        return col(Receivable.id).in_(applied)
    return _nothing()


def receivable_parts_visible_to(actor: Actor, receivable: Receivable) -> ColumnElement[bool]:
    """The parts of *receivable* (one this actor may see) that it may read: its creditor, its debtor and the office
    every part (superseded ones too); another holder only its own; a bank the parts its applications are on."""
    org = actor.organisation_id
    of_it = col(ReceivablePart.receivable_id) == receivable.id
    if actor.kind is OrgKind.BANK:
        applied = select(FinanceApplication.part_id).where(
            col(FinanceApplication.bank_id) == org, col(FinanceApplication.receivable_id) == receivable.id
        )
        return sa.and_(of_it, col(ReceivablePart.id).in_(applied))
    if actor.kind is _OFFICE or org in (receivable.creditor_id, receivable.debtor_id):
        return of_it
    return sa.and_(of_it, col(ReceivablePart.holder_id) == org)


def sme_credit_lines_visible_to(actor: Actor) -> ColumnElement[bool]:
    """SMEs' revolving lines: those a bank decided, an SME's own at every bank, all for the office."""
    if actor.kind is _OFFICE:
        return _everything()
    if actor.kind is OrgKind.BANK:
        return col(SmeCreditLine.bank_id) == actor.organisation_id
    if actor.kind is OrgKind.SME:
        return col(SmeCreditLine.sme_id) == actor.organisation_id
    return _nothing()


def credit_lines_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Banks' lines for core enterprises: a bank's own, all for the office."""
    if actor.kind is _OFFICE:
        return _everything()
    if actor.kind is OrgKind.BANK:
        return col(CreditLine.bank_id) == actor.organisation_id
    return _nothing()


def products_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Finance products: the active ones; a bank also its own inactive ones."""
    active = col(BankProduct.is_active).is_(True)
    if actor.kind is OrgKind.BANK:
        return sa.or_(active, col(BankProduct.bank_id) == actor.organisation_id)
    return active


def statement_imports_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Bank-statement imports: the importer's own, all for the office."""
    if actor.kind is _OFFICE:
        return _everything()
    return col(BankStatementImport.importer_id) == actor.organisation_id


# --------------------------------------------------------------------------------------------- one row


def _load(
    session: Session,
    model: type[T],
    visible: ColumnElement[bool],
    ident: int,
    what_zh: str,
    what_en: str,
    *,
    lock: bool = False,
) -> T:
    stmt = select(model).where(model.id == ident, visible)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update()
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound.of(what_zh, what_en, ident)
    return row


def load_application_for(
    session: Session, actor: Actor, application_id: int, *, lock: bool = False
) -> FinanceApplication:
    """The application if *actor* may read it (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(
        session,
        FinanceApplication,
        applications_visible_to(actor),
        application_id,
        "融资申请",
        "Finance application",
        lock=lock,
    )


def load_loan_for(session: Session, actor: Actor, loan_id: int, *, lock: bool = False) -> Loan:
    """The loan if *actor* may read it (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(session, Loan, loans_visible_to(actor), loan_id, "贷款", "Loan", lock=lock)


def load_receivable_for(session: Session, actor: Actor, receivable_id: int, *, lock: bool = False) -> Receivable:
    """The receivable if *actor* may read it (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(session, Receivable, receivables_visible_to(actor), receivable_id, "应收账款", "Receivable", lock=lock)


def load_contract_for(session: Session, actor: Actor, contract_id: int, *, lock: bool = False) -> Contract:
    """The contract if *actor* may read its finance (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(session, Contract, contracts_visible_to(actor), contract_id, "合同", "Contract", lock=lock)


def load_sme_credit_line_for(session: Session, actor: Actor, line_id: int, *, lock: bool = False) -> SmeCreditLine:
    """The revolving line if *actor* may read it (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(
        session, SmeCreditLine, sme_credit_lines_visible_to(actor), line_id, "循环额度", "Revolving line", lock=lock
    )


def load_statement_import_for(
    session: Session, actor: Actor, import_id: int, *, lock: bool = False
) -> BankStatementImport:
    """The statement import if *actor* may read it (``FOR UPDATE`` when *lock*), else the bilingual NotFound."""
    return _load(
        session,
        BankStatementImport,
        statement_imports_visible_to(actor),
        import_id,
        "对账单导入",
        "Statement import",
        lock=lock,
    )
