"""The web edge: ``create_app()`` builds the FastAPI application.

Run it with ``uvicorn --factory api.app:create_app``.  Thin by design: routes parse and validate input, query
or call a use case, and render; the business rules live below (``qianfan``, ``matcher``, ``finance``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import Engine

import qianfan
from api.errors import CatchAllMiddleware, install_error_handlers
from api.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from api.routes import auth, deals, health, listings, offers, orders, organisations, taxonomy
from api.routes.chain_finance import router as chain_finance_router
from api.routes.credit_suggestions import router as credit_suggestions_router
from api.routes.docs import install_docs
from api.routes.finance import router as finance_router
from api.routes.loans import router as loans_router
from api.routes.receivables import router as receivables_router
from api.routes.record_access import router as record_access_router
from api.routes.settlement import router as settlement_router
from api.routes.stats import router as stats_router
from api.web import install_web
from qianfan.config import Settings, get_settings
from qianfan.db import get_engine, make_engine

TITLE = "千帆 Qianfan API"
DESCRIPTION = """\
中关村“千帆计划”订单对接与应收账款融资平台的接口：大企业发布订单，中小企业发布产品与服务，平台撮合对接。
金额以整数“分”（如 `budget_fen`）和精确到分的“元”字符串（如 `budget`）两种形式给出，从不使用浮点数；
时间均为北京时间（ISO-8601，`+08:00`）。错误统一返回 `{"error", "message", "message_en", "detail"}`。

The API of Qianfan, order matching and receivables finance for the Zhongguancun "Qianfan plan": large firms
post orders, SMEs list offers, the platform matches them. Money is given as integer fen (e.g. `budget_fen`)
and as an exact yuan string (e.g. `budget`), never as a float; times are Beijing time (ISO-8601, `+08:00`).
Every error has the shape `{"error", "message", "message_en", "detail"}`.
"""

OPENAPI_TAGS = [
    {"name": "health", "description": "健康检查 / Health"},
    {"name": "auth", "description": "登录与令牌 / Log in and tokens"},
    {"name": "organisations", "description": "机构与资质 / Organisations and qualifications"},
    {"name": "orders", "description": "大企业订单 / Large firms' orders"},
    {"name": "offers", "description": "中小企业产品与服务 / SMEs' offers"},
    {"name": "services", "description": "服务包、创业导师与服务需求 / Service packages, mentors and service needs"},
    {"name": "deals", "description": "意向订单与合同 / Intent orders and contracts"},
    {"name": "taxonomy", "description": "产业分类、分园、资质 / Categories, branch parks, qualifications"},
    {"name": "receivables", "description": "应收账款：登记、确权、拆分、转让、付款 / Receivables"},
    {"name": "finance", "description": "融资申请与48小时审批放款 / Finance applications and the 48-hour path"},
    {"name": "finance-setup", "description": "融资产品、授信与敞口限额 / Products, credit lines, exposure limits"},
    {"name": "loans", "description": "贷款、还款与账簿 / Loans, repayments and the ledger"},
    {"name": "stats", "description": "千帆计划统计数据（管委会）/ The programme's figures (programme office)"},
    {"name": "audit", "description": "审计哈希链（管委会）/ The audit hash chain (programme office)"},
]


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application.

    ``engine`` defaults to the process-wide engine (``qianfan.db.get_engine()``) when no ``settings`` are
    given, and to a new engine for ``settings.database_url`` when they are.
    """
    if engine is None:
        engine = get_engine() if settings is None else make_engine(settings.database_url, echo=settings.sql_echo)
    if settings is None:
        settings = get_settings()

    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=qianfan.__version__,
        openapi_tags=OPENAPI_TAGS,
        # FastAPI's default docs pages load scripts from a CDN; /docs is served from local assets instead.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine

    install_error_handlers(app)
    # Added innermost first: CatchAllMiddleware answers unexpected errors inside SecurityHeadersMiddleware, so
    # every response, a 500 included, carries the security headers.
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    # CORS stays closed unless QIANFAN_CORS_ORIGINS lists the origins allowed to call from a browser.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(SecurityHeadersMiddleware)

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(organisations.router)
    app.include_router(orders.router)
    app.include_router(offers.router)
    for router in (*listings.routers, *deals.routers):
        app.include_router(router)
    app.include_router(taxonomy.router)
    app.include_router(receivables_router)
    app.include_router(finance_router)
    app.include_router(loans_router)
    app.include_router(credit_suggestions_router)
    app.include_router(record_access_router)
    app.include_router(chain_finance_router)
    app.include_router(stats_router)
    app.include_router(settlement_router)
    install_docs(app)
    install_web(app)
    return app
