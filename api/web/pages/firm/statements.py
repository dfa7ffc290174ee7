"""Bank statements: import one (CSV) to record the payments it holds, and the report of an import."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import SessionDep
from api.routes.lists import PathId
from api.web.pages._forms import FirmPost, Post
from api.web.pages.firm._shared import SETTLEMENT_LABELS, firm_page
from api.web.pages.firm.contracts import RefusedForm, show_contract, show_contracts
from api.web.render import redirect
from api.web.session import FirmPage
from finance import service as fs
from finance import settlement as settlement_rules
from market.queries import contract_titles
from qianfan.errors import DomainError

router = APIRouter()


@router.post("/statements")
async def upload_statement(post: FirmPost) -> Response:
    back = post.values("contract_id")["contract_id"]
    contract_id = int(back) if back.isascii() and back.isdigit() and 0 < int(back) < 2**31 else None

    def refused(zh: str, en: str) -> Response:
        if contract_id is not None:
            return show_contract(post, contract_id, RefusedForm(import_error=(zh, en)))
        return show_contracts(post, import_error=(zh, en), status_code=422)

    upload = post.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return refused("请选择要导入的对账单文件（CSV）", "Choose the statement file (CSV) to import")
    data = await upload.read(settlement_rules.MAX_STATEMENT_BYTES + 1)
    filename = upload.filename
    # Only reading the upload is asynchronous: the import and the pages talk to the database, in a worker thread
    # so that the event loop keeps serving other requests meanwhile.
    return await run_in_threadpool(lambda: _import_and_answer(post, filename, data, refused))


def _import_and_answer(post: Post, filename: str, data: bytes, refused: Callable[[str, str], Response]) -> Response:
    try:
        rows = settlement_rules.read_statement_csv(data)
        result = fs.import_statement(post.uow(), post.user.actor, filename, rows)
    except DomainError as exc:
        return refused(exc.message_zh, exc.message_en)
    statement = result.statement
    return redirect(
        f"/firm/statements/{statement.id}",
        (
            "ok",
            f"对账单已导入：{statement.matched_count} 笔已匹配入账，{statement.duplicate_count} 笔重复，"
            f"{statement.unknown_count} 笔无法识别，{statement.invalid_count} 行无效",
            f"Statement imported: {statement.matched_count} matched and recorded, {statement.duplicate_count} "
            f"duplicate, {statement.unknown_count} unknown reference, {statement.invalid_count} invalid",
        ),
    )


@router.get("/statements/{import_id}")
def statement_report(request: Request, import_id: PathId, user: FirmPage, session: SessionDep) -> Response:
    result = fs.statement_import(session, user.actor, import_id)
    titles = contract_titles(session, user.actor, {r.contract_id for r in result.rows if r.contract_id is not None})
    return firm_page(
        request,
        "statement.html",
        user,
        statement=result.statement,
        rows=result.rows,
        titles=titles,
        labels=SETTLEMENT_LABELS,
    )
