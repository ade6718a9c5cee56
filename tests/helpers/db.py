"""Looking at and arranging the database directly, inside the test's app context:
tickets, settings, audit rows, emptying the tables, and counting the SQL statements sent."""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable, Iterator, TypeVar

import sqlalchemy as sa

from garage.extensions import db
from garage.domain.garages import DEFAULT_GARAGE_ID
from garage.models import AuditEvent, Garage, GarageGrant, Ticket, User

TABLES = ("kept_reports", "report_month_breakdowns", "report_month_stays", "report_months", "report_days", "report_hours", "report_stays", "report_breakdowns", "audit_log", "idempotency_keys", "user_sessions", "sign_in_throttle", "api_token_garages", "api_tokens", "daily_closes", "refunds", "ticket_validations", "validation_codes",
          "validation_programs", "tickets", "permit_payments", "permit_plates", "permits", "shifts",
          "vehicle_rates", "garage_grants", "garages", "users")


def empty_tables(attempts: int = 5) -> None:
    """Delete every row (PostgreSQL: the tables' id sequences restarted too).

    A live server of the test may still be finishing the last test's requests (polls a frozen
    gunicorn answers when thawed): TRUNCATE then meets its locks. PostgreSQL breaks such a deadlock by
    failing one side; when it is ours (or our lock wait runs out), the emptying is simply tried again
    (seen once in CI: `deadlock detected` in a browser test's set-up)."""
    for attempt in range(attempts):
        try:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                    # DELETE and restarting the tables' id sequences, as TRUNCATE ... RESTART IDENTITY would,
                    # in one round trip: TRUNCATE gives each table new files (~140 ms a test on a busy
                    # machine against ~20 ms; the tests' tables hold a few rows).
                    conn.exec_driver_sql("; ".join([f"DELETE FROM {table}" for table in TABLES] +
                                                   [f"ALTER SEQUENCE {seq} RESTART" for seq in _sequences(conn)]))
                else:
                    for table in TABLES:
                        conn.execute(sa.text(f"DELETE FROM {table}"))
            return
        except sa.exc.OperationalError as error:
            retryable = getattr(error.orig, "pgcode", None) in ("40P01", "55P03")  # deadlock, lock timeout
            if not retryable or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


T = TypeVar("T")
_ARRANGED: dict[tuple[str, str], tuple[dict[str, list[dict[str, Any]]], Any]] = {}


def arranged_once(name: str, arrange: Callable[[], T]) -> T:
    """What `arrange()` builds (slowly: weeks of traffic through the services), built once per test process
    and database: the first time it runs and its rows are kept; after that the tables are emptied and
    those rows put back as they were (ids, times, audit rows; PostgreSQL's id sequences moved past them),
    and a copy of what it returned is returned. Each test still starts from exactly that state."""
    key = (name, db.engine.url.render_as_string(hide_password=True))
    if key not in _ARRANGED:
        result = arrange()
        db.session.commit()
        _ARRANGED[key] = (_rows_of_every_table(), copy.deepcopy(result))
        return result
    rows, result = _ARRANGED[key]
    empty_tables()
    db.session.expire_all()
    with db.engine.begin() as conn:
        for name_ in reversed(TABLES):  # parents first
            if rows[name_]:
                conn.execute(db.metadata.tables[name_].insert(), rows[name_])
        if conn.dialect.name == "postgresql":
            for name_ in TABLES:
                table = db.metadata.tables[name_]
                if "id" in table.c and table.c.id.primary_key and rows[name_]:
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name_}', 'id'), "
                                         f"(SELECT max(id) FROM {name_}))"))
    return copy.deepcopy(result)


def _rows_of_every_table() -> dict[str, list[dict[str, Any]]]:
    with db.engine.connect() as conn:
        return {name: [dict(row) for row in conn.execute(sa.select(db.metadata.tables[name])).mappings()]
                for name in TABLES}


_SEQUENCES: dict[str, list[str]] = {}


def _sequences(conn: sa.Connection) -> list[str]:
    """The id sequences of TABLES' columns (serial or identity), looked up once per database."""
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _SEQUENCES:
        _SEQUENCES[key] = list(conn.scalars(sa.text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables) "
            "ORDER BY s.relname"), {"tables": list(TABLES)}))
    return _SEQUENCES[key]


def ticket(number: str) -> Ticket:
    """The ticket as stored now (not a cached copy)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))


def backdate(number: str, **delta) -> None:
    """Move a ticket's entry into the past (`timedelta` arguments): for the fee, the clock moved forward."""
    t = ticket(number)
    t.entry_time = t.entry_time - timedelta(**delta)
    db.session.commit()


def ticket_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


def set_settings(**values) -> None:
    """Change the settings row directly (no validation, no audit)."""
    db.session.execute(sa.update(Garage).values(**values))
    db.session.commit()


def role_at(username: str, garage_id: int = DEFAULT_GARAGE_ID) -> str | None:
    """The user's role at the garage (their grant there), None without one."""
    return db.session.scalar(sa.select(GarageGrant.role).join(User, User.id == GarageGrant.user_id)
                             .where(User.username == username, GarageGrant.garage_id == garage_id)
                             .execution_options(populate_existing=True))


def audit_events(action: str, object_id: str | None = None) -> list[AuditEvent]:
    """The audit rows of `action` (for one object, if given), oldest first."""
    query = sa.select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


@contextmanager
def counting() -> Iterator[list[str]]:
    """Every SQL statement sent while inside (SQLAlchemy's before_cursor_execute)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with before_each_statement(record):
        yield statements


@contextmanager
def before_each_statement(hook) -> Iterator[None]:
    """`hook(conn, cursor, statement, parameters, context, executemany)` runs before every statement sent
    while inside (SQLAlchemy's before_cursor_execute on the app's engine)."""
    sa.event.listen(db.engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", hook)
