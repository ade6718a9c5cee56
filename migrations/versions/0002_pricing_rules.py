"""pricing rules: grace period, daily maximum, per-vehicle-type rates, lost-ticket fee

Existing garages keep their behaviour: no grace period, no maximum, no
per-type rates, no lost-ticket fee; existing tickets were not lost.

Revision ID: 0002
Revises: 0001

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vehicle_rates',
    sa.Column('vehicle_type', sa.String(length=32), nullable=False),
    sa.Column('hourly_rate', sa.Integer(), nullable=False),
    sa.CheckConstraint('hourly_rate >= 0', name='ck_vehicle_rates_nonneg'),
    sa.PrimaryKeyConstraint('vehicle_type')
    )
    with op.batch_alter_table('garage_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grace_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('daily_max_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lost_ticket_fee_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('lost_ticket_mode', sa.String(length=8), server_default='replace', nullable=False))
        batch_op.create_check_constraint('ck_settings_grace_nonneg', 'grace_minutes >= 0')
        batch_op.create_check_constraint('ck_settings_daily_max_pos', 'daily_max_cents IS NULL OR daily_max_cents > 0')
        batch_op.create_check_constraint('ck_settings_lost_fee_nonneg', 'lost_ticket_fee_cents >= 0')
        batch_op.create_check_constraint('ck_settings_lost_mode', "lost_ticket_mode IN ('replace', 'add')")

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lost', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('lost_fee_cents', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('lost_fee_cents')
        batch_op.drop_column('lost')

    with op.batch_alter_table('garage_settings', schema=None) as batch_op:
        batch_op.drop_constraint('ck_settings_lost_mode', type_='check')
        batch_op.drop_constraint('ck_settings_lost_fee_nonneg', type_='check')
        batch_op.drop_constraint('ck_settings_daily_max_pos', type_='check')
        batch_op.drop_constraint('ck_settings_grace_nonneg', type_='check')
        batch_op.drop_column('lost_ticket_mode')
        batch_op.drop_column('lost_ticket_fee_cents')
        batch_op.drop_column('daily_max_cents')
        batch_op.drop_column('grace_minutes')

    op.drop_table('vehicle_rates')
