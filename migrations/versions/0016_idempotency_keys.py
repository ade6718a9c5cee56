"""idempotency keys (issue 20): a retried API entry or exit gets its first answer again

- ``idempotency_keys``: the answer (status, JSON body) kept per garage, caller (the token's owner) and
  key, with a hash of the request; written in the same transaction as the ticket or payment it answers.
  ``ix_idempotency_keys_created_at`` serves ``flask --app garage purge-idempotency``.

A new table without foreign keys: nothing else is locked (a foreign key to ``garages`` would take a lock
on the table every entry updates while it is created). Re-runnable (guarded by the table and the index it creates).

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table('idempotency_keys'):
        if 'ix_idempotency_keys_created_at' not in {i['name'] for i in inspector.get_indexes('idempotency_keys')}:
            op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])
        return
    op.create_table(
        'idempotency_keys',
        sa.Column('garage_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.SmallInteger(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('garage_id', 'user_id', 'key'))
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])


def downgrade():
    op.drop_index('ix_idempotency_keys_created_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
