"""Fixtures. Every database test runs twice: on SQLite and on a throw-away
PostgreSQL database (created here, dropped at the end). The schema comes from
the Alembic migrations, so the migrations are tested too."""
from __future__ import annotations

import os
import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from flask.testing import FlaskClient

from garage import create_app
from garage.config import normalise_database_url
from garage.extensions import db

ADMIN_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
TABLES = ("audit_log", "api_tokens", "tickets", "garage_settings", "vehicle_rates", "users")


def _postgres_unavailable(reason: str) -> None:
    message = (f"\n{'!' * 72}\nPostgreSQL tests cannot run: {reason}\n"
               f"Admin URL: {ADMIN_URL} (set TEST_DATABASE_URL)\n{'!' * 72}\n")
    if IN_CI:
        pytest.fail(message + "Under CI=true the PostgreSQL tests must run.", pytrace=False)
    print(message, file=sys.stderr)
    pytest.skip("PostgreSQL unreachable: " + reason)


@dataclass
class TestDatabase:
    kind: str
    url: str


def _throwaway_postgres() -> Iterator[str]:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"garage_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _postgres_unavailable(str(exc).splitlines()[0])
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    yield from _throwaway_postgres()


# --- a real server (gunicorn) on its own PostgreSQL database ------------------------------

@dataclass
class LiveServer:
    url: str
    database_url: str
    app: object  # a Flask app bound to the same database, for set-up and checks

    def reset(self, total_spaces: int = 140) -> None:
        """Empty every table and start from default settings with `total_spaces`."""
        with self.app.app_context():
            _empty(self.app)
            from garage.services.settings import ensure_settings
            ensure_settings()
            db.session.execute(sa.text("UPDATE garage_settings SET total_spaces = :n"), {"n": total_spaces})
            db.session.commit()
            db.session.remove()

    def user(self, username: str, role: str, password: str = "correct horse battery") -> str:
        """Create a user; returns its password."""
        from garage.services import accounts
        with self.app.app_context():
            accounts.create_user(username, password, role)
            db.session.remove()
        return password

    def token(self, role: str = "attendant") -> dict[str, str]:
        from garage.services import accounts
        name = f"{role}-{secrets.token_hex(3)}"
        self.user(name, role)
        with self.app.app_context():
            _, secret = accounts.create_token(name)
            db.session.remove()
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from flask_migrate import upgrade

    from tests.helpers.live import gunicorn_server

    gen = _throwaway_postgres()
    url = next(gen)
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": secrets.token_hex(16)})
        app.instance_path = str(tmp_path_factory.mktemp("live-instance"))
        with app.app_context():
            upgrade()
            db.session.remove()
        with gunicorn_server(url, workers=3) as base:
            yield LiveServer(base, url, app)
        with app.app_context():
            db.engine.dispose()
    finally:
        gen.close()


@pytest.fixture
def live(live_server) -> LiveServer:
    live_server.reset()
    return live_server


# --- a real browser: Playwright driving Debian's Chromium ---------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; under CI=true the browser tests must run.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def tablet(browser):
    """A fresh browser context at a tablet viewport (landscape 1024x768, touch)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


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
def _app(database: TestDatabase, tmp_path_factory):
    from flask_migrate import upgrade

    instance = tmp_path_factory.mktemp("instance")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database.url,
                      "SECRET_KEY": secrets.token_hex(16), "WTF_CSRF_ENABLED": True})
    app.instance_path = str(instance)
    app.test_client_class = FreshGlobalsClient
    app.config["DATABASE_KIND"] = database.kind
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def pytest_collection_modifyitems(config, items):
    """A postgres_only test has no SQLite half: it is not collected there (deselected,
    not skipped), so a skip in the report always means something did not run."""
    sqlite_halves = [item for item in items if item.get_closest_marker("postgres_only")
                     and getattr(item, "callspec", None) is not None
                     and item.callspec.params.get("database") == "sqlite"]
    if sqlite_halves:
        config.hook.pytest_deselected(items=sqlite_halves)
        dropped = {id(item) for item in sqlite_halves}
        items[:] = [item for item in items if id(item) not in dropped]


@pytest.fixture
def app(_app, request):
    with _app.app_context():
        _empty(_app)
        from garage.services.settings import ensure_settings

        ensure_settings()
        yield _app
        db.session.remove()


def _empty(app) -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))


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
def staff(token_for) -> dict[str, str]:
    """Bearer headers of an attendant."""
    return token_for("attendant")


@pytest.fixture
def manager(token_for) -> dict[str, str]:
    return token_for("manager")
