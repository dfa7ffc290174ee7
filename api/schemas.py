"""The API's generic models: errors, pages of a list, health and reference data.

The models of each resource live in its domain (``market.schemas``, ``finance.schemas``, ``accounts.schemas``); money
is :data:`qianfan.money.Yuan` (integer fen in, exact yuan string out) there.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ErrorPublic(BaseModel):
    """Every error response has this shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "not_found",
                    "message": "订单不存在：42",
                    "message_en": "Order not found: 42",
                    "detail": None,
                },
                {
                    "error": "invalid_input",
                    "message": "请求参数有误（limit）：数值过小",
                    "message_en": "Invalid request parameter (limit): Input should be greater than or equal to 1",
                    "detail": [
                        {
                            "field": "limit",
                            "message": "数值过小",
                            "message_en": "Input should be greater than or equal to 1",
                        }
                    ],
                },
            ]
        }
    )

    error: str = Field(description="机器可读的错误代码 / machine-readable error code")
    message: str = Field(description="中文说明 / message in Chinese")
    message_en: str = Field(description="English message")
    detail: Any = Field(None, description="补充信息，如逐字段错误 / more detail, e.g. one entry per field")


#: Error responses documented on every resource route.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "不存在 / Not found"},
    422: {"model": ErrorPublic, "description": "请求参数有误 / Invalid request parameters"},
    500: {"model": ErrorPublic, "description": "服务器内部错误 / Internal server error"},
}

#: Errors of every route that needs a logged-in user.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorPublic, "description": "未登录或令牌无效 / Not logged in or invalid token"},
    403: {"model": ErrorPublic, "description": "无权执行此操作 / Not allowed for this organisation or role"},
    409: {"model": ErrorPublic, "description": "与当前状态冲突 / Conflicts with the current state"},
    413: {"model": ErrorPublic, "description": "请求内容过大 / Request payload too large"},
}


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="符合条件的总条数 / number of matching items", examples=[57])
    limit: int = Field(examples=[20])
    offset: int = Field(examples=[0])


class HealthPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "database": "ok", "schema": "up_to_date", "version": "0.1.0"}]}
    )

    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    # ``schema`` would shadow a BaseModel attribute; the JSON key is still "schema".
    schema_state: Literal["up_to_date", "behind", "unknown"] = Field(alias="schema")
    version: str


# --- reference data -----------------------------------------------------------------------------------------


class CategoryPublic(BaseModel):
    code: str = Field(examples=["ict.cloud"])
    name: str = Field(examples=["云计算与云平台"])
    name_en: str = Field(examples=["Cloud computing and platforms"])
    keywords: list[str]


class ClusterPublic(BaseModel):
    code: str = Field(examples=["ict"])
    name: str = Field(examples=["新一代信息技术"])
    name_en: str = Field(examples=["Next-generation information technology"])
    categories: list[CategoryPublic]


class LabelPublic(BaseModel):
    code: str
    name: str
    name_en: str


class TaxonomyPublic(BaseModel):
    clusters: list[ClusterPublic]
    districts: list[str] = Field(examples=[["海淀园", "昌平园"]])
    qualifications: list[LabelPublic]
    organisation_kinds: list[LabelPublic]
