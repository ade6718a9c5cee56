"""The soak run (issue 21): mixed, realistic traffic for a long time against the production set-up
(gunicorn with gunicorn.conf.py, PostgreSQL), to see what a short bench cannot: a p99 or a worker's
memory that creeps up.

    make soak                                         # 30 minutes, windows of 5 minutes
    make soak SOAK_ARGS="--minutes 10 --window 2"     # shorter
    .venv/bin/python -m bench.soak --help

It starts its own PostgreSQL server configured as production runs one (a private cluster: durable
commits, autovacuum on; `--shared-server` uses --admin-url's instead), creates `garage_soak` there
(`--garages` garages, 50 by default, with `--history` tickets of history from bench/seed_history.py),
starts gunicorn with gunicorn.conf.py on it and runs `--clients` client threads, each a keep-alive
connection doing what a booth, a lobby TV and a manager do, each request at one of the garages at
random, in these shares: entries 20 %, lookups 16 %, quotes 8 %, exits 20 %, the desk's live poll 15 %,
the lobby's poll 15 %, the stats API 5 %, a report 0.5 % (about one a second across the garages: a
manager's occasional look, and few enough that the overall p99 is the live traffic's, see MIX). Exits pay cars the entries brought in (never
one twice), so occupancy stays level. Each client waits `--think-ms` between requests (an offered
load, not a stress test: the figures compare the run's minutes with each other). The garages share
the traffic as an operator's do: 30 minutes bring about 100,000 entries, about 2,000 per garage (a
busy garage's day); one garage taking them all would hold more than a busy garage sees in a month,
and its "today" figures (counted from today's rows) would grow with them.

Printed per window: requests/s, p50 and p99 (ms) over every request and for the writes, errors (any
status >= 400 or no answer; a 409 "full" or "already paid" cannot happen by construction and counts
as an error too, except a quote of a car another client paid meanwhile: that 409 is the right answer), and each gunicorn worker's resident memory (MB) at the window's end. At the end,
each kind's p99 per window and the trends: a least-squares line through the windows' p99 (overall and
of each kind) and through each worker's memory; "flat" when the line's rise over the run is under
--p99-rise (default 25 %) of the first window's value and --memory-rise (default 10 %) of each
worker's first reading. The exit status is 1 when a trend is
upward or a request failed, so a scheduler can alert on it."""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import statistics
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench import run as bench
from garage.config import normalise_database_url
from tests.helpers.cluster import private_postgres

# As many exits as entries: the cars inside stay level (24 % against 16 % added ~36,000 cars in 30 minutes).
# Reports are the slowest kind by far (a report ~10x a poll under load). At 1 % of the requests, as until
# stop 36, the overall p99 fell exactly on the edge between the reports and everything else, so it jumped
# between the two populations with the window's share of reports and judged that share, not a trend
# (four soaks in bench/README: UPWARD twice with every kind's own p99 flat). At 0.5 % the overall p99 is
# the live traffic's tail (its 99.5th percentile), and the reports' own p99 is judged on its own line.
MIX = (("entry", 20), ("lookup", 16), ("quote", 8), ("exit", 20), ("desk live", 15), ("lobby", 15),
       ("stats", 5), ("report", 0.5))
WRITES = {"entry", "exit"}
POLL = {"HX-Request": "true", "X-Garage-Poll": "1"}


@dataclass
class Sample:
    at: float  # seconds since the start
    kind: str
    ms: float
    ok: bool


@dataclass
class Place:
    """One garage of the soak: its slug, an API token scoped to it, the cars the soak brought in."""
    slug: str
    token: str
    inside: deque = field(default_factory=deque)  # ticket numbers


@dataclass
class Shared:
    places: list[Place]
    cookie: str  # an admin's session: every garage's desk, lobby and reports
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[Sample] = field(default_factory=list)
    plates: int = 0

    def plate(self) -> str:
        with self.lock:
            self.plates += 1
            return f"SK{self.plates}"


def client(base: str, shared: Shared, stop: threading.Event, started: float, think: float, seed: int) -> None:
    rng = random.Random(seed)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    session = {"Cookie": shared.cookie}
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        place = rng.choice(shared.places)  # each request at a garage of the deployment, as its booths do
        api = {"Authorization": f"Bearer {place.token}", "Content-Type": "application/json"}
        g = f"/g/{place.slug}"
        number = None
        if kind in ("lookup", "quote", "exit"):
            with shared.lock:
                if not place.inside:
                    kind = "entry"
                elif kind == "exit":
                    number = place.inside.popleft()
                else:
                    number = place.inside[rng.randrange(len(place.inside))]
        method, path, headers, body = {
            "entry": lambda: ("POST", "/api/tickets", api,
                              json.dumps({"licensePlate": shared.plate(), "vehicleType": "Car"})),
            "lookup": lambda: ("GET", f"/api/tickets/{number}", api, None),
            "quote": lambda: ("GET", f"/api/tickets/{number}/quote", api, None),
            "exit": lambda: ("PUT", f"/api/tickets/{number}/exit", api, json.dumps({"paymentMethod": "Cash"})),
            "desk live": lambda: ("GET", f"{g}/desk/live", {**session, **POLL}, None),
            "lobby": lambda: ("GET", f"{g}/lobby/panel", POLL, None),
            "stats": lambda: ("GET", "/api/garage/stats", api, None),
            "report": lambda: ("GET", f"{g}/reports", session, None),
        }[kind]()
        t0 = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            ok = response.status < 400
            if kind == "quote" and response.status == 409:
                # another client took this car out for its exit between the pick and the quote: "already
                # processed" is right (a car leaves `inside` only for an exit)
                with shared.lock:
                    ok = number not in place.inside
            if ok and kind == "entry":
                with shared.lock:
                    place.inside.append(json.loads(payload)["ticketNumber"])
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
        t1 = time.monotonic()
        with shared.lock:
            shared.samples.append(Sample(t1 - started, kind, (t1 - t0) * 1000, ok))
        if think:
            stop.wait(think)
    conn.close()


def workers_of(master: int) -> list[int]:
    """gunicorn's workers: the master's children."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return sorted(int(pid) for pid in children)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def slope(ys: list[float]) -> float:
    """Least-squares slope per step of ys over 0, 1, 2, ..."""
    n = len(ys)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys)) / sum((x - mean_x) ** 2 for x in range(n))


def trend(series: list[float], allowed_percent: float) -> str:
    """"flat" when a least-squares line through the windows rises by at most `allowed_percent` of the
    first window's value over the run, "UPWARD" when more, "-" when a window had no such request."""
    if not series or any(math.isnan(value) for value in series):
        return "-"
    rise = slope(series) * (len(series) - 1)
    return "flat" if rise <= allowed_percent / 100 * series[0] else "UPWARD"


def arguments() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--window", type=float, default=5, help="minutes per printed window")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--think-ms", type=float, default=20)
    p.add_argument("--history", type=int, default=100_000, help="tickets of history to seed first")
    p.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 5481)))
    p.add_argument("--p99-rise", type=float, default=25.0, help="percent of the first window's p99")
    p.add_argument("--memory-rise", type=float, default=10.0, help="percent of a worker's first reading")
    p.add_argument("--garages", type=int, default=50,
                   help="garages of the deployment; each request goes to one of them at random")
    p.add_argument("--shared-server", action="store_true",
                   help="use --admin-url's server instead of a private one configured as production")
    p.add_argument("--keep", action="store_true", help="keep the database (with --shared-server)")
    return p


def places(url: str) -> list[Place]:
    """Every garage of the soak's database, each with an API token of the bench admin scoped to it."""
    from garage import create_app
    from garage.extensions import db
    from garage.services import accounts

    bench.sql(url, "UPDATE garages SET total_spaces = 1000000")  # never full: a 409 would count as an error
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "soak",
                      "LOG_LEVEL": "WARNING"})
    found = []
    with app.app_context():
        for garage_id, slug in db.session.execute(db.text("SELECT id, slug FROM garages ORDER BY id")):
            _, secret = accounts.create_token(bench.ADMIN, garage_ids=[garage_id])
            found.append(Place(slug, secret))
        db.session.remove()
        db.engine.dispose()
    return found


def main(argv: list[str] | None = None) -> int:
    opts = arguments().parse_args(argv)
    if opts.garages < 1:
        raise SystemExit("--garages must be at least 1")
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    name = "garage_soak"
    windows: list[dict] = []
    with ExitStack() as stack:
        admin_url = opts.admin_url
        if not opts.shared_server:  # PostgreSQL as production runs it: durable commits, autovacuum on
            cluster = stack.enter_context(private_postgres(production=True))
            admin_url = f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres"
        url = bench.prepare_database(admin_url, name, opts.history, reuse=False, garages=opts.garages)
        bench.create_account(url)
        if not opts.keep:
            stack.callback(bench.sql, admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)
        shared_places = places(url)
        with ExitStack() as servers:  # stopped before the database is dropped
            server = servers.enter_context(bench.gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], url, opts.port,
                                                        "/healthz", bench.RESULTS / "soak-gunicorn.log"))
            shared = Shared(shared_places, bench.sign_in(server.base, bench.ADMIN))
            first_workers = workers_of(server.pid)
            bench.log(f"soak: {opts.minutes:g} min, {opts.clients} clients, think {opts.think_ms:g} ms, "
                      f"{len(shared_places)} garages, {opts.history:,} tickets of history, "
                      f"{'the shared server' if opts.shared_server else 'a private production-configured PostgreSQL'}, "
                      f"{bench.workers_line()} at {server.base}: workers {first_workers}")
            stop, started = threading.Event(), time.monotonic()
            threads = [threading.Thread(target=client, args=(server.base, shared, stop, started,
                                                             opts.think_ms / 1000, i), daemon=True)
                       for i in range(opts.clients)]
            for t in threads:
                t.start()
            length, total = opts.window * 60, opts.minutes * 60
            header = f"{'window':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'w p99':>7} {'errors':>6}  worker MB"
            bench.log(header)
            index = 0
            while index * length < total - 1e-6:
                end = min((index + 1) * length, total)
                stop.wait(max(0.0, end - (time.monotonic() - started)))
                with shared.lock:
                    taken = [s for s in shared.samples if index * length <= s.at < end]
                workers = workers_of(server.pid)
                memory = {pid: rss_mb(pid) for pid in workers}
                all_ms = [s.ms for s in taken]
                writes = [s.ms for s in taken if s.kind in WRITES]
                row = {"window": index + 1, "from_min": index * length / 60, "to_min": end / 60,
                       "requests": len(taken), "rps": len(taken) / (end - index * length),
                       "p50": percentile(all_ms, 50), "p99": percentile(all_ms, 99),
                       "write_p99": percentile(writes, 99), "errors": sum(not s.ok for s in taken),
                       "memory": memory,
                       "kind_p99": {kind: percentile([s.ms for s in taken if s.kind == kind], 99) for kind, _ in MIX}}
                windows.append(row)
                mem = " ".join(f"{m:.0f}" for m in memory.values() if m is not None)
                bench.log(f"{row['from_min']:>4.1f}-{row['to_min']:<4.1f} {row['rps']:>7.1f} {row['p50']:>7.1f} "
                          f"{row['p99']:>7.1f} {row['write_p99']:>7.1f} {row['errors']:>6}  {mem}")
                index += 1
            stop.set()
            for t in threads:
                t.join(timeout=35)
            same_workers = workers_of(server.pid) == first_workers

    # Which requests a p99 trend comes from: each kind's p99 per window.
    # Judged for every kind too: one kind creeping up can hide in the overall p99 of all of them.
    bench.log(f"{'p99 ms by kind':<14} " + " ".join(f"{w['window']:>7}" for w in windows) + "   trend")
    p99_flat = True
    for kind, _ in MIX:
        series = [w["kind_p99"][kind] for w in windows]
        verdict = trend(series, opts.p99_rise)
        p99_flat &= verdict != "UPWARD"
        bench.log(f"{kind:<14} " + " ".join(f"{value:>7.1f}" for value in series) + f"   {verdict}")
    p99s = [w["p99"] for w in windows]
    rise = slope(p99s) * (len(p99s) - 1)
    overall = trend(p99s, opts.p99_rise)
    p99_flat &= overall != "UPWARD"
    bench.log(f"p99 trend: {rise:+.1f} ms over the run (first window {p99s[0]:.1f} ms): {overall}")
    memory_flat = True
    for pid in windows[0]["memory"]:
        series = [w["memory"].get(pid) for w in windows]
        if any(m is None for m in series):
            bench.log(f"worker {pid}: replaced during the run (gunicorn restarted it): memory trend not judged")
            continue
        grown = slope(series) * (len(series) - 1)
        flat = grown <= opts.memory_rise / 100 * series[0]
        memory_flat &= flat
        bench.log(f"worker {pid} memory trend: {grown:+.1f} MB over the run (first {series[0]:.0f} MB): "
                  f"{'flat' if flat else 'UPWARD'}")
    errors = sum(w["errors"] for w in windows)
    bench.log(f"requests {sum(w['requests'] for w in windows):,}, errors {errors}, "
              f"workers unchanged: {'yes' if same_workers else 'no'}")
    (bench.RESULTS / "soak.json").write_text(json.dumps(windows, indent=1, default=str))
    failed = not (p99_flat and memory_flat) or errors > 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
