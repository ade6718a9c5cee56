"""Diagnosis, not part of `make bench`: CPU per request by process kind under load.

    .venv/bin/python bench/diagnose/cpu_per_request.py entry|bare [--seconds 8] [--database-url URL]

Starts the app (entry: POST /api/tickets with a token) or the bare-Flask
reference (POST /insert) under gunicorn with the production config on a bench
database left by `make bench BENCH_ARGS=--keep` (default: garage_bench_empty),
drives it with wrk (-t2 -c16) and reads utime + stime from /proc before and
after for the gunicorn master and its workers (Python) and for the bench
database's client backends (PostgreSQL), divided by the requests served. The
last column is the rest of the machine's busy time (/proc/stat): wrk, the
kernel, PostgreSQL's WAL writer, and anything else running.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.run import RESULTS, create_account, gunicorn, reset, set_spaces, sql  # noqa: E402

PORT = 5701
HZ = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds) of one process, or (0, 0.0) if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0, 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / HZ


def gunicorn_pids(master: int) -> list[int]:
    return [master] + [int(p) for p in filter(str.isdigit, os.listdir("/proc")) if process_cpu(int(p))[0] == master]


def backend_pids(url: str) -> list[int]:
    """The bench database's client backends (the pooled connections of the server under test)."""
    return [row[0] for row in sql(url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")]


def busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all processes, kernel included)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / HZ  # minus idle and iowait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("server", choices=("entry", "bare"))
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/garage_bench_empty")
    opts = parser.parse_args()
    url = opts.database_url
    reset(url)
    set_spaces(url, 10_000_000)
    token = create_account(url)
    if opts.server == "entry":
        args, probe = ["-c", "gunicorn.conf.py", "wsgi:app"], "/api/status"
        warm_tag, tag = random.sample(["".join(p) for p in itertools.product("ABCDEFGHJKLMNPRSTUVWXYZ", repeat=2)], 2)
        load = ["-s", "bench/lua/entry.lua", f"http://127.0.0.1:{PORT}", "--",
                f"header=Authorization: Bearer {token}"]
        # Warm-up, then the measured run; entry plates carry a tag per run, so none repeats.
        warm, measured = [*load, f"tag={warm_tag}"], [*load, f"tag={tag}"]
    else:
        args, probe = ["-c", "bench/gunicorn_bare.conf.py", "bench.bare_app:app"], "/insert"
        warm = measured = ["-s", "bench/lua/bare.lua", f"http://127.0.0.1:{PORT}"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    with gunicorn(args, url, PORT, probe, RESULTS / "diagnose-servers.log") as server:
        subprocess.run(["wrk", "-t2", "-c16", "-d2s", *warm], cwd=ROOT, capture_output=True)
        # The warm-up opened every worker's pooled connection: these are the processes to watch.
        watched = {"gunicorn": gunicorn_pids(server.pid), "postgres": backend_pids(url)}
        before = {kind: sum(process_cpu(p)[1] for p in pids) for kind, pids in watched.items()}
        machine = busy_seconds()
        run = subprocess.run(["wrk", "-t2", "-c16", f"-d{opts.seconds}s", *measured], cwd=ROOT,
                             capture_output=True, text=True)
        machine = busy_seconds() - machine
        spent = {kind: sum(process_cpu(p)[1] for p in pids) - before[kind] for kind, pids in watched.items()}
    served = re.search(r"(\d+) requests in", run.stdout)
    if not served or "Non-2xx" in run.stdout:
        raise SystemExit(f"wrk did not get clean answers:\n{run.stdout}")
    n = int(served.group(1))
    python, postgres = spent["gunicorn"], spent["postgres"]
    print(f"{opts.server}: {n / opts.seconds:,.0f} req/s; CPU ms per request: gunicorn {python / n * 1e3:.3f}, "
          f"PostgreSQL backends {postgres / n * 1e3:.3f}, everything else busy "
          f"{(machine - python - postgres) / n * 1e3:.3f} (wrk, kernel, WAL writer, other jobs)")


if __name__ == "__main__":
    main()
