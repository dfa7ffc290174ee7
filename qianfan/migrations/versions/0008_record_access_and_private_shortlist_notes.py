"""record access grants (授权查询) and the buyer's message to the supplier beside its private note

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import qianfan.models.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sme_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", qianfan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by_user_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", qianfan.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["organisation.id"], name=op.f("fk_record_access_grant_bank_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_record_access_grant_granted_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_record_access_grant_revoked_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["sme_id"], ["organisation.id"], name=op.f("fk_record_access_grant_sme_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_access_grant")),
    )
    with op.batch_alter_table("record_access_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_access_grant_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_access_grant_sme_id"), ["sme_id"], unique=False)
        # At most one live grant per SME and bank (a partial unique index on both backends).
        batch_op.create_index(
            "uq_record_access_grant_live",
            ["sme_id", "bank_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )

    # A plain ADD COLUMN with a server default: no table rebuild on SQLite, existing rows get ''.
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message_to_supplier",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                server_default=sa.text("''"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("interest", schema=None) as batch_op:
        batch_op.drop_column("message_to_supplier")

    with op.batch_alter_table("record_access_grant", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_record_access_grant_live",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_record_access_grant_sme_id"))
        batch_op.drop_index(batch_op.f("ix_record_access_grant_bank_id"))

    op.drop_table("record_access_grant")
