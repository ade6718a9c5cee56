"""Diagnosis, not part of `make bench`: CPU per request by process kind under load.

    .venv/bin/python bench/diagnose/cpu_per_request.py entry|bare [--seconds 8] [--database-url URL]

Starts the app (entry: POST /api/tickets with a token) or the bare-Flask
reference (POST /insert) under gunicorn with the production config on a bench
database left by `make bench BENCH_ARGS=--keep` (default: garage_bench_empty),
drives it with wrk (-t2 -c16) and reads utime + stime from /proc for every
process before and after: gunicorn workers (Python) and PostgreSQL backends,
divided by the requests served. What wrk itself and the kernel's networking
cost is the "rest" column: the machine's two cores over the run minus both.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.run import create_account, reset, set_spaces  # noqa: E402

PORT = 5701
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[tuple[str, str], float]:
    """{(pid, kind): CPU seconds} for every process still alive."""
    seen = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        kind = ("postgres" if comm.startswith("postgres")
                else "gunicorn" if "gunicorn" in comm or comm.startswith("python") else "other")
        seen[(pid, kind)] = (int(fields[11]) + int(fields[12])) / HZ
    return seen


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
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
           "GUNICORN_BIND": f"127.0.0.1:{PORT}", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    if opts.server == "entry":
        args = ["-c", "gunicorn.conf.py", "wsgi:app"]
        warm_tag, tag = random.sample(["".join(p) for p in itertools.product("ABCDEFGHJKLMNPRSTUVWXYZ", repeat=2)], 2)
        load = ["-s", "bench/lua/entry.lua", f"http://127.0.0.1:{PORT}", "--",
                f"header=Authorization: Bearer {token}"]
    else:
        args = ["-c", "bench/gunicorn_bare.conf.py", "bench.bare_app:app"]
        load = ["-s", "bench/lua/bare.lua", f"http://127.0.0.1:{PORT}"]
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), *args], cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)  # preload and fork
        # Warm-up, then the measured run; entry plates carry a tag per run, so none repeats.
        warm, measured = ([*load, f"tag={warm_tag}"], [*load, f"tag={tag}"]) if opts.server == "entry" \
            else (load, load)
        subprocess.run(["wrk", "-t2", "-c16", "-d2s", *warm], cwd=ROOT, capture_output=True)
        before, started = cpu_seconds(), time.monotonic()
        run = subprocess.run(["wrk", "-t2", "-c16", f"-d{opts.seconds}s", *measured], cwd=ROOT,
                             capture_output=True, text=True)
        after, elapsed = cpu_seconds(), time.monotonic() - started
    finally:
        server.terminate()
        server.wait()
    served = re.search(r"(\d+) requests in", run.stdout)
    if not served or "Non-2xx" in run.stdout:
        raise SystemExit(f"wrk did not get clean answers:\n{run.stdout}")
    n = int(served.group(1))
    spent: dict[str, float] = {}
    for key, seconds in after.items():
        spent[key[1]] = spent.get(key[1], 0.0) + seconds - before.get(key, 0.0)
    python, postgres = spent.get("gunicorn", 0.0), spent.get("postgres", 0.0)
    rest = (os.cpu_count() or 1) * elapsed - python - postgres
    print(f"{opts.server}: {n / opts.seconds:,.0f} req/s; CPU ms per request: gunicorn {python / n * 1e3:.3f}, "
          f"PostgreSQL {postgres / n * 1e3:.3f}, rest {rest / n * 1e3:.3f}")


if __name__ == "__main__":
    main()
