"""Pay-once and capacity when two use cases interleave, on both databases (the SQLite half
checks the portable store, garage/persistence/portable.py, which has no multi-worker test):
the second exit has read the ticket while it was still active, the first pays meanwhile. The
database's still-active guard must refuse the second: one charge, one space freed."""
from __future__ import annotations

import pytest

from garage.domain.errors import AlreadyProcessed, GarageFull
from garage.extensions import db
from garage.models import Garage
from garage.persistence import store
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import audit_events, set_settings, ticket
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def occupied() -> int:
    db.session.expire_all()
    return db.session.get(Garage, 1).occupied


def pay_meanwhile(app, monkeypatch, number: str) -> list[str]:
    """Patch the store so that the next exit, right after reading the ticket (still active),
    lets another exit of the same ticket run to its COMMIT in its own session first."""
    real = type(store()).exit_inputs
    paid: list[str] = []

    def stale_read(self, *args, **kwargs):
        found = real(self, *args, **kwargs)
        if not paid:
            paid.append("other desk")
            with app.app_context():  # a second session, as another worker's would be
                process_exit(MAIN, number, "Cash")
                db.session.remove()
        return found

    monkeypatch.setattr(type(store()), "exit_inputs", stale_read)
    return paid


def test_two_exits_of_one_ticket_on_stale_state_charge_once(app, monkeypatch):
    issued = issue_ticket(MAIN, "PAY ONCE", "Car")
    issue_ticket(MAIN, "OTHER 1", "Car")
    assert occupied() == 2
    paid = pay_meanwhile(app, monkeypatch, issued.ticket_number)
    with pytest.raises(AlreadyProcessed):
        process_exit(MAIN, issued.ticket_number, "Credit Card")
    assert paid == ["other desk"]
    closed = ticket(issued.ticket_number)
    assert (closed.status, closed.payment_method, closed.amount_paid) == ("completed", "Cash", 1000)
    assert len(audit_events("ticket.paid", issued.ticket_number)) == 1
    assert occupied() == 1  # one space freed, not two


def test_the_last_space_goes_to_one_entry_only(app):
    set_settings(total_spaces=2)
    issue_ticket(MAIN, "FIRST 1", "Car")
    issue_ticket(MAIN, "SECOND 2", "Car")
    with pytest.raises(GarageFull) as full:
        issue_ticket(MAIN, "THIRD 3", "Car")
    assert (full.value.message, full.value.field) == ("Garage is full", "licensePlate")
    assert occupied() == 2
    assert ticket("nothing") is None and len(audit_events("ticket.issued")) == 2


def test_a_single_use_code_given_twice_to_one_ticket_at_once_answers_both_desks_alike(app, make_user):
    """Two desks validate one car with the same single-use code at the same moment: the second read the
    ticket before the first committed, then finds the code used (by this very ticket). It is told what
    the first was (the ticket validated, its discount), not "the code has been used already"."""
    from garage.identity import Actor
    from garage.services import validations
    from garage.services.tickets import find_ticket

    boss = Actor(make_user("boss", "manager").id, "boss")
    validations.create_program(MAIN, boss, name="Once", kind="amount_off", value=100, codes=["ONCE-1"])
    number = issue_ticket(MAIN, "TWO DESKS", "Car").ticket_number
    stale = find_ticket(MAIN, number)  # the second desk's read: no validation yet
    with app.app_context():  # the first desk, in a session of its own, commits first
        validations.validate_ticket(MAIN, find_ticket(MAIN, number), "ONCE-1", boss)
        db.session.remove()
    answered = validations.validate_ticket(MAIN, stale, "ONCE-1", boss)
    assert answered.validations == 1 and [v.code_id for v in validations.on_ticket(answered)] != []
    db.session.expire_all()
    assert ticket(number).validations == 1
    # Another car with the used code is still refused (the answer above is only for the same ticket).
    other = issue_ticket(MAIN, "THIRD CAR", "Car").ticket_number
    with pytest.raises(Exception, match="used already"):
        validations.validate_ticket(MAIN, find_ticket(MAIN, other), "ONCE-1", boss)
