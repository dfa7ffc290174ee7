"""The contract side of settlement, shared by its use cases and read models: the reference ``HT-<id>``, the
plan in force (agreed or the statutory default), the stored instalments and payments, reconciliation as of a day,
who may read or change a contract's settlement, and completion once accepted and paid."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date

from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.access import load_contract_for
from finance.service import common
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.errors import PermissionDenied, RuleViolation
from qianfan.models import (
    Contract,
    ContractInstalment,
    ContractPayment,
    ContractStatus,
)
from qianfan.uow import UnitOfWork

CONTRACT_ENTITY = "contract"
STATEMENT_ENTITY = "bank_statement_import"
REFERENCE_PREFIX = "HT-"
#: The most rows one statement upload may have.
MAX_STATEMENT_ROWS = 5000
#: Stored references and transaction keys longer than this are kept as their SHA-256.
MAX_KEY_CHARS = 200
MAX_FILE_NAME = 200
#: States in which a contract's settlement may still change.
OPEN_CONTRACT = frozenset({ContractStatus.ACTIVE, ContractStatus.DELIVERED})


# --------------------------------------------------------------------------------------------- helpers


def contract_reference(contract: Contract | int) -> str:
    """The reference a buyer writes in the memo of a transfer: ``HT-<contract id>``."""
    ident = contract if isinstance(contract, int) else contract.id
    return f"{REFERENCE_PREFIX}{ident}"


def stored_key(key: str) -> str:
    """A payment reference / transaction key as stored: itself, or ``sha256:<hex>`` when longer than the column."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def contract_on(contract: Contract) -> date:
    """The contract date: the day (Beijing) it was signed."""
    return to_local(contract.signed_at).date()


def default_plan(contract: Contract) -> rules.PaymentPlan:
    """The statutory default: the whole amount as a final payment due 60 days after acceptance."""
    return rules.PaymentPlan(
        contract.amount_fen,
        contract_on(contract),
        (
            rules.Instalment(
                rules.InstalmentKind.FINAL,
                contract.amount_fen,
                days_after_acceptance=rules.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE,
            ),
        ),
    )


def plan_from_rows(contract: Contract, rows: Sequence[ContractInstalment]) -> rules.PaymentPlan:
    if not rows:
        return default_plan(contract)
    return rules.PaymentPlan(
        contract.amount_fen,
        contract_on(contract),
        tuple(
            rules.Instalment(rules.InstalmentKind(r.kind.value), r.amount_fen, r.due_on, r.days_after_acceptance)
            for r in sorted(rows, key=lambda r: r.position)
        ),
    )


def instalment_rows(session: Session, contract_id: int) -> list[ContractInstalment]:
    return list(
        session.exec(
            select(ContractInstalment)
            .where(ContractInstalment.contract_id == contract_id)
            .order_by(col(ContractInstalment.position))
        )
    )


def payment_rows(session: Session, contract_id: int) -> list[ContractPayment]:
    return list(
        session.exec(
            select(ContractPayment)
            .where(ContractPayment.contract_id == contract_id)
            .order_by(col(ContractPayment.paid_on), col(ContractPayment.id))
        )
    )


def as_payments(rows: Iterable[ContractPayment]) -> list[rules.Payment]:
    return [rules.Payment(r.ref, r.amount_fen, r.paid_on) for r in rows]


def reconcile(session: Session, contract: Contract, as_of: date) -> rules.Reconciliation:
    """Every recorded payment against the plan, as of ``as_of`` or the latest payment, whichever is later."""
    assert contract.id is not None
    plan = plan_from_rows(contract, instalment_rows(session, contract.id))
    payments = as_payments(payment_rows(session, contract.id))
    latest = max((p.paid_on for p in payments), default=as_of)
    return rules.reconcile_payments(plan, payments, max(as_of, latest), acceptance_on=contract.accepted_on)


def readable_contract(session: Session, actor: Actor, contract_id: int, *, lock: bool = False) -> Contract:
    """The contract if *actor* may read its settlement (:func:`finance.access.contracts_visible_to`: the buyer, the
    supplier and the programme office), else NotFound."""
    return load_contract_for(session, actor, contract_id, lock=lock)


def buyers_contract(uow: UnitOfWork, actor: Actor, contract_id: int) -> tuple[Contract, int]:
    """The contract, locked, when the actor is its buyer acting by a named user; ``(contract, user id)``."""
    contract = readable_contract(uow.session, actor, contract_id, lock=True)
    if actor.organisation_id != contract.buyer_id:
        raise PermissionDenied(
            "只有合同的采购方可以变更付款与结算", "Only the contract's buyer may change its payments and settlement"
        )
    user_id = common.require_user(actor)
    return contract, user_id


def require_open(contract: Contract) -> None:
    if contract.status not in OPEN_CONTRACT:
        raise RuleViolation(
            f"合同状态为“{contract.status.value}”，付款计划与付款不能再变更",
            f"The contract is {contract.status.value}; its plan and payments can no longer change",
            detail={"status": contract.status.value},
        )


def complete_if_settled(uow: UnitOfWork, contract: Contract, actor: Actor, today: date) -> bool:
    """Accepted and paid in full → completed (audited, published)."""
    if contract.status != ContractStatus.DELIVERED:
        return False
    recon = reconcile(uow.session, contract, today)
    if recon.outstanding_fen:
        return False
    contract.status = ContractStatus.COMPLETED
    uow.session.add(contract)
    assert contract.id is not None
    uow.audit(
        CONTRACT_ENTITY,
        contract.id,
        "completed",
        actor_id=actor.user_id,
        paid_fen=recon.paid_fen,
        surplus_fen=recon.surplus_fen,
    )
    uow.publish(events.CONTRACT_SETTLED, contract_id=contract.id, surplus_fen=recon.surplus_fen)
    return True


# --------------------------------------------------------------------------------------------- payment plan
