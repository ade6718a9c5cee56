"""A read replica for tests (garage/persistence/replica.py): a role that may only read a database, an
app whose reads may go to a replica, and a simulated replica's rows copied from the primary."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from garage import create_app
from garage.extensions import db
from tests.helpers.db import TABLES


@contextmanager
def read_only_role(admin_url: str) -> Iterator[str]:
    """A new login role that may only SELECT the tables of the database at `admin_url` (created on
    the primary of a real replica, it is replicated too): that database's URL as that role."""
    role = f"garage_reader_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
    try:
        yield make_url(admin_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))  # its grants in that database
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()


def app_with_replica(primary_url: str, replica_url: str, instance_path: str, **config: Any):
    """An app on `primary_url` whose harmless reads may go to `replica_url`."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": primary_url, "DATABASE_REPLICA_URL": replica_url,
                       "SECRET_KEY": secrets.token_hex(16), "INSTANCE_PATH": instance_path, **config})


def dispose(app) -> None:
    """Close every pooled connection of the app (the primary's and the replica's)."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def copy_rows(source_url: str, target_url: str) -> None:
    """Make the database at `target_url` (migrated, as the admin) hold exactly the rows of `source_url`:
    a simulated replica caught up with its primary as of now."""
    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    try:
        with source.connect() as read, target.begin() as write:
            write.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no FK order needed
            write.execute(sa.text(f"TRUNCATE {', '.join(TABLES)}"))
            for table in db.metadata.sorted_tables:
                rows = [dict(row) for row in read.execute(table.select()).mappings()]
                if rows:
                    write.execute(table.insert(), rows)
    finally:
        source.dispose()
        target.dispose()
