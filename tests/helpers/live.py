"""A real server for tests: gunicorn (the production config) on a PostgreSQL database,
`LiveServer` to arrange its data, and `call` for its JSON API over HTTP."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa

from garage import create_app
from garage.extensions import db
from tests.helpers.db import empty_tables
from tests.helpers.postgres import throwaway_postgres
from tests.helpers.processes import freeze, thaw

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveServer:
    url: str
    database_url: str
    app: object  # a Flask app bound to the same database, for set-up and checks

    def reset(self, total_spaces: int = 140) -> None:
        """Empty every table and start from default settings with `total_spaces`. The garage's report
        revision starts at a value no earlier test used: the server's workers keep the reports they drew
        (garage/reports/cache.py) under the revision, and an emptied database is a database restored under
        running workers (a test that seeds tickets with plain INSERTs moves no revision, so at revision 0
        it was shown another test's report, kept in the same minute)."""
        with self.app.app_context():
            empty_tables()
            from garage.services.settings import ensure_settings
            ensure_settings()
            db.session.execute(sa.text("UPDATE garages SET total_spaces = :n, report_revision = :r"),
                               {"n": total_spaces, "r": secrets.randbelow(2**30) + 1})
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
        """Bearer headers of a new user with `role`."""
        from garage.services import accounts
        name = f"{role}-{secrets.token_hex(3)}"
        self.user(name, role)
        with self.app.app_context():
            _, secret = accounts.create_token(name)
            db.session.remove()
        return {"Authorization": f"Bearer {secret}"}


@contextmanager
def migrated_postgres(instance_path: str) -> Iterator[tuple[str, Any]]:
    """A throw-away PostgreSQL database, migrated to head: (its URL, an app bound to it)."""
    from flask_migrate import upgrade

    gen = throwaway_postgres()
    url = next(gen)
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
        app.instance_path = instance_path
        with app.app_context():
            upgrade()
            db.session.remove()
        yield url, app
        with app.app_context():
            db.engine.dispose()
    finally:
        gen.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn_server(database_url: str, workers: int = 3, port: int | None = None,
                    extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `gunicorn -c gunicorn.conf.py wsgi:app` and yield its base URL."""
    with gunicorn_process(database_url, workers, port, extra_env) as (base, _):
        yield base


@contextmanager
def gunicorn_process(database_url: str, workers: int = 3, port: int | None = None,
                     extra_env: dict[str, str] | None = None,
                     log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """gunicorn_server, yielding (base URL, the master process); its output goes to `log`."""
    port = port or free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(16),
           "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "LOG_LEVEL": "WARNING", **(extra_env or {})}
    output = open(log, "ab") if log else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if urllib.request.urlopen(base + "/api/status", timeout=2).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                if log:
                    out = log.read_text(errors="replace")
                raise RuntimeError(f"gunicorn did not start:\n{out[-4000:]}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            output.close()


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 303 is an answer to look at, not to follow
        return None


_PAGES = urllib.request.build_opener(_NoRedirect)


def page(method: str, url: str, cookie: str = "", form: dict[str, str] | None = None) -> tuple[int, str, str]:
    """A browser-like page request: (status, the session cookie it set or `cookie`, body)."""
    from urllib.parse import urlencode

    data = urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Cookie": cookie} if cookie else {})
    try:
        r = _PAGES.open(req, timeout=30)
    except urllib.error.HTTPError as e:
        r = e
    for header in r.headers.get_all("Set-Cookie") or []:
        if header.startswith("session="):
            cookie = header.split(";", 1)[0]
    return r.status if hasattr(r, "status") else r.code, cookie, r.read().decode(errors="replace")


def login_form(base: str) -> tuple[str, str]:
    """(a fresh session cookie, the CSRF token the sign-in page gave it)."""
    import re

    _, cookie, body = page("GET", f"{base}/login")
    return cookie, re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)


class StoppableServer:
    """gunicorn that a test can take away and bring back on the same port with the same secret
    key (the browser's session survives): `stop()` / `start()` (connections refused meanwhile), or
    `freeze()` / `thaw()` (SIGSTOP: the port still accepts connections, nothing answers; requests
    sent meanwhile are served on thaw, as a hung server that comes back would)."""

    def __init__(self, database_url: str, workers: int = 2) -> None:
        self.database_url, self.workers = database_url, workers
        self.port, self.secret = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = None
        self.process: subprocess.Popen | None = None  # the master while running
        self._frozen: list[int] = []

    def start(self) -> None:
        assert self._running is None, "already running"
        self._running = gunicorn_process(self.database_url, self.workers, self.port,
                                         extra_env={"SECRET_KEY": self.secret})
        _, self.process = self._running.__enter__()

    def stop(self) -> None:
        self.thaw()
        if self._running is not None:
            running, self._running = self._running, None
            running.__exit__(None, None, None)
        self.process = None

    def freeze(self) -> None:
        self._frozen = freeze(self.process.pid)  # the master and its workers

    def thaw(self) -> None:
        thaw(self._frozen)
        self._frozen = []
