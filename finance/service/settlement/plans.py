"""Use cases: the buyer sets (or replaces) a contract's payment plan and accepts the delivery (验收)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlmodel import select

from finance import settlement as rules
from finance.service import common
from finance.service.settlement.contracts import (
    CONTRACT_ENTITY,
    buyers_contract,
    complete_if_settled,
    contract_on,
    instalment_rows,
    plan_from_rows,
    require_open,
)
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, RuleViolation
from qianfan.models import (
    Contract,
    ContractInstalment,
    ContractPayment,
    ContractStatus,
    InstalmentKindColumn,
)
from qianfan.uow import UnitOfWork


def set_payment_plan(
    uow: UnitOfWork,
    actor: Actor,
    contract_id: int,
    *,
    instalments: Sequence[rules.Instalment] | None = None,
    percentages: Sequence[rules.PlanTerm] | None = None,
) -> rules.PaymentPlan:
    """The buyer sets (or replaces) the contract's payment plan while nothing has been paid on it.

    Give either ``instalments`` (amounts in fen) or ``percentages`` (of the contract amount, summing to 100,
    rounded by largest remainder); the plan must sum exactly to the contract amount (:class:`PaymentPlan`).
    """
    if (instalments is None) == (percentages is None):
        raise InvalidInput(
            "请给出各期金额或各期比例（二者取一）",
            "Give either the instalments' amounts or their percentages, not both",
            detail={"field": "instalments"},
        )
    with uow:
        contract, user_id = buyers_contract(uow, actor, contract_id)
        assert contract.id is not None
        require_open(contract)
        paid = uow.session.exec(
            select(sa.func.count()).select_from(ContractPayment).where(ContractPayment.contract_id == contract.id)
        ).one()
        if paid:
            raise RuleViolation(
                "合同已有付款记录，付款计划不能再修改",
                "Payments are recorded on this contract; its payment plan can no longer change",
                detail={"payments": paid},
            )
        if instalments is not None:
            plan = rules.PaymentPlan(contract.amount_fen, contract_on(contract), tuple(instalments))
        else:
            assert percentages is not None
            plan = rules.plan_from_percentages(contract.amount_fen, contract_on(contract), percentages)
        plan.due_dates(contract.accepted_on)  # checks the acceptance date against the plan
        for old in instalment_rows(uow.session, contract.id):
            uow.session.delete(old)
        uow.session.flush()
        for position, item in enumerate(plan.instalments):
            uow.session.add(
                ContractInstalment(
                    contract_id=contract.id,
                    position=position,
                    kind=InstalmentKindColumn(item.kind.value),
                    amount_fen=item.amount_fen,
                    due_on=item.due_on,
                    days_after_acceptance=item.days_after_acceptance,
                )
            )
        uow.session.flush()
        uow.audit(
            CONTRACT_ENTITY,
            contract.id,
            "plan_set",
            actor_id=user_id,
            instalments=[
                {
                    "kind": item.kind.value,
                    "amount_fen": item.amount_fen,
                    "due_on": item.due_on.isoformat() if item.due_on else None,
                    "days_after_acceptance": item.days_after_acceptance,
                }
                for item in plan.instalments
            ],
        )
        uow.commit()
        return plan


# --------------------------------------------------------------------------------------------- acceptance


def accept_delivery(uow: UnitOfWork, actor: Actor, contract_id: int, accepted_on: date) -> Contract:
    """The buyer accepts the delivery (验收) on a day: the contract becomes delivered, due dates counted from
    acceptance are fixed, and a contract already paid in full is completed.  Accepting again on the same day is a
    no-op; on another day, a Conflict."""
    if not isinstance(accepted_on, date) or hasattr(accepted_on, "hour"):
        raise InvalidInput(
            f"验收日期必须是日期：{accepted_on!r}", f"The acceptance date must be a date: {accepted_on!r}",
            detail={"field": "accepted_on"},
        )  # fmt: skip
    with uow:
        contract, user_id = buyers_contract(uow, actor, contract_id)
        assert contract.id is not None
        if contract.accepted_on is not None:
            if contract.accepted_on == accepted_on:
                return contract
            raise Conflict(
                f"合同已于 {contract.accepted_on} 验收",
                f"The contract was accepted on {contract.accepted_on} already",
                detail={"accepted_on": contract.accepted_on.isoformat()},
            )
        if contract.status != ContractStatus.ACTIVE:
            raise RuleViolation(
                f"合同状态为“{contract.status.value}”，不能验收",
                f"The contract is {contract.status.value} and cannot be accepted",
                detail={"status": contract.status.value},
            )
        today = common.today(uow)
        if accepted_on > today:
            raise RuleViolation(
                f"验收日期 {accepted_on} 晚于今天 {today}",
                f"The acceptance date {accepted_on} is after today ({today})",
                detail={"field": "accepted_on"},
            )
        plan_from_rows(contract, instalment_rows(uow.session, contract.id)).due_dates(accepted_on)
        contract.accepted_on = accepted_on
        contract.accepted_by_user_id = user_id
        contract.status = ContractStatus.DELIVERED
        if contract.delivered_at is None:
            contract.delivered_at = uow.clock.now()
        uow.session.add(contract)
        uow.session.flush()
        uow.audit(CONTRACT_ENTITY, contract.id, "accepted", actor_id=user_id, accepted_on=accepted_on.isoformat())
        uow.publish(events.CONTRACT_DELIVERED, contract_id=contract.id, accepted_on=accepted_on.isoformat())
        complete_if_settled(uow, contract, actor, today)
        uow.commit()
        return contract


# --------------------------------------------------------------------------------------------- payments
