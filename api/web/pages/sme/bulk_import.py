"""Offers imported from a spreadsheet: the templates, the upload checked row by row, and the import job's progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.render import render
from api.web.session import FormDep, SmePage, WebUser
from market import offer_import
from qianfan import jobs as job_service
from qianfan.clock import Clock, to_local
from qianfan.errors import InvalidInput, NotFound
from qianfan.uow import UnitOfWork

router = APIRouter()


def _import_page(request: Request, user: SmePage, status_code: int = 200, **context: Any) -> Response:
    page = {
        "columns": offer_import.COLUMNS,
        "max_rows": offer_import.MAX_ROWS,
        "max_kb": offer_import.MAX_BYTES // 1024,
        "check": None,
        "file_error": None,
        "job": None,
        **context,
    }
    return render(request, "sme/import.html", page, user=user, status_code=status_code)


@router.get("/offers/import")
def import_page(request: Request, user: SmePage) -> Response:
    return _import_page(request, user)


@router.get("/offers/import/template.csv")
def import_template_csv(user: SmePage) -> Response:
    return Response(
        offer_import.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="offers-template.csv"'},
    )


@router.get("/offers/import/template.xlsx")
def import_template_xlsx(user: SmePage) -> Response:
    return Response(
        offer_import.template_xlsx(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="offers-template.xlsx"'},
    )


@router.post("/offers/import")
async def upload_offers(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        message = ("请选择要上传的文件", "Choose a file to upload")
        return _import_page(request, user, status_code=422, file_error=message)
    data = await upload.read(offer_import.MAX_BYTES + 1)
    filename = upload.filename
    # Only reading the upload is asynchronous: checking the rows and queueing the job talk to the database, in a
    # worker thread so that the event loop keeps serving other requests meanwhile.
    return await run_in_threadpool(lambda: _check_and_queue(request, user, session, engine, clock, filename, data))


def _check_and_queue(
    request: Request, user: WebUser, session: Session, engine: Engine, clock: Clock, filename: str, data: bytes
) -> Response:
    try:
        rows = offer_import.read_rows(filename, data)
    except InvalidInput as exc:
        return _import_page(request, user, status_code=422, file_error=(exc.message_zh, exc.message_en))
    today = to_local(clock.now()).date()
    check = offer_import.check_rows(rows, offer_import.held_qualifications(session, user.organisation_id, today))
    if not check.valid:
        return _import_page(request, user, status_code=422, check=check, filename=filename)
    job = offer_import.request_import(UnitOfWork(engine, clock), user.actor, check.valid)
    return _import_page(request, user, check=check, job=job, filename=filename)


@router.get("/offers/import/{job_id}")
def import_progress(job_id: int, request: Request, user: SmePage, session: SessionDep) -> Response:
    job = job_service.job_for(session, user.actor, job_id)
    if job.kind != offer_import.IMPORT_OFFERS:
        raise NotFound.of("导入任务", "Import", job_id)
    return _import_page(request, user, job=job)
