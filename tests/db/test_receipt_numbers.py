"""The receipt number's sequence under a real race on PostgreSQL, made deterministic: one
exit's statement holds its locks (its transaction still open) while a second exit is
seen waiting for them. A second payment of the same ticket must then match nothing
(no number drawn, no space freed twice); an exit of another ticket gets the next number."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.domain.errors import AlreadyProcessed
from garage.extensions import db
from garage.identity import Actor
from garage.persistence import store
from garage.services import tickets as ticket_service
from tests.helpers.db import ticket
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

pytestmark = pytest.mark.postgres_only
ACTOR = Actor(None, "race", None)


def close_and_hold(number: str):
    """Run the exit's statement for `number` in this session's transaction, left open."""
    now = utcnow()
    values = dict(status="completed", exit_time=now, duration_minutes=60, amount_paid=1000,
                  payment_method="Cash", last_event_at=now, lost=False, lost_fee_cents=None,
                  closed_by_id=None, updated_at=now)
    return store().close(ticket(number), values, {"amountCents": 1000}, ACTOR)


def pay_in_another_session(app, number: str) -> tuple[threading.Thread, dict]:
    """The service's exit of `number` in a thread (its own app context, session and connection)."""
    outcome: dict = {}

    def run() -> None:
        with app.app_context():
            try:
                outcome["ticket"] = ticket_service.process_exit(MAIN, number, "Cash", ACTOR)
                outcome["receipt"] = outcome["ticket"].receipt_number
            except AlreadyProcessed as exc:
                outcome["refused"] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_until_someone_waits_for_a_lock(seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            if waiting:
                return
            conn.rollback()  # pg_stat_activity is read once per transaction: look again in a new one
            time.sleep(0.02)
    raise AssertionError("the second exit never waited for the first one's lock")


def counters() -> tuple[int, int]:
    with db.engine.connect() as conn:
        return tuple(conn.execute(sa.text("SELECT receipt_seq, occupied FROM garages")).one())


def test_a_second_payment_of_the_same_ticket_waits_then_draws_no_number(app):
    number = ticket_service.issue_ticket(MAIN, "RACE 1", "Car", ACTOR).ticket_number
    db.session.commit()
    assert counters() == (0, 1)
    assert close_and_hold(number).number == 1
    thread, outcome = pay_in_another_session(app, number)
    wait_until_someone_waits_for_a_lock()
    db.session.commit()
    thread.join(10)
    assert "refused" in outcome, outcome
    assert counters() == (1, 0)  # one number drawn, one space freed
    assert ticket(number).receipt_number == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'ticket.paid'")).scalar() == 1


def test_an_exit_of_another_ticket_waits_for_the_counter_then_draws_the_next_number(app):
    first = ticket_service.issue_ticket(MAIN, "RACE 2", "Car", ACTOR).ticket_number
    second = ticket_service.issue_ticket(MAIN, "RACE 3", "Car", ACTOR).ticket_number
    db.session.commit()
    assert close_and_hold(first).number == 1
    thread, outcome = pay_in_another_session(app, second)
    wait_until_someone_waits_for_a_lock()
    db.session.commit()
    thread.join(10)
    assert outcome.get("receipt") == 2, outcome
    assert counters() == (2, 0)


def test_a_rolled_back_exit_gives_its_number_back(app):
    number = ticket_service.issue_ticket(MAIN, "RACE 4", "Car", ACTOR).ticket_number
    db.session.commit()
    assert close_and_hold(number).number == 1
    db.session.rollback()  # e.g. the connection failed before the commit
    assert counters() == (0, 1) and ticket(number).receipt_number is None
    assert ticket_service.process_exit(MAIN, number, "Cash", ACTOR).receipt_number == 1
