"""The persistence layer: the one place that knows which database Garage runs on.

- garage/models.py: the tables (SQLAlchemy models; the migrations create them).
- base.py: the :class:`Store` interface and what both implementations share.
- postgresql.py: PostgreSQL (production): prepared one-statement entry and exit, autocommit.
- portable.py: the ORM path for any other database (SQLite: the quick start and the tests).
- prepared.py: server-side prepared statements (PostgreSQL).
- replica.py: reads where staleness is harmless (reports, CSV exports, the portfolio) from a read
  replica (DATABASE_REPLICA_URL) within a lag bound, else from the primary; the data's age.
- outage.py: bounded waits on PostgreSQL (connect, ping, every answer) and :func:`unavailable`,
  the one rule for "the database is unreachable or timed out" (503, not 500); :func:`dropped`: a
  connection lost in use (a killed server, a failover), after which a read is tried once more.
- rollups.py: the report rollups' SQL; kept_reports.py: the report pages kept drawn for every worker.
- schema_changes.py: how migrations run on PostgreSQL (their own connection, lock timeout,
  retries) and index builds a re-run can finish (migrations/env.py and the version scripts).

The implementation is chosen once, when the app is created (:func:`install`, from the
engine's dialect); services get it with :func:`store` and never test the dialect themselves.
SQL text and dialect differences live only here (and in migrations/)."""
from __future__ import annotations

from flask import Flask, current_app

from ..extensions import db
from . import outage, replica
from .base import (
    BY_NUMBER, IN_GARAGE, OPEN_SHIFT_OF, OPEN_SHIFT_SHARED, TICKET_CSV_COLUMNS, ExitInputs, IssuedTicket, NewTicket, Receipt, Store, commit_keeping_loaded, lost_fee_column,
    within,
)
from .outage import dropped, let_go, outage_number, unavailable, unless_unavailable
from .portable import PortableStore
from .postgresql import PostgresStore

EXTENSION = "garage.store"

__all__ = ["BY_NUMBER", "IN_GARAGE", "OPEN_SHIFT_OF", "OPEN_SHIFT_SHARED", "TICKET_CSV_COLUMNS", "ExitInputs", "IssuedTicket", "NewTicket", "Receipt", "Store",
           "commit_keeping_loaded", "dropped", "install", "let_go", "lost_fee_column", "outage_number", "store", "unavailable", "unless_unavailable", "within"]


def install(app: Flask) -> Store:
    """Pick the implementation for the app's database (called by the app factory)."""
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
    if dialect == "postgresql":  # bounded waits: a frozen server costs seconds, not a worker
        outage.install(engine, app.config["DB_CONNECT_TIMEOUT"], app.config["DB_REPLY_TIMEOUT"])
    replica.install(app)  # the replica's own bounded waits (when DATABASE_REPLICA_URL is set)
    chosen: Store = PostgresStore() if dialect == "postgresql" else PortableStore()
    app.extensions[EXTENSION] = chosen
    app.teardown_appcontext(_end_session)
    return chosen


def _end_session(exc: BaseException | None) -> None:
    """The request's session ended, before Flask-SQLAlchemy's own teardown (registered earlier; the last
    registered runs first), which then has nothing left to do. A database that stopped answering does not
    fail the request at its end: its connections are dropped (outage.end; garage/web.py's 503 did so
    already), and a failure to roll back that says the database is gone is not an error of the request
    (its answer is made)."""
    registry = db.session.registry
    if not registry.has():
        return
    try:
        outage.end(registry(), drop=exc is not None and outage.unavailable(exc))
    finally:
        registry.clear()


def store() -> Store:
    """The current app's database implementation."""
    return current_app.extensions[EXTENSION]
