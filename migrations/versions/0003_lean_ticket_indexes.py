"""lean ticket indexes: drop the unused plate index, index exit times only where there is one

Every entry writes a row into each index of tickets. ix_tickets_plate_key
served no query (a car inside is found through uq_tickets_active_plate, the
cars-inside search is a substring match), and ix_tickets_exit_time held a
NULL for every car still inside: it now covers completed tickets only, which
is all its range queries (today's figures, reports) ever read, and carries the
amount and the stay, so today's figures (stats, desk panel) are read from the
index alone instead of one table page per exit of the day.

PostgreSQL: the indexes are built and dropped CONCURRENTLY, so entries and
exits go on during the migration; every step can be re-run (an interrupted build
leaves an INVALID index, which the next run drops and builds again:
garage/persistence/schema_changes.py). Autovacuum visits tickets after 1 % of its
rows changed instead of 20 %: every exit leaves a dead version behind in the
indexes of cars inside, and with a year of history (a million rows) the
default waited for 200,000 of them, weeks of exits, while each desk page and
entry walked them.

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa

from garage.persistence import schema_changes


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

HAS_EXIT = sa.text('exit_time IS NOT NULL')


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # A garage keeps running through a deploy: build and drop CONCURRENTLY (no lock
        # that blocks entries and exits while a million-row index is built), each in its
        # own transaction, then swap the names.
        # Each step can be re-run: a run cut off anywhere (lock timeout, Ctrl-C) and run again
        # (or retried by env.py) finishes the job; an INVALID half-built index is rebuilt.
        with op.get_context().autocommit_block():
            bind = op.get_bind()
            if schema_changes.index_predicate(bind, 'ix_tickets_exit_time') is None:  # not swapped yet
                schema_changes.create_index_concurrently(
                    op, 'ix_tickets_exit_time_0003', 'tickets', ['exit_time', 'amount_paid', 'duration_minutes'],
                    where='exit_time IS NOT NULL')
                schema_changes.drop_index_concurrently(op, 'ix_tickets_exit_time')
                op.execute('ALTER INDEX ix_tickets_exit_time_0003 RENAME TO ix_tickets_exit_time')
            schema_changes.drop_index_concurrently(op, 'ix_tickets_plate_key')
        op.execute('ALTER TABLE tickets SET (autovacuum_vacuum_scale_factor = 0.01, '
                   'autovacuum_analyze_scale_factor = 0.02)')
        return
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_plate_key')
        batch_op.drop_index('ix_tickets_exit_time')
        batch_op.create_index('ix_tickets_exit_time', ['exit_time', 'amount_paid', 'duration_minutes'],
                              unique=False, sqlite_where=HAS_EXIT)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE tickets RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_exit_time')
        batch_op.create_index('ix_tickets_exit_time', ['exit_time'], unique=False)
        batch_op.create_index('ix_tickets_plate_key', ['plate_key'], unique=False)
