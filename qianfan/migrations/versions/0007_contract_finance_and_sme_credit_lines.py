"""contract finance and SME credit lines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import qianfan.models.base

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sme_credit_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('sme_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'declined', 'closed', name='smelinestatus', native_enum=False, length=32), nullable=False),
    sa.Column('suggested_fen', sa.BigInteger(), nullable=False),
    sa.Column('limit_fen', sa.BigInteger(), nullable=False),
    sa.Column('used_fen', sa.BigInteger(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('suggestion', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', qianfan.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', qianfan.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('suggested_fen >= 0', name=op.f('ck_sme_credit_line_suggested_not_negative')),
    sa.CheckConstraint('used_fen >= 0 AND used_fen <= limit_fen', name=op.f('ck_sme_credit_line_used_within_limit')),
    sa.ForeignKeyConstraint(['bank_id'], ['organisation.id'], name=op.f('fk_sme_credit_line_bank_id_organisation')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['user_account.id'], name=op.f('fk_sme_credit_line_decided_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['sme_id'], ['organisation.id'], name=op.f('fk_sme_credit_line_sme_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_credit_line')),
    sa.UniqueConstraint('bank_id', 'sme_id', name=op.f('uq_sme_credit_line_bank_id_sme_id'))
    )
    with op.batch_alter_table('sme_credit_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sme_credit_line_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sme_credit_line_sme_id'), ['sme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sme_credit_line_status'), ['status'], unique=False)

    with op.batch_alter_table('bank_product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('receivable', 'contract', 'credit_line', name='financekind', native_enum=False, length=32), server_default='receivable', nullable=False))
        batch_op.create_index(batch_op.f('ix_bank_product_kind'), ['kind'], unique=False)

    with op.batch_alter_table('contract_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loan_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allocation', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contract_payment_loan_id'), ['loan_id'], unique=False)

    with op.batch_alter_table('finance_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('receivable', 'contract', 'credit_line', name='financekind', native_enum=False, length=32), server_default='receivable', nullable=False))
        batch_op.add_column(sa.Column('contract_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('active_contract_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sme_line_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.alter_column('core_enterprise_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('receivable_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('part_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_finance_application_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_application_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_application_sme_line_id'), ['sme_line_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_finance_application_active_contract_id'), ['active_contract_id'])
        batch_op.create_foreign_key(batch_op.f('fk_finance_application_contract_id_contract'), 'contract', ['contract_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_finance_application_sme_line_id_sme_credit_line'), 'sme_credit_line', ['sme_line_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_finance_application_active_contract_id_contract'), 'contract', ['active_contract_id'], ['id'])

    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('receivable', 'contract', 'credit_line', name='financekind', native_enum=False, length=32), server_default='receivable', nullable=False))
        batch_op.add_column(sa.Column('contract_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sme_line_id', sa.Integer(), nullable=True))
        batch_op.alter_column('part_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('core_enterprise_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_loan_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_loan_sme_line_id'), ['sme_line_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_loan_sme_line_id_sme_credit_line'), 'sme_credit_line', ['sme_line_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_loan_contract_id_contract'), 'contract', ['contract_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_loan_contract_id_contract'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_loan_sme_line_id_sme_credit_line'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_loan_sme_line_id'))
        batch_op.drop_index(batch_op.f('ix_loan_kind'))
        batch_op.drop_index(batch_op.f('ix_loan_contract_id'))
        batch_op.alter_column('core_enterprise_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('part_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('sme_line_id')
        batch_op.drop_column('contract_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('finance_application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_finance_application_active_contract_id_contract'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_finance_application_sme_line_id_sme_credit_line'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_finance_application_contract_id_contract'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_finance_application_active_contract_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_finance_application_sme_line_id'))
        batch_op.drop_index(batch_op.f('ix_finance_application_kind'))
        batch_op.drop_index(batch_op.f('ix_finance_application_contract_id'))
        batch_op.alter_column('part_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('receivable_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('core_enterprise_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('due_on')
        batch_op.drop_column('sme_line_id')
        batch_op.drop_column('active_contract_id')
        batch_op.drop_column('contract_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('contract_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_payment_loan_id'))
        batch_op.drop_column('allocation')
        batch_op.drop_column('loan_id')

    with op.batch_alter_table('bank_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_product_kind'))
        batch_op.drop_column('kind')

    with op.batch_alter_table('sme_credit_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sme_credit_line_status'))
        batch_op.drop_index(batch_op.f('ix_sme_credit_line_sme_id'))
        batch_op.drop_index(batch_op.f('ix_sme_credit_line_bank_id'))

    op.drop_table('sme_credit_line')
