"""Reads from a replica where staleness is harmless (garage/persistence/replica.py), with the replica
simulated: a second throw-away PostgreSQL database that a read-only role may only read, holding the
primary's rows as they were a moment ago (the primary has moved on since), so every answer tells which
database it came from. The reports page, its charts, every CSV export and the portfolio read the
replica and say how old their figures are; the desk, the lobby, entries, exits, quotes, settings,
shifts and the API never touch it; no replica, or one that is down: the primary, no age, no 500.
A real streaming replica (its lag, the lag bound) is tests/db/test_replica_streaming.py."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage, Ticket
from garage.observability import metrics
from garage.persistence import replica
from garage.services import accounts
from garage.services import permits as permit_service
from garage.services.settings import ensure_settings
from tests.helpers import api
from tests.helpers.db import empty_tables, set_settings
from tests.helpers.garages import add_garage, make_admin
from tests.helpers.live import free_port, migrated_postgres
from tests.helpers.replica import app_with_replica, copy_rows, dispose, read_only_role
from tests.helpers.staff import StaffActions
from tests.helpers.web import PASSWORD, sign_in, soup, text

DAY = "2024-03-01"
PERIOD = {"from": DAY, "to": DAY}
AS_OF = re.compile(r"Figures as of (\d{1,2}):(\d{2}):(\d{2})(?: [AP]M)? \(replica, (\d+) s behind\)")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def paid(number: str, cents: int) -> None:
    """A ticket in at 09:00 and out at 10:00 UTC on DAY, paying `cents` cash."""
    entry = datetime.fromisoformat(f"{DAY} 09:00").replace(tzinfo=timezone.utc)
    db.session.add(Ticket(garage_id=MAIN, ticket_number=number, license_plate=number, plate_key=number,
                          vehicle_type="Car", entry_time=entry, exit_time=entry + timedelta(hours=1),
                          duration_minutes=60, amount_paid=cents, status="completed", payment_method="Cash",
                          last_event_at=entry + timedelta(hours=1)))
    db.session.commit()


def sell(holder: str, plate: str) -> None:
    today = utcnow().date()
    permit_service.create_permit(MAIN, Actor.system(), holder=holder, plates=[plate], valid_from=today,
                                 valid_until=today + timedelta(days=30), price_cents=9000)


# --- a primary and its simulated replica ---------------------------------------------------------

@pytest.fixture(scope="module")
def replica_database(tmp_path_factory):
    """The simulated replica: a migrated throw-away database (its admin URL) and the URL of a role
    that may only read it."""
    with migrated_postgres(str(tmp_path_factory.mktemp("replica-db"))) as (url, _):
        with read_only_role(url) as reader:
            yield url, reader


@pytest.fixture(scope="module")
def replica_app(postgres_database, replica_database, tmp_path_factory):
    app = app_with_replica(postgres_database, replica_database[1], str(tmp_path_factory.mktemp("instance")),
                           WTF_CSRF_ENABLED=True)
    with app.app_context():
        upgrade()
    yield app
    dispose(app)


@pytest.fixture
def garage(replica_app, postgres_database, replica_database):
    """The replica holds one paid ticket ($5.00) and one permit ("Early"); the primary has since taken
    another ($7.00: $12.00 in all) and sold another ("Late"). An admin, "root", may see everything."""
    with replica_app.app_context():
        empty_tables()
        ensure_settings()
        make_admin("root")
        paid("R-1", 500)
        sell("Early", "EARLY 1")
    copy_rows(postgres_database, replica_database[0])
    with replica_app.app_context():
        paid("P-2", 700)
        sell("Late", "LATE 1")
    return replica_app


@pytest.fixture
def root(garage):
    client = garage.test_client()
    assert sign_in(client, "root").status_code == 303
    return client


def revenue(page) -> str:
    return text(soup(page).select_one(".figure[data-figure='revenue_cents'] .value"))


def as_of(page) -> re.Match:
    """The page's "Figures as of ..." line, checked to be about now."""
    found = AS_OF.search(text(soup(page).select_one("#data-age")))
    assert found, text(page)
    shown = int(found[1]) % 12 * 3600 + int(found[2]) * 60 + int(found[3])  # the garage is in UTC
    now = utcnow()
    clock = now.hour % 12 * 3600 + now.minute * 60 + now.second
    assert min(abs(clock - shown), 12 * 3600 - abs(clock - shown)) < 120
    return found


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- what reads the replica ----------------------------------------------------------------------

@pytest.mark.postgres_only
def test_a_report_read_on_the_replica_builds_its_rollups_on_the_primary(root, garage, postgres_database,
                                                                       replica_database):
    """The report's catch-up of its rollups (services/rollups.py) is a write, which the read-only replica
    refuses: it is done on the primary, counting the primary's rows; the page still reads the replica
    (its own rows for the days whose rollups have not reached it), never a 500."""
    def day_rows(url: str) -> list[tuple]:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(
                    "SELECT exits, revenue_cents FROM report_days WHERE day = :day AND NOT dirty"), {"day": DAY})]
        finally:
            engine.dispose()

    page = root.get("/g/main/reports", query_string=PERIOD)
    assert page.status_code == 200 and revenue(page) == "$5.00"
    assert day_rows(postgres_database) == [(2, 1200)]  # built on the primary, from the primary's rows
    assert day_rows(replica_database[0]) == []  # nothing written on the replica
    assert revenue(root.get("/g/main/reports", query_string=PERIOD)) == "$5.00"  # and again: the same


@pytest.mark.postgres_only
def test_the_reports_page_reads_the_replica_and_says_how_old_its_figures_are(root, garage):
    page = root.get("/g/main/reports", query_string=PERIOD)
    assert page.status_code == 200
    assert revenue(page) == "$5.00"  # the primary says $12.00
    assert as_of(page)[4] == "0"  # a server not in recovery is current
    with garage.app_context():  # in the garage's language and formats (24-hour clock)
        set_settings(locale="de_DE", language="de")
    german = text(soup(root.get("/g/main/reports", query_string=PERIOD)).select_one("#data-age"))
    assert re.fullmatch(r"Zahlen mit Stand \d{2}:\d{2}:\d{2} \(Replikat, 0 s Rückstand\)", german), german
    with garage.app_context():
        set_settings(locale="en_US", language="")
    fragment = root.get("/g/main/reports", query_string=PERIOD, headers={"HX-Request": "true"})
    assert revenue(fragment) == "$5.00" and as_of(fragment)
    chart = root.get("/g/main/reports/charts/revenue.svg", query_string=PERIOD)
    assert chart.status_code == 200 and "5.00" in chart.get_data(as_text=True)
    assert "12.00" not in chart.get_data(as_text=True)


@pytest.mark.postgres_only
def test_every_csv_export_reads_the_replica_and_says_as_of_when(root):
    exports = {
        "/g/main/reports/export/rows.csv": PERIOD, "/g/main/reports/export/tickets.csv": PERIOD,
        f"/g/main/reports/close/{DAY}.csv": {}, "/g/main/reports/validations/report.csv": PERIOD,
        "/g/main/permits/holders.csv": {}, "/portfolio/export.csv": PERIOD,
    }
    got = {}
    for path, query in exports.items():
        r = root.get(path, query_string=query)
        assert r.status_code == 200 and r.mimetype == "text/csv", path
        assert STAMP.fullmatch(r.headers.get("X-Data-As-Of", "")), path
        stamp = datetime.strptime(r.headers["X-Data-As-Of"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert abs(utcnow() - stamp) < timedelta(minutes=2), path
        got[path] = rows(r)
    report_rows = got["/g/main/reports/export/rows.csv"]
    column = report_rows[0].index("revenue_usd")
    assert sum(float(line[column]) for line in report_rows[1:]) == 5.0
    assert [line[0] for line in got["/g/main/reports/export/tickets.csv"][1:]] == ["R-1"]
    close = {line[4]: line[6] for line in got[f"/g/main/reports/close/{DAY}.csv"][1:]}
    assert close["revenue_usd"] == "5.00"
    holders = got["/g/main/permits/holders.csv"]
    assert [line[holders[0].index("holder")] for line in holders[1:]] == ["Early"]
    portfolio = got["/portfolio/export.csv"]
    assert [line[portfolio[0].index("revenue_usd")] for line in portfolio[1:]] == ["5.00"]


@pytest.mark.postgres_only
def test_the_portfolio_reads_its_figures_from_the_replica_and_who_sees_it_from_the_primary(root, garage):
    page = root.get("/portfolio", query_string=PERIOD)
    assert page.status_code == 200
    assert text(soup(page).select_one("#portfolio-table [data-stat='revenue']")) == "$5.00"
    assert as_of(page)
    with garage.app_context():  # a garage opened a moment ago: not on the replica, on the page
        add_garage("new", name="Newly opened")
    page = root.get("/portfolio", query_string=PERIOD)
    assert [tr["data-slug"] for tr in soup(page).select("#portfolio-table tbody tr")] == ["main", "new"]


# --- what never reads the replica -------------------------------------------------------------------

@pytest.fixture
def replica_statements(garage):
    """Every statement sent to the replica while the test runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    engine = garage.extensions[replica.EXTENSION].engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.postgres_only
def test_what_decides_capacity_or_money_never_reads_the_replica(garage, replica_statements):
    def make_user(username, role, password=PASSWORD):
        with garage.app_context():
            accounts.create_user(username, password, role)

    desk = StaffActions(garage.test_client(), make_user)
    desk.sign_in("ann", "attendant")
    number = desk.issue("NEW 1")
    assert desk.lookup(number).status_code == 200
    assert desk.pay(number, expected=desk.quote(number)).status_code == 303
    for path in ("/g/main/desk", "/g/main/desk/shift", "/g/main/desk/exit?q=NEW1"):
        assert desk.client.get(path).status_code == 200, path
    lobby = garage.test_client().get("/g/main/lobby")
    assert lobby.status_code == 200
    manager = StaffActions(garage.test_client(), make_user)
    manager.sign_in("boss", "manager")
    assert manager.client.get("/g/main/settings").status_code == 200
    with garage.app_context():
        _, secret = accounts.create_token("ann")
    headers = {"Authorization": f"Bearer {secret}"}
    ticket = api.issue(desk.client, headers, "API 1")
    assert desk.client.get(f"/api/tickets/{ticket}/quote", headers=headers).status_code == 200
    assert replica_statements == []
    assert manager.client.get("/g/main/reports", query_string=PERIOD).status_code == 200
    assert replica_statements  # the replica was there all along


@pytest.mark.postgres_only
def test_a_write_on_the_replica_fails_loudly_and_is_not_retried_on_the_primary(garage):
    with garage.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            replica.read(lambda: db.session.execute(sa.update(Garage).values(garage_name="Written")))
        db.session.rollback()
        assert db.session.get(Garage, MAIN).garage_name != "Written"


@pytest.mark.postgres_only
def test_a_read_runs_in_a_session_of_its_own_and_a_recovery_conflict_reads_the_primary(garage, replica_database):
    reader = sa.engine.make_url(replica_database[1]).username
    who = sa.text("SELECT current_user")
    with garage.app_context():
        primary = db.session.scalar(who)
        assert replica.read(lambda: db.session.scalar(who))[0] == reader
        assert db.session.scalar(who) == primary  # the request's own session is back

        class Conflict(Exception):
            pgcode = replica.RECOVERY_CONFLICT  # "canceling statement due to conflict with recovery"

        def cancelled_on_the_replica():
            if db.session.scalar(who) == reader:
                raise sa.exc.OperationalError("SELECT", {}, Conflict())
            return "read on the primary"

        assert replica.read(cancelled_on_the_replica) == ("read on the primary", None)


# --- no replica, or one that is down ---------------------------------------------------------------

def test_without_a_replica_pages_and_files_say_nothing_about_one(app, manager_client):
    paid("P-1", 500)
    page = manager_client.get("/g/main/reports", query_string=PERIOD)
    assert revenue(page) == "$5.00" and soup(page).select_one("#data-age") is None
    assert "replica" not in text(page)
    csv_file = manager_client.get("/g/main/reports/export/tickets.csv", query_string=PERIOD)
    assert "X-Data-As-Of" not in csv_file.headers and len(rows(csv_file)) == 2


@pytest.fixture(scope="module")
def down_app(postgres_database, tmp_path_factory):
    """The replica's URL names a port nobody listens on."""
    nowhere = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/garage"
    app = app_with_replica(postgres_database, nowhere, str(tmp_path_factory.mktemp("down")))
    with app.app_context():
        upgrade()  # the session's database may be new in this test process (pytest -n): nothing else made it
    yield app
    dispose(app)


@pytest.mark.postgres_only
def test_a_replica_that_is_down_means_the_primary_and_no_500(down_app, caplog):
    with down_app.app_context():
        empty_tables()
        ensure_settings()
        make_admin("root")
        paid("P-1", 500)
        paid("P-2", 700)
    client = down_app.test_client()
    assert sign_in(client, "root").status_code == 303
    away = metrics.REPLICA_READS.labels("primary_unreachable")
    before = away._value.get()
    page = client.get("/g/main/reports", query_string=PERIOD)
    assert page.status_code == 200 and revenue(page) == "$12.00"
    assert soup(page).select_one("#data-age") is None and "replica" not in text(page)
    tickets = client.get("/g/main/reports/export/tickets.csv", query_string=PERIOD)
    assert tickets.status_code == 200 and "X-Data-As-Of" not in tickets.headers and len(rows(tickets)) == 3
    portfolio = client.get("/portfolio", query_string=PERIOD)
    assert portfolio.status_code == 200 and soup(portfolio).select_one("#data-age") is None
    assert away._value.get() == before + 3
    # The operator is told, once per pause (not once per read): a wrong URL or password is not silent.
    told = [r.getMessage() for r in caplog.records if r.name == "garage.replica"]
    assert len(told) == 1 and told[0].startswith("The replica (DATABASE_REPLICA_URL) failed, reading from the "
                                                 "primary for 10 s"), told



def test_a_replica_session_ended_while_the_replica_is_gone_neither_fails_nor_rolls_back():
    """A download closed late or never read to its end is finished by the garbage collector, where an error
    has nobody to tell: a replica that stopped answering makes its session's end drop the connections; any
    other error still shows."""
    import sqlalchemy as sa

    from garage.persistence import outage, replica

    class Session:
        def __init__(self, error):
            self.error, self.invalidated = error, False

        def close(self):
            if not self.invalidated:
                raise self.error

        def invalidate(self):
            self.invalidated = True

    gone = Session(sa.exc.OperationalError("ROLLBACK", {}, outage.NoAnswer("the database did not answer within 1 s")))
    replica._end(gone)
    assert gone.invalidated
    broken = Session(sa.exc.ProgrammingError("SELECT nothing", {}, Exception("a bug")))
    with pytest.raises(sa.exc.ProgrammingError):
        replica._end(broken)
