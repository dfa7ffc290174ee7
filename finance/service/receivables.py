"""Receivable use cases: register, confirm (确权, one by one or in a batch), dispute, split, transfer, and the
debtor's payment at maturity allocated over the holders of record (financed parts repay their loans)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from finance import receivables as rules
from finance.schemas.inputs import ReceivableInput
from finance.service import common
from finance.service.loans import apply_to_loan
from finance.states import RECEIVABLE, ApplicationEvent, ReceivableEvent, check_confirmer
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from qianfan.models import (
    Contract,
    ContractStatus,
    FinanceApplication,
    Loan,
    OrgKind,
    PartState,
    Payment,
    Receivable,
    ReceivableInvoice,
    ReceivablePart,
    ReceivableStatus,
)
from qianfan.money import format_yuan, yuan_to_fen
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import Description, Input, Yuan, parse_input

RECEIVABLE_TOPIC = "receivable"
LIVE_PARTS = (PartState.HELD, PartState.FINANCING, PartState.FINANCED, PartState.SETTLED)


class ConfirmInput(Input):
    receivable_id: int
    confirmed: Yuan | None = None  # defaults to the face amount
    irrevocable_undertaking: bool = False
    undertaking: Description = ""


def _transition(receivable: Receivable, event: ReceivableEvent) -> None:
    receivable.status = RECEIVABLE.transition(receivable.status, event)
    receivable.version += 1


def _maybe(receivable: Receivable, event: ReceivableEvent) -> None:
    """Apply a receivable-level event where the state machine allows it (a split receivable stays split…)."""
    if RECEIVABLE.can(receivable.status, event):
        _transition(receivable, event)


def visible_receivable(uow: UnitOfWork, actor: Actor, receivable_id: int, *, lock: bool = False) -> Receivable:
    """The creditor, the debtor and any holder of a part see a receivable; to others it does not exist."""
    receivable = load_row(uow.session, Receivable, receivable_id, "应收账款", "Receivable", lock=lock)
    if actor.organisation_id in (receivable.creditor_id, receivable.debtor_id):
        return receivable
    holder = uow.session.exec(
        select(ReceivablePart.id).where(
            ReceivablePart.receivable_id == receivable_id, ReceivablePart.holder_id == actor.organisation_id
        )
    ).first()
    if holder is None:
        raise NotFound.of("应收账款", "Receivable", receivable_id)
    return receivable


def register_receivable(uow: UnitOfWork, actor: Actor, data: ReceivableInput | Mapping[str, Any]) -> Receivable:
    """The SME creditor registers a receivable against a contract or stand-alone with invoice numbers."""
    actor.require_kind(OrgKind.SME)
    data = parse_input(ReceivableInput, data)
    with uow:
        debtor_id = data.debtor_id
        if data.contract_id is not None:
            contract = uow.session.exec(
                select(Contract).where(Contract.id == data.contract_id).with_for_update()  # serialise the sum below
            ).first()
            if contract is None or contract.supplier_id != actor.organisation_id:
                raise NotFound.of("合同", "Contract", data.contract_id)
            if contract.status == ContractStatus.TERMINATED:
                raise RuleViolation("已终止的合同不能登记应收账款", "A terminated contract cannot back a receivable")
            if debtor_id is not None and debtor_id != contract.buyer_id:
                raise InvalidInput(
                    "债务人必须是合同的采购方", "The debtor must be the contract's buyer", detail={"field": "debtor_id"}
                )
            debtor_id = contract.buyer_id
            registered = int(  # PostgreSQL's SUM of integers is a numeric (Decimal)
                uow.session.exec(
                    select(sa.func.coalesce(sa.func.sum(Receivable.face_fen), 0)).where(
                        Receivable.contract_id == contract.id, Receivable.status != ReceivableStatus.CANCELLED
                    )
                ).one()
            )
            face = data.face
            if registered + face > contract.amount_fen:
                raise RuleViolation(
                    f"该合同已登记应收账款{format_yuan(registered)}，再登记{format_yuan(face)}将超过合同金额"
                    f"{format_yuan(contract.amount_fen)}",
                    f"{format_yuan(registered)} is already registered on this contract; another {format_yuan(face)} "
                    f"would exceed the contract amount of {format_yuan(contract.amount_fen)}",
                    detail={"registered_fen": registered, "contract_fen": contract.amount_fen},
                )
        if debtor_id is None:
            raise InvalidInput(
                "请填写债务人（核心企业）或关联合同",
                "Name the debtor (core enterprise) or the contract",
                detail={"field": "debtor_id"},
            )
        common.organisation(uow.session, debtor_id, OrgKind.LARGE_FIRM, "核心企业", "Core enterprise")
        face_fen = data.face
        numbers = rules.check_registration(
            face_fen,
            data.issue_date,
            data.due_date,
            data.invoice_numbers,
            common.today(uow),
            standalone=data.contract_id is None,
        )
        keys = [rules.invoice_key(debtor_id, n) for n in numbers]
        taken = uow.session.exec(select(ReceivableInvoice).where(col(ReceivableInvoice.invoice_key).in_(keys))).all()
        if taken:
            raise _duplicate_invoices([t.invoice_key for t in taken])
        receivable = Receivable(
            creditor_id=actor.organisation_id,
            debtor_id=debtor_id,
            contract_id=data.contract_id,
            title=data.title,
            face_fen=face_fen,
            issue_date=data.issue_date,
            due_date=data.due_date,
            invoice_numbers=list(numbers),
            registered_at=uow.clock.now(),
            registered_by=actor.user_id,
        )
        uow.session.add(receivable)
        try:
            with uow.session.begin_nested():
                uow.session.flush()
                assert receivable.id is not None
                for key in keys:
                    uow.session.add(ReceivableInvoice(receivable_id=receivable.id, invoice_key=key))
                uow.session.flush()
        except IntegrityError:  # registered by someone else a moment ago
            raise _duplicate_invoices(keys) from None
        assert receivable.id is not None
        uow.audit(
            RECEIVABLE_TOPIC,
            receivable.id,
            "registered",
            actor_id=actor.user_id,
            face_fen=face_fen,
            debtor_id=debtor_id,
            invoices=list(numbers),
        )
        uow.publish(events.RECEIVABLE_REGISTERED, receivable_id=receivable.id, debtor_id=debtor_id)
        uow.commit()
        return receivable


def _duplicate_invoices(keys: Sequence[str]) -> Conflict:
    numbers = sorted(k.split(":", 1)[1] for k in keys)
    return Conflict(
        f"发票已登记过应收账款，不能重复登记：{', '.join(numbers)}",
        f"Invoice(s) already registered as a receivable: {', '.join(numbers)}",
        detail={"invoice_numbers": numbers},
    )


def _confirm(uow: UnitOfWork, actor: Actor, data: ConfirmInput) -> Receivable:
    receivable = visible_receivable(uow, actor, data.receivable_id, lock=True)
    check_confirmer(str(receivable.creditor_id), str(receivable.debtor_id), str(actor.organisation_id))
    _transition(receivable, ReceivableEvent.CONFIRM)
    confirmed_fen = yuan_to_fen(data.confirmed) if data.confirmed is not None else receivable.face_fen
    rules.check_confirmation(receivable.face_fen, confirmed_fen, irrevocable_undertaking=data.irrevocable_undertaking)
    if receivable.due_date <= common.today(uow):
        raise RuleViolation(
            f"应收账款已到期（{receivable.due_date}），不能确权",
            f"The receivable matured on {receivable.due_date}; it can no longer be confirmed",
        )
    now = uow.clock.now()
    receivable.confirmed_fen = confirmed_fen
    receivable.confirmed_at = now
    receivable.confirmed_by = actor.user_id
    receivable.undertaking = data.undertaking or (
        f"本企业确认该应收账款金额为{format_yuan(confirmed_fen)}，并不可撤销地承诺于{receivable.due_date}前足额付款。"
    )
    uow.session.add(receivable)
    assert receivable.id is not None
    uow.session.add(
        ReceivablePart(
            receivable_id=receivable.id, holder_id=receivable.creditor_id, amount_fen=confirmed_fen, created_at=now
        )
    )
    uow.audit(RECEIVABLE_TOPIC, receivable.id, "confirmed", actor_id=actor.user_id, confirmed_fen=confirmed_fen)
    uow.publish(events.RECEIVABLE_CONFIRMED, receivable_id=receivable.id, creditor_id=receivable.creditor_id)
    return receivable


def confirm_receivable(uow: UnitOfWork, actor: Actor, data: ConfirmInput | Mapping[str, Any]) -> Receivable:
    """确权 by a user of the debtor: the confirmed amount (≤ face) with an irrevocable payment undertaking."""
    actor.require_kind(OrgKind.LARGE_FIRM)
    common.require_user(actor)
    data = parse_input(ConfirmInput, data)
    with uow:
        receivable = _confirm(uow, actor, data)
        uow.session.flush()
        uow.commit()
        return receivable


def confirm_receivables(
    uow: UnitOfWork, actor: Actor, items: Sequence[ConfirmInput | Mapping[str, Any]]
) -> list[Receivable]:
    """Confirm a batch all-or-nothing: if one cannot be confirmed, none is, and every refusal is listed."""
    actor.require_kind(OrgKind.LARGE_FIRM)
    common.require_user(actor)
    if not items:
        raise InvalidInput("批量确权列表为空", "The batch to confirm is empty")
    if len(items) > 500:
        raise InvalidInput("一次最多批量确权500笔", "At most 500 receivables may be confirmed in one batch")
    parsed = [parse_input(ConfirmInput, item) for item in items]
    ids = [p.receivable_id for p in parsed]
    if len(set(ids)) != len(ids):
        raise InvalidInput("批量确权列表中有重复的应收账款", "The batch lists a receivable twice")
    with uow:
        done: list[Receivable] = []
        failures: list[dict[str, Any]] = []
        # Lock in id order: no deadlock between batches.  No savepoint per item: _confirm refuses before it writes
        # anything, and any refusal rolls the whole batch back (on SQLite, pysqlite's first SAVEPOINT opens the
        # transaction and its RELEASE commits it, so a savepoint here committed the items before a refusal).
        for data in sorted(parsed, key=lambda p: p.receivable_id):
            try:
                done.append(_confirm(uow, actor, data))
            except DomainError as exc:
                failures.append({"receivable_id": data.receivable_id, **exc.to_dict()})
        if failures:
            raise RuleViolation(
                f"批量确权未执行：{len(failures)}笔不能确权（共{len(parsed)}笔）",
                f"Batch not confirmed: {len(failures)} of {len(parsed)} cannot be confirmed",
                detail=failures,
            )
        uow.session.flush()
        uow.commit()
        return done


def dispute_receivable(uow: UnitOfWork, actor: Actor, receivable_id: int, reason: str) -> Receivable:
    """The debtor refuses to confirm a registered receivable (it is cancelled and counted as a dispute); the
    creditor may also cancel its own registration.  Confirmed receivables cannot be cancelled."""
    reason = common.required_text(reason, "reason", "请说明理由", "A reason is required")
    with uow:
        receivable = visible_receivable(uow, actor, receivable_id, lock=True)
        if actor.organisation_id not in (receivable.creditor_id, receivable.debtor_id):
            raise NotFound.of("应收账款", "Receivable", receivable_id)
        _transition(receivable, ReceivableEvent.CANCEL)
        receivable.cancelled_at = uow.clock.now()
        receivable.cancel_reason = reason[:2000]
        receivable.disputed = actor.organisation_id == receivable.debtor_id
        uow.session.add(receivable)
        invoices = uow.session.exec(
            select(ReceivableInvoice).where(ReceivableInvoice.receivable_id == receivable_id)
        ).all()
        for invoice in invoices:  # a cancelled registration frees its invoices for a corrected one
            uow.session.delete(invoice)
        uow.audit(
            RECEIVABLE_TOPIC,
            receivable_id,
            "disputed" if receivable.disputed else "cancelled",
            actor_id=actor.user_id,
            reason=receivable.cancel_reason,
        )
        uow.publish(events.RECEIVABLE_CANCELLED, receivable_id=receivable_id, disputed=receivable.disputed)
        uow.commit()
        return receivable


def _own_held_part(uow: UnitOfWork, actor: Actor, part_id: int) -> tuple[ReceivablePart, Receivable]:
    part = common.lock_part(uow.session, part_id)
    if part.holder_id != actor.organisation_id:
        raise NotFound.of("应收账款份额", "Receivable part", part_id)
    if part.paid_fen > 0:  # new parts start unpaid: what was paid on this one would be payable again
        raise RuleViolation(
            f"该份额已收到付款{format_yuan(part.paid_fen)}，不能再拆分或转让",
            f"The part has already been paid {format_yuan(part.paid_fen)}; it can no longer be split or transferred",
            detail={"paid_fen": part.paid_fen},
        )
    receivable = load_row(uow.session, Receivable, part.receivable_id, "应收账款", "Receivable", lock=True)
    return part, receivable


def _children(
    uow: UnitOfWork, part: ReceivablePart, amounts: Sequence[int], holders: Sequence[int]
) -> list[ReceivablePart]:
    now = uow.clock.now()
    rows = [
        ReceivablePart(receivable_id=part.receivable_id, parent_id=part.id, holder_id=h, amount_fen=a, created_at=now)
        for a, h in zip(amounts, holders, strict=True)
    ]
    for row in rows:
        uow.session.add(row)
    uow.session.flush()
    return rows


def _supersede(
    uow: UnitOfWork, part: ReceivablePart, status: PartState, receivable: Receivable, event: ReceivableEvent
) -> None:
    """Retire a part replaced by its children and record the receivable-level event where the machine allows it."""
    part.status = status
    part.version += 1
    uow.session.add(part)
    _maybe(receivable, event)
    uow.session.add(receivable)


def split_part(
    uow: UnitOfWork, actor: Actor, part_id: int, amounts: Sequence[Yuan | str | int]
) -> list[ReceivablePart]:
    """Split a held part into parts that sum exactly to it (each stays with the holder)."""
    with uow:
        part, receivable = _own_held_part(uow, actor, part_id)
        _require_held_before_due(uow, part, receivable)
        fen = rules.split(part.amount_fen, [yuan_to_fen(a) for a in amounts])
        children = _children(uow, part, fen, [part.holder_id] * len(fen))
        _supersede(uow, part, PartState.SPLIT, receivable, ReceivableEvent.SPLIT)
        assert receivable.id is not None
        uow.audit(
            RECEIVABLE_TOPIC,
            receivable.id,
            "split",
            actor_id=actor.user_id,
            part_id=part_id,
            parts=[{"part_id": c.id, "amount_fen": c.amount_fen} for c in children],
        )
        uow.commit()
        return children


def _require_held_before_due(uow: UnitOfWork, part: ReceivablePart, receivable: Receivable) -> None:
    if part.status != PartState.HELD:
        raise RuleViolation(
            f"该份额当前状态为“{part.status.value}”，不能拆分",
            f"The part is {part.status.value} and cannot be split",
        )
    if common.today(uow) >= receivable.due_date:
        raise RuleViolation(
            f"应收账款已于{receivable.due_date}到期，不能再拆分",
            f"The receivable matured on {receivable.due_date}; it can no longer be split",
        )


def transfer_part(
    uow: UnitOfWork, actor: Actor, part_id: int, to_id: int, amount: Yuan | str | int | None = None
) -> ReceivablePart:
    """Transfer a held part (or ``amount`` of it: the rest stays with the holder) to one's own supplier."""
    with uow:
        part, receivable = _own_held_part(uow, actor, part_id)
        rules.check_transfer(part, actor.organisation_id, to_id, common.today(uow), receivable.due_date)
        common.organisation(uow.session, to_id, OrgKind.SME, "受让企业", "Transferee")
        if to_id == receivable.debtor_id:
            raise RuleViolation("不能转让给债务人", "A receivable cannot be transferred to its debtor")
        amount_fen = part.amount_fen if amount is None else yuan_to_fen(amount)
        if amount_fen == part.amount_fen:
            (moved,) = _children(uow, part, [amount_fen], [to_id])
            superseded = PartState.TRANSFERRED
        else:
            kept_fen = rules.split(part.amount_fen, [amount_fen, part.amount_fen - amount_fen])[1]
            moved, _kept = _children(uow, part, [amount_fen, kept_fen], [to_id, part.holder_id])
            superseded = PartState.SPLIT
        _supersede(uow, part, superseded, receivable, ReceivableEvent.TRANSFER)
        assert receivable.id is not None
        uow.audit(
            RECEIVABLE_TOPIC,
            receivable.id,
            "transferred",
            actor_id=actor.user_id,
            part_id=part_id,
            new_part_id=moved.id,
            to_id=to_id,
            amount_fen=amount_fen,
        )
        uow.publish(events.RECEIVABLE_TRANSFERRED, receivable_id=receivable.id, part_id=moved.id, to_id=to_id)
        uow.commit()
        return moved


def live_parts(uow: UnitOfWork, receivable_id: int, *, lock: bool = False) -> list[ReceivablePart]:
    stmt = (
        select(ReceivablePart)
        .where(ReceivablePart.receivable_id == receivable_id, col(ReceivablePart.status).in_(LIVE_PARTS))
        .order_by(col(ReceivablePart.id))
    )
    if lock:
        stmt = stmt.with_for_update()
    return list(uow.session.exec(stmt).all())


def pay_receivable(
    uow: UnitOfWork, actor: Actor, receivable_id: int, amount: Yuan | str | int, idempotency_key: str
) -> Payment:
    """The debtor pays a confirmed receivable (full or partial).  The payment is shared over the holders of record
    pro rata (largest remainder to the fen); a financed part's share repays its loan at the bank (penalty →
    interest → fees → principal, the surplus to the SME).  Replaying the same key returns the first payment."""
    actor.require_kind(OrgKind.LARGE_FIRM)
    key = common.idempotency_key(idempotency_key)
    amount_fen = yuan_to_fen(amount)
    with uow:
        receivable = visible_receivable(uow, actor, receivable_id, lock=True)
        if actor.organisation_id != receivable.debtor_id:
            raise NotFound.of("应收账款", "Receivable", receivable_id)
        previous = uow.session.exec(
            select(Payment).where(Payment.receivable_id == receivable_id, Payment.idempotency_key == key)
        ).first()
        if previous is not None:
            if previous.amount_fen != amount_fen:
                raise Conflict(
                    "该幂等键已用于金额不同的另一笔付款", "This idempotency key was used for a different amount"
                )
            return previous
        if receivable.confirmed_fen is None or receivable.status == ReceivableStatus.SETTLED:
            raise RuleViolation(
                f"应收账款当前状态为“{receivable.status.value}”，不能付款",
                f"The receivable is {receivable.status.value} and cannot be paid",
            )
        parts = live_parts(uow, receivable_id, lock=True)
        owing = [(p, p.amount_fen - p.paid_fen) for p in parts if p.amount_fen > p.paid_fen]
        shares = rules.allocate_payment(amount_fen, [(p.id, left) for p, left in owing])
        now = uow.clock.now()
        allocation: list[dict[str, Any]] = []
        payment = Payment(
            receivable_id=receivable_id,
            payer_id=actor.organisation_id,
            amount_fen=amount_fen,
            idempotency_key=key,
            paid_at=now,
        )
        uow.session.add(payment)
        uow.session.flush()
        assert payment.id is not None
        for (part, _left), (_pid, share) in zip(owing, shares, strict=True):
            if share == 0:
                continue
            line: dict[str, Any] = {"part_id": part.id, "holder_id": part.holder_id, "amount_fen": share}
            if part.status == PartState.FINANCED:
                loan = uow.session.exec(select(Loan).where(Loan.part_id == part.id).with_for_update()).one()
                line["loan_id"] = loan.id
                line["loan"] = apply_to_loan(
                    uow, loan, share, ref=f"payment:{payment.id}:part:{part.id}", surplus_to_sme=True
                )
            part.paid_fen += share
            if part.paid_fen == part.amount_fen:
                if part.status == PartState.FINANCING:
                    _expire_open_application(uow, part)
                part.status = PartState.SETTLED
            part.version += 1
            uow.session.add(part)
            allocation.append(line)
        payment.allocation = allocation
        receivable.paid_fen += amount_fen
        if receivable.paid_fen == receivable.confirmed_fen:
            _transition(receivable, ReceivableEvent.SETTLE)
            receivable.settled_at = now
        uow.session.add(receivable)
        uow.audit(
            RECEIVABLE_TOPIC,
            receivable_id,
            "paid",
            actor_id=actor.user_id,
            payment_id=payment.id,
            amount_fen=amount_fen,
            allocation=allocation,
        )
        uow.publish(events.RECEIVABLE_PAID, receivable_id=receivable_id, payment_id=payment.id)
        uow.commit()
        return payment


def _expire_open_application(uow: UnitOfWork, part: ReceivablePart) -> None:
    app = uow.session.exec(
        select(FinanceApplication).where(FinanceApplication.active_part_id == part.id).with_for_update()
    ).first()
    if app is not None:
        common.finish(uow, app, ApplicationEvent.EXPIRE, "债务人已付清该应收账款 / the debtor paid the receivable")
        assert app.id is not None
        uow.audit("finance_application", app.id, "expired", reason="receivable paid")
