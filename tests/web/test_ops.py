"""What operations probe: /healthz (the process answers, no database) and /readyz (the database
answers within a short deadline and its schema is at the migrations' head; 503 otherwise)."""
import secrets
import time

import pytest
import sqlalchemy as sa

from garage import create_app
from garage.extensions import db
from garage.persistence import outage
from tests.helpers.db import counting
from tests.helpers.live import free_port


def test_healthz_answers_without_touching_the_database_or_a_session(app, client):
    with counting() as statements:
        r = client.get("/healthz", headers={"Cookie": "session=forged"})
    assert (r.status_code, r.get_json()) == (200, {"status": "ok"})
    assert statements == []
    assert r.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in r.headers


def test_readyz_is_ready_on_a_migrated_database(app, client):
    r = client.get("/readyz")
    assert (r.status_code, r.get_json()) == (200, {"status": "ready"})
    assert r.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in r.headers


def test_readyz_is_503_while_the_schema_is_behind_the_code(app, client):
    (revision,) = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
    db.session.commit()
    try:
        r = client.get("/readyz")
    finally:
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
        db.session.commit()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.get_json() == {"status": "unavailable",
                            "reason": "database schema is not at the code's migrations head"}
    assert revision not in r.get_data(as_text=True)  # nothing an outsider could use
    assert client.get("/readyz").status_code == 200  # back at head: ready again


def test_readyz_is_503_on_a_database_never_migrated(tmp_path, caplog):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.db",
                      "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and "migrations head" in r.get_json()["reason"]
    # Expected before the first `flask db upgrade`: said once as a warning, not logged as an error
    # with a traceback every time a probe asks.
    assert [rec.levelname for rec in caplog.records if rec.name.startswith("garage")] == ["WARNING"]
    assert "flask db upgrade" in caplog.text and "Traceback" not in caplog.text
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_is_503_at_once_when_postgresql_refuses(tmp_path, caplog, monkeypatch):
    for name, value in (("_AWAY_UNTIL", [0.0]), ("_FAILED", [False]), ("_OUTAGES", [0])):
        monkeypatch.setattr(outage, name, value)  # this worker's "database away" mark ends with the test
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/garage")  # nobody there
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(8), "INSTANCE_PATH": str(tmp_path)})
    started = time.monotonic()
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    assert time.monotonic() - started < 2
    assert "Connection refused" not in r.get_data(as_text=True)
    assert "GET /readyz -> 503" in caplog.text  # the operator's log says why
    assert app.test_client().get("/healthz").status_code == 200  # the process itself is fine


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_part_of_the_api_document(app, manager, path, client):
    spec = client.get("/openapi.json", headers=manager).get_json()
    assert path not in spec["paths"] and "/api/status" in spec["paths"]
