"""A private PostgreSQL server for tests (and drills) that stop, freeze or restart the
database: initdb + pg_ctl into a temporary folder, on a free port. Never the shared server
(TEST_DATABASE_URL) that every other test uses.

    with private_postgres() as pg:        # started, database "postgres" empty
        url = pg.create_database("garage")
        with private_standby(pg) as standby: ...  # a streaming replica of it (pg_basebackup -R)
        pg.stop(); pg.start()             # an outage: connections refused, then back
        pg.freeze(); pg.thaw()            # a hung server: TCP still accepts, nothing answers

As root the server runs as the `postgres` user (PostgreSQL refuses to run as root)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from tests.helpers.live import free_port
from tests.helpers.processes import children, freeze, thaw  # children: for tests/db/test_outage.py
from tests.helpers.postgres import postgres_unavailable


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (PG_BIN overrides)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivateCluster:
    root: Path
    port: int
    bin: Path
    as_postgres: bool
    frozen: list[int] = field(default_factory=list)
    production: bool = False  # PostgreSQL's durable defaults instead of the tests' fast settings

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        # Tests trade durability for speed; a production-like server (the soak run) keeps PostgreSQL's
        # defaults (fsync, synchronous commit, autovacuum) with Debian's shared_buffers and connections.
        tuning = ("-c shared_buffers=128MB -c max_connections=100" if self.production else
                  "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c shared_buffers=16MB -c max_connections=40")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} {tuning}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A clean, fast shutdown: clients are disconnected, new connections refused."""
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: TCP still accepts, nothing answers."""
        self.frozen = freeze(self.postmaster())

    def thaw(self) -> None:
        thaw(self.frozen)
        self.frozen = []

    def create_database(self, name: str) -> str:
        """A new database on this server; returns its URL."""
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


@contextmanager
def _private_cluster(make, production: bool = False) -> Iterator[PrivateCluster]:
    """A private server whose data folder `make(cluster)` creates, started; stopped (thawed first) and
    deleted afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        postgres_unavailable("no PostgreSQL server binaries (initdb, pg_ctl) for a private cluster; set PG_BIN")
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="garage-pg-"))  # in /tmp: the postgres user must reach it
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, free_port(), bin_dir, as_postgres, production=production)
    try:
        make(cluster)
        cluster.start()
        yield cluster
    finally:
        cluster.thaw()
        if (cluster.data / "postmaster.pid").exists():
            try:
                cluster._run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(root, ignore_errors=True)


def private_postgres(production: bool = False):
    """A started private server (a context manager); stopped (thawed first) and deleted afterwards.
    `production`: durable and vacuumed as a real server is (fsync, synchronous commit, autovacuum)."""
    return _private_cluster(lambda cluster: cluster._run(
        "initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
        "--no-instructions"), production)


def private_standby(primary: PrivateCluster):
    """A hot standby of `primary` on a port of its own (a context manager): pg_basebackup -R, so it
    streams the primary's WAL and replays it, read-only; stopped and deleted afterwards. Pause and
    resume its replay with pg_wal_replay_pause() / pg_wal_replay_resume() on it."""
    return _private_cluster(lambda cluster: cluster._run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(cluster.data),
        "-R", "-X", "stream", "--checkpoint=fast", "--no-sync", timeout=120))  # fast: not a spread checkpoint
