"""Exact money: integer fen (分) in the database, ``Decimal`` yuan at the edges, never ``float``.

Rounding is explicit: :data:`ROUNDING` (banker's rounding, ROUND_HALF_EVEN) unless a rule states another.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

from qianfan.errors import InvalidInput

ROUNDING = ROUND_HALF_EVEN
FEN_PER_YUAN = 100
ONE_FEN = Decimal("0.01")
#: The largest amount the platform stores in one field: 10^12 yuan (fits a signed 64-bit column easily).
MAX_AMOUNT_FEN = 10**14


def _as_decimal(value: Decimal | str | int) -> Decimal:
    if isinstance(value, bool | float):
        raise InvalidInput(
            "金额必须以字符串或整数给出，不接受浮点数",
            "Amounts must be given as a string or an integer, never as a float",
        )
    try:
        result = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}") from None
    if not result.is_finite():
        raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}")
    return result


def yuan_to_fen(value: Decimal | str | int, *, allow_zero: bool = False) -> int:
    """Convert an amount in yuan to integer fen, refusing sub-fen, negative, zero (unless allowed) and huge."""
    amount = _as_decimal(value)
    if amount < 0:
        raise InvalidInput(f"金额不能为负数：{amount}", f"Amount must not be negative: {amount}")
    if amount == 0 and not allow_zero:
        raise InvalidInput("金额必须大于零", "Amount must be greater than zero")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise InvalidInput(
            f"金额最小单位为分（小数点后最多两位）：{amount}",
            f"Amounts are exact to the fen (at most two decimal places): {amount}",
        )
    result = int(fen)
    if result > MAX_AMOUNT_FEN:
        raise InvalidInput(f"金额超出允许范围：{amount}", f"Amount is out of range: {amount}")
    return result


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen → ``Decimal`` yuan with exactly two places."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(ONE_FEN)


def round_to_fen(amount_fen: Decimal, rounding: str = ROUNDING) -> int:
    """Round an exact fractional fen amount (e.g. computed interest) to whole fen with explicit rounding."""
    return int(amount_fen.quantize(Decimal(1), rounding=rounding))


def format_yuan(fen: int | None) -> str:
    """``123456789`` → ``"¥1,234,567.89"`` for display."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{fen_to_yuan(abs(fen)):,.2f}"


def format_wan(fen: int) -> str:
    """Display in 万元 (10,000 yuan), as Chinese business users read budgets: ``"1,930.00万元"``."""
    return f"{(Decimal(fen) / 1_000_000).quantize(ONE_FEN, rounding=ROUNDING):,.2f}万元"


def require_fen(value: object, what_zh: str, what_en: str, *, allow_zero: bool = False, signed: bool = False) -> int:
    """An amount in integer fen, or a bilingual InvalidInput naming it.

    Floats, ``Decimal`` (possibly sub-fen) and ``bool`` are refused; the amount must be positive (or zero with
    *allow_zero*), unless *signed* (ledger legs), which only refuses anything beyond ±:data:`MAX_AMOUNT_FEN`.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"{what_zh}必须是以分为单位的整数（不接受浮点数或不足一分的金额）：{value!r}",
            f"{what_en} must be an integer number of fen (no floats, no sub-fen amounts): {value!r}",
            detail={"field": what_en, "value": repr(value)},
        )
    if abs(value) > MAX_AMOUNT_FEN:
        raise InvalidInput(
            f"{what_zh}超出允许范围：{value}", f"{what_en} is out of range: {value}", detail={"field": what_en}
        )
    if not signed and (value < 0 or (value == 0 and not allow_zero)):
        bound_zh, bound_en = (
            ("不能为负数", "must not be negative") if allow_zero else ("必须大于零", "must be positive")
        )
        raise InvalidInput(
            f"{what_zh}{bound_zh}：{format_yuan(value)}",
            f"{what_en} {bound_en}: {format_yuan(value)}",
            detail={"field": what_en, "value": value},
        )
    return value


def yuan_string(fen: int) -> str:
    """Integer fen → the exact yuan string the API shows: ``1250000000`` → ``"12500000.00"``."""
    return format(fen_to_yuan(fen), "f")


#: The public money type: integer fen inside, the exact yuan string outside (JSON and OpenAPI).  A response model
#: declares ``amount: Yuan = Field(validation_alias="amount_fen")`` beside ``amount_fen: Fen`` and is built from
#: the row by attribute; this is the one place an amount becomes a yuan string.
Yuan = Annotated[
    int,
    PlainSerializer(yuan_string, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "金额（元，精确到分，字符串）/ amount in yuan, exact to the fen, as a string",
            "examples": ["12500000.00"],
        }
    ),
]
#: An amount in integer fen, as the API shows it beside its :data:`Yuan` twin.
Fen = Annotated[int, Field(description="金额（分，整数）/ amount in fen (integer)", examples=[1250000000])]
