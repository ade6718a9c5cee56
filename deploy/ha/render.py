#!/usr/bin/env python3
"""Write Garage's high-availability configuration from the templates beside this file (stdlib only).

    python3 deploy/ha/render.py --out /root/garage-ha \\
        --nodes pg1=10.0.0.11,pg2=10.0.0.12 --etcd e1=10.0.0.11,e2=10.0.0.12,e3=10.0.0.13 \\
        --allow 10.0.0.0/24 [--write 127.0.0.1:6000 --read 127.0.0.1:6001 --stats 127.0.0.1:7000]

writes into OUT, for each PostgreSQL node `patroni-NODE.yml` (/etc/patroni/config.yml on that host),
for each etcd member `etcd-NAME.env` (/etc/default/etcd on that host), `haproxy.cfg`
(/etc/haproxy/haproxy.cfg on each app host), `app.env` (DATABASE_URL and DATABASE_REPLICA_URL for
/etc/garage/garage.env), `database.sql` (the app's role and database, run once through HAProxy) and
`passwords.env` (the superuser's, replication's and the app's passwords: generated on the first
run, read again on the next, so re-rendering keeps them; GARAGE_HA_..._PASSWORD in the environment
overrides). A node is NAME=HOST[:PG_PORT[:REST_PORT]] (5432, 8008), an etcd member
NAME=HOST[:CLIENT_PORT[:PEER_PORT]] (2379, 2380). `{name}` in --data-dir, --socket-dir, --pgpass
and --etcd-data is replaced by the node's or member's name. docs/operations.md, "High availability".
Every GARAGE_... placeholder is filled; HAProxy's and YAML's own syntax is left alone."""
from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
PASSWORDS = {"SUPERUSER": "GARAGE_HA_SUPERUSER_PASSWORD", "REPLICATION": "GARAGE_HA_REPLICATION_PASSWORD",
             "APP": "GARAGE_HA_APP_PASSWORD"}
NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
SIZE = re.compile(r"^\d+(B|kB|MB|GB)?$")  # what Patroni's ?lag= accepts
INTERVAL = re.compile(r"^\d+(ms|s|m)?$")  # HAProxy's time format


@dataclass(frozen=True)
class Member:
    """A PostgreSQL node (port: PostgreSQL, rest: Patroni's API) or an etcd member (port: clients,
    rest: peers)."""

    name: str
    host: str
    port: int
    rest: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def rest_address(self) -> str:
        return f"{self.host}:{self.rest}"


def members(text: str, ports: tuple[int, int], what: str) -> list[Member]:
    """'pg1=10.0.0.11,pg2=10.0.0.12:5433:8009' -> Members (default ports filled in)."""
    found = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, where = part.partition("=")
        host, *given = where.split(":")
        if not sep or not NAME.match(name) or not host or len(given) > 2 or not all(g.isdigit() for g in given):
            raise ValueError(f"{what}: {part!r} is not NAME=HOST[:PORT[:PORT]] (a lower-case name)")
        port, rest = [int(g) for g in given] + list(ports[len(given):])
        found.append(Member(name, host, port, rest))
    if len({m.name for m in found}) != len(found):
        raise ValueError(f"{what}: a name is given twice")
    if len({(m.host, p) for m in found for p in (m.port, m.rest)}) != 2 * len(found):
        raise ValueError(f"{what}: two of them would listen on the same address")
    return found


@dataclass
class Settings:
    nodes: list[Member]
    etcd: list[Member]
    write: str = "127.0.0.1:6000"  # not 5000/5001: garage@5001... listen there
    read: str = "127.0.0.1:6001"
    stats: str = "127.0.0.1:7000"
    allow: str = "127.0.0.1/32"
    scope: str = "garage"
    pg_bin: str = "/usr/lib/postgresql/15/bin"
    data_dir: str = "/var/lib/postgresql/15/garage"
    socket_dir: str = "/var/run/postgresql"
    pgpass: str = "/var/lib/postgresql/.pgpass_patroni"
    etcd_data: str = "/var/lib/etcd/garage"
    run_dir: str = "/run/haproxy"
    log: str = "/dev/log"  # HAProxy's log target: a syslog socket, or "stdout"
    ttl: int = 30
    loop_wait: int = 10
    retry_timeout: int = 10
    check_interval: str = "3s"
    fast_interval: str = "1s"
    max_lag: str = "1MB"
    strict: bool = False
    max_connections: int = 100
    passwords: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if len(self.nodes) < 2:
            raise ValueError("--nodes: at least two PostgreSQL nodes (a primary and a synchronous standby)")
        if not self.etcd:
            raise ValueError("--etcd: at least one etcd member")
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise ValueError("loop_wait + 2 x retry_timeout must not exceed ttl (Patroni's rule)")
        if not SIZE.match(self.max_lag):
            raise ValueError(f"--max-lag: {self.max_lag!r} is not a size such as 1MB or 16384")
        for name in ("check_interval", "fast_interval"):
            if not INTERVAL.match(getattr(self, name)):
                raise ValueError(f"--{name.replace('_', '-')}: {getattr(self, name)!r} is not a time such as 3s")
        if not re.match(r"^[0-9a-fA-F.:]+/\d{1,3}$", self.allow):
            raise ValueError(f"--allow: {self.allow!r} is not an address range such as 10.0.0.0/24")


def passwords(out: Path) -> dict[str, str]:
    """The environment's, else OUT/passwords.env's (an earlier run), else new ones."""
    saved: dict[str, str] = {}
    file = out / "passwords.env"
    if file.exists():
        for line in file.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                saved[key.strip()] = value.strip()
    return {kind: os.environ.get(var) or saved.get(var) or secrets.token_hex(24) for kind, var in PASSWORDS.items()}


def fill(source: str, values: dict[str, str]) -> str:
    text = Template((HERE / source).read_text()).safe_substitute(values)
    left = re.findall(r"\$\{GARAGE_\w+\}", text)
    if left:
        raise ValueError(f"{source}: no value for {', '.join(sorted(set(left)))}")
    return text


def write(path: Path, text: str, secret: bool = False) -> Path:
    path.write_text(text)
    if secret:
        path.chmod(0o600)
    return path


def server_lines(nodes: list[Member]) -> str:
    return "\n".join(f"    server {n.name} {n.address} check port {n.rest}" for n in nodes)


def render(out: Path, settings: Settings) -> dict[str, Path]:
    """Write every file into `out`; returns them by name (patroni-pg1, etcd-e1, haproxy, app, database...)."""
    settings.check()
    out.mkdir(parents=True, exist_ok=True)
    secret = settings.passwords or passwords(out)
    common = {"GARAGE_SCOPE": settings.scope, "GARAGE_APP_PASSWORD": secret["APP"],
              "GARAGE_WRITE": settings.write, "GARAGE_READ": settings.read}
    written: dict[str, Path] = {}
    cluster = ",".join(f"{m.name}=http://{m.rest_address}" for m in settings.etcd)
    for member in settings.etcd:
        written[f"etcd-{member.name}"] = write(out / f"etcd-{member.name}.env", fill("etcd.env", {
            **common, "GARAGE_ETCD_NAME": member.name, "GARAGE_ETCD_DATA": settings.etcd_data.replace("{name}", member.name),
            "GARAGE_ETCD_CLIENT": member.address, "GARAGE_ETCD_PEER": member.rest_address,
            "GARAGE_ETCD_CLUSTER": cluster}))
    for node in settings.nodes:
        per_node = lambda text: text.replace("{name}", node.name)  # noqa: E731
        written[f"patroni-{node.name}"] = write(out / f"patroni-{node.name}.yml", fill("patroni.yml", {
            **common, "GARAGE_NODE": node.name, "GARAGE_REST": node.rest_address, "GARAGE_PG": node.address,
            "GARAGE_ETCD_HOSTS": ",".join(m.address for m in settings.etcd),
            "GARAGE_TTL": str(settings.ttl), "GARAGE_LOOP_WAIT": str(settings.loop_wait),
            "GARAGE_RETRY_TIMEOUT": str(settings.retry_timeout), "GARAGE_STRICT": str(settings.strict).lower(),
            "GARAGE_MAX_CONNECTIONS": str(settings.max_connections), "GARAGE_PG_BIN": settings.pg_bin,
            "GARAGE_DATA_DIR": per_node(settings.data_dir), "GARAGE_SOCKET_DIR": per_node(settings.socket_dir),
            "GARAGE_PGPASS": per_node(settings.pgpass), "GARAGE_ALLOW": settings.allow,
            "GARAGE_SUPERUSER_PASSWORD": secret["SUPERUSER"], "GARAGE_REPLICATION_PASSWORD": secret["REPLICATION"],
        }), secret=True)
    log = ("    log stdout format raw local0 info" if settings.log == "stdout"
           else f"    log {settings.log} local0 notice")
    written["haproxy"] = write(out / "haproxy.cfg", fill("haproxy.cfg", {
        **common, "GARAGE_LOG": log, "GARAGE_RUN_DIR": settings.run_dir, "GARAGE_STATS": settings.stats,
        "GARAGE_CHECK_INTERVAL": settings.check_interval, "GARAGE_FAST_INTERVAL": settings.fast_interval,
        "GARAGE_MAX_LAG": settings.max_lag, "GARAGE_PRIMARY_SERVERS": server_lines(settings.nodes),
        "GARAGE_REPLICA_SERVERS": server_lines(settings.nodes)}))
    written["app"] = write(out / "app.env", fill("app.env", common), secret=True)
    written["database"] = write(out / "database.sql", fill("database.sql", common), secret=True)
    written["passwords"] = write(out / "passwords.env", "".join(
        f"{PASSWORDS[kind]}={value}\n" for kind, value in secret.items()), secret=True)
    return written


def main(argv: list[str] | None = None) -> int:
    defaults = Settings([], [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the rendered files")
    parser.add_argument("--nodes", required=True, help="PostgreSQL nodes: NAME=HOST[:PG_PORT[:REST_PORT]],...")
    parser.add_argument("--etcd", required=True, help="etcd members: NAME=HOST[:CLIENT_PORT[:PEER_PORT]],...")
    for option, help_text in [("write", "HAProxy's write port (DATABASE_URL)"),
                              ("read", "HAProxy's read port (DATABASE_REPLICA_URL)"),
                              ("stats", "HAProxy's statistics page"),
                              ("allow", "address range of the app and database hosts (pg_hba.conf)"),
                              ("scope", "the cluster's name in etcd"), ("pg-bin", "PostgreSQL's programs"),
                              ("data-dir", "each node's data directory"), ("socket-dir", "PostgreSQL's Unix socket folder"),
                              ("pgpass", "the .pgpass file Patroni writes"), ("etcd-data", "each etcd member's data"),
                              ("run-dir", "HAProxy's admin socket folder"), ("log", "HAProxy's log: a syslog socket or 'stdout'"),
                              ("check-interval", "HAProxy's health check interval"),
                              ("fast-interval", "HAProxy's check interval while a node changes state"),
                              ("max-lag", "a replica further behind than this gets no reads")]:
        key = option.replace("-", "_")
        parser.add_argument(f"--{option}", default=getattr(defaults, key), help=f"{help_text} (default {getattr(defaults, key)})")
    for option in ("ttl", "loop-wait", "retry-timeout", "max-connections"):
        parser.add_argument(f"--{option}", type=int, default=getattr(defaults, option.replace("-", "_")),
                            help=f"Patroni's {option} (default {getattr(defaults, option.replace('-', '_'))})")
    parser.add_argument("--strict", action="store_true",
                        help="synchronous_mode_strict: no write without a standby (docs/operations.md)")
    args = vars(parser.parse_args(argv))
    out = args.pop("out").resolve()
    try:
        settings = Settings(members(args.pop("nodes"), (5432, 8008), "--nodes"),
                            members(args.pop("etcd"), (2379, 2380), "--etcd"), **args)
        written = render(out, settings)
    except ValueError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 2
    for path in written.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
