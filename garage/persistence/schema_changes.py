"""Running the Alembic migrations on PostgreSQL so that they cannot wedge a live garage.

Why here (garage/persistence) and not in migrations/: migrations are persistence (SQL text and
the dialect live in this layer), and this package is importable from every place that runs them
(migrations/env.py, the version scripts, the tests) whatever the working directory.

What migrations/env.py gets from this module, on PostgreSQL (SQLite migrates as before):

- **their own connection** (:func:`migration_engine`): not the app's engine, so not the app's
  ``statement_timeout`` (STATEMENT_TIMEOUT_MS cuts off a request, not a ten-minute index build:
  ``statement_timeout = 0``) and not its reply deadline. The wait callback of
  garage/persistence/outage.py is process-wide, but it bounds only the connections the app's
  engine opened (DB_REPLY_TIMEOUT); this engine is a separate one, so its waits are unbounded.
- **a lock timeout** (MIGRATION_LOCK_TIMEOUT_MS): DDL queues for its lock behind any long
  transaction, and every entry and exit queues behind the DDL; a migration that cannot get its
  lock quickly gives up (SQLSTATE 55P03) instead of stopping the garage.
- **retries** (:func:`run_migrations`): each migration runs in its own transaction
  (``transaction_per_migration``), so a step refused a lock is rolled back alone, and the run
  starts again from the first migration not yet recorded, MIGRATION_LOCK_RETRIES times in all,
  waiting longer each time; then it stops with :class:`MigrationLocked` (exit status 1).
- **index builds that recover** (:func:`create_index_concurrently`): an interrupted
  ``CREATE INDEX CONCURRENTLY`` leaves an INVALID index behind; a re-run drops it and builds
  again instead of failing with DuplicateTable, and skips a valid one. Parts of a migration run
  in an autocommit block are repeated by a retry, so they must be written to be re-run.
- **Ctrl-C that stops** (:func:`interruptible`): SIGINT during a step waiting for its lock cancels
  the statement on the server (so the session leaves the lock queue at once instead of holding
  its place, and everyone queued behind it, until the lock timeout), is never retried, and ends
  the run with :class:`MigrationInterrupted` (exit status 1, "interrupted" in the log), whatever
  the driver's wait callback (garage/persistence/outage.py) made of the KeyboardInterrupt.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

log = logging.getLogger("garage.migrations")

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE: lock_timeout expired (or NOWAIT)
MAX_DELAY = 60.0  # seconds between two tries, at most


class MigrationLocked(RuntimeError):
    """A migration step could not get its lock within the lock timeout, try after try.
    (A RuntimeError: `flask db upgrade` prints it as one line and exits with status 1.)"""


class MigrationInterrupted(RuntimeError):
    """Ctrl-C (SIGINT) during the run: stopped, not retried (exit status 1, like MigrationLocked)."""


class _Interrupt:
    """What the SIGINT handler of one run knows: whether it fired, and the connection to cancel."""

    def __init__(self) -> None:
        self.fired = False
        self.dbapi_connection: Any = None

    def handle(self, signum: int, frame: Any) -> None:
        self.fired = True
        cancel = getattr(self.dbapi_connection, "cancel", None)  # psycopg2: ends the server-side wait
        if cancel is not None:
            try:
                cancel()
            except Exception:  # noqa: BLE001 (a closed connection: nothing left to cancel)
                pass
        raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[_Interrupt]:
    """SIGINT, for the duration, goes through an :class:`_Interrupt` (main thread only: elsewhere
    signals cannot be handled, and the default KeyboardInterrupt stays)."""
    interrupt = _Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return
    previous = signal.signal(signal.SIGINT, interrupt.handle)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(exc: BaseException | None = None) -> MigrationInterrupted:
    message = ("migration interrupted (Ctrl-C): the step in progress was cancelled and rolled back, and not tried "
               "again. Nothing after the last completed migration was recorded; run the upgrade again.")
    log.error(message)
    return MigrationInterrupted(message)


def migration_engine(url: sa.URL, connect_args: dict[str, Any], lock_timeout_ms: int) -> sa.Engine:
    """An engine of its own for the migrations: the app's connection settings (connect
    timeout, keepalives) without its statement timeout, with a lock timeout, no pool."""
    args = {key: value for key, value in connect_args.items() if key != "options"}
    args["options"] = (f"-c statement_timeout=0 -c lock_timeout={int(lock_timeout_ms)} "
                       "-c idle_in_transaction_session_timeout=0")
    return sa.create_engine(url, poolclass=NullPool, connect_args=args)


def lock_not_available(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE


LONG_TRANSACTIONS = sa.text("""
SELECT pid, state, round(extract(epoch FROM now() - xact_start))::int AS seconds, left(query, 80) AS query
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start < now() - :age * interval '1 ms'
ORDER BY xact_start LIMIT 3
""")


def _long_transactions(engine: sa.Engine, older_than_ms: int) -> str:
    """The oldest open transactions of other sessions (likely the lock holders), for the log."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(LONG_TRANSACTIONS, {"age": older_than_ms}).all()
    except sa.exc.SQLAlchemyError:
        return ""
    return "; ".join(f"pid {r.pid} {r.state} for {r.seconds} s: {r.query!r}" for r in rows)


def run_migrations(engine: sa.Engine, run_once: Callable[[sa.Connection], None], *, tries: int,
                   lock_timeout_ms: int, sleep: Callable[[float], None] = time.sleep) -> None:
    """`run_once(connection)` (configure the Alembic context, run the migrations in one
    transaction each) on a fresh connection, again after a step was refused its lock:
    `tries` times in all, waiting lock_timeout, then twice as long each time (at most
    MAX_DELAY seconds). Any other error stops at once."""
    with interruptible() as interrupt:
        try:
            _run_with_retries(engine, run_once, interrupt, tries=tries, lock_timeout_ms=lock_timeout_ms, sleep=sleep)
        except BaseException as exc:
            if interrupt.fired or isinstance(exc, KeyboardInterrupt):
                raise _interrupted() from None  # whatever the interrupt turned into on its way out
            raise


def _run_with_retries(engine: sa.Engine, run_once: Callable[[sa.Connection], None], interrupt: _Interrupt, *,
                      tries: int, lock_timeout_ms: int, sleep: Callable[[float], None]) -> None:
    delay = max(lock_timeout_ms / 1000, 0.1)
    for attempt in range(1, tries + 1):
        try:
            with engine.connect() as connection:
                interrupt.dbapi_connection = connection.connection.dbapi_connection
                try:
                    run_once(connection)
                finally:
                    interrupt.dbapi_connection = None
            return
        except sa.exc.DBAPIError as exc:
            if interrupt.fired or not lock_not_available(exc):
                raise
            statement = " ".join(str(exc.statement or "").split())[:160]
            holders = _long_transactions(engine, lock_timeout_ms)
            who = f" Open transactions: {holders}." if holders else ""
            if attempt == tries:
                message = (f"migration gave up: a step waited {lock_timeout_ms} ms for a lock held by another "
                           f"session, {tries} tries ({statement}).{who} Nothing after the last completed "
                           "migration was recorded; run the upgrade again when the database is quieter "
                           "(or raise MIGRATION_LOCK_TIMEOUT_MS / MIGRATION_LOCK_RETRIES).")
                log.error(message)
                raise MigrationLocked(message) from exc
            log.warning("migration step waited %d ms for a lock held by another session (try %d of %d: %s);"
                        " rolled back, trying again in %.1f s.%s", lock_timeout_ms, attempt, tries, statement,
                        delay, who)
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY)


# --- index builds that survive being interrupted (call inside op.get_context().autocommit_block()) ---

INDEX_VALIDITY = sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)")
INDEX_PREDICATE = sa.text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = to_regclass(:name)")


def index_validity(bind: sa.Connection, name: str) -> bool | None:
    """True: a valid index of that name; False: an INVALID one (an interrupted concurrent
    build); None: no such index."""
    return bind.execute(INDEX_VALIDITY, {"name": name}).scalar()


def index_predicate(bind: sa.Connection, name: str) -> str | None:
    """The WHERE of a partial index as PostgreSQL prints it (None: not partial, or no index)."""
    return bind.execute(INDEX_PREDICATE, {"name": name}).scalar()


def _quote(bind: sa.Connection, name: str) -> str:
    return bind.dialect.identifier_preparer.quote(name)


def create_index_concurrently(op: Any, name: str, table: str, columns: Sequence[str], *,
                              where: str | None = None, unique: bool = False) -> bool:
    """CREATE INDEX CONCURRENTLY that a re-run can finish: an index of that name that is
    valid is kept (False: nothing built); an INVALID one, left by a build that was cancelled
    (lock timeout, statement timeout, Ctrl-C, a unique violation), is dropped and built again.
    `op`: alembic's op, inside ``op.get_context().autocommit_block()``."""
    bind = op.get_bind()
    valid = index_validity(bind, name)
    if valid:
        log.info("index %s is already built and valid: kept", name)
        return False
    if valid is False:
        log.warning("index %s is INVALID (an interrupted build): dropping it and building it again", name)
        drop_index_concurrently(op, name)
    quote = lambda n: _quote(bind, n)  # noqa: E731
    op.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY {quote(name)} ON {quote(table)} "
               f"({', '.join(map(quote, columns))})" + (f" WHERE {where}" if where else ""))
    return True


def drop_index_concurrently(op: Any, name: str) -> None:
    """DROP INDEX CONCURRENTLY IF EXISTS (inside an autocommit block): re-runnable."""
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_quote(op.get_bind(), name)}")


# --- a migration's index on any database ---------------------------------------------------------

def add_index(op: Any, name: str, table: str, columns: Sequence[str], *, unique: bool = False) -> None:
    """A migration's new index: on PostgreSQL built CONCURRENTLY (writes go on; an interrupted
    build is rebuilt by the next run), elsewhere (SQLite) an ordinary one."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            create_index_concurrently(op, name, table, columns, unique=unique)
    else:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(name, list(columns), unique=unique)


def remove_index(op: Any, name: str, table: str) -> None:
    """The downgrade of add_index."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            drop_index_concurrently(op, name)
    else:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(name)


INDEX_DEFINITION = sa.text("SELECT pg_get_indexdef(to_regclass(:name))")


def _columns_of(definition: str | None) -> list[str] | None:
    """The key columns of `CREATE INDEX ... USING btree (a, b) [WHERE ...]` (None: no index)."""
    if not definition:
        return None
    inside = definition.split(" USING btree (", 1)[1].split(")", 1)[0]
    return [column.strip().strip('"') for column in inside.split(",")]


def replace_index(op: Any, name: str, table: str, columns: Sequence[str], *, where: str | None = None,
                  unique: bool = False) -> None:
    """Give the index `name` new key columns, keeping its name. PostgreSQL: the new index is built
    CONCURRENTLY as `<name>_new`, the old one dropped CONCURRENTLY, the new one renamed: the rule a
    unique index enforces holds throughout and writes go on. Re-runnable at every step (an index
    with the new columns is kept; a half-built `_new` is rebuilt). SQLite: dropped and created."""
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(name)
            options = {"sqlite_where": sa.text(where)} if where else {}
            batch_op.create_index(name, list(columns), unique=unique, **options)
        return
    bind = op.get_bind()
    temporary = f"{name}_new"
    with op.get_context().autocommit_block():
        if _columns_of(bind.execute(INDEX_DEFINITION, {"name": name}).scalar()) == list(columns):
            drop_index_concurrently(op, temporary)  # a leftover of a run that renamed, then failed
            return
        create_index_concurrently(op, temporary, table, columns, where=where, unique=unique)
        drop_index_concurrently(op, name)
        op.execute(f"ALTER INDEX {_quote(bind, temporary)} RENAME TO {_quote(bind, name)}")
