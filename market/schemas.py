"""The marketplace's API models: orders, offers, service packages, mentors, service needs, matches, interest,
intent orders and contracts (responses read from the rows by attribute; money as :data:`qianfan.money.Yuan`).

Money goes out twice and never as a float: integer fen (``budget_fen``) and an exact yuan string
(``budget`` = ``"12500000.00"``).  Datetimes are ISO-8601 in the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from market import service as marketplace
from qianfan import taxonomy
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
    ServiceNeed,
    ServicePackage,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Id, LocalTime, PublicModel, yuan_of

T = TypeVar("T")

# --- marketplace --------------------------------------------------------------------------------------------


class OrderPublic(PublicModel):
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
    budget: Yuan = yuan_of("budget_fen")
    district: str
    deadline: date
    required_qualifications: list[str]
    status: OrderStatus
    version: int = Field(description="版本号，修改时可用 If-Match 校验 / version, checked by If-Match on PATCH")
    created_at: LocalTime
    updated_at: LocalTime
    closed_at: LocalTime | None

    @classmethod
    def from_model(cls, row: Order, organisation_name: str, tz: ZoneInfo) -> OrderPublic:
        return cls.of(
            row, tz, organisation_name=organisation_name, category_label=taxonomy.category_label(row.category)
        )


class OfferPublic(PublicModel):
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
    price_min: Yuan = yuan_of("price_min_fen")
    price_max_fen: Fen
    price_max: Yuan = yuan_of("price_max_fen")
    capacity: int = Field(description="每年可交付的项目（或单位）数 / projects (or units) per year")
    qualifications: list[str]
    keywords: list[str]
    status: OfferStatus
    version: int = Field(description="版本号，修改时可用 If-Match 校验 / version, checked by If-Match on PATCH")
    created_at: LocalTime
    updated_at: LocalTime

    @classmethod
    def from_model(cls, row: Offer, organisation_name: str, tz: ZoneInfo) -> OfferPublic:
        return cls.of(
            row, tz, organisation_name=organisation_name, category_label=taxonomy.category_label(row.category)
        )


# --- service listings ---------------------------------------------------------------------------------------


class ServicePackagePublic(PublicModel):
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
    value: Yuan = yuan_of("value_fen")
    status: ListingStatus
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: ServicePackage, organisation_name: str, tz: ZoneInfo) -> ServicePackagePublic:
        return cls.of(
            row, tz, organisation_name=organisation_name, category_label=taxonomy.category_label(row.category)
        )


class MentorPublic(PublicModel):
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
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: Mentor, organisation_name: str, tz: ZoneInfo) -> MentorPublic:
        return cls.of(row, tz, organisation_name=organisation_name)


class ServiceNeedPublic(PublicModel):
    id: int
    organisation_id: int
    organisation_name: str = Field(description="提出需求的企业 / the SME")
    title: str
    description: str
    category: str
    category_label: str
    budget_fen: Fen | None
    budget: Yuan | None = yuan_of("budget_fen")
    status: NeedStatus
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: ServiceNeed, organisation_name: str, tz: ZoneInfo) -> ServiceNeedPublic:
        return cls.of(
            row, tz, organisation_name=organisation_name, category_label=taxonomy.category_label(row.category)
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


class SharedTermPublic(PublicModel):
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


class InterestPublic(PublicModel):
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
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: Interest, tz: ZoneInfo, viewer_id: int) -> InterestPublic:
        """The record as the organisation ``viewer_id`` reads it."""
        return cls.of(row, tz, note=row.note if marketplace.note_visible_to(row, viewer_id) else None)


class IntentOrderPublic(PublicModel):
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
    amount: Yuan = yuan_of("amount_fen")
    delivery_due: date
    terms: str
    status: IntentStatus
    proposed_by_id: int
    proposed_at: LocalTime
    buyer_signed_at: LocalTime | None
    supplier_signed_at: LocalTime | None
    version: int
    contract_id: int | None = Field(description="双方签署后生成的合同 / the contract, once both have signed")

    @classmethod
    def from_model(
        cls, row: IntentOrder, buyer_name: str, supplier_name: str, contract_id: int | None, tz: ZoneInfo
    ) -> IntentOrderPublic:
        return cls.of(row, tz, buyer_name=buyer_name, supplier_name=supplier_name, contract_id=contract_id)


class ContractPublic(PublicModel):
    id: int
    intent_order_id: int
    buyer_id: int
    buyer_name: str
    supplier_id: int
    supplier_name: str
    title: str
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    delivery_due: date
    status: ContractStatus
    signed_at: LocalTime
    delivered_at: LocalTime | None

    @classmethod
    def from_model(cls, row: Contract, buyer_name: str, supplier_name: str, tz: ZoneInfo) -> ContractPublic:
        return cls.of(row, tz, buyer_name=buyer_name, supplier_name=supplier_name)


class InterestInput(BaseModel):
    """The SME wants to bid for an order with this offer."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"order_id": 7, "note": "可在30天内完成现场勘查"}]}
    )

    order_id: Id
    note: str = Field("", max_length=1000, description="备注 / note")


class DecisionInput(BaseModel):
    """The buyer's decision on an offer for its order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"offer_id": 11, "note": "资质齐全，报价合理", "message_to_supplier": "请于本周内提交详细报价"}
            ]
        },
    )

    offer_id: Id
    note: str = Field(
        "",
        max_length=1000,
        description="内部备注，仅本企业可见，供应商看不到 / internal note, for your organisation only: the supplier "
        "never sees it",
    )
    message_to_supplier: str = Field(
        "", max_length=1000, description="给供应商的留言，供应商可见 / message to the supplier, which it reads"
    )
