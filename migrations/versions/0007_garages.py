"""garages: many garages in one deployment (issue 17)

- garage_settings becomes ``garages`` (every column kept: the counter ``occupied`` and
  ``receipt_seq`` too; id 1 stays the garage there was) with a unique ``slug``: ``main`` for the
  migrated garage (garage/domain/garages.py says why a fixed word).
- ``garage_id`` (FK garages.id) on tickets and vehicle_rates (NOT NULL, back-filled with 1) and
  on audit_log (back-filled with 1; NULL from now on for operator-level events: a user or a
  garage created, a sign-in). vehicle_rates' key becomes (garage_id, vehicle_type).
- every key and lookup index of tickets leads with garage_id: ticket numbers unique per garage
  (uq_tickets_garage_number replaces the column's unique constraint), one active ticket per plate
  per garage, receipt numbers per garage, and the range and lookup indexes. The indexes keep their
  names: each is built anew CONCURRENTLY under a temporary name, the old one dropped CONCURRENTLY,
  the new one renamed (schema_changes.replace_index), so entries and exits go on and the rule is
  enforced throughout.
- grants: ``garage_grants`` (user, garage, role manager|attendant); ``users.role`` becomes the
  operator-wide role, 'admin' or NULL. Today's managers and attendants get a grant at garage 1
  with their role; the first-run user ``admin`` (flask init) becomes the operator admin.
- ``api_token_garages``: a token's scope; every existing token is scoped to garage 1.

Re-runnable on PostgreSQL (a lock timeout retries from the top): the transactional part runs once
(guarded by the table it creates last, garage_grants), the index builds skip what is done, and the
foreign keys are added NOT VALID and validated afterwards (no long lock on tickets).

Downgrade: only with one garage (the old schema cannot hold two); grants at garage 1 become roles
again (the admin becomes a manager; a user without a grant there an attendant).

Revision ID: 0007
Revises: 0006

"""
from alembic import op
import sqlalchemy as sa

from garage.persistence import schema_changes


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = "status = 'active'"
HAS_EXIT = "exit_time IS NOT NULL"
# name: (columns before, columns after, partial WHERE, unique)
TICKET_INDEXES = {
    'uq_tickets_active_plate': (['plate_key'], ['garage_id', 'plate_key'], ACTIVE, True),
    'ix_tickets_active_entry': (['entry_time'], ['garage_id', 'entry_time'], ACTIVE, False),
    'ix_tickets_exit_time': (['exit_time', 'amount_paid', 'duration_minutes'],
                             ['garage_id', 'exit_time', 'amount_paid', 'duration_minutes'], HAS_EXIT, False),
    'ix_tickets_entry_time': (['entry_time'], ['garage_id', 'entry_time'], None, False),
    'ix_tickets_plate_latest': (['plate_key', 'entry_time'], ['garage_id', 'plate_key', 'entry_time'], None, False),
    'ix_tickets_last_event_at': (['last_event_at'], ['garage_id', 'last_event_at'], None, False),
    'uq_tickets_receipt_number': (['receipt_number'], ['garage_id', 'receipt_number'], None, True),
}
# SQLite: the unnamed UNIQUE of 0001 (tickets.ticket_number) gets a name batch mode can drop.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
FOREIGN_KEYS = (('fk_tickets_garage_id', 'tickets'), ('fk_audit_log_garage_id', 'audit_log'),
                ('fk_vehicle_rates_garage_id', 'vehicle_rates'))


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if not sa.inspect(op.get_bind()).has_table('garage_grants'):
        _tables()
    for name, (_, columns, where, unique) in TICKET_INDEXES.items():
        schema_changes.replace_index(op, name, 'tickets', columns, where=where, unique=unique)
    if _postgresql():
        with op.get_context().autocommit_block():
            schema_changes.create_index_concurrently(op, 'uq_tickets_garage_number', 'tickets',
                                                     ['garage_id', 'ticket_number'], unique=True)
            schema_changes.create_index_concurrently(op, 'ix_audit_log_garage_at', 'audit_log', ['garage_id', 'at'])
        op.execute('ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_ticket_number_key')
        with op.get_context().autocommit_block():
            for name, table in FOREIGN_KEYS:  # a scan each, writes going on (SHARE UPDATE EXCLUSIVE)
                op.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT {name}')
    else:
        with op.batch_alter_table('tickets', naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint('uq_tickets_ticket_number', type_='unique')
            batch_op.create_index('uq_tickets_garage_number', ['garage_id', 'ticket_number'], unique=True)
        with op.batch_alter_table('audit_log') as batch_op:
            batch_op.create_index('ix_audit_log_garage_at', ['garage_id', 'at'])


def _tables():
    """Everything but the big index builds, in the migration's one transaction."""
    bind = op.get_bind()
    pg = _postgresql()
    op.rename_table('garage_settings', 'garages')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=40), nullable=True))
    # Rows that name garage 1 need it: a database with data but never `flask init`ed has none.
    needs_default = bind.execute(sa.text(
        "SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM users) + (SELECT count(*) FROM vehicle_rates)"
        " + (SELECT count(*) FROM audit_log)")).scalar()
    if needs_default and bind.execute(sa.text("SELECT count(*) FROM garages WHERE id = 1")).scalar() == 0:
        inside = bind.execute(sa.text("SELECT count(*) FROM tickets WHERE status = 'active'")).scalar()
        bind.execute(sa.text(
            "INSERT INTO garages (id, total_spaces, hourly_rate, timezone, garage_name, almost_full_percent, occupied,"
            " updated_at, garage_address, tax_rate_bp, tax_id, receipt_seq, grace_minutes, lost_ticket_fee_cents,"
            " lost_ticket_mode) VALUES (1, :spaces, 500, 'UTC', 'Garage', 90, :inside, CURRENT_TIMESTAMP, '', 0, '',"
            " 0, 0, 0, 'replace')"), {"spaces": max(140, inside), "inside": inside})
    op.execute("UPDATE garages SET slug = CASE WHEN id = 1 THEN 'main' ELSE 'garage-' || CAST(id AS VARCHAR(12)) END")
    with op.batch_alter_table('garages') as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint('garages_slug_key', ['slug'])

    # garage_id: NOT NULL with a default of 1 (PostgreSQL: a catalog change, no table rewrite),
    # the default then dropped (a new row must name its garage); foreign keys NOT VALID here.
    for table, nullable in (('tickets', False), ('audit_log', True)):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('garage_id', sa.Integer(), nullable=nullable, server_default='1'))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('garage_id', existing_type=sa.Integer(), server_default=None)
    if pg:
        for name, table in FOREIGN_KEYS[:2]:
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (garage_id) '
                       'REFERENCES garages (id) NOT VALID')
        op.execute('ALTER TABLE vehicle_rates ADD COLUMN garage_id INTEGER NOT NULL DEFAULT 1')
        op.execute('ALTER TABLE vehicle_rates ALTER COLUMN garage_id DROP DEFAULT')
        op.execute('ALTER TABLE vehicle_rates DROP CONSTRAINT vehicle_rates_pkey')
        op.execute('ALTER TABLE vehicle_rates ADD CONSTRAINT vehicle_rates_pkey PRIMARY KEY (garage_id, vehicle_type)')
        op.execute('ALTER TABLE vehicle_rates ADD CONSTRAINT fk_vehicle_rates_garage_id FOREIGN KEY (garage_id) '
                   'REFERENCES garages (id) NOT VALID')
    else:
        for name, table in FOREIGN_KEYS[:2]:
            with op.batch_alter_table(table) as batch_op:
                batch_op.create_foreign_key(name, 'garages', ['garage_id'], ['id'])
        _rebuild_vehicle_rates(with_garage=True)

    op.create_table('garage_grants',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('garage_id', sa.Integer(), nullable=False),
                    sa.Column('role', sa.String(length=16), nullable=False),
                    sa.CheckConstraint("role IN ('attendant', 'manager')", name='ck_garage_grants_role'),
                    sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id']),
                    sa.PrimaryKeyConstraint('user_id', 'garage_id'))
    op.create_index('ix_garage_grants_garage_id', 'garage_grants', ['garage_id'])
    op.create_table('api_token_garages',
                    sa.Column('token_id', sa.Integer(), nullable=False),
                    sa.Column('garage_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['garage_id'], ['garages.id']),
                    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id']),
                    sa.PrimaryKeyConstraint('token_id', 'garage_id'))
    op.create_index('ix_api_token_garages_garage_id', 'api_token_garages', ['garage_id'])

    op.execute("INSERT INTO garage_grants (user_id, garage_id, role) SELECT id, 1, role FROM users "
               "WHERE role IN ('attendant', 'manager') AND NOT (username = 'admin' AND role = 'manager')")
    op.execute("INSERT INTO api_token_garages (token_id, garage_id) SELECT id, 1 FROM api_tokens")
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint('ck_users_role', type_='check')
        batch_op.alter_column('role', existing_type=sa.String(length=16), nullable=True)
    op.execute("UPDATE users SET role = CASE WHEN username = 'admin' AND role = 'manager' THEN 'admin' END")
    with op.batch_alter_table('users') as batch_op:
        batch_op.create_check_constraint('ck_users_role', "role IS NULL OR role = 'admin'")


def _rebuild_vehicle_rates(with_garage: bool) -> None:
    """SQLite: a table's primary key changes only by building the table again (a few rows)."""
    columns = [sa.Column('vehicle_type', sa.String(length=32), nullable=False),
               sa.Column('hourly_rate', sa.Integer(), nullable=False),
               sa.CheckConstraint('hourly_rate >= 0', name='ck_vehicle_rates_nonneg')]
    if with_garage:
        columns = [sa.Column('garage_id', sa.Integer(), nullable=False), *columns,
                   sa.ForeignKeyConstraint(['garage_id'], ['garages.id'], name='fk_vehicle_rates_garage_id'),
                   sa.PrimaryKeyConstraint('garage_id', 'vehicle_type')]
        copy = ("INSERT INTO vehicle_rates_new (garage_id, vehicle_type, hourly_rate) "
                "SELECT 1, vehicle_type, hourly_rate FROM vehicle_rates")
    else:
        columns = [*columns, sa.PrimaryKeyConstraint('vehicle_type')]
        copy = ("INSERT INTO vehicle_rates_new (vehicle_type, hourly_rate) "
                "SELECT vehicle_type, hourly_rate FROM vehicle_rates WHERE garage_id = 1")
    op.create_table('vehicle_rates_new', *columns)
    op.execute(copy)
    op.drop_table('vehicle_rates')
    op.rename_table('vehicle_rates_new', 'vehicle_rates')


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM garages WHERE id <> 1")).scalar():
        raise RuntimeError("downgrade below 0007 needs a single garage (id 1): the old schema cannot hold more")
    pg = _postgresql()
    if pg:
        op.execute('ALTER TABLE tickets ADD CONSTRAINT tickets_ticket_number_key UNIQUE (ticket_number)')
        with op.get_context().autocommit_block():
            schema_changes.drop_index_concurrently(op, 'uq_tickets_garage_number')
            schema_changes.drop_index_concurrently(op, 'ix_audit_log_garage_at')
    else:
        with op.batch_alter_table('audit_log') as batch_op:
            batch_op.drop_index('ix_audit_log_garage_at')
        with op.batch_alter_table('tickets') as batch_op:
            batch_op.drop_index('uq_tickets_garage_number')
            batch_op.create_unique_constraint('uq_tickets_ticket_number', ['ticket_number'])
    for name, (columns, _, where, unique) in TICKET_INDEXES.items():
        schema_changes.replace_index(op, name, 'tickets', columns, where=where, unique=unique)

    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint('ck_users_role', type_='check')
    op.execute("UPDATE users SET role = CASE WHEN role = 'admin' THEN 'manager' ELSE COALESCE("
               "(SELECT g.role FROM garage_grants g WHERE g.user_id = users.id AND g.garage_id = 1), 'attendant') END")
    with op.batch_alter_table('users') as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_check_constraint('ck_users_role', "role IN ('attendant', 'manager')")
    op.drop_index('ix_api_token_garages_garage_id', table_name='api_token_garages')
    op.drop_table('api_token_garages')
    op.drop_index('ix_garage_grants_garage_id', table_name='garage_grants')
    op.drop_table('garage_grants')

    if pg:
        op.execute('ALTER TABLE vehicle_rates DROP CONSTRAINT fk_vehicle_rates_garage_id')
        op.execute('ALTER TABLE vehicle_rates DROP CONSTRAINT vehicle_rates_pkey')
        op.execute('ALTER TABLE vehicle_rates DROP COLUMN garage_id')
        op.execute('ALTER TABLE vehicle_rates ADD CONSTRAINT vehicle_rates_pkey PRIMARY KEY (vehicle_type)')
    else:
        _rebuild_vehicle_rates(with_garage=False)
    for name, table in FOREIGN_KEYS[:2]:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.drop_column('garage_id')
    with op.batch_alter_table('garages') as batch_op:
        batch_op.drop_constraint('garages_slug_key', type_='unique')
        batch_op.drop_column('slug')
    op.rename_table('garages', 'garage_settings')
