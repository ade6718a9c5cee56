"""Settings and pricing rules are read once per request (garage.services.settings):
what a request reads after it changed them must still be what it changed.
The services are called inside a request context, as a view calls them."""
from __future__ import annotations

from datetime import timedelta

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.services import settings as settings_service
from garage.services import stats as stats_service
from garage.services import tickets as ticket_service
from garage.identity import Actor
from tests.helpers.db import counting
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def test_the_settings_row_is_read_once_per_request(app):
    with app.test_request_context("/g/main/desk"), counting() as seen:
        tz = settings_service.get_settings(MAIN).timezone
        for _ in range(3):
            assert settings_service.get_settings(MAIN).timezone == tz
    assert sum("FROM garages" in s for s in seen) == 1


def test_the_counter_a_request_reads_after_its_own_exit_is_the_new_one(app):
    actor = Actor.system()
    number = ticket_service.issue_ticket(MAIN, "READ 1", "Car", actor).ticket_number
    db.session.remove()
    with app.test_request_context("/g/main/desk/tickets/x/exit", method="POST"):
        assert stats_service.garage_stats(MAIN).occupancy.occupied == 1  # read before the exit...
        ticket_service.process_exit(MAIN, number, "Cash", actor, now=utcnow() + timedelta(minutes=30))
        assert stats_service.garage_stats(MAIN).occupancy.occupied == 0  # ...and after it: the new count
        assert ticket_service.issue_ticket(MAIN, "READ 2", "Car", actor) is not None
        assert stats_service.garage_stats(MAIN).occupancy.occupied == 1  # after an entry too


def test_rules_changed_in_a_request_are_the_rules_it_reads_afterwards(app):
    with app.test_request_context("/g/main/settings", method="POST"):
        assert settings_service.current_tariff(MAIN).hourly_rate_cents == 1000
        settings_service.update_settings(MAIN, Actor.system(), hourly_rate=1500, vehicle_rates={"SUV": 2000})
        tariff = settings_service.current_tariff(MAIN)
        assert tariff.hourly_rate_cents == 1500 and tariff.rate_for("SUV") == 2000
