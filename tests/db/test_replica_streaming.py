"""Reads from a REAL streaming replica (garage/persistence/replica.py): private PostgreSQL servers
(tests/helpers/cluster.py), a primary and a hot standby made by pg_basebackup -R, the app reading its
reports there as a role that may only read. The page says how far behind the figures are; with the
standby's replay paused, they stay as they were while the lag is within REPLICA_MAX_LAG_SECONDS and
come from the primary beyond it; a standby caught up is current however long ago the last write was
(idle is not lagging); a frozen standby costs a second or two, then the primary answers."""
from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from garage import create_app
from garage.domain.clock import utcnow
from garage.extensions import db
from garage.services import accounts
from garage.services.settings import ensure_settings
from tests.helpers.cluster import private_postgres, private_standby
from tests.helpers.replica import app_with_replica, dispose
from tests.helpers.staff import StaffActions
from tests.helpers.web import PASSWORD, soup, text

pytestmark = pytest.mark.postgres_only

LAG_BOUND = 10  # seconds: REPLICA_MAX_LAG_SECONDS here
BEHIND = re.compile(r"\(replica, (\d+) s behind\)")


def until(condition, seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def test_a_streaming_replica_within_and_beyond_the_lag_bound(tmp_path):
    with private_postgres() as pg:
        primary_url = pg.create_database("garage")
        migrate = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": primary_url,
                              "INSTANCE_PATH": str(tmp_path / "migrate")})
        with migrate.app_context():
            upgrade()
            ensure_settings()
            db.session.execute(sa.text('CREATE ROLE "reader" LOGIN'))  # replicated with everything else
            db.session.execute(sa.text('GRANT SELECT ON ALL TABLES IN SCHEMA public TO "reader"'))
            db.session.commit()
        dispose(migrate)
        with private_standby(pg) as standby:
            replica_url = make_url(standby.url("garage")).set(username="reader").render_as_string(hide_password=False)
            app = app_with_replica(primary_url, replica_url, str(tmp_path / "app"),
                                   REPLICA_MAX_LAG_SECONDS=LAG_BOUND, REPLICA_CONNECT_TIMEOUT=1.0,
                                   DB_REPLY_TIMEOUT=30.0,  # far from the replica's 1 s (below)
                                   REPORT_CACHE_ENTRIES=0)  # which database answers each report, not a kept one
            admin = sa.create_engine(standby.url("garage"), isolation_level="AUTOCOMMIT")  # superuser there
            try:
                _within_and_beyond(app, admin, standby)
            finally:
                standby.thaw()
                admin.dispose()
                dispose(app)


def _within_and_beyond(app, admin, standby) -> None:
    def on_standby(sql: str):
        with admin.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()

    def make_user(username, role, password=PASSWORD):
        with app.app_context():
            accounts.create_user(username, password, role)

    desk = StaffActions(app.test_client(), make_user)
    desk.sign_in("boss", "manager")
    today = {"from": utcnow().date().isoformat(), "to": utcnow().date().isoformat()}

    def report():
        page = desk.client.get("/g/main/reports", query_string=today)
        assert page.status_code == 200
        entries = int(text(soup(page).select_one(".figure[data-figure='entries'] .value")))
        age = soup(page).select_one("#data-age")
        behind = BEHIND.search(text(age)) if age else None
        assert (age is None) == (behind is None), text(age)
        return entries, int(behind[1]) if behind else None

    desk.issue("CAR 1")
    until(lambda: on_standby("SELECT count(*) FROM tickets") == 1, what="the standby to replay the entry")
    entries, behind = report()
    assert entries == 1 and behind is not None and behind <= 1

    on_standby("SELECT pg_wal_replay_pause()")
    desk.issue("CAR 2")
    until(lambda: on_standby("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"),
          what="the standby to receive the second entry without replaying it")
    entries, behind = report()
    assert entries == 1 and behind is not None and behind < LAG_BOUND  # stale, and says so

    until(lambda: on_standby("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())") > LAG_BOUND + 1,
          seconds=LAG_BOUND * 3, what="the lag to pass the bound")
    assert report() == (2, None)  # from the primary, saying nothing of a replica
    tickets = desk.client.get("/g/main/reports/export/tickets.csv", query_string=today)
    assert "X-Data-As-Of" not in tickets.headers and tickets.get_data(as_text=True).count("\n") == 3

    on_standby("SELECT pg_wal_replay_resume()")
    until(lambda: on_standby("SELECT count(*) FROM tickets") == 2, what="the standby to catch up")
    # Nothing written for a while (the requests above may have stamped a session): the last replayed commit
    # is older than the bound, and that is not lag.
    until(lambda: on_standby("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())") > LAG_BOUND,
          seconds=LAG_BOUND * 3, what="the last replayed commit to be older than the bound")
    assert report() == (2, 0)
    tickets = desk.client.get("/g/main/reports/export/tickets.csv", query_string=today)
    assert "X-Data-As-Of" in tickets.headers
    tickets.close()  # the download ends here (its replica session with it), not when the collector finds it

    standby.freeze()  # TCP still accepts, nothing answers
    started = time.monotonic()
    assert report() == (2, None)
    # The replica's own deadlines (REPLICA_CONNECT_TIMEOUT: ~1.1 s here when the machine is idle), not
    # DB_REPLY_TIMEOUT's 30 s; the bound leaves room for a loaded machine (a CI run once took 5.8 s).
    assert time.monotonic() - started < 10
    assert report() == (2, None)  # asked again only after replica.RETRY_SECONDS
    standby.thaw()
