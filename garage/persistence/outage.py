"""When the database is unreachable: bounded waits, and the one rule that says "outage".

Why a client-side deadline: PostgreSQL's own ``statement_timeout`` (STATEMENT_TIMEOUT_MS) is
enforced by the server, and libpq's ``connect_timeout`` only while connecting. A server that is
frozen (stopped process, hung host, full disk stalling every backend) still has its kernel
accept TCP connections and acknowledge what we send, so TCP keepalives see a healthy peer and a
worker waits for an answer for ever, until gunicorn kills it. psycopg2 has no read timeout; its
hook for waiting (a *wait callback*, ``psycopg2.extensions.set_wait_callback``) is where we bound
every wait instead:

- connecting, and the pool's check of an idle connection (pre-ping): DB_CONNECT_TIMEOUT;
- any statement's answer: DB_REPLY_TIMEOUT (longer than STATEMENT_TIMEOUT_MS, so a slow query is
  still cut off by the server, with its own error, and only a silent server ends here).

Past the deadline psycopg2 closes the connection and the statement raises :class:`NoAnswer`;
SQLAlchemy sees the closed connection as a disconnect and replaces the pooled connections.

After a failed connect or an unanswered wait, this worker does not ask again for as long as one
attempt may take (DB_CONNECT_TIMEOUT): requests in that window get their 503 at once instead of
each holding the worker for seconds, so static files and the sign-in page, which need no
database, are still served promptly by the few sync workers while the database is frozen.
Connections this module did not open (scripts, test admin engines) wait without a deadline.
A read replica (DATABASE_REPLICA_URL, garage/persistence/replica.py) gets the same bounded waits
through :class:`Spare`: its failures keep only the replica away, never the app's own database.

:func:`unavailable` is the one classification of database errors as "unreachable or timed out,
try again later" (garage/web.py answers those with 503 for every route); :func:`dropped` says which of
them lost a connection in use (a killed server, a failover), for which a read is tried once more."""
from __future__ import annotations

import select
import sqlite3
import time
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar

import psycopg2
import psycopg2.extensions as pgext
import sqlalchemy as sa
from sqlalchemy import event

from ..extensions import db

T = TypeVar("T")


class NoAnswer(psycopg2.OperationalError):
    """The database did not answer within the deadline (the connection is closed)."""


# Deadline of the connections the app's engines opened (weak: dropped with the connection).
_REPLY_TIMEOUT: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()
# A shorter deadline for what runs inside (connecting, the pool's ping).
_OVERRIDE: ContextVar[float | None] = ContextVar("garage_db_deadline", default=None)
# A spare database's connections, and the one being opened: what a failed wait marks away (else _away).
_MARKS: "weakref.WeakKeyDictionary[Any, Callable[[], None]]" = weakref.WeakKeyDictionary()
_MARKING: ContextVar[Callable[[], None] | None] = ContextVar("garage_db_marking", default=None)
_EVENTS = {pgext.POLL_READ: select.POLLIN, pgext.POLL_WRITE: select.POLLOUT}


# Until when (time.monotonic) this worker treats the database as away: see install's connect.
_AWAY_UNTIL = [0.0]
_PAUSE = [3.0]  # DB_CONNECT_TIMEOUT, set by install()
# How many times this worker saw the database come back after failing: one outage ends there.
_OUTAGES = [0]
_FAILED = [False]


def _away() -> None:
    """The database just failed to connect or to answer: do not ask again for a moment."""
    _AWAY_UNTIL[0] = time.monotonic() + _PAUSE[0]
    _FAILED[0] = True


def outage_number() -> int:
    """Changes each time the database answers again after failing (per worker): the error log
    shows each outage's traceback once, whatever earlier outages showed."""
    return _OUTAGES[0]


def wait(conn: Any) -> None:
    """psycopg2's wait callback: psycopg2.extras.wait_select, with a deadline."""
    timeout = _OVERRIDE.get() or _REPLY_TIMEOUT.get(conn)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = conn.poll()
        if state == pgext.POLL_OK:
            return
        events = _EVENTS.get(state)
        if events is None:
            raise psycopg2.OperationalError(f"unexpected state from poll(): {state!r}")
        waiting = select.poll()
        waiting.register(conn.fileno(), events)
        if deadline is None:
            waiting.poll()
            continue
        left = deadline - time.monotonic()
        if left <= 0 or not waiting.poll(left * 1000):
            (_MARKING.get() or _MARKS.get(conn) or _away)()
            raise NoAnswer(f"the database did not answer within {timeout:g} s")


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    token = _OVERRIDE.set(seconds)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def bounded(seconds: float):
    """Every wait for PostgreSQL inside (connecting included) ends after `seconds` at most
    (a readiness check must answer promptly whatever the database does)."""
    return _deadline(seconds)


class Spare:
    """A database the app can do without (a read replica): after a failed connect or an unanswered
    wait it is left alone for `pause` seconds (per worker), and the app's own database is not."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.until = 0.0

    def mark(self) -> None:
        self.until = time.monotonic() + self.pause

    def away(self) -> bool:
        return time.monotonic() < self.until


def _primary_away() -> bool:
    return time.monotonic() < _AWAY_UNTIL[0]


def end(session: Any, drop: bool = False) -> None:
    """Close a session (the request's, a replica's) whose work is done: its connections dropped instead of
    rolled back when `drop` (the database was seen failing), and a database found unreachable while closing
    is no error (nothing of the session is left to undo; the server ends it when it sees the connection
    closed). Any other error shows."""
    try:
        if drop:
            session.invalidate()
        session.close()
    except Exception as error:  # noqa: BLE001  (re-raised unless the database is unreachable)
        if not unavailable(error):
            raise
        session.invalidate()


def unless_unavailable(read: Callable[[], T]) -> T | None:
    """`read()`, or None when the database stops answering during it: for what a request adds to an
    answer whose work is already committed (the desk's counters after a payment), so that the answer
    still says what was done instead of a 503 that tells the attendant to do it again. The session's
    connection is dropped (the request's end then sends nothing to the lost server). Anything
    else raises as ever."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001  (re-raised unless the database is unreachable)
        if not unavailable(exc):
            raise
        let_go(db.session(), exc)
        return None


def let_go(conn: sa.Connection | Any, exc: BaseException | None) -> None:
    """Before a connection (or a session) in use is closed or rolled back: when `exc` says the database is
    unreachable, drop its connections instead. A rollback would wait DB_REPLY_TIMEOUT again for a frozen
    server (an answer already owed is late twice over) and fail; the server ends the transaction, and
    releases its locks, when it sees the connection closed."""
    if exc is not None and unavailable(exc):
        conn.invalidate()


def install(engine: sa.Engine, connect_timeout: float, reply_timeout: float, spare: Spare | None = None) -> None:
    """Bound every wait on `engine`'s PostgreSQL connections (called once per engine). `spare`: the
    engine is a replica's, whose failures mark only itself away."""
    pgext.set_wait_callback(wait)  # process-wide; a no-deadline wait for connections not ours
    if spare is None:
        _PAUSE[0] = connect_timeout
    mark, away = (_away, _primary_away) if spare is None else (spare.mark, spare.away)

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        if away():
            raise NoAnswer("the database did not answer moments ago; not asking again yet")
        marking = _MARKING.set(mark)
        try:
            with _deadline(connect_timeout):
                conn = dialect.connect(*cargs, **cparams)
        except psycopg2.OperationalError:
            mark()
            raise
        finally:
            _MARKING.reset(marking)
        if spare is None and _FAILED[0]:  # connected again after a failure: that outage is over
            _FAILED[0] = False
            _OUTAGES[0] += 1
        _REPLY_TIMEOUT[conn] = reply_timeout
        if spare is not None:
            _MARKS[conn] = mark
        return conn

    ping = engine.dialect.do_ping

    def short_ping(dbapi_connection: Any) -> bool:
        if away():
            return False  # a pooled connection from before: replace it (connect refuses while away)
        marking = _MARKING.set(mark)
        try:
            with _deadline(connect_timeout):
                return ping(dbapi_connection)
        finally:
            _MARKING.reset(marking)

    engine.dialect.do_ping = short_ping  # type: ignore[method-assign]


# SQLSTATE classes and codes that mean "the server cannot serve now": 08 connection exception,
# 53 insufficient resources (too many connections, disk full, out of memory), 57P01-57P03
# shutdown / crash / starting up, 57014 a statement cut off by statement_timeout.
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P")
STATEMENT_TIMEOUT = "57014"


def unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable, overloaded or timed out (503, try
    again), not that the statement or the data is wrong (a bug: 500)."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection free within DB_POOL_TIMEOUT
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:  # SQLAlchemy recognised a lost connection
        return True
    orig = exc.orig
    if isinstance(orig, psycopg2.Error):
        code = orig.pgcode
        if code is None:  # raised by libpq itself: refused, reset, timed out, closed
            return isinstance(orig, (psycopg2.OperationalError, psycopg2.InterfaceError))
        return code.startswith(UNAVAILABLE_SQLSTATE_PREFIXES) or code == STATEMENT_TIMEOUT
    if isinstance(orig, sqlite3.OperationalError):  # busy beyond its timeout, or the file is gone
        return str(orig).startswith(("database is locked", "unable to open database file", "disk I/O error"))
    return False


def dropped(exc: BaseException) -> bool:
    """True when `exc` means the connection itself was lost while in use (the server was killed or shut
    down, a failover moved the primary, the network cut it): SQLAlchemy invalidated it (and every pooled
    connection opened before it), so a fresh connection may well work at once. Not for a server that did
    not answer in time (NoAnswer: asking again would double the wait) nor for one that refuses
    connections (no connection was lost). garage/web.py runs a GET so failed once more."""
    return (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
            and not isinstance(exc.orig, NoAnswer))
