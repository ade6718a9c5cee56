"""Is this instance ready to serve (GET /readyz)? The database answers within a short deadline
and its schema is at the migrations' head.

Bounded on PostgreSQL by the app's own deadline (outage.bounded: connect, the pool's ping and
every answer) and by a ``statement_timeout`` local to the check's transaction, so a frozen or
overloaded server costs a probe about DB_CONNECT_TIMEOUT, never a worker."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from ..extensions import db
from . import outage

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

DATABASE = "database"  # unreachable, refused or too slow
MIGRATIONS_BEHIND = "migrations"  # reachable, but its schema is not the code's


@lru_cache(maxsize=1)
def heads() -> frozenset[str]:
    """The revisions `flask db upgrade` leads to (read once per process: the code does not change)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def check(seconds: float) -> tuple[str | None, sa.exc.SQLAlchemyError | None]:
    """(None, None) when ready; else (why not: :data:`DATABASE` or :data:`MIGRATIONS_BEHIND`,
    the database error behind it if any, for the caller's log). Raises nothing."""
    try:
        with outage.bounded(seconds):
            connection = db.session.connection()
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))
            found = set(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        # No alembic_version table (never migrated) is a schema problem, not an outage.
        return (DATABASE if outage.unavailable(exc) else MIGRATIONS_BEHIND), exc
    db.session.rollback()  # nothing to keep; ends the SET LOCAL
    return (None if found == heads() else MIGRATIONS_BEHIND), None
