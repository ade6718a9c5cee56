"""report rollups by the day (issue 21): what a report grouped by day over more than a month reads
instead of the day's hours

- ``report_days``: ``stay_minutes`` (the day's exits' minutes stayed), ``peak_running`` (the day's peak
  occupancy counted from the cars inside at its start) and ``occupancy_seconds`` (car-seconds inside
  above that starting count): a day's row of the report without reading its hours.
- ``report_hours``: ``hour_of_week`` (the local weekday × 24 + local hour) and ``average_offset`` (the
  hour's average occupancy above the day's starting count); a rolled-up day now has a row for every
  hour, events or not, so the heat map and the traffic by hour of day are one grouped read.
- ``report_months``, ``report_month_stays`` and ``report_month_breakdowns``: a calendar month's
  report_stays and report_breakdowns added up, once all its days are rolled up (a year's median stay
  from ~15,000 rows instead of ~200,000, its breakdowns from ~1,200 instead of ~25,000).

New columns with defaults and new tables (no table rewrite, nothing locked for long); every rolled-up day is marked
dirty, so the next catch-up (``flask --app garage rollups``, or the reports themselves, a batch at a
time) builds it again with the new figures; until then those days are counted from the rows.
Re-runnable (guarded by the columns and tables).

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

DAY_COLUMNS = (
    ('stay_minutes', lambda: sa.Column('stay_minutes', sa.BigInteger(), server_default='0', nullable=False)),
    ('peak_running', lambda: sa.Column('peak_running', sa.Integer(), nullable=True)),
    ('occupancy_seconds', lambda: sa.Column('occupancy_seconds', sa.Double(), server_default='0', nullable=False)),
)
HOUR_COLUMNS = (
    ('hour_of_week', lambda: sa.Column('hour_of_week', sa.SmallInteger(), nullable=True)),
    ('average_offset', lambda: sa.Column('average_offset', sa.Double(), server_default='0', nullable=False)),
)


def _has(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def _add(table: str, columns) -> None:
    present = {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}
    for name, column in columns:
        if name not in present:
            op.add_column(table, column())


def upgrade():
    _add('report_hours', HOUR_COLUMNS)
    _add('report_days', DAY_COLUMNS)
    if not _has('report_month_stays'):
        op.create_table(
            'report_month_stays',
            sa.Column('garage_id', sa.Integer(), nullable=False), sa.Column('month', sa.Date(), nullable=False),
            sa.Column('duration_minutes', sa.Integer(), nullable=False),
            sa.Column('tickets', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('garage_id', 'month', 'duration_minutes'))
    if not _has('report_month_breakdowns'):
        op.create_table(
            'report_month_breakdowns',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('garage_id', sa.Integer(), nullable=False), sa.Column('month', sa.Date(), nullable=False),
            sa.Column('payment_method', sa.String(length=32), nullable=True),
            sa.Column('vehicle_type', sa.String(length=32), nullable=True),
            sa.Column('closed_by_id', sa.Integer(), nullable=True),
            sa.Column('exits', sa.Integer(), nullable=False),
            sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('id'))
        op.create_index('ix_report_month_breakdowns_garage_month', 'report_month_breakdowns', ['garage_id', 'month'])
    if not _has('report_months'):
        op.create_table(
            'report_months',
            sa.Column('garage_id', sa.Integer(), nullable=False), sa.Column('month', sa.Date(), nullable=False),
            sa.Column('timezone', sa.String(length=64), nullable=False),
            sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
            sa.PrimaryKeyConstraint('garage_id', 'month'))
    # built without the new figures: built again by the next catch-up
    op.execute("UPDATE report_days SET dirty = true WHERE dirty = false")


def downgrade():
    for table in ('report_months', 'report_month_breakdowns', 'report_month_stays'):
        if _has(table):
            op.drop_table(table)
    with op.batch_alter_table('report_days') as batch_op:
        for name, _ in reversed(DAY_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('report_hours') as batch_op:
        for name, _ in reversed(HOUR_COLUMNS):
            batch_op.drop_column(name)
