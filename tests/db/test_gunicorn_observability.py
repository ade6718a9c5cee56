"""Metrics and logs under gunicorn with several workers (the production configuration): requests
spread over the workers add up in /metrics (prometheus_client's multiprocess mode), a worker that
dies keeps its counts, every log line (the app's, its request log, gunicorn's error and access
logs) is one JSON object carrying the request id, and no password, token, CSRF token or cookie
ever reaches the log."""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.live import LiveServer, call, gunicorn_process, login_form, migrated_postgres, page

PASSWORD = "Obs3rvable-pass-phrase-71"
ENV = {"METRICS_ALLOW": "127.0.0.1/32", "GUNICORN_ACCESSLOG": "-", "LOG_REQUESTS": "true", "LOG_LEVEL": "INFO",
       "LOG_FORMAT": "json"}


class Site(LiveServer):
    log: Path
    master: int

    def lines(self) -> list[dict]:
        """Every line gunicorn wrote so far, each parsed as JSON (fails on any other line)."""
        text = self.log.read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def scrape(self) -> dict[tuple[str, tuple], float]:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/plain")
            text = r.read().decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("observed")
    log = folder / "gunicorn.log"
    metrics_dir = folder / "metrics"  # as systemd's RuntimeDirectory would be: named by the environment
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_99999.db"
    stale.write_bytes(b"left over from an earlier run")
    with migrated_postgres(str(folder)) as (url, app):
        with gunicorn_process(url, workers=2, extra_env={**ENV, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
                              log=log) as (base, proc):
            assert not stale.exists()  # emptied when gunicorn started
            s = Site(base, url, app)
            s.log, s.master = log, proc.pid
            s.reset()
            yield s


def get(url: str, headers: dict[str, str] | None = None) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.status


def test_requests_spread_over_the_workers_add_up_and_a_dead_workers_counts_stay(site):
    def healthz_count(samples) -> float:
        return value(samples, "garage_http_requests_total", route="ops.healthz", method="GET", status="200")

    before = healthz_count(site.scrape())
    sent, pids = 0, set()
    with ThreadPoolExecutor(8) as pool:
        while len(pids) < 2 and sent < 400:  # until both workers answered some
            assert all(s == 200 for s in pool.map(lambda _: get(site.url + "/healthz"), range(40)))
            sent += 40
            pids = {line["pid"] for line in site.lines() if line.get("route") == "ops.healthz"}
    assert len(pids) == 2, "the requests never reached both workers"
    assert healthz_count(site.scrape()) - before == sent  # one scrape, one worker: both workers' counts

    os.kill(sorted(pids)[0], signal.SIGKILL)  # a worker dies; gunicorn starts another
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        booted = [line for line in site.lines() if line["message"].startswith("Booting worker")]
        if len(booted) >= 3:
            break
        time.sleep(0.2)
    assert healthz_count(site.scrape()) - before >= sent  # its counts are not lost


def test_business_figures_and_logs_without_secrets(site):
    site.reset(total_spaces=1)
    site.user("alice", "manager", PASSWORD)
    token = site.token("attendant")
    secret = token["Authorization"].split()[1]
    before = site.scrape()

    cookie, csrf = login_form(site.url)
    assert page("POST", f"{site.url}/login", cookie, {"username": "alice", "password": "wrong-" + PASSWORD,
                                                       "csrf_token": csrf})[0] == 401
    status, cookie, _ = page("POST", f"{site.url}/login", cookie,
                             {"username": "alice", "password": PASSWORD, "csrf_token": csrf})
    assert status == 303
    assert page("GET", f"{site.url}/g/main/desk", cookie)[0] == 200
    status, ticket = call("POST", f"{site.url}/api/tickets", {"licensePlate": "OBS1", "vehicleType": "Car"}, token)
    assert status == 201
    assert call("POST", f"{site.url}/api/tickets", {"licensePlate": "OBS2", "vehicleType": "Car"}, token)[0] == 409
    assert call("GET", f"{site.url}/api/tickets/{ticket['ticketNumber']}", headers=token)[0] == 200
    assert call("PUT", f"{site.url}/api/tickets/{ticket['ticketNumber']}/exit", {"paymentMethod": "Cash"},
                token)[0] == 200
    request = urllib.request.Request(f"{site.url}/readyz", headers={"X-Request-ID": "probe-77"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.headers["X-Request-ID"] == "probe-77"
    after = site.scrape()

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert (grew("garage_entries_total"), grew("garage_exits_total")) == (1, 1)
    assert grew("garage_revenue_cents_total") == ticket_fee(site, ticket["ticketNumber"])
    assert grew("garage_refusals_total", operation="entry", reason="full") == 1
    assert grew("garage_sign_in_failures_total", reason="wrong_credentials") == 1
    assert value(after, "garage_spaces_total", garage="main") == 1 and value(after, "garage_database_up") == 1
    assert value(after, "garage_db_pool_connections_open") >= 1
    assert value(after, "garage_db_pool_connections_limit") in (5, 10)  # DB_POOL_SIZE 5 per worker that connected

    time.sleep(0.3)  # the access log line is written after the answer
    lines = site.lines()
    for line in lines:
        assert {"time", "level", "logger", "message", "pid"} <= set(line), line
        assert line["time"].endswith("Z")
    probe = [line for line in lines if line.get("request_id") == "probe-77"]
    assert {line["logger"] for line in probe} == {"garage.request", "gunicorn.access"}
    assert all((line["route"], line["status"], line["path"]) == ("ops.readyz", 200, "/readyz") for line in probe)
    desk = [line for line in lines if line.get("route") == "desk.index" and line["logger"] == "gunicorn.access"]
    assert desk and desk[-1]["user"] == "alice" and desk[-1]["method"] == "GET"
    lookups = [line for line in lines if line.get("route") == "api.get_ticket"]
    assert lookups and lookups[-1]["user"].startswith("attendant-")  # the token's owner
    text = site.log.read_text()
    session_value = cookie.split("=", 1)[1]
    for secret_text in (PASSWORD, secret, csrf, session_value):
        assert secret_text not in text


def ticket_fee(site: Site, number: str) -> int:
    import sqlalchemy as sa
    from garage.extensions import db

    with site.app.app_context():
        paid = db.session.scalar(sa.text("SELECT amount_paid FROM tickets WHERE ticket_number = :n"), {"n": number})
        db.session.remove()
    return paid
