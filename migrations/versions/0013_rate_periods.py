"""rate periods (issue 19: night, early bird, weekend, event prices)

- ``garages.rate_periods`` (TEXT NOT NULL DEFAULT '[]'): the garage's periods as JSON, checked by
  garage/domain/rate_periods.py when saved; on the garage's row, so the exit's one statement that
  reads the row reads them too.
- ``garages.pricing_choice`` (NOT NULL DEFAULT 'lowest', ``ck_garages_pricing_choice``): ``lowest``
  (the driver pays the lowest applicable price) or ``first`` (the first flat price listed that applies).
- ``tickets.price_rule`` (nullable): the rule that produced a paid ticket's time fee ("Night rate"),
  written by the exit's statement; NULL for tickets paid before this revision and active ones.

PostgreSQL: constant defaults and a nullable column are catalog changes only (no table rewrite); the
garages' check constraint scans one row per garage. Re-runnable (guarded by tickets.price_rule, added last).

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CHOICE = "pricing_choice IN ('lowest', 'first')"


def _columns(table: str) -> set[str]:
    return {column['name'] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade():
    if 'price_rule' in _columns('tickets'):
        return
    if 'pricing_choice' not in _columns('garages'):
        with op.batch_alter_table('garages') as batch_op:
            batch_op.add_column(sa.Column('rate_periods', sa.Text(), nullable=False, server_default='[]'))
            batch_op.add_column(sa.Column('pricing_choice', sa.String(length=8), nullable=False,
                                          server_default='lowest'))
            batch_op.create_check_constraint('ck_garages_pricing_choice', CHOICE)
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.add_column(sa.Column('price_rule', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_column('price_rule')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_constraint('ck_garages_pricing_choice', type_='check')
        batch_op.drop_column('pricing_choice')
        batch_op.drop_column('rate_periods')
