"""The soak run (issue 21): mixed, realistic traffic for a long time against the production set-up
(gunicorn with gunicorn.conf.py, PostgreSQL), to see what a short bench cannot: a p99 or a worker's
memory that creeps up.

    make soak                                         # 30 minutes, windows of 5 minutes
    make soak SOAK_ARGS="--minutes 10 --window 2"     # shorter
    .venv/bin/python -m bench.soak --help

It creates its own database (`garage_soak`, with `--history` tickets of history from
bench/seed_history.py; dropped at the end unless --keep), starts gunicorn on it and runs `--clients`
client threads, each a keep-alive connection doing what a booth, a lobby TV and a manager do, in
these shares: entries 24 %, lookups 16 %, quotes 8 %, exits 16 %, the desk's live poll 15 %, the
lobby's poll 15 %, the stats API 5 %, a report 1 %. Exits pay cars the entries brought in (never one
twice), so occupancy stays level. Each client waits `--think-ms` between requests (an offered load,
not a stress test: the figures compare the run's minutes with each other).

Printed per window: requests/s, p50 and p99 (ms) over every request and for the writes, errors (any
status >= 500 or no answer; a 409 "full" or "already paid" cannot happen by construction and counts
as an error too), and each gunicorn worker's resident memory (MB) at the window's end. At the end,
each kind's p99 per window (which requests a trend comes from), and the trend: a least-squares line
through the windows' p99 and through each worker's memory; "flat"
when the line's rise over the run is under --p99-rise (default 25 %) of the first window's p99 and
--memory-rise (default 10 %) of each worker's first reading. The exit status is 1 when a trend is
upward or a request failed, so a scheduler can alert on it."""
from __future__ import annotations

import argparse
import http.client
import json
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

MIX = (("entry", 24), ("lookup", 16), ("quote", 8), ("exit", 16), ("desk live", 15), ("lobby", 15),
       ("stats", 5), ("report", 1))
WRITES = {"entry", "exit"}
POLL = {"HX-Request": "true", "X-Garage-Poll": "1"}


@dataclass
class Sample:
    at: float  # seconds since the start
    kind: str
    ms: float
    ok: bool


@dataclass
class Shared:
    token: str
    cookie: str
    inside: deque = field(default_factory=deque)  # ticket numbers of cars the soak brought in
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
    api = {"Authorization": f"Bearer {shared.token}", "Content-Type": "application/json"}
    session = {"Cookie": shared.cookie}
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        number = None
        if kind in ("lookup", "quote", "exit"):
            with shared.lock:
                if not shared.inside:
                    kind = "entry"
                elif kind == "exit":
                    number = shared.inside.popleft()
                else:
                    number = shared.inside[rng.randrange(len(shared.inside))]
        method, path, headers, body = {
            "entry": lambda: ("POST", "/api/tickets", api,
                              json.dumps({"licensePlate": shared.plate(), "vehicleType": "Car"})),
            "lookup": lambda: ("GET", f"/api/tickets/{number}", api, None),
            "quote": lambda: ("GET", f"/api/tickets/{number}/quote", api, None),
            "exit": lambda: ("PUT", f"/api/tickets/{number}/exit", api, json.dumps({"paymentMethod": "Cash"})),
            "desk live": lambda: ("GET", "/g/main/desk/live", {**session, **POLL}, None),
            "lobby": lambda: ("GET", "/lobby/panel", POLL, None),
            "stats": lambda: ("GET", "/api/garage/stats", api, None),
            "report": lambda: ("GET", "/g/main/reports", session, None),
        }[kind]()
        t0 = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            ok = response.status < 400
            if ok and kind == "entry":
                with shared.lock:
                    shared.inside.append(json.loads(payload)["ticketNumber"])
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
    p.add_argument("--keep", action="store_true", help="keep the database")
    return p


def main(argv: list[str] | None = None) -> int:
    opts = arguments().parse_args(argv)
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    name = "garage_soak"
    url = bench.prepare_database(opts.admin_url, name, opts.history, reuse=False)
    bench.set_spaces(url, 1_000_000)
    token = bench.create_account(url)
    windows: list[dict] = []
    failed = False
    try:
        with ExitStack() as stack:
            server = stack.enter_context(bench.gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], url, opts.port,
                                                        "/healthz", bench.RESULTS / "soak-gunicorn.log"))
            shared = Shared(token, bench.sign_in(server.base))
            first_workers = workers_of(server.pid)
            bench.log(f"soak: {opts.minutes:g} min, {opts.clients} clients, think {opts.think_ms:g} ms, "
                      f"{opts.history:,} tickets of history, gunicorn {server.base} workers {first_workers}")
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
    finally:
        if not opts.keep:
            bench.sql(opts.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)

    # Which requests a p99 trend comes from: each kind's p99 per window.
    bench.log(f"{'p99 ms by kind':<14} " + " ".join(f"{w['window']:>7}" for w in windows))
    for kind, _ in MIX:
        bench.log(f"{kind:<14} " + " ".join(f"{w['kind_p99'][kind]:>7.1f}" for w in windows))
    p99s = [w["p99"] for w in windows]
    rise = slope(p99s) * (len(p99s) - 1)
    p99_flat = rise <= opts.p99_rise / 100 * p99s[0]
    bench.log(f"p99 trend: {rise:+.1f} ms over the run (first window {p99s[0]:.1f} ms): "
              f"{'flat' if p99_flat else 'UPWARD'}")
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
