"""Payment → settlement of contracts: the payment plan (付款计划), delivery acceptance (验收), the buyer's payments,
bank-statement imports (对账单) and the office's list of late buyers.

Who may do what (the rules live in :mod:`finance.service.settlement`): the contract's buyer (a large firm) changes
it — plan, acceptance, payments — and imports its own bank statements; the supplier (SME) and the programme office
read it; to anyone else the contract does not exist (404).  A statement is uploaded as JSON: either ``rows``
(column name → value, as a spreadsheet reader gives them) or ``csv`` (the statement file's text, first line the
column names); rows name a contract by its reference ``HT-<contract id>``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import LargeFirmDep, OfficeDep, Principal, require_kind
from api.deps import ClockDep, EngineDep, PageParams, SettingsDep
from api.idempotency import IdempotencyKey, idempotent
from api.params import MAX_ID
from api.routes.context import ContextDep
from api.routes.lists import page_of
from api.schemas import AUTH_RESPONSES, Page
from finance import service as fs
from finance.schemas.settlement import (
    AcceptanceBody,
    ContractPaymentBody,
    ContractPaymentPublic,
    LateBuyerPublic,
    PaymentPlanPublic,
    PaymentRecordedPublic,
    PlanBody,
    SettlementPublic,
    StatementBody,
    StatementPublic,
    plan_public,
    settlement_public,
    today_local,
)
from finance.service.settlement.contracts import MAX_FILE_NAME
from finance.settlement.plan import Instalment, PlanTerm
from finance.settlement.statements import MAX_STATEMENT_BYTES, read_statement_csv
from qianfan.clock import Clock
from qianfan.errors import InvalidInput
from qianfan.models import OrgKind
from qianfan.money import yuan_to_fen
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["settlement"], responses=AUTH_RESPONSES)

ReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.SME, OrgKind.PROGRAMME_OFFICE))]
ImportReaderDep = Annotated[Principal, Depends(require_kind(OrgKind.LARGE_FIRM, OrgKind.PROGRAMME_OFFICE))]
ContractId = Annotated[int, Path(ge=1, le=MAX_ID, description="合同编号 / contract id")]
ImportId = Annotated[int, Path(ge=1, le=MAX_ID, description="对账单导入编号 / statement import id")]


def _view(session: Any, principal: Principal, contract_id: int, clock: Clock) -> fs.Settlement:
    session.rollback()  # a fresh snapshot: see what a use case just committed
    return fs.contract_settlement(session, principal.actor, contract_id, today_local(clock))


# ---------------------------------------------------------------------------------------------- routes


@router.get(
    "/contracts/{contract_id}/payment-plan",
    response_model=PaymentPlanPublic,
    summary="合同付款计划（含各期已付/未付/状态）/ A contract's payment plan with each instalment's state",
)
def get_payment_plan(contract_id: ContractId, principal: ReaderDep, ctx: ContextDep) -> PaymentPlanPublic:
    return plan_public(_view(ctx.session, principal, contract_id, ctx.clock))


@router.put(
    "/contracts/{contract_id}/payment-plan",
    response_model=PaymentPlanPublic,
    summary="设定或替换付款计划（采购方，尚无付款时）/ Set or replace the payment plan (buyer, before any payment)",
    description="给出 instalments（金额合计等于合同金额）或 percentages（合计100%，按最大余数分配到分）。\n\n"
    "Give `instalments` (summing to the contract amount) or `percentages` (summing to 100, largest remainder).",
)
def put_payment_plan(
    contract_id: ContractId, body: PlanBody, principal: LargeFirmDep, ctx: ContextDep
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
    fs.set_payment_plan(ctx.uow(), principal.actor, contract_id, instalments=instalments, percentages=percentages)
    return plan_public(_view(ctx.session, principal, contract_id, ctx.clock))


@router.post(
    "/contracts/{contract_id}/acceptance",
    response_model=SettlementPublic,
    summary="验收（采购方）/ Accept the delivery (buyer)",
)
def accept_delivery(
    contract_id: ContractId, body: AcceptanceBody, principal: LargeFirmDep, ctx: ContextDep
) -> SettlementPublic:
    fs.accept_delivery(ctx.uow(), principal.actor, contract_id, body.accepted_on)
    return settlement_public(_view(ctx.session, principal, contract_id, ctx.clock), ctx.tz)


@router.get(
    "/contracts/{contract_id}/payments",
    response_model=list[ContractPaymentPublic],
    summary="合同的付款记录 / Payments of a contract",
)
def list_payments(contract_id: ContractId, principal: ReaderDep, ctx: ContextDep) -> list[ContractPaymentPublic]:
    view = _view(ctx.session, principal, contract_id, ctx.clock)
    return [ContractPaymentPublic.from_model(p, ctx.tz) for p in view.payments]


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
    ctx: ContextDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    def run() -> PaymentRecordedPublic:
        result = fs.record_payment(
            ctx.uow(),
            principal.actor,
            contract_id,
            body.ref,
            yuan_to_fen(body.amount),
            body.paid_on,
        )
        return PaymentRecordedPublic(
            payment=ContractPaymentPublic.from_model(result.payment, ctx.tz),
            created=result.created,
            surplus_fen=result.surplus_fen,
            completed=result.completed,
        )

    return idempotent(request, principal, key, body, run, clock=ctx.clock, status_code=201)


@router.get(
    "/contracts/{contract_id}/settlement",
    response_model=SettlementPublic,
    summary="合同结算情况（计划、付款、验收、逾期）/ A contract's settlement: plan, payments, acceptance, lateness",
)
def get_settlement(contract_id: ContractId, principal: ReaderDep, ctx: ContextDep) -> SettlementPublic:
    return settlement_public(_view(ctx.session, principal, contract_id, ctx.clock), ctx.tz)


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
def import_statement(body: StatementBody, principal: LargeFirmDep, ctx: ContextDep) -> StatementPublic:
    if (body.rows is None) == (body.csv is None):
        raise InvalidInput(
            "请给出 rows 或 csv（二者取一）", "Give either rows or csv, not both", detail={"field": "rows"}
        )
    rows: list[dict[str, Any]] = list(body.rows) if body.rows is not None else list(read_statement_csv(body.csv or ""))
    result = fs.import_statement(ctx.uow(), principal.actor, body.file_name, rows)
    return StatementPublic.from_rows(result.statement, result.rows, ctx.tz)


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
def get_statement(import_id: ImportId, principal: ImportReaderDep, ctx: ContextDep) -> StatementPublic:
    result = fs.statement_import(ctx.session, principal.actor, import_id)
    return StatementPublic.from_rows(result.statement, result.rows, ctx.tz)


@router.get(
    "/settlement/late-buyers",
    response_model=Page[LateBuyerPublic],
    summary="逾期付款的采购方（管委会，60天规则）/ Buyers late under the 60-day rule (office)",
    description="按逾期天数从长到短；分页（limit、offset）。\n\nLatest first, paginated (`limit`, `offset`).",
)
def late_buyers(query: Annotated[PageParams, Query()], principal: OfficeDep, ctx: ContextDep) -> Page[LateBuyerPublic]:
    rows = fs.late_buyers(ctx.session, principal.actor, today_local(ctx.clock))
    items = [LateBuyerPublic.of(r) for r in rows[query.offset : query.offset + query.limit]]
    return page_of(items, len(rows), query)
