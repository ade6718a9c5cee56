"""The high-availability drill: `make ha-drill` (or .venv/bin/python -m bench.ha_drill --help).

Everything on this machine, loopback only, under one temporary folder, from the configuration
deploy/ha/render.py writes for operators (docs/operations.md, "High availability"): one etcd
member, two PostgreSQL 15 nodes run by Patroni (synchronous replication), HAProxy (writes to the
node Patroni calls primary, reads to a replica within the lag bound), two app instances (gunicorn,
the production config) behind nginx (deploy/nginx/), migrated through HAProxy. Never the shared
PostgreSQL on 5432: every port is a free one.

Under a steady load of entries and exits through nginx (a few clients, each request with an
Idempotency-Key and retried with the same key after a timeout, a 502/503/504 or a lost
connection), it kills the primary's postmaster with -9 (`--scenario crash`: Patroni on that node
stays up, sees PostgreSQL gone and hands over at once, primary_start_timeout 0) or the whole node
(`--scenario node`: Patroni killed too; the leader lock expires after the ttl), waits for Patroni to
promote the standby, keeps the load going, lets the old primary rejoin as a replica (its Patroni
does it, with pg_rewind when its WAL went further than the new primary's; in the node scenario
once Patroni is started again), keeps the load going, and prints:

  seconds without a successful write, requests failed (retries gave up), requests retried,
  committed tickets and payments lost (every 201/200 the clients saw, looked up on the final
  primary), duplicates created (two tickets for one plate, two payments of one ticket), writes
  applied although the client was told they failed, and whether an app instance had to be
  restarted (gunicorn's masters must be the ones started, and answer).

Exit status 0 only when nothing was lost, nothing duplicated and no instance restarted. Bounded in
time (--time-limit); everything it started is stopped and the folder removed at the end, on
failure and on Ctrl-C too.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.drills import ClientThreads, Instance, next_step, paced, prepare  # noqa: E402
from garage.config import normalise_database_url  # noqa: E402
from tests.helpers.cluster import postgres_bin  # noqa: E402
from tests.helpers.live import free_port  # noqa: E402
from tests.helpers.nginx import nginx_server  # noqa: E402


def _load_renderer():
    """deploy/ha/render.py (what an operator runs; not a package, and deploy/nginx has a render.py too)."""
    spec = importlib.util.spec_from_file_location("garage_ha_render", ROOT / "deploy" / "ha" / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ha_render = _load_renderer()
RETRY_STATUSES = {502, 503, 504}
SCENARIOS = ("crash", "node", "switchover")
ACTIONS = {"crash": "kill -9 the primary's postmaster",
           "node": "kill -9 the primary's postmaster and its Patroni (the node is lost)",
           "switchover": "patronictl switchover (planned: a PostgreSQL update, docs/operations.md)"}
TOOLS = {"etcd": "etcd-server", "patroni": "patroni", "haproxy": "haproxy"}


class Abort(Exception):
    """Ctrl-C, SIGTERM or the time limit: stop, clean up, say so."""


def tool(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None)
    if found is None:
        raise SystemExit(f"{name} is not installed: make ha-tools installs Debian's {TOOLS.get(name, name)} (as root)")
    return found


def get_json(url: str, timeout: float = 2) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError, http.client.HTTPException):
        return None


def wait_for(what: str, check, timeout: float, every: float = 0.2):
    """Poll `check()` until it returns something true; that value. RuntimeError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


# --- the processes --------------------------------------------------------------------------------

class Process:
    """A long-running program of the drill, in its own session (Ctrl-C reaches the driver only, which
    stops everything in order), its output in a log file."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str] | None = None,
                 user: str | None = None) -> None:
        self.name, self.command, self.log, self.env, self.user = name, command, log, env, user
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            extra = {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(self.env or {})}, start_new_session=True,
                                         cwd=self.log.parent, **extra)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def tail(self, chars: int = 2500) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class Node:
    """One PostgreSQL node and its Patroni."""

    member: object  # render.Member
    data: Path
    patroni: Process

    @property
    def name(self) -> str:
        return self.member.name

    def rest(self, path: str) -> dict | None:
        return get_json(f"http://{self.member.rest_address}{path}")

    def postmaster(self) -> int | None:
        """The postmaster's PID, only if that process is the one running this data directory."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError, IndexError):
            return None
        return pid if str(self.data) in cmdline else None

    def stop(self) -> None:
        """Patroni stops PostgreSQL (fast) when it is told to stop; if either hangs, kill."""
        self.patroni.stop(timeout=40)
        pid = self.postmaster()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the backends go with it
            deadline = time.monotonic() + 10
            while self.postmaster() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.postmaster():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def stop_nodes(nodes: list[Node]) -> None:
    """The standbys first, the leader last: stopping the leader first would make the standby take over."""
    leader = leader_of(nodes)
    for node in sorted(nodes, key=lambda n: n.name == leader):
        node.stop()


def cluster_state(nodes: list[Node]) -> dict | None:
    """Patroni's view of the cluster (GET /cluster), from the first node that answers."""
    for node in nodes:
        found = node.rest("/cluster")
        if found and found.get("members"):
            return found
    return None


def roles(nodes: list[Node]) -> dict[str, tuple[str, str, object]]:
    state = cluster_state(nodes) or {}
    return {m["name"]: (m.get("role", ""), m.get("state", ""), m.get("lag")) for m in state.get("members", [])}


def leader_of(nodes: list[Node]) -> str | None:
    return next((name for name, (role, state, _) in roles(nodes).items()
                 if role == "leader" and state == "running"), None)


def in_sync(nodes: list[Node], standby: str | None = None) -> str | None:
    """The name of a synchronous standby that replicates (0 lag), if any (`standby`: that one)."""
    for name, (role, state, lag) in roles(nodes).items():
        if role == "sync_standby" and state in ("running", "streaming") and lag in (0, "0") \
                and (standby is None or name == standby):
            return name
    return None


def haproxy_servers(stats: str) -> dict[str, str]:
    """HAProxy's CSV statistics: {backend/server: status}."""
    try:
        with urllib.request.urlopen(f"http://{stats}/;csv", timeout=2) as r:
            lines = r.read().decode().lstrip("# ").splitlines()
    except OSError:
        return {}
    head = lines[0].split(",")
    rows = [dict(zip(head, line.split(","))) for line in lines[1:] if line]
    return {f"{r['pxname']}/{r['svname']}": r["status"] for r in rows if r["svname"] not in ("FRONTEND", "BACKEND")}


# --- the load -------------------------------------------------------------------------------------

@dataclass
class Request:
    """One client request (an entry or an exit) and every attempt made for it with its key."""

    kind: str
    key: str
    plate: str | None = None
    ticket: str | None = None
    started: float = 0.0
    sent: float = 0.0  # the last attempt
    finished: float = 0.0
    attempts: int = 0
    status: int | str | None = None
    receipt: str | None = None
    replayed: bool = False
    seen: list = field(default_factory=list)  # what each failed attempt got

    @property
    def ok(self) -> bool:
        return self.status in (200, 201)


def retry_worthy(status: int | str, message: str) -> bool:
    """A timeout, a lost connection, 502/503/504, or a 409 saying the same key is still in flight."""
    if isinstance(status, str):
        return True
    if status in RETRY_STATUSES:
        return True
    lowered = message.lower()
    return status == 409 and ("idempotency" in lowered or "in progress" in lowered or "in flight" in lowered)


@dataclass
class Load(ClientThreads):
    """`clients` threads through nginx, each from its own address: an entry, then (holding a few
    tickets) the exit of its oldest ticket, in turn, `rate` requests a second each."""

    host: str
    port: int
    token: str
    rate: float = 3.0
    timeout: float = 6.0
    give_up: float = 60.0
    requests: list[Request] = field(default_factory=list)

    def _attempt(self, source: str, method: str, path: str, body: str, key: str) -> tuple[int | str, dict, bool]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Idempotency-Key": key})
            r = conn.getresponse()
            raw = r.read()
            try:
                answer = json.loads(raw) if raw else {}
            except ValueError:
                answer = {}
            return r.status, answer if isinstance(answer, dict) else {}, r.getheader("Idempotent-Replayed") == "true"
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__, {}, False
        finally:
            conn.close()

    def _send(self, source: str, request: Request, method: str, path: str, body: str) -> None:
        request.started = time.monotonic()
        pause = 0.2
        while True:
            request.attempts += 1
            request.sent = time.monotonic()
            status, answer, replayed = self._attempt(source, method, path, body, request.key)
            request.status, request.replayed = status, replayed
            if status in (200, 201):
                request.ticket = answer.get("ticketNumber", request.ticket)
                request.receipt = answer.get("receiptNumber")
                break
            request.seen.append(status)
            if not retry_worthy(status, str(answer.get("message", ""))) \
                    or time.monotonic() - request.started > self.give_up:
                break
            time.sleep(pause * random.uniform(0.75, 1.25))  # the same key, a moment later
            pause = min(pause * 1.5, 1.0)
        request.finished = time.monotonic()

    def _client(self, n: int) -> None:
        source = f"127.0.0.{40 + n}"
        inside: list[str] = []
        for serial in paced(self._stop, self.rate):
            step = next_step(inside, serial, prefix="HA")  # each plate once: a second ticket for it is a duplicate
            request = Request(step.kind, str(uuid.uuid4()), plate=step.plate, ticket=step.number)
            self._send(source, request, step.method, step.path, step.body)
            if request.kind == "entry" and request.ok:
                inside.append(request.ticket)
            with self._lock:
                self.requests.append(request)

    def _finish_within(self) -> float:
        return self.give_up + self.timeout + 5  # a request under way retries for at most `give_up`


# --- what happened --------------------------------------------------------------------------------

@dataclass
class Ledger:
    """What the final primary holds, compared with what the clients were told."""

    lost_tickets: int = 0
    lost_payments: int = 0
    duplicate_tickets: int = 0
    duplicate_payments: int = 0
    applied_but_failed: int = 0
    tickets: int = 0
    paid: int = 0


def receipt_digits(text: str | None) -> int | None:
    digits = re.sub(r"\D", "", text or "")
    return int(digits) if digits else None


def ledger(url: str, requests: list[Request]) -> Ledger:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT ticket_number, plate_key, status, receipt_number FROM tickets WHERE plate_key LIKE 'HA%'")).all()
            payments = Counter(dict(conn.execute(sa.text(
                "SELECT object_id, count(*) FROM audit_log WHERE action = 'ticket.paid' GROUP BY object_id")).all()))
    finally:
        engine.dispose()
    by_number = {r.ticket_number: r for r in rows}
    per_plate = Counter(r.plate_key for r in rows)
    found = Ledger(tickets=len(rows), paid=sum(r.status == "completed" for r in rows))
    for request in requests:
        if request.kind == "entry":
            if request.ok:
                found.lost_tickets += request.ticket not in by_number
            elif per_plate[request.plate]:
                found.applied_but_failed += 1
        else:
            row = by_number.get(request.ticket)
            if request.ok:
                found.lost_payments += not (row and row.status == "completed"
                                            and row.receipt_number == receipt_digits(request.receipt))
            elif row is not None and row.status == "completed":
                found.applied_but_failed += 1
    found.duplicate_tickets = sum(n - 1 for n in per_plate.values() if n > 1)
    paid_numbers = {r.ticket_number for r in rows}
    found.duplicate_payments = sum(n - 1 for number, n in payments.items() if n > 1 and number in paid_numbers)
    return found


def longest_gap(requests: list[Request], since: float, until: float) -> tuple[float, float]:
    """The longest time between two successful writes (answers) in [since, until]: (seconds, start)."""
    done = sorted(r.finished for r in requests if r.ok and since <= r.finished <= until)
    points = [since, *done, until] if done else [since, until]
    gaps = [(b - a, a) for a, b in zip(points, points[1:])]
    return max(gaps)


# --- the drill ------------------------------------------------------------------------------------

@dataclass
class Site:
    tmp: Path
    files: dict[str, Path]
    settings: object  # render.Settings
    nodes: list[Node]
    haproxy: Process
    etcd: Process
    superuser_url: str  # through HAProxy's write port


def build(stack: ExitStack, tmp: Path, args: argparse.Namespace) -> Site:
    """Render the configuration and start etcd, the two Patroni nodes and HAProxy."""
    etcd_bin, patroni_bin, haproxy_bin = tool("etcd"), tool("patroni"), tool("haproxy")
    pg_bin = postgres_bin()
    if pg_bin is None or not (pg_bin / "initdb").exists():
        raise SystemExit("no PostgreSQL server programs (initdb): install postgresql-15, or set PG_BIN")
    as_root = os.geteuid() == 0
    runs_as = "postgres" if as_root else None  # PostgreSQL refuses to run as root
    port = lambda: free_port()  # noqa: E731
    nodes = ha_render.members(f"pg1=127.0.0.1:{port()}:{port()},pg2=127.0.0.1:{port()}:{port()}", (0, 0), "nodes")
    etcd = ha_render.members(f"e1=127.0.0.1:{port()}:{port()}", (0, 0), "etcd")
    settings = ha_render.Settings(
        nodes, etcd, write=f"127.0.0.1:{port()}", read=f"127.0.0.1:{port()}", stats=f"127.0.0.1:{port()}",
        pg_bin=str(pg_bin), data_dir=str(tmp / "{name}" / "data"), socket_dir=str(tmp / "{name}"),
        pgpass=str(tmp / "{name}" / "pgpass"), etcd_data=str(tmp / "etcd"), run_dir=str(tmp), log="stdout",
        ttl=args.ttl, loop_wait=args.loop_wait, retry_timeout=args.retry_timeout, check_interval="1s",
        fast_interval="500ms", strict=args.strict, max_connections=60)
    files = ha_render.render(tmp / "config", settings)
    secret = ha_render.passwords(tmp / "config")

    etcd_env = dict(line.split("=", 1) for line in files["etcd-e1"].read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    etcd_proc = Process("etcd", [etcd_bin], tmp / "etcd.log", env=etcd_env)
    stack.callback(etcd_proc.stop)
    etcd_proc.start()
    wait_for("etcd answers", lambda: get_json(f"http://{etcd[0].address}/health"), 30)

    node_list = []
    for member in nodes:
        home = tmp / member.name
        home.mkdir(mode=0o700)
        log = home / "patroni.log"
        if as_root:
            for path in (home, files[f"patroni-{member.name}"]):
                shutil.chown(path, "postgres", "postgres")
        node = Node(member, home / "data", Process(
            f"patroni {member.name}", [patroni_bin, str(files[f"patroni-{member.name}"])], log,
            env={"HOME": str(home), "PGPASSFILE": str(home / "pgpass")}, user=runs_as))
        node_list.append(node)
    stack.callback(stop_nodes, node_list)
    if as_root:
        shutil.chown(tmp / "config", "postgres", "postgres")
    for node in node_list:
        node.patroni.start()
        time.sleep(1)  # the first one bootstraps (initdb), the second clones it (pg_basebackup)

    def bootstrapped() -> bool:
        for node in node_list:
            if not node.patroni.alive():
                raise RuntimeError(f"Patroni {node.name} exited:\n{node.patroni.tail()}")
        return bool(leader_of(node_list) and in_sync(node_list))
    wait_for("a leader and a synchronous standby", bootstrapped, 120, every=0.5)

    haproxy = Process("haproxy", [haproxy_bin, "-f", str(files["haproxy"]), "-db"], tmp / "haproxy.log")
    stack.callback(haproxy.stop)
    haproxy.start()
    wait_for("HAProxy routes writes to the primary", lambda: "UP" in [
        status for name, status in haproxy_servers(settings.stats).items() if name.startswith("garage_primary/")], 30)
    superuser = f"postgresql+psycopg2://postgres:{secret['SUPERUSER']}@{settings.write}/postgres"
    return Site(tmp, files, settings, node_list, haproxy, etcd_proc, superuser)


def create_database(site: Site) -> str:
    """database.sql through HAProxy as the superuser, as an operator would; the app's URL (app.env)."""
    secret = ha_render.passwords(site.tmp / "config")
    host, port = site.settings.write.split(":")
    subprocess.run([str(Path(site.settings.pg_bin) / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host,
                    "-p", port, "-U", "postgres", "-d", "postgres", "-f", str(site.files["database"])],
                   check=True, env={**os.environ, "PGPASSWORD": secret["SUPERUSER"]}, timeout=60,
                   stdout=subprocess.DEVNULL)
    return dict(line.split("=", 1) for line in site.files["app"].read_text().splitlines()
                if "=" in line and not line.startswith("#"))


class Watch(threading.Thread):
    """From the kill on, Patroni's view every 0.2 s: when a new leader runs, and when the old primary is
    its synchronous standby again (the drill sleeps meanwhile: these are the real moments)."""

    def __init__(self, nodes: list[Node], old: str) -> None:
        super().__init__(daemon=True)
        self.nodes, self.old = nodes, old
        self.promoted: tuple[str, float] | None = None
        self.rejoined: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and self.rejoined is None:
            new = leader_of(self.nodes)
            if self.promoted is None and new and new != self.old:
                self.promoted = (new, time.monotonic())
            if self.promoted and in_sync(self.nodes, self.old):
                self.rejoined = time.monotonic()
            self.done.wait(0.2)


@dataclass
class Failover:
    old: str  # the primary killed
    new: str  # the standby promoted
    killed: float
    promoted: float
    log_mark: int  # the old primary's Patroni log size at the kill: what it says afterwards is read from there
    watch: Watch


def failover(site: Site, scenario: str) -> Failover:
    """Take the primary away (its postmaster killed, the whole node lost, or a planned switchover) and
    wait until Patroni has promoted the standby."""
    old = leader_of(site.nodes)
    node = next(n for n in site.nodes if n.name == old)
    pid = node.postmaster()
    if pid is None:
        raise RuntimeError(f"no postmaster found for the leader {old}")
    mark = node.patroni.log.stat().st_size
    watch = Watch(site.nodes, old)
    killed = time.monotonic()
    watch.start()
    if scenario == "switchover":
        candidate = next(n.name for n in site.nodes if n.name != old)
        patronictl(site, "switchover", "--leader", old, "--candidate", candidate, "--force")
    else:
        if scenario == "node":
            node.patroni.kill()  # the host is gone: nobody renews the leader lock
        os.kill(pid, signal.SIGKILL)

    limit = site.settings.ttl + 60 if scenario == "node" else 60
    new, promoted = wait_for("the standby promoted", lambda: watch.promoted, limit, every=0.05)
    return Failover(old, new, killed, promoted, mark, watch)


def patronictl(site: Site, *args: str) -> str:
    """patronictl with a node's configuration, as an operator runs it; its output."""
    done = subprocess.run([tool("patronictl"), "-c", str(site.files[f"patroni-{site.nodes[0].name}"]), *args],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"patronictl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def rejoin(site: Site, event: Failover, scenario: str) -> tuple[float, str]:
    """Until the old primary is the new primary's synchronous standby again; (when, how)."""
    old = event.old
    node = next(n for n in site.nodes if n.name == old)
    if scenario == "node":
        node.patroni.start()  # the host is back: Patroni decides how it follows the new primary
        back = time.monotonic()
    try:
        rejoined = wait_for(f"{old} back as the synchronous standby", lambda: event.watch.rejoined, 120, every=0.1)
    finally:
        event.watch.done.set()
    with open(node.patroni.log, "rb") as f:
        f.seek(event.log_mark)
        log = f.read().decode(errors="replace")
    how = ("pg_rewind" if "running pg_rewind" in log else
           "re-cloned" if "reinitializ" in log.lower() else "followed without pg_rewind")
    if scenario == "node":
        how += f"; {rejoined - back:.1f} s after its Patroni was started again"
    return rejoined, how


def replicas_agree(site: Site, timeout: float = 20) -> str:
    """Whether both nodes hold the same tickets, once the standby has replayed what it received."""
    secret = ha_render.passwords(site.tmp / "config")
    engines = {node.name: sa.create_engine(
        f"postgresql+psycopg2://postgres:{secret['SUPERUSER']}@{node.member.address}/garage") for node in site.nodes}
    try:
        deadline = time.monotonic() + timeout
        while True:
            counts = {}
            for name, engine in engines.items():
                with engine.connect() as conn:
                    counts[name] = tuple(conn.execute(sa.text(
                        "SELECT count(*), count(receipt_number), coalesce(sum(amount_paid), 0) FROM tickets")).one())
            same = len(set(counts.values())) == 1
            if same or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for engine in engines.values():
            engine.dispose()
    return ("yes" if same else "NO") + " (" + "; ".join(
        f"{name}: {n} tickets, {paid} paid, {cents} cents" for name, (n, paid, cents) in counts.items()) + ")"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="crash",
                        help="crash: kill -9 the primary's postmaster (Patroni stays); node: its Patroni too; "
                             "switchover: patronictl switchover (planned)")
    parser.add_argument("--clients", type=int, default=4, help="load clients through nginx")
    parser.add_argument("--rate", type=float, default=3.0, help="requests a second per client")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance (2 instances)")
    parser.add_argument("--before", type=float, default=8.0, help="seconds of load before the kill")
    parser.add_argument("--between", type=float, default=8.0, help="seconds of load after the promotion")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after the rejoin")
    parser.add_argument("--timeout", type=float, default=6.0,
                        help="a client's wait for one answer; shorter than the app's longest database wait on purpose: "
                             "a client giving up on a request still being applied is what Idempotency-Key is for")
    parser.add_argument("--give-up", type=float, default=45.0, help="a client stops retrying a request after this")
    parser.add_argument("--ttl", type=int, default=15, help="Patroni's leader lock ttl (production: 30)")
    parser.add_argument("--loop-wait", type=int, default=2, help="Patroni's loop_wait (production: 10)")
    parser.add_argument("--retry-timeout", type=int, default=5, help="Patroni's retry_timeout (production: 10)")
    parser.add_argument("--strict", action="store_true", help="synchronous_mode_strict (writes stop without a standby)")
    parser.add_argument("--time-limit", type=int, default=300, help="abort (and clean up) after this many seconds")
    parser.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the app instances, e.g. DB_CONNECT_TIMEOUT=1 (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs, configuration) and say where")
    args = parser.parse_args(argv)
    if any("=" not in setting for setting in args.app_env):
        parser.error("--app-env takes NAME=VALUE")
    return args


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)


def on_signal(signum, frame):  # noqa: ARG001
    """The first Ctrl-C, SIGTERM or the time limit stops the drill; the clean-up is not interrupted by more."""
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Abort(f"stopped by {signal.Signals(signum).name}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    signal.alarm(args.time_limit)
    began = time.monotonic()
    say = lambda text: print(f"[{time.monotonic() - began:5.1f} s] {text}", flush=True)  # noqa: E731
    try:
        with ExitStack() as stack:
            tmp = Path(tempfile.mkdtemp(prefix="garage-ha-"))
            tmp.chmod(0o755)  # the postgres user (Patroni) and nginx's workers reach their folders
            if args.keep:
                stack.callback(print, f"kept: {tmp} (logs: */patroni.log, etcd.log, haproxy.log, gunicorn-*.log)")
            else:
                stack.callback(shutil.rmtree, tmp, ignore_errors=True)
            say(f"etcd, two Patroni nodes (PostgreSQL {postgres_bin().parent.name}), HAProxy under {tmp}")
            site = build(stack, tmp, args)
            say(f"cluster up: leader {leader_of(site.nodes)}, synchronous standby {in_sync(site.nodes)}; "
                f"HAProxy writes {site.settings.write}, reads {site.settings.read}, stats http://{site.settings.stats}/")
            env_db = create_database(site)
            env = {**env_db, "SECRET_KEY": secrets.token_hex(16), "TRUSTED_PROXY_HOPS": "1",
                   "WEB_CONCURRENCY": str(args.workers), "LOG_LEVEL": "WARNING",
                   **dict(setting.split("=", 1) for setting in args.app_env)}
            app_url = normalise_database_url(env["DATABASE_URL"])
            with contextlib.redirect_stdout(sys.stderr):
                token = prepare(None, app_url, env)  # migrations through HAProxy
            instances = [Instance(free_port(), env, tmp / f"gunicorn-{n}.log") for n in range(2)]
            for instance in instances:
                stack.callback(instance.stop)
                instance.start()
            masters = {i.address: i.proc.pid for i in instances}
            nginx = stack.enter_context(nginx_server([i.address for i in instances]))
            say(f"2 app instances x {args.workers} workers behind nginx on {nginx.url}; "
                f"load: {args.clients} clients x {args.rate:g} requests/s with Idempotency-Keys")

            load = Load("127.0.0.1", nginx.port, token, clients=args.clients, rate=args.rate,
                        timeout=args.timeout, give_up=args.give_up)
            stack.callback(load.stop)
            start = time.monotonic()
            load.start()
            time.sleep(args.before)
            what = "switchover" if args.scenario == "switchover" else "kill"
            say(ACTIONS[args.scenario])
            event = failover(site, args.scenario)
            old, new, killed, promoted = event.old, event.new, event.killed, event.promoted
            say(f"{new} promoted {promoted - killed:.1f} s after the {what}")
            time.sleep(args.between)
            rejoined, how = rejoin(site, event, args.scenario)
            say(f"{old} is the synchronous standby again ({how}), {rejoined - killed:.1f} s after the {what}")
            time.sleep(args.after)
            say("load stopping (requests under way finish or give up)")
            load.stop()
            end = time.monotonic()

            found = ledger(app_url, load.requests)
            agree = replicas_agree(site)
            listing = patronictl(site, "list")
            restarted = [a for a, i in zip(masters, instances)
                         if not i.proc or i.proc.poll() is not None or i.proc.pid != masters[a]]
            answering = []
            for instance in instances:
                with contextlib.suppress(RuntimeError):
                    instance.wait_ready(timeout=5)
                    answering.append(instance.address)
            report(args, load.requests, found, start, end, killed, promoted, old, new, rejoined, how, agree,
                   restarted, answering, instances)
            print(f"\npatronictl list at the end:\n{listing}", flush=True)
            bad = found.lost_tickets + found.lost_payments + found.duplicate_tickets + found.duplicate_payments
            return 0 if bad == 0 and not restarted and len(answering) == len(instances) else 1
    except Abort as exc:
        print(f"ha-drill: {exc}; everything it started was stopped", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("ha-drill: interrupted; everything it started was stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:  # a step did not happen in time (wait_for), a program exited
        print(f"ha-drill failed: {exc}\neverything it started was stopped; --keep keeps the logs", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)


def report(args, requests, found: Ledger, start, end, killed, promoted, old, new, rejoined, how, agree,
           restarted, answering, instances) -> None:
    writes = len(requests)
    failed = [r for r in requests if not r.ok]
    retried = [r for r in requests if r.attempts > 1]
    gap, gap_at = longest_gap(requests, start, end)
    first_after = min((r.finished for r in requests if r.ok and r.sent > killed), default=None)
    replays = sum(r.replayed for r in requests)
    seen = Counter(str(s) for r in requests for s in r.seen)
    print()
    what = "switchover" if args.scenario == "switchover" else "kill"
    print(f"High-availability drill ({args.scenario}): {ACTIONS[args.scenario]} on {old} at {killed - start:.1f} s "
          f"of load; {new} promoted")
    rows = [
        ("seconds without a successful write", f"{gap:.1f}  (from {gap_at - start:.1f} s; {what} at {killed - start:.1f} s)"),
        (f"{what} -> new primary promoted (Patroni)", f"{promoted - killed:.1f} s"),
        (f"{what} -> first write sent after it succeeded", f"{first_after - killed:.1f} s" if first_after else "none"),
        (f"{what} -> old primary back as synchronous standby", f"{rejoined - killed:.1f} s ({how})"),
        ("client requests (entries, exits)", f"{writes} ({sum(r.kind == 'entry' for r in requests)}, "
                                             f"{sum(r.kind == 'exit' for r in requests)})"),
        ("requests failed (retries gave up or refused)", f"{len(failed)}" + (
            f"  ({', '.join(f'{n}x {k}' for k, n in Counter(f'{r.kind} {r.status}' for r in failed).items())})"
            if failed else "")),
        ("requests retried (extra attempts)", f"{len(retried)} ({sum(r.attempts - 1 for r in retried)})"
                                              + (f"  (seen: {', '.join(f'{n}x {s}' for s, n in seen.most_common())})"
                                                 if seen else "")),
        ("answers replayed (Idempotent-Replayed: true)", str(replays)),
        ("committed tickets lost", str(found.lost_tickets)),
        ("committed payments lost", str(found.lost_payments)),
        ("duplicates created (tickets, payments)", f"{found.duplicate_tickets + found.duplicate_payments} "
                                                   f"({found.duplicate_tickets}, {found.duplicate_payments})"),
        ("applied although the client was told it failed", str(found.applied_but_failed)),
        ("both nodes hold the same rows", agree),
        ("app instance restarted", "no" if not restarted else f"YES: {', '.join(restarted)}"),
        ("app instances answering at the end", f"{len(answering)} of {len(instances)}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
