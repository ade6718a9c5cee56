"""lean ticket indexes: drop the unused plate index, index exit times only where there is one

Every entry writes a row into each index of tickets. ix_tickets_plate_key
served no query (a car inside is found through uq_tickets_active_plate, the
cars-inside search is a substring match), and ix_tickets_exit_time held a
NULL for every car still inside: it now covers completed tickets only, which
is all its range queries (today's figures, reports) ever read.

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

HAS_EXIT = sa.text('exit_time IS NOT NULL')


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_plate_key')
        batch_op.drop_index('ix_tickets_exit_time')
        batch_op.create_index('ix_tickets_exit_time', ['exit_time'], unique=False,
                              postgresql_where=HAS_EXIT, sqlite_where=HAS_EXIT)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_exit_time')
        batch_op.create_index('ix_tickets_exit_time', ['exit_time'], unique=False)
        batch_op.create_index('ix_tickets_plate_key', ['plate_key'], unique=False)
