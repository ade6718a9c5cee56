"""Issue 18: a correction committed between another desk's read and its write (both databases,
deterministic: the other desk's request runs at exactly that point, in a worker of its own)."""
from __future__ import annotations

import pytest

from garage.domain.errors import CorrectedMeanwhile
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.services import amendments
from garage.services.settings import update_settings
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import audit_events, ticket


@pytest.fixture
def ann(make_user) -> Actor:
    return Actor(make_user("ann", "attendant").id, "ann")


@pytest.fixture
def boss(make_user) -> Actor:
    return Actor(make_user("boss", "manager").id, "boss")


def meanwhile(app, monkeypatch, target, name, other):
    """Patch `target.name` so that, once, `other()` runs in another worker right after it."""
    real = getattr(target, name)

    def patched(*args, **kwargs):
        found = real(*args, **kwargs)
        monkeypatch.setattr(target, name, real)
        with app.app_context():  # the other desk's worker
            other()
            db.session.remove()
        return found

    monkeypatch.setattr(target, name, patched)


def test_a_payment_priced_before_a_type_correction_is_refused_not_charged_at_the_old_type(app, ann, boss,
                                                                                          monkeypatch):
    """The exit read a Car ($10); the manager corrects it to a Van ($20) before the exit writes: the
    exit charges nothing (409, quote again) and the next exit charges the Van's fee."""
    from garage.persistence import store

    update_settings(MAIN, boss, vehicle_rates={"Van": 2000})
    number = issue_ticket(MAIN, "RACE 1", "Car", ann).ticket_number
    meanwhile(app, monkeypatch, type(store()), "exit_inputs",
              lambda: amendments.correct_ticket(MAIN, number, boss, vehicle_type="Van", reason="a van"))
    with pytest.raises(CorrectedMeanwhile):
        process_exit(MAIN, number, "Cash", ann)
    monkeypatch.undo()
    now = ticket(number)
    assert (now.status, now.vehicle_type, now.receipt_number) == ("active", "Van", None)
    assert audit_events("ticket.paid", number) == []
    assert db.session.get(Garage, MAIN).occupied == 1
    assert process_exit(MAIN, number, "Cash", ann).amount_paid == 2000


def test_a_void_after_a_correction_records_the_ticket_as_it_was_voided(app, ann, boss, monkeypatch):
    number = issue_ticket(MAIN, "TYPO 1", "Car", ann).ticket_number
    meanwhile(app, monkeypatch, amendments, "find_ticket",
              lambda: amendments.correct_ticket(MAIN, number, boss, license_plate="TYPO 2", reason="typo"))
    voided = amendments.void_ticket(MAIN, number, ann, "never entered")
    monkeypatch.undo()
    assert (voided.status, voided.license_plate) == ("voided", "TYPO 2")
    assert audit_events("ticket.voided", number)[0].details["plate"] == "TYPO 2"

