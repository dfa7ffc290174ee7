"""The API models of supply-chain finance: contract (order) finance quotes and applications, the SMEs' revolving
credit lines and their drawdowns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from finance.schemas.credit import ReasonPublic
from qianfan.clock import to_local
from qianfan.models import SmeCreditLine, SmeLineStatus
from qianfan.money import Fen, Yuan
from qianfan.schema_types import PublicModel, yuan_of


class ContractQuotePublic(PublicModel):
    contract_id: int
    bank_id: int
    product_id: int
    max_amount_fen: Fen = Field(description="现在可申请的最高金额 / the most that may be asked for now")
    max_amount: Yuan = yuan_of("max_amount_fen")
    binding_constraint: str = Field(
        description="起约束作用的限额 / the limit that binds the maximum", examples=["advance_rate"]
    )
    limits_fen: dict[str, int] = Field(description="各项限额（分）/ every limit, in fen")
    limits: dict[str, Yuan] = yuan_of("limits_fen", description="各项限额（元）/ every limit, in yuan")
    unpaid_fen: Fen = Field(description="合同未付金额 / the contract's unpaid value")
    unpaid: Yuan = yuan_of("unpaid_fen")
    financed_fen: Fen = Field(
        description="该合同上已融资（订单融资与其应收账款融资）/ already financed on the contract (its loan and its "
        "receivables' loans)"
    )
    financed: Yuan = yuan_of("financed_fen")
    due_date: date = Field(description="贷款到期日（付款计划的最后一笔回款，受产品期限限制）/ the loan's due date")


class SmeCreditLinePublic(PublicModel):
    id: int
    bank_id: int
    sme_id: int
    status: SmeLineStatus = Field(description="active 生效 / declined 拒绝 / closed 关闭")
    limit_fen: Fen
    limit: Yuan = yuan_of("limit_fen")
    used_fen: Fen = Field(description="已提款未还本金及进行中的提款申请 / drawn and reserved")
    used: Yuan = yuan_of("used_fen")
    available_fen: Fen = Field(description="可提款金额（生效且未到期时）/ what may still be drawn (active lines)")
    available: Yuan = yuan_of("available_fen")
    suggested_fen: Fen = Field(description="决定时平台的建议额度 / the platform's suggestion when the bank decided")
    suggested: Yuan = yuan_of("suggested_fen")
    expires_on: date | None
    note: str
    reasons: list[ReasonPublic] = Field(description="银行决定时看到的建议理由 / the suggestion's reasons the bank saw")
    suggestion_as_of: date | None = Field(description="建议所依据数据的日期 / the date of the suggestion's record")
    decided_by_user_id: int | None
    decided_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, row: SmeCreditLine, settings: Any, today: date) -> SmeCreditLinePublic:
        assert row.id is not None
        live = row.status == SmeLineStatus.ACTIVE and (row.expires_on is None or row.expires_on >= today)
        available = max(0, row.limit_fen - row.used_fen) if live else 0
        suggestion = row.suggestion or {}
        as_of = suggestion.get("as_of")
        return cls(
            id=row.id,
            bank_id=row.bank_id,
            sme_id=row.sme_id,
            status=row.status,
            limit_fen=row.limit_fen,
            used_fen=row.used_fen,
            available_fen=available,
            suggested_fen=row.suggested_fen,
            expires_on=row.expires_on,
            note=row.note,
            reasons=[ReasonPublic(**r) for r in suggestion.get("reasons", [])],
            suggestion_as_of=date.fromisoformat(as_of) if as_of else None,
            decided_by_user_id=row.decided_by_user_id,
            decided_at=to_local(row.decided_at, settings.tz),
            updated_at=to_local(row.updated_at, settings.tz),
        )
