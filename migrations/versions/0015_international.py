"""garages outside the US (issue 22): currency, locale, languages, legal name, tax added or included

- ``garages.currency`` (CHAR 3 as VARCHAR(3) NOT NULL DEFAULT 'USD'): ISO 4217; amounts stay integer minor
  units of it (garage/domain/money.py: JPY has none, EUR 2, BHD 3).
- ``garages.locale`` (NOT NULL DEFAULT 'en_US'): how amounts, dates and numbers are written on its pages.
- ``garages.language`` (NOT NULL DEFAULT ''): its pages' default language; '' = the browser's.
- ``garages.lobby_language`` (NOT NULL DEFAULT ''): a second language the lobby screen alternates with.
- ``garages.legal_name`` (NOT NULL DEFAULT ''): the company on receipts ('' : the garage's name).
- ``garages.tax_added`` / ``tickets.tax_added`` (NOT NULL DEFAULT false): prices include the tax (false) or
  it is added on top; a paid ticket keeps how it was taxed, as it keeps its rate.
- ``users.language``, ``users.locale`` (nullable): a person's own choice, over the garage's.

PostgreSQL: constant defaults and nullable columns are catalog changes only (no table rewrite).
Re-runnable (guarded by users.locale, added last).

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {column['name'] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade():
    if 'locale' in _columns('users'):
        return
    if 'currency' not in _columns('garages'):
        with op.batch_alter_table('garages') as batch_op:
            batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=False, server_default='USD'))
            batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=False, server_default='en_US'))
            batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default=''))
            batch_op.add_column(sa.Column('lobby_language', sa.String(length=8), nullable=False, server_default=''))
            batch_op.add_column(sa.Column('legal_name', sa.String(length=120), nullable=False, server_default=''))
            batch_op.add_column(sa.Column('tax_added', sa.Boolean(), nullable=False, server_default=sa.false()))
            batch_op.create_check_constraint('ck_garages_currency', "length(currency) = 3")
    if 'tax_added' not in _columns('tickets'):
        with op.batch_alter_table('tickets') as batch_op:
            batch_op.add_column(sa.Column('tax_added', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('language')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_column('tax_added')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_constraint('ck_garages_currency', type_='check')
        for name in ('tax_added', 'legal_name', 'lobby_language', 'language', 'locale', 'currency'):
            batch_op.drop_column(name)
