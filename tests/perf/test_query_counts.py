"""SQL statements per request: no N+1, no cost that grows with the data, and
fixed upper bounds for the hot paths (entry and exit are one short
transaction each). Counted with SQLAlchemy's before_cursor_execute event, so
every statement sent to the database counts (savepoints too; the pool's
pre-ping, BEGIN and COMMIT are not statements of ours and are not counted).

To cover a new page or endpoint, add one line to REQUESTS, for instance:

    Req("desk live panel", "GET", "/g/main/desk/live", auth="session", headers=HTMX, most=3),
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.services import tickets as ticket_service
from garage.identity import Actor
from tests.helpers.db import counting, empty_tables
from tests.helpers.web import HTMX, sign_in
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


@dataclass(frozen=True)
class Req:
    name: str
    method: str
    path: str  # "{ticket}": the number of an active ticket that exists in every data set
    auth: str = "none"  # none | token | manager-token | session | manager-session
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    most: int = 10  # upper bound on statements for this request
    postgresql_most: int | None = None  # a tighter bound on PostgreSQL, if any
    first_most: int | None = None  # the first such request does more (reports: the day's rollups); `most` after it
    status: int = 200


REQUESTS = [
    Req("status", "GET", "/api/status", most=1),
    Req("occupancy", "GET", "/api/garage/occupancy", most=1),
    Req("stats", "GET", "/api/garage/stats", auth="token", most=3),
    # activities and a lookup: + the garage's row, for the currency of their amounts (issue 22)
    Req("activities", "GET", "/api/activities?limit=100", auth="token", most=3),
    Req("lookup", "GET", "/api/tickets/{ticket}", auth="token", most=3),
    # quote and exit also read the per-vehicle-type rates (one small table, pricing rules)
    Req("quote", "GET", "/api/tickets/{ticket}/quote", auth="token", most=4),
    # The hot paths: token check + the permit the plate is on (with the garage's timezone and policy,
    # issue 19) + INSERT ticket + INSERT audit + UPDATE counter (on PostgreSQL all five are one prepared
    # statement: EXECUTE, after a PREPARE on a connection's first entry).
    Req("entry", "POST", "/api/tickets", auth="token", json={"licensePlate": "NEW 1", "vehicleType": "Car"},
        most=5, postgresql_most=1, status=201),
    # ONE SELECT (token's owner, ticket, settings, rate) + UPDATE counter and receipt number + guarded
    # UPDATE + INSERT audit (on PostgreSQL the three writes are one prepared statement, PREPAREd once
    # per connection).
    Req("exit", "PUT", "/api/tickets/{ticket}/exit", auth="token", json={"paymentMethod": "Cash"}, most=4,
        postgresql_most=2),
    # A garage's own paths cost what the seed's do: the token's lookup (the entry's statement, the
    # exit's SELECT) resolves the slug too.
    Req("entry per garage", "POST", "/api/garages/main/tickets", auth="token",
        json={"licensePlate": "NEW 1", "vehicleType": "Car"}, most=5, postgresql_most=1, status=201),
    Req("exit per garage", "PUT", "/api/garages/main/tickets/{ticket}/exit", auth="token",
        json={"paymentMethod": "Cash"}, most=4, postgresql_most=2),
    # With an Idempotency-Key (issue 20; none sent above: those bounds are the same as without the feature):
    # + ONE statement first (the token's owner, the key's kept answer and, on PostgreSQL, the key's advisory
    # lock; the use case then runs for the caller it found: no token check of its own) + ONE INSERT of the
    # answer in the use case's transaction (tests/api/test_idempotency.py: a replay is the first statement alone).
    Req("entry with a key", "POST", "/api/tickets", auth="token", json={"licensePlate": "NEW 1", "vehicleType": "Car"},
        headers={"Idempotency-Key": "perf-entry"}, most=6, postgresql_most=3, status=201),
    Req("exit with a key", "PUT", "/api/garages/main/tickets/{ticket}/exit", auth="token",
        json={"paymentMethod": "Cash"}, headers={"Idempotency-Key": "perf-exit"}, most=6, postgresql_most=4),
    Req("stats per garage", "GET", "/api/garages/main/garage/stats", auth="token", most=3),
    Req("settings", "GET", "/api/garage/settings", auth="manager-token", most=4),
    # Pages: the desk and its polled fragments, the lobby's polled panel.
    # desk page: user, settings (once per request), counts, cars inside, rules (settings as committed +
    # vehicle rates, once for the list and the rates panel), activity, today's figures, and the
    # person's garages (a "Switch garage" link for someone with several). The garage's row is read
    # with its slug (garages_web.resolve), so the settings cost nothing more.
    Req("desk page", "GET", "/g/main/desk", auth="session", most=8),
    Req("desk live panel", "GET", "/g/main/desk/live", auth="session", headers=HTMX, most=2),
    Req("desk activity", "GET", "/g/main/desk/activity", auth="session", headers=HTMX, most=2),
    Req("desk cars inside", "GET", "/g/main/desk/inside", auth="session", headers=HTMX, most=5),
    # the desk's lookup: user, ONE statement for the number or the plate's latest ticket, the rules
    # for the quote (settings as committed + vehicle rates), the settings row (the time zone of the times shown)
    Req("desk lookup by plate", "GET", "/g/main/desk/exit?q=car-1", auth="session", headers=HTMX, most=4),
    Req("desk lookup by number", "GET", "/g/main/desk/exit?q={ticket}", auth="session", headers=HTMX, most=4),
    Req("desk activity, more", "GET", "/g/main/desk/activity?rows=50", auth="session", headers=HTMX, most=2),
    Req("lobby page", "GET", "/g/main/lobby", most=2),
    Req("lobby panel", "GET", "/g/main/lobby/panel", headers=HTMX, most=1),
    # Reports (last 30 days): a fixed set of grouped scans, however many tickets. Measured on
    # PostgreSQL (SQLite one fewer: no work_mem set_config): page 13, chart 9 (issue 21: the rolled-up days
    # read from report_days, _hours, _stays, _breakdowns, _months, today from the tickets). The first
    # report after a day ended also rolls up the days it lacks (14 statements more, however many days) and
    # sums the stays and breakdowns of the whole months they complete (page only: 2, and 4 per month: at
    # most 2 in the 61 days of a month and the one before; `first_most`): page 34 with one month, 38 with
    # two; chart 23.
    Req("reports page", "GET", "/g/main/reports", auth="manager-session", most=12, first_most=37),
    Req("occupancy chart", "GET", "/g/main/reports/charts/occupancy.svg", auth="manager-session", most=8,
        first_most=22),
    # Permits (issue 19): the list (count, page, plates, cars inside) and the report (counts, renewals due,
    # sales by method, ONE statement for the tickets of the period), however many tickets.
    Req("permits page", "GET", "/g/main/permits", auth="manager-session", most=7),
    Req("permits report", "GET", "/g/main/permits/report", auth="manager-session", most=11),
]


def fill(active: int, completed: int) -> str:
    """`active` cars inside and `completed` of today's exits; returns an active ticket's number."""
    actor = Actor(None, "fixture", None)
    earlier = utcnow() - timedelta(hours=3)
    numbers = [ticket_service.issue_ticket(MAIN, f"CAR {i}", "Car", actor, now=earlier).ticket_number
               for i in range(active + completed)]
    for number in numbers[active:]:
        ticket_service.process_exit(MAIN, number, "Cash", actor)
    db.session.remove()
    return numbers[0]


@pytest.fixture(autouse=True)
def reports_computed_every_time(app, monkeypatch):
    """What a report costs to compute, not to serve as kept (garage/reports/cache.py: its own count in
    tests/web/test_report_cache.py): no report kept, so every request here computes it."""
    monkeypatch.setitem(app.config, "REPORT_CACHE_ENTRIES", 0)
    app.extensions.pop("garage.report_cache", None)
    yield
    app.extensions.pop("garage.report_cache", None)


def start_over(app) -> None:
    """Empty tables (as the app fixture does). The test client's requests share the
    test's app context, hence its session: end its transaction first."""
    from garage.services.settings import ensure_settings

    db.session.remove()
    empty_tables()
    ensure_settings()


def statements_for(req: Req, client, headers: dict[str, str], ticket: str) -> list[str]:
    with counting() as statements:
        r = client.open(req.path.format(ticket=ticket), method=req.method, json=req.json,
                        headers={**headers, **req.headers})
    assert r.status_code == req.status, (req.name, r.status_code, r.get_data(as_text=True)[:300])
    db.session.remove()  # as at the end of a real request
    # A PREPARE goes out once per pooled connection, not per request (tests/db/test_prepared.py).
    return [s for s in statements if not s.startswith("PREPARE ")]


def auth_headers(req: Req, client, token_for, make_user) -> dict[str, str]:
    if req.auth == "token":
        return token_for("attendant")
    if req.auth == "manager-token":
        return token_for("manager")
    if req.auth in ("session", "manager-session"):
        role = "manager" if req.auth == "manager-session" else "attendant"
        make_user(f"q{role}", role)
        r = sign_in(client, f"q{role}")
        assert r.status_code == 303, r.get_data(as_text=True)
    return {}


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.name)
def test_statements_do_not_grow_with_data(req, app, token_for, make_user):
    """The same request costs the same number of statements with 3 tickets as with 30."""
    counts = []
    for active, completed in ((2, 1), (20, 10)):
        client = app.test_client()
        headers = auth_headers(req, client, token_for, make_user)
        ticket = fill(active, completed)
        statements_for(req, client, headers, ticket)  # warm: first-request work is not the point
        if req.method != "GET":  # a write needs fresh data to act on again
            start_over(app)
            headers = auth_headers(req, client, token_for, make_user)
            ticket = fill(active, completed)
        counts.append(len(statements_for(req, client, headers, ticket)))
        start_over(app)
    assert counts[0] == counts[1], f"{req.name}: {counts[0]} statements with 3 tickets, {counts[1]} with 30"


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.name)
def test_statements_stay_within_bound(req, app, token_for, make_user):
    client = app.test_client()
    headers = auth_headers(req, client, token_for, make_user)
    ticket = fill(5, 5)
    statements = statements_for(req, client, headers, ticket)
    if req.first_most is not None:
        assert len(statements) <= req.first_most, "\n".join([f"{req.name} (first): {len(statements)} > "
                                                             f"{req.first_most}", *statements])
        statements = statements_for(req, client, headers, ticket)
    most = req.most
    if db.engine.dialect.name == "postgresql" and req.postgresql_most is not None:
        most = req.postgresql_most
    assert len(statements) <= most, "\n".join([f"{req.name}: {len(statements)} > {most}", *statements])


@pytest.mark.parametrize("api", ["/api", "/api/garages/main"], ids=["seed path", "garage's path"])
def test_entry_and_exit_are_one_transaction_without_savepoints(app, client, staff, api):
    """The hot paths: no SAVEPOINT, no re-SELECT of what was just written; at a garage's own path too."""
    warm = client.post(f"{api}/tickets", json={"licensePlate": "WARM 1", "vehicleType": "Car"}, headers=staff)
    paid = client.put(f"{api}/tickets/{warm.get_json()['ticketNumber']}/exit", json={"paymentMethod": "Cash"},
                      headers=staff)
    assert (warm.status_code, paid.status_code) == (201, 200)  # PostgreSQL: PREPAREd, once per connection
    with counting() as statements:
        r = client.post(f"{api}/tickets", json={"licensePlate": "HOT 1", "vehicleType": "Van"}, headers=staff)
    assert r.status_code == 201 and r.get_json()["licensePlate"] == "HOT 1"
    number = r.get_json()["ticketNumber"]
    with counting() as exit_statements:
        r = client.put(f"{api}/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert r.status_code == 200 and r.get_json()["amountPaid"] == 1000 and r.get_json()["status"] == "completed"
    for sql in statements + exit_statements:
        assert "SAVEPOINT" not in sql.upper()
    verbs = [s.split()[0].upper() for s in statements]
    exit_verbs = [s.split()[0].upper() for s in exit_statements]
    if db.engine.dialect.name == "postgresql":
        # ONE prepared statement: token check (and the garage a path names) + UPDATE counter + INSERT ticket
        # + INSERT audit
        assert verbs == ["EXECUTE"], statements
        # ONE read: token's owner + ticket + settings + its vehicle type's rate (the prepared SELECT,
        # persistence/postgresql.py PREPARED_READS), then ONE statement: guarded UPDATE + counter + audit
        assert exit_verbs == ["EXECUTE", "EXECUTE"], exit_statements
        assert exit_statements[0].startswith("EXECUTE garage_exit_inputs_for_token ")
    else:
        # the token's owner, the plate's permit (with the garage's timezone and policy), the ticket, audit, counter
        assert verbs == ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE"], statements
        # counter + receipt number (UPDATE ... RETURNING), guarded UPDATE of the ticket, audit
        assert exit_verbs == ["SELECT", "UPDATE", "UPDATE", "INSERT"], exit_statements
        assert "garages" in exit_statements[1] and "RETURNING" in exit_statements[1]


@contextmanager
def autocommit_seen() -> Iterator[list[bool]]:
    """For each statement: was the DBAPI connection in autocommit (no BEGIN/COMMIT sent)?"""
    seen: list[bool] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_hot_paths_skip_begin_and_commit_and_hand_back_a_transactional_connection(app, client, staff, manager):
    """On PostgreSQL the entry and exit run each statement in autocommit (their
    writes are one statement each); the connection goes back to the pool in
    normal transactional mode, so the next request's multi-statement work is
    still one transaction."""
    postgres = db.engine.dialect.name == "postgresql"
    with autocommit_seen() as entry:
        r = client.post("/api/tickets", json={"licensePlate": "AUTO 1", "vehicleType": "Car"}, headers=staff)
    assert r.status_code == 201
    with autocommit_seen() as exit_:
        r = client.put(f"/api/tickets/{r.get_json()['ticketNumber']}/exit", json={"paymentMethod": "Cash"},
                       headers=staff)
    assert r.status_code == 200 and r.get_json()["amountPaid"] == 1000
    assert entry and exit_ and set(entry + exit_) == {postgres}
    db.session.remove()
    if postgres:
        with db.engine.connect() as conn:  # the pooled connection the requests used
            assert conn.connection.dbapi_connection.autocommit is False
    with autocommit_seen() as settings_change:
        r = client.put("/api/garage/settings", json={"hourlyRate": 1200}, headers=manager)
    assert r.status_code == 200 and r.get_json()["hourlyRate"] == 1200
    assert settings_change and not any(settings_change)


@pytest.mark.parametrize("req", [r for r in REQUESTS if r.path.startswith("/api/")], ids=lambda r: r.name)
def test_api_requests_leave_the_session_alone(req, app, token_for, make_user):
    """Bearer-token API calls never load a user from, or write, a session cookie."""
    client = app.test_client()
    headers = auth_headers(req, client, token_for, make_user)
    ticket = fill(1, 1)
    r = client.open(req.path.format(ticket=ticket), method=req.method, json=req.json, headers=headers)
    assert r.status_code == req.status
    assert "Set-Cookie" not in r.headers and r.vary.as_set() & {"cookie"} == set()


def test_a_garage_page_reads_the_signed_in_person_with_its_garage(app, make_user):
    """/g/<slug>/...: the garage the URL names and the person of the session, with their role there, are
    read in ONE statement (identity.garage_named), not one each; nothing reads either again."""
    client = app.test_client()
    make_user("onestep", "attendant")
    assert sign_in(client, "onestep").status_code == 303
    client.get("/g/main/desk/live", headers=HTMX)  # warm
    db.session.remove()
    with counting() as statements:
        r = client.get("/g/main/desk/live", headers=HTMX)
    assert r.status_code == 200 and "onestep" not in r.get_data(as_text=True)  # the panel, not a page
    assert "user_sessions" in statements[0] and "garages.slug" in statements[0], statements
    assert not any("user_sessions" in s or "garages.slug" in s for s in statements[1:]), statements
    assert len(statements) == 2, statements  # and the day's figures
