"""The finance use cases' typed inputs, which are also the API's request bodies: one model per use case.

The route takes the model as its body and passes it on unchanged; the use case also accepts a mapping (seeds, web
forms, tests) through :func:`qianfan.validation.parse_input`, which returns an already-typed model as it is (no
second validation).  What the HTTP request carries elsewhere (the ``Idempotency-Key`` header) is not part of the
request schema: the route lays it over the body with ``model_copy(update=…)``.

Amounts come in as yuan (a string or an integer, exact to the fen, never a float) and are parsed to integer fen
here, once: :data:`YuanAsFen`.  Ids are ``int`` in 1..:data:`~qianfan.schema_types.MAX_ID`.

This module imports no use case (``finance.service`` imports it), so it sits below both the service and the routes.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from finance.receivables import MAX_INVOICES_PER_RECEIVABLE
from qianfan.errors import DomainError
from qianfan.money import yuan_string, yuan_to_fen
from qianfan.schema_types import Id, YuanSchema
from qianfan.validation import Description, Input, Title, bilingual


def _yuan_as_fen(value: Any) -> int:
    try:
        return yuan_to_fen(value)
    except DomainError as exc:
        raise bilingual("invalid_amount", exc.message_zh, exc.message_en) from None


#: A positive amount given in yuan (a string or an integer, exact to the fen; never a float) and held as integer
#: fen: the one place an incoming amount is parsed.  It is shown (OpenAPI, the idempotency fingerprint) as the
#: exact yuan string it was given as.
YuanAsFen = Annotated[
    int,
    BeforeValidator(_yuan_as_fen),
    PlainSerializer(yuan_string, return_type=str),
    YuanSchema,
]

_RATE_PATTERN = re.compile(r"^\d+(\.\d+)?$")


def _rate(value: Any) -> Any:
    """A rate as a decimal string (or a ``Decimal`` from Python callers); numbers are refused (no float)."""
    if isinstance(value, str) and _RATE_PATTERN.match(value):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    raise bilingual(
        "rate", f'利率须为小数字符串，如 "0.035"：{value!r}', f'A rate is a decimal string such as "0.035": {value!r}'
    )


_RATE_SCHEMA = {
    "type": "string",
    "pattern": _RATE_PATTERN.pattern,
    "description": "年利率（小数，字符串）/ annual rate as a decimal string",
    "examples": ["0.035"],
}
#: An annual rate between 0 and 1, given as a decimal string (``"0.035"``).
AnnualRate = Annotated[Decimal, BeforeValidator(_rate), Field(ge=0, le=1), WithJsonSchema(_RATE_SCHEMA)]

#: The use case's idempotency key: from the ``Idempotency-Key`` header over HTTP (never from the JSON body, and
#: not in the request schema), from the form or the seed otherwise.  Not part of the dump (the request's
#: fingerprint is its body).
UseCaseKey = SkipJsonSchema[str | None]


def _key_field() -> Any:
    return Field(default=None, min_length=1, max_length=64, exclude=True)


# ------------------------------------------------------------------------------------------ applications


class ApplicationInput(Input):
    """An SME's application to finance a receivable part."""

    part_id: Id = Field(description="应收账款份额 / the receivable part to finance")
    bank_id: Id
    product_id: Id | None = None  # the bank's only active product when omitted
    amount: YuanAsFen = Field(description="申请金额（元）/ amount requested (yuan)")
    idempotency_key: UseCaseKey = _key_field()


class ApprovalInput(Input):
    """The bank's approval: the amount (at most the requested one) and the rate (within the legal cap)."""

    amount: YuanAsFen | None = Field(None, description="批准金额（元，默认申请金额）/ amount (default: requested)")
    annual_rate: AnnualRate | None = Field(None, description="年利率（默认LPR+利差）/ rate (default LPR + spread)")
    note: Description = ""


# ------------------------------------------------------------------------------------------ receivables


class ReceivableInput(Input):
    """An SME registers a receivable (an invoice, or a contract's amount) owed by a core enterprise."""

    title: Title = Field(examples=["智慧道路巡检系统 第一期货款"])
    debtor_id: Id | None = Field(
        None, description="债务人（核心企业）；有合同时取合同采购方 / debtor (or the contract's buyer)"
    )
    contract_id: Id | None = Field(None, description="关联合同 / the contract it arises from")
    face: YuanAsFen = Field(description="票面金额（元）/ face amount (yuan)")
    issue_date: date
    due_date: date
    invoice_numbers: list[str] = Field(
        default_factory=list, max_length=MAX_INVOICES_PER_RECEIVABLE, examples=[["INV20261102001"]]
    )


# ------------------------------------------------------------------------------------------ supply-chain finance


class ContractApplicationInput(Input):
    """A supplier's application for a loan on its signed contract."""

    contract_id: Id = Field(description="已签订、尚未交付的合同 / the signed contract, before delivery")
    bank_id: Id
    product_id: Id | None = Field(
        None, description="订单融资产品（银行只有一个时可省略）/ product (optional if only one)"
    )
    amount: YuanAsFen = Field(description="申请金额（元）/ amount requested (yuan)")
    idempotency_key: UseCaseKey = _key_field()


class LineDecisionInput(Input):
    """A bank's decision on the platform's suggested revolving line for an SME."""

    accept: bool = Field(description="接受（设立额度）或拒绝 / accept (set the line) or decline")
    limit: YuanAsFen | None = Field(
        None, description="额度（元，不超过建议额度；默认为建议额度）/ limit in yuan (at most the suggestion; default)"
    )
    note: Description = ""


class DrawdownInput(Input):
    """An SME's drawdown on its active revolving line."""

    line_id: Id = Field(description="循环额度 / the revolving line")
    amount: YuanAsFen = Field(description="提款金额（元）/ amount drawn (yuan)")
    due_on: date = Field(description="还款日（产品期限与额度到期日之内）/ due date (within the tenor and the line)")
    product_id: Id | None = Field(
        None, description="循环额度产品（银行只有一个时可省略）/ product (optional if only one)"
    )
    idempotency_key: UseCaseKey = _key_field()


__all__ = [
    "AnnualRate",
    "ApplicationInput",
    "ApprovalInput",
    "ContractApplicationInput",
    "DrawdownInput",
    "LineDecisionInput",
    "ReceivableInput",
    "UseCaseKey",
    "YuanAsFen",
]
