"""From a match to a contract: stored matches, interest / shortlist, intent orders (意向订单) and contracts."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import enum_type, money, timestamp


class Match(SQLModel, table=True):
    """A ranked match of an offer for an order, with the score and its explanation."""

    __tablename__ = "match"
    __table_args__ = (sa.UniqueConstraint("order_id", "offer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="demand_order.id", index=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    rank: int
    score: float
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    engine_version: str = Field(max_length=64)
    created_at: datetime = timestamp()


class InterestKind(StrEnum):
    INTEREST = "interest"  # an SME says it wants to bid for the order
    SHORTLIST = "shortlist"  # the buyer shortlists an offer
    REJECTION = "rejection"  # the buyer rules an offer out


class Interest(SQLModel, table=True):
    __tablename__ = "interest"
    __table_args__ = (sa.UniqueConstraint("order_id", "offer_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="demand_order.id", index=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    kind: InterestKind = Field(sa_type=enum_type(InterestKind))
    organisation_id: int = Field(foreign_key="organisation.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    # The author's own note: a buyer's shortlist / rule-out note is private to the buyer (issue 16, item 5), an
    # SME's interest note is its own.  What a buyer means the supplier to read is ``message_to_supplier``.
    note: str = Field(default="", max_length=1000)
    message_to_supplier: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": sa.text("''")})
    created_at: datetime = timestamp()


class IntentStatus(StrEnum):
    PROPOSED = "proposed"
    SIGNED = "signed"  # signed by both sides; a contract exists
    CANCELLED = "cancelled"


class IntentOrder(SQLModel, table=True):
    """意向订单: proposed by either side, signed by both; on the second signature it becomes a contract."""

    __tablename__ = "intent_order"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="demand_order.id", index=True)
    offer_id: int = Field(foreign_key="offer.id", index=True)
    buyer_id: int = Field(foreign_key="organisation.id", index=True)
    supplier_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    amount_fen: int = money()
    delivery_due: date
    terms: str = Field(default="", sa_type=sa.Text)
    status: IntentStatus = Field(default=IntentStatus.PROPOSED, sa_type=enum_type(IntentStatus), index=True)
    proposed_by_id: int = Field(foreign_key="organisation.id")
    proposed_at: datetime = timestamp()
    buyer_signed_at: datetime | None = timestamp(nullable=True)
    buyer_signed_by: int | None = Field(default=None, foreign_key="user_account.id")
    supplier_signed_at: datetime | None = timestamp(nullable=True)
    supplier_signed_by: int | None = Field(default=None, foreign_key="user_account.id")
    version: int = Field(default=1)


class ContractStatus(StrEnum):
    ACTIVE = "active"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class Contract(SQLModel, table=True):
    __tablename__ = "contract"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    intent_order_id: int = Field(foreign_key="intent_order.id", unique=True)
    buyer_id: int = Field(foreign_key="organisation.id", index=True)
    supplier_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    amount_fen: int = money()
    delivery_due: date
    status: ContractStatus = Field(default=ContractStatus.ACTIVE, sa_type=enum_type(ContractStatus), index=True)
    signed_at: datetime = timestamp()
    delivered_at: datetime | None = timestamp(nullable=True)
    # Delivery acceptance (验收), set by the buyer (finance.service.settlement.accept_delivery); due dates of the
    # payment plan that count from acceptance start here.  The user id is not a foreign key so that adding it
    # never rebuilds the contract table on SQLite.
    accepted_on: date | None = None
    accepted_by_user_id: int | None = None
