"""Service packages (服务包) and mentors (创业导师) from service providers; service needs from SMEs."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, money, timestamp


class ListingStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ServicePackage(SQLModel, table=True):
    __tablename__ = "service_package"
    __table_args__ = (sa.CheckConstraint("value_fen > 0", name="value_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(max_length=48, index=True)
    value_fen: int = money()
    status: ListingStatus = Field(default=ListingStatus.ACTIVE, sa_type=enum_type(ListingStatus))
    created_at: datetime = timestamp()


class Mentor(SQLModel, table=True):
    __tablename__ = "mentor"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=100)
    headline: str = Field(max_length=200)
    bio: str = Field(default="", sa_type=sa.Text)
    expertise: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: ListingStatus = Field(default=ListingStatus.ACTIVE, sa_type=enum_type(ListingStatus))
    created_at: datetime = timestamp()


class NeedStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ServiceNeed(SQLModel, table=True):
    __tablename__ = "service_need"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    category: str = Field(max_length=48, index=True)
    budget_fen: int | None = money(default=None, nullable=True)
    status: NeedStatus = Field(default=NeedStatus.OPEN, sa_type=enum_type(NeedStatus))
    created_at: datetime = timestamp()
