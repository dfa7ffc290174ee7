"""Payment → settlement of contracts: the payment plan (付款计划), delivery acceptance (验收), the buyer's payments,
bank-statement imports (对账单) and the office's list of late buyers.

Who may do what (the rules live in :mod:`finance.service.settlement`): the contract's buyer (a large firm) changes
it — plan, acceptance, payments — and imports its own bank statements; the supplier (SME) and the programme office
read it; to anyone else the contract does not exist (404).  A statement is uploaded as JSON: either ``rows``
(column name → value, as a spreadsheet reader gives them) or ``csv`` (the statement file's text, first line the
column names); rows name a contract by its reference ``HT-<contract id>``.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, StrictInt

from api.auth import LargeFirmDep, OfficeDep, Principal, require_kind
from api.deps import ClockDep, EngineDep, PageParams, SessionDep, SettingsDep
from api.finance_schemas import Body, YuanIn
from api.idempotency import IdempotencyKey, idempotent
from api.params import MAX_ID
from api.schemas import AUTH_RESPONSES, Fen, Page, YuanString, yuan_string
from finance import service as fs
from finance.service.settlement.contracts import MAX_FILE_NAME, MAX_KEY_CHARS, MAX_STATEMENT_ROWS
from finance.settlement.plan import MAX_DAYS_AFTER_ACCEPTANCE, MAX_INSTALMENTS, Instalment, InstalmentKind, PlanTerm
from finance.settlement.reconciliation import InstalmentStatus
from finance.settlement.statements import MAX_STATEMENT_BYTES, read_statement_csv
from qianfan.clock import Clock, to_local
from qianfan.errors import InvalidInput
from qianfan.models import (
    BankStatementImport,
    BankStatementRow,
    ContractPayment,
    ContractStatus,
    OrgKind,
    PaymentSource,
    StatementRowStatus,
)
from qianfan.money import yuan_to_fen
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["settlement"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.PROGRAMME_OFFICE))]
ImportReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.PROGRAMME_OFFICE))]
ContractId = Annotated[int, Path(ge=1, le=MAX_ID, description="合同编号 / contract id")]
ImportId = Annotated[int, Path(ge=1, le=MAX_ID, description="对账单导入编号 / statement import id")]

#: The longest CSV text accepted in one upload (characters).
MAX_CSV_CHARS = 2_000_000
MAX_CELL = 1000
MAX_COLUMN = 100


def _plain(max_len: int, what_zh: str, what_en: str) -> Any:
    """Text without control characters or lone surrogates (PostgreSQL stores neither), at most ``max_len``."""

    def check(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"{what_en} is too long: at most {max_len} characters / {what_zh}过长")
        if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\r\n" for ch in value):
            raise ValueError(f"{what_en} contains control characters / {what_zh}含有控制字符")
        return value

    return AfterValidator(check)


Cell = Annotated[str, _plain(MAX_CELL, "单元格", "A cell")]
Column = Annotated[str, _plain(MAX_COLUMN, "列名", "A column name")]
FileName = Annotated[
    str, Field(min_length=1, examples=["2026-11 工商银行对账单.csv"]), _plain(MAX_FILE_NAME, "文件名", "The file name")
]
Ref = Annotated[
    str, Field(min_length=1, examples=["BANK-20261120-0001"]), _plain(MAX_KEY_CHARS, "付款编号", "The reference")
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
    csv: Annotated[str, _plain(MAX_CSV_CHARS, "CSV", "The CSV text")] | None = Field(
        None, max_length=MAX_CSV_CHARS, description="对账单 CSV 文本（首行为列名）/ the statement as CSV text"
    )


# ---------------------------------------------------------------------------------------------- answers


class InstalmentPublic(BaseModel):
    position: int
    kind: InstalmentKind
    amount_fen: Fen
    amount: YuanString
    due_on: date | None = Field(description="固定付款日 / fixed due date")
    days_after_acceptance: int | None
    due_date: date | None = Field(
        description="应付日期（待验收时为空）/ resolved due date (none while awaiting acceptance)"
    )
    paid_fen: Fen
    paid: YuanString
    outstanding_fen: Fen
    outstanding: YuanString
    status: InstalmentStatus
    days_overdue: int
    deadline: date | None = Field(description="法定最迟付款日（验收后60天封顶）/ deadline under the 60-day rule")
    days_late: int


class PaymentPlanPublic(BaseModel):
    contract_id: int
    reference: str = Field(description="付款摘要中的合同编号 / the reference to write in a transfer's memo")
    agreed: bool = Field(
        description="false：未约定，按法定默认（验收后60天付清）/ false: the statutory default applies"
    )
    contract_amount_fen: Fen
    contract_amount: YuanString
    contract_on: date
    accepted_on: date | None
    instalments: list[InstalmentPublic]


class ContractPaymentPublic(BaseModel):
    id: int
    contract_id: int
    ref: str
    amount_fen: Fen
    amount: YuanString
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
            amount=yuan_string(row.amount_fen),
            paid_on=row.paid_on,
            source=row.source,
            statement_import_id=row.statement_import_id,
            recorded_at=to_local(row.recorded_at, tz),
            recorded_by_user_id=row.recorded_by_user_id,
            loan_id=row.loan_id,
            loan_split={k: int(v) for k, v in row.allocation.items() if k.endswith("_fen")} if row.allocation else None,
        )


class PaymentRecordedPublic(BaseModel):
    payment: ContractPaymentPublic
    created: bool = Field(description="false：同一付款此前已记录 / false: the same payment was recorded before")
    surplus_fen: Fen
    surplus: YuanString = Field(description="超出付款计划的金额 / paid beyond the whole plan")
    completed: bool = Field(description="此笔付款使合同结清 / this payment completed the contract")


class SettlementPublic(BaseModel):
    contract_id: int
    reference: str
    status: ContractStatus
    as_of: date
    plan: PaymentPlanPublic
    payments: list[ContractPaymentPublic]
    accepted_on: date | None
    accepted_by_user_id: int | None
    received_fen: Fen
    received: YuanString
    paid_fen: Fen
    paid: YuanString
    surplus_fen: Fen
    surplus: YuanString
    outstanding_fen: Fen
    outstanding: YuanString
    due_fen: Fen = Field(description="今日及以前到期未付 / outstanding on instalments due by today")
    due: YuanString
    overdue_fen: Fen
    overdue: YuanString
    late: bool = Field(description="买方逾期（60天规则）/ the buyer is late under the 60-day rule")
    days_late: int
    late_fen: Fen
    late_amount: YuanString
    statutory_deadline: date | None = Field(description="验收后60天 / acceptance + 60 days")


class StatementRowPublic(BaseModel):
    line: int
    status: StatementRowStatus
    reason_zh: str
    reason_en: str
    txn_key: str | None
    contract_id: int | None
    amount_fen: Fen | None
    amount: YuanString | None
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
            amount=None if row.amount_fen is None else yuan_string(row.amount_fen),
            booked_on=row.booked_on,
            reference=row.reference,
        )


class StatementPublic(BaseModel):
    id: int
    importer_id: int
    imported_by_user_id: int | None
    imported_at: datetime
    file_name: str
    rows_total: int
    matched_count: int
    matched_fen: Fen
    matched: YuanString
    duplicate_count: int
    duplicate_fen: Fen
    duplicate: YuanString
    unknown_count: int
    unknown_fen: Fen
    unknown: YuanString
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
            matched=yuan_string(st.matched_fen),
            duplicate_count=st.duplicate_count,
            duplicate_fen=st.duplicate_fen,
            duplicate=yuan_string(st.duplicate_fen),
            unknown_count=st.unknown_count,
            unknown_fen=st.unknown_fen,
            unknown=yuan_string(st.unknown_fen),
            invalid_count=st.invalid_count,
            rows=[StatementRowPublic.from_model(r) for r in rows],
        )


class LateBuyerPublic(BaseModel):
    contract_id: int
    reference: str
    buyer_id: int
    supplier_id: int
    accepted_on: date | None
    days_late: int
    late_fen: Fen
    late_amount: YuanString
    outstanding_fen: Fen
    outstanding: YuanString


# ---------------------------------------------------------------------------------------------- helpers


def _today(clock: Clock) -> date:
    return to_local(clock.now()).date()


def _plan_public(view: fs.Settlement) -> PaymentPlanPublic:
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
                amount=yuan_string(item.amount_fen),
                due_on=item.due_on,
                days_after_acceptance=item.days_after_acceptance,
                due_date=state.due_date,
                paid_fen=state.paid_fen,
                paid=yuan_string(state.paid_fen),
                outstanding_fen=state.outstanding_fen,
                outstanding=yuan_string(state.outstanding_fen),
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
        contract_amount=yuan_string(c.amount_fen),
        contract_on=view.plan.contract_on,
        accepted_on=c.accepted_on,
        instalments=items,
    )


def _settlement_public(view: fs.Settlement, tz: ZoneInfo) -> SettlementPublic:
    c = view.contract
    assert c.id is not None
    return SettlementPublic(
        contract_id=c.id,
        reference=view.reference,
        status=c.status,
        as_of=view.reconciliation.as_of,
        plan=_plan_public(view),
        payments=[ContractPaymentPublic.from_model(p, tz) for p in view.payments],
        accepted_on=c.accepted_on,
        accepted_by_user_id=c.accepted_by_user_id,
        received_fen=view.received_fen,
        received=yuan_string(view.received_fen),
        paid_fen=view.paid_fen,
        paid=yuan_string(view.paid_fen),
        surplus_fen=view.surplus_fen,
        surplus=yuan_string(view.surplus_fen),
        outstanding_fen=view.outstanding_fen,
        outstanding=yuan_string(view.outstanding_fen),
        due_fen=view.due_fen,
        due=yuan_string(view.due_fen),
        overdue_fen=view.overdue_fen,
        overdue=yuan_string(view.overdue_fen),
        late=view.lateness.is_late,
        days_late=view.lateness.days_late,
        late_fen=view.lateness.late_fen,
        late_amount=yuan_string(view.lateness.late_fen),
        statutory_deadline=view.lateness.statutory_deadline,
    )


def _view(session: Any, principal: Principal, contract_id: int, clock: Clock) -> fs.Settlement:
    session.rollback()  # a fresh snapshot: see what a use case just committed
    return fs.contract_settlement(session, principal.actor, contract_id, _today(clock))


# ---------------------------------------------------------------------------------------------- routes


@router.get(
    "/contracts/{contract_id}/payment-plan",
    response_model=PaymentPlanPublic,
    summary="合同付款计划（含各期已付/未付/状态）/ A contract's payment plan with each instalment's state",
)
def get_payment_plan(
    contract_id: ContractId, principal: ReaderDep, session: SessionDep, clock: ClockDep
) -> PaymentPlanPublic:
    return _plan_public(_view(session, principal, contract_id, clock))


@router.put(
    "/contracts/{contract_id}/payment-plan",
    response_model=PaymentPlanPublic,
    summary="设定或替换付款计划（采购方，尚无付款时）/ Set or replace the payment plan (buyer, before any payment)",
    description="给出 instalments（金额合计等于合同金额）或 percentages（合计100%，按最大余数分配到分）。\n\n"
    "Give `instalments` (summing to the contract amount) or `percentages` (summing to 100, largest remainder).",
)
def put_payment_plan(
    contract_id: ContractId,
    body: PlanBody,
    principal: LargeFirmDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> PaymentPlanPublic:
    instalments = (
        None
        if body.instalments is None
        else [Instalment(i.kind, yuan_to_fen(i.amount), i.due_on, i.days_after_acceptance) for i in body.instalments]
    )
    percentages = (
        None
        if body.percentages is None
        else [PlanTerm(p.kind, Decimal(p.percent), p.due_on, p.days_after_acceptance) for p in body.percentages]
    )
    fs.set_payment_plan(
        UnitOfWork(engine, clock), principal.actor, contract_id, instalments=instalments, percentages=percentages
    )
    return _plan_public(_view(session, principal, contract_id, clock))


@router.post(
    "/contracts/{contract_id}/acceptance",
    response_model=SettlementPublic,
    summary="验收（采购方）/ Accept the delivery (buyer)",
)
def accept_delivery(
    contract_id: ContractId,
    body: AcceptanceBody,
    principal: LargeFirmDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> SettlementPublic:
    fs.accept_delivery(UnitOfWork(engine, clock), principal.actor, contract_id, body.accepted_on)
    return _settlement_public(_view(session, principal, contract_id, clock), settings.tz)


@router.get(
    "/contracts/{contract_id}/payments",
    response_model=list[ContractPaymentPublic],
    summary="合同的付款记录 / Payments of a contract",
)
def list_payments(
    contract_id: ContractId, principal: ReaderDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> list[ContractPaymentPublic]:
    view = _view(session, principal, contract_id, clock)
    return [ContractPaymentPublic.from_model(p, settings.tz) for p in view.payments]


@router.post(
    "/contracts/{contract_id}/payments",
    response_model=PaymentRecordedPublic,
    status_code=201,
    summary="记录付款（采购方；按付款编号幂等）/ Record a payment (buyer; idempotent by reference)",
    description="同一付款编号、金额与日期再次提交返回原记录（created=false）；金额不同则 409。"
    "超出计划的部分记录为 surplus。\n\n"
    "The same reference, amount and date again returns the payment recorded before (`created=false`); another "
    "amount is a 409.  Paying beyond the plan is recorded and reported as `surplus`.",
)
def record_payment(
    request: Request,
    contract_id: ContractId,
    body: ContractPaymentBody,
    principal: LargeFirmDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    def run() -> PaymentRecordedPublic:
        result = fs.record_payment(
            UnitOfWork(engine, clock),
            principal.actor,
            contract_id,
            body.ref,
            yuan_to_fen(body.amount),
            body.paid_on,
        )
        return PaymentRecordedPublic(
            payment=ContractPaymentPublic.from_model(result.payment, settings.tz),
            created=result.created,
            surplus_fen=result.surplus_fen,
            surplus=yuan_string(result.surplus_fen),
            completed=result.completed,
        )

    return idempotent(request, principal, key, body, run, clock=clock, status_code=201)


@router.get(
    "/contracts/{contract_id}/settlement",
    response_model=SettlementPublic,
    summary="合同结算情况（计划、付款、验收、逾期）/ A contract's settlement: plan, payments, acceptance, lateness",
)
def get_settlement(
    contract_id: ContractId, principal: ReaderDep, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> SettlementPublic:
    return _settlement_public(_view(session, principal, contract_id, clock), settings.tz)


@router.post(
    "/statements",
    response_model=StatementPublic,
    status_code=201,
    summary="导入银行对账单（大企业，本企业账户）/ Import a bank statement (large firm, its own account)",
    description="给出 rows（列名 → 值）或 csv（对账单文本）。按摘要中的合同编号 HT-<合同编号> 匹配本企业的合同，"
    "匹配的行记为付款；逐行报告：matched / duplicate / unknown_reference / invalid。同一文件再次导入不重复记账。\n\n"
    "Give `rows` (column → value) or `csv` (the file's text).  Rows are matched to the importer's own contracts by "
    "the reference `HT-<contract id>` in the memo and recorded as payments; the report says, row by row, matched / "
    "duplicate / unknown_reference / invalid.  Importing the same file again records nothing twice.",
)
def import_statement(
    body: StatementBody,
    principal: LargeFirmDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> StatementPublic:
    if (body.rows is None) == (body.csv is None):
        raise InvalidInput(
            "请给出 rows 或 csv（二者取一）", "Give either rows or csv, not both", detail={"field": "rows"}
        )
    rows: list[dict[str, Any]] = list(body.rows) if body.rows is not None else list(read_statement_csv(body.csv or ""))
    result = fs.import_statement(UnitOfWork(engine, clock), principal.actor, body.file_name, rows)
    return StatementPublic.from_rows(result.statement, result.rows, settings.tz)


@router.post(
    "/statements/upload",
    response_model=StatementPublic,
    status_code=201,
    summary="上传银行对账单文件（CSV，大企业）/ Upload a bank statement file (CSV, large firm)",
    description="multipart/form-data：file 为网银导出的 CSV（UTF-8 或 GBK，最大 2 MB），"
    "file_name 可选（默认取文件名）。匹配与逐行报告同 POST /statements。\n\n"
    "multipart/form-data: `file` is the CSV exported by online banking (UTF-8 or GBK, at most 2 MB); `file_name` is "
    "optional (the upload's name by default). Matching and the row-by-row report are those of `POST /statements`.",
)
async def upload_statement(
    principal: LargeFirmDep,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the statement, CSV")],
    file_name: Annotated[str | None, Form(max_length=MAX_FILE_NAME)] = None,
) -> StatementPublic:
    data = await file.read(MAX_STATEMENT_BYTES + 1)
    name = (file_name or file.filename or "").strip()

    def run() -> StatementPublic:  # the import talks to the database: in a worker thread, not on the event loop
        rows = read_statement_csv(data)
        result = fs.import_statement(UnitOfWork(engine, clock), principal.actor, name, rows)
        return StatementPublic.from_rows(result.statement, result.rows, settings.tz)

    return await run_in_threadpool(run)


@router.get(
    "/statements/{import_id}",
    response_model=StatementPublic,
    summary="对账单导入报告（导入企业与管委会）/ A statement import's report (the importer and the office)",
)
def get_statement(
    import_id: ImportId, principal: ImportReaderDep, session: SessionDep, settings: SettingsDep
) -> StatementPublic:
    result = fs.statement_import(session, principal.actor, import_id)
    return StatementPublic.from_rows(result.statement, result.rows, settings.tz)


@router.get(
    "/settlement/late-buyers",
    response_model=Page[LateBuyerPublic],
    summary="逾期付款的采购方（管委会，60天规则）/ Buyers late under the 60-day rule (office)",
    description="按逾期天数从长到短；分页（limit、offset）。\n\nLatest first, paginated (`limit`, `offset`).",
)
def late_buyers(
    query: Annotated[PageParams, Query()], principal: OfficeDep, session: SessionDep, clock: ClockDep
) -> Page[LateBuyerPublic]:
    rows = fs.late_buyers(session, principal.actor, _today(clock))
    items = [
        LateBuyerPublic(
            contract_id=r.contract_id,
            reference=r.reference,
            buyer_id=r.buyer_id,
            supplier_id=r.supplier_id,
            accepted_on=r.accepted_on,
            days_late=r.days_late,
            late_fen=r.late_fen,
            late_amount=yuan_string(r.late_fen),
            outstanding_fen=r.outstanding_fen,
            outstanding=yuan_string(r.outstanding_fen),
        )
        for r in rows[query.offset : query.offset + query.limit]
    ]
    return Page[LateBuyerPublic](items=items, total=len(rows), limit=query.limit, offset=query.offset)
