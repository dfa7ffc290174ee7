"""Public response models (what the API shows; never the tables themselves).

Money goes out twice and never as a float: integer fen (``budget_fen``) and an exact yuan string
(``budget`` = ``"12500000.00"``).  Datetimes are ISO-8601 in the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from market import service as marketplace
from qianfan import taxonomy
from qianfan.clock import to_local
from qianfan.models import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    ListingStatus,
    Mentor,
    NeedStatus,
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderKind,
    OrderStatus,
    Organisation,
    OrgKind,
    Qualification,
    ServiceNeed,
    ServicePackage,
)
from qianfan.money import fen_to_yuan

T = TypeVar("T")

YuanString = Annotated[
    str,
    Field(
        pattern=r"^-?\d+\.\d{2}$",
        description="金额（元，精确到分，字符串）/ amount in yuan, exact to the fen, as a string",
        examples=["12500000.00"],
    ),
]
Fen = Annotated[int, Field(description="金额（分，整数）/ amount in fen (integer)", examples=[1250000000])]


def yuan_string(fen: int) -> str:
    return format(fen_to_yuan(fen), "f")


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else to_local(moment, tz)


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


# --- organisations ------------------------------------------------------------------------------------------


class QualificationPublic(BaseModel):
    code: str = Field(examples=["hnte"])
    name: str = Field(examples=["国家高新技术企业"])
    name_en: str = Field(examples=["National high-tech enterprise"])
    certificate_no: str | None = Field(examples=["GR202411001234"])
    valid_until: date | None = Field(description="有效期至（空为长期有效）/ valid until (empty: no expiry)")
    valid: bool = Field(description="按北京时间今日是否有效 / valid today (Beijing time)")

    @classmethod
    def from_model(cls, row: Qualification, today: date) -> QualificationPublic:
        kind = taxonomy.QUALIFICATION_BY_CODE.get(row.code)
        return cls(
            code=row.code,
            name=kind.name_zh if kind else row.code,
            name_en=kind.name_en if kind else row.code,
            certificate_no=row.certificate_no,
            valid_until=row.valid_until,
            valid=row.is_valid_on(today),
        )


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "kind": "sme",
                    "kind_label": "中小微企业",
                    "name": "北京云图智联科技有限公司",
                    "name_en": "Beijing Yuntu Zhilian Technology Co., Ltd.",
                    "credit_code": "91110108MA01ABCD1X",
                    "district": "海淀园",
                    "cluster": "ict",
                    "cluster_name": "新一代信息技术",
                    "description": "工业互联网平台与设备上云服务",
                    "created_at": "2026-11-02T09:30:00+08:00",
                }
            ]
        }
    )

    id: int
    kind: OrgKind
    kind_label: str
    name: str
    name_en: str | None
    credit_code: str = Field(description="统一社会信用代码 / unified social credit code")
    district: str = Field(description="所在分园 / branch park")
    cluster: str | None
    cluster_name: str | None
    description: str
    created_at: datetime

    @classmethod
    def fields_from(cls, row: Organisation, tz: ZoneInfo) -> dict[str, Any]:
        assert row.id is not None
        cluster = taxonomy.CLUSTER_BY_CODE.get(row.cluster) if row.cluster else None
        return {
            "id": row.id,
            "kind": row.kind,
            "kind_label": OrgKind(row.kind).label_zh,
            "name": row.name,
            "name_en": row.name_en,
            "credit_code": row.credit_code,
            "district": row.district,
            "cluster": row.cluster,
            "cluster_name": cluster.name_zh if cluster else None,
            "description": row.description,
            "created_at": _local(row.created_at, tz),
        }

    @classmethod
    def from_model(cls, row: Organisation, tz: ZoneInfo) -> OrganisationPublic:
        return cls(**cls.fields_from(row, tz))


class OrganisationDetail(OrganisationPublic):
    qualifications: list[QualificationPublic]

    @classmethod
    def from_rows(
        cls, row: Organisation, qualifications: list[Qualification], tz: ZoneInfo, today: date
    ) -> OrganisationDetail:
        return cls(
            **cls.fields_from(row, tz),
            qualifications=[QualificationPublic.from_model(q, today) for q in qualifications],
        )


# --- marketplace --------------------------------------------------------------------------------------------


class OrderPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "organisation_id": 2,
                    "organisation_name": "北京京能集团有限责任公司",
                    "kind": "procurement",
                    "title": "园区楼宇中央空调节能改造",
                    "description": "对12栋办公楼的中央空调系统进行节能改造，采用合同能源管理模式。",
                    "category": "green.hvac",
                    "category_label": "绿色能源与节能环保 / 建筑与暖通节能",
                    "budget_fen": 1250000000,
                    "budget": "12500000.00",
                    "district": "海淀园",
                    "deadline": "2026-12-31",
                    "required_qualifications": ["hnte", "emc"],
                    "status": "open",
                    "version": 1,
                    "created_at": "2026-11-02T09:30:00+08:00",
                    "updated_at": "2026-11-02T09:30:00+08:00",
                    "closed_at": None,
                }
            ]
        }
    )

    id: int
    organisation_id: int
    organisation_name: str = Field(description="发布订单的企业 / the buyer")
    kind: OrderKind
    title: str
    description: str
    category: str
    category_label: str
    budget_fen: Fen
    budget: YuanString
    district: str
    deadline: date
    required_qualifications: list[str]
    status: OrderStatus
    version: int = Field(description="版本号，修改时可用 If-Match 校验 / version, checked by If-Match on PATCH")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_model(cls, row: Order, organisation_name: str, tz: ZoneInfo) -> OrderPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            organisation_id=row.organisation_id,
            organisation_name=organisation_name,
            kind=row.kind,
            title=row.title,
            description=row.description,
            category=row.category,
            category_label=taxonomy.category_label(row.category),
            budget_fen=row.budget_fen,
            budget=yuan_string(row.budget_fen),
            district=row.district,
            deadline=row.deadline,
            required_qualifications=list(row.required_qualifications),
            status=row.status,
            version=row.version,
            created_at=to_local(row.created_at, tz),
            updated_at=to_local(row.updated_at, tz),
            closed_at=_local(row.closed_at, tz),
        )


class OfferPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 11,
                    "organisation_id": 5,
                    "organisation_name": "北京绿能智控科技有限公司",
                    "kind": "service",
                    "title": "中央空调AI节能控制系统",
                    "description": "基于负荷预测的冷站群控，节能率15%–30%。",
                    "category": "green.hvac",
                    "category_label": "绿色能源与节能环保 / 建筑与暖通节能",
                    "price_min_fen": 50000000,
                    "price_min": "500000.00",
                    "price_max_fen": 1500000000,
                    "price_max": "15000000.00",
                    "capacity": 12,
                    "qualifications": ["hnte", "emc"],
                    "keywords": ["中央空调", "合同能源管理"],
                    "status": "active",
                    "version": 1,
                    "created_at": "2026-11-02T09:30:00+08:00",
                    "updated_at": "2026-11-02T09:30:00+08:00",
                }
            ]
        }
    )

    id: int
    organisation_id: int
    organisation_name: str = Field(description="提供方企业 / the seller")
    kind: OfferKind
    title: str
    description: str
    category: str
    category_label: str
    price_min_fen: Fen
    price_min: YuanString
    price_max_fen: Fen
    price_max: YuanString
    capacity: int = Field(description="每年可交付的项目（或单位）数 / projects (or units) per year")
    qualifications: list[str]
    keywords: list[str]
    status: OfferStatus
    version: int = Field(description="版本号，修改时可用 If-Match 校验 / version, checked by If-Match on PATCH")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: Offer, organisation_name: str, tz: ZoneInfo) -> OfferPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            organisation_id=row.organisation_id,
            organisation_name=organisation_name,
            kind=row.kind,
            title=row.title,
            description=row.description,
            category=row.category,
            category_label=taxonomy.category_label(row.category),
            price_min_fen=row.price_min_fen,
            price_min=yuan_string(row.price_min_fen),
            price_max_fen=row.price_max_fen,
            price_max=yuan_string(row.price_max_fen),
            capacity=row.capacity,
            qualifications=list(row.qualifications),
            keywords=list(row.keywords),
            status=row.status,
            version=row.version,
            created_at=to_local(row.created_at, tz),
            updated_at=to_local(row.updated_at, tz),
        )


# --- service listings ---------------------------------------------------------------------------------------


class ServicePackagePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "organisation_id": 9,
                    "organisation_name": "北京启航硬科技孵化器有限公司",
                    "title": "硬科技初创企业融资辅导服务包",
                    "description": "BP打磨、路演辅导与投资人对接。",
                    "category": "services.incubation",
                    "category_label": "科技服务 / 孵化加速",
                    "value_fen": 5000000,
                    "value": "50000.00",
                    "status": "active",
                    "created_at": "2026-11-02T09:30:00+08:00",
                }
            ]
        }
    )

    id: int
    organisation_id: int
    organisation_name: str = Field(description="服务机构 / the service provider")
    title: str
    description: str
    category: str
    category_label: str
    value_fen: Fen
    value: YuanString
    status: ListingStatus
    created_at: datetime

    @classmethod
    def from_model(cls, row: ServicePackage, organisation_name: str, tz: ZoneInfo) -> ServicePackagePublic:
        assert row.id is not None
        return cls(
            id=row.id,
            organisation_id=row.organisation_id,
            organisation_name=organisation_name,
            title=row.title,
            description=row.description,
            category=row.category,
            category_label=taxonomy.category_label(row.category),
            value_fen=row.value_fen,
            value=yuan_string(row.value_fen),
            status=row.status,
            created_at=to_local(row.created_at, tz),
        )


class MentorPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "organisation_id": 9,
                    "organisation_name": "北京启航硬科技孵化器有限公司",
                    "name": "王立新",
                    "headline": "连续创业者，专注工业互联网",
                    "bio": "",
                    "expertise": ["ict.iiot", "services.incubation"],
                    "status": "active",
                    "created_at": "2026-11-02T09:30:00+08:00",
                }
            ]
        }
    )

    id: int
    organisation_id: int
    organisation_name: str = Field(description="所属服务机构 / the service provider")
    name: str
    headline: str
    bio: str
    expertise: list[str] = Field(description="擅长领域（类别代码）/ expertise (category codes)")
    status: ListingStatus
    created_at: datetime

    @classmethod
    def from_model(cls, row: Mentor, organisation_name: str, tz: ZoneInfo) -> MentorPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            organisation_id=row.organisation_id,
            organisation_name=organisation_name,
            name=row.name,
            headline=row.headline,
            bio=row.bio,
            expertise=list(row.expertise),
            status=row.status,
            created_at=to_local(row.created_at, tz),
        )


class ServiceNeedPublic(BaseModel):
    id: int
    organisation_id: int
    organisation_name: str = Field(description="提出需求的企业 / the SME")
    title: str
    description: str
    category: str
    category_label: str
    budget_fen: Fen | None
    budget: YuanString | None
    status: NeedStatus
    created_at: datetime

    @classmethod
    def from_model(cls, row: ServiceNeed, organisation_name: str, tz: ZoneInfo) -> ServiceNeedPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            organisation_id=row.organisation_id,
            organisation_name=organisation_name,
            title=row.title,
            description=row.description,
            category=row.category,
            category_label=taxonomy.category_label(row.category),
            budget_fen=row.budget_fen,
            budget=None if row.budget_fen is None else yuan_string(row.budget_fen),
            status=row.status,
            created_at=to_local(row.created_at, tz),
        )


# --- matches ------------------------------------------------------------------------------------------------

#: Scores are decimal strings with 4 places: like money, nothing crosses JSON as a float.
ScoreString = Annotated[
    str,
    Field(
        pattern=r"^-?\d+\.\d{4}$",
        description="得分（4位小数的字符串）/ score as a 4-decimal string",
        examples=["0.7312"],
    ),
]


def score_string(value: float) -> str:
    return f"{value:.4f}"


class SharedTermPublic(BaseModel):
    term: str = Field(examples=["中央空调"])
    contribution: ScoreString


class RankedPublic(BaseModel, Generic[T]):
    """One ranked result with its explanation (why it ranks here)."""

    rank: int = Field(description="名次（从1开始）/ rank, from 1", examples=[1])
    score: ScoreString
    contributions: dict[str, ScoreString] = Field(
        description="各因素贡献 / contribution of each feature", examples=[{"text": "0.5120", "category": "0.2000"}]
    )
    shared_terms: list[SharedTermPublic]
    why: str = Field(description="排名理由 / why it ranks here")
    folded: list[int] = Field(description="合并的同一机构近似条目 / near-duplicates of the same owner folded in")
    item: T


# --- deals --------------------------------------------------------------------------------------------------


class InterestPublic(BaseModel):
    """An interest, shortlist or rule-out.  ``note`` is private to the organisation that wrote it (null for anyone
    else: a buyer's note never reaches the supplier); ``message_to_supplier`` is the buyer's message the supplier
    reads."""

    id: int
    order_id: int
    offer_id: int
    kind: InterestKind = Field(description="interest 意向 / shortlist 入围 / rejection 淘汰")
    organisation_id: int
    note: str | None = Field(
        description="内部备注，仅记录方可见（供应商看不到采购方的备注）/ internal note, visible only to the "
        "organisation that wrote it (null for anyone else)"
    )
    message_to_supplier: str = Field(description="给供应商的留言 / the buyer's message to the supplier")
    created_at: datetime

    @classmethod
    def from_model(cls, row: Interest, tz: ZoneInfo, viewer_id: int) -> InterestPublic:
        """The record as the organisation ``viewer_id`` reads it."""
        assert row.id is not None
        return cls(
            id=row.id,
            order_id=row.order_id,
            offer_id=row.offer_id,
            kind=row.kind,
            organisation_id=row.organisation_id,
            note=row.note if marketplace.note_visible_to(row, viewer_id) else None,
            message_to_supplier=row.message_to_supplier,
            created_at=to_local(row.created_at, tz),
        )


class IntentOrderPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "order_id": 7,
                    "offer_id": 11,
                    "buyer_id": 2,
                    "buyer_name": "北京京能集团有限责任公司",
                    "supplier_id": 5,
                    "supplier_name": "北京绿能智控科技有限公司",
                    "title": "园区楼宇中央空调节能改造",
                    "amount_fen": 980000000,
                    "amount": "9800000.00",
                    "delivery_due": "2027-06-30",
                    "terms": "分三期交付",
                    "status": "proposed",
                    "proposed_by_id": 2,
                    "proposed_at": "2026-11-20T10:00:00+08:00",
                    "buyer_signed_at": "2026-11-20T10:00:00+08:00",
                    "supplier_signed_at": None,
                    "version": 1,
                    "contract_id": None,
                }
            ]
        }
    )

    id: int
    order_id: int
    offer_id: int
    buyer_id: int
    buyer_name: str
    supplier_id: int
    supplier_name: str
    title: str
    amount_fen: Fen
    amount: YuanString
    delivery_due: date
    terms: str
    status: IntentStatus
    proposed_by_id: int
    proposed_at: datetime
    buyer_signed_at: datetime | None
    supplier_signed_at: datetime | None
    version: int
    contract_id: int | None = Field(description="双方签署后生成的合同 / the contract, once both have signed")

    @classmethod
    def from_model(
        cls, row: IntentOrder, buyer_name: str, supplier_name: str, contract_id: int | None, tz: ZoneInfo
    ) -> IntentOrderPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            order_id=row.order_id,
            offer_id=row.offer_id,
            buyer_id=row.buyer_id,
            buyer_name=buyer_name,
            supplier_id=row.supplier_id,
            supplier_name=supplier_name,
            title=row.title,
            amount_fen=row.amount_fen,
            amount=yuan_string(row.amount_fen),
            delivery_due=row.delivery_due,
            terms=row.terms,
            status=row.status,
            proposed_by_id=row.proposed_by_id,
            proposed_at=to_local(row.proposed_at, tz),
            buyer_signed_at=_local(row.buyer_signed_at, tz),
            supplier_signed_at=_local(row.supplier_signed_at, tz),
            version=row.version,
            contract_id=contract_id,
        )


class ContractPublic(BaseModel):
    id: int
    intent_order_id: int
    buyer_id: int
    buyer_name: str
    supplier_id: int
    supplier_name: str
    title: str
    amount_fen: Fen
    amount: YuanString
    delivery_due: date
    status: ContractStatus
    signed_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_model(cls, row: Contract, buyer_name: str, supplier_name: str, tz: ZoneInfo) -> ContractPublic:
        assert row.id is not None
        return cls(
            id=row.id,
            intent_order_id=row.intent_order_id,
            buyer_id=row.buyer_id,
            buyer_name=buyer_name,
            supplier_id=row.supplier_id,
            supplier_name=supplier_name,
            title=row.title,
            amount_fen=row.amount_fen,
            amount=yuan_string(row.amount_fen),
            delivery_due=row.delivery_due,
            status=row.status,
            signed_at=to_local(row.signed_at, tz),
            delivered_at=_local(row.delivered_at, tz),
        )


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
