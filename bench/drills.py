"""The operations drills: `make drills` (or .venv/bin/python -m bench.drills --help).

nginx (deploy/nginx/, rendered by render.py) in front of app instances (gunicorn, the production
config) on a PRIVATE PostgreSQL server (tests/helpers/cluster.py: never the shared one), and a
steady load of entries and exits through the JSON API, each client from its own loopback address.
Under that load each drill does one thing an operator meets:

  rolling    restart each instance in turn, drained first (docs/deployment.md, rolling deploy)
  naive      the same without draining: nginx's passive health checks only (for comparison)
  postgres   restart PostgreSQL (fast stop, start)
  kill       kill one gunicorn worker with -9
  slow       200 slow clients trickling headers at nginx for 12 s
  direct     the same 200 slow clients straight at one gunicorn, load straight at it (no nginx:
             what the proxy protects against)
  restore    maintenance: stop the instances, pg_dump, drop the database, restore it, run the
             invariant check (flask --app garage verify), start the instances

and prints, per drill: requests sent, failed (and how), time to recover (first failure to the
first success after the last failure), the slowest answer, tickets lost (a 201 the client saw
whose ticket is not in the database afterwards, or a paid exit (200) whose ticket is not paid).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import itertools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from tests.helpers.cluster import PrivateCluster, children, private_postgres  # noqa: E402
from tests.helpers.live import free_port  # noqa: E402
from tests.helpers.nginx import Nginx, nginx_server  # noqa: E402

PLATES = itertools.count(1)  # next() is atomic under the GIL
DRILLS = ("rolling", "naive", "postgres", "kill", "slow", "direct", "restore")


# --- the app instances --------------------------------------------------------------------------

class Instance:
    """One gunicorn (garage@PORT in production) that can be stopped and started again."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                         cwd=ROOT, env={**os.environ, **self.env, "GUNICORN_BIND": self.address},
                                         stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /readyz answers 200 (/api/status where there is no /readyz)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in ("/readyz", "/api/status"):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    conn.request("GET", path)
                    status = conn.getresponse().status
                    conn.close()
                except OSError:
                    break
                if status == 200:
                    return
                if status != 404:
                    break
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn on {self.address} exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn on {self.address} not ready after {timeout} s")

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting and lets the requests in flight finish."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []


# --- the load -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    sent_at: float
    took: float
    kind: str  # "entry" | "exit"
    status: int | str  # HTTP status, or the exception's name


@dataclass
class Step:
    """One request of the load: an entry (`plate`) or an exit (the ticket `number`)."""

    kind: str  # "entry" | "exit"
    method: str
    path: str
    body: str
    number: str | None = None
    plate: str | None = None


def next_step(inside: list[str], serial: int, prefix: str = "L") -> Step:
    """The load's pattern: an entry, then (once the client holds a few tickets) the exit of its oldest
    ticket (taken out of `inside`), in turn. Each entry's plate is new: never that of a car inside."""
    import json

    if len(inside) >= 3 and serial % 2 == 0:
        number = inside.pop(0)
        return Step("exit", "PUT", f"/api/tickets/{number}/exit", '{"paymentMethod": "Cash"}', number=number)
    plate = f"{prefix}{next(PLATES):08d}"
    return Step("entry", "POST", "/api/tickets", json.dumps({"licensePlate": plate, "vehicleType": "Car"}), plate=plate)


def paced(stop: threading.Event, rate: float) -> Iterator[int]:
    """1, 2, 3... about `rate` a second until `stop` is set (a slow answer does not bunch the next ones)."""
    next_at = time.monotonic()
    for serial in itertools.count(1):
        if stop.is_set():
            return
        yield serial
        next_at = max(next_at + 1 / rate, time.monotonic() - 1)
        stop.wait(max(0.0, next_at - time.monotonic()))


@dataclass(kw_only=True)
class ClientThreads:
    """`clients` threads, each running `_client(n)` until `_stop` is set (the drills' loads: `Load` here,
    bench/ha_drill.py's); `stop` lets the requests under way finish, waiting at most `_finish_within()`."""

    clients: int = 4
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self, n: int) -> None:
        raise NotImplementedError

    def _finish_within(self) -> float:
        raise NotImplementedError

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """No new request; those under way finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._finish_within())


@dataclass
class Load(ClientThreads):
    """`clients` threads, each from its own address (127.0.0.2x), each sending `rate` requests a
    second: an entry, then (once it holds a few tickets) the exit of its oldest ticket, in turn."""

    base: str
    token: str
    rate: float = 8.0
    timeout: float = 10.0
    outcomes: list[Outcome] = field(default_factory=list)
    issued: dict[str, float] = field(default_factory=dict)  # ticket number -> when the 201 arrived
    paid: set[str] = field(default_factory=set)

    def _call(self, source: str, method: str, path: str, body: str) -> tuple[int | str, bytes]:
        host, port = self.base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=self.timeout, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers={"Authorization": f"Bearer {self.token}",
                                                           "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__, b""
        finally:
            conn.close()

    def _client(self, n: int) -> None:
        import json

        source = f"127.0.0.{20 + n}"
        inside: list[str] = []
        for serial in paced(self._stop, self.rate):
            step = next_step(inside, serial)
            started = time.monotonic()
            status, answer = self._call(source, step.method, step.path, step.body)
            done = time.monotonic()
            with self._lock:
                self.outcomes.append(Outcome(started, done - started, step.kind, status))
                if step.kind == "entry" and status == 201:
                    number = json.loads(answer)["ticketNumber"]
                    self.issued[number] = done
                    inside.append(number)
                elif step.kind == "exit" and status == 200:
                    self.paid.add(step.number)

    def _finish_within(self) -> float:
        return self.timeout + 5


# --- a drill and its figures -----------------------------------------------------------------------

@dataclass
class Result:
    name: str
    sent: int
    failed: int
    how: str
    recover: float
    slowest: float
    lost: int
    notes: str


def lost_tickets(url: str, issued: dict[str, float], paid: set[str]) -> int:
    """Tickets the client was told about (201) that the database does not have, and exits it
    was told were paid (200) that the database does not show as paid."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT ticket_number, status FROM tickets")).all())
    finally:
        engine.dispose()
    return sum(number not in rows for number in issued) + sum(rows.get(number) != "completed" for number in paid)


def figures(name: str, load: Load, url: str, notes: str) -> Result:
    outcomes = sorted(load.outcomes, key=lambda o: o.sent_at)
    failures = [o for o in outcomes if o.status not in (200, 201)]
    recover = 0.0
    if failures:
        last = max(o.sent_at + o.took for o in failures)
        after = [o.sent_at + o.took for o in outcomes if o.status in (200, 201) and o.sent_at + o.took > last]
        recover = (min(after) if after else last) - failures[0].sent_at
    how = ", ".join(f"{n}x {kind} {status}" for (kind, status), n in
                    sorted(Counter((o.kind, o.status) for o in failures).items(), key=str))
    return Result(name, len(outcomes), len(failures), how or "-", recover,
                  max((o.took for o in outcomes), default=0.0), lost_tickets(url, load.issued, load.paid), notes)


def run_drill(name: str, load: Load, url: str, action: Callable[[], str], before: float = 2.0,
              after: float = 3.0) -> Result:
    load.outcomes, load.issued, load.paid = [], {}, set()
    load.start()
    time.sleep(before)
    started = time.monotonic()
    try:
        notes = action()
    finally:
        took = time.monotonic() - started
        time.sleep(after)
        load.stop()
    return figures(name, load, url, f"action {took:.1f} s" + (f"; {notes}" if notes else ""))


def slow_clients(address: tuple[str, int], count: int, seconds: float) -> str:
    """`count` connections sending a request's headers one byte a second; how many the server
    closed before `seconds` were up."""
    socks = []
    for n in range(count):
        s = socket.create_connection(address, timeout=5, source_address=(f"127.0.1.{1 + n % 250}", 0))
        s.setblocking(False)
        s.send(b"GET /lobby HTTP/1.1\r\nHost: garage\r\n")
        socks.append(s)
    closed: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(b"X")
            except OSError:
                closed.add(i)
        time.sleep(1)
    for s in socks:
        s.close()
    return f"{count} slow clients, {len(closed)} cut off by the server within {seconds:.0f} s"


# --- the drills ------------------------------------------------------------------------------------

@dataclass
class Site:
    cluster: PrivateCluster
    url: str
    env: dict[str, str]
    instances: list[Instance]
    nginx: Nginx
    token: str
    tmp: Path

    def load(self, base: str | None = None, **kwargs) -> Load:
        return Load(base or self.nginx.url, self.token, **kwargs)


def rolling(site: Site, drain: bool) -> Callable[[], str]:
    def action() -> str:
        for instance in site.instances:
            if drain:
                site.nginx.drain([instance.address])
                time.sleep(1)  # requests already sent to it finish
            instance.stop()
            instance.start()  # returns once /readyz answers 200
            if drain:
                site.nginx.drain([])
        return f"{len(site.instances)} instances restarted" + (", each drained first" if drain else ", not drained")
    return action


def restart_postgres(site: Site) -> str:
    site.cluster.stop()
    site.cluster.start()
    return "pg_ctl stop -m fast; pg_ctl start"


def kill_worker(site: Site, times: int = 6) -> str:
    """A worker of each instance in turn, killed -9 every half second: a worker busy with a
    request when it dies is likelier than with a single kill."""
    for n in range(times):
        instance = site.instances[n % len(site.instances)]
        os.kill(instance.workers()[0], signal.SIGKILL)  # gunicorn's master starts a new one
        time.sleep(0.5)
    return f"{times} workers killed -9, 0.5 s apart, alternating instances"


def restore(site: Site) -> str:
    dump = site.tmp / "garage.dump"
    pg = site.cluster
    conn = ["-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres"]
    for instance in site.instances:  # maintenance: nginx answers its 503 page meanwhile
        instance.stop()
    subprocess.run([str(pg.bin / "pg_dump"), *conn, "-Fc", "-f", str(dump), "garage"], check=True)
    subprocess.run([str(pg.bin / "dropdb"), *conn, "garage"], check=True)
    subprocess.run([str(pg.bin / "createdb"), *conn, "garage"], check=True)
    subprocess.run([str(pg.bin / "pg_restore"), *conn, "--no-owner", "-d", "garage", str(dump)], check=True)
    verify = subprocess.run([sys.executable, "-m", "flask", "--app", "garage", "verify"], cwd=ROOT,
                            env={**os.environ, **site.env}, capture_output=True, text=True, timeout=120)
    said = (verify.stdout + verify.stderr).strip().splitlines()
    for instance in site.instances:
        instance.start()
    return (f"dump {dump.stat().st_size // 1024} KB; verify exit {verify.returncode}"
            + (f" ({said[-1][:80]})" if said else ""))


def prepare(cluster: PrivateCluster, url: str, env: dict[str, str]) -> str:
    """Migrate, default settings with room for every car, an attendant's API token."""
    from flask_migrate import upgrade

    from garage import create_app
    from garage.extensions import db
    from garage.services import accounts
    from garage.services.settings import ensure_settings

    os.environ["LOG_LEVEL"] = "WARNING"  # no migration chatter in the figures
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"]})
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines (migrations/env.py logs them)
            upgrade()
        ensure_settings()
        db.session.execute(sa.text("UPDATE garages SET total_spaces = 5000"))
        db.session.commit()
        accounts.create_user("drill", "correct horse battery", "attendant")
        _, token = accounts.create_token("drill")
        db.session.remove()
        db.engine.dispose()
    return token


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (`make drills DRILL_ARGS="..."`); exits with a usage message if wrong."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(DRILLS), help=f"comma-separated, from {', '.join(DRILLS)}")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--clients", type=int, default=4, help="load clients (each about --rate requests/s)")
    parser.add_argument("--rate", type=float, default=8.0)
    parser.add_argument("--slow", type=int, default=200, help="slow clients in the slow drills")
    parser.add_argument("--keep", action="store_true", help="keep the logs (gunicorn, nginx) and print where")
    args = parser.parse_args(argv)
    chosen = [d.strip() for d in args.only.split(",") if d.strip()]
    unknown = set(chosen) - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    args.chosen = chosen
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    chosen = args.chosen

    results: list[Result] = []
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="garage-drills-"))
        if not args.keep:
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        cluster = stack.enter_context(private_postgres())
        url = cluster.create_database("garage")
        env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16), "TRUSTED_PROXY_HOPS": "1",
               "WEB_CONCURRENCY": str(args.workers), "LOG_LEVEL": "WARNING"}
        token = prepare(cluster, url, env)
        instances = [Instance(free_port(), env, tmp / f"gunicorn-{n}.log") for n in range(args.instances)]
        for instance in instances:
            stack.callback(instance.stop)
            instance.start()
        nginx = stack.enter_context(nginx_server([i.address for i in instances]))
        if args.keep:
            stack.callback(shutil.copytree, nginx.dir, tmp / "nginx", dirs_exist_ok=True, ignore_dangling_symlinks=True)
            print(f"logs kept in {tmp}")
        site = Site(cluster, url, env, instances, nginx, token, tmp)
        print(f"{len(instances)} instances x {args.workers} workers behind nginx on {nginx.url}, private "
              f"PostgreSQL on port {cluster.port}; load: {args.clients} clients x {args.rate:g} requests/s",
              flush=True)
        load = dict(clients=args.clients, rate=args.rate)
        plan: dict[str, tuple[str, Callable[[], Result]]] = {
            "rolling": ("(a) rolling deploy, drained", lambda: run_drill(
                "(a) rolling deploy, drained", site.load(**load), url, rolling(site, drain=True))),
            "naive": ("(a') rolling deploy, not drained", lambda: run_drill(
                "(a') rolling deploy, not drained", site.load(**load), url, rolling(site, drain=False))),
            "postgres": ("(b) PostgreSQL restart", lambda: run_drill(
                "(b) PostgreSQL restart", site.load(**load), url, lambda: restart_postgres(site), after=6)),
            "kill": ("(c) kill -9 a worker", lambda: run_drill(
                "(c) kill -9 a worker", site.load(**load), url, lambda: kill_worker(site))),
            "slow": ("(d) 200 slow clients", lambda: run_drill(
                f"(d) {args.slow} slow clients at nginx", site.load(**load), url,
                lambda: slow_clients(("127.0.0.1", nginx.port), args.slow, 12))),
            "direct": ("(d') slow clients, no nginx", lambda: run_drill(
                f"(d') {args.slow} slow clients, no nginx", site.load(f"http://{instances[0].address}", timeout=5,
                                                                   **load), url,
                lambda: slow_clients(("127.0.0.1", instances[0].port), args.slow, 12), after=1)),
            "restore": ("(e) backup, drop, restore, verify", lambda: run_drill(
                "(e) backup, drop, restore, verify", site.load(**load), url, lambda: restore(site))),
        }
        for name in chosen:
            print(f"... {plan[name][0]}", flush=True)
            result = plan[name][1]()
            results.append(result)
            print_table([result])
    print("\nAll drills:")
    print_table(results)
    return 0


def print_table(results: list[Result]) -> None:
    head = ("drill", "sent", "failed", "recover s", "slowest s", "tickets lost")
    rows = [(r.name, str(r.sent), str(r.failed), f"{r.recover:.1f}", f"{r.slowest:.2f}", str(r.lost)) for r in results]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                          for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    for r in results:
        print(f"  {r.name}: failures: {r.how}; {r.notes}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
