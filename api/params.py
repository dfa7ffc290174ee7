"""Query- and path-parameter types with bilingual validation errors.  Input checking only, no business rules."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from sqlmodel import col

from qianfan import taxonomy
from qianfan.schema_types import MAX_ID as MAX_ID
from qianfan.schema_types import Id as Id
from qianfan.schema_types import YuanSchema as YuanSchema
from qianfan.validation import bilingual

SEARCH_MAX = 100


def _search_text(value: Any) -> Any:
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            # PostgreSQL refuses NUL in a string outright (a 500 found by the fuzz); no search needs control characters.
            raise bilingual("control_chars", "搜索词含有控制字符", "The search text contains control characters")
        return value or None
    return value


#: Free text to search for (NFC-normalised, trimmed; empty means no filter).
SearchText = Annotated[
    Annotated[str, StringConstraints(max_length=SEARCH_MAX)] | None,
    BeforeValidator(_search_text),
]


def _category_or_cluster(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value not in taxonomy.CATEGORY_BY_CODE and value not in taxonomy.CLUSTER_BY_CODE:
            raise bilingual(
                "unknown_category",
                f"未知的类别或产业集群：{value}",
                f"Unknown category or industry cluster: {value}",
            )
    return value


#: A category code (``ict.cloud``) or a whole cluster (``ict`` matches every ``ict.*`` category).
CategoryFilter = Annotated[
    str,
    BeforeValidator(_category_or_cluster),
    WithJsonSchema(
        {
            "type": "string",
            "description": "类别代码，或产业集群代码（匹配其全部类别）/ category code, or cluster code",
            "examples": ["ict.cloud", "ict"],
        }
    ),
]


def sort_choice(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    """A before-validator refusing any sort key not in ``choices``, listing them in both languages."""

    def check(value: Any) -> Any:
        if value not in choices:
            raise bilingual(
                "invalid_sort",
                f"不支持的排序方式：{value}；可选：{'、'.join(choices)}",
                f"Unsupported sort: {value}; choose one of: {', '.join(choices)}",
            )
        return value

    return check


def sort_schema(choices: tuple[str, ...], default: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(choices), "default": default})


class SortKey:
    """The metadata of a ``sort`` query parameter over the keys of *orders* (see :func:`sort_orders`): a key not
    among them is refused in both languages; OpenAPI shows the keys as an enum with the default."""

    def __init__(self, orders: Mapping[str, Any], default: str) -> None:
        self.choices = tuple(orders)
        self.default = default

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(sort_choice(self.choices), handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.choices), "default": self.default}


def sort_orders(tiebreak: Any, columns: dict[str, Any], keys: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    """The ORDER BY of each sort key: ``"name"`` sorts by ``columns[name]`` ascending, ``"-name"`` descending,
    ties broken by *tiebreak* (the id) in the same direction, so that pages never overlap."""
    orders: dict[str, tuple[Any, ...]] = {}
    for key in keys:
        column, last = col(columns[key.removeprefix("-")]), col(tiebreak)
        orders[key] = (column.desc(), last.desc()) if key.startswith("-") else (column.asc(), last.asc())
    return orders


def not_below(field: str, low_field: str, what_zh: str, low_zh: str, *, earlier: bool = False) -> Any:
    """A validator of *field* refusing a value below the already validated *low_field* (a range's two ends), in
    both languages: ``最高预算（…）不能低于最低预算（…）`` / ``max_budget (…) must not be below min_budget (…)``."""

    def check(value: Any, info: ValidationInfo) -> Any:
        low = info.data.get(low_field)
        if value is not None and low is not None and value < low:
            verb_zh, verb_en = ("早于", "before") if earlier else ("低于", "below")
            raise bilingual(
                "invalid_range",
                f"{what_zh}（{value}）不能{verb_zh}{low_zh}（{low}）",
                f"{field} ({value}) must not be {verb_en} {low_field.rstrip('_')} ({low})",
            )
        return value

    return field_validator(field)(check)
