"""New garages take their id from the table's sequence (PostgreSQL).

Garage 1 (the default garage) is written with its id, so the sequence that came with the table
(``garage_settings_id_seq``, SERIAL since 0001) never moved: the first garage created without an
id would have been given 1 again. The sequence now starts at 2 (a TRUNCATE ... RESTART IDENTITY
goes back there, not to 1) and continues after the highest id present. SQLite: an INTEGER PRIMARY
KEY already takes max(rowid) + 1 under the database's write lock; nothing to do.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_SEQUENCE = "pg_get_serial_sequence('garages', 'id')"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    sequence = op.get_bind().execute(sa.text(f"SELECT {_SEQUENCE}")).scalar()
    op.execute(f"ALTER SEQUENCE {sequence} START WITH 2 MINVALUE 1")
    # setval(s, n): the next id is n + 1 (at least 2: garage 1 is written with its id).
    op.execute(f"SELECT setval({_SEQUENCE}, GREATEST((SELECT max(id) FROM garages), 1))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    sequence = op.get_bind().execute(sa.text(f"SELECT {_SEQUENCE}")).scalar()
    op.execute(f"ALTER SEQUENCE {sequence} START WITH 1")
