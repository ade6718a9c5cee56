"""The high-availability configuration (deploy/ha/render.py): what it writes is what
docs/operations.md promises — synchronous replication that fails over to the standby on a crash,
HAProxy sending writes only to the node Patroni calls primary and reads to a replica within the
lag bound, one set of passwords across the files — and every `make ha-drill HA_ARGS="..."` example
is a command line bench/ha_drill.py accepts. Pure Python (HAProxy's own check when it is installed)."""
from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from bench import ha_drill
from tests.helpers.postgres import IN_CI

ROOT = Path(__file__).resolve().parents[2]
render = ha_drill.ha_render  # deploy/ha/render.py, loaded by the drill under its own name
NODES = "pg1=10.0.0.11,pg2=10.0.0.12:5433:8009"
ETCD = "e1=10.0.0.11,e2=10.0.0.12,e3=10.0.0.13"


def rendered(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "ha"
    assert render.main(["--out", str(out), "--nodes", NODES, "--etcd", ETCD, "--allow", "10.0.0.0/24", *extra]) == 0
    return out


def sections(cfg: str) -> dict[str, list[str]]:
    """HAProxy's configuration: {'backend garage_primary': [its lines]} (comments dropped)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in cfg.splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text:
            continue
        if not line[0].isspace():
            current = text
            found[current] = []
        else:
            found[current].append(text.strip())
    return found


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))


def test_patroni_runs_synchronous_replication_and_fails_over_on_a_crash(tmp_path):
    out = rendered(tmp_path)
    one, two = (yaml.safe_load((out / f"patroni-{n}.yml").read_text()) for n in ("pg1", "pg2"))
    dcs = one["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True and dcs["synchronous_mode_strict"] is False
    assert dcs["primary_start_timeout"] == 0 and dcs["failsafe_mode"] is True
    assert dcs["postgresql"]["use_pg_rewind"] is True and dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert one["etcd3"]["hosts"] == "10.0.0.11:2379,10.0.0.12:2379,10.0.0.13:2379"
    # Each node its own name and addresses; the same cluster, the same passwords.
    assert (one["name"], one["postgresql"]["listen"], one["restapi"]["listen"]) == ("pg1", "10.0.0.11:5432", "10.0.0.11:8008")
    assert (two["name"], two["postgresql"]["listen"], two["restapi"]["listen"]) == ("pg2", "10.0.0.12:5433", "10.0.0.12:8009")
    assert one["scope"] == two["scope"] and one["postgresql"]["authentication"] == two["postgresql"]["authentication"]
    assert "host replication replicator 10.0.0.0/24 scram-sha-256" in one["postgresql"]["pg_hba"]
    strict = yaml.safe_load((rendered(tmp_path / "strict", "--strict") / "patroni-pg1.yml").read_text())
    assert strict["bootstrap"]["dcs"]["synchronous_mode_strict"] is True


def test_haproxy_writes_go_to_the_primary_and_reads_to_a_replica_within_the_lag(tmp_path):
    conf = sections((rendered(tmp_path, "--max-lag", "4MB") / "haproxy.cfg").read_text())
    servers = ["server pg1 10.0.0.11:5432 check port 8008", "server pg2 10.0.0.12:5433 check port 8009"]
    primary, replicas = conf["backend garage_primary"], conf["backend garage_replicas"]
    assert "http-check send meth OPTIONS uri /primary" in primary and "http-check expect status 200" in primary
    assert "http-check send meth OPTIONS uri /replica?lag=4MB" in replicas
    for backend in (primary, replicas):
        assert [line for line in backend if line.startswith("server ")] == servers
        assert any("on-marked-down shutdown-sessions" in line for line in backend)  # no session left on a demoted node
    assert "bind 127.0.0.1:6000" in conf["frontend garage_write"]
    assert conf["frontend garage_write"][-1] == "default_backend garage_primary"
    assert "use_backend garage_replicas if { nbsrv(garage_replicas) gt 0 }" in conf["frontend garage_read"]
    assert "default_backend garage_primary" in conf["frontend garage_read"]  # no replica in bound: the primary
    # HAProxy runs on each app host: none of its ports may be an app instance's (garage@5001, garage@5002, ...:
    # the unit's and gunicorn's default ports), or whichever starts second cannot bind.
    binds = [line.split()[1] for lines in conf.values() for line in lines if line.startswith("bind ")]
    assert binds and not [bind for bind in binds if 5001 <= int(bind.rsplit(":", 1)[1]) <= 5099], binds


def test_one_set_of_passwords_kept_secret_and_kept_across_renders(tmp_path):
    out = rendered(tmp_path)
    text = {path.name: path.read_text() for path in out.iterdir()}
    assert not [name for name, body in text.items() if "${GARAGE_" in body]
    secrets = env_file(out / "passwords.env")
    app = env_file(out / "app.env")
    assert app["DATABASE_URL"] == f"postgresql://garage:{secrets['GARAGE_HA_APP_PASSWORD']}@127.0.0.1:6000/garage"
    assert app["DATABASE_REPLICA_URL"] == f"postgresql://garage:{secrets['GARAGE_HA_APP_PASSWORD']}@127.0.0.1:6001/garage"
    assert f"PASSWORD '{secrets['GARAGE_HA_APP_PASSWORD']}'" in text["database.sql"]
    assert len(set(secrets.values())) == 3 and all(len(v) >= 32 for v in secrets.values())
    for name in ("patroni-pg1.yml", "patroni-pg2.yml", "app.env", "database.sql", "passwords.env"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert rendered(tmp_path) == out and env_file(out / "passwords.env") == secrets  # a second run keeps them


def test_every_etcd_member_knows_the_whole_cluster(tmp_path):
    out = rendered(tmp_path)
    members = [env_file(out / f"etcd-e{n}.env") for n in (1, 2, 3)]
    assert {m["ETCD_INITIAL_CLUSTER"] for m in members} == {
        "e1=http://10.0.0.11:2380,e2=http://10.0.0.12:2380,e3=http://10.0.0.13:2380"}
    assert [m["ETCD_LISTEN_CLIENT_URLS"] for m in members] == [f"http://10.0.0.1{n}:2379" for n in (1, 2, 3)]


@pytest.mark.parametrize(("args", "message"), [
    (["--nodes", "pg1=10.0.0.11"], "at least two PostgreSQL nodes"),
    (["--nodes", "pg1=10.0.0.11,pg1=10.0.0.12"], "a name is given twice"),
    (["--nodes", "PG1=10.0.0.11,pg2=10.0.0.12"], "is not NAME=HOST"),
    (["--ttl", "20"], "must not exceed ttl"),
    (["--max-lag", "a lot"], "is not a size"),
    (["--allow", "everyone"], "is not an address range"),
])
def test_a_wrong_setting_is_refused_with_its_reason(tmp_path, capsys, args, message):
    base = {"--nodes": NODES, "--etcd": ETCD}
    given = dict(zip(args[::2], args[1::2]))
    argv = ["--out", str(tmp_path / "ha")] + [x for k, v in {**base, **given}.items() for x in (k, v)]
    assert render.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ha" / "haproxy.cfg").exists()


def test_haproxy_accepts_the_rendered_configuration(tmp_path):
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if binary is None:
        message = "haproxy is not installed (make haproxy): the rendered configuration is not checked by it"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    out = rendered(tmp_path, "--run-dir", str(tmp_path), "--log", "stdout")
    check = subprocess.run([binary, "-c", "-f", str(out / "haproxy.cfg")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


EXAMPLE = re.compile(r'HA_ARGS="([^"]*)"')


def test_each_ha_args_example_is_accepted():
    places = ["Makefile", "docs/operations.md", "docs/deployment.md"]
    examples = [found for place in places for found in EXAMPLE.findall((ROOT / place).read_text())]
    assert examples, "the Makefile shows HA_ARGS"
    for example in examples:
        ha_drill.arguments(shlex.split(example))  # exits (SystemExit) on an unknown option


def test_the_drill_counts_what_was_lost_duplicated_or_applied_unseen(tmp_path):
    """bench/ha_drill.py's ledger: the clients' answers against the final primary's rows."""
    import sqlalchemy as sa

    Request = ha_drill.Request
    url = f"sqlite:///{tmp_path / 'final.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE tickets (ticket_number TEXT, plate_key TEXT, status TEXT, "
                             "receipt_number INTEGER, amount_paid INTEGER)"))
        conn.execute(sa.text("CREATE TABLE audit_log (action TEXT, object_id TEXT)"))
        conn.execute(sa.text("INSERT INTO tickets VALUES ('T1', 'HA1', 'completed', 1, 1000), "
                             "('T3', 'HA3', 'active', NULL, NULL), ('T4', 'HA4', 'active', NULL, NULL), "
                             "('T4B', 'HA4', 'active', NULL, NULL), ('T5', 'HA5', 'active', NULL, NULL)"))
        conn.execute(sa.text("INSERT INTO audit_log VALUES ('ticket.paid', 'T1'), ('ticket.paid', 'T1'), "
                             "('ticket.issued', 'T4')"))
    engine.dispose()
    told = [
        Request("entry", "k1", plate="HA1", ticket="T1", status=201),   # there
        Request("entry", "k2", plate="HA2", ticket="T2", status=201),   # lost
        Request("entry", "k3", plate="HA3", status=503),                # applied, the client was told it failed
        Request("entry", "k4", plate="HA4", ticket="T4", status=201),   # and a second ticket for its plate
        Request("entry", "k5", plate="HA5", ticket="T5", status=201),
        Request("exit", "k6", ticket="T1", status=200, receipt="R-000001"),  # paid (but charged twice)
        Request("exit", "k7", ticket="T5", status=200, receipt="R-000002"),  # lost payment
    ]
    found = ha_drill.ledger(url, told)
    assert (found.lost_tickets, found.lost_payments) == (1, 1)
    assert (found.duplicate_tickets, found.duplicate_payments) == (1, 1)
    assert found.applied_but_failed == 1
    assert ha_drill.ledger(url, told[:1] + told[5:6]) == ha_drill.Ledger(
        duplicate_tickets=1, duplicate_payments=1, applied_but_failed=0, tickets=5, paid=1)


def test_the_longest_time_without_a_successful_write():
    Request = ha_drill.Request
    done = [Request("entry", str(n), status=201, finished=t) for n, t in enumerate([1.0, 1.5, 7.0, 7.2])]
    done.append(Request("entry", "x", status=503, finished=4.0))  # a failure does not end the gap
    assert ha_drill.longest_gap(done, 0.0, 8.0) == (5.5, 1.5)
