"""Use cases: the buyer records a payment into a contract (idempotent by reference); a payment into a financed
contract repays its contract loan first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from finance import settlement as rules
from finance.service import common
from finance.service.loans import apply_to_loan
from finance.service.settlement.contracts import (
    CONTRACT_ENTITY,
    MAX_KEY_CHARS,
    buyers_contract,
    complete_if_settled,
    reconcile,
    require_open,
)
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, RuleViolation
from qianfan.models import (
    Contract,
    ContractPayment,
    FinanceKind,
    Loan,
    LoanStatus,
    PaymentSource,
)
from qianfan.money import format_yuan
from qianfan.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class RecordedPayment:
    payment: ContractPayment
    created: bool  # False: the same payment was recorded before (idempotent replay)
    surplus_fen: int  # paid beyond the whole plan, after this payment
    completed: bool  # this payment completed the contract


def record_payment(
    uow: UnitOfWork, actor: Actor, contract_id: int, ref: str, amount_fen: int, paid_on: date
) -> RecordedPayment:
    """The buyer records a payment of the contract, idempotent by ``(contract, ref)``.

    The same reference with the same amount and date returns the payment recorded before; with a different amount
    or date it is a Conflict.  A payment beyond what is outstanding is recorded, not refused: the surplus is
    reported (``surplus_fen``).  When the accepted contract is paid in full it becomes completed.
    """
    payment = rules.Payment(ref, amount_fen, paid_on)  # checks the reference, the amount and the date
    if len(payment.ref) > MAX_KEY_CHARS:
        raise InvalidInput(
            f"付款编号最长{MAX_KEY_CHARS}个字符",
            f"A payment reference has at most {MAX_KEY_CHARS} characters",
            detail={"field": "ref"},
        )
    with uow:
        contract, user_id = buyers_contract(uow, actor, contract_id)
        assert contract.id is not None
        existing = _payment_by_ref(uow.session, contract.id, payment.ref)
        if existing is not None:
            return _replayed(uow, contract, existing, payment)
        require_open(contract)
        today = common.today(uow)
        if payment.paid_on > today:
            raise RuleViolation(
                f"付款日期 {payment.paid_on} 晚于今天 {today}",
                f"The payment date {payment.paid_on} is after today ({today})",
                detail={"field": "paid_on"},
            )
        row = ContractPayment(
            contract_id=contract.id,
            ref=payment.ref,
            amount_fen=payment.amount_fen,
            paid_on=payment.paid_on,
            source=PaymentSource.MANUAL,
            recorded_at=uow.clock.now(),
            recorded_by_user_id=user_id,
        )
        try:
            with uow.session.begin_nested():
                uow.session.add(row)
                uow.session.flush()
        except IntegrityError:  # recorded a moment ago by a request that did not wait for the lock
            raise Conflict(
                f"付款 {payment.ref} 正在被同时记录，请重试",
                f"Payment {payment.ref} was being recorded at the same time; try again",
                detail={"ref": payment.ref},
            ) from None
        recon = reconcile(uow.session, contract, today)
        audit_payment(uow, contract, row, user_id, recon.surplus_fen)
        repay_from_contract_payment(uow, contract, row)
        completed = complete_if_settled(uow, contract, actor, today)
        uow.commit()
        return RecordedPayment(row, True, recon.surplus_fen, completed)


def _payment_by_ref(session: Session, contract_id: int, ref: str) -> ContractPayment | None:
    return session.exec(
        select(ContractPayment).where(ContractPayment.contract_id == contract_id, ContractPayment.ref == ref)
    ).first()


def _replayed(
    uow: UnitOfWork, contract: Contract, existing: ContractPayment, payment: rules.Payment
) -> RecordedPayment:
    if existing.amount_fen != payment.amount_fen or existing.paid_on != payment.paid_on:
        raise Conflict(
            f"付款编号 {payment.ref} 已记录为 {format_yuan(existing.amount_fen)}（{existing.paid_on}），"
            f"与本次 {format_yuan(payment.amount_fen)}（{payment.paid_on}）不同",
            f"Payment {payment.ref} was recorded as {format_yuan(existing.amount_fen)} on {existing.paid_on}, "
            f"not {format_yuan(payment.amount_fen)} on {payment.paid_on}",
            detail={"ref": payment.ref, "recorded_fen": existing.amount_fen, "paid_on": existing.paid_on.isoformat()},
        )
    recon = reconcile(uow.session, contract, common.today(uow))
    return RecordedPayment(existing, False, recon.surplus_fen, False)


def audit_payment(uow: UnitOfWork, contract: Contract, row: ContractPayment, user_id: int, surplus_fen: int) -> None:
    assert contract.id is not None and row.id is not None
    uow.audit(
        CONTRACT_ENTITY,
        contract.id,
        "payment_recorded",
        actor_id=user_id,
        payment_id=row.id,
        ref=row.ref,
        amount_fen=row.amount_fen,
        paid_on=row.paid_on.isoformat(),
        source=row.source.value,
        surplus_fen=surplus_fen,
    )
    uow.publish(events.CONTRACT_PAYMENT_RECORDED, contract_id=contract.id, payment_id=row.id, amount_fen=row.amount_fen)


def repay_from_contract_payment(uow: UnitOfWork, contract: Contract, payment: ContractPayment) -> dict[str, Any] | None:
    """A buyer's payment into a contract repays its live contract loan first — principal, then interest, then
    fees, as the loan's terms state — and the rest reaches the SME's settlement account; the ledger posting is
    keyed by the payment, so it happens once.  Returns the split (``None`` when no contract loan is live)."""
    assert contract.id is not None and payment.id is not None
    loan = uow.session.exec(
        select(Loan)
        .where(Loan.contract_id == contract.id, Loan.kind == FinanceKind.CONTRACT, Loan.status != LoanStatus.REPAID)
        .with_for_update()
    ).first()
    if loan is None:
        return None
    split = apply_to_loan(uow, loan, payment.amount_fen, ref=f"contract-payment:{payment.id}", surplus_to_sme=True)
    split = {"loan_id": loan.id, **split}
    payment.loan_id = loan.id
    payment.allocation = split
    uow.session.add(payment)
    uow.audit(
        CONTRACT_ENTITY,
        contract.id,
        "payment_repaid_loan",
        payment_id=payment.id,
        loan_id=loan.id,
        **{k: v for k, v in split.items() if k != "loan_id"},
    )
    return split


# --------------------------------------------------------------------------------------------- bank statements
