"""voids, corrections and refunds (issue 18, stage 2)

- ``tickets.status`` may be ``'voided'`` (a ticket issued by mistake; ``void_reason`` says why).
- ``tickets.refunded_cents`` (NOT NULL DEFAULT 0): what has been given back of the payment,
  checked by the database never to exceed ``amount_paid`` (``ck_tickets_refunded``).
- ``refunds``: one row per refund (amount, method, reason, who, when, the refunder's shift).
- ``garages.void_window_minutes`` (default 10): how long after an entry an attendant may void it.

PostgreSQL: the new columns are catalog changes (a constant default is stored once, no table
rewrite); the tickets' check constraints are added NOT VALID and validated in a later step (a scan
that lets entries and exits go on). Re-runnable: the transactional part runs once (guarded by the
table it creates, refunds); the validations are idempotent.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STATUS_OLD = "status IN ('active', 'completed')"
STATUS_NEW = "status IN ('active', 'completed', 'voided')"
REFUNDED = "refunded_cents >= 0 AND refunded_cents <= COALESCE(amount_paid, 0)"
VOID_WINDOW = "void_window_minutes >= 0 AND void_window_minutes <= 1440"
HAS_SHIFT = "shift_id IS NOT NULL"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if not sa.inspect(op.get_bind()).has_table('refunds'):
        _tables()
    if _postgresql():
        with op.get_context().autocommit_block():
            op.execute('ALTER TABLE tickets VALIDATE CONSTRAINT ck_tickets_status')
            op.execute('ALTER TABLE tickets VALIDATE CONSTRAINT ck_tickets_refunded')


def _tables():
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('payment_method', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('refunded_by_id', sa.Integer(), nullable=True),
        sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('shift_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount_cents > 0', name='ck_refunds_amount_pos'),
        sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['refunded_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_refunds_ticket_id', 'refunds', ['ticket_id'])
    op.create_index('ix_refunds_garage_at', 'refunds', ['garage_id', 'refunded_at'])
    op.create_index('ix_refunds_shift', 'refunds', ['garage_id', 'shift_id'],
                    postgresql_where=sa.text(HAS_SHIFT), sqlite_where=sa.text(HAS_SHIFT))
    with op.batch_alter_table('garages') as batch_op:
        batch_op.add_column(sa.Column('void_window_minutes', sa.Integer(), nullable=False, server_default='10'))
        batch_op.create_check_constraint('ck_garages_void_window', VOID_WINDOW)
    if _postgresql():
        op.execute('ALTER TABLE tickets ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0')
        op.execute('ALTER TABLE tickets ADD COLUMN void_reason VARCHAR(500)')
        op.execute('ALTER TABLE tickets DROP CONSTRAINT ck_tickets_status')
        op.execute(f'ALTER TABLE tickets ADD CONSTRAINT ck_tickets_status CHECK ({STATUS_NEW}) NOT VALID')
        op.execute(f'ALTER TABLE tickets ADD CONSTRAINT ck_tickets_refunded CHECK ({REFUNDED}) NOT VALID')
    else:
        with op.batch_alter_table('tickets') as batch_op:
            batch_op.add_column(sa.Column('refunded_cents', sa.Integer(), nullable=False, server_default='0'))
            batch_op.add_column(sa.Column('void_reason', sa.String(length=500), nullable=True))
            batch_op.drop_constraint('ck_tickets_status', type_='check')
            batch_op.create_check_constraint('ck_tickets_status', STATUS_NEW)
            batch_op.create_check_constraint('ck_tickets_refunded', REFUNDED)


def downgrade():
    # A voided ticket had never been recorded before this revision: it goes back as a completed
    # ticket with no payment (its space was freed).
    op.execute("UPDATE tickets SET status = 'completed' WHERE status = 'voided'")
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_constraint('ck_tickets_refunded', type_='check')
        batch_op.drop_constraint('ck_tickets_status', type_='check')
        batch_op.create_check_constraint('ck_tickets_status', STATUS_OLD)
        batch_op.drop_column('void_reason')
        batch_op.drop_column('refunded_cents')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_constraint('ck_garages_void_window', type_='check')
        batch_op.drop_column('void_window_minutes')
    op.drop_index('ix_refunds_shift', table_name='refunds')
    op.drop_index('ix_refunds_garage_at', table_name='refunds')
    op.drop_index('ix_refunds_ticket_id', table_name='refunds')
    op.drop_table('refunds')
