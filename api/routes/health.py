"""Liveness and readiness: is the database reachable, is its schema at the shipped migration head?"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import qianfan
from api.deps import EngineDep
from api.schemas import HealthPublic
from qianfan.migrate import is_up_to_date

logger = logging.getLogger("qianfan.api")

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthPublic,
    summary="健康检查 / Health check",
    responses={503: {"model": HealthPublic, "description": "数据库不可用或未迁移 / database down or behind"}},
)
def health(engine: EngineDep) -> JSONResponse:
    try:
        up_to_date = is_up_to_date(engine)
    except Exception as exc:  # any failure to reach the database is "unreachable", never a 500
        logger.warning("health: database unreachable: %s", type(exc).__name__)
        database, schema = "unreachable", "unknown"
    else:
        database, schema = "ok", ("up_to_date" if up_to_date else "behind")
    healthy = database == "ok" and schema == "up_to_date"
    body = HealthPublic.model_validate(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "schema": schema,
            "version": qianfan.__version__,
        }
    )
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=200 if healthy else 503)
