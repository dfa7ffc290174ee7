"""The API models of consent for a bank to read an SME's platform record (授权查询): grants, grounds, readers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from finance import service as fs
from finance.record_access import Grounds, GroundsKind
from qianfan.clock import to_local
from qianfan.schema_types import MAX_ID


class GroundsPublic(BaseModel):
    """Why a bank may read an SME's record, and since when."""

    kind: GroundsKind = Field(description="applied 企业曾向本行申请融资 / granted 企业授权本行查询")
    since: datetime = Field(description="首次申请或授权时间 / the first application, or the grant")
    text_zh: str
    text_en: str

    @classmethod
    def build(cls, grounds: Grounds, tz: ZoneInfo) -> GroundsPublic:
        zh, en = grounds.text(tz)
        return cls(kind=grounds.kind, since=to_local(grounds.since, tz), text_zh=zh, text_en=en)


class RecordAccessPublic(BaseModel):
    id: int
    bank_id: int
    bank_name: str
    granted_at: datetime
    granted_by_user_id: int
    granted_by: str = Field("", description="授权人 / who granted it")
    revoked_at: datetime | None
    revoked_by_user_id: int | None
    revoked_by: str | None = Field(None, description="撤销人 / who revoked it")
    live: bool = Field(description="授权仍有效 / the grant is in force")

    @classmethod
    def build(cls, view: fs.GrantView, tz: ZoneInfo) -> RecordAccessPublic:
        row = view.grant
        assert row.id is not None
        return cls(
            id=row.id,
            bank_id=row.bank_id,
            bank_name=view.bank_name,
            granted_at=to_local(row.granted_at, tz),
            granted_by_user_id=row.granted_by_user_id,
            granted_by=view.granted_by,
            revoked_at=None if row.revoked_at is None else to_local(row.revoked_at, tz),
            revoked_by_user_id=row.revoked_by_user_id,
            revoked_by=view.revoked_by,
            live=row.revoked_at is None,
        )


class AppliedBankPublic(BaseModel):
    bank_id: int
    bank_name: str
    since: datetime = Field(description="首次向该行申请的时间 / the SME's first application to the bank")


class BankPublic(BaseModel):
    id: int
    name: str


class RecordReadersPublic(BaseModel):
    grants: list[RecordAccessPublic] = Field(description="授权记录（含已撤销）/ grants, revoked ones included")
    applied: list[AppliedBankPublic] = Field(
        description="因曾申请融资而可查询的银行（不可撤销）/ banks that read the record because the SME applied to them"
    )
    grantable: list[BankPublic] = Field(description="可授权的银行 / banks the SME may grant")


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"bank_id": 5}]})

    bank_id: int = Field(ge=1, le=MAX_ID, description="获授权的银行 / the bank granted access")
