"""Organisations (large firms, SMEs, service providers, banks, the programme office), their qualifications
and their users."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, timestamp


class OrgKind(StrEnum):
    LARGE_FIRM = "large_firm"
    SME = "sme"
    SERVICE_PROVIDER = "service_provider"
    BANK = "bank"
    PROGRAMME_OFFICE = "programme_office"

    @property
    def label_zh(self) -> str:
        return _ORG_KIND_ZH[self]

    @property
    def label_en(self) -> str:
        return _ORG_KIND_EN[self]


_ORG_KIND_ZH = {
    OrgKind.LARGE_FIRM: "大企业",
    OrgKind.SME: "中小微企业",
    OrgKind.SERVICE_PROVIDER: "服务机构/孵化器",
    OrgKind.BANK: "银行",
    OrgKind.PROGRAMME_OFFICE: "管委会",
}

_ORG_KIND_EN = {
    OrgKind.LARGE_FIRM: "Large firm",
    OrgKind.SME: "SME",
    OrgKind.SERVICE_PROVIDER: "Service provider / incubator",
    OrgKind.BANK: "Bank",
    OrgKind.PROGRAMME_OFFICE: "Programme office",
}


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    kind: OrgKind = Field(sa_type=enum_type(OrgKind), index=True)
    name: str = Field(max_length=100, unique=True)
    name_en: str | None = Field(default=None, max_length=200)
    credit_code: str = Field(max_length=18, unique=True)
    district: str = Field(max_length=32, index=True)
    cluster: str | None = Field(default=None, max_length=32, index=True)
    description: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp()


class Qualification(SQLModel, table=True):
    """A qualification an organisation holds (国家高新技术企业, 专精特新, ISO …), valid until a date."""

    __tablename__ = "qualification"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=32, index=True)
    certificate_no: str | None = Field(default=None, max_length=64)
    valid_until: date | None = Field(default=None)

    def is_valid_on(self, day: date) -> bool:
        return self.valid_until is None or self.valid_until >= day


class UserRole(StrEnum):
    ADMIN = "admin"  # manages the organisation's users and data
    MEMBER = "member"  # day-to-day work
    REVIEWER = "reviewer"  # bank: reviews finance applications
    APPROVER = "approver"  # bank: second approver above the four-eyes threshold


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=200)
    role: UserRole = Field(sa_type=enum_type(UserRole))
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp()
    last_login_at: datetime | None = timestamp(nullable=True)
