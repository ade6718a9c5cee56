"""The persistence layer: the one place that knows which database Garage runs on.

- garage/models.py: the tables (SQLAlchemy models; the migrations create them).
- base.py: the :class:`Store` interface and what both implementations share.
- postgresql.py: PostgreSQL (production): prepared one-statement entry and exit, autocommit.
- portable.py: the ORM path for any other database (SQLite: the quick start and the tests).
- prepared.py: server-side prepared statements (PostgreSQL).

The implementation is chosen once, when the app is created (:func:`install`, from the
engine's dialect); services get it with :func:`store` and never test the dialect themselves.
SQL text and dialect differences live only here (and in migrations/)."""
from __future__ import annotations

from flask import Flask, current_app

from ..extensions import db
from .base import (
    BY_NUMBER, SETTINGS_ID, TICKET_CSV_COLUMNS, ExitInputs, IssuedTicket, NewTicket, Store, commit_keeping_loaded, lost_fee_column,
    within,
)
from .portable import PortableStore
from .postgresql import PostgresStore

EXTENSION = "garage.store"

__all__ = ["BY_NUMBER", "SETTINGS_ID", "TICKET_CSV_COLUMNS", "ExitInputs", "IssuedTicket", "NewTicket", "Store",
           "commit_keeping_loaded", "install", "lost_fee_column", "store", "within"]


def install(app: Flask) -> Store:
    """Pick the implementation for the app's database (called by the app factory)."""
    with app.app_context():
        dialect = db.engine.dialect.name
    chosen: Store = PostgresStore() if dialect == "postgresql" else PortableStore()
    app.extensions[EXTENSION] = chosen
    return chosen


def store() -> Store:
    """The current app's database implementation."""
    return current_app.extensions[EXTENSION]
