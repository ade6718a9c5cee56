"""the end-of-day close (issue 18, stage 4)

- ``daily_closes``: a garage's local day closed by a manager, with the day's figures as they stood
  then (JSON text); one per garage and day (``uq_daily_closes_garage_day``). A new table: no lock on
  any table in use. Re-runnable (guarded by the table it creates).

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    if sa.inspect(op.get_bind()).has_table('daily_closes'):
        return
    op.create_table(
        'daily_closes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('uq_daily_closes_garage_day', 'daily_closes', ['garage_id', 'day'], unique=True)


def downgrade():
    op.drop_index('uq_daily_closes_garage_day', table_name='daily_closes')
    op.drop_table('daily_closes')
