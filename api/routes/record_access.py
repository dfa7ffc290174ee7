"""授权查询 (issue 16, item 4): an SME lets a bank read its platform record and suggested line, and takes it back.

- ``GET /api/v1/record-access``: the SME's grants (live and revoked), the banks that read its record because it
  applied to them (not revocable), and the banks it may still grant.
- ``POST /api/v1/record-access`` ``{"bank_id": …}``: grant (idempotent: a live grant is returned as it is).
- ``POST /api/v1/record-access/{bank_id}/revoke``: revoke the live grant (404 when there is none).

Granting and revoking need the SME's administrator; each is an event in the audit chain.  The rule of who may read
a record lives in :mod:`finance.service.record_access`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth import SmeDep
from api.params import MAX_ID
from api.routes.context import ContextDep
from api.schemas import AUTH_RESPONSES
from finance import service as fs
from finance.schemas.record_access import (
    AppliedBankPublic,
    BankPublic,
    GrantBody,
    RecordAccessPublic,
    RecordReadersPublic,
)
from qianfan.clock import to_local

router = APIRouter(prefix="/api/v1/record-access", tags=["finance"], responses=AUTH_RESPONSES)

BankId = Annotated[int, Path(ge=1, le=MAX_ID, description="银行机构编号 / bank organisation id")]


@router.get(
    "",
    response_model=RecordReadersPublic,
    summary="查询授权 / Who may read the SME's platform record",
)
def list_record_access(principal: SmeDep, ctx: ContextDep) -> RecordReadersPublic:
    readers = fs.record_readers(ctx.session, principal.actor)
    return RecordReadersPublic(
        grants=[RecordAccessPublic.build(g, ctx.tz) for g in readers.grants],
        applied=[
            AppliedBankPublic(bank_id=a.bank_id, bank_name=a.bank_name, since=to_local(a.since, ctx.tz))
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
def grant_record_access(body: GrantBody, principal: SmeDep, ctx: ContextDep) -> RecordAccessPublic:
    row = fs.grant_record_access(ctx.uow(), principal.actor, body.bank_id)
    return RecordAccessPublic.build(fs.grant_view(ctx.session, row), ctx.tz)


@router.post(
    "/{bank_id}/revoke",
    response_model=RecordAccessPublic,
    summary="撤销银行的查询授权 / Revoke a bank's access to the SME's platform record",
    description="撤销后，除非本企业曾向该行申请融资，该行不再能查看本企业的平台记录。仅限企业管理员。\n\n"
    "After revocation the bank no longer reads the SME's record, unless the SME applied to it.  The SME's "
    "administrator only.",
    responses={404: {"description": "该银行没有有效授权 / the bank holds no live grant"}},
)
def revoke_record_access(bank_id: BankId, principal: SmeDep, ctx: ContextDep) -> RecordAccessPublic:
    row = fs.revoke_record_access(ctx.uow(), principal.actor, bank_id)
    return RecordAccessPublic.build(fs.grant_view(ctx.session, row), ctx.tz)
