"""授权查询 (issue 16, item 4): an SME lets a bank read its platform record and suggested line, and takes it back.

- ``GET /api/v1/record-access``: the SME's grants (live and revoked), the banks that read its record because it
  applied to them (not revocable), and the banks it may still grant.
- ``POST /api/v1/record-access`` ``{"bank_id": …}``: grant (idempotent: a live grant is returned as it is).
- ``POST /api/v1/record-access/{bank_id}/revoke``: revoke the live grant (404 when there is none).

Granting and revoking need the SME's administrator; each is an event in the audit chain.  The rule of who may read
a record lives in :mod:`finance.service.record_access`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from api.auth import SmeDep
from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.params import MAX_ID
from api.schemas import AUTH_RESPONSES
from finance import service as fs
from finance.record_access import Grounds, GroundsKind
from qianfan.clock import to_local
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/api/v1/record-access", tags=["finance"], responses=AUTH_RESPONSES)

BankId = Annotated[int, Path(ge=1, le=MAX_ID, description="银行机构编号 / bank organisation id")]


class GroundsPublic(BaseModel):
    """Why a bank may read an SME's record, and since when."""

    kind: GroundsKind = Field(description="applied 企业曾向本行申请融资 / granted 企业授权本行查询")
    since: datetime = Field(description="首次申请或授权时间 / the first application, or the grant")
    text_zh: str
    text_en: str

    @classmethod
    def of(cls, grounds: Grounds, tz: ZoneInfo) -> GroundsPublic:
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
    def of(cls, view: fs.GrantView, tz: ZoneInfo) -> RecordAccessPublic:
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


@router.get(
    "",
    response_model=RecordReadersPublic,
    summary="查询授权 / Who may read the SME's platform record",
)
def list_record_access(principal: SmeDep, session: SessionDep, settings: SettingsDep) -> RecordReadersPublic:
    readers = fs.record_readers(session, principal.actor)
    return RecordReadersPublic(
        grants=[RecordAccessPublic.of(g, settings.tz) for g in readers.grants],
        applied=[
            AppliedBankPublic(bank_id=a.bank_id, bank_name=a.bank_name, since=to_local(a.since, settings.tz))
            for a in readers.applied
        ],
        grantable=[BankPublic(id=i, name=n) for i, n in readers.grantable],
    )


@router.post(
    "",
    response_model=RecordAccessPublic,
    summary="授权银行查询本企业平台记录 / Grant a bank access to the SME's platform record",
    description="授权后，该银行可查看本企业的平台交易记录与建议授信额度，直至撤销。仅限企业管理员；幂等。\n\n"
    "Once granted, the bank may read the SME's platform record and suggested credit line until the grant is "
    "revoked.  The SME's administrator only; idempotent.",
    responses={404: {"description": "银行不存在 / no such bank"}},
)
def grant_record_access(
    body: GrantBody, principal: SmeDep, engine: EngineDep, clock: ClockDep, settings: SettingsDep, session: SessionDep
) -> RecordAccessPublic:
    row = fs.grant_record_access(UnitOfWork(engine, clock), principal.actor, body.bank_id)
    return RecordAccessPublic.of(fs.grant_view(session, row), settings.tz)


@router.post(
    "/{bank_id}/revoke",
    response_model=RecordAccessPublic,
    summary="撤销银行的查询授权 / Revoke a bank's access to the SME's platform record",
    description="撤销后，除非本企业曾向该行申请融资，该行不再能查看本企业的平台记录。仅限企业管理员。\n\n"
    "After revocation the bank no longer reads the SME's record, unless the SME applied to it.  The SME's "
    "administrator only.",
    responses={404: {"description": "该银行没有有效授权 / the bank holds no live grant"}},
)
def revoke_record_access(
    bank_id: BankId, principal: SmeDep, engine: EngineDep, clock: ClockDep, settings: SettingsDep, session: SessionDep
) -> RecordAccessPublic:
    row = fs.revoke_record_access(UnitOfWork(engine, clock), principal.actor, bank_id)
    return RecordAccessPublic.of(fs.grant_view(session, row), settings.tz)
