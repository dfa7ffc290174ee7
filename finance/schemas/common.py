"""What the finance API models share: rates as decimal strings, durations in whole seconds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field

RateString = Annotated[
    str,
    Field(
        pattern=r"^\d+(\.\d+)?$",
        description="年利率（小数，字符串）/ annual rate as a decimal string",
        examples=["0.035"],
    ),
]


def seconds(delta: timedelta) -> int:
    return delta // timedelta(seconds=1)


def rate_string(value: Decimal | None) -> str | None:
    """A rate as a decimal string without trailing zeros (the same on every database: ``"0.85"``, ``"0.035"``)."""
    return None if value is None else format(Decimal(value).normalize(), "f")
