"""Reads from a read replica where staleness is harmless: the one home of that decision.

Which reads: a view says so by running its service through :func:`read` (or :func:`stream` for a
download sent chunk by chunk): the reports page and its charts, every CSV export and the
portfolio's figures. Everything else, and everything that decides capacity or money (entries,
exits, quotes, the desk, the lobby, occupancy, settings, shifts, permit sales, the API), uses the
primary; so does identity (who is signed in, their grants), read before the view runs.

Where one such read goes, decided here each time:
- no DATABASE_REPLICA_URL: the primary, and nothing more is sent than without this module;
- the replica failed moments ago (:data:`RETRY_SECONDS`, per worker): the primary;
- else ONE statement on the replica, :data:`LAG`, says how far behind it is. A standby that has
  replayed all the WAL it received while its WAL receiver runs is caught up (0 s behind), however
  long ago the last commit was: an idle primary sends nothing to replay, which is not lag. One with
  WAL still to replay (or no receiver: it cannot know what it is missing) is as far behind as its
  last replayed commit is old (``now() - pg_last_xact_replay_timestamp()``); nothing replayed yet
  is unknown. A server not in recovery (a simulated replica; a promoted one) is current. More than
  REPLICA_MAX_LAG_SECONDS behind, or unknown: the primary;
- the replica unreachable or not answering (connect within REPLICA_CONNECT_TIMEOUT, every answer
  within DB_REPLY_TIMEOUT: outage.Spare), or a query of the read cancelled by a recovery conflict:
  the same read again on the primary (reads only: nothing to undo), never a 500.

The read runs with ``db.session`` being a session of its own on the replica (its own transaction,
closed after), so the services and the Store run unchanged and the primary's session, and what it
loaded, is untouched. The replica's connections are read-only (default_transaction_read_only; a hot
standby is anyway): a write made there by mistake fails loudly, it never falls back. The one write a
read needs, the report rollups' catch-up, runs inside :func:`on_primary` (on the request's primary session).
:class:`DataAge` is what the page shows ("Figures as of 14:03:12 (replica, 2 s behind)") and a CSV
carries as ``X-Data-As-Of``; a read answered by the primary has none."""
from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import orm

from ..extensions import db
from ..observability import metrics
from . import outage

BIND = "replica"  # the Flask-SQLAlchemy bind key (db.engines["replica"])
EXTENSION = "garage.replica"
RETRY_SECONDS = 10.0  # after the replica failed, this worker reads from the primary this long
RECOVERY_CONFLICT = "40001"  # a standby cancelled a query whose rows replay had to remove
T = TypeVar("T")
log = logging.getLogger("garage.replica")

# How far behind the replica is, in seconds (NULL: unknown), and its clock.
LAG = sa.text("""
SELECT now() AS checked_at,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                 AND EXISTS (SELECT FROM pg_stat_wal_receiver) THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
       END AS behind""")


@dataclass(frozen=True)
class DataAge:
    """How old figures read from the replica are: as of `as_of` (UTC), `behind` seconds late."""

    as_of: datetime
    behind: float

    @property
    def seconds(self) -> int:
        return round(self.behind)

    def header(self) -> str:
        """The X-Data-As-Of value: ISO 8601 in UTC, to the second."""
        return self.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Replica:
    engine: sa.Engine
    spare: outage.Spare
    max_lag: float
    told_until: float = 0.0  # the log said the replica failed; not again before this (time.monotonic())


def configure(app: Flask) -> None:
    """Before Flask-SQLAlchemy starts: DATABASE_REPLICA_URL as the "replica" bind, its connections
    read-only. Refused at start with SQLite (there is no replica of a file) or a URL not PostgreSQL's."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        raise ValueError("DATABASE_REPLICA_URL is for PostgreSQL: DATABASE_URL is not a PostgreSQL database, "
                         "which has no replicas. Unset DATABASE_REPLICA_URL.")
    if not url.startswith("postgresql"):
        raise ValueError("DATABASE_REPLICA_URL must be a PostgreSQL URL (postgresql://user@host/database)")
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c default_transaction_read_only=on".strip()
    connect_args["connect_timeout"] = max(2, math.ceil(app.config["REPLICA_CONNECT_TIMEOUT"]))  # libpq: whole s
    app.config["SQLALCHEMY_BINDS"] = {**(app.config.get("SQLALCHEMY_BINDS") or {}),
                                      BIND: {**options, "url": url, "connect_args": connect_args}}


def install(app: Flask) -> None:
    """After Flask-SQLAlchemy started: the replica's bounded waits (its failures its own)."""
    if not app.config.get("DATABASE_REPLICA_URL"):
        return
    with app.app_context():
        engine = db.engines[BIND]
    spare = outage.Spare(RETRY_SECONDS)
    outage.install(engine, app.config["REPLICA_CONNECT_TIMEOUT"], app.config["DB_REPLY_TIMEOUT"], spare)
    app.extensions[EXTENSION] = Replica(engine, spare, app.config["REPLICA_MAX_LAG_SECONDS"])


def configured() -> bool:
    """Whether this app has a replica (DATABASE_REPLICA_URL): its reads may go there."""
    return EXTENSION in current_app.extensions


def read(use_case: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, DataAge | None]:
    """`use_case(*args, **kwargs)` on the replica if it may (see the module's docstring), else on the
    primary; with the data's age when the replica answered."""
    replica = current_app.extensions.get(EXTENSION)
    if replica is not None:
        session, age = _open(replica)
        if session is not None:
            try:
                with _using(session):
                    return use_case(*args, **kwargs), age
            except sa.exc.DBAPIError as exc:
                if not _failed(exc, replica):
                    raise
            finally:
                session.close()
    return use_case(*args, **kwargs), None


def stream(chunks: Callable[[], Iterator[str]]) -> tuple[Iterator[str], DataAge | None]:
    """:func:`read` for a download sent chunk by chunk (`chunks()` makes them): the first chunk is read
    here, so a replica failing at once still falls back and the age is known before the headers are
    sent; the rest streams from wherever the first came from (a replica lost midway cuts the
    download, as the primary's loss would)."""
    replica = current_app.extensions.get(EXTENSION)
    if replica is not None:
        session, age = _open(replica)
        if session is not None:
            source = _chunks_on(session, chunks)
            try:
                first = next(source, None)
            except sa.exc.DBAPIError as exc:
                if not _failed(exc, replica):
                    raise
            else:
                return _after(first, source), age
    return chunks(), None


def _after(first: str | None, rest: Iterator[str]) -> Iterator[str]:
    if first is not None:
        yield first
        yield from rest


def _chunks_on(session: orm.Session, chunks: Callable[[], Iterator[str]]) -> Iterator[str]:
    """The chunks, each read with db.session being `session` (closed at the end): between them the
    request's own session is back."""
    try:
        with _using(session):
            source = chunks()
        while True:
            with _using(session):
                chunk = next(source, None)
            if chunk is None:
                return
            yield chunk
    finally:
        _end(session)


def _end(session: orm.Session) -> None:
    """A replica session's end: reads only, nothing to undo. A replica that stopped answering neither delays
    it (marked away: its connections dropped, no rollback sent) nor fails it (a download closed late, or
    never read to its end, is finished by the garbage collector, where an error has nobody to tell)."""
    replica = current_app.extensions.get(EXTENSION) if current_app else None
    outage.end(session, drop=replica is not None and replica.spare.away())


def _open(replica: Replica) -> tuple[orm.Session | None, DataAge | None]:
    """A session on the replica and how old its data is; (None, None): read from the primary."""
    if replica.spare.away():
        metrics.REPLICA_READS.labels("primary_unreachable").inc()
        return None, None
    session = orm.Session(bind=replica.engine)
    try:
        checked_at, behind = session.execute(LAG).one()
    except sa.exc.DBAPIError as exc:  # down, refused, timed out; or not usable at all (a wrong role)
        session.close()
        _away(replica, exc)
        metrics.REPLICA_READS.labels("primary_unreachable").inc()
        return None, None
    if behind is None or float(behind) > replica.max_lag:
        session.close()
        metrics.REPLICA_READS.labels("primary_lagging").inc()
        return None, None
    behind = max(0.0, float(behind))
    metrics.REPLICA_READS.labels("replica").inc()
    return session, DataAge((checked_at - timedelta(seconds=behind)).astimezone(timezone.utc), behind)


def _failed(exc: sa.exc.DBAPIError, replica: Replica) -> bool:
    """Whether a read's error on the replica means "read it from the primary instead"."""
    if getattr(exc.orig, "pgcode", None) == RECOVERY_CONFLICT:
        return True
    if outage.unavailable(exc):
        _away(replica, exc)
        return True
    return False


def _away(replica: Replica, exc: BaseException) -> None:
    """The replica failed: leave it alone for a while, and say so in the log once per pause (its connect
    hook, outage.install, may have marked it away already: that is not a reason to keep quiet)."""
    now = time.monotonic()
    if now >= replica.told_until:
        replica.told_until = now + replica.spare.pause
        log.warning("The replica (DATABASE_REPLICA_URL) failed, reading from the primary for %g s: %s",
                    replica.spare.pause, str(getattr(exc, "orig", exc)).strip().split("\n", 1)[0])
    replica.spare.mark()


# Inside a read on the replica: the request's own session on the primary (None: it had none yet).
_primary: ContextVar[tuple[orm.Session | None] | None] = ContextVar("garage_replica_primary", default=None)


@contextmanager
def _using(session: orm.Session) -> Iterator[None]:
    """Inside, ``db.session`` (Flask-SQLAlchemy's scoped session, one per app context) is `session`."""
    registry = db.session.registry
    kept = registry() if registry.has() else None
    registry.set(session)
    token = _primary.set((kept,))
    try:
        yield
    finally:
        _primary.reset(token)
        if kept is None:
            registry.clear()
        else:
            registry.set(kept)


@contextmanager
def on_primary() -> Iterator[None]:
    """Inside, ``db.session`` is the primary's, also within a read on the replica: for the one write a
    read may need (the report rollups' catch-up, services/rollups.py), which a read-only replica would
    refuse. Outside a replica read it changes nothing."""
    outer = _primary.get()
    if outer is None:
        yield
        return
    registry = db.session.registry
    on_replica = registry()
    (kept,) = outer
    if kept is None:
        registry.clear()  # the request's first use of the primary: a session of its own, closed after
    else:
        registry.set(kept)
    token = _primary.set(None)
    try:
        yield
    finally:
        _primary.reset(token)
        if kept is None and registry.has():
            registry().close()
        registry.set(on_replica)
