"""The marketplace: large firms' orders (procurement or investment / M&A needs) and SMEs' offers."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, money, timestamp


class OrderKind(StrEnum):
    PROCUREMENT = "procurement"  # 采购订单
    INVESTMENT = "investment"  # 投资需求
    MERGER = "merger"  # 并购需求


class OrderStatus(StrEnum):
    OPEN = "open"
    AWARDED = "awarded"  # an intent order was signed on it
    CLOSED = "closed"


class Order(SQLModel, table=True):
    """A large firm's need.  (Table ``demand_order``: ``order`` is an SQL keyword.)"""

    __tablename__ = "demand_order"
    __table_args__ = (sa.CheckConstraint("budget_fen > 0", name="budget_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: OrderKind = Field(sa_type=enum_type(OrderKind))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(max_length=48, index=True)
    budget_fen: int = money()
    district: str = Field(max_length=32, index=True)
    deadline: date
    required_qualifications: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: OrderStatus = Field(default=OrderStatus.OPEN, sa_type=enum_type(OrderStatus), index=True)
    version: int = Field(default=1)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    closed_at: datetime | None = timestamp(nullable=True)


class OfferKind(StrEnum):
    PRODUCT = "product"
    TECHNOLOGY = "technology"
    SERVICE = "service"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Offer(SQLModel, table=True):
    """An SME's product, technology or service."""

    __tablename__ = "offer"
    __table_args__ = (
        sa.CheckConstraint("price_min_fen > 0 AND price_max_fen >= price_min_fen", name="price_range"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: OfferKind = Field(sa_type=enum_type(OfferKind))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(max_length=48, index=True)
    price_min_fen: int = money()
    price_max_fen: int = money()
    capacity: int = Field(description="projects (or units) the SME can deliver per year")
    qualifications: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: OfferStatus = Field(default=OfferStatus.ACTIVE, sa_type=enum_type(OfferStatus), index=True)
    version: int = Field(default=1)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
