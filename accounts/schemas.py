"""The API models of organisations and their qualifications (read from the rows by attribute), and of logging in:
the token pair and the logged-in user."""

from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from qianfan import taxonomy
from qianfan.models import Organisation, OrgKind, Qualification, UserRole
from qianfan.schema_types import LocalTime, PublicModel


class QualificationPublic(PublicModel):
    code: str = Field(examples=["hnte"])
    name: str = Field(examples=["国家高新技术企业"])
    name_en: str = Field(examples=["National high-tech enterprise"])
    certificate_no: str | None = Field(examples=["GR202411001234"])
    valid_until: date | None = Field(description="有效期至（空为长期有效）/ valid until (empty: no expiry)")
    valid: bool = Field(description="按北京时间今日是否有效 / valid today (Beijing time)")

    @classmethod
    def from_model(cls, row: Qualification, today: date) -> QualificationPublic:
        kind = taxonomy.QUALIFICATION_BY_CODE.get(row.code)
        return cls.of(
            row,
            name=kind.name_zh if kind else row.code,
            name_en=kind.name_en if kind else row.code,
            valid=row.is_valid_on(today),
        )


class OrganisationPublic(PublicModel):
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
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: Organisation, tz: ZoneInfo) -> OrganisationPublic:
        return cls.of(row, tz, **_labels(row))


class OrganisationDetail(OrganisationPublic):
    qualifications: list[QualificationPublic]

    @classmethod
    def from_rows(
        cls, row: Organisation, qualifications: list[Qualification], tz: ZoneInfo, today: date
    ) -> OrganisationDetail:
        return cls.of(
            row, tz, **_labels(row), qualifications=[QualificationPublic.from_model(q, today) for q in qualifications]
        )


def _labels(row: Organisation) -> dict[str, str | None]:
    cluster = taxonomy.CLUSTER_BY_CODE.get(row.cluster) if row.cluster else None
    return {"kind_label": OrgKind(row.kind).label_zh, "cluster_name": cluster.name_zh if cluster else None}


class TokenPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "qf_2yQ…",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "qf_Hk9…",
                    "refresh_expires_in": 604800,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="访问令牌有效秒数 / seconds the access token is valid")
    refresh_token: str
    refresh_expires_in: int = Field(description="刷新令牌有效秒数 / seconds the refresh token is valid")


class MePublic(PublicModel):
    id: int
    username: str
    display_name: str
    email: str | None
    role: UserRole
    organisation: OrganisationPublic
    kind: OrgKind = Field(description="所属机构类型 / kind of the user's organisation")
    last_login_at: LocalTime | None
