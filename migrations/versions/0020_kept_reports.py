"""reports kept where every worker reads them (issue 21): ``kept_reports``, a report page's section as
drawn, one row per garage and key digest (garage/reports/cache.py). Before it, each worker kept its own,
so a deployment of N workers drew each report N times a minute; now one draws it and the others read it.

A new table, no foreign keys (as idempotency_keys: a row must not lock ``garages``). Re-runnable
(guarded by the table).

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _present() -> bool:
    return sa.inspect(op.get_bind()).has_table('kept_reports')


def upgrade():
    if not _present():
        op.create_table(
            'kept_reports',
            sa.Column('garage_id', sa.Integer(), nullable=False, autoincrement=False),
            sa.Column('digest', sa.String(length=64), nullable=False),
            sa.Column('minute', sa.BigInteger(), nullable=False),
            sa.Column('body', sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint('garage_id', 'digest'),
        )


def downgrade():
    if _present():
        op.drop_table('kept_reports')
