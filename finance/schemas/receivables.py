"""The API models of receivables: the receivable, its parts, its confirmation (确权) and its payments.

Money goes out twice and never as a float: integer fen (``amount_fen``) and an exact yuan string (``amount`` =
``"1000000.00"``, :data:`qianfan.money.Yuan`); rates are decimal strings (``"0.035"``).  Datetimes are ISO-8601 in
the display time zone (Asia/Shanghai, ``+08:00``).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field

from qianfan.models import (
    PartState,
    Payment,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
)
from qianfan.money import Fen, Yuan
from qianfan.schema_types import Body, Id, LocalTime, PublicModel, YuanIn, yuan_of
from qianfan.validation import Description


class ReceivablePartPublic(PublicModel):
    id: int
    receivable_id: int
    parent_id: int | None = Field(description="拆分或转让前的份额 / the part this one replaced")
    holder_id: int = Field(description="持有企业 / holder organisation")
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    paid_fen: Fen
    paid: Yuan = yuan_of("paid_fen")
    status: PartState
    created_at: LocalTime

    @classmethod
    def from_model(cls, row: ReceivablePart, tz: ZoneInfo) -> ReceivablePartPublic:
        return cls.of(row, tz)


class ConfirmationPublic(PublicModel):
    """确权: the debtor's confirmation and irrevocable payment undertaking."""

    confirmed_fen: Fen
    confirmed: Yuan = yuan_of("confirmed_fen")
    confirmed_at: LocalTime
    confirmed_by: int | None = Field(description="确权用户 / the debtor's user who confirmed")
    undertaking: str = Field(description="不可撤销付款承诺 / the irrevocable payment undertaking")


class ReceivablePublic(PublicModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "creditor_id": 12,
                    "debtor_id": 4,
                    "contract_id": None,
                    "title": "智慧道路巡检系统 第一期货款",
                    "face_fen": 100000000,
                    "face": "1000000.00",
                    "confirmed_fen": 100000000,
                    "confirmed": "1000000.00",
                    "paid_fen": 0,
                    "paid": "0.00",
                    "issue_date": "2026-11-02",
                    "due_date": "2027-01-31",
                    "invoice_numbers": ["INV20261102001"],
                    "status": "confirmed",
                    "disputed": False,
                    "registered_at": "2026-11-02T09:30:00+08:00",
                    "confirmed_at": "2026-11-02T10:05:00+08:00",
                    "settled_at": None,
                    "cancelled_at": None,
                    "cancel_reason": "",
                }
            ]
        }
    )

    id: int
    creditor_id: int = Field(description="债权人（登记的中小企业）/ creditor, the SME that registered it")
    debtor_id: int = Field(description="债务人（核心企业）/ debtor, the core enterprise")
    contract_id: int | None
    title: str
    face_fen: Fen
    face: Yuan = yuan_of("face_fen")
    confirmed_fen: Fen | None
    confirmed: Yuan | None = yuan_of("confirmed_fen")
    paid_fen: Fen
    paid: Yuan = yuan_of("paid_fen")
    issue_date: date
    due_date: date
    invoice_numbers: list[str] = Field(description="发票号码 / invoice numbers")
    status: ReceivableStatus
    disputed: bool = Field(description="债务人拒绝确权 / refused by the debtor")
    registered_at: LocalTime
    confirmed_at: LocalTime | None
    settled_at: LocalTime | None
    cancelled_at: LocalTime | None
    cancel_reason: str

    @classmethod
    def from_model(cls, row: Receivable, tz: ZoneInfo) -> ReceivablePublic:
        return cls.of(row, tz)


class ReceivableDetail(ReceivablePublic):
    confirmation: ConfirmationPublic | None = Field(description="确权信息（未确权为空）/ the confirmation, if any")
    parts: list[ReceivablePartPublic] = Field(
        description="份额（含已拆分、已转让的历史份额；仅持有人身份可见的只含其本身的份额）/ parts, superseded ones "
        "included; a holder that is neither creditor nor debtor sees only its own"
    )

    @classmethod
    def from_rows(cls, row: Receivable, parts: list[ReceivablePart], tz: ZoneInfo) -> ReceivableDetail:
        confirmed = row.confirmed_fen is not None and row.confirmed_at is not None
        return cls.of(
            row,
            tz,
            confirmation=ConfirmationPublic.of(row, tz) if confirmed else None,
            parts=[ReceivablePartPublic.from_model(p, tz) for p in parts],
        )


class BatchConfirmPublic(PublicModel):
    confirmed: int = Field(description="确权笔数 / number confirmed")
    items: list[ReceivablePublic]


class LoanAllocationPublic(PublicModel):
    """How an amount went through a loan's waterfall (penalty → interest → fees → principal, then the surplus)."""

    penalty_fen: Fen = 0
    interest_fen: Fen = 0
    fees_fen: Fen = 0
    principal_fen: Fen = 0
    excess_fen: Fen = 0


class PaymentLinePublic(PublicModel):
    part_id: int
    holder_id: int
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    loan_id: int | None = Field(None, description="该份额已融资时所还的贷款 / the loan repaid, for a financed part")
    loan: LoanAllocationPublic | None = None


class PaymentPublic(PublicModel):
    id: int
    receivable_id: int
    payer_id: int
    amount_fen: Fen
    amount: Yuan = yuan_of("amount_fen")
    paid_at: LocalTime
    allocation: list[PaymentLinePublic] = Field(description="按持有人分配 / shared over the holders of record")

    @classmethod
    def from_model(cls, row: Payment, tz: ZoneInfo) -> PaymentPublic:
        return cls.of(row, tz)


class ConfirmBody(Body):
    confirmed: YuanIn | None = Field(None, description="确权金额（元，默认票面金额）/ confirmed amount (default: face)")
    irrevocable_undertaking: bool = Field(
        False, description="不可撤销付款承诺（必须为 true）/ the irrevocable payment undertaking (must be true)"
    )
    undertaking: Description = Field("", description="承诺文字（可选）/ wording of the undertaking (optional)")


class BatchItem(ConfirmBody):
    receivable_id: Id


class BatchConfirmBody(Body):
    items: list[BatchItem] = Field(min_length=1, max_length=500)


class ReasonBody(Body):
    reason: Description = Field(description="理由 / reason", examples=["发票金额与验收单不符"])


class SplitBody(Body):
    amounts: list[YuanIn] = Field(
        min_length=2, max_length=50, description="各份额金额（元），合计须等于原份额 / amounts summing to the part"
    )


class TransferBody(Body):
    to_id: Id = Field(description="受让企业（中小企业）/ the SME receiving the part")
    amount: YuanIn | None = Field(None, description="转让金额（元，默认整个份额）/ amount (default: the whole part)")


class PaymentBody(Body):
    amount: YuanIn = Field(description="付款金额（元）/ amount paid (yuan)")
