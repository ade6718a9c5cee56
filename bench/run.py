"""The benchmark: `make bench` (or .venv/bin/python bench/run.py --help).

For an empty database and a database holding a year of history (1,000,000
tickets by default, from bench/seed_history.py), it starts the app under
gunicorn with the production config (gunicorn.conf.py) on PostgreSQL, drives
every scenario below with wrk, runs the two references in the same run
(pgbench's single-insert transaction: PostgreSQL's ceiling; bench/bare_app.py:
one insert through gunicorn + Flask + SQLAlchemy + psycopg2, the framework's
floor) and prints one table. Raw wrk/pgbench output goes to bench/results/.

A scenario whose URL answers 404 (its page has not been built yet) is skipped
with a "not available yet" line, so new pages light up by themselves.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare_app import TABLE_DDL  # noqa: E402
from bench.seed_history import ensure_garages, psycopg2_dsn, seed  # noqa: E402
from garage.config import normalise_database_url  # noqa: E402
from garage.domain.tickets import TICKET_ALPHABET  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password-" + secrets.token_hex(4)
USERNAME = "bench"


@dataclass
class Scenario:
    """One row of the table. `kind`: how to prepare it (see Bench.prepare)."""

    name: str
    method: str
    path: str | tuple[str, ...]  # probed in order: the first that does not answer 404 is measured
    script: str
    auth: str = "token"  # token | session (a manager) | admin | none
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "read"  # read | csv (rows/s and the workers' memory too) | entry | lookup | exit
    connections: int | None = None  # None: --connections; 1: the request alone (wrk -t1 -c1)

    def alone(self) -> "Scenario":
        """The same request with one client (wrk -t1 -c1): its own latency, without a queue."""
        return replace(self, name=f"{self.name}, alone", connections=1)


POLL = {"HX-Request": "true", "X-Garage-Poll": "1"}
# The live pages: polled by TVs and tablets. wrk sends no If-None-Match: every poll renders the panel (the
# worst case; a TV gets 304s). The polled fragments carry the headers their pages' htmx polls send (hx-headers).
STATS = Scenario("stats", "GET", "/api/garage/stats", "get.lua")
LIVE_PAGES = (STATS,
              Scenario("lobby fragment", "GET", "/g/main/lobby/panel", "get.lua", auth="none", headers=POLL),
              Scenario("desk live panel", "GET", "/g/main/desk/live", "get.lua", auth="session", headers=POLL),
              Scenario("portfolio live panel", "GET", "/portfolio/live", "get.lua", auth="admin", headers=POLL))
# The report page (figures and SVG charts) of the last 30 and 365 local days ({d30}, {d365}, {today}: dates in
# UTC, the bench garages' timezone).
REPORTS = (Scenario("report 30 d", "GET", "/g/main/reports?from={d30}&to={today}", "get.lua", auth="session"),
           Scenario("report 365 d", "GET", "/g/main/reports?from={d365}&to={today}", "get.lua", auth="session"))
# Read-only scenarios first (they see the database as seeded), then the writers.
SCENARIOS = [
    STATS, *LIVE_PAGES[1:2],
    Scenario("desk page", "GET", "/g/main/desk", "get.lua", auth="session"),
    *LIVE_PAGES[2:],
    # The live pages alone: what one TV or tablet polling them waits, without the queue of 16 connections on
    # 5 workers and 2 cores (where even the bare insert's p99 passes 50 ms on a slow host).
    *(s.alone() for s in LIVE_PAGES),
    # The reports under load and alone.
    *REPORTS, *(s.alone() for s in REPORTS),
    # Every garage's figures over the default 30 days (an admin sees them all).
    Scenario("portfolio page", "GET", "/portfolio", "get.lua", auth="admin"),
    # A month of the default garage's tickets, one download at a time.
    Scenario("tickets CSV, month", "GET", "/g/main/reports/export/tickets.csv?from={d30}&to={today}", "get.lua",
             auth="session", kind="csv", connections=1),
    Scenario("activities", "GET", "/api/activities?limit=10", "get.lua"),
    Scenario("entry", "POST", "/api/tickets", "entry.lua", kind="entry"),
    Scenario("lookup", "GET", "/api/tickets/<number>", "lookup.lua", kind="lookup"),
    Scenario("exit", "PUT", "/api/tickets/<number>/exit", "exit.lua", kind="exit"),
]
REFERENCES = ("bare Flask insert", "pgbench insert")
LIVE = tuple(s.name for s in LIVE_PAGES)
ADMIN = "benchadmin"


@dataclass
class Result:
    database: str
    name: str
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None  # the median round's (the many-garages table shows it)
    p99_ms: float | None = None
    errors: int = 0
    conflicts: int = 0
    note: str = ""
    rows_per_s: float | None = None  # csv: rows streamed per second
    rss_growth_mb: float | None = None  # csv: the most a worker's resident memory grew while streaming


def log(message: str) -> None:
    print(message, flush=True)


# --- databases ----------------------------------------------------------------------------

def db_url(admin: str, name: str) -> str:
    parts = urllib.parse.urlsplit(admin)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def sql(url: str, statement: str, params: tuple | dict | None = None, autocommit: bool = False):
    conn = psycopg2.connect(psycopg2_dsn(url))
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall() if cur.description else None
        if not autocommit:
            conn.commit()
        return rows
    finally:
        conn.close()


def database_exists(admin: str, name: str) -> bool:
    return bool(sql(admin, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def create_database(admin: str, name: str) -> None:
    sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)
    sql(admin, f'CREATE DATABASE "{name}"', autocommit=True)


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "garage", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare_database(admin: str, name: str, tickets: int, reuse: bool, garages: int = 1) -> str:
    """Create (or reuse) a bench database: migrated, `garages` garages (the default one and g002...),
    `tickets` of history spread over them with the reports' rollups built, a manager and an admin with
    an API token, the references' table, and a baseline to reset to."""
    url = db_url(admin, name)
    if reuse and database_exists(admin, name) and sql(url, "SELECT to_regclass('bench_meta')")[0][0]:
        seeded = sql(url, "SELECT seeded_tickets, seeded_garages FROM bench_meta")[0]
        if tuple(seeded) == (tickets, garages):
            log(f"[{name}] reusing ({tickets:,} tickets of history over {garages} garage(s))")
            reset(url)
            return url
    create_database(admin, name)
    if tickets:
        t0 = time.monotonic()
        info = seed(url, tickets, 365, replace=False, garages=garages, rollups=True,
                    progress=lambda message: log(f"[{name}] {message}"))
        log(f"[{name}] seeded {info['tickets']:,} tickets over {garages} garage(s) in {info['seconds']} s "
            f"(load {info['load_seconds']} s, indexes {info['index_seconds']} s; {info['active']} inside, "
            f"default garage's total_spaces {info['total_spaces']}); rollups built in {info['rollup_seconds']} s "
            f"(total {time.monotonic() - t0:.0f} s)")
    else:
        migrate(url)
        ensure_settings_row(url)
        if garages > 1:  # the same garages as the history's, empty: the portfolio compares like with like
            conn = psycopg2.connect(psycopg2_dsn(url))
            try:
                with conn, conn.cursor() as cur:
                    ensure_garages(cur, garages)
            finally:
                conn.close()
        log(f"[{name}] created (empty, {garages} garage(s))")
    ensure_settings_row(url)
    sql(url, TABLE_DDL)
    sql(url, "CREATE TABLE bench_meta AS SELECT %s::int AS seeded_tickets, %s::int AS seeded_garages, "
             "(SELECT coalesce(max(id), 0) FROM tickets) AS max_ticket_id, "
             "(SELECT coalesce(max(id), 0) FROM audit_log) AS max_audit_id, "
             "(SELECT total_spaces FROM garages WHERE id = 1) AS total_spaces", (tickets, garages))
    return url


def ensure_settings_row(url: str) -> None:
    sql(url, "INSERT INTO garages (id, slug, total_spaces, hourly_rate, timezone, garage_name, "
             "almost_full_percent, occupied, updated_at) VALUES (1, 'main', 140, 1000, 'UTC', 'Garage', 90, 0, now()) "
             "ON CONFLICT (id) DO NOTHING")


def quiesce(url: str, idle_polls: int = 5, timeout: float = 60.0) -> None:
    """Wait until no query of the app runs on this database for `idle_polls`
    consecutive polls 0.1 s apart. wrk stops sending after its slice, but
    gunicorn still works through the requests queued before that (16 reports
    on the large database are seconds of work), which would land on the next
    scenario's percentiles."""
    deadline, idle = time.monotonic() + timeout, 0
    while idle < idle_polls:
        if time.monotonic() > deadline:
            log(f"note: the database was still busy after {timeout:.0f} s; the next scenario may be disturbed")
            return
        busy = sql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                        "AND state IN ('active', 'idle in transaction')")[0][0]
        idle = 0 if busy else idle + 1
        time.sleep(0.1)


def reset(url: str) -> None:
    """Back to the database as seeded: drop what the scenarios added, then VACUUM
    what was dropped. Without the VACUUM, the thousands of rows each writing
    scenario adds and this function deletes stay behind as dead index entries
    (the partial index of cars inside above all) until autovacuum passes, and
    the next scenarios measure that leftover instead of the app (the desk page
    slowed down several-fold over one run)."""
    quiesce(url)
    sql(url, """
        DELETE FROM tickets WHERE id > (SELECT max_ticket_id FROM bench_meta);
        DELETE FROM audit_log WHERE id > (SELECT max_audit_id FROM bench_meta);
        UPDATE garages SET occupied = (SELECT count(*) FROM tickets WHERE status = 'active' AND garage_id = 1),
               total_spaces = (SELECT total_spaces FROM bench_meta) WHERE id = 1;
        TRUNCATE bench_rows;
    """)
    sql(url, "VACUUM (ANALYZE) tickets, audit_log, garages", autocommit=True)


def create_account(url: str) -> str:
    """The bench manager (the garage's pages) with its API token, and an admin (the portfolio)."""
    from garage import create_app
    from garage.extensions import db
    from garage.services import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        for name, role in ((USERNAME, "manager"), (ADMIN, "admin")):
            existing = db.session.scalar(db.text("SELECT id FROM users WHERE username = :u"), {"u": name})
            if existing is None:
                accounts.create_user(name, PASSWORD, role, allow_admin=True)
            else:
                accounts.change_password(accounts.get_user(name), PASSWORD)
        _, secret = accounts.create_token(USERNAME)
        db.session.remove()
        db.engine.dispose()
    return secret


def set_spaces(url: str, spaces: int) -> None:
    sql(url, "UPDATE garages SET total_spaces = greatest(%s, occupied) WHERE id = 1", (spaces,))


def pay_code_sql(n: str) -> str:
    """SQL for a 7-character ticket code of the integer expression n (a psycopg2 statement with
    parameters: `%%` is its modulo), distinct for 0 <= n < 31**7 (7919 is prime to 31)."""
    return " || ".join(f"substr('{TICKET_ALPHABET}', ((({n}) * 7919 + 104729) / {31 ** k} %% 31)::int + 1, 1)"
                       for k in range(6, -1, -1))


def add_tickets_to_pay(url: str, count: int) -> None:
    """`count` cars inside, entered 10 minutes to 6 hours ago, with 7-character
    ticket numbers (the app and the seed use 6: never a collision)."""
    code = pay_code_sql("g")
    sql(url, f"""
        INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time, status,
                             last_event_at, created_at, updated_at)
        SELECT 1, 'PS-' || {code}, 'PAY ' || g, 'PAY' || g, 'Car', t, 'active', t, t, t
        FROM generate_series(1, %s) AS g,
             LATERAL (SELECT now() - make_interval(secs => 600 + g %% 7 + random() * 21000)) AS e(t);
        UPDATE garages SET total_spaces = greatest(total_spaces, occupied + %s), occupied = occupied + %s
        WHERE id = 1;
        ANALYZE tickets;
    """, (count, count, count))


def ticket_sample(url: str, count: int, path: Path, where: str = "TRUE") -> Path:
    rows = sql(url, f"SELECT ticket_number FROM tickets WHERE {where} ORDER BY random() LIMIT %s", (count,))
    path.write_text("\n".join(r[0] for r in rows) + "\n")
    return path


# --- servers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    pid: int  # gunicorn's master (its workers are its children)


@contextmanager
def gunicorn(args: list[str], url: str, port: int, probe: str, log_path: Path,
             extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """A gunicorn server on `url`'s database, once `probe` answers; stopped on exit."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
           "GUNICORN_BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           **(extra_env or {})}
    out = open(log_path, "ab")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), *args], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(base + probe, method="GET"), timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {' '.join(args)} did not start; see {log_path}")
            time.sleep(0.2)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def gunicorn_threads() -> int:
    return int(os.environ.get("GUNICORN_THREADS") or 1)


def workers_line() -> str:
    """The worker configuration the run measured (gunicorn.conf.py reads the same variables)."""
    workers = os.environ.get("WEB_CONCURRENCY") or f"{(os.cpu_count() or 1) * 2 + 1}"
    threads = gunicorn_threads()
    kind = f"gthread, {threads} threads each" if threads > 1 else "sync"
    return f"gunicorn {workers} workers ({kind})"


def lift_api_limit(site: Path) -> None:
    """--via-nginx: every wrk connection comes from 127.0.0.1, so the API's per-address limit (50/s,
    deploy/nginx/upstream.conf) would answer 429s; the bench lifts it, everything else is production's."""
    conf = site / "upstream.conf"
    text, found = re.subn(r"zone=garage_api:10m\s+rate=\d+r/s", "zone=garage_api:10m rate=1000000r/s", conf.read_text())
    if not found:
        raise RuntimeError("deploy/nginx/upstream.conf: the garage_api limit_req_zone was not found")
    conf.write_text(text)


def sign_in(base: str, username: str = USERNAME) -> str:
    """POST /login with the CSRF token from the login page; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=10).read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not match:
        raise RuntimeError("no csrf_token on the login page")
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": match.group(1)})
    opener.open(base + "/login", data=form.encode(), timeout=10)
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookies:
        raise RuntimeError("sign-in did not return a session cookie")
    return cookies


def csv_rows(base: str, headers: dict[str, str], path: str) -> int:
    """The data rows of one download of `path` (lines after the header)."""
    req = urllib.request.Request(base + path, method="GET", headers=headers)
    with urllib.request.urlopen(req, timeout=120) as r:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: r.read(1 << 20), b"")) - 1)


def worker_rss_kb(master: int) -> dict[int, int]:
    """Resident memory (kB) of each child of the gunicorn master (Linux /proc)."""
    out = {}
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return out
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if match:
            out[int(pid)] = int(match.group(1))
    return out


class Sampler:
    """The app workers' resident memory every 0.1 s while a scenario runs: how far the worker that
    grew most grew above its own size at the start (a streamed download: near 0, whatever its size)."""

    def __init__(self, master: int) -> None:
        self.master, self.before, self.peak = master, {}, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def __enter__(self) -> "Sampler":
        self.before = worker_rss_kb(self.master)
        self.thread.start()
        return self

    def sample(self) -> None:
        while not self.stop.wait(0.1):
            for pid, kb in worker_rss_kb(self.master).items():
                self.peak[pid] = max(self.peak.get(pid, 0), kb)

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def growth_mb(self) -> float:
        return max((kb - self.before[pid] for pid, kb in self.peak.items() if pid in self.before), default=0) / 1024


def probe(base: str, headers: dict[str, str], path: str) -> int:
    req = urllib.request.Request(base + path, method="GET", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:  # noqa: BLE001  (a dead server is reported as such)
        return 0


# --- load -------------------------------------------------------------------------------------

RESULT_RE = re.compile(r"BENCHRESULT (.*)")


def wrk(opts, base: str, script: str, args: list[str], raw: Path, label: str,
        duration: int | None = None, connections: int | None = None) -> dict:
    """wrk with --threads and --connections (`connections`: that many, one thread per connection up to
    --threads)."""
    conns = connections or opts.connections
    threads = min(opts.threads, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration or opts.duration}s",
           "--timeout", "10s", "-s", f"bench/lua/{script}", base, "--", f"threads={threads}", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    with raw.open("a") as f:
        f.write(f"\n### {label}\n$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    match = RESULT_RE.search(proc.stdout)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed for {label}: {proc.stderr[-500:]}")
    fields = dict(item.split("=", 1) for item in match.group(1).split())
    statuses = {int(k): int(v) for k, v in (p.split(":") for p in fields["statuses"].split(",") if p)}
    socket_errors = sum(int(fields[k]) for k in ("connect", "read", "write", "timeout"))
    return {"requests": int(fields["requests"]), "seconds": int(fields["duration_us"]) / 1e6,
            "p50": int(fields["p50_us"]) / 1000, "p95": int(fields["p95_us"]) / 1000,
            "p99": int(fields["p99_us"]) / 1000,
            "statuses": statuses, "socket_errors": socket_errors}


def pgbench(opts, url: str, raw: Path, label: str, duration: int) -> dict:
    logdir = RESULTS / "pgbench_logs"
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)
    parts = urllib.parse.urlsplit(url)
    cmd = ["pgbench", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
           "-U", parts.username or "postgres", "-n", "-c", str(opts.connections), "-j", str(opts.threads),
           "-T", str(duration), "-f", str(ROOT / "bench" / "pgbench_insert.sql"),
           "-l", f"--log-prefix={logdir}/tx", parts.path.lstrip("/")]
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    with raw.open("a") as f:
        f.write(f"\n### {label}\n$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    processed = re.search(r"number of transactions actually processed: (\d+)", proc.stdout)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", proc.stdout)
    if proc.returncode != 0 or not tps or not processed:
        raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-200:]}")
    latencies = []
    for path in logdir.iterdir():
        for line in path.read_text().splitlines():
            latencies.append(int(line.split()[2]))
    latencies.sort()
    pct = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000) if latencies else None
    failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
    requests = int(processed.group(1))
    return {"requests": requests, "seconds": requests / float(tps.group(1)),
            "p50": pct(0.5) if pct else None, "p95": pct(0.95) if pct else None,
            "p99": pct(0.99) if pct else None,
            "statuses": {}, "socket_errors": int(failed.group(1)) if failed else 0}


def to_result(name: str, runs: list[dict], deliberate: set[int] = frozenset()) -> Result:
    """One row from a scenario's runs (one per round): requests over time for the
    rate, the median of the runs' p50s (and p95s) and the worst of their p99s."""
    statuses: dict[int, int] = {}
    for run in runs:
        for status, n in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    conflicts = sum(n for s, n in statuses.items() if s in deliberate)
    errors = sum(n for s, n in statuses.items() if not 200 <= s < 300 and s not in deliberate)
    p50s = sorted(r["p50"] for r in runs if r["p50"] is not None)
    p95s = sorted(r["p95"] for r in runs if r.get("p95") is not None)
    p99s = [r["p99"] for r in runs if r["p99"] is not None]
    seconds = sum(r["seconds"] for r in runs)
    rows = [r["rows"] for r in runs if "rows" in r]
    growth = [r["rss_growth_mb"] for r in runs if r.get("rss_growth_mb") is not None]
    return Result("", name, rps=sum(r["requests"] for r in runs) / seconds,
                  p50_ms=p50s[len(p50s) // 2] if p50s else None, p95_ms=p95s[len(p95s) // 2] if p95s else None,
                  p99_ms=max(p99s) if p99s else None,
                  errors=errors + sum(r["socket_errors"] for r in runs), conflicts=conflicts,
                  rows_per_s=sum(rows) / seconds if rows else None, rss_growth_mb=max(growth) if growth else None)


@dataclass
class Target:
    """One database under test: its servers, credentials and what was measured."""

    label: str
    url: str
    base: str
    bare_base: str | None
    auth: dict[str, dict[str, str]]
    pid: int  # the app's gunicorn master
    runs: dict[str, list[dict]] = field(default_factory=dict)
    skipped: dict[str, Result] = field(default_factory=dict)


class Bench:
    def __init__(self, opts, stamp: str) -> None:
        self.opts = opts
        self.raw = RESULTS / f"{stamp}-raw.txt"
        self.server_log = RESULTS / f"{stamp}-servers.log"
        self.tag = "".join(secrets.choice(string.ascii_uppercase) for _ in range(2))
        self.tags_used: set[str] = set()
        today = datetime.now(timezone.utc).date()
        self.dates = {"today": today, "d30": today - timedelta(days=29), "d365": today - timedelta(days=364)}

    def run(self, databases: list[tuple[str, str, str]]) -> list[Result]:
        """`databases`: (label, url, token) each. Every database gets its app and
        bare-Flask servers, all up side by side (an idle server costs nothing), and
        the work is done in rounds: each round runs, on each database in turn,
        every scenario, the bare-Flask reference and pgbench for a slice of
        --duration. A slow spell of this shared machine then weighs on the
        scenarios, the references and both databases alike, so the ratios hold
        (the 1M-vs-empty comparison included)."""
        opts = self.opts
        with ExitStack() as servers:
            targets = [self.start(servers, i, *database) for i, database in enumerate(databases)]
            for round_no in range(1, opts.rounds + 1):
                for target in targets:
                    self.run_round(target)
                    log(f"[{target.label}] round {round_no}/{opts.rounds} done")
        return [result for target in targets for result in self.results(target)]

    def start(self, servers: ExitStack, index: int, label: str, url: str, token: str) -> Target:
        """The database's servers (app on --port + 2 * index, bare Flask on the next
        port), a signed-in session, and a warm-up: every worker opens its
        connection and imports lazily loaded code."""
        opts = self.opts
        port = opts.port + 2 * index
        proxied = {"TRUSTED_PROXY_HOPS": "1"} if opts.via_nginx else {}
        app = servers.enter_context(gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], url, port,
                                             "/api/status", self.server_log, proxied))
        base = self.front(servers, app)
        bare_base = self.front(servers, servers.enter_context(gunicorn(
            ["-c", "bench/gunicorn_bare.conf.py", "bench.bare_app:app"], url, port + 1, "/insert",
            self.server_log, proxied))) if self.wanted("bare Flask insert") else None
        auth = {"token": {"Authorization": f"Bearer {token}"}, "session": {"Cookie": sign_in(base)},
                "admin": {"Cookie": sign_in(base, ADMIN)}, "none": {}}
        wrk(opts, base, "get.lua", ["path=/api/garage/stats", f"header=Authorization: Bearer {token}"],
            self.raw, f"{label} warm-up", duration=2)
        if bare_base:
            wrk(opts, bare_base, "bare.lua", [], self.raw, f"{label} bare warm-up", duration=2)
        return Target(label, url, base, bare_base, auth, app.pid)

    def front(self, servers: ExitStack, server: Server) -> str:
        """Where wrk sends its requests: the server itself, or with --via-nginx production's nginx
        config in front of it (deploy/nginx; upstream keep-alive when gunicorn runs threads)."""
        if not self.opts.via_nginx:
            return server.base
        from tests.helpers.nginx import nginx_server

        address = server.base.removeprefix("http://")
        return servers.enter_context(nginx_server(
            [address], keepalive=32 if gunicorn_threads() > 1 else 0, edit=lift_api_limit)).url

    def wanted(self, name: str) -> bool:
        return not self.opts.only or name in self.opts.only

    def run_round(self, t: Target) -> None:
        opts, label = self.opts, t.label
        slice_s = max(2, round(opts.duration / opts.rounds))
        for sc in SCENARIOS:
            if not self.wanted(sc.name) or sc.name in t.skipped:
                continue
            measured = self.run_scenario(t, sc, {**t.auth[sc.auth], **sc.headers}, slice_s)
            if isinstance(measured, Result):
                t.skipped[sc.name] = measured
            else:
                t.runs.setdefault(sc.name, []).append(measured)
        if t.bare_base:
            t.runs.setdefault("bare Flask insert", []).append(
                wrk(opts, t.bare_base, "bare.lua", [], self.raw, f"{label} bare", duration=slice_s))
        if self.wanted("pgbench insert") and "pgbench insert" not in t.skipped:
            try:
                t.runs.setdefault("pgbench insert", []).append(
                    pgbench(opts, t.url, self.raw, f"{label} pgbench", slice_s))
            except RuntimeError as exc:
                t.skipped["pgbench insert"] = Result("", "pgbench insert", note=str(exc))
                t.runs.pop("pgbench insert", None)
        reset(t.url)

    def results(self, t: Target) -> list[Result]:
        results = []
        for sc in SCENARIOS:
            if self.wanted(sc.name):
                results.append(t.skipped.get(sc.name) or to_result(
                    sc.name, t.runs[sc.name], {409} if sc.kind in ("entry", "exit") else set()))
        results += [t.skipped.get(name) or to_result(name, t.runs[name]) for name in REFERENCES
                    if name in t.runs or name in t.skipped]
        for result in results:
            result.database = t.label
            log(f"[{t.label}] {format_row(result)}")
        return results

    def run_scenario(self, t: Target, sc: Scenario, headers: dict[str, str], duration: int) -> dict | Result:
        """One slice of a scenario: wrk's measurement, or a Result saying why it was not run."""
        opts, label, url, base = self.opts, t.label, t.url, t.base
        args = [f"header={k}: {v}" for k, v in headers.items()]
        reset(url)
        list_file = RESULTS / f"{label.replace(' ', '_')}-tickets.txt"
        paths = tuple(p.format(**self.dates) for p in ((sc.path,) if isinstance(sc.path, str) else sc.path))
        if sc.kind in ("lookup", "exit"):
            # enough cars to pay for the whole slice at a generous rate
            add_tickets_to_pay(url, duration * opts.max_rate)
            # the default garage's tickets (the token's garage: another garage's ticket is a 404)
            where = "garage_id = 1" + (" AND status = 'active'" if sc.kind == "exit" else "")
            ticket_sample(url, duration * opts.max_rate if sc.kind == "exit" else 20000, list_file, where)
            args.append(f"file={list_file}")
            paths = ("/api/tickets/" + list_file.read_text().split()[0],)
        for path in paths:
            status = probe(base, headers, path)
            if status != 404:
                break
        if status == 404:
            return Result("", sc.name, note=f"not available yet ({sc.method} {' '.join(paths)} answers 404)")
        if not (200 <= status < 300 or (status == 405 and sc.method != "GET")):
            return Result("", sc.name, note=f"skipped: {path} answered {status} to the probe")
        if sc.kind == "entry":
            set_spaces(url, 100_000)
            args.append(f"tag={self.tag}")
            self.tag = self.next_tag()
        elif sc.kind != "exit":
            args.append(f"path={path}")
        if sc.kind == "csv":
            rows = csv_rows(base, headers, path)
            with Sampler(t.pid) as memory:
                measured = wrk(opts, base, sc.script, args, self.raw, f"{label} {sc.name}", duration=duration,
                               connections=sc.connections)
            return {**measured, "rows": rows * measured["requests"], "rss_growth_mb": memory.growth_mb()}
        return wrk(opts, base, sc.script, args, self.raw, f"{label} {sc.name}", duration=duration,
                   connections=sc.connections)

    def next_tag(self) -> str:
        """Plates of each entry slice start with a tag no earlier slice used."""
        self.tags_used.add(self.tag)
        while True:
            tag = "".join(secrets.choice(string.ascii_uppercase) for _ in range(2))
            if tag not in self.tags_used:
                return tag


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_row(r: Result) -> str:
    if r.rps is None:
        return f"{r.name}: {r.note}"
    extra = "" if r.rows_per_s is None else \
        f", {r.rows_per_s:,.0f} rows/s, a worker's memory grew {r.rss_growth_mb:.1f} MB at most"
    return (f"{r.name}: {r.rps:,.0f} req/s, p50 {fmt(r.p50_ms, '.1f')} ms, p99 {fmt(r.p99_ms, '.1f')} ms, "
            f"{r.errors} errors, {r.conflicts} 409s{extra}")


def table(results: list[Result]) -> str:
    """One row per database and scenario: req/s, p50, p99, errors, then the ratios to the references
    of the same database, to the live stats endpoint (the reports' target), and to the same scenario on
    the empty database (the history's cost)."""
    refs = {(r.database, r.name): r.rps for r in results if r.name in REFERENCES or r.name == "stats"}
    empty = {r.name: r for r in results if r.database == "empty" and r.rps}
    head = ("| database | scenario | req/s | p50 ms | p99 ms | errors | 409s | vs bare Flask | vs pgbench "
            "| vs stats | vs empty |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    lines = [head]
    for r in results:
        if r.rps is None:
            lines.append(f"| {r.database} | {r.name} | {r.note} | | | | | | | | |")
            continue
        bare, pg = refs.get((r.database, "bare Flask insert")), refs.get((r.database, "pgbench insert"))
        stats = refs.get((r.database, "stats"))
        base = empty.get(r.name) if r.database != "empty" else None
        lines.append(f"| {r.database} | {r.name} | {r.rps:,.1f} | {fmt(r.p50_ms, '.1f')} | {fmt(r.p99_ms, '.1f')} | "
                     f"{r.errors} | {r.conflicts} | {fmt(r.rps / bare * 100 if bare else None, '.0f')}% | "
                     f"{fmt(r.rps / pg * 100 if pg else None, '.1f')}% | "
                     f"{fmt(r.rps / stats * 100 if stats and r.name != 'stats' else None, '.0f')}% | "
                     f"{fmt(r.rps / base.rps * 100 if base else None, '.0f')}% |")
    csv = [r for r in results if r.rows_per_s is not None]
    if csv:
        lines += ["", "| database | download | rows/s | a worker's memory grew at most |", "| --- | --- | ---: | ---: |"]
        lines += [f"| {r.database} | {r.name} | {r.rows_per_s:,.0f} | {r.rss_growth_mb:.1f} MB |" for r in csv]
    return "\n".join(lines).replace("-%", "-")


def targets(results: list[Result]) -> str:
    """Issue 21's targets, each against the largest history measured: met or not, with the figures."""
    by = {(r.database, r.name): r for r in results if r.rps is not None}
    labels = [r.database for r in results if r.database != "empty"]
    if not labels:
        return ""
    big = labels[-1]
    lines = [f"Targets (issue 21) on {big}:"]

    def check(ok: bool | None, text: str) -> None:
        lines.append(f"- {'n/a ' if ok is None else 'MET ' if ok else 'MISSED'} {text}")

    def get(name: str, database: str = big) -> Result | None:
        return by.get((database, name))

    stats = get("stats")
    for days in ("30 d", "365 d"):
        alone, loaded = get(f"report {days}, alone"), get(f"report {days}")
        if alone:
            check(alone.p99_ms is not None and alone.p99_ms < 100, f"report {days} alone: p99 {fmt(alone.p99_ms, '.1f')} ms (< 100)")
        if loaded and stats:
            ratio = loaded.rps / stats.rps * 100
            check(ratio >= 50, f"report {days}, {loaded.rps:,.0f} req/s under load: {ratio:.0f} % of stats' "
                               f"{stats.rps:,.0f} (>= 50 %)")
    download = get("tickets CSV, month")
    if download and download.rows_per_s is not None:
        check(download.rows_per_s >= 50_000, f"tickets CSV of a month: {download.rows_per_s:,.0f} rows/s (>= 50,000), "
                                             f"a worker's memory grew {download.rss_growth_mb:.1f} MB at most")
    bare = get("bare Flask insert")
    for name in LIVE:
        r, e, alone = get(name), get(name, "empty"), get(f"{name}, alone")
        if r and e:
            # the page's own p99 is its p99 alone; under 16 clients p99 is the queue's (context: the bare
            # insert's own p99 under the same load)
            ratio, p99 = r.rps / e.rps * 100, (alone or r).p99_ms
            context = (f"; under 16 clients {fmt(r.p99_ms, '.1f')} ms, the bare insert's "
                       f"{fmt(bare.p99_ms if bare else None, '.1f')} ms" if alone else "")
            check(ratio >= 80 and p99 is not None and p99 < 50,
                  f"{name}: {ratio:.0f} % of the empty database's req/s (>= 80), p99 "
                  f"{'alone ' if alone else ''}{fmt(p99, '.1f')} ms (< 50{context})")
    for name, floor in (("entry", 85), ("exit", 75)):
        r = get(name)
        if r and bare:
            ratio = r.rps / bare.rps * 100
            check(ratio >= floor and r.errors == 0,
                  f"{name}: {ratio:.0f} % of the bare-Flask insert (>= {floor}), {r.errors} errors")
    return "\n".join(lines)


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL connection used to create/drop the bench databases")
    parser.add_argument("--history-tickets", "--tickets", dest="tickets", type=int, default=1_000_000,
                        help="history size of the big database (e.g. 10000000)")
    parser.add_argument("--history-garages", type=int, default=1,
                        help="garages the history is spread over (the default garage, the busiest, holds "
                             "(1/N)^(2/3) of it: 7.4%% at 50); the empty database gets as many, empty")
    parser.add_argument("--prepare-only", action="store_true",
                        help="create (or reuse) the databases and stop (with --keep: seed now, bench later)")
    parser.add_argument("--duration", type=int, default=12, help="seconds per scenario, over all rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every scenario and reference, each --duration/--rounds seconds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (and pgbench jobs)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT") or 5401),
                        help="the first database's app port; its bare app uses the next one, "
                             "the second database the two after")
    parser.add_argument("--max-rate", type=int, default=4000,
                        help="tickets to pre-create per second of the exit scenario")
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument("--databases", default="empty,history", help="comma-separated: empty, history")
    parser.add_argument("--db-prefix", default="garage_bench",
                        help="names of the bench databases: PREFIX_empty and PREFIX_history")
    parser.add_argument("--reuse", action="store_true", help="reuse bench databases left by --keep")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--scenario", choices=("all", "garages"), default="all",
                        help="all: every scenario on the empty and 1M databases; garages: entries and exits "
                             "spread over --garages garages (bench/many_garages.py)")
    parser.add_argument("--garages", type=int, default=100, help="garages of --scenario garages")
    parser.add_argument("--via-nginx", action="store_true",
                        help="wrk -> nginx (deploy/nginx, as rendered for production) -> gunicorn, for the app "
                             "and the bare reference alike (needs make install-dev nginx)")
    parser.add_argument("--dry-run", action="store_true",
                        help="--scenario garages: print the plan and the wrk command lines, run nothing")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = arguments()
    opts = parser.parse_args(argv)
    unknown = [name for name in opts.only or () if name not in {s.name for s in SCENARIOS} | set(REFERENCES)]
    if unknown:  # a misspelt name ran nothing and printed an empty table
        parser.error(f"--only: no scenario named {', '.join(map(repr, unknown))}; the names: "
                     + ", ".join(repr(name) for name in [*(s.name for s in SCENARIOS), *REFERENCES]))
    if opts.rounds < 1 or opts.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    if opts.garages < 1:
        parser.error("--garages must be at least 1")
    if opts.scenario == "garages" and opts.dry_run:
        from bench import many_garages
        return many_garages.run(opts)
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (apt-get install wrk postgresql-client)")
    if opts.scenario == "garages":
        from bench import many_garages
        return many_garages.run(opts)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    bench = Bench(opts, stamp)
    started = time.monotonic()
    # One database per history size (and garage count), so --keep can hold the 1M and the 10M ones at once.
    size = "" if (opts.tickets, opts.history_garages) == (1_000_000, 1) else \
        f"_{opts.tickets // 1_000_000 or opts.tickets}{'m' if opts.tickets >= 1_000_000 else ''}_{opts.history_garages}g"
    empty = "" if opts.history_garages == 1 else f"_{opts.history_garages}g"
    plan = {"empty": (f"{opts.db_prefix}_empty{empty}", 0, "empty"),
            "history": (f"{opts.db_prefix}_history{size}", opts.tickets, f"{opts.tickets / 1e6:g}M tickets")}
    made = []
    try:
        databases = []
        for key in opts.databases.split(","):
            name, tickets, label = plan[key.strip()]
            url = prepare_database(opts.admin_url, name, tickets, opts.reuse, opts.history_garages)
            made.append(name)
            if not opts.prepare_only:
                databases.append((label, url, create_account(url)))
        if opts.prepare_only:
            return
        results = bench.run(databases)
    finally:
        if not opts.keep:
            for name in made:
                sql(opts.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)
    cores = os.cpu_count()
    header = (f"Garage bench {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cores} cores, {workers_line()}"
              f"{' behind nginx' if opts.via_nginx else ''}, "
              f"{opts.rounds} rounds of wrk -t{opts.threads} -c{opts.connections} "
              f"-d{max(2, round(opts.duration / opts.rounds))}s, "
              f"pgbench -c{opts.connections} -j{opts.threads}, total {time.monotonic() - started:.0f} s")
    text = header + "\n\n" + table(results) + "\n\n" + targets(results) + "\n"
    (RESULTS / f"{stamp}-table.md").write_text(text)
    (RESULTS / f"{stamp}-results.json").write_text(json.dumps([r.__dict__ for r in results], indent=1))
    log("\n" + text)
    log(f"raw output: {bench.raw.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
