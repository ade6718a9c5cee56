"""Idempotency-Key on the API's entry and exit (issue 20), on SQLite and PostgreSQL through the Flask test
client: a retry with the same key gets the same answer (status and body, byte for byte) and does nothing
again; another request with the key is refused (422); keys are per caller and garage; refusals of the use
case are kept, answers before it are not; bad keys are 400; keys expire. A write whose connection is lost at
its COMMIT answers 503 and is never run again by the server: the client's retry with its key then
replays the committed answer, or runs it once. (Concurrent duplicates under gunicorn:
tests/db/test_idempotency_live.py; any interleaving of retries: the Hypothesis test at the end.)"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

import psycopg2
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings, strategies as st

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.models import IdempotencyKey, Ticket
from garage.services.settings import ensure_settings
from tests.helpers.api import api
from tests.helpers.db import audit_events, counting, empty_tables, set_settings, ticket_count
from tests.helpers.garages import add_garage, bearer, grant

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
CAR = {"licensePlate": "KEY 1", "vehicleType": "Car"}


def enter(client, headers, key: str | None, body=CAR, garage: str | None = None):
    return client.post(f"{api(garage)}/tickets", json=body, headers={**headers, **({KEY: key} if key else {})})


def leave(client, headers, key: str | None, number: str, garage: str | None = None, **extra):
    return client.put(f"{api(garage)}/tickets/{number}/exit", json={"paymentMethod": "Cash", **extra},
                      headers={**headers, **({KEY: key} if key else {})})


def kept_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))


def assert_replayed(first, again) -> None:
    """The same answer, byte for byte, marked as given again; the first one was not marked."""
    assert (again.status_code, again.data) == (first.status_code, first.data)
    assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    assert again.headers["Content-Type"] == "application/json"


# --- the same key, the same answer ---------------------------------------------------------

@pytest.mark.parametrize("garage", [None, "main"], ids=["seed path", "garage's path"])
def test_a_retried_entry_and_exit_answer_the_same_and_do_nothing_again(client, staff, garage):
    first = enter(client, staff, "entry-1", garage=garage)
    assert first.status_code == 201
    again = enter(client, staff, "entry-1", garage=garage)
    assert_replayed(first, again)
    number = first.get_json()["ticketNumber"]
    assert ticket_count() == 1 and len(audit_events("ticket.issued")) == 1

    paid = leave(client, staff, "exit-1", number, garage=garage)
    assert paid.status_code == 200 and paid.get_json()["receiptNumber"] == "R-000001"
    assert_replayed(paid, leave(client, staff, "exit-1", number, garage=garage))
    assert_replayed(paid, leave(client, staff, "exit-1", number, garage=garage))
    assert len(audit_events("ticket.paid")) == 1
    # without the key, or with a new one, the exit is an exit again: refused, the ticket is paid
    assert leave(client, staff, None, number, garage=garage).status_code == 409
    assert leave(client, staff, "exit-2", number, garage=garage).status_code == 409
    assert ticket_count() == 1 and len(audit_events("ticket.paid")) == 1


def test_the_drafts_quoted_key_is_the_same_key(client, staff):
    first = enter(client, staff, "8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert_replayed(first, enter(client, staff, '"8e03978e-40d5-43e8-bc93-6894a57f9324"'))
    assert ticket_count() == 1


def test_a_key_used_with_another_request_is_refused_and_changes_nothing(client, staff):
    first = enter(client, staff, "k")
    number = first.get_json()["ticketNumber"]
    for other in (lambda: enter(client, staff, "k", {"licensePlate": "KEY 2", "vehicleType": "Car"}),
                  lambda: enter(client, staff, "k", {**CAR, "vehicleType": "SUV"}),
                  lambda: enter(client, staff, "k", garage="main"),  # the same entry at another path
                  lambda: leave(client, staff, "k", number)):  # the entry's key on an exit
        r = other()
        assert r.status_code == 422 and "different request" in r.get_json()["message"], r.get_json()
        assert REPLAYED not in r.headers
    assert ticket_count() == 1 and db.session.get(Ticket, first.get_json()["id"]).status == "active"
    # the same body in another order and spacing is the same request
    again = client.post("/api/tickets", data='{ "vehicleType":"Car",  "licensePlate":"KEY 1" }',
                        content_type="application/json", headers={**staff, KEY: "k"})
    assert_replayed(first, again)


def test_keys_are_each_callers_own_at_each_garage(client, staff, token_for, make_user):
    other = token_for("attendant")
    assert enter(client, staff, "shared").status_code == 201
    second = enter(client, other, "shared", {"licensePlate": "KEY 2", "vehicleType": "Car"})
    assert second.status_code == 201 and REPLAYED not in second.headers
    # the same person at another garage: another garage's key
    north = add_garage("north")
    make_user("both", "attendant")
    grant("both", north)
    both = bearer("both")
    assert enter(client, both, "mine", {"licensePlate": "KEY 3", "vehicleType": "Car"}, garage="main"
                 ).status_code == 201
    there = enter(client, both, "mine", {"licensePlate": "KEY 3", "vehicleType": "Car"}, garage="north")
    assert there.status_code == 201 and REPLAYED not in there.headers
    assert ticket_count() == 4 and kept_rows() == 4


# --- which answers are kept -------------------------------------------------------------------

def test_a_refusal_is_kept_and_replayed_even_once_it_would_pass(client, staff):
    set_settings(total_spaces=1)
    inside = enter(client, staff, None, {"licensePlate": "IN 1", "vehicleType": "Car"}).get_json()["ticketNumber"]
    full = enter(client, staff, "late")
    assert full.status_code == 409 and full.get_json() == {"message": "Garage is full"}
    assert leave(client, staff, None, inside).status_code == 200  # a space is free now
    assert_replayed(full, enter(client, staff, "late"))  # the key's answer stands
    assert enter(client, staff, "later").status_code == 201  # a new key is a new request
    unknown = leave(client, staff, "nowhere", "PS-ZZZZZZ")
    assert unknown.status_code == 404
    assert_replayed(unknown, leave(client, staff, "nowhere", "PS-ZZZZZZ"))
    invalid = enter(client, staff, "bad-plate", {"licensePlate": "!!!", "vehicleType": "Car"})
    assert invalid.status_code == 422
    assert_replayed(invalid, enter(client, staff, "bad-plate", {"licensePlate": "!!!", "vehicleType": "Car"}))
    assert ticket_count() == 2


def test_answers_before_the_use_case_are_not_kept(client, staff):
    assert client.post("/api/tickets", json=CAR, headers={KEY: "early"}).status_code == 401  # no token
    assert client.post("/api/tickets", json=CAR, headers={KEY: "early", "Authorization": "Bearer gar_nope"}
                       ).status_code == 401
    assert enter(client, staff, "early", {"licensePlate": "KEY 1"}).status_code == 422  # body: field required
    assert enter(client, staff, "early", {"noSuchField": 1}).status_code == 422
    assert kept_rows() == 0
    ok = enter(client, staff, "early")
    assert ok.status_code == 201 and REPLAYED not in ok.headers


@pytest.mark.parametrize("raw, says", [
    ("", "is empty"), (" ", "may not hold a space"), ("a b", "may not hold a space"),
    ("tab\there", "may not hold U+0009"), ("é", "may not hold é (U+00E9)"),
    ("x" * 256, "is 256 characters long"), ('"' + "x" * 256 + '"', "is 256 characters long"), ('""', "is empty"),
    ('"abc', "may not hold a double quote"), ('ab"cd', "may not hold a double quote"),
    ("first,second", "holds a comma"), ("first, second", "holds a comma")])
def test_a_malformed_key_is_400_saying_what_is_wrong_and_nothing_is_done(client, staff, raw, says):
    r = client.post("/api/tickets", json=CAR, headers={**staff, KEY: raw})
    message = r.get_json()["message"]
    assert r.status_code == 400 and message.startswith(f"Idempotency-Key {says}") and "1 to 255" in message, message
    assert ticket_count() == 0 and kept_rows() == 0
    stranger = client.post("/api/tickets", json=CAR, headers={KEY: raw})
    assert stranger.status_code == 401  # a stranger hears nothing about the request before who it is


@pytest.mark.parametrize("key", ["x", "~" * 255, '"' + "q" * 255 + '"', "!#$%&'()*+-./:;<=>?@[\\]^_`{|}~"])
def test_keys_of_every_visible_ascii_character_up_to_255_are_accepted(client, staff, key):
    first = enter(client, staff, key)
    assert first.status_code == 201
    assert_replayed(first, enter(client, staff, key))


def test_keys_expire_after_the_ttl_and_are_purged(app, client, staff):
    assert app.config["IDEMPOTENCY_TTL_HOURS"] == 24
    first = enter(client, staff, "old")
    age = lambda hours: db.session.execute(  # noqa: E731
        sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=hours)))
    age(23)
    db.session.commit()
    assert_replayed(first, enter(client, staff, "old"))
    age(25)
    db.session.commit()
    # expired: the key is new again (a different request is no longer refused)
    other = enter(client, staff, "old", {"licensePlate": "KEY 2", "vehicleType": "Car"})
    assert other.status_code == 201 and REPLAYED not in other.headers
    assert_replayed(other, enter(client, staff, "old", {"licensePlate": "KEY 2", "vehicleType": "Car"}))
    assert enter(client, staff, "fresh", {"licensePlate": "KEY 3", "vehicleType": "Car"}).status_code == 201
    age(25)  # both rows
    db.session.commit()
    assert enter(client, staff, "fresh-two", {"licensePlate": "KEY 4", "vehicleType": "Car"}).status_code == 201
    result = app.test_cli_runner().invoke(args=["purge-idempotency"])
    assert result.exit_code == 0 and "Deleted 2 expired idempotency keys" in result.output
    db.session.expire_all()
    assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["fresh-two"]


# --- what it costs ---------------------------------------------------------------------------

def test_a_keyed_entry_and_exit_cost_two_statements_more_and_a_replay_one(client, staff):
    warm = enter(client, staff, "warm")  # PostgreSQL: PREPAREd once per connection
    assert leave(client, staff, "warm-exit", warm.get_json()["ticketNumber"]).status_code == 200
    with counting() as entry:
        first = enter(client, staff, "cost", {"licensePlate": "COST 1", "vehicleType": "Car"})
    with counting() as replay:
        enter(client, staff, "cost", {"licensePlate": "COST 1", "vehicleType": "Car"})
    with counting() as exit_:
        leave(client, staff, "cost-exit", first.get_json()["ticketNumber"])
    postgres = db.engine.dialect.name == "postgresql"
    first_verbs = [s.split()[0].upper() for s in entry]
    # the claim (token's owner + kept answer [+ the key's advisory lock]); the entry; the answer kept with it
    assert first_verbs[0] == "SELECT" and "idempotency_keys" in entry[0] and first_verbs[-1] == "INSERT"
    assert ("pg_try_advisory_xact_lock" in entry[0]) == postgres
    assert first_verbs == (["SELECT", "EXECUTE", "INSERT"] if postgres else
                           ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT"])
    assert len(replay) == 1 and "idempotency_keys" in replay[0]
    exit_verbs = [s.split()[0].upper() for s in exit_]
    # PostgreSQL: the key's claim, the exit's read and its writes (both prepared), the key's answer
    assert exit_verbs == (["SELECT", "EXECUTE", "EXECUTE", "INSERT"] if postgres else
                          ["SELECT", "SELECT", "UPDATE", "UPDATE", "INSERT", "INSERT"])


# --- a connection lost at the COMMIT (a failover) ------------------------------------------------

def lost_connection():
    """The error the driver raises when the server goes away (PostgreSQL: the connection dropped)."""
    if db.engine.dialect.name == "postgresql":
        return psycopg2.OperationalError("server closed the connection unexpectedly")
    return sqlite3.OperationalError("disk I/O error")


@contextmanager
def commit_lost(after: bool | None) -> Iterator[None]:
    """Inside, the first COMMIT fails as when the server goes away: after=True it reached the database
    first (the ticket is committed, the client hears 503), after=False it never did (nothing committed).
    None: nothing fails."""
    dialect = db.engine.dialect
    real = dialect.do_commit
    if after is None:
        yield
        return

    def failing(dbapi_connection):
        dialect.do_commit = real  # once
        if after:
            real(dbapi_connection)
        else:
            dbapi_connection.rollback()
        raise lost_connection()

    dialect.do_commit = failing
    try:
        yield
    finally:
        dialect.do_commit = real


@pytest.mark.parametrize("after", [True, False], ids=["committed, answer lost", "never committed"])
def test_an_entry_whose_commit_is_lost_answers_503_and_its_retry_issues_one_ticket(client, staff, after):
    with commit_lost(after), counting() as statements:
        lost = enter(client, staff, "failover")
    assert lost.status_code == 503 and "database is not answering" in lost.get_json()["message"]
    assert lost.headers["Retry-After"]
    writes = [s for s in statements if s.startswith(("EXECUTE garage_issue_ticket", "INSERT INTO tickets"))]
    assert len(writes) == 1  # never run again by the server
    assert ticket_count() == (1 if after else 0) and kept_rows() == (1 if after else 0)
    retry = enter(client, staff, "failover")
    assert retry.status_code == 201 and (retry.headers.get(REPLAYED) == "true") == after
    assert ticket_count() == 1
    number = db.session.scalar(sa.select(Ticket.ticket_number))
    assert retry.get_json()["ticketNumber"] == number


@pytest.mark.parametrize("after", [True, False], ids=["committed, answer lost", "never committed"])
def test_an_exit_whose_commit_is_lost_answers_503_and_its_retry_charges_once(client, staff, after):
    number = enter(client, staff, None).get_json()["ticketNumber"]
    with commit_lost(after):
        assert leave(client, staff, "pay-once", number).status_code == 503
    assert len(audit_events("ticket.paid")) == (1 if after else 0)
    retry = leave(client, staff, "pay-once", number)
    assert retry.status_code == 200 and retry.get_json()["receiptNumber"] == "R-000001"
    assert (retry.headers.get(REPLAYED) == "true") == after
    assert len(audit_events("ticket.paid")) == 1


# --- any interleaving of retries ---------------------------------------------------------------

# One step: an entry or an exit (of the plate's latest ticket), with one of three keys, of one of two
# plates, maybe with its COMMIT lost (after it reached the database, or before).
STEP = st.tuples(st.sampled_from(["enter", "leave"]), st.sampled_from(["k1", "k2", "k3"]),
                 st.sampled_from(["AA 1", "BB 2"]), st.sampled_from([None, None, "after", "before"]))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_any_sequence_of_retries_gives_each_key_one_outcome(app, client, token_for, steps):
    """Whatever is sent, in whatever order, with COMMITs lost in between: a key answers every request it is
    sent with the same (non-503) answer, replayed, or 422 for another request; only a request whose
    COMMIT was lost answers 503, and its retry replays what was committed or runs it once; every ticket
    issued and every payment is a key's kept answer (201 / 200), one per key."""
    db.session.remove()
    empty_tables()
    ensure_settings()
    staff = token_for("attendant")
    note(f"steps: {steps}")
    first: dict[str, tuple] = {}  # key -> the request its kept answer answers
    heard: dict[str, tuple[int, bytes]] = {}  # key -> that answer, once the client heard it
    for kind, key, plate, lost in steps:
        number = db.session.scalar(sa.select(Ticket.ticket_number).where(Ticket.license_plate == plate)
                                   .order_by(Ticket.id.desc()).limit(1))
        db.session.remove()
        if kind == "leave" and number is None:
            continue  # nothing to pay yet
        request = (kind, plate, number if kind == "leave" else None)
        with commit_lost(None if lost is None else lost == "after"):
            r = (enter(client, staff, key, {"licensePlate": plate, "vehicleType": "Car"}) if kind == "enter"
                 else leave(client, staff, key, number))
        db.session.remove()
        if key in first and first[key] != request:
            assert r.status_code == 422 and "different request" in r.get_json()["message"]
        elif r.status_code == 503:
            assert lost and key not in first  # only a COMMIT lost, and only where something was to be kept
            if lost == "after":
                first[key] = request  # kept, unheard
        elif key in first:
            assert r.headers[REPLAYED] == "true"
            assert (r.status_code, r.data) == heard.setdefault(key, (r.status_code, r.data))
        else:
            assert REPLAYED not in r.headers
            first[key], heard[key] = request, (r.status_code, r.data)
        kept = dict(db.session.execute(sa.select(IdempotencyKey.key, IdempotencyKey.status)).all())
        assert set(kept) == set(first)
        assert ticket_count() == sum(1 for k, status in kept.items() if first[k][0] == "enter" and status == 201)
        assert len(audit_events("ticket.paid")) == sum(
            1 for k, status in kept.items() if first[k][0] == "leave" and status == 200)
        db.session.remove()
