"""The database unreachable, in-process: which errors mean "unreachable or timed out"
(garage/persistence/outage.py), the 503 every route answers for them (garage/web.py), and the
error log's one traceback per burst. The real thing, a stopped and a frozen server under
gunicorn, is tests/db/test_outage.py."""
from __future__ import annotations

import logging
import sqlite3

import psycopg2
import pytest
import sqlalchemy as sa

from garage import persistence
from garage.extensions import db
from garage.persistence.outage import NoAnswer
from garage.web import ERROR_LOG, ErrorLog
from tests.helpers.db import counting
from tests.helpers.live import free_port
from tests.helpers.web import soup

REFUSED = sa.exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("connection refused"))
PANEL = {"HX-Request": "true", "X-Garage-Poll": "1"}


def wrap(orig: Exception, cls=sa.exc.OperationalError) -> sa.exc.DBAPIError:
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize("exc, outage", [
    (wrap(psycopg2.OperationalError("server closed the connection unexpectedly")), True),
    (wrap(NoAnswer("the database did not answer within 6 s")), True),
    (wrap(psycopg2.InterfaceError("connection already closed"), sa.exc.InterfaceError), True),
    (sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
    (wrap(sqlite3.OperationalError("database is locked")), True),
    (wrap(sqlite3.OperationalError("no such table: tickets")), False),
    (wrap(psycopg2.IntegrityError("duplicate key"), sa.exc.IntegrityError), False),
    (wrap(psycopg2.ProgrammingError("syntax error"), sa.exc.ProgrammingError), False),
    (sa.exc.NoResultFound(), False),
    (ValueError("not a database error"), False),
])
def test_what_counts_as_the_database_unavailable(exc, outage):
    assert persistence.unavailable(exc) is outage


@pytest.mark.postgres_only
def test_real_postgresql_errors_are_classified(app):
    with pytest.raises(sa.exc.OperationalError) as cut_off:  # SQLSTATE 57014: retry later
        db.session.execute(sa.text("SET LOCAL statement_timeout = 1; SELECT pg_sleep(0.2)"))
    db.session.rollback()
    assert persistence.unavailable(cut_off.value)
    with pytest.raises(sa.exc.ProgrammingError) as bug:  # a bug: 500
        db.session.execute(sa.text("SELECT no_such_column FROM garages"))
    db.session.rollback()
    assert not persistence.unavailable(bug.value)
    nobody = sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/postgres")
    with pytest.raises(sa.exc.OperationalError) as refused:
        nobody.connect()
    nobody.dispose()
    assert persistence.unavailable(refused.value)


@pytest.fixture
def outage(monkeypatch):
    """Every read of the settings row fails as when PostgreSQL is down."""
    def down(*args, **kwargs):
        raise REFUSED

    from garage.services import stats
    monkeypatch.setattr(stats, "get_settings", down)


def test_every_client_gets_a_503_it_understands(client, outage):
    api = client.get("/api/garage/occupancy")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.get_json() == {"message": "The garage's database is not answering. Please try again in a few seconds."}

    page = client.get("/g/main/lobby")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    html = soup(page)
    assert html.h1.get_text() == "Temporarily unavailable"
    assert "database is not answering" in html.find(attrs={"data-unavailable": True}).get_text()
    assert html.find("meta", attrs={"http-equiv": "refresh"})["content"] == "5"
    assert html.find("nav") is None  # rendered without looking up anyone

    panel = client.get("/g/main/lobby/panel", headers=PANEL)
    assert panel.status_code == 503 and panel.headers["Retry-After"] == "5"
    assert "<html" not in panel.get_data(as_text=True)
    assert soup(panel).find(attrs={"data-unavailable": True})


def test_a_database_bug_is_still_a_500(client, monkeypatch):
    def bug(*args, **kwargs):
        raise wrap(psycopg2.ProgrammingError("column does not exist"), sa.exc.ProgrammingError)

    from garage.services import stats
    monkeypatch.setattr(stats, "get_settings", bug)
    r = client.get("/api/garage/occupancy")
    assert r.status_code == 500 and "Retry-After" not in r.headers


def test_an_outage_logs_a_line_per_request_and_one_traceback(app, client, outage, caplog, monkeypatch):
    monkeypatch.setitem(app.extensions, ERROR_LOG, ErrorLog(app.logger, 60))  # nothing shown yet
    with caplog.at_level(logging.ERROR):
        for _ in range(12):
            assert client.get("/g/main/lobby/panel", headers=PANEL).status_code == 503
    failed = [r for r in caplog.records if " -> 503: " in r.getMessage()]
    assert len(failed) == 12
    assert sum(1 for r in failed if r.exc_info) == 1
    assert "/g/main/lobby/panel -> 503: OperationalError: (psycopg2.OperationalError) connection refused" in failed[-1].getMessage()


def test_static_files_and_the_sign_in_page_send_no_statement(app, desk):
    """What must keep working in an outage touches no database, signed in or not."""
    with counting() as statements:
        assert desk.client.get("/static/css/app.css").status_code == 200
        assert desk.client.get("/static/js/lobby.js").status_code == 200
        assert app.test_client().get("/login").status_code == 200
    assert statements == []


def test_a_signed_in_person_gets_the_503_page_too(actions, monkeypatch):
    """Their session is read from the database that is down: the 503 page must not read it again."""
    actions.sign_in()
    real = db.session.execute

    def down(statement, *args, **kwargs):
        raise REFUSED

    monkeypatch.setattr(db.session, "execute", down)
    for url in ("/g/main/desk", "/g/main/permits", "/desk"):
        page = actions.client.get(url)
        assert page.status_code == 503, (url, page.status_code)
        assert page.headers["Retry-After"] == "5"
        assert soup(page).h1.get_text() == "Temporarily unavailable"
    monkeypatch.setattr(db.session, "execute", real)
    assert actions.client.get("/g/main/desk").status_code == 200  # back, and still signed in


@pytest.mark.parametrize("failure, status", [(REFUSED, 200), (wrap(psycopg2.ProgrammingError("no such column"),
                                                                     sa.exc.ProgrammingError), 500)],
                         ids=["database gone", "a bug"])
def test_a_payment_taken_just_before_the_database_went_is_shown_as_taken(desk, monkeypatch, failure, status):
    """An outside check killed the database's connections while paying at the desk: the payment was
    committed (receipt number drawn), then reading the desk's counters for the answer failed and the
    attendant saw "try again" for a car already paid. The receipt (and an entry's ticket) is shown; the
    counters catch up at their next poll. A bug there is still a 500."""
    from garage.models import Ticket
    from garage.services import stats

    number = desk.issue("GONE 1")
    amount = desk.quote(number)

    def down(*args, **kwargs):
        raise failure

    monkeypatch.setattr(stats, "garage_stats", down)
    r = desk.pay(number, "Cash", expected=amount, htmx=True)
    assert r.status_code == status
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))
    assert ticket.status == "completed" and ticket.receipt_number is not None  # taken once, whatever the answer
    if status == 200:
        page = soup(r)
        assert page.select_one("[data-receipt-number]") is not None
        assert "Paid $10.00" in page.select_one(".paid-banner").get_text()
        assert page.select_one("#desk-live") is None  # no counters this time: the next poll brings them
        assert "desk-changed" in r.headers["HX-Trigger"]
        entry = desk.enter("GONE 2", htmx=True)  # the same for an entry: its ticket, not a 503
        assert entry.status_code == 200 and "GONE 2" in soup(entry).get_text()
    db.session.remove()
    db.session.rollback()


@pytest.mark.postgres_only
@pytest.mark.parametrize("action", ["entry", "payment"])
def test_an_entry_or_payment_committed_just_before_the_database_went_shows_its_ticket(desk, monkeypatch, action):
    """A second outside check killed the connections while issuing at the desk: 1 in 6 entries answered
    503 (and some 500) for a ticket already issued, the card's times being read after the commit. Here every
    statement after the commit fails as from a server gone: the answer is the ticket or the receipt."""
    from garage.models import Ticket
    from tests.helpers.db import before_each_statement

    number = desk.issue("GONE 3") if action == "payment" else None
    amount = desk.quote(number) if number else None
    gone = {"after_commit": False}
    real_commit = db.session.commit

    def commit_then_go(*args, **kwargs):
        real_commit(*args, **kwargs)
        gone["after_commit"] = True

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if gone["after_commit"]:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(db.session, "commit", commit_then_go)
    with before_each_statement(refuse):
        r = desk.pay(number, "Cash", expected=amount, htmx=True) if number else desk.enter("GONE 4", htmx=True)
    monkeypatch.undo()
    db.session.remove()
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    page = soup(r)
    if number:
        assert page.select_one("[data-receipt-number]") is not None
    else:
        issued = db.session.scalar(sa.select(Ticket.ticket_number).where(Ticket.license_plate == "GONE 4"))
        assert issued is not None and issued in page.get_text()
