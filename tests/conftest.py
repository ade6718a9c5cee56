"""Fixtures for every test. Every database test runs twice: on SQLite and on a throw-away
PostgreSQL database (created here, dropped at the end). The schema comes from the Alembic
migrations, so the migrations are tested too. Shared non-fixture code is in tests/helpers/."""
from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator

import pytest
import sqlalchemy as sa

from flask.testing import FlaskClient

from garage import create_app
from garage.extensions import db
from tests.helpers.db import empty_tables
from tests.helpers.live import LiveServer, gunicorn_server, migrated_postgres
from tests.helpers.postgres import throwaway_postgres
from tests.helpers.staff import StaffActions

# Passwords: the same scrypt code path at a 32nd of production's cost (werkzeug's default N=2**15):
# at full cost, hashing was over half the suite's time. Servers the tests start inherit it; what
# production uses is checked in tests/app/test_config.py.
TEST_PASSWORD_HASH = "scrypt:1024:8:1"
os.environ.setdefault("PASSWORD_HASH", TEST_PASSWORD_HASH)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_commits_without_waiting_for_the_disk(dbapi_connection, _record) -> None:
    """A test's SQLite file commits without fsync (PRAGMA synchronous=OFF), as PostgreSQL's test
    databases do (tests/helpers/postgres.py: synchronous_commit=off): a commit waited ~4 ms for the
    disk here. Only an operating-system crash could lose a commit; what every connection reads, and
    the locking between them, is unchanged. Sent on the driver's connection: no statement of the
    tests' counts (before_cursor_execute), and production's engines never see it."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


@dataclass
class TestDatabase:
    kind: str
    url: str


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    yield from throwaway_postgres()


# --- a real server (gunicorn) on its own PostgreSQL database ------------------------------

@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    with migrated_postgres(str(tmp_path_factory.mktemp("live-instance"))) as (url, app):
        with gunicorn_server(url, workers=3) as base:
            yield LiveServer(base, url, app)


@pytest.fixture
def live(live_server) -> LiveServer:
    live_server.reset()
    return live_server


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> TestDatabase:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "garage.db"
        return TestDatabase("sqlite", f"sqlite:///{path}")
    return TestDatabase("postgresql", request.getfixturevalue("postgres_database"))


class FreshGlobalsClient(FlaskClient):
    """Each request starts with an empty `g`, as in production. The `app` fixture keeps one
    app context open for the whole test and Flask reuses it for every request, so without
    this `g` would carry the signed-in user (Flask-Login) and the CSRF token (Flask-WTF)
    from one request, or one client, to the next."""

    def open(self, *args, **kwargs):
        from flask import g

        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def pseudo_catalog(tmp_path_factory) -> str:
    """The pseudo-locale's catalog (tests/helpers/pseudo.py): every test app speaks it."""
    from tests.helpers.pseudo import build_catalog

    return build_catalog(tmp_path_factory.mktemp("pseudo"))


@pytest.fixture(scope="session")
def _app(database: TestDatabase, tmp_path_factory, pseudo_catalog):
    from flask_migrate import upgrade

    from tests.helpers.pseudo import PSEUDO

    instance = tmp_path_factory.mktemp("instance")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database.url,
                      "SECRET_KEY": secrets.token_hex(16), "WTF_CSRF_ENABLED": True,
                      "I18N_EXTRA_LANGUAGES": {PSEUDO: pseudo_catalog}})
    app.instance_path = str(instance)
    app.test_client_class = FreshGlobalsClient
    app.config["DATABASE_KIND"] = database.kind
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# GARAGE_TEST_DATABASES=sqlite keeps only what runs without PostgreSQL (the domain tests and
# the SQLite half): the mutation run (make mutants, docs/testing.md) uses it.
NEEDS_POSTGRESQL = {"postgres_database", "live_server"}


def needs_postgresql(item) -> bool:
    params = getattr(item, "callspec", None)
    return (item.get_closest_marker("postgres_only") is not None
            or item.get_closest_marker("browser") is not None
            or bool(NEEDS_POSTGRESQL & set(getattr(item, "fixturenames", ())))
            or (params is not None and "postgresql" in params.params.values()))


def pytest_collection_modifyitems(config, items):
    """A postgres_only test has no SQLite half: it is not collected there (deselected,
    not skipped), so a skip in the report always means something did not run."""
    sqlite_only = os.environ.get("GARAGE_TEST_DATABASES") == "sqlite"
    dropped_items = [item for item in items if (sqlite_only and needs_postgresql(item)) or (
                     item.get_closest_marker("postgres_only")
                     and getattr(item, "callspec", None) is not None
                     and item.callspec.params.get("database") == "sqlite")]
    if dropped_items:
        config.hook.pytest_deselected(items=dropped_items)
        dropped = {id(item) for item in dropped_items}
        items[:] = [item for item in items if id(item) not in dropped]


@pytest.fixture
def app(_app, request):
    with _app.app_context():
        empty_tables()
        # A database emptied under a running app: its report revisions start again at 0, so the
        # reports kept under them (garage/reports/cache.py) belong to the database before.
        _app.extensions.pop("garage.report_cache", None)
        from garage.services.settings import ensure_settings

        ensure_settings()
        yield _app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    from garage.services import accounts

    def make(username: str = "alice", role: str = "attendant", password: str = "correct horse battery"):
        return accounts.create_user(username, password, role)

    return make


@pytest.fixture
def token_for(app, make_user):
    from garage.services import accounts

    def make(role: str = "attendant", username: str | None = None) -> dict[str, str]:
        name = username or f"{role}-{secrets.token_hex(3)}"
        make_user(name, role)
        _, secret = accounts.create_token(name)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def second_garage(app) -> int:
    """A second garage, `north` (3 spaces, UTC): its id. Nobody holds a grant there yet."""
    from tests.helpers.garages import add_garage

    return add_garage("north")


@pytest.fixture
def staff(token_for) -> dict[str, str]:
    """Bearer headers of an attendant."""
    return token_for("attendant")


@pytest.fixture
def manager(token_for) -> dict[str, str]:
    return token_for("manager")


@pytest.fixture
def actions(client, make_user) -> StaffActions:
    """Staff actions through the pages (sign in as a role, issue, look up, pay) on `client`."""
    return StaffActions(client, make_user)


@pytest.fixture
def desk(actions) -> StaffActions:
    """An attendant ("ann") signed in at the desk."""
    actions.sign_in("ann", "attendant")
    return actions


@pytest.fixture
def manager_client(actions):
    """The test client, signed in as a manager ("boss")."""
    actions.sign_in("boss", "manager")
    return actions.client


@pytest.fixture
def move_clock(monkeypatch):
    """Move the clock the session checks forward by `hours`."""
    from garage.domain import clock

    real = clock.utcnow

    def move(hours: float) -> None:
        monkeypatch.setattr(clock, "utcnow", lambda: real() + timedelta(hours=hours))

    return move


@pytest.fixture(autouse=True)
def _keep_the_app_hooks():
    """A unit test may set the money context (garage.domain.money.set_context) or the translator
    (garage.domain.words) for itself: the app's own hooks are put back after it."""
    from garage.domain import money, words

    kept = money._context, words._translator
    yield
    money._context, words._translator = kept
