"""The base of the API's response models: built from a row by attribute, datetimes shown in the display zone.

``XPublic.of(row, tz, organisation_name=…)`` validates the row's attributes (``from_attributes``), with the
keyword arguments laid over them for what the row does not hold; money fields are :data:`qianfan.money.Yuan`
(fen in, exact yuan string out), datetimes :data:`LocalTime` (converted to ``tz`` from the validation context).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema

from qianfan.clock import to_local
from qianfan.validation import Yuan as YuanAmount

#: Primary keys are 32-bit integers; larger values would only fail inside the database.
MAX_ID = 2**31 - 1
#: An id in a path, query or body: ids stay ``int`` from the request to the ledger.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _in_display_zone(moment: datetime, info: ValidationInfo) -> datetime:
    tz = (info.context or {}).get("tz")
    return to_local(moment, tz) if tz is not None else moment


#: A stored (UTC) datetime shown in the time zone given as ``context={"tz": …}`` (Asia/Shanghai, ``+08:00``).
LocalTime = Annotated[datetime, AfterValidator(_in_display_zone)]


class _Overlay:
    """A row whose attributes are overlaid by keyword values (the names, labels and sums the row does not hold)."""

    __slots__ = ("_extra", "_row")

    def __init__(self, row: object, extra: dict[str, Any]) -> None:
        self._row = row
        self._extra = extra

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "_extra")
        if name in extra:
            return extra[name]
        return getattr(object.__getattribute__(self, "_row"), name)


class PublicModel(BaseModel):
    """A response model read from a row (or any object) by attribute; ``*_fen`` columns feed their yuan twins
    through ``validation_alias``, and keyword construction by field name still works (``populate_by_name``)."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    @classmethod
    def of(cls, row: object, tz: ZoneInfo | None = None, /, **extra: Any) -> Self:
        return cls.model_validate(_Overlay(row, extra) if extra else row, context={"tz": tz})


def yuan_of(fen_field: str, **kwargs: Any) -> Any:
    """The field of a yuan string read from the fen column ``fen_field`` (``amount: Yuan = yuan_of("amount_fen")``)."""
    return Field(validation_alias=fen_field, **kwargs)


def local_or_none(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else to_local(moment, tz)


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused (a misspelt field is a 422, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


#: How an amount in yuan coming in (body or query string) is shown in OpenAPI: a string, never a float.
YuanSchema = WithJsonSchema(
    {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1250000.00"]},
)
#: An amount in yuan coming in: a string (or integer) exact to the fen, parsed once to integer fen.
YuanIn = Annotated[YuanAmount, YuanSchema]
