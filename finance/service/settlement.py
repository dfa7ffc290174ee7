"""Payment → settlement of contracts (the database side of :mod:`finance.settlement`): the payment plan, delivery
acceptance, the buyer's payments, bank-statement imports, the settlement view and the office's list of late buyers.

Who does what:

- Only the contract's **buyer** (a large firm, by a named user) changes its settlement: sets the plan, accepts the
  delivery, records payments and imports its own bank statements.  The supplier (SME) and the programme office
  read a contract's settlement; to any other organisation the contract does not exist (NotFound).
- A **bank statement** is imported by the buyer whose account it is.  Its rows are matched only against that
  buyer's contracts: a reference to another buyer's contract is reported as an unknown reference.

Decisions:

- **Contract reference** (:func:`contract_reference`): ``HT-<contract id>`` (合同), e.g. ``HT-42``, found anywhere in
  a statement row's memo as a whole token (``HT-4`` is not found inside ``HT-42``; ``HT42`` and ``ht-42`` match
  too); a memo that is nothing but the contract id (``42``) matches as well.  Two contracts in one memo: unknown.
- **No agreed plan**: until the buyer sets one, the contract is paid under the statutory default — the whole
  amount as one final payment (尾款) due 60 days after acceptance.
- **Surplus**: a payment beyond what is outstanding is recorded, never refused; reconciliation reports it as
  ``surplus_fen`` (to refund or to agree on), as :func:`finance.settlement.reconcile_payments` does.
- **Completion**: the contract becomes ``completed`` once it is accepted (delivered) and its plan is paid in full;
  paying in full before acceptance leaves it active until the acceptance.
- **Idempotency**: a payment is unique per ``(contract, ref)`` in the database; a statement row's reference is its
  transaction key, and a bank transaction is unique per ``(buyer, key)``; so a payment is never counted twice, a
  second import of the same statement records nothing and reports the rows as duplicates.  Imports by the same
  buyer queue on a row lock of the buyer's organisation.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.service import common
from finance.service.loans import apply_to_loan
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    BankStatementImport,
    BankStatementRow,
    BankTransaction,
    Contract,
    ContractInstalment,
    ContractPayment,
    ContractStatus,
    FinanceKind,
    InstalmentKindColumn,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    PaymentSource,
    StatementRowStatus,
)
from qianfan.money import format_yuan
from qianfan.rows import load_row
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


def _plan_from_rows(contract: Contract, rows: Sequence[ContractInstalment]) -> rules.PaymentPlan:
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


def _instalments(session: Session, contract_id: int) -> list[ContractInstalment]:
    return list(
        session.exec(
            select(ContractInstalment)
            .where(ContractInstalment.contract_id == contract_id)
            .order_by(col(ContractInstalment.position))
        )
    )


def _payments(session: Session, contract_id: int) -> list[ContractPayment]:
    return list(
        session.exec(
            select(ContractPayment)
            .where(ContractPayment.contract_id == contract_id)
            .order_by(col(ContractPayment.paid_on), col(ContractPayment.id))
        )
    )


def _as_payments(rows: Iterable[ContractPayment]) -> list[rules.Payment]:
    return [rules.Payment(r.ref, r.amount_fen, r.paid_on) for r in rows]


def _reconcile(session: Session, contract: Contract, as_of: date) -> rules.Reconciliation:
    """Every recorded payment against the plan, as of ``as_of`` or the latest payment, whichever is later."""
    assert contract.id is not None
    plan = _plan_from_rows(contract, _instalments(session, contract.id))
    payments = _as_payments(_payments(session, contract.id))
    latest = max((p.paid_on for p in payments), default=as_of)
    return rules.reconcile_payments(plan, payments, max(as_of, latest), acceptance_on=contract.accepted_on)


def readable_contract(session: Session, actor: Actor, contract_id: int, *, lock: bool = False) -> Contract:
    """The buyer, the supplier and the programme office see a contract's settlement; to others it does not exist."""
    contract = load_row(session, Contract, contract_id, "合同", "Contract", lock=lock)
    if actor.kind is OrgKind.PROGRAMME_OFFICE or actor.organisation_id in (contract.buyer_id, contract.supplier_id):
        return contract
    raise NotFound.of("合同", "Contract", contract_id)


def _buyers_contract(uow: UnitOfWork, actor: Actor, contract_id: int) -> tuple[Contract, int]:
    """The contract, locked, when the actor is its buyer acting by a named user; ``(contract, user id)``."""
    contract = readable_contract(uow.session, actor, contract_id, lock=True)
    if actor.organisation_id != contract.buyer_id:
        raise PermissionDenied(
            "只有合同的采购方可以变更付款与结算", "Only the contract's buyer may change its payments and settlement"
        )
    user_id = common.require_user(actor)
    return contract, user_id


def _require_open(contract: Contract) -> None:
    if contract.status not in OPEN_CONTRACT:
        raise RuleViolation(
            f"合同状态为“{contract.status.value}”，付款计划与付款不能再变更",
            f"The contract is {contract.status.value}; its plan and payments can no longer change",
            detail={"status": contract.status.value},
        )


def _complete_if_settled(uow: UnitOfWork, contract: Contract, actor: Actor, today: date) -> bool:
    """Accepted and paid in full → completed (audited, published)."""
    if contract.status != ContractStatus.DELIVERED:
        return False
    recon = _reconcile(uow.session, contract, today)
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
        contract, user_id = _buyers_contract(uow, actor, contract_id)
        assert contract.id is not None
        _require_open(contract)
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
        for old in _instalments(uow.session, contract.id):
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
        contract, user_id = _buyers_contract(uow, actor, contract_id)
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
        _plan_from_rows(contract, _instalments(uow.session, contract.id)).due_dates(accepted_on)
        contract.accepted_on = accepted_on
        contract.accepted_by_user_id = user_id
        contract.status = ContractStatus.DELIVERED
        if contract.delivered_at is None:
            contract.delivered_at = uow.clock.now()
        uow.session.add(contract)
        uow.session.flush()
        uow.audit(CONTRACT_ENTITY, contract.id, "accepted", actor_id=user_id, accepted_on=accepted_on.isoformat())
        uow.publish(events.CONTRACT_DELIVERED, contract_id=contract.id, accepted_on=accepted_on.isoformat())
        _complete_if_settled(uow, contract, actor, today)
        uow.commit()
        return contract


# --------------------------------------------------------------------------------------------- payments


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
        contract, user_id = _buyers_contract(uow, actor, contract_id)
        assert contract.id is not None
        existing = _payment_by_ref(uow.session, contract.id, payment.ref)
        if existing is not None:
            return _replayed(uow, contract, existing, payment)
        _require_open(contract)
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
        recon = _reconcile(uow.session, contract, today)
        _audit_payment(uow, contract, row, user_id, recon.surplus_fen)
        repay_from_contract_payment(uow, contract, row)
        completed = _complete_if_settled(uow, contract, actor, today)
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
    recon = _reconcile(uow.session, contract, common.today(uow))
    return RecordedPayment(existing, False, recon.surplus_fen, False)


def _audit_payment(uow: UnitOfWork, contract: Contract, row: ContractPayment, user_id: int, surplus_fen: int) -> None:
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


@dataclass(frozen=True, slots=True)
class StatementImportResult:
    statement: BankStatementImport
    rows: tuple[BankStatementRow, ...]


def _contract_matcher(contract_ids: set[int]) -> rules.ReferenceMatcher:
    """``HT-<id>`` as a whole token (or a memo that is just the id), among the importer's contracts only."""
    token = re.compile(r"(?<![0-9A-Z])HT[-－—\s]?0*([0-9]+)(?![0-9])")

    def match(reference: str) -> object | None:
        text = unicodedata.normalize("NFKC", reference).upper().strip()
        if text.isdigit():
            ident = int(text)
            return ident if ident in contract_ids else None
        found = sorted({int(m) for m in token.findall(text)} & contract_ids)
        if len(found) > 1:
            raise RuleViolation(
                f"摘要同时提到多个合同：{reference}",
                f"The reference names more than one contract: {reference}",
                detail={"reference": reference},
            )
        return found[0] if found else None

    return match


def _recorded_keys(session: Session, buyer_id: int, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """The transaction keys of this file already recorded for the buyer (as bank transactions or as payment refs)."""
    keys: dict[str, str] = {}
    for line, raw in enumerate(rows, start=1):
        try:
            key = rules.parse_statement_row(raw, line).key
        except DomainError:
            continue
        keys[stored_key(key)] = key
    found: set[str] = set()
    stored = list(keys)
    for start in range(0, len(stored), 500):
        chunk = stored[start : start + 500]
        found.update(
            session.exec(
                select(BankTransaction.txn_key).where(
                    BankTransaction.buyer_id == buyer_id, col(BankTransaction.txn_key).in_(chunk)
                )
            )
        )
        found.update(
            session.exec(
                select(ContractPayment.ref)
                .join(Contract, col(Contract.id) == ContractPayment.contract_id)
                .where(Contract.buyer_id == buyer_id, col(ContractPayment.ref).in_(chunk))
            )
        )
    return {keys[k] for k in found}


def import_statement(
    uow: UnitOfWork, actor: Actor, file_name: str, rows: Sequence[Mapping[str, Any]]
) -> StatementImportResult:
    """The buyer imports its bank statement: each row is matched to one of its contracts by reference
    (:func:`contract_reference`), the matched rows are recorded as payments (reference = transaction key) in the
    same unit of work, and the import is stored with its row-by-row report.  Rows already recorded (by an
    earlier import or on an earlier line) are duplicates, so importing the same file again records nothing."""
    actor.require_kind(OrgKind.LARGE_FIRM)
    user_id = common.require_user(actor)
    name = (file_name or "").strip()
    if not name or len(name) > MAX_FILE_NAME:
        raise InvalidInput(
            f"文件名须为 1 到 {MAX_FILE_NAME} 个字符", f"The file name must have 1 to {MAX_FILE_NAME} characters",
            detail={"field": "file_name"},
        )  # fmt: skip
    rows = list(rows)
    if not rows:
        raise InvalidInput("对账单没有数据行", "The statement has no rows", detail={"field": "rows"})
    if len(rows) > MAX_STATEMENT_ROWS:
        raise InvalidInput(
            f"对账单最多{MAX_STATEMENT_ROWS}行，实际为{len(rows)}行",
            f"A statement may have at most {MAX_STATEMENT_ROWS} rows, got {len(rows)}",
            detail={"field": "rows", "count": len(rows)},
        )
    if not all(isinstance(raw, Mapping) for raw in rows):
        raise InvalidInput("对账单的每一行须是列名到值的映射", "Each statement row must map column names to values")
    with uow:
        s = uow.session
        buyer_id = actor.organisation_id
        load_row(s, Organisation, buyer_id, "机构", "Organisation", lock=True)  # imports by one buyer queue here
        contract_ids = set(s.exec(select(Contract.id).where(Contract.buyer_id == buyer_id)))
        matcher = _contract_matcher({i for i in contract_ids if i is not None})
        # Lock every contract a row may be paid to before reading which keys are recorded: a manual payment of
        # one of them (record_payment holds the contract's lock) is then either committed and seen as recorded,
        # or waits for this import and replays its payment.
        candidate_ids = sorted(
            {
                int(str(line.contract_id))
                for line in rules.reconcile_statement(rows, matcher).lines
                if line.contract_id is not None
            }
        )
        contracts = {
            c.id: c
            for c in s.exec(
                select(Contract).where(col(Contract.id).in_(candidate_ids)).order_by(col(Contract.id)).with_for_update()
            )
        }
        report = rules.reconcile_statement(
            rows, matcher, recorded_keys=_recorded_keys(s, buyer_id, rows), as_of=common.today(uow)
        )
        now = uow.clock.now()
        statement = BankStatementImport(
            importer_id=buyer_id,
            imported_by_user_id=user_id,
            imported_at=now,
            file_name=name,
            rows_total=len(report.lines),
            matched_count=report.count(rules.RowStatus.MATCHED),
            matched_fen=report.total_fen(rules.RowStatus.MATCHED),
            duplicate_count=report.count(rules.RowStatus.DUPLICATE),
            duplicate_fen=report.total_fen(rules.RowStatus.DUPLICATE),
            unknown_count=report.count(rules.RowStatus.UNKNOWN_REFERENCE),
            unknown_fen=report.total_fen(rules.RowStatus.UNKNOWN_REFERENCE),
            invalid_count=report.count(rules.RowStatus.INVALID),
        )
        s.add(statement)
        s.flush()
        assert statement.id is not None
        matched_ids = {int(str(line.contract_id)) for line in report.lines if line.status is rules.RowStatus.MATCHED}
        contracts = {i: c for i, c in contracts.items() if i in matched_ids}
        stored_rows: list[BankStatementRow] = []
        new_payments: list[tuple[Contract, ContractPayment]] = []
        try:
            with s.begin_nested():
                for line in report.lines:
                    key = stored_key(line.row.key) if line.row is not None else None
                    contract_id = int(str(line.contract_id)) if line.contract_id is not None else None
                    stored_rows.append(
                        BankStatementRow(
                            import_id=statement.id,
                            line=line.line,
                            txn_key=key,
                            status=StatementRowStatus(line.status.value),
                            reason_zh=line.reason_zh,
                            reason_en=line.reason_en,
                            contract_id=contract_id,
                            amount_fen=line.row.amount_fen if line.row is not None else None,
                            booked_on=line.row.booked_on if line.row is not None else None,
                            reference=line.row.reference if line.row is not None else "",
                        )
                    )
                    if line.status is not rules.RowStatus.MATCHED:
                        continue
                    assert line.row is not None and contract_id is not None and key is not None
                    payment = ContractPayment(
                        contract_id=contract_id,
                        ref=key,
                        amount_fen=line.row.amount_fen,
                        paid_on=line.row.booked_on,
                        source=PaymentSource.STATEMENT,
                        statement_import_id=statement.id,
                        recorded_at=now,
                        recorded_by_user_id=user_id,
                    )
                    s.add(payment)
                    s.flush()
                    assert payment.id is not None
                    s.add(
                        BankTransaction(
                            buyer_id=buyer_id,
                            txn_key=key,
                            contract_id=contract_id,
                            payment_id=payment.id,
                            import_id=statement.id,
                            recorded_at=now,
                        )
                    )
                    new_payments.append((contracts[contract_id], payment))
                s.add_all(stored_rows)
                s.flush()
        except IntegrityError:  # a concurrent import that did not queue on the lock recorded a row first
            raise Conflict(
                "同一对账单正在被同时导入，请稍后重试",
                "The same statement is being imported at the same time; try again in a moment",
            ) from None
        today = common.today(uow)
        uow.audit(
            STATEMENT_ENTITY,
            statement.id,
            "imported",
            actor_id=user_id,
            file_name=name,
            rows=statement.rows_total,
            matched=statement.matched_count,
            matched_fen=statement.matched_fen,
            duplicate=statement.duplicate_count,
            unknown=statement.unknown_count,
            invalid=statement.invalid_count,
        )
        for contract, payment in new_payments:
            surplus = _reconcile(s, contract, today).surplus_fen
            _audit_payment(uow, contract, payment, user_id, surplus)
            repay_from_contract_payment(uow, contract, payment)
        for contract in contracts.values():
            _complete_if_settled(uow, contract, actor, today)
        uow.publish(events.STATEMENT_IMPORTED, statement_import_id=statement.id, matched=statement.matched_count)
        uow.commit()
        return StatementImportResult(statement, tuple(stored_rows))


def statement_import(session: Session, actor: Actor, import_id: int) -> StatementImportResult:
    """An import and its report, for the buyer that imported it and the programme office."""
    statement = load_row(session, BankStatementImport, import_id, "对账单导入", "Statement import")
    if actor.kind is not OrgKind.PROGRAMME_OFFICE and statement.importer_id != actor.organisation_id:
        raise NotFound.of("对账单导入", "Statement import", import_id)
    rows = session.exec(
        select(BankStatementRow).where(BankStatementRow.import_id == import_id).order_by(col(BankStatementRow.line))
    )
    return StatementImportResult(statement, tuple(rows))


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
    plan = _plan_from_rows(contract, rows)
    pays = _as_payments(payments)
    recon = rules.reconcile_payments(plan, pays, today, acceptance_on=contract.accepted_on)
    late = rules.buyer_lateness(plan, pays, contract.accepted_on, today)
    return Settlement(contract, contract_reference(contract), plan, bool(rows), recon, late, tuple(payments))


def settlement_of(session: Session, contract: Contract, today: date) -> Settlement:
    """The settlement view of a contract already read (no access check: for the platform's own rules)."""
    assert contract.id is not None
    return _settlement(contract, _instalments(session, contract.id), _payments(session, contract.id), today)


def contract_settlement(session: Session, actor: Actor, contract_id: int, today: date) -> Settlement:
    """The plan with each instalment's paid / outstanding / status as of ``today``, the payments, the acceptance,
    the buyer's lateness under the 60-day rule and the totals (for the buyer, the supplier and the office)."""
    contract = readable_contract(session, actor, contract_id)
    return _settlement(contract, _instalments(session, contract_id), _payments(session, contract_id), today)


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
