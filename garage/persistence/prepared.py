"""Server-side prepared statements for the hot paths (PostgreSQL).

psycopg2 sends every statement as text, so PostgreSQL parses and plans it on
every execution. For the entry's data-modifying CTE that is most of the
server's work: measured with pgbench, a prepared entry statement costs about
a third of the same statement sent as text. A :class:`Prepared` statement is
PREPAREd on a connection the first time that connection runs it, then only EXECUTEd; the plan lives as
long as the connection (SQLAlchemy's pool keeps them for the worker's life).

Prepared statements are per connection and outside transactions (a rollback
does not drop them); the set of names a connection holds is kept in the pool's
per-connection ``info``, which SQLAlchemy clears when it replaces a broken
connection. A transaction-pooling proxy (PgBouncer in transaction mode) would
route EXECUTE to another server connection: run Garage against PostgreSQL
directly or with session pooling.
"""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from ..extensions import db

_PARAM = re.compile(r"(?<![:\w]):(\w+)")
INFO_KEY = "garage_prepared"
INVALID_STATEMENT_NAME = "26000"  # SQLSTATE: "prepared statement ... does not exist"


class Prepared:
    """``sql`` uses :name parameters; ``types`` gives each one's PostgreSQL
    type (PREPARE needs them: a bare parameter has no type to infer)."""

    def __init__(self, name: str, sql: str, types: dict[str, str]) -> None:
        self.name = name
        self.sql = sql
        self.params: list[str] = list(dict.fromkeys(_PARAM.findall(sql)))
        missing = set(self.params) - set(types)
        if missing:
            raise ValueError(f"{name}: no type for {sorted(missing)}")
        position = {p: i + 1 for i, p in enumerate(self.params)}
        body = _PARAM.sub(lambda m: f"${position[m.group(1)]}", sql)
        self.prepare_sql = f"PREPARE {name} ({', '.join(types[p] for p in self.params)}) AS {body}"
        self.statement = sa.text(f"EXECUTE {name} ({', '.join(':' + p for p in self.params)})")

    def ensure(self) -> None:
        """PREPARE on the session's connection unless it already holds it."""
        connection = db.session.connection()
        names = connection.connection.info.setdefault(INFO_KEY, set())  # per DBAPI connection
        if self.name not in names:
            connection.exec_driver_sql(self.prepare_sql)
            names.add(self.name)

    def execute(self, params: dict[str, Any]) -> sa.CursorResult:
        """Run it on the session's connection (Core: plain rows, no ORM objects).

        If the server no longer holds the statement although the connection
        lives on (DEALLOCATE or DISCARD ALL from a proxy's reset query or an
        admin), the connection's list is forgotten so that it prepares again:
        at once under autocommit (nothing was done), otherwise on the next
        transaction (this one is aborted and raises)."""
        self.ensure()
        connection = db.session.connection()
        try:
            return connection.execute(self.statement, params)
        except sa.exc.DBAPIError as exc:
            if getattr(exc.orig, "pgcode", None) != INVALID_STATEMENT_NAME:
                raise
            connection.connection.info.pop(INFO_KEY, None)
            if not connection.connection.dbapi_connection.autocommit:
                raise
        self.ensure()
        return connection.execute(self.statement, params)
