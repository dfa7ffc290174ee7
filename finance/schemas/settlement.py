"""The API models of contract settlement: the payment plan (付款计划) and its instalments, acceptance, the buyer's
payments, bank-statement imports (对账单) and late buyers — request bodies and answers."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, StrictInt

from finance import service as fs
from finance.service.settlement.contracts import MAX_FILE_NAME, MAX_KEY_CHARS, MAX_STATEMENT_ROWS
from finance.settlement.plan import MAX_DAYS_AFTER_ACCEPTANCE, MAX_INSTALMENTS, InstalmentKind
from finance.settlement.reconciliation import InstalmentStatus
from qianfan.clock import Clock, to_local
from qianfan.models import (
    BankStatementImport,
    BankStatementRow,
    ContractPayment,
    ContractStatus,
    PaymentSource,
    StatementRowStatus,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Body, PublicModel, YuanIn, yuan_of

#: The longest CSV text accepted in one upload (characters).
MAX_CSV_CHARS = 2_000_000
MAX_CELL = 1000
MAX_COLUMN = 100


def plain_text(max_len: int, what_zh: str, what_en: str) -> Any:
    """Text without control characters or lone surrogates (PostgreSQL stores neither), at most ``max_len``."""

    def check(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"{what_en} is too long: at most {max_len} characters / {what_zh}过长")
        if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\r\n" for ch in value):
            raise ValueError(f"{what_en} contains control characters / {what_zh}含有控制字符")
        return value

    return AfterValidator(check)


Cell = Annotated[str, plain_text(MAX_CELL, "单元格", "A cell")]
Column = Annotated[str, plain_text(MAX_COLUMN, "列名", "A column name")]
FileName = Annotated[
    str,
    Field(min_length=1, examples=["2026-11 工商银行对账单.csv"]),
    plain_text(MAX_FILE_NAME, "文件名", "The file name"),
]
Ref = Annotated[
    str, Field(min_length=1, examples=["BANK-20261120-0001"]), plain_text(MAX_KEY_CHARS, "付款编号", "The reference")
]
Percent = Annotated[
    str,
    Field(pattern=r"^\d{1,3}(\.\d{1,6})?$", description="百分比（字符串）/ percentage as a string", examples=["30"]),
]
DaysAfterAcceptance = Annotated[int, Field(ge=0, le=MAX_DAYS_AFTER_ACCEPTANCE)]


# ---------------------------------------------------------------------------------------------- bodies


class InstalmentIn(Body):
    kind: InstalmentKind = Field(description="预付款 advance / 验收款 acceptance / 尾款 final / 质保金 retention")
    amount: YuanIn = Field(description="金额（元）/ amount (yuan)")
    due_on: date | None = Field(None, description="固定付款日 / fixed due date")
    days_after_acceptance: DaysAfterAcceptance | None = Field(None, description="验收后天数 / days after acceptance")


class PercentIn(Body):
    kind: InstalmentKind
    percent: Percent
    due_on: date | None = None
    days_after_acceptance: DaysAfterAcceptance | None = None


class PlanBody(Body):
    """Either ``instalments`` (amounts summing to the contract amount) or ``percentages`` (summing to 100)."""

    instalments: list[InstalmentIn] | None = Field(None, min_length=1, max_length=MAX_INSTALMENTS)
    percentages: list[PercentIn] | None = Field(None, min_length=1, max_length=MAX_INSTALMENTS)


class AcceptanceBody(Body):
    accepted_on: date = Field(description="验收日期 / the day the delivery was accepted")


class ContractPaymentBody(Body):
    ref: Ref = Field(
        description="付款编号（同一合同内唯一，重复提交不重复记账）/ payment reference, unique per contract"
    )
    amount: YuanIn = Field(description="付款金额（元）/ amount paid (yuan)")
    paid_on: date = Field(description="付款日期 / the day it was paid")


class StatementBody(Body):
    file_name: FileName
    rows: list[dict[Column, Cell | StrictInt | None]] | None = Field(
        None,
        max_length=MAX_STATEMENT_ROWS,
        description="各行：列名 → 值 / rows: column name → value",
        examples=[[{"交易日期": "2026-11-20", "贷方金额": "300,000.00", "摘要": "HT-12 预付款", "交易流水号": "T1"}]],
    )
    csv: Annotated[str, plain_text(MAX_CSV_CHARS, "CSV", "The CSV text")] | None = Field(
        None, max_length=MAX_CSV_CHARS, description="对账单 CSV 文本（首行为列名）/ the statement as CSV text"
    )


# ---------------------------------------------------------------------------------------------- answers


class InstalmentPublic(PublicModel):
    position: int
    kind: InstalmentKind
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    due_on: date | None = Field(description="固定付款日 / fixed due date")
    days_after_acceptance: int | None
    due_date: date | None = Field(
        description="应付日期（待验收时为空）/ resolved due date (none while awaiting acceptance)"
    )
    paid_fen: Fen
    paid: Yuan = yuan_of("paid_fen")
    outstanding_fen: Fen
    outstanding: Yuan = yuan_of("outstanding_fen")
    status: InstalmentStatus
    days_overdue: int
    deadline: date | None = Field(description="法定最迟付款日（验收后60天封顶）/ deadline under the 60-day rule")
    days_late: int


class PaymentPlanPublic(PublicModel):
    contract_id: int
    reference: str = Field(description="付款摘要中的合同编号 / the reference to write in a transfer's memo")
    agreed: bool = Field(
        description="false：未约定，按法定默认（验收后60天付清）/ false: the statutory default applies"
    )
    contract_amount_fen: Fen
    contract_amount: Yuan = yuan_of("contract_amount_fen")
    contract_on: date
    accepted_on: date | None
    instalments: list[InstalmentPublic]


class ContractPaymentPublic(PublicModel):
    id: int
    contract_id: int
    ref: str
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    paid_on: date
    source: PaymentSource
    statement_import_id: int | None
    recorded_at: datetime
    recorded_by_user_id: int | None
    loan_id: int | None = Field(
        default=None, description="the contract loan this payment repaid first (订单融资), if one was live"
    )
    loan_split: dict[str, int] | None = Field(
        default=None,
        description="how the payment was split, in fen: principal_fen, interest_fen, fees_fen, penalty_fen of the "
        "contract loan, and excess_fen to the SME",
    )

    @classmethod
    def from_model(cls, row: ContractPayment, tz: ZoneInfo) -> ContractPaymentPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            contract_id=row.contract_id,
            ref=row.ref,
            amount_fen=row.amount_fen,
            paid_on=row.paid_on,
            source=row.source,
            statement_import_id=row.statement_import_id,
            recorded_at=to_local(row.recorded_at, tz),
            recorded_by_user_id=row.recorded_by_user_id,
            loan_id=row.loan_id,
            loan_split={k: int(v) for k, v in row.allocation.items() if k.endswith("_fen")} if row.allocation else None,
        )


class PaymentRecordedPublic(PublicModel):
    payment: ContractPaymentPublic
    created: bool = Field(description="false：同一付款此前已记录 / false: the same payment was recorded before")
    surplus_fen: Fen
    surplus: Yuan = yuan_of("surplus_fen", description="超出付款计划的金额 / paid beyond the whole plan")
    completed: bool = Field(description="此笔付款使合同结清 / this payment completed the contract")


class SettlementPublic(PublicModel):
    contract_id: int
    reference: str
    status: ContractStatus
    as_of: date
    plan: PaymentPlanPublic
    payments: list[ContractPaymentPublic]
    accepted_on: date | None
    accepted_by_user_id: int | None
    received_fen: Fen
    received: Yuan = yuan_of("received_fen")
    paid_fen: Fen
    paid: Yuan = yuan_of("paid_fen")
    surplus_fen: Fen
    surplus: Yuan = yuan_of("surplus_fen")
    outstanding_fen: Fen
    outstanding: Yuan = yuan_of("outstanding_fen")
    due_fen: Fen = Field(description="今日及以前到期未付 / outstanding on instalments due by today")
    due: Yuan = yuan_of("due_fen")
    overdue_fen: Fen
    overdue: Yuan = yuan_of("overdue_fen")
    late: bool = Field(description="买方逾期（60天规则）/ the buyer is late under the 60-day rule")
    days_late: int
    late_fen: Fen
    late_amount: Yuan = yuan_of("late_fen")
    statutory_deadline: date | None = Field(description="验收后60天 / acceptance + 60 days")


class StatementRowPublic(PublicModel):
    line: int
    status: StatementRowStatus
    reason_zh: str
    reason_en: str
    txn_key: str | None
    contract_id: int | None
    amount_fen: Fen | None
    amount: Yuan | None = yuan_of("amount_fen")
    booked_on: date | None
    reference: str

    @classmethod
    def from_model(cls, row: BankStatementRow) -> StatementRowPublic:
        return cls(
            line=row.line,
            status=row.status,
            reason_zh=row.reason_zh,
            reason_en=row.reason_en,
            txn_key=row.txn_key,
            contract_id=row.contract_id,
            amount_fen=row.amount_fen,
            booked_on=row.booked_on,
            reference=row.reference,
        )


class StatementPublic(PublicModel):
    id: int
    importer_id: int
    imported_by_user_id: int | None
    imported_at: datetime
    file_name: str
    rows_total: int
    matched_count: int
    matched_fen: Fen
    matched: Yuan = yuan_of("matched_fen")
    duplicate_count: int
    duplicate_fen: Fen
    duplicate: Yuan = yuan_of("duplicate_fen")
    unknown_count: int
    unknown_fen: Fen
    unknown: Yuan = yuan_of("unknown_fen")
    invalid_count: int
    rows: list[StatementRowPublic]

    @classmethod
    def from_rows(cls, st: BankStatementImport, rows: tuple[BankStatementRow, ...], tz: ZoneInfo) -> StatementPublic:
        assert st.id is not None
        return cls(
            id=st.id,
            importer_id=st.importer_id,
            imported_by_user_id=st.imported_by_user_id,
            imported_at=to_local(st.imported_at, tz),
            file_name=st.file_name,
            rows_total=st.rows_total,
            matched_count=st.matched_count,
            matched_fen=st.matched_fen,
            duplicate_count=st.duplicate_count,
            duplicate_fen=st.duplicate_fen,
            unknown_count=st.unknown_count,
            unknown_fen=st.unknown_fen,
            invalid_count=st.invalid_count,
            rows=[StatementRowPublic.from_model(r) for r in rows],
        )


class LateBuyerPublic(PublicModel):
    contract_id: int
    reference: str
    buyer_id: int
    supplier_id: int
    accepted_on: date | None
    days_late: int
    late_fen: Fen
    late_amount: Yuan = yuan_of("late_fen")
    outstanding_fen: Fen
    outstanding: Yuan = yuan_of("outstanding_fen")


# ---------------------------------------------------------------------------------------------- helpers


def today_local(clock: Clock) -> date:
    return to_local(clock.now()).date()


def plan_public(view: fs.Settlement) -> PaymentPlanPublic:
    c = view.contract
    assert c.id is not None
    items = []
    for item, state, late in zip(
        view.plan.instalments, view.reconciliation.instalments, view.lateness.lines, strict=True
    ):
        items.append(
            InstalmentPublic(
                position=state.index,
                kind=item.kind,
                amount_fen=item.amount_fen,
                due_on=item.due_on,
                days_after_acceptance=item.days_after_acceptance,
                due_date=state.due_date,
                paid_fen=state.paid_fen,
                outstanding_fen=state.outstanding_fen,
                status=state.status,
                days_overdue=state.days_overdue,
                deadline=late.deadline,
                days_late=late.days_late,
            )
        )
    return PaymentPlanPublic(
        contract_id=c.id,
        reference=view.reference,
        agreed=view.plan_agreed,
        contract_amount_fen=c.amount_fen,
        contract_on=view.plan.contract_on,
        accepted_on=c.accepted_on,
        instalments=items,
    )


def settlement_public(view: fs.Settlement, tz: ZoneInfo) -> SettlementPublic:
    c = view.contract
    assert c.id is not None
    return SettlementPublic(
        contract_id=c.id,
        reference=view.reference,
        status=c.status,
        as_of=view.reconciliation.as_of,
        plan=plan_public(view),
        payments=[ContractPaymentPublic.from_model(p, tz) for p in view.payments],
        accepted_on=c.accepted_on,
        accepted_by_user_id=c.accepted_by_user_id,
        received_fen=view.received_fen,
        paid_fen=view.paid_fen,
        surplus_fen=view.surplus_fen,
        outstanding_fen=view.outstanding_fen,
        due_fen=view.due_fen,
        overdue_fen=view.overdue_fen,
        late=view.lateness.is_late,
        days_late=view.lateness.days_late,
        late_fen=view.lateness.late_fen,
        statutory_deadline=view.lateness.statutory_deadline,
    )
