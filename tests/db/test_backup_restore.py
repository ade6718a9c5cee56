"""The documented backup and restore (docs/operations.md, "Backups and restore"), end to end:
pg_dump -Fc of a garage in use, pg_restore into another database, then `flask --app garage
verify` on the copy: every invariant holds and the copy has the same tickets."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.seed_history import psycopg2_dsn
from garage.extensions import db
from garage.models import Ticket
from tests.helpers.live import migrated_postgres
from tests.helpers.postgres import IN_CI, throwaway_postgres
from tests.helpers.staff import StaffActions

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def postgres_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: postgresql-client)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    return path


def verify(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "garage", "verify", *args], cwd=ROOT, text=True, capture_output=True,
                          env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(8)}, timeout=120)


def test_a_dump_restored_into_another_database_passes_verify(tmp_path):
    pg_dump, pg_restore = postgres_tool("pg_dump"), postgres_tool("pg_restore")
    from garage.services import accounts
    from garage.services.settings import ensure_settings

    dump = tmp_path / "garage.dump"
    with migrated_postgres(str(tmp_path)) as (url, app), app.app_context():
        app.config["WTF_CSRF_ENABLED"] = False  # one app context for every request: no fresh `g` per request
        ensure_settings()
        desk = StaffActions(app.test_client(), lambda name, role, password: accounts.create_user(name, password, role))
        desk.sign_in("ann", "attendant")
        numbers = [desk.issue(plate) for plate in ("AAA111", "BBB222", "CCC333")]
        for number in numbers[:2]:
            assert desk.pay(number, "Cash", desk.quote(number)).status_code == 303
        subprocess.run([pg_dump, "-Fc", "--no-owner", "-d", psycopg2_dsn(url), "-f", str(dump)], check=True)
        db.session.remove()

    restored = throwaway_postgres()
    copy = next(restored)
    try:
        subprocess.run([pg_restore, "--no-owner", "--exit-on-error", "-d", psycopg2_dsn(copy), str(dump)],
                       check=True)
        result = verify(copy)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK    occupancy counter equals the cars inside: counter 1, cars inside 1" in result.stdout
        assert "OK    every paid ticket has its payment audit row: 0 paid tickets without one" in result.stdout
        assert "All 5 checks passed" in result.stdout
        engine = sa.create_engine(copy)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(Ticket.ticket_number, Ticket.status).order_by(Ticket.id)).all()
                assert [tuple(r) for r in rows] == [(numbers[0], "completed"), (numbers[1], "completed"),
                                                    (numbers[2], "active")]
            # a restore that lost the counter's last update: found, and repaired
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE garages SET occupied = 2"))
        finally:
            engine.dispose()
        repaired = verify(copy, "--repair-counter")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert "Counter repaired: 2 -> 1 (the cars inside)" in repaired.stdout
        assert "OK    occupancy counter equals the cars inside: counter 1, cars inside 1" in repaired.stdout
    finally:
        restored.close()
