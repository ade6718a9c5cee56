"""the reports' revision (issue 21): ``garages.report_revision``, moved by every write that changes what a
report of the garage shows (an entry, an exit, a void, a correction, a refund, a permit sale or renewal, a
settings change), in that write's own transaction. A report page is kept rendered under it
(garage/reports/cache.py) and drawn again as soon as it moves.

A new column with a default (no table rewrite). Re-runnable (guarded by the column).

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _present() -> bool:
    return 'report_revision' in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('garages')}


def upgrade():
    if not _present():
        op.add_column('garages', sa.Column('report_revision', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    if _present():
        with op.batch_alter_table('garages') as batch_op:
            batch_op.drop_column('report_revision')
