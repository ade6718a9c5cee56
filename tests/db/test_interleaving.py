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
