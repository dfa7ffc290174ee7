"""授权查询: an SME's consent for one bank to read its platform record and suggested credit line (issue 16, item 4).

One row per grant; a revocation stamps ``revoked_at`` / ``revoked_by_user_id`` and keeps the row, so the history
of who could read when stays on file (each grant and revocation is also an event in the audit chain).  At most one
live (unrevoked) grant per SME and bank: a partial unique index, on SQLite and PostgreSQL alike.  The rule of who
may read lives in :mod:`finance.service.record_access`.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from qianfan.models.base import timestamp


class RecordAccessGrant(SQLModel, table=True):
    __tablename__ = "record_access_grant"
    __table_args__ = (
        sa.Index(
            "uq_record_access_grant_live",
            "sme_id",
            "bank_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    sme_id: int = Field(foreign_key="organisation.id", index=True)
    bank_id: int = Field(foreign_key="organisation.id", index=True)
    granted_at: datetime = timestamp()
    granted_by_user_id: int = Field(foreign_key="user_account.id")
    revoked_at: datetime | None = timestamp(nullable=True)
    revoked_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
