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


def throwaway_postgres() -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it when the generator is closed."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"garage_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
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
    try:
        yield make_url(template_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
