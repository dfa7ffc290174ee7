"""Read models of settlement: a contract's settlement as of a day (plan, payments, reconciliation, lateness) and
the programme office's list of buyers late under the 60-day rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.service.settlement.contracts import (
    OPEN_CONTRACT,
    as_payments,
    contract_reference,
    instalment_rows,
    payment_rows,
    plan_from_rows,
    readable_contract,
)
from qianfan.actors import Actor
from qianfan.models import (
    Contract,
    ContractInstalment,
    ContractPayment,
    OrgKind,
)

# --------------------------------------------------------------------------------------------- read models


@dataclass(frozen=True, slots=True)
class Settlement:
    """A contract's settlement as of a day."""

    contract: Contract
    reference: str
    plan: rules.PaymentPlan
    plan_agreed: bool  # False: the statutory default plan applies (no plan set yet)
    reconciliation: rules.Reconciliation
    lateness: rules.Lateness
    payments: tuple[ContractPayment, ...]

    @property
    def paid_fen(self) -> int:
        return self.reconciliation.paid_fen

    @property
    def received_fen(self) -> int:
        return self.reconciliation.received_fen

    @property
    def surplus_fen(self) -> int:
        return self.reconciliation.surplus_fen

    @property
    def outstanding_fen(self) -> int:
        return self.reconciliation.outstanding_fen

    @property
    def due_fen(self) -> int:
        """Outstanding on instalments due today or earlier."""
        return sum(
            s.outstanding_fen
            for s in self.reconciliation.instalments
            if s.status in (rules.InstalmentStatus.OVERDUE, rules.InstalmentStatus.DUE)
        )

    @property
    def overdue_fen(self) -> int:
        return self.reconciliation.overdue_fen


def _settlement(
    contract: Contract, rows: Sequence[ContractInstalment], payments: Sequence[ContractPayment], today: date
) -> Settlement:
    plan = plan_from_rows(contract, rows)
    pays = as_payments(payments)
    recon = rules.reconcile_payments(plan, pays, today, acceptance_on=contract.accepted_on)
    late = rules.buyer_lateness(plan, pays, contract.accepted_on, today)
    return Settlement(contract, contract_reference(contract), plan, bool(rows), recon, late, tuple(payments))


def settlement_of(session: Session, contract: Contract, today: date) -> Settlement:
    """The settlement view of a contract already read (no access check: for the platform's own rules)."""
    assert contract.id is not None
    return _settlement(contract, instalment_rows(session, contract.id), payment_rows(session, contract.id), today)


def contract_settlement(session: Session, actor: Actor, contract_id: int, today: date) -> Settlement:
    """The plan with each instalment's paid / outstanding / status as of ``today``, the payments, the acceptance,
    the buyer's lateness under the 60-day rule and the totals (for the buyer, the supplier and the office)."""
    contract = readable_contract(session, actor, contract_id)
    return _settlement(contract, instalment_rows(session, contract_id), payment_rows(session, contract_id), today)


@dataclass(frozen=True, slots=True)
class LateBuyer:
    contract_id: int
    reference: str
    buyer_id: int
    supplier_id: int
    accepted_on: date | None
    days_late: int
    late_fen: int
    outstanding_fen: int


def late_buyers(session: Session, actor: Actor, today: date) -> list[LateBuyer]:
    """Open contracts whose buyer is late as of ``today``, latest first (for the programme office)."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    contracts = list(session.exec(select(Contract).where(col(Contract.status).in_(sorted(OPEN_CONTRACT)))))
    ids = [c.id for c in contracts]
    plans: dict[int, list[ContractInstalment]] = {}
    pays: dict[int, list[ContractPayment]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for r in session.exec(select(ContractInstalment).where(col(ContractInstalment.contract_id).in_(chunk))):
            plans.setdefault(r.contract_id, []).append(r)
        for p in session.exec(select(ContractPayment).where(col(ContractPayment.contract_id).in_(chunk))):
            pays.setdefault(p.contract_id, []).append(p)
    result = []
    for contract in contracts:
        assert contract.id is not None
        view = _settlement(contract, plans.get(contract.id, []), pays.get(contract.id, []), today)
        if view.lateness.is_late:
            result.append(
                LateBuyer(
                    contract.id,
                    view.reference,
                    contract.buyer_id,
                    contract.supplier_id,
                    contract.accepted_on,
                    view.lateness.days_late,
                    view.lateness.late_fen,
                    view.outstanding_fen,
                )
            )
    result.sort(key=lambda r: (-r.days_late, r.contract_id))
    return result
