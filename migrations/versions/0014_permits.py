"""monthly permits and reserved spaces (issue 19)

- ``permits``, ``permit_plates`` (a plate on at most one permit per garage) and ``permit_payments``
  (sales and renewals: revenue) — new tables.
- ``garages.reserved_spaces`` (kept for permit holders), ``garages.occupied_permit`` (the permit cars
  among ``occupied``) and ``garages.permit_policy`` ('visitor' | 'refuse'), NOT NULL with constant
  defaults (PostgreSQL: catalog changes only), with their check constraints.
- ``tickets.permit_id`` (NULL: a visitor) and the partial unique index ``uq_tickets_permit_inside``
  (one car of a permit inside at a time), built CONCURRENTLY on PostgreSQL.
- ``garages.permit_max_plates`` (plates per permit at that garage, 1..10, default 5).

Re-runnable (the tables are guarded by ``permits``; the index build by its validity).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

from garage.persistence import schema_changes

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PERMIT_INSIDE = "status = 'active' AND permit_id IS NOT NULL"


def upgrade():
    if not sa.inspect(op.get_bind()).has_table('permits'):
        _tables()
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            schema_changes.create_index_concurrently(op, 'uq_tickets_permit_inside', 'tickets', ['permit_id'],
                                                     where=PERMIT_INSIDE, unique=True)
    elif 'uq_tickets_permit_inside' not in {ix['name'] for ix in sa.inspect(bind).get_indexes('tickets')}:
        op.create_index('uq_tickets_permit_inside', 'tickets', ['permit_id'], unique=True,
                        sqlite_where=sa.text(PERMIT_INSIDE))


def _tables():
    op.create_table(
        'permits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('holder', sa.String(length=80), nullable=False),
        sa.Column('contact', sa.String(length=120), nullable=False, server_default=''),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('price_cents', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended')", name='ck_permits_status'),
        sa.CheckConstraint('valid_until >= valid_from', name='ck_permits_period'),
        sa.CheckConstraint('price_cents >= 0', name='ck_permits_price'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_permits_garage_id', 'permits', ['garage_id'])
    op.create_table(
        'permit_plates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('permit_id', sa.Integer(), nullable=False),
        sa.Column('license_plate', sa.String(length=40), nullable=False),
        sa.Column('plate_key', sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['permit_id'], ['permits.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_permit_plates_permit_id', 'permit_plates', ['permit_id'])
    op.create_index('uq_permit_plates_garage_key', 'permit_plates', ['garage_id', 'plate_key'], unique=True)
    op.create_table(
        'permit_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('permit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('payment_method', sa.String(length=32), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=False),
        sa.Column('period_until', sa.Date(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('taken_by_id', sa.Integer(), nullable=True),
        sa.Column('shift_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('sale', 'renewal')", name='ck_permit_payments_kind'),
        sa.CheckConstraint('amount_cents >= 0', name='ck_permit_payments_amount'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['permit_id'], ['permits.id']),
        sa.ForeignKeyConstraint(['taken_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_permit_payments_permit_id', 'permit_payments', ['permit_id'])
    op.create_index('ix_permit_payments_taken', 'permit_payments', ['garage_id', 'taken_at'])
    with op.batch_alter_table('garages') as batch_op:
        batch_op.add_column(sa.Column('reserved_spaces', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('occupied_permit', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('permit_policy', sa.String(length=8), nullable=False,
                                      server_default='visitor'))
        batch_op.add_column(sa.Column('permit_max_plates', sa.Integer(), nullable=False, server_default='5'))
        batch_op.create_check_constraint('ck_garages_reserved',
                                         'reserved_spaces >= 0 AND reserved_spaces <= total_spaces')
        batch_op.create_check_constraint('ck_garages_occupied_permit',
                                         'occupied_permit >= 0 AND occupied_permit <= occupied')
        batch_op.create_check_constraint('ck_garages_permit_policy', "permit_policy IN ('visitor', 'refuse')")
        batch_op.create_check_constraint('ck_garages_permit_max_plates',
                                         'permit_max_plates >= 1 AND permit_max_plates <= 10')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.add_column(sa.Column('permit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_tickets_permit_id', 'permits', ['permit_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS uq_tickets_permit_inside')
    else:
        op.drop_index('uq_tickets_permit_inside', table_name='tickets')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_constraint('fk_tickets_permit_id', type_='foreignkey')
        batch_op.drop_column('permit_id')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_constraint('ck_garages_permit_max_plates', type_='check')
        batch_op.drop_constraint('ck_garages_permit_policy', type_='check')
        batch_op.drop_constraint('ck_garages_occupied_permit', type_='check')
        batch_op.drop_constraint('ck_garages_reserved', type_='check')
        batch_op.drop_column('permit_max_plates')
        batch_op.drop_column('permit_policy')
        batch_op.drop_column('occupied_permit')
        batch_op.drop_column('reserved_spaces')
    op.drop_index('ix_permit_payments_taken', table_name='permit_payments')
    op.drop_index('ix_permit_payments_permit_id', table_name='permit_payments')
    op.drop_table('permit_payments')
    op.drop_index('uq_permit_plates_garage_key', table_name='permit_plates')
    op.drop_index('ix_permit_plates_permit_id', table_name='permit_plates')
    op.drop_table('permit_plates')
    op.drop_index('ix_permits_garage_id', table_name='permits')
    op.drop_table('permits')
