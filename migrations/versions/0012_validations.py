"""merchant validations (issue 18, stage 3)

- ``validation_programs``, ``validation_codes`` and ``ticket_validations`` (new tables).
- ``tickets.validations`` and ``tickets.discount_cents`` (NOT NULL DEFAULT 0): how many validations a
  ticket has, and what they took off its fee at the payment. PostgreSQL: constant defaults, so catalog
  changes only (no table rewrite).

Re-runnable (guarded by the table it creates, validation_programs).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    if sa.inspect(op.get_bind()).has_table('validation_programs'):
        return
    op.create_table(
        'validation_programs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('merchant', sa.String(length=80), nullable=False, server_default=''),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('usage_cap', sa.Integer(), nullable=True),
        sa.Column('used_count', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('stacks', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('free_minutes', 'flat_price', 'amount_off', 'percent_off')",
                           name='ck_validation_programs_kind'),
        sa.CheckConstraint('value > 0', name='ck_validation_programs_value'),
        sa.CheckConstraint('usage_cap IS NULL OR used_count <= usage_cap', name='ck_validation_programs_cap'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('uq_validation_programs_garage_name', 'validation_programs', ['garage_id', 'name'], unique=True)
    op.create_table(
        'validation_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('reusable', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('used_count', sa.Integer(), nullable=False, server_default='0'),
        sa.CheckConstraint('reusable OR used_count <= 1', name='ck_validation_codes_single_use'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['program_id'], ['validation_programs.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_validation_codes_program_id', 'validation_codes', ['program_id'])
    op.create_index('uq_validation_codes_garage_code', 'validation_codes', ['garage_id', 'code'], unique=True)
    op.create_table(
        'ticket_validations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('code_id', sa.Integer(), nullable=False),
        sa.Column('discount_cents', sa.Integer(), nullable=True),
        sa.Column('validated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('validated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['program_id'], ['validation_programs.id']),
        sa.ForeignKeyConstraint(['code_id'], ['validation_codes.id']),
        sa.ForeignKeyConstraint(['validated_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('uq_ticket_validations_ticket_program', 'ticket_validations', ['ticket_id', 'program_id'],
                    unique=True)
    op.create_index('ix_ticket_validations_program', 'ticket_validations', ['garage_id', 'program_id'])
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.add_column(sa.Column('validations', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('discount_cents', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_column('discount_cents')
        batch_op.drop_column('validations')
    op.drop_index('ix_ticket_validations_program', table_name='ticket_validations')
    op.drop_index('uq_ticket_validations_ticket_program', table_name='ticket_validations')
    op.drop_table('ticket_validations')
    op.drop_index('uq_validation_codes_garage_code', table_name='validation_codes')
    op.drop_index('ix_validation_codes_program_id', table_name='validation_codes')
    op.drop_table('validation_codes')
    op.drop_index('uq_validation_programs_garage_name', table_name='validation_programs')
    op.drop_table('validation_programs')
