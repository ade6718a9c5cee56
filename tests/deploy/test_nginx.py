"""Garage as deployed: nginx (the site config in deploy/nginx/, rendered by render.py) in front of
two gunicorn instances sharing one PostgreSQL database. A short shift goes through nginx from
the address 127.0.0.7: the sign-in works on both instances, entries and exits land on both, the
app (throttle, audit log) sees the client's address and not nginx's, health and readiness answer
through nginx. Then what the proxy itself promises: static files, rate limits, no POST sent twice,
a page when no instance answers, the TLS site."""
from __future__ import annotations

import gzip
import http.client
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa

from garage.extensions import db
from tests.helpers.live import LiveServer, free_port, gunicorn_server, migrated_postgres
from tests.helpers.nginx import ROOT, Client, Nginx, nginx_binary, nginx_server, render
from tests.helpers.postgres import IN_CI
from tests.helpers.web import PASSWORD

CLIENT = "127.0.0.7"  # the test's own address: nginx sees it, the app must too (not 127.0.0.1)
MONITOR = "127.0.0.5"  # METRICS_ALLOW lets it read /metrics...
NGINX = "127.0.0.1"  # ...and nginx's own address, as docs/operations.md suggests: never a client through it
METRICS_TOKEN = secrets.token_hex(16)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Stack:
    nginx: Nginx
    instances: dict[str, str]  # upstream address ("127.0.0.1:PORT") -> its base URL
    live: LiveServer  # set-up and checks on the shared database
    home: Path  # the instances' HOME and XDG_RUNTIME_DIR

    def rows(self, sql: str, **params) -> list[tuple]:
        with self.live.app.app_context():
            rows = [tuple(r) for r in db.session.execute(sa.text(sql), params)]
            db.session.remove()
        return rows

    def logged(self, wanted: Callable[[dict], bool], count: int) -> list[dict]:
        """The access log's records that match, in order; waits (briefly) for `count` of them:
        nginx writes a request's line just after sending its response."""
        deadline = time.monotonic() + 3
        while True:
            found = [r for r in self.nginx.records() if wanted(r)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def upstreams(self, method: str, uri_pattern: str, count: int) -> list[str]:
        """Which instance served each of the `count` requests matching (method, uri regex)."""
        return [r["upstream"] for r in self.logged(
            lambda r: r["method"] == method and re.fullmatch(uri_pattern, r["uri"]), count)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    nginx_binary()  # skipped (failed under CI=true) before any set-up when nginx is missing
    secret = secrets.token_hex(16)  # one key for every instance: a session signed by one is read by the other
    home = tmp_path_factory.mktemp("instance-home")  # where gunicorn would put its control socket
    env = {"SECRET_KEY": secret, "TRUSTED_PROXY_HOPS": "1", "METRICS_ALLOW": f"{MONITOR}/32,{NGINX}/32",
           "METRICS_TOKEN": METRICS_TOKEN, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    with migrated_postgres(str(tmp_path_factory.mktemp("nginx-instance"))) as (url, app), ExitStack() as stack:
        bases = [stack.enter_context(gunicorn_server(url, workers=1, extra_env=env)) for _ in range(2)]
        instances = {base.removeprefix("http://"): base for base in bases}
        nginx = stack.enter_context(nginx_server(list(instances)))
        yield Stack(nginx, instances, LiveServer(nginx.url, url, app), home)


def sign_in(client: Client, username: str, password: str = PASSWORD) -> None:
    token = CSRF.search(client.request("GET", "/login").text).group(1)
    r = client.request("POST", "/login", form={"username": username, "password": password, "csrf_token": token})
    assert r.status == 303, r.text


def desk_token(client: Client, base: str | None = None) -> str:
    r = client.request("GET", "/g/main/desk", base=base)
    assert r.status == 200, (r.status, r.headers.get("Location"))
    return CSRF.search(r.text).group(1)


# --- a shift through nginx -------------------------------------------------------------------

def test_a_shift_through_nginx_uses_both_instances_with_one_sign_in(stack):
    stack.live.reset()
    stack.live.user("ann", "attendant")
    desk = Client(stack.nginx.url, CLIENT)
    sign_in(desk, "ann")
    # The session opened through nginx works on each instance, asked directly with the same cookie.
    for base in stack.instances.values():
        assert "ann" in desk.request("GET", "/g/main/desk", base=base).text
    token = desk_token(desk)

    numbers = []
    for plate in ("NGX001", "NGX002", "NGX003", "NGX004"):
        r = desk.request("POST", "/g/main/desk/entries", form={"plate": plate, "vehicle_type": "Car", "csrf_token": token})
        assert r.status == 303, r.text
        numbers.append(r.headers["Location"].rsplit("/", 1)[1])
    amounts = [re.search(r'name="expected_amount" value="(\d+)"', desk.request("GET", f"/g/main/desk/exit?q={n}").text)
               .group(1) for n in numbers]
    for number, amount in zip(numbers, amounts):  # back to back, as the entries: nothing else in between
        r = desk.request("POST", f"/g/main/desk/tickets/{number}/exit",
                         form={"payment_method": "Cash", "expected_amount": amount, "csrf_token": token})
        assert r.status == 303, r.text

    # Round robin: consecutive entries (and exits) alternate between the two instances.
    entries = stack.upstreams("POST", r"/g/main/desk/entries", 4)
    exits = stack.upstreams("POST", r"/g/main/desk/tickets/[^/]+/exit", 4)
    assert len(entries) == len(exits) == 4
    for served in (entries, exits):
        assert set(served) == set(stack.instances)
        assert all(a != b for a, b in zip(served, served[1:])), served
    assert stack.rows("SELECT count(*) FROM tickets WHERE status = 'completed'") == [(4,)]
    # Everything the shift did was audited with the client's address, not nginx's.
    audited = stack.rows("SELECT action, ip FROM audit_log WHERE action IN ('auth.login', 'ticket.issued', 'ticket.paid')")
    assert len(audited) == 9 and {ip for _, ip in audited} == {CLIENT}


def test_the_throttle_and_the_audit_log_see_the_forwarded_address_never_a_forged_one(stack):
    stack.live.reset()
    stack.live.user("bob", "attendant")
    forger = Client(stack.nginx.url, "127.0.0.8")
    token = CSRF.search(forger.request("GET", "/login").text).group(1)
    r = forger.request("POST", "/login", form={"username": "bob", "password": "wrong password!", "csrf_token": token},
                       headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status == 401
    assert stack.rows("SELECT key FROM sign_in_throttle WHERE key LIKE 'ip:%'") == [("ip:127.0.0.8",)]
    assert stack.rows("SELECT ip FROM audit_log WHERE action = 'auth.login_failed'") == [("127.0.0.8",)]

    api = stack.live.token("attendant")
    r = forger.request("POST", "/api/tickets", body={"licensePlate": "API001", "vehicleType": "Car"},
                       headers={**api, "X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
    assert r.status == 201, r.text
    assert stack.rows("SELECT ip FROM audit_log WHERE action = 'ticket.issued'") == [("127.0.0.8",)]


def test_health_readiness_and_metrics_answer_through_nginx_with_one_request_id(stack):
    # A deployment that ran `flask init` (its default garage's row exists): run first in its worker, this
    # test found none, and /metrics rightly listed no garage (the module's stack is per worker).
    stack.live.reset()
    client = Client(stack.nginx.url, CLIENT)
    health = client.request("GET", "/healthz")
    assert (health.status, health.json()) == (200, {"status": "ok"})
    ready = client.request("GET", "/readyz")
    assert (ready.status, ready.json()) == (200, {"status": "ready"})
    # nginx makes up the request id, the app answers with it, and nginx's access log has the same.
    logged = stack.logged(lambda r: r["uri"] == "/readyz", 1)[-1]["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", logged) and ready.headers["X-Request-ID"] == logged
    # A well-formed id from the caller is kept all the way; a malformed one is replaced by nginx's.
    kept = client.request("GET", "/healthz", headers={"X-Request-ID": "booth-7.0042"})
    replaced = client.request("GET", "/healthz", headers={"X-Request-ID": "a b\"c"})
    ids = [r["request_id"] for r in stack.logged(lambda r: r["uri"] == "/healthz", 3)][-2:]
    assert ids[0] == kept.headers["X-Request-ID"] == "booth-7.0042"
    assert re.fullmatch(r"[0-9a-f]{32}", ids[1]) and replaced.headers["X-Request-ID"] == ids[1]

    # /metrics: for the monitoring address only, which the app learns from nginx's X-Forwarded-For.
    scraped = Client(stack.nginx.url, MONITOR).request("GET", "/metrics")
    assert scraped.status == 200 and scraped.headers["Content-Type"].startswith("text/plain")
    assert re.search(r'^garage_spaces_total\{garage="main"\} \d', scraped.text, flags=re.M)
    assert re.search(r'^garage_http_requests_total\{[^}]*route="ops.healthz"', scraped.text, flags=re.M)
    assert client.request("GET", "/metrics").status == 403
    assert client.request("GET", "/metrics", headers={"X-Forwarded-For": MONITOR}).status == 403  # forged
    # A quote in the client's header once hid nginx's appended address (the app saw nginx's own).
    for hostile in ('6.6.6.6"', '" 10.0.0.1', '"'):
        assert client.request("GET", "/metrics", headers={"X-Forwarded-For": hostile}).status == 403, hostile
    # Each instance counts its own requests: Prometheus scrapes every instance directly (with the token).
    for base in stack.instances.values():
        direct = client.request("GET", "/metrics", base=base, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert direct.status == 200 and "garage_db_pool_connections_limit" in direct.text


def test_instances_on_one_host_share_no_gunicorn_control_socket(stack):
    """gunicorn 27's control socket defaults to one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
    ~/.gunicorn/gunicorn.ctl): each instance (and each worker replacement) took it from the others."""
    for base in stack.instances.values():
        assert Client(base, CLIENT).request("GET", "/healthz").status == 200
    assert sorted(p.name for p in stack.home.rglob("*.ctl")) == []


# --- what nginx itself does ------------------------------------------------------------------

def test_static_files_come_from_nginx_gzipped_and_cached_for_a_year_when_versioned(stack):
    client = Client(stack.nginx.url, CLIENT)
    href = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', client.request("GET", "/login").text).group(1)
    r = client.request("GET", href, headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.body) == (ROOT / "static/css/app.css").read_bytes()
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Security-Policy" not in r.headers  # the app sets it on everything: nginx served this
    page = client.request("GET", "/login", headers={"Accept-Encoding": "gzip"})
    assert page.status == 200 and "Content-Encoding" not in page.headers  # pages: never compressed (BREACH)
    unversioned = client.request("GET", "/static/css/app.css")
    assert unversioned.status == 200 and unversioned.headers["Cache-Control"] == "no-cache"
    # A file that is not there (yet) is not cached for a year, versioned URL or not.
    for missing in ("/static/css/next.css?v=0123456789ab", "/static/css/next.css"):
        r = client.request("GET", missing)
        assert r.status == 404 and r.headers["Cache-Control"] == "no-cache", missing
    for path in ("/static/../garage/config.py", "/static/..%2fgarage%2fconfig.py", "/static/css/../../wsgi.py"):
        r = client.request("GET", path)
        assert r.status in (400, 403, 404) and b"create_app" not in r.body, path


def test_the_access_log_keeps_paths_without_their_query_strings(stack):
    client = Client(stack.nginx.url, "127.0.0.13")
    client.request("GET", "/login?next=%2Fdesk%2Fexit%3Fq%3DSECRET7&plate=SECRET7")
    client.request("GET", "/static/css/app.css?v=SECRET8")
    logged, = stack.logged(lambda r: r["client"] == "127.0.0.13", 1)
    assert logged["uri"] == "/login"
    assert "SECRET" not in stack.nginx.access_log.read_text()


def test_sign_in_posts_are_rate_limited_per_address(stack):
    flood = Client(stack.nginx.url, "127.0.0.9")
    statuses = [flood.request("POST", "/login", form={"username": "x", "password": "y"}).status for _ in range(14)]
    assert 429 not in statuses[:10] and statuses[-3:] == [429, 429, 429], statuses
    assert flood.request("GET", "/login").status == 200  # reading the form is not limited
    assert Client(stack.nginx.url, "127.0.0.10").request("POST", "/login", form={}).status != 429


def test_api_calls_are_rate_limited_per_address_with_a_json_answer(stack):
    flood = Client(stack.nginx.url, "127.0.0.11")
    # Sent at once (32 at a time): one after another, a slow machine can stay under 50 a second and
    # never be limited (seen in CI). nginx lets a burst of 100 through and refills 50 a second.
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda _: flood.request("GET", "/api/nothing-here"), range(300)))
    statuses = [r.status for r in answers]
    assert set(statuses) <= {404, 429} and statuses.count(404) >= 100, statuses  # the burst passes
    assert statuses.count(429) >= 1, statuses
    refused = next(r for r in answers if r.status == 429)
    assert refused.json() == {"message": "Too many requests from this address. Please slow down."}
    assert refused.headers["Retry-After"] == "1"
    assert Client(stack.nginx.url, "127.0.0.12").request("GET", "/api/nothing-here").status == 404


@contextmanager
def hanging_up_instance() -> Iterator[tuple[str, list[bytes]]]:
    """An 'instance' that accepts a connection, reads the request, and closes without an answer
    (a worker killed mid-request): the request reached it, and may have been served."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                received.append(conn.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}", received
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()


def test_a_post_that_reached_an_instance_is_never_sent_to_another(stack):
    stack.live.reset()
    api = stack.live.token("attendant")
    live = next(iter(stack.instances))
    with hanging_up_instance() as (hangs, received), nginx_server([hangs, live]) as nginx:
        client = Client(nginx.url, CLIENT)
        # nginx's round robin starts with the first server: the first POST reaches the one that hangs up.
        r = client.request("POST", "/api/tickets", body={"licensePlate": "TWICE1", "vehicleType": "Car"}, headers=api)
        assert r.status == 503 and r.json()["message"].startswith("The garage is not answering")
        assert r.headers["Retry-After"] == "5"
        assert any(b"TWICE1" in request for request in received)  # it reached the instance...
        assert [rec["upstream"] for rec in nginx.records(at_least=1)] == [hangs]  # ...so it was not sent elsewhere
        assert stack.rows("SELECT count(*) FROM tickets") == [(0,)]
        # A GET is idempotent: after the same failure it is answered by the other instance.
        assert [client.request("GET", "/api/garage/occupancy").status for _ in range(3)] == [200, 200, 200]
        gets = [(rec["upstream"], rec["status"]) for rec in nginx.records(at_least=4) if rec["method"] == "GET"]
        assert (f"{hangs}, {live}", 200) in gets, gets


def test_an_instance_that_refuses_connections_costs_no_request_not_even_a_post(stack):
    stack.live.reset()
    api = stack.live.token("attendant")
    down = f"127.0.0.1:{free_port()}"  # nothing listens: an instance restarting
    with nginx_server([down, next(iter(stack.instances))]) as nginx:
        client = Client(nginx.url, CLIENT)
        for i in range(4):
            r = client.request("POST", "/api/tickets", body={"licensePlate": f"REF{i}", "vehicleType": "Car"},
                               headers=api)
            assert r.status == 201, r.text
        assert nginx.records(at_least=4)[0]["upstream"].startswith(down + ", ")  # refused, so never sent: tried next
    assert stack.rows("SELECT count(*) FROM tickets") == [(4,)]


def test_with_no_instance_answering_nginx_says_so_pages_and_api_alike():
    with nginx_server([f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]) as nginx:
        client = Client(nginx.url, CLIENT)
        page = client.request("GET", "/g/main/desk")
        assert page.status == 503 and "Temporarily unavailable" in page.text
        assert page.headers["Retry-After"] == "5" and page.headers["Content-Type"].startswith("text/html")
        posted = client.request("POST", "/g/main/desk/entries", form={"plate": "X"})
        assert posted.status == 503 and "Temporarily unavailable" in posted.text
        api = client.request("GET", "/api/status")
        assert api.status == 503 and api.json() == {
            "message": "The garage is not answering. Please try again in a few seconds."}
        assert re.fullmatch(r"[0-9a-f]{32}", api.headers["X-Request-ID"])


def test_the_tls_site_redirects_plain_http_and_sends_hsts_everywhere(stack, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        if IN_CI:
            pytest.fail("openssl is missing (make nginx installs it): the TLS site is not tested", pytrace=False)
        pytest.skip("openssl is not installed: no certificate for the TLS site")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    tmp_path.chmod(0o755)
    key.chmod(0o644)  # read by nginx's master only, but it may not be us
    with nginx_server([next(iter(stack.instances))], tls=(str(cert), str(key))) as nginx:
        plain = Client(nginx.url, CLIENT).request("GET", "/desk?x=1")
        assert plain.status == 301 and plain.headers["Location"] == "https://127.0.0.1/desk?x=1"
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        for path in ("/api/status", "/login", "/static/css/app.css?v=1"):
            conn = http.client.HTTPSConnection("127.0.0.1", nginx.tls_port, context=context, timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            assert r.status == 200, path
            assert r.getheader("Strict-Transport-Security") == "max-age=63072000; includeSubDomains", path


# --- render.py, what an operator runs ----------------------------------------------------------

def test_render_fills_every_name_drains_on_request_and_refuses_nonsense(tmp_path):
    site = render.render(tmp_path, ROOT, ["5001", "5002", "10.0.0.5:5001"], down=["5002"])
    text = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "${GARAGE_" not in text and "$remote_addr" in text  # nginx's own variables are left alone
    upstream = (tmp_path / "upstream.conf").read_text()
    assert "server 127.0.0.1:5001 max_fails=2 fail_timeout=5s;" in upstream
    assert "server 127.0.0.1:5002 max_fails=2 fail_timeout=5s down;" in upstream
    assert "server 10.0.0.5:5001 max_fails=2 fail_timeout=5s;" in upstream
    assert f"include {tmp_path}/locations.conf;" in site.read_text()
    assert f"alias {ROOT}/static/;" in (tmp_path / "locations.conf").read_text()
    for bad in ({"instances": ["5001"], "down": ["5001"]}, {"instances": ["5001"], "down": ["5009"]},
                {"instances": []}):
        with pytest.raises(ValueError):
            render.render(tmp_path / "bad", ROOT, **bad)
    assert render.main(["--out", str(tmp_path / "cli"), "--instances", "5001,5002", "--down", "5003"]) == 2


def test_render_keeps_upstream_connections_only_when_asked(tmp_path):
    """Sync workers close every connection (no keepalive line: nginx would hold dead ones); threaded
    workers keep theirs (render.py --keepalive N, docs/deployment.md); nginx accepts both."""
    render.render(tmp_path / "sync", ROOT, ["5001"])
    assert "keepalive" not in (tmp_path / "sync" / "upstream.conf").read_text().split("upstream garage_app {")[1].split("}")[0]
    assert render.main(["--out", str(tmp_path / "threads"), "--instances", "5001,5002", "--keepalive", "16"]) == 0
    block = (tmp_path / "threads" / "upstream.conf").read_text().split("upstream garage_app {")[1].split("}")[0]
    assert block.strip().splitlines()[-1].strip() == "keepalive 16;"
    assert "server 127.0.0.1:5002 max_fails=2 fail_timeout=5s;" in block
    assert render.main(["--out", str(tmp_path / "bad"), "--instances", "5001", "--keepalive", "-1"]) == 2
    with nginx_server(["127.0.0.1:1"], keepalive=8) as nginx:  # nginx -t passed, and it serves
        assert "keepalive 8;" in (nginx.dir / "site" / "upstream.conf").read_text()


def test_the_bench_behind_nginx_lifts_only_the_per_address_api_limit(tmp_path):
    """bench/run.py --via-nginx measures production's config; all of wrk's connections come from one
    address, so it lifts the API's per-address rate and nothing else (it fails loudly if the zone moves)."""
    from bench.run import lift_api_limit

    render.render(tmp_path, ROOT, ["5001"])
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    lift_api_limit(tmp_path)
    after = {p.name: p.read_text() for p in tmp_path.iterdir()}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["upstream.conf"]
    diff = set(after["upstream.conf"].splitlines()) - set(before["upstream.conf"].splitlines())
    assert len(diff) == 1 and "zone=garage_api:10m rate=1000000r/s" in diff.pop()
    assert "zone=garage_login:10m rate=10r/m" in after["upstream.conf"]
    (tmp_path / "upstream.conf").write_text("no zones here\n")
    with pytest.raises(RuntimeError):
        lift_api_limit(tmp_path)
