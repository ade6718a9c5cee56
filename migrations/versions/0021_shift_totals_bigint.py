"""a shift's expected cash, counted cash and over/short as 64-bit integers (outside checks of issue 21):
the expected cash is a sum of the shift's cash payments, each up to 2,147,483,647 minor units
(tickets.amount_paid), so three cash payments of ¥876,091,239 in one JPY shift made the close fail with
PostgreSQL's "integer out of range"; the count must be able to say what such a drawer holds (it was capped
at 100,000,000 minor units: a JPY drawer of ¥104,400,000 could only be closed with a false count). The
float stays 32-bit: the domain caps it far below (garage/domain/shifts.py).

PostgreSQL: ``ALTER COLUMN … TYPE bigint`` rewrites ``shifts`` (one row per shift: small) under its lock,
taken with the migrations' lock timeout and retries (garage/persistence/schema_changes.py). SQLite: nothing
to do: an INTEGER column already holds 64-bit values (the model declares it so: garage/models.py
``WIDE_MONEY``). Re-runnable (guarded by the column's type).

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COLUMNS = ('expected_cash_cents', 'counted_cash_cents', 'over_short_cents')


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _types() -> dict[str, str]:
    return {c['name']: str(c['type']) for c in sa.inspect(op.get_bind()).get_columns('shifts')
            if c['name'] in COLUMNS}


def upgrade():
    if _postgresql() and any(t != 'BIGINT' for t in _types().values()):
        op.execute('ALTER TABLE shifts ' + ', '.join(f'ALTER COLUMN {c} TYPE bigint' for c in COLUMNS))


def downgrade():
    # Refused by PostgreSQL (integer out of range) if a closed shift's figure needs 64 bits: nothing lost.
    if _postgresql() and any(t != 'INTEGER' for t in _types().values()):
        op.execute('ALTER TABLE shifts ' + ', '.join(f'ALTER COLUMN {c} TYPE integer' for c in COLUMNS))
