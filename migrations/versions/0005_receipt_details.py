"""receipt details: the garage's address, tax rate and tax id; receipt numbers

garage_settings: garage_address ("" : none), tax_rate_bp (basis points, prices include
the tax; 0: no tax line), tax_id ("" : none), and receipt_seq, the last receipt number
drawn. tickets: receipt_number (unique; drawn by the exit from receipt_seq in the same
statement) and tax_rate_bp (the rate in force when it was paid).

Existing garages print no address, no tax line and no tax id until a manager sets them;
their numbering starts at R-000001 with the first payment after the upgrade. Tickets paid
before keep no receipt number (their receipts show none): no number is invented afterwards.

Revision ID: 0005
Revises: 0004

"""
from alembic import op
import sqlalchemy as sa

from garage.persistence import schema_changes


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('garage_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('garage_address', sa.String(length=244), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tax_rate_bp', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('receipt_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_settings_tax_rate', 'tax_rate_bp >= 0 AND tax_rate_bp <= 10000')
        batch_op.create_check_constraint('ck_settings_receipt_seq_nonneg', 'receipt_seq >= 0')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('tax_rate_bp', sa.Integer(), nullable=True))
    # CONCURRENTLY on PostgreSQL: entries and exits go on while a large tickets table is read.
    schema_changes.add_index(op, 'uq_tickets_receipt_number', 'tickets', ['receipt_number'], unique=True)


def downgrade():
    schema_changes.remove_index(op, 'uq_tickets_receipt_number', 'tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('tax_rate_bp')
        batch_op.drop_column('receipt_number')

    with op.batch_alter_table('garage_settings', schema=None) as batch_op:
        batch_op.drop_constraint('ck_settings_receipt_seq_nonneg', type_='check')
        batch_op.drop_constraint('ck_settings_tax_rate', type_='check')
        batch_op.drop_column('receipt_seq')
        batch_op.drop_column('tax_id')
        batch_op.drop_column('tax_rate_bp')
        batch_op.drop_column('garage_address')
