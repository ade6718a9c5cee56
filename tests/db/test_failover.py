"""What the app does when PostgreSQL fails over (issue 20), on PostgreSQL only:

- a read (GET) whose connection is lost while in use (the server ends it, as a killed primary does) is run
  once more on a fresh connection: the client gets its answer, not a 503 (garage/web.py RetryDroppedReads);
- a write whose connection is lost answers 503 and is never run again by the server; the client's retry
  with its Idempotency-Key issues the ticket once;
- under gunicorn, with the primary's postmaster killed with -9 and a new primary (its data, as a
  synchronous replica has it) started behind the same address, the same workers serve again by
  themselves, and a keyed entry sent during the outage is issued exactly once when retried.

In-process tests end a connection with pg_terminate_backend (what a failover does to every connection to
the old primary); the gunicorn test uses a private cluster (tests/helpers/cluster.py), never the shared server."""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from garage import create_app
from garage.extensions import db
from garage.models import IdempotencyKey, Ticket
from tests.helpers.cluster import PrivateCluster, children, private_postgres
from tests.helpers.db import before_each_statement, counting, ticket_count
from tests.helpers.live import gunicorn_process

pytestmark = pytest.mark.postgres_only

KEY = "Idempotency-Key"


@contextmanager
def connection_ended(marker: str = "", times: int = 1) -> Iterator[list[str]]:
    """The first `times` statements containing `marker` ("": any) find their connection ended by the server
    just before they are sent (pg_terminate_backend, waiting until the backend is gone): what a killed or
    demoted primary does to a connection in use. Yields the statements that met it."""
    admin = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    ended: list[str] = []

    def end(conn, cursor, statement, parameters, context, executemany):
        if len(ended) < times and marker in statement and not statement.startswith("PREPARE"):
            pid = conn.connection.dbapi_connection.get_backend_pid()
            with admin.connect() as other:
                assert other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            ended.append(statement)

    try:
        with before_each_statement(end):
            yield ended
    finally:
        admin.dispose()


# --- in-process: one connection ended --------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/garage/stats", "/g/main/lobby", "/g/main/lobby/panel"])
def test_a_read_whose_connection_is_lost_is_run_once_more(client, staff, path, caplog):
    headers = {**staff, **({"HX-Request": "true", "X-Garage-Poll": "1"} if path.endswith("/panel") else {})}
    client.get(path, headers=headers)  # a pooled connection, as a worker holds one
    with connection_ended() as ended:
        r = client.get(path, headers=headers)
    assert len(ended) == 1, "the connection was not ended"
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert "database connection lost" in caplog.text and "running it once more" in caplog.text
    assert client.get(path, headers=headers).status_code == 200


def test_a_read_is_run_once_more_only_once(client, staff):
    with connection_ended(times=3) as ended:
        r = client.get("/api/garage/stats", headers=staff)
    assert r.status_code == 503 and "database is not answering" in r.get_json()["message"]
    assert len(ended) == 2  # the first run and the one more: never a third
    assert client.get("/api/garage/stats", headers=staff).status_code == 200


def test_a_write_whose_connection_is_lost_answers_503_and_is_not_run_again(client, staff):
    plate = {"licensePlate": "LOST 1", "vehicleType": "Car"}
    client.post("/api/tickets", json={"licensePlate": "WARM 1", "vehicleType": "Car"}, headers=staff)  # PREPAREd
    # without a key: the entry's one statement never reaches the server
    with connection_ended("garage_issue_ticket") as ended, counting() as statements:
        r = client.post("/api/tickets", json=plate, headers=staff)
    assert len(ended) == 1 and r.status_code == 503 and r.headers["Retry-After"]
    assert [s for s in statements if s.startswith("EXECUTE garage_issue_ticket")] == ended  # not sent again
    assert ticket_count() == 1
    # with a key: the ticket is written, its key's answer is not (the connection goes first): both are lost
    with connection_ended("INSERT INTO idempotency_keys") as ended, counting() as statements:
        r = client.post("/api/tickets", json=plate, headers={**staff, KEY: "during-failover"})
    assert len(ended) == 1 and r.status_code == 503
    assert len([s for s in statements if s.startswith("EXECUTE garage_issue_ticket")]) == 1
    assert ticket_count() == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
    retry = client.post("/api/tickets", json=plate, headers={**staff, KEY: "during-failover"})
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    again = client.post("/api/tickets", json=plate, headers={**staff, KEY: "during-failover"})
    assert (again.status_code, again.data, again.headers["Idempotent-Replayed"]) == (201, retry.data, "true")
    assert ticket_count() == 2
    # an exit so lost charges nothing; its retry charges once
    number = retry.get_json()["ticketNumber"]
    with connection_ended("INSERT INTO idempotency_keys"):
        assert client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"},
                          headers={**staff, KEY: "pay-it"}).status_code == 503
    db.session.expire_all()
    assert db.session.scalar(sa.select(Ticket.status).where(Ticket.ticket_number == number)) == "active"
    paid = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers={**staff, KEY: "pay-it"})
    assert paid.status_code == 200 and paid.get_json()["receiptNumber"] == "R-000001"


# --- gunicorn: the primary killed, a new one behind the same address ----------------------------

TIMEOUTS = {"STATEMENT_TIMEOUT_MS": "1500", "DB_REPLY_TIMEOUT": "2.5", "DB_CONNECT_TIMEOUT": "1.5",
            "GUNICORN_TIMEOUT": "30"}
WORKERS = 2


def fetch(base: str, method: str, path: str, headers: dict[str, str] | None = None,
          body: dict | None = None) -> tuple[int, dict[str, str], bytes, float]:
    request = urllib.request.Request(base + path, method=method, headers={"Content-Type": "application/json",
                                                                          **(headers or {})},
                                     data=json.dumps(body).encode() if body is not None else None)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return r.status, dict(r.headers.items()), r.read(), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read(), time.monotonic() - started


def eventually(request, status: int, within: float = 15) -> tuple[int, dict[str, str], bytes, float]:
    """`request()`'s answer once it is `status`: only 503 before that, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while (answer := request())[0] != status:
        assert answer[0] == 503 and time.monotonic() < deadline, answer[:3]
        time.sleep(0.3)
    return answer


def gone(pids: list[int], within: float = 15) -> None:
    deadline = time.monotonic() + within
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline, "the old primary's backends did not end"
        time.sleep(0.1)


def new_primary_from(old: PrivateCluster) -> PrivateCluster:
    """A new server with the old one's data as it was when it died (a synchronous replica's), started on
    the same port: the address the app knows now leads to the new primary."""
    root = Path(str(old.root) + "-new")
    root.mkdir()
    subprocess.run(["cp", "-a", str(old.data), str(root / "data")], check=True)
    (root / "data" / "postmaster.pid").unlink(missing_ok=True)
    if old.as_postgres:
        subprocess.run(["chown", "-R", "postgres:postgres", str(root)], check=True)
    new = PrivateCluster(root, old.port, old.bin, old.as_postgres)
    new.start()
    return new


def test_the_app_serves_again_by_itself_when_a_new_primary_takes_the_address(tmp_path):
    from flask_migrate import upgrade

    from garage.services import accounts
    from garage.services.settings import ensure_settings

    with private_postgres() as pg:
        url = pg.create_database("garage")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
        app.instance_path = str(tmp_path / "instance")
        with app.app_context():
            upgrade()
            ensure_settings()
            accounts.create_user("gate", "correct horse battery", "attendant")
            token = {"Authorization": f"Bearer {accounts.create_token('gate')[1]}"}
            db.session.remove()
            db.engine.dispose()
        log = tmp_path / "gunicorn.log"
        new = None
        with gunicorn_process(url, workers=WORKERS, extra_env=TIMEOUTS, log=log) as (base, proc):
            try:
                issued = []
                for i in range(6):  # every worker holds pooled connections to the old primary
                    status, _, body, _ = fetch(base, "POST", "/api/tickets", {**token, KEY: f"before-{i}"},
                                               {"licensePlate": f"OLD {i}", "vehicleType": "Car"})
                    assert status == 201
                    issued.append(json.loads(body)["ticketNumber"])
                    assert fetch(base, "GET", "/api/garage/occupancy")[0] == 200
                deadline = time.monotonic() + 15
                while len(workers := children(proc.pid)) < WORKERS:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
                with sa.create_engine(pg.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool).connect() as c:
                    c.execute(sa.text("CHECKPOINT"))  # every commit on disk, as a synchronous replica has them
                backends = children(pg.postmaster())
                os.kill(pg.postmaster(), signal.SIGKILL)  # the primary dies
                gone(backends)
                during = {**token, KEY: "sent-during-the-outage"}
                car = {"licensePlate": "NEW 1", "vehicleType": "Car"}
                status, headers, _, seconds = fetch(base, "POST", "/api/tickets", during, car)
                assert status == 503 and headers["Retry-After"] and seconds < 6
                assert fetch(base, "GET", "/api/garage/occupancy")[0] == 503
                new = new_primary_from(pg)
                # Each worker asks again by itself, DB_CONNECT_TIMEOUT after its last failure: until then, 503.
                keyed = lambda headers, body: (lambda: fetch(base, "POST", "/api/tickets", headers, body))  # noqa: E731
                first = eventually(keyed(during, car), 201)
                assert "Idempotent-Replayed" not in first[1]
                for _ in range(4):
                    assert eventually(keyed(during, car), 201)[1]["Idempotent-Replayed"] == "true"
                for i, number in enumerate(issued):  # the keys kept before the failover answer as before
                    _, headers, body, _ = eventually(keyed({**token, KEY: f"before-{i}"},
                                                           {"licensePlate": f"OLD {i}", "vehicleType": "Car"}), 201)
                    assert (headers["Idempotent-Replayed"], json.loads(body)["ticketNumber"]) == ("true", number)
                for _ in range(2 * WORKERS):
                    eventually(lambda: fetch(base, "GET", "/g/main/lobby"), 200)
                    eventually(lambda: fetch(base, "GET", "/api/garage/occupancy"), 200)
                assert children(proc.pid) == workers  # no worker restarted or killed
                engine = sa.create_engine(url, poolclass=NullPool)
                with engine.connect() as conn:
                    plates = conn.execute(sa.text("SELECT license_plate FROM tickets ORDER BY id")).scalars().all()
                engine.dispose()
                assert plates == [f"OLD {i}" for i in range(6)] + ["NEW 1"]  # none lost, none twice
                assert "WORKER TIMEOUT" not in log.read_text(errors="replace")
            finally:
                if new is not None:
                    new.stop()
                    subprocess.run(["rm", "-rf", str(new.root)], check=False)
