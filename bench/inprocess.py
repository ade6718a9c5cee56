"""Python's share of a request, without HTTP, gunicorn or load.

    .venv/bin/python bench/inprocess.py [--requests 2000] [--rounds 3] [--profile entry]

Calls the WSGI apps directly (no test client, no server) on a throw-away
PostgreSQL database: the app's ticket entry (POST /api/tickets with a token),
its exit payment (PUT /api/tickets/<n>/exit) and bench/bare_app.py's insert.
Prints, per scenario, the CPU time of this process per request (Flask,
SQLAlchemy, psycopg2, the app: what a gunicorn worker spends; PostgreSQL's
own CPU is in its backend) and the wall time per request (CPU plus the round
trips' wait). Rounds alternate the scenarios, because this machine's speed
drifts; the median and the best round are shown. `--profile NAME` prints
cProfile's top functions for one scenario instead.

CPU time is as noisy as the machine. For a figure that is not, count
instructions: run one scenario under valgrind twice, with 1 and with 201
requests, and divide the difference of the two totals by 200:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python bench/inprocess.py --only entry --rounds 1 --requests 201

This is for finding where the time goes; throughput figures come from
bench/run.py (gunicorn + wrk).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import add_tickets_to_pay, create_account, prepare_database, set_spaces, sql  # noqa: E402

SCENARIOS = ("entry", "exit", "bare Flask insert")


class Caller:
    """Calls a WSGI app the way gunicorn does: one environ, one start_response."""

    def __init__(self, app, headers: dict[str, str] | None = None) -> None:
        self.app, self.headers = app, headers or {}

    def __call__(self, method: str, path: str, body: dict) -> tuple[str, bytes]:
        raw = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5001", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:5001", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "wsgi.version": (1, 0), **self.headers,
        }
        status: list[str] = []
        result = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        data = b"".join(result)
        getattr(result, "close", lambda: None)()
        return status[0], data


def expect(status: str, data: bytes, code: str) -> bytes:
    if not status.startswith(code):
        raise RuntimeError(f"expected {code}, got {status}: {data[:200]!r}")
    return data


def build(url: str, total: int, only: list[str]) -> dict[str, Callable[[int], None]]:
    """One callable per scenario: request i (< total) of the run, each i used once."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-inprocess")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from bench.bare_app import create_app as create_bare
    from garage import create_app

    token = create_account(url)
    app = Caller(create_app(), {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    bare = Caller(create_bare())
    # The exits pay cars inserted beforehand with SQL (not through the app: under
    # callgrind, entries made here would be counted as part of the exits).
    numbers: list[str] = []
    if "exit" in only:
        add_tickets_to_pay(url, total)
        numbers = [row[0] for row in sql(url, "SELECT ticket_number FROM tickets WHERE status = 'active' "
                                              "AND license_plate LIKE 'PAY %%' ORDER BY id")]

    def entry(i: int) -> None:
        expect(*app("POST", "/api/tickets", {"licensePlate": f"IN {i}", "vehicleType": "Car"}), "201")

    def exit_(i: int) -> None:
        expect(*app("PUT", f"/api/tickets/{numbers[i]}/exit", {"paymentMethod": "Cash"}), "200")

    def insert(i: int) -> None:
        expect(*bare("POST", "/insert", {"payload": "x"}), "201")

    return {name: run for name, run in (("entry", entry), ("exit", exit_), ("bare Flask insert", insert))
            if name in only}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL")
                        or "postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="garage_bench_inprocess", help="created and dropped")
    parser.add_argument("--requests", type=int, default=2000, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per scenario first")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--profile", choices=SCENARIOS, help="print cProfile's top for this scenario")
    opts = parser.parse_args(argv)
    if opts.profile and opts.profile not in opts.only:
        opts.only.append(opts.profile)
    if opts.requests < 1 or opts.rounds < 1:
        parser.error("--requests and --rounds must be at least 1")
    url = prepare_database(opts.admin_url, opts.database, 0, reuse=False)
    try:
        set_spaces(url, 10_000_000)
        scenarios = build(url, opts.requests * opts.rounds + opts.warmup, opts.only)
        n = opts.requests
        for name, run in scenarios.items():  # warm-up: imports, pools, prepared statements
            for i in range(n * opts.rounds, n * opts.rounds + opts.warmup):
                run(i)
        if opts.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(n):
                scenarios[opts.profile](i)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        cpu: dict[str, list[float]] = {name: [] for name in scenarios}
        wall: dict[str, list[float]] = {name: [] for name in scenarios}
        for r in range(opts.rounds):
            for name, run in scenarios.items():
                c0, w0 = time.process_time(), time.perf_counter()
                for i in range(r * n, (r + 1) * n):
                    run(i)
                cpu[name].append((time.process_time() - c0) / n * 1e3)
                wall[name].append((time.perf_counter() - w0) / n * 1e3)
        print(f"In-process, {opts.rounds} rounds of {n} requests per scenario, PostgreSQL, {os.cpu_count()} cores")
        print("| scenario | CPU ms/request (median, best) | wall ms/request (median) |")
        print("| --- | ---: | ---: |")
        for name in scenarios:
            print(f"| {name} | {statistics.median(cpu[name]):.3f}, {min(cpu[name]):.3f} | "
                  f"{statistics.median(wall[name]):.3f} |")
    finally:
        sql(opts.admin_url, f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', autocommit=True)


if __name__ == "__main__":
    main()
