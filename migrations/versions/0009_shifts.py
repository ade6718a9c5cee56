"""shifts and the cash drawer (issue 18, stage 1)

- ``shifts``: an attendant's shift at a garage (float, who opened and closed it, the counted cash,
  as a total and per denomination, the expected cash and the over/short recorded at the close);
  one open shift per person per garage (partial unique index ``uq_shifts_open_per_person``).
- ``tickets.shift_id`` (nullable, FK shifts.id): the payer's shift a payment was taken in, written
  by the exit's own statement. PostgreSQL: a nullable column without a default is a catalog
  change (no table rewrite); the foreign key is added NOT VALID and validated in a later step
  (a scan that lets entries and exits go on); the index of a shift's payments
  (``ix_tickets_shift``, partial: only paid-in-a-shift rows) is built CONCURRENTLY.
- ``garages.payments_require_shift``: False for every garage there is (nothing changes for them);
  ``services.garages.create_garage`` sets it for garages created from now on.

Re-runnable on PostgreSQL (a lock timeout retries from the top): the transactional part runs once
(guarded by the table it creates, shifts), the index build skips a valid index, the validation
is idempotent.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

from garage.persistence import schema_changes

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SHIFT_OPEN = "closed_at IS NULL"
HAS_SHIFT = "shift_id IS NOT NULL"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if not sa.inspect(op.get_bind()).has_table('shifts'):
        _tables()
    if _postgresql():
        with op.get_context().autocommit_block():
            schema_changes.create_index_concurrently(op, 'ix_tickets_shift', 'tickets', ['garage_id', 'shift_id'],
                                                     where=HAS_SHIFT)
            op.execute('ALTER TABLE tickets VALIDATE CONSTRAINT fk_tickets_shift_id')
    else:
        with op.batch_alter_table('tickets') as batch_op:
            batch_op.create_index('ix_tickets_shift', ['garage_id', 'shift_id'], sqlite_where=sa.text(HAS_SHIFT))


def _tables():
    op.create_table(
        'shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('float_cents', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('counted_cash_cents', sa.Integer(), nullable=True),
        sa.Column('counted_by_denomination', sa.Text(), nullable=True),
        sa.Column('expected_cash_cents', sa.Integer(), nullable=True),
        sa.Column('over_short_cents', sa.Integer(), nullable=True),
        sa.CheckConstraint('float_cents >= 0', name='ck_shifts_float_nonneg'),
        sa.CheckConstraint('counted_cash_cents IS NULL OR counted_cash_cents >= 0', name='ck_shifts_counted_nonneg'),
        sa.CheckConstraint('(closed_at IS NULL) = (counted_cash_cents IS NULL)', name='ck_shifts_closed_counted'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('uq_shifts_open_per_person', 'shifts', ['garage_id', 'opened_by_id'], unique=True,
                    postgresql_where=sa.text(SHIFT_OPEN), sqlite_where=sa.text(SHIFT_OPEN))
    op.create_index('ix_shifts_garage_opened', 'shifts', ['garage_id', 'opened_at'])
    with op.batch_alter_table('garages') as batch_op:
        batch_op.add_column(sa.Column('payments_require_shift', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    if _postgresql():
        op.execute('ALTER TABLE tickets ADD COLUMN shift_id INTEGER')
        op.execute('ALTER TABLE tickets ADD CONSTRAINT fk_tickets_shift_id FOREIGN KEY (shift_id) '
                   'REFERENCES shifts (id) NOT VALID')
    else:
        with op.batch_alter_table('tickets') as batch_op:
            batch_op.add_column(sa.Column('shift_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key('fk_tickets_shift_id', 'shifts', ['shift_id'], ['id'])


def downgrade():
    schema_changes.remove_index(op, 'ix_tickets_shift', 'tickets')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_constraint('fk_tickets_shift_id', type_='foreignkey')
        batch_op.drop_column('shift_id')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_column('payments_require_shift')
    op.drop_index('ix_shifts_garage_opened', table_name='shifts')
    op.drop_index('uq_shifts_open_per_person', table_name='shifts')
    op.drop_table('shifts')
