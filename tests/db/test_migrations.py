"""Migrations on a database that already has data, on SQLite and PostgreSQL: after 0002
the defaults keep the old fees and the models match the migrations; 0003's ticket indexes
serve the range queries."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from garage import create_app
from garage.extensions import db
from tests.helpers.postgres import throwaway_postgres
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    gen = throwaway_postgres()
    try:
        yield next(gen)
    finally:
        gen.close()


def test_upgrade_from_0001_keeps_data_and_behaviour(empty_database, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "k"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        try:
            upgrade(revision="0001")
            with db.engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO garage_settings (id, total_spaces, hourly_rate, timezone, garage_name, "
                    "almost_full_percent, occupied, updated_at) VALUES (1, 50, 1200, 'UTC', 'Old', 90, 1, :t)"),
                    {"t": T0})
                for number, status, exit_time, amount in [("PS-AAAA22", "completed", T0, 2400),
                                                          ("PS-BBBB33", "active", None, None)]:
                    conn.execute(sa.text(
                        "INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, "
                        "entry_time, exit_time, amount_paid, status, last_event_at, created_at, updated_at) "
                        "VALUES (:n, 'P', :k, 'Motorcycle', :e, :x, :a, :s, :e, :e, :e)"),
                        {"n": number, "k": number[-4:], "e": T0 - timedelta(hours=2), "x": exit_time,
                         "a": amount, "s": status})
            upgrade()

            from garage.services import tickets as ticket_service
            from garage.services.settings import current_tariff
            tariff = current_tariff(MAIN)
            assert (tariff.hourly_rate_cents, tariff.grace_minutes, tariff.daily_max_cents,
                    tariff.vehicle_rates, tariff.lost_ticket_fee_cents, tariff.lost_ticket_mode) == \
                (1200, 0, None, (), 0, "replace")
            paid = ticket_service.find_ticket(MAIN, "PS-AAAA22")
            assert paid.lost is False and paid.lost_fee_cents is None and paid.amount_paid == 2400
            inside = ticket_service.find_ticket(MAIN, "PS-BBBB33")
            # the old rule: 2 hours 30 at $12 is three started hours, lost or not (no fee configured)
            for lost in (False, True):
                q = ticket_service.quote_for(inside, T0 + timedelta(minutes=30), lost=lost)
                assert q.amount_cents == 3600
            db.session.remove()

            # the models and the migrations describe the same schema
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], diff

            downgrade(revision="0001")
            with db.engine.connect() as conn:
                columns = {c["name"] for c in sa.inspect(conn).get_columns("tickets")}
                assert "lost" not in columns
                assert conn.execute(sa.text("SELECT hourly_rate FROM garage_settings")).scalar() == 1200
            upgrade()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_ticket_indexes_after_0003_serve_the_range_queries(empty_database, tmp_path):
    """Migration 0003: no plate index (nothing reads it), and exit times indexed only
    where there is one, with the amount and stay: today's figures read that index alone."""
    from flask_migrate import downgrade, upgrade

    from garage.services.stats import TODAY_FIGURES

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "k"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        try:
            upgrade()
            with db.engine.connect() as conn:
                indexes = {i["name"]: i for i in sa.inspect(conn).get_indexes("tickets")}
                assert "ix_tickets_plate_key" not in indexes
                if conn.dialect.name == "postgresql":
                    definition = conn.execute(sa.text(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tickets_exit_time'")).scalar()
                    options = conn.execute(sa.text(
                        "SELECT reloptions FROM pg_class WHERE relname = 'tickets'")).scalar()
                    assert "autovacuum_vacuum_scale_factor=0.01" in options
                    conn.execute(sa.text("SET enable_seqscan = off"))  # an empty table: ask for the index
                    explain = "EXPLAIN "
                else:
                    definition = conn.execute(sa.text(
                        "SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_exit_time'")).scalar()
                    explain = "EXPLAIN QUERY PLAN "
                assert "exit_time IS NOT NULL" in definition
                compiled = TODAY_FIGURES.compile(conn)  # the statement the stats endpoint runs
                bounds = compiled.construct_params(
                    {"garage_id": 1, "start": T0.isoformat(), "end": (T0 + timedelta(days=1)).isoformat()})
                args = tuple(bounds[k] for k in compiled.positiontup) if compiled.positional else bounds
                plan = conn.exec_driver_sql(explain + compiled.string, args).fetchall()
                plan = " ".join(str(row) for row in plan)
                # read from the index alone: no table page per exit of the day
                assert ("Index Only Scan using ix_tickets_exit_time" in plan
                        or "COVERING INDEX ix_tickets_exit_time" in plan), plan
            downgrade(revision="0002")
            with db.engine.connect() as conn:
                assert "ix_tickets_plate_key" in {i["name"] for i in sa.inspect(conn).get_indexes("tickets")}
                definition = conn.execute(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tickets_exit_time'"
                    if conn.dialect.name == "postgresql" else
                    "SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_exit_time'")).scalar()
                assert "exit_time" in definition and "NOT NULL" not in definition  # the full index again
                if conn.dialect.name == "postgresql":
                    assert conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'tickets'")
                                        ).scalar() is None
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def app_on(url: str, tmp_path):
    """An app on the database at `url` (migrated as the test says), inside its app context."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "k"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def test_0004_adds_session_and_throttle_tables_to_a_database_with_users(empty_database, tmp_path):
    """Migration 0004 on a database with staff: the users keep signing in (a session row
    each, the throttle counting in its own table), and it downgrades cleanly."""
    from flask_migrate import downgrade, upgrade
    from werkzeug.security import generate_password_hash

    from garage.domain.errors import Unauthenticated
    from garage.services import accounts

    with app_on(empty_database, tmp_path) as app, app.test_request_context():
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (username, password_hash, role, active, must_change_password, created_at) "
                "VALUES ('old.boss', :h, 'manager', :t, :f, :at)"),
                {"h": generate_password_hash("old boss password", method="scrypt"), "t": True, "f": False, "at": T0})
        upgrade()
        with pytest.raises(Unauthenticated):
            accounts.sign_in("old.boss", "wrong password", "192.0.2.1")
        db.session.rollback()
        user = accounts.sign_in("Old.Boss", "old boss password", "192.0.2.1")
        assert user.username == "old.boss" and user.session_secret
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM user_sessions")).scalar() == 1
            assert conn.execute(sa.text("SELECT key FROM sign_in_throttle")).scalars().all() == ["ip:192.0.2.1"]
        db.session.remove()
        downgrade(revision="0003")
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert "user_sessions" not in tables and "sign_in_throttle" not in tables
            assert conn.execute(sa.text("SELECT username FROM users")).scalar() == "old.boss"


def test_0005_adds_receipt_details_to_a_garage_with_history(empty_database, tmp_path):
    """Migration 0005 on a garage with paid and active tickets: no address, tax or tax id
    until a manager sets them; tickets paid before keep no receipt number, and numbering
    starts at 1 with the next payment. It downgrades cleanly, keeping the data."""
    from flask_migrate import downgrade, upgrade

    from garage.services import tickets as ticket_service

    with app_on(empty_database, tmp_path) as app, app.test_request_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO garage_settings (id, total_spaces, hourly_rate, timezone, garage_name, "
                "almost_full_percent, occupied, updated_at) VALUES (1, 50, 1200, 'UTC', 'Old', 90, 1, :t)"),
                {"t": T0})
            for number, status, exit_time, amount in [("PS-CCCC44", "completed", T0, 2400),
                                                      ("PS-DDDD55", "active", None, None)]:
                conn.execute(sa.text(
                    "INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, "
                    "entry_time, exit_time, amount_paid, status, last_event_at, created_at, updated_at) "
                    "VALUES (:n, 'P', :k, 'Car', :e, :x, :a, :s, :e, :e, :e)"),
                    {"n": number, "k": number[-4:], "e": T0 - timedelta(hours=2), "x": exit_time,
                     "a": amount, "s": status})
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT garage_address, tax_rate_bp, tax_id, receipt_seq FROM garages")).one()
            assert tuple(row) == ("", 0, "", 0)
            assert conn.execute(sa.text(
                "SELECT receipt_number, tax_rate_bp FROM tickets WHERE status = 'completed'")).one() == (None, None)
        paid = ticket_service.process_exit(MAIN, "PS-DDDD55", "Cash", now=T0)
        assert (paid.receipt_number, paid.tax_rate_bp, paid.amount_paid) == (1, 0, 1200 * 2)
        db.session.remove()
        with db.engine.connect() as conn:  # the unique index refuses a second ticket with the same number
            with pytest.raises(sa.exc.IntegrityError):
                conn.execute(sa.text("UPDATE tickets SET receipt_number = 1 WHERE ticket_number = 'PS-CCCC44'"))
        downgrade(revision="0004")
        with db.engine.connect() as conn:
            assert not {"receipt_number", "tax_rate_bp"} & {c["name"] for c in sa.inspect(conn).get_columns("tickets")}
            settings_columns = {c["name"] for c in sa.inspect(conn).get_columns("garage_settings")}
            assert not {"garage_address", "tax_rate_bp", "tax_id", "receipt_seq"} & settings_columns
            assert conn.execute(sa.text("SELECT count(*) FROM tickets WHERE status = 'completed'")).scalar() == 2
        upgrade()  # and up again


def test_0007_turns_a_single_garage_into_the_default_garage_keeping_everything(empty_database, tmp_path):
    """Migration 0007 on a database filled at 0006 (a garage with cars inside and paid, staff, a
    token, a vehicle rate, audit rows): every row is kept and belongs to garage 1 (slug main), the
    counter and the receipt sequence go on where they were, managers and attendants keep their
    role there, the first-run admin becomes the operator admin, the token is scoped to garage 1.
    The models match the migrations; the downgrade gives the old roles back."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade
    from werkzeug.security import generate_password_hash

    from garage.identity import STAFF, TokenCaller, hash_token
    from garage.services import tickets as ticket_service
    from garage.services.settings import current_tariff
    from tests.helpers.db import role_at

    with app_on(empty_database, tmp_path) as app, app.test_request_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO garage_settings (id, total_spaces, hourly_rate, timezone, garage_name, almost_full_percent,"
                " occupied, updated_at, receipt_seq, tax_rate_bp) VALUES (1, 50, 1200, 'UTC', 'Old', 90, 1, :t, 7, 1900)"),
                {"t": T0})
            for name, role in (("admin", "manager"), ("boss", "manager"), ("ann", "attendant")):
                conn.execute(sa.text(
                    "INSERT INTO users (username, password_hash, role, active, must_change_password, created_at) "
                    "VALUES (:u, :h, :r, :a, :f, :t)"),
                    {"u": name, "h": generate_password_hash("x" * 12, method="scrypt"), "r": role, "a": True,
                     "f": False, "t": T0})
            ann = conn.execute(sa.text("SELECT id FROM users WHERE username = 'ann'")).scalar()
            conn.execute(sa.text("INSERT INTO api_tokens (user_id, token_hash, prefix, created_at) "
                                 "VALUES (:u, :h, 'gar_old', :t)"), {"u": ann, "h": hash_token("gar_old_token"), "t": T0})
            conn.execute(sa.text("INSERT INTO vehicle_rates (vehicle_type, hourly_rate) VALUES ('Van', 1500)"))
            for number, status, exit_time, amount, receipt in [("PS-AAAA22", "completed", T0, 2400, 7),
                                                               ("PS-BBBB33", "active", None, None, None)]:
                conn.execute(sa.text(
                    "INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, exit_time,"
                    " amount_paid, status, last_event_at, created_at, updated_at, receipt_number, lost) "
                    "VALUES (:n, :p, :k, 'Van', :e, :x, :a, :s, :e, :e, :e, :r, :lost)"),
                    {"n": number, "p": f"OLD {number[3]}", "k": f"OLD{number[3]}", "e": T0 - timedelta(hours=2), "x": exit_time, "a": amount, "s": status,
                     "r": receipt, "lost": False})
                conn.execute(sa.text("INSERT INTO audit_log (at, username, action, object_type, object_id) "
                                     "VALUES (:t, 'ann', :a, 'ticket', :n)"),
                             {"t": T0, "a": "ticket.paid" if status == "completed" else "ticket.issued", "n": number})
            conn.execute(sa.text("INSERT INTO audit_log (at, username, action, object_type, object_id) "
                                 "VALUES (:t, 'cli', 'user.created', 'user', 'ann')"), {"t": T0})
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, slug, garage_name, occupied, receipt_seq, total_spaces, tax_rate_bp "
                                        "FROM garages")).all() == [(1, "main", "Old", 1, 7, 50, 1900)]
            assert conn.execute(sa.text("SELECT garage_id, count(*) FROM tickets GROUP BY garage_id")).all() == [(1, 2)]
            assert conn.execute(sa.text("SELECT garage_id, count(*) FROM audit_log GROUP BY garage_id")).all() == [(1, 3)]
            assert conn.execute(sa.text("SELECT garage_id, vehicle_type, hourly_rate FROM vehicle_rates")).all() == \
                [(1, "Van", 1500)]
            assert conn.execute(sa.text("SELECT username, role FROM users ORDER BY username")).all() == \
                [("admin", "admin"), ("ann", None), ("boss", None)]
            assert conn.execute(sa.text("SELECT garage_id FROM api_token_garages")).scalars().all() == [1]
        assert (role_at("boss"), role_at("ann"), role_at("admin")) == ("manager", "attendant", None)
        assert current_tariff(1).rate_for("Van") == 1500
        from garage.domain.errors import AlreadyInside
        with pytest.raises(AlreadyInside):  # the plate rule holds on the migrated rows
            ticket_service.issue_ticket(1, "old b", "Car")
        ann_token = TokenCaller(hash_token("gar_old_token"), STAFF, None)  # the old token, at its only garage
        paid = ticket_service.process_exit(None, "PS-BBBB33", "Cash", ann_token, now=T0)
        assert (paid.receipt_number, paid.tax_rate_bp, paid.amount_paid, paid.garage_id) == (8, 1900, 3000, 1)
        db.session.remove()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT occupied, receipt_seq FROM garages")).one() == (0, 8)
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff

        downgrade(revision="0006")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT username, role FROM users ORDER BY username")).all() == \
                [("admin", "manager"), ("ann", "attendant"), ("boss", "manager")]
            assert conn.execute(sa.text("SELECT occupied, receipt_seq FROM garage_settings")).one() == (0, 8)
            assert conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar() == 2
            assert conn.execute(sa.text("SELECT vehicle_type FROM vehicle_rates")).scalars().all() == ["Van"]
        upgrade()  # and up again


def old_garage(conn, occupied: int, receipt_seq: int) -> None:
    """The default garage as 0008/0009 stored it (50 spaces, $12/h, UTC, named Old)."""
    conn.execute(sa.text(
        "INSERT INTO garages (id, slug, total_spaces, hourly_rate, timezone, garage_name, almost_full_percent,"
        " occupied, updated_at, receipt_seq) VALUES (1, 'main', 50, 1200, 'UTC', 'Old', 90, :o, :t, :r)"),
        {"t": T0, "o": occupied, "r": receipt_seq})


def old_ticket(conn, number: str, entered: datetime, status: str = "active", paid: int | None = None) -> None:
    """A ticket of the default garage as 0008/0009 stored it (plate = number)."""
    conn.execute(sa.text(
        "INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time,"
        " status, amount_paid, last_event_at, created_at, updated_at, lost) "
        "VALUES (1, :n, :n, :n, 'Car', :e, :s, :p, :e, :e, :e, false)"),
        {"n": number, "e": entered, "s": status, "p": paid})


def test_0009_adds_shifts_leaving_existing_garages_taking_payments_without_one(empty_database, tmp_path):
    """Migration 0009 on a garage with history (0008): its garage does not require a shift (a payment
    without one still goes through, in no shift), a payment in an open shift records it, one open
    shift per person; the models match the migrations; down and up again."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import IntegrityError

    from garage.identity import Actor
    from garage.services import tickets as ticket_service

    with app_on(empty_database, tmp_path) as app, app.test_request_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            old_garage(conn, occupied=2, receipt_seq=7)
            conn.execute(sa.text("INSERT INTO users (username, password_hash, active, must_change_password, "
                                 "created_at) VALUES ('ann', 'x', true, false, :t)"), {"t": T0})
            for number in ("PS-AAAA22", "PS-BBBB33"):
                old_ticket(conn, number, T0 - timedelta(hours=2))
        upgrade()
        with db.engine.connect() as conn:
            assert not conn.execute(sa.text("SELECT payments_require_shift FROM garages")).scalar()
            ann = conn.execute(sa.text("SELECT id FROM users")).scalar()
        paid = ticket_service.process_exit(MAIN, "PS-AAAA22", "Cash", Actor(ann, "ann"), now=T0)
        assert paid.shift_id is None and paid.receipt_number == 8
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO shifts (garage_id, opened_by_id, opened_at, float_cents) "
                                 "VALUES (1, :u, :t, 5000)"), {"u": ann, "t": T0})
        with pytest.raises(IntegrityError):  # one open shift per person per garage
            with db.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO shifts (garage_id, opened_by_id, opened_at, float_cents) "
                                     "VALUES (1, :u, :t, 0)"), {"u": ann, "t": T0})
        paid = ticket_service.process_exit(MAIN, "PS-BBBB33", "Cash", Actor(ann, "ann"), now=T0)
        assert paid.shift_id is not None
        db.session.remove()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff

        downgrade(revision="0008")
        with db.engine.connect() as conn:
            assert "shift_id" not in {c["name"] for c in sa.inspect(conn).get_columns("tickets")}
            assert not sa.inspect(conn).has_table("shifts")
            assert conn.execute(sa.text("SELECT count(*) FROM tickets WHERE status = 'completed'")).scalar() == 2
        upgrade()  # and up again


def test_0010_adds_voids_and_refunds_to_a_garage_with_history(empty_database, tmp_path):
    """Migration 0010 on a garage with history (0009): paid tickets have nothing refunded, the database
    refuses a refund above the payment and accepts a voided ticket, attendants get a 10-minute void
    window; the models match the migrations; down (a voided ticket goes back as completed, unpaid)
    and up again."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import IntegrityError

    with app_on(empty_database, tmp_path) as app, app.test_request_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            old_garage(conn, occupied=1, receipt_seq=1)
            old_ticket(conn, "PS-AAAA22", T0, "completed", 1200)
            old_ticket(conn, "PS-BBBB33", T0)
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT sum(refunded_cents) FROM tickets")).scalar() == 0
            assert conn.execute(sa.text("SELECT void_window_minutes FROM garages")).scalar() == 10
        with pytest.raises(IntegrityError):  # never more back than was paid
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE tickets SET refunded_cents = 1201 WHERE ticket_number = 'PS-AAAA22'"))
        with pytest.raises(IntegrityError):  # nothing back of an unpaid ticket
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE tickets SET refunded_cents = 1 WHERE ticket_number = 'PS-BBBB33'"))
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE tickets SET status = 'voided', exit_time = :t WHERE ticket_number = "
                                 "'PS-BBBB33'"), {"t": T0})
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff

        downgrade(revision="0009")
        with db.engine.connect() as conn:
            assert "refunded_cents" not in {c["name"] for c in sa.inspect(conn).get_columns("tickets")}
            assert not sa.inspect(conn).has_table("refunds")
            assert conn.execute(sa.text("SELECT status FROM tickets WHERE ticket_number = 'PS-BBBB33'")).scalar() \
                == "completed"
        upgrade()  # and up again
