"""The rules the services enforce, called directly (both databases): where a refusal is
shown (the field) and what it says, a vehicle rate that is changed, not just set, and what
an exit records (the time it was given, who charged, how, not a lost ticket by default)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from garage.domain.errors import Conflict, InvalidInput, NotFound
from garage.domain.tickets import NOTHING_TO_FIND
from garage.identity import Actor
from garage.services.settings import current_tariff, current_vehicle_rates, get_settings, update_settings
from garage.services.tickets import find_active, find_inside_by_plate, issue_ticket, process_exit, quote_for
from tests.helpers.db import audit_events, set_settings, ticket
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def test_a_plate_already_inside_is_refused_under_the_plate_field_with_its_ticket(app):
    first = issue_ticket(MAIN, "ab-12 c", "Car")
    with pytest.raises(Conflict) as inside:
        issue_ticket(MAIN, "AB 12C", "SUV")
    # The car as it was stored at its entry (the one inside), not this second spelling.
    assert inside.value.message == f"AB-12 C is already inside on ticket {first.ticket_number}"
    assert inside.value.field == "licensePlate"


def test_a_lost_ticket_s_plate_that_is_not_inside_is_refused_under_the_plate_field(app):
    issue_ticket(MAIN, "XXXX", "Car")
    with pytest.raises(NotFound) as missing:
        find_inside_by_plate(MAIN, "NOPE 1")
    assert (missing.value.message, missing.value.field) == ("No car inside has that plate", "plate")


@pytest.mark.parametrize("typed", [None, "", " - ", "🚗🚙💥"])
def test_a_lost_ticket_search_with_nothing_of_a_plate_says_so_under_the_plate_field(app, typed):
    issue_ticket(MAIN, "XXXX", "Car")  # a car a blank search must not find
    with pytest.raises(InvalidInput) as nothing:
        find_inside_by_plate(MAIN, typed)
    assert (nothing.value.message, nothing.value.field) == (NOTHING_TO_FIND, "plate")
    with pytest.raises(InvalidInput) as nothing:
        find_active(MAIN, typed)  # the exit's lookup: under its own field
    assert (nothing.value.message, nothing.value.field) == (NOTHING_TO_FIND, "q")


def test_a_vehicle_rate_can_be_changed_and_removed(app):
    update_settings(MAIN, None, vehicle_rates={"Van": 1500})
    update_settings(MAIN, None, vehicle_rates={"Van": 1800, "SUV": 1200})
    assert current_vehicle_rates(MAIN) == {"SUV": 1200, "Van": 1800}
    assert current_tariff(MAIN).rate_for("Van") == 1800
    update_settings(MAIN, None, vehicle_rates={"Van": None})
    assert current_vehicle_rates(MAIN) == {"SUV": 1200}


def test_a_change_of_vehicle_rates_alone_stamps_the_settings_row_and_a_change_of_nothing_does_not(app, monkeypatch):
    """Open desks reload their rates and fees when the row's updated_at moves (stats.change_mark)."""
    from garage.services import settings

    first = get_settings(MAIN).updated_at
    later = first + timedelta(minutes=5)
    monkeypatch.setattr(settings, "utcnow", lambda: later)
    update_settings(MAIN, None)  # nothing to change: nothing written, no desk reloads
    assert get_settings(MAIN).updated_at == first
    update_settings(MAIN, None, vehicle_rates={"SUV": 777})  # no column of the row changes
    assert get_settings(MAIN).updated_at == later


def test_an_exit_charges_at_the_time_it_is_given_and_records_who_and_how(app, make_user):
    issued = issue_ticket(MAIN, "TIME 1", "Car")
    user = make_user("cashier", "attendant")
    later = issued.entry_time + timedelta(hours=2, minutes=30)
    paid = process_exit(MAIN, issued.ticket_number, "Debit Card", Actor(user.id, "cashier", "10.0.0.9"), now=later)
    assert (paid.amount_paid, paid.duration_minutes, paid.exit_time, paid.updated_at) == (3000, 150, later, later)
    assert (paid.lost, paid.lost_fee_cents, paid.closed_by_id) == (False, None, user.id)  # not a lost ticket
    stored = ticket(issued.ticket_number)
    assert (stored.updated_at, stored.lost) == (later, False)
    [event] = audit_events("ticket.paid", issued.ticket_number)
    assert (event.username, event.ip) == ("cashier", "10.0.0.9")
    assert event.details["paymentMethod"] == "Debit Card" and event.details["amountCents"] == 3000


def test_an_exit_uses_the_ticket_s_own_vehicle_rate(app):
    update_settings(MAIN, None, vehicle_rates={"Van": 1500})
    issued = issue_ticket(MAIN, "VAN 1", "Van")
    paid = process_exit(MAIN, issued.ticket_number, "Cash", now=issued.entry_time + timedelta(minutes=61))
    assert paid.amount_paid == 3000


@pytest.mark.parametrize("call, message", [
    (lambda: process_exit(MAIN, "PS-ZZZZZZ", "Cash"), "Ticket not found"),
    (lambda: find_active(MAIN, "NOPE 9"), "No ticket or car matches that number or plate"),
])
def test_what_is_not_there_is_said_plainly(app, call, message):
    issue_ticket(MAIN, "XXXX", "Car")  # a car a blank search must not find
    with pytest.raises(NotFound) as missing:
        call()
    assert missing.value.message == message


def test_within_one_request_a_rule_change_is_read_back_at_once(app):
    with app.test_request_context("/settings"):
        assert current_tariff(MAIN).hourly_rate_cents == 1000  # read, and kept for this request
        update_settings(MAIN, None, hourly_rate=1200)
        assert current_tariff(MAIN).hourly_rate_cents == 1200


def test_a_quote_is_for_a_ticket_in_hand_unless_it_is_said_lost_and_a_paid_one_keeps_its_lost_fee(app):
    set_settings(lost_ticket_fee_cents=2500, lost_ticket_mode="add")
    issued = issue_ticket(MAIN, "LOST 1", "Car")
    later = issued.entry_time + timedelta(minutes=30)
    assert quote_for(ticket(issued.ticket_number), later).amount_cents == 1000
    process_exit(MAIN, issued.ticket_number, "Cash", now=later, lost=True)
    paid = quote_for(ticket(issued.ticket_number))
    assert (paid.amount_cents, paid.time_fee_cents, paid.lost_fee_cents, paid.lost) == (3500, 1000, 2500, True)
    assert (paid.duration_minutes, paid.billable_hours) == (30, 1)  # the stay, as charged


def test_a_ticket_paid_the_minute_it_entered_shows_a_stay_of_0_minutes(app):
    issued = issue_ticket(MAIN, "QUICK 1", "Car")
    process_exit(MAIN, issued.ticket_number, "Cash", now=issued.entry_time)
    paid = quote_for(ticket(issued.ticket_number))
    assert (paid.duration_minutes, paid.amount_cents) == (0, 1000)


def test_a_settings_change_is_audited_against_the_settings_row(app):
    update_settings(MAIN, None, hourly_rate=1100)
    [event] = audit_events("settings.changed")
    assert (event.object_type, event.object_id) == ("garage_settings", "1")
    assert event.details == {"before": {"hourlyRate": 1000}, "after": {"hourlyRate": 1100}}


def test_a_settings_change_that_collides_with_another_asks_to_try_again(app, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from garage.services import settings

    def collide(garage_id, kind, rate):
        raise IntegrityError("INSERT INTO vehicle_rates", {}, Exception("duplicate key"))

    monkeypatch.setattr(settings, "_set_vehicle_rate", collide)
    with pytest.raises(Conflict) as collided:
        update_settings(MAIN, None, vehicle_rates={"Van": 1500})
    assert collided.value.message == "The settings were changed by someone else at the same moment; try again"
    assert current_vehicle_rates(MAIN) == {}


def test_after_an_exit_the_same_request_reads_the_freed_space(app):
    issued = issue_ticket(MAIN, "FREE 1", "Car")
    with app.test_request_context("/desk/pay"):
        assert get_settings(MAIN).occupied == 1  # the desk page has read the counter
        process_exit(MAIN, issued.ticket_number, "Cash")
        assert get_settings(MAIN).occupied == 0  # the panel rendered after the payment


def test_an_entry_records_who_issued_it_and_when(app, make_user):
    user = make_user("gate", "attendant")
    moment = datetime(2026, 3, 8, 9, 30, tzinfo=timezone.utc)
    issued = issue_ticket(MAIN, "WHO 1", "Car", Actor(user.id, "gate", None), now=moment)
    assert issued.issued_by_id == user.id  # the ticket card shown straight away, without a read back
    stored = ticket(issued.ticket_number)
    assert (stored.issued_by_id, stored.closed_by_id, stored.status, stored.lost) == (user.id, None, "active", False)
    assert stored.entry_time == stored.last_event_at == stored.created_at == stored.updated_at == moment
    assert (stored.exit_time, stored.amount_paid, stored.payment_method) == (None, None, None)
    [event] = audit_events("ticket.issued", issued.ticket_number)
    assert (event.username, event.user_id, event.details) == ("gate", user.id, {"plate": "WHO 1", "vehicleType": "Car"})


def test_a_ticket_number_already_taken_is_drawn_again(app, monkeypatch):
    from garage.services import tickets

    taken = issue_ticket(MAIN, "FIRST 1", "Car").ticket_number
    draws = iter([taken, taken, "PS-ABCDEF"])
    monkeypatch.setattr(tickets, "new_ticket_number", lambda: next(draws))
    assert issue_ticket(MAIN, "SECOND 2", "Car").ticket_number == "PS-ABCDEF"
    monkeypatch.setattr(tickets, "new_ticket_number", lambda: taken)
    with pytest.raises(Conflict) as exhausted:
        issue_ticket(MAIN, "THIRD 3", "Car")
    assert exhausted.value.message == "Could not allocate a ticket number, try again"
    assert [t.license_plate for t in map(ticket, [taken, "PS-ABCDEF"])] == ["FIRST 1", "SECOND 2"]


def test_the_first_entry_on_a_database_without_settings_creates_them_and_gets_its_space(app):
    from garage.extensions import db
    from garage.models import Garage

    db.session.execute(sa.delete(Garage))
    db.session.commit()
    issued = issue_ticket(MAIN, "FIRST 1", "Car")
    assert ticket(issued.ticket_number).status == "active"
    assert get_settings(MAIN).occupied == 1


def test_the_first_price_asked_of_a_new_database_creates_the_default_garage_at_the_default_rate(app):
    """A database whose garage row was never made (no `flask init` yet): the first quote or rates panel
    gets the default garage's rules ($10 per started hour), not "No such garage"."""
    from garage.extensions import db
    from garage.models import Garage
    from tests.helpers.db import empty_tables

    empty_tables()
    db.session.expire_all()
    assert db.session.get(Garage, MAIN) is None
    assert current_tariff(MAIN).hourly_rate_cents == 1000
    assert db.session.get(Garage, MAIN) is not None


def test_an_entry_or_exit_aborted_to_break_a_deadlock_runs_again(app, monkeypatch):
    """PostgreSQL aborts one side of an entry racing the exit of the same plate (40P01): nothing of it was
    written, so it runs again instead of answering 500; any other database error is not retried."""
    import psycopg2
    import sqlalchemy as sa
    from garage import persistence
    from garage.identity import Actor
    from garage.services import tickets

    class Deadlock(psycopg2.OperationalError):
        pgcode = "40P01"

    store = persistence.store()
    real_issue, real_close, calls = store.issue, store.close, []

    def once(real):
        def flaky(*args, **kwargs):
            calls.append(real.__name__)
            if calls.count(real.__name__) == 1:
                raise sa.exc.OperationalError("INSERT", {}, Deadlock("deadlock detected"))
            return real(*args, **kwargs)
        return flaky

    monkeypatch.setattr(store, "issue", once(real_issue))
    monkeypatch.setattr(store, "close", once(real_close))
    number = tickets.issue_ticket(1, "DEAD 1", "Car", Actor.system()).ticket_number
    paid = tickets.process_exit(1, number, "Cash", Actor.system())
    assert paid.amount_paid == 1000 and calls == ["issue", "issue", "close", "close"]

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, psycopg2.OperationalError("disk full"))

    monkeypatch.setattr(store, "issue", broken)
    with pytest.raises(sa.exc.OperationalError):
        tickets.issue_ticket(1, "DEAD 2", "Car", Actor.system())
