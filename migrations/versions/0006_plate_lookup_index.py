"""plate lookup index: the desk finds a departed car's ticket by its plate

The desk's lookup by plate finds the plate's latest ticket, paid or not (issue 15:
a receipt is reprinted for a car that has left). uq_tickets_active_plate covers
cars inside only, so every ticket's plate is indexed again, with the entry time:
the lookup reads the plate's few index entries, newest first, and nothing else.
Each entry writes one more index row (0003 dropped the plain plate index when no
query read it). The plate key's column keeps its length: 12 characters, which the
plate rule (garage/domain/tickets.py) never exceeds, Latin letters with diacritics
included (PostgreSQL counts characters; SQLite does not check lengths).

PostgreSQL: built CONCURRENTLY, so entries and exits go on during the migration; an
INVALID index left by an interrupted run is dropped and rebuilt on the next run
(schema_changes.create_index_concurrently).

Revision ID: 0006
Revises: 0005

"""
from alembic import op

from garage.persistence import schema_changes


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    schema_changes.add_index(op, 'ix_tickets_plate_latest', 'tickets', ['plate_key', 'entry_time'])


def downgrade():
    schema_changes.remove_index(op, 'ix_tickets_plate_latest', 'tickets')
