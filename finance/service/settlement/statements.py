"""Use cases: the buyer imports its bank statement (对账单), rows matched to its own contracts by reference and
recorded as payments once; an import's report is read by its importer and the programme office."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.access import load_statement_import_for
from finance.service import common
from finance.service.settlement.contracts import (
    MAX_FILE_NAME,
    MAX_STATEMENT_ROWS,
    STATEMENT_ENTITY,
    complete_if_settled,
    reconcile,
    stored_key,
)
from finance.service.settlement.payments import audit_payment, repay_from_contract_payment
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, DomainError, InvalidInput, RuleViolation
from qianfan.models import (
    BankStatementImport,
    BankStatementRow,
    BankTransaction,
    Contract,
    ContractPayment,
    Organisation,
    OrgKind,
    PaymentSource,
    StatementRowStatus,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork


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
            surplus = reconcile(s, contract, today).surplus_fen
            audit_payment(uow, contract, payment, user_id, surplus)
            repay_from_contract_payment(uow, contract, payment)
        for contract in contracts.values():
            complete_if_settled(uow, contract, actor, today)
        uow.publish(events.STATEMENT_IMPORTED, statement_import_id=statement.id, matched=statement.matched_count)
        uow.commit()
        return StatementImportResult(statement, tuple(stored_rows))


def statement_import(session: Session, actor: Actor, import_id: int) -> StatementImportResult:
    """An import and its report, for the buyer that imported it and the programme office."""
    statement = load_statement_import_for(session, actor, import_id)
    rows = session.exec(
        select(BankStatementRow).where(BankStatementRow.import_id == import_id).order_by(col(BankStatementRow.line))
    )
    return StatementImportResult(statement, tuple(rows))
