"""Payment → settlement of contracts: the agreed payment plan, the buyer's payments, and imported bank
statements with their row-by-row report.

The database guards what must hold under concurrency:

- one instalment per plan position (``contract_instalment`` unique ``(contract_id, position)``);
- a payment is recorded once per contract and reference (``contract_payment`` unique ``(contract_id, ref)``), so
  replaying a request or a statement row never counts it twice;
- a bank transaction is recorded once per importing buyer (``bank_transaction`` unique ``(buyer_id, txn_key)``),
  even when two imports of the same statement run at once.

String values mirror ``finance.settlement`` (the pure rules); the core package may not import the finance
domain, so the column enums are declared here.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, money, timestamp


class InstalmentKindColumn(StrEnum):
    ADVANCE = "advance"  # 预付款
    ACCEPTANCE = "acceptance"  # 验收款
    FINAL = "final"  # 尾款
    RETENTION = "retention"  # 质保金


class PaymentSource(StrEnum):
    MANUAL = "manual"  # recorded by the buyer through the API / pages
    STATEMENT = "statement"  # a matched row of an imported bank statement


class StatementRowStatus(StrEnum):
    MATCHED = "matched"
    DUPLICATE = "duplicate"
    UNKNOWN_REFERENCE = "unknown_reference"
    INVALID = "invalid"


class ContractInstalment(SQLModel, table=True):
    """One instalment of a contract's payment plan (付款计划): a fixed due date or days after acceptance."""

    __tablename__ = "contract_instalment"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "position"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
        sa.CheckConstraint("(due_on IS NULL) <> (days_after_acceptance IS NULL)", name="one_due_rule"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    position: int
    kind: InstalmentKindColumn = Field(sa_type=enum_type(InstalmentKindColumn))
    amount_fen: int = money()
    due_on: date | None = None
    days_after_acceptance: int | None = None


class ContractPayment(SQLModel, table=True):
    """A payment by the buyer against a contract, once per ``(contract_id, ref)``."""

    __tablename__ = "contract_payment"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "ref"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    ref: str = Field(max_length=200)
    amount_fen: int = money()
    paid_on: date
    source: PaymentSource = Field(sa_type=enum_type(PaymentSource))
    statement_import_id: int | None = Field(default=None, foreign_key="bank_statement_import.id", index=True)
    recorded_at: datetime = timestamp()
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    # The contract loan this payment repaid first and its split (principal, interest, fees, penalty, the rest to
    # the SME).  Not a foreign key, so adding it never rebuilds the table on SQLite.
    loan_id: int | None = Field(default=None, index=True)
    allocation: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class BankStatementImport(SQLModel, table=True):
    """One upload of a bank statement by a buyer, with the counts and totals of its report per status."""

    __tablename__ = "bank_statement_import"

    id: int | None = Field(default=None, primary_key=True)
    importer_id: int = Field(foreign_key="organisation.id", index=True)
    imported_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    imported_at: datetime = timestamp()
    file_name: str = Field(max_length=200)
    rows_total: int = 0
    matched_count: int = 0
    matched_fen: int = money(default=0)
    duplicate_count: int = 0
    duplicate_fen: int = money(default=0)
    unknown_count: int = 0
    unknown_fen: int = money(default=0)
    invalid_count: int = 0


class BankStatementRow(SQLModel, table=True):
    """One row of an import's report: what it was taken to be and why."""

    __tablename__ = "bank_statement_row"
    __table_args__ = (sa.UniqueConstraint("import_id", "line"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="bank_statement_import.id", index=True)
    line: int
    txn_key: str | None = Field(default=None, max_length=300)
    status: StatementRowStatus = Field(sa_type=enum_type(StatementRowStatus))
    reason_zh: str = Field(default="", sa_type=sa.Text)
    reason_en: str = Field(default="", sa_type=sa.Text)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    amount_fen: int | None = money(default=None, nullable=True)
    booked_on: date | None = None
    reference: str = Field(default="", sa_type=sa.Text)


class BankTransaction(SQLModel, table=True):
    """A bank transaction recorded as a payment: unique per importing buyer and transaction key, so the same
    transaction is never recorded twice, whatever imports carry it."""

    __tablename__ = "bank_transaction"
    __table_args__ = (sa.UniqueConstraint("buyer_id", "txn_key"),)

    id: int | None = Field(default=None, primary_key=True)
    buyer_id: int = Field(foreign_key="organisation.id", index=True)
    txn_key: str = Field(max_length=300)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    payment_id: int = Field(foreign_key="contract_payment.id", unique=True)
    import_id: int = Field(foreign_key="bank_statement_import.id", index=True)
    recorded_at: datetime = timestamp()
