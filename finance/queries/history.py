"""A party's record on the platform, as a bank reviewer reads it beside an application: the SME's (as supplier,
creditor and borrower) or the core enterprise's (as buyer, debtor and obligor) intent orders, contracts,
receivables, financed amounts and how its receivables and loans were paid — on time or late.

A read query only (no unit of work, nothing written).  "On time" compares the day of payment in Beijing with the
due date, as the risk check does (:func:`finance.service.applications._risk_facts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from finance.queries.platform import platform_since
from qianfan.clock import to_local
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    Receivable,
    ReceivableStatus,
)


@dataclass(frozen=True, slots=True)
class Deal:
    """One contract of the party, with the other side's name."""

    contract_id: int
    title: str
    counterparty_id: int
    counterparty: str
    amount_fen: int
    status: ContractStatus
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class PartyHistory:
    organisation_id: int
    name: str
    kind: OrgKind
    #: The Beijing day its platform age counts from: the earlier of registration and first activity.
    on_platform_since: date
    intent_orders_signed: int
    intent_orders_proposed: int
    intent_order_fen: int  # of the signed ones
    contracts: int
    contracts_delivered: int  # delivered or completed
    contract_fen: int
    receivables: int  # registered, not cancelled
    receivables_disputed: int  # refused by the debtor (such a receivable is cancelled)
    receivables_confirmed: int
    receivable_confirmed_fen: int
    receivables_paid_on_time: int
    receivables_paid_late: int
    loans: int
    financed_fen: int  # principal disbursed, all banks
    outstanding_fen: int  # principal not yet repaid
    loans_repaid_on_time: int
    loans_repaid_late: int
    loans_overdue: int  # overdue now
    recent_deals: tuple[Deal, ...]

    @property
    def is_supplier(self) -> bool:
        return self.kind == OrgKind.SME


def _late(due: date, paid_at: datetime) -> bool:
    return to_local(paid_at).date() > due


def party_history(session: Session, organisation_id: int, *, recent: int = 5) -> PartyHistory:
    """The record of an SME or a large firm; the side it is read from follows its kind of organisation."""
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind not in (OrgKind.SME, OrgKind.LARGE_FIRM):
        raise NotFound.of("企业", "Organisation", organisation_id)
    supplier = org.kind == OrgKind.SME
    intent_side = IntentOrder.supplier_id if supplier else IntentOrder.buyer_id
    contract_side = Contract.supplier_id if supplier else Contract.buyer_id
    other_side = Contract.buyer_id if supplier else Contract.supplier_id
    receivable_side = Receivable.creditor_id if supplier else Receivable.debtor_id
    loan_side = Loan.sme_id if supplier else Loan.core_enterprise_id

    intents: dict[Any, tuple[int, int]] = {
        status: (int(n), int(total or 0))
        for status, n, total in session.exec(
            select(col(IntentOrder.status), sa.func.count(), sa.func.sum(IntentOrder.amount_fen))
            .where(col(intent_side) == organisation_id)
            .group_by(col(IntentOrder.status))
        ).all()
    }
    contracts: dict[Any, tuple[int, int]] = {
        status: (int(n), int(total or 0))
        for status, n, total in session.exec(
            select(col(Contract.status), sa.func.count(), sa.func.sum(Contract.amount_fen))
            .where(col(contract_side) == organisation_id)
            .group_by(col(Contract.status))
        ).all()
    }
    receivables: Any = session.exec(
        select(
            sa.func.coalesce(
                sa.func.sum(sa.case((col(Receivable.status) != ReceivableStatus.CANCELLED, 1), else_=0)), 0
            ),
            sa.func.count(col(Receivable.confirmed_fen)),
            sa.func.coalesce(sa.func.sum(Receivable.confirmed_fen), 0),
            sa.func.coalesce(sa.func.sum(sa.case((col(Receivable.disputed), 1), else_=0)), 0),
        ).where(col(receivable_side) == organisation_id)
    ).one()
    settled = session.exec(
        select(col(Receivable.due_date), col(Receivable.settled_at)).where(
            col(receivable_side) == organisation_id, col(Receivable.settled_at).is_not(None)
        )
    ).all()
    loans = session.exec(select(Loan).where(col(loan_side) == organisation_id)).all()
    repaid = [loan for loan in loans if loan.status == LoanStatus.REPAID]
    late_repaid = sum(
        1 for loan in repaid if loan.overdue_at is not None or (loan.repaid_at and _late(loan.due_date, loan.repaid_at))
    )
    counterparty = aliased(Organisation)
    deals = session.exec(
        select(Contract, col(counterparty.name))
        .join(counterparty, col(counterparty.id) == col(other_side))
        .where(col(contract_side) == organisation_id)
        .order_by(col(Contract.signed_at).desc(), col(Contract.id).desc())
        .limit(recent)
    ).all()
    assert org.id is not None
    delivered = (ContractStatus.DELIVERED, ContractStatus.COMPLETED)
    return PartyHistory(
        organisation_id=org.id,
        name=org.name,
        kind=org.kind,
        on_platform_since=platform_since(session, org.id),
        intent_orders_signed=intents.get(IntentStatus.SIGNED, (0, 0))[0],
        intent_orders_proposed=intents.get(IntentStatus.PROPOSED, (0, 0))[0],
        intent_order_fen=intents.get(IntentStatus.SIGNED, (0, 0))[1],
        contracts=sum(n for s, (n, _) in contracts.items() if s != ContractStatus.TERMINATED),
        contracts_delivered=sum(contracts.get(s, (0, 0))[0] for s in delivered),
        contract_fen=sum(total for s, (_, total) in contracts.items() if s != ContractStatus.TERMINATED),
        receivables=int(receivables[0]),
        receivables_confirmed=int(receivables[1]),
        receivable_confirmed_fen=int(receivables[2]),
        receivables_disputed=int(receivables[3]),
        receivables_paid_on_time=sum(1 for due, at in settled if at is not None and not _late(due, at)),
        receivables_paid_late=sum(1 for due, at in settled if at is not None and _late(due, at)),
        loans=len(loans),
        financed_fen=sum(loan.principal_fen for loan in loans),
        outstanding_fen=sum(loan.principal_outstanding_fen for loan in loans if loan.status != LoanStatus.REPAID),
        loans_repaid_on_time=len(repaid) - late_repaid,
        loans_repaid_late=late_repaid,
        loans_overdue=sum(1 for loan in loans if loan.status == LoanStatus.OVERDUE),
        recent_deals=tuple(
            Deal(
                contract_id=contract.id or 0,
                title=contract.title,
                counterparty_id=contract.buyer_id if supplier else contract.supplier_id,
                counterparty=name,
                amount_fen=contract.amount_fen,
                status=contract.status,
                signed_at=contract.signed_at,
            )
            for contract, name in deals
        ),
    )
