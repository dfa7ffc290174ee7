"""Input types with bilingual errors, and one function that turns pydantic errors into :class:`InvalidInput`.

Use-case inputs are pydantic models built from these types; :func:`parse_input` validates a mapping and raises
``InvalidInput`` whose ``detail`` lists every bad field with a Chinese and an English message.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from qianfan import taxonomy
from qianfan.creditcode import credit_code_problem, normalise_credit_code
from qianfan.errors import DomainError
from qianfan.errors import InvalidInput as InvalidInputError
from qianfan.money import fen_to_yuan, yuan_to_fen

TITLE_MAX = 200
NAME_MAX = 100
TEXT_MAX = 5000


def bilingual(kind: str, zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError(kind, en, {"zh": zh, "en": en})


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        # NFC so that visually equal strings compare equal; strip outer whitespace.
        return unicodedata.normalize("NFC", value).strip()
    return value


def _bounded(max_len: int, what_zh: str, what_en: str, *, required: bool = True) -> Any:
    def check(value: str) -> str:
        if required and not value:
            raise bilingual("empty", f"{what_zh}不能为空", f"{what_en} must not be empty")
        if len(value) > max_len:
            raise bilingual(
                "too_long",
                f"{what_zh}过长：最多{max_len}个字符，实际{len(value)}个",
                f"{what_en} is too long: at most {max_len} characters, got {len(value)}",
            )
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
            raise bilingual("control_chars", f"{what_zh}含有控制字符", f"{what_en} contains control characters")
        return value

    return check


Title = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_bounded(TITLE_MAX, "标题", "Title"))]
Name = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_bounded(NAME_MAX, "名称", "Name"))]
Description = Annotated[
    str,
    BeforeValidator(_clean_text),
    AfterValidator(_bounded(TEXT_MAX, "描述", "Description", required=False)),
]


def _check_category(value: str) -> str:
    if value not in taxonomy.CATEGORY_BY_CODE:
        raise bilingual("unknown_category", f"未知的类别：{value}", f"Unknown category: {value}")
    return value


def _check_cluster(value: str) -> str:
    if value not in taxonomy.CLUSTER_BY_CODE:
        raise bilingual("unknown_cluster", f"未知的产业集群：{value}", f"Unknown industry cluster: {value}")
    return value


def _check_district(value: str) -> str:
    if value not in taxonomy.DISTRICTS:
        raise bilingual("unknown_district", f"未知的分园：{value}", f"Unknown branch park (district): {value}")
    return value


def _check_qualification(value: str) -> str:
    if value not in taxonomy.QUALIFICATION_BY_CODE:
        raise bilingual("unknown_qualification", f"未知的资质：{value}", f"Unknown qualification: {value}")
    return value


def _check_credit_code(value: str) -> str:
    code = normalise_credit_code(value)
    problem = credit_code_problem(code)
    if problem is not None:
        raise bilingual("credit_code", *problem)
    return code


CategoryCode = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_check_category)]
ClusterCode = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_check_cluster)]
District = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_check_district)]
QualificationCode = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_check_qualification)]
CreditCode = Annotated[str, BeforeValidator(_clean_text), AfterValidator(_check_credit_code)]


def _to_exact_yuan(value: Any) -> Decimal:
    try:
        fen = yuan_to_fen(value)
    except DomainError as exc:
        raise bilingual("invalid_amount", exc.message_zh, exc.message_en) from None
    return fen_to_yuan(fen)


#: A positive amount of RMB yuan, exact to the fen, given as a string, an integer or a Decimal (never float).
Yuan = Annotated[Decimal, BeforeValidator(_to_exact_yuan)]


class Input(BaseModel):
    """Base of use-case inputs: strict about unknown fields, immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# Chinese renderings of pydantic's own error types (English comes from pydantic).
_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_type": "应为带时区的时间",
    "datetime_parsing": "应为带时区的时间",
    "timezone_aware": "时间必须带时区",
    "list_type": "应为列表",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "string_too_long": "文本过长",
    "string_too_short": "文本过短",
    "value_error": "取值无效",
}


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """One entry per problem: ``{"field", "message" (zh), "message_en"}``."""
    return field_errors_from(exc.errors(include_url=False))


def field_errors_from(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The same, from pydantic-style error dicts (FastAPI's RequestValidationError.errors() gives these too)."""
    errors = []
    for err in raw:
        field = ".".join(str(p) for p in err.get("loc", ())) or "__root__"
        ctx = err.get("ctx") or {}
        if "zh" in ctx and "en" in ctx:
            zh, en = str(ctx["zh"]), str(ctx["en"])
        else:
            en = str(err.get("msg", "invalid"))
            zh = _ZH.get(err.get("type", ""), "取值无效")
        errors.append({"field": field, "message": zh, "message_en": en})
    return errors


M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], data: Mapping[str, Any] | M) -> M:
    """Validate ``data`` into ``model`` or raise :class:`InvalidInput` listing every bad field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = field_errors(exc)
        first = details[0]
        raise InvalidInputError(
            f"输入有误（{first['field']}）：{first['message']}",
            f"Invalid input ({first['field']}): {first['message_en']}",
            detail=details,
        ) from None
