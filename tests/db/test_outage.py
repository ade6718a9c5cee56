"""The database misbehaving under gunicorn (issue 14, part 3), on a private PostgreSQL server
(tests/helpers/cluster.py) that these tests stop and freeze: every database URL answers 503
within seconds (the API with {"message"} and Retry-After, pages with a page that says so, htmx
with a fragment), static files and the sign-in page still work, no worker is killed, the log
has a line per failed request and a traceback per burst, and everything comes back by itself."""
from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from bs4 import BeautifulSoup

from garage import create_app
from garage.extensions import db
from tests.helpers.cluster import PrivateCluster, children, private_postgres
from tests.helpers.live import gunicorn_process, login_form, page

pytestmark = pytest.mark.postgres_only

WORKERS = 2
# Short timeouts keep the test quick; the defaults only scale them (README, Configuration).
TIMEOUTS = {"STATEMENT_TIMEOUT_MS": "1500", "DB_REPLY_TIMEOUT": "2.5", "DB_CONNECT_TIMEOUT": "1.5",
            "TRACEBACK_LOG_INTERVAL": "600", "GUNICORN_TIMEOUT": "30"}
DB_ANSWER_WITHIN = 6.0  # seconds: ping (1.5) + connect (1.5), with room for a loaded machine
NO_DB_WITHIN = 2.0  # static files and the sign-in page
PANEL = {"HX-Request": "true", "X-Garage-Poll": "1"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


@dataclass
class Site:
    pg: PrivateCluster
    base: str
    master: int
    log: Path
    token: dict[str, str]

    def fetch(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None,
              timeout: float = 20) -> Reply:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                status, raw, head = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, head = e.code, e.read(), e.headers
        return Reply(status, dict(head.items()), raw.decode(errors="replace"), time.monotonic() - started)

    def entry(self) -> Reply:
        plate = f"OUT{secrets.token_hex(2).upper()}"
        return self.fetch("POST", "/api/tickets", {**self.token, "Content-Type": "application/json"},
                          f'{{"licensePlate": "{plate}", "vehicleType": "Car"}}'.encode())

    def database_urls(self) -> dict[str, Reply]:
        """The four URLs the probe saw answer 500 during an outage."""
        return {"occupancy": self.fetch("GET", "/api/garage/occupancy"), "lobby": self.fetch("GET", "/g/main/lobby"),
                "panel": self.fetch("GET", "/g/main/lobby/panel", PANEL), "entry": self.entry()}

    def workers(self) -> list[int]:
        return children(self.master)

    def all_workers(self, within: float = 15) -> list[int]:
        """The workers once all WORKERS are up (under load the master may still be forking one: a
        worker booted late is not a worker that died)."""
        deadline = time.monotonic() + within
        while len(found := self.workers()) < WORKERS:
            assert time.monotonic() < deadline, f"only {found} of {WORKERS} workers"
            time.sleep(0.2)
        return found

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    from flask_migrate import upgrade

    from garage.services import accounts
    from garage.services.settings import ensure_settings

    with private_postgres() as pg:
        url = pg.create_database("garage")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
        app.instance_path = str(tmp_path_factory.mktemp("outage-instance"))
        with app.app_context():
            upgrade()
            ensure_settings()
            accounts.create_user("gate", "correct horse battery", "attendant")
            accounts.create_user("boss", "correct horse battery", "manager")
            _, secret = accounts.create_token("gate")
            db.session.remove()
            db.engine.dispose()
        log = tmp_path_factory.mktemp("outage-log") / "gunicorn.log"
        with gunicorn_process(url, workers=WORKERS, extra_env=TIMEOUTS, log=log) as (base, proc):
            yield Site(pg, base, proc.pid, log, {"Authorization": f"Bearer {secret}"})


def assert_all_work(site: Site, within: float = 15) -> None:
    """Every database URL answers normally again, by itself, within `within` seconds (each
    worker asks the database again once its short pause after a failure is over)."""
    deadline = time.monotonic() + within
    expected = {"occupancy": 200, "lobby": 200, "panel": 200, "entry": 201}
    while (seen := {name: r.status for name, r in site.database_urls().items()}) != expected:
        assert time.monotonic() < deadline, f"the app did not recover by itself: {seen}"
        time.sleep(0.3)


def assert_no_database_needed(site: Site) -> None:
    for path in ("/static/css/app.css", "/login"):
        reply = site.fetch("GET", path)
        assert reply.status == 200 and reply.seconds < NO_DB_WITHIN, (path, reply.status, reply.seconds)
    assert "Sign in" in site.fetch("GET", "/login").body


def assert_unavailable(replies: dict[str, Reply]) -> None:
    """503 within seconds, each in the form its client understands, with Retry-After."""
    for name, reply in replies.items():
        assert reply.status == 503, (name, reply.status, reply.body[:300])
        assert reply.seconds < DB_ANSWER_WITHIN, (name, reply.seconds)
        assert int(reply.headers["Retry-After"]) > 0
        assert "Traceback" not in reply.body
    for name in ("occupancy", "entry"):  # the API
        assert replies[name].headers["Content-Type"] == "application/json"
        assert "database is not answering" in replies[name].body
    page = BeautifulSoup(replies["lobby"].body, "html.parser")
    assert page.h1.get_text() == "Temporarily unavailable"
    assert page.find("meta", attrs={"http-equiv": "refresh"})  # a lobby screen comes back by itself
    fragment = BeautifulSoup(replies["panel"].body, "html.parser")
    assert fragment.find("html") is None and fragment.find(attrs={"data-unavailable": True})


def assert_one_traceback_per_burst(log: str, failed: int) -> None:
    """A line per failed request; tracebacks: one per worker and kind of error, not per request."""
    assert log.count(" -> 503: ") == failed, log[-3000:]
    with_traceback = log.count("(traceback below;")  # one record (its chained causes included) per kind
    assert 1 <= with_traceback <= 2 * WORKERS, log[-6000:]
    # (JSON lines: a traceback is the "exception" field of its line, not lines of its own)
    assert log.count("Traceback (most recent call last)") <= 3 * with_traceback  # nothing else logs one


def test_a_stopped_database_answers_503_and_the_app_recovers(site):
    assert_all_work(site)
    workers = site.all_workers()
    mark = site.log_size()
    site.pg.stop()
    try:
        assert_unavailable(site.database_urls())
        assert_no_database_needed(site)
        polls = [site.fetch("GET", "/g/main/lobby/panel", PANEL) for _ in range(20)]  # a lobby screen, polling
        assert {p.status for p in polls} == {503}
        assert_one_traceback_per_burst(site.log_since(mark), failed=4 + 20)
    finally:
        site.pg.start()
    assert_all_work(site)
    assert site.workers() == workers  # no worker died or was killed


def test_a_frozen_database_costs_seconds_not_workers(site):
    assert_all_work(site)  # the workers hold pooled connections: each is checked (pre-ping) first
    workers = site.all_workers()
    mark = site.log_size()
    site.pg.freeze()
    try:
        assert_no_database_needed(site)
        assert_unavailable(site.database_urls())
        assert_unavailable(site.database_urls())  # again: no pooled connection left to wait on
        assert_no_database_needed(site)
        ready = site.fetch("GET", "/readyz")  # a load balancer's probe: bounded too, and says why
        assert (ready.status, json.loads(ready.body)) == (503, {"status": "unavailable", "reason": "database unreachable"})
        assert ready.seconds < DB_ANSWER_WITHIN and site.fetch("GET", "/healthz").status == 200
        assert_one_traceback_per_burst(site.log_since(mark), failed=9)
    finally:
        site.pg.thaw()
    assert_all_work(site)
    assert site.workers() == workers


def test_a_frozen_database_under_load_leaves_workers_free_for_static_and_sign_in(site):
    """Many booths and screens keep asking while the database is frozen: after the first
    request that waited in vain, each worker answers 503 at once for a moment instead of
    waiting again, so the few sync workers are free for what needs no database."""
    from concurrent.futures import ThreadPoolExecutor

    assert_all_work(site)
    site.pg.freeze()
    try:
        stop = time.monotonic() + 8
        with ThreadPoolExecutor(max_workers=4 * WORKERS) as pool:
            def keep_asking() -> list[Reply]:
                replies = []
                while time.monotonic() < stop:
                    replies.append(site.fetch("GET", "/api/garage/occupancy"))
                return replies

            load = [pool.submit(keep_asking) for _ in range(4 * WORKERS)]
            time.sleep(4)  # every worker has met the frozen database by now
            for path in ("/static/css/app.css", "/login", "/static/css/app.css"):
                reply = site.fetch("GET", path)
                assert reply.status == 200 and reply.seconds < NO_DB_WITHIN, (path, reply.seconds)
            replies = [r for f in load for r in f.result()]
        assert {r.status for r in replies} == {503}
        fast = [r for r in replies if r.seconds < 0.5]
        assert len(fast) > len(replies) / 2, [round(r.seconds, 2) for r in replies]  # most did not wait
    finally:
        site.pg.thaw()
    assert_all_work(site)


def test_pages_in_flight_when_the_database_freezes_answer_503_after_one_wait(site):
    """A manager keeps asking for reports (each one not kept yet: drawn, holding its turn on a connection
    of its own) and the desk while the database freezes. Every answer is the page or its 503, never a 500
    (the log's user name is not loaded again from the frozen database), and no request waits for the frozen
    server twice: the end of its session and of its report's turn drop their connections instead of a
    rollback that would wait DB_REPLY_TIMEOUT again."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date, timedelta

    assert_all_work(site)
    cookie, token = login_form(site.base)
    status, cookie, _ = page("POST", f"{site.base}/login", cookie,
                             {"username": "boss", "password": "correct horse battery", "csrf_token": token})
    assert status == 303
    frozen_at, thawed_at = [0.0], [0.0]

    def keep_asking(paths) -> list[tuple[str, Reply, float]]:
        replies = []
        for path in paths:
            if thawed_at[0]:
                break
            started = time.monotonic()
            replies.append((path, site.fetch("GET", path, {"Cookie": cookie}), started))
        return replies

    last = date.today()
    reports = [f"/g/main/reports?from={last - timedelta(days=30 + i)}&to={last - timedelta(days=i)}"
               for i in range(400)]  # each another report: drawn, never served as kept
    with ThreadPoolExecutor(max_workers=3) as pool:
        asking = [pool.submit(keep_asking, reports[0::2]), pool.submit(keep_asking, reports[1::2]),
                  pool.submit(keep_asking, ["/g/main/desk"] * 400)]
        time.sleep(1.5)
        site.pg.freeze()
        frozen_at[0] = time.monotonic()
        try:
            time.sleep(3 * float(TIMEOUTS["DB_REPLY_TIMEOUT"]))
        finally:
            site.pg.thaw()
            thawed_at[0] = time.monotonic()
        replies = [r for f in asking for r in f.result()]
    assert {reply.status for _, reply, _ in replies} <= {200, 503}, \
        [(path, reply.status, reply.body[:200]) for path, reply, _ in replies if reply.status not in (200, 503)]
    during = [(path, reply) for path, reply, started in replies if started + reply.seconds > frozen_at[0]
              and started < thawed_at[0] - 2 * float(TIMEOUTS["DB_REPLY_TIMEOUT"])]
    assert any(reply.status == 503 for _, reply in during)
    once = 2 * float(TIMEOUTS["DB_REPLY_TIMEOUT"]) - 0.3  # less than two waits for the frozen server
    assert all(reply.seconds < once for _, reply in during), \
        sorted(((round(reply.seconds, 2), reply.status, path) for path, reply in during), reverse=True)[:6]
    assert_all_work(site)

