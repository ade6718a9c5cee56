"""report rollups by the day (issue 21): what a report grouped by day over more than a month reads
instead of the day's hours

- ``report_days``: ``stay_minutes`` (the day's exits' minutes stayed), ``peak_running`` (the day's peak
  occupancy counted from the cars inside at its start) and ``occupancy_seconds`` (car-seconds inside
  above that starting count): a day's row of the report without reading its hours.
- ``report_hours``: ``hour_of_week`` (the local weekday × 24 + local hour) and ``average_offset`` (the
  hour's average occupancy above the day's starting count); a rolled-up day now has a row for every
  hour, events or not, so the heat map and the traffic by hour of day are one grouped read.

New columns with defaults (no table rewrite, nothing locked for long); every rolled-up day is marked
dirty, so the next catch-up (``flask --app garage rollups``, or the reports themselves, a batch at a
time) builds it again with the new figures; until then those days are counted from the rows.
Re-runnable (guarded by the columns).

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


def _add(table: str, columns) -> None:
    present = {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}
    for name, column in columns:
        if name not in present:
            op.add_column(table, column())


def upgrade():
    _add('report_hours', HOUR_COLUMNS)
    _add('report_days', DAY_COLUMNS)
    # built without the new figures: built again by the next catch-up
    op.execute("UPDATE report_days SET dirty = true WHERE dirty = false")


def downgrade():
    with op.batch_alter_table('report_days') as batch_op:
        for name, _ in reversed(DAY_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('report_hours') as batch_op:
        for name, _ in reversed(HOUR_COLUMNS):
            batch_op.drop_column(name)
