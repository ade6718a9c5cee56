"""Throw-away PostgreSQL databases for tests: created on the admin URL
(TEST_DATABASE_URL, default the local server), dropped afterwards."""
from __future__ import annotations

import os
import sys
import uuid
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from garage.config import normalise_database_url

ADMIN_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true, where every PostgreSQL test must run."""
    message = (f"\n{'!' * 72}\nPostgreSQL tests cannot run: {reason}\n"
               f"Admin URL: {ADMIN_URL} (set TEST_DATABASE_URL)\n{'!' * 72}\n")
    if IN_CI:
        pytest.fail(message + "Under CI=true the PostgreSQL tests must run.", pytrace=False)
    print(message, file=sys.stderr)
    pytest.skip("PostgreSQL unreachable: " + reason)


def not_waiting_for_the_disk(conn: sa.Connection, name: str) -> None:
    """Every connection to the test database `name` commits without waiting for the WAL to reach the
    disk (synchronous_commit=off, for that database only: the shared server is not reconfigured). What
    another session sees, and when, is unchanged; only a crash of the server could lose the last few
    commits, which no test asks of this server (the crash tests run their own: tests/helpers/cluster.py).
    On this machine a commit waited ~3 ms for the disk, and the tests commit a great deal."""
    conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))


def throwaway_postgres() -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it when the generator is closed."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"garage_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            not_waiting_for_the_disk(conn, name)
    except sa.exc.OperationalError as exc:
        admin.dispose()
        postgres_unavailable(str(exc).splitlines()[0])
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cloned_postgres(template_url: str) -> Iterator[str]:
    """Like throwaway_postgres, a new database, but a copy of the one at `template_url`
    (CREATE DATABASE ... TEMPLATE: a file copy, much faster than loading it again). Nobody
    may be connected to the template meanwhile."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"garage_test_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        not_waiting_for_the_disk(conn, name)  # a database's settings are not copied with it
    try:
        yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
