"""report rollups (issue 21): the reports' figures per garage and complete local day

- ``report_days``: per garage and local day, the day's summary figures, the timezone whose local day
  it is, and ``dirty`` (True: to be rebuilt from the ticket rows). The marker that the day is rolled up.
- ``report_hours``: per real hour of such a day with events, its entries, exits, voids, occupancy
  sums and the exits' money (garage/services/reports.py folds them as it folds the live hours).
- ``report_stays``: how many tickets left that day after each stay length (the median's input).
- ``report_breakdowns``: that day's paid exits per payment method, vehicle type and closer.

New tables only: no lock on any table in use, nothing to backfill (the catch-up, ``flask --app garage
rollups`` or the next report, builds them). Re-runnable (guarded by report_days, created last).

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _has(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def _day_key() -> list:
    return [sa.Column('garage_id', sa.Integer(), nullable=False), sa.Column('day', sa.Date(), nullable=False)]


def upgrade():
    if _has('report_days'):
        return
    if not _has('report_hours'):
        op.create_table(
            'report_hours', *_day_key(),
            sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
            sa.Column('entries', sa.Integer(), nullable=False),
            sa.Column('exits', sa.Integer(), nullable=False),
            sa.Column('voids', sa.Integer(), nullable=False),
            sa.Column('signed_seconds', sa.Double(), nullable=False),
            sa.Column('max_running', sa.Integer(), nullable=True),
            sa.Column('first_seconds', sa.Double(), nullable=True),
            sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
            sa.Column('stay_minutes', sa.BigInteger(), nullable=False),
            sa.Column('lost_tickets', sa.Integer(), nullable=False),
            sa.Column('lost_fee_cents', sa.BigInteger(), nullable=False),
            sa.Column('refunded_cents', sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('garage_id', 'day', 'hour_start'))
    if not _has('report_stays'):
        op.create_table(
            'report_stays', *_day_key(),
            sa.Column('duration_minutes', sa.Integer(), nullable=False),
            sa.Column('tickets', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('garage_id', 'day', 'duration_minutes'))
    if not _has('report_breakdowns'):
        op.create_table(
            'report_breakdowns',
            sa.Column('id', sa.Integer(), nullable=False), *_day_key(),
            sa.Column('payment_method', sa.String(length=32), nullable=True),
            sa.Column('vehicle_type', sa.String(length=32), nullable=True),
            sa.Column('closed_by_id', sa.Integer(), nullable=True),
            sa.Column('exits', sa.Integer(), nullable=False),
            sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('id'))
        op.create_index('ix_report_breakdowns_garage_day', 'report_breakdowns', ['garage_id', 'day'])
    op.create_table(
        'report_days', *_day_key(),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('dirty', sa.Boolean(), nullable=False),
        sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
        *[sa.Column(name, sa.Integer(), nullable=False)
          for name in ('entries', 'departures', 'exits', 'lost_tickets', 'permit_exits', 'permit_free_exits',
                       'refunds', 'permit_sales')],
        *[sa.Column(name, sa.BigInteger(), nullable=False)
          for name in ('revenue_cents', 'lost_fee_cents', 'refunded_cents', 'permit_sales_cents')],
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.PrimaryKeyConstraint('garage_id', 'day'))


def downgrade():
    op.drop_table('report_days')
    op.drop_index('ix_report_breakdowns_garage_day', table_name='report_breakdowns')
    op.drop_table('report_breakdowns')
    op.drop_table('report_stays')
    op.drop_table('report_hours')
