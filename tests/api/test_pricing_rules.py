"""Pricing rules through the services and the JSON API, on SQLite and PostgreSQL:
each rule at exit, lost tickets in both modes, per-type rates, and rule
changes that apply to the next exit only."""
import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import Garage, Ticket, VehicleRate
from garage.services import settings as settings_service, tickets as ticket_service
from garage.identity import Actor
from tests.helpers.api import enter, pay, quote
from tests.helpers.db import audit_events, backdate
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

BOSS = Actor(None, "boss", "127.0.0.1")


def rules(client, manager, **body):
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def parked(client, staff, plate="ABC123", vehicle="Car", **ago) -> str:
    number = enter(client, staff, plate, vehicle).get_json()["ticketNumber"]
    backdate(number, **ago)
    return number


def test_defaults_keep_ten_dollars_per_started_hour(client, staff, manager):
    body = client.get("/api/garage/settings", headers=manager).get_json()
    assert body["graceMinutes"] == 0 and body["dailyMaximum"] is None and body["vehicleRates"] == {}
    assert body["lostTicketFee"] == 0 and body["lostTicketMode"] == "replace"
    assert body["rates"] == ["$10.00 per started hour"]
    number = parked(client, staff, minutes=61)
    q = quote(client, staff, number)
    assert (q["amountDue"], q["timeFee"], q["lostFee"], q["billableHours"]) == (2000, 2000, 0, 2)
    assert pay(client, staff, number).get_json()["amountPaid"] == 2000


def test_grace_period_is_free_and_one_minute_more_pays_from_entry(client, staff, manager):
    rules(client, manager, graceMinutes=10)
    inside = parked(client, staff, "FREE1", minutes=9)
    q = quote(client, staff, inside)
    assert q["amountDue"] == 0 and q["billableHours"] == 0
    paid = pay(client, staff, inside, expectedAmount=0).get_json()
    assert paid["status"] == "completed" and paid["amountPaid"] == 0
    assert paid["paymentMethod"] == "No charge"  # sent "Cash": no payment was taken, none is recorded
    late = parked(client, staff, "LATE1", minutes=11)
    assert quote(client, staff, late)["amountDue"] == 1000
    # Quoted free inside the grace period, paid after it ended: the $0.00 the attendant told the
    # driver is a quote like any other, so the payment is refused and nothing is charged.
    refused = pay(client, staff, late, expectedAmount=0)
    assert refused.status_code == 409 and "$10.00" in refused.get_json()["message"]
    assert db.session.scalar(sa.select(Ticket.status).where(Ticket.ticket_number == late)) == "active"
    assert pay(client, staff, late).get_json()["amountPaid"] == 1000


def test_daily_maximum_per_24_hours(client, staff, manager):
    rules(client, manager, dailyMaximum=4000)
    number = parked(client, staff, hours=29, minutes=30)  # one maximum + min(6 h, maximum)
    q = quote(client, staff, number)
    assert q["amountDue"] == 8000 and q["billableHours"] == 30
    assert pay(client, staff, number, expectedAmount=8000).get_json()["amountPaid"] == 8000
    assert rules(client, manager, dailyMaximum=None)["dailyMaximum"] is None  # null removes it


def test_rate_per_vehicle_type_and_fallback(client, staff, manager):
    body = rules(client, manager, vehicleRates={"Motorcycle": 500, "SUV": 1500})
    assert body["vehicleRates"] == {"SUV": 1500, "Motorcycle": 500} or \
        body["vehicleRates"] == {"Motorcycle": 500, "SUV": 1500}
    assert "Motorcycle: $5.00 per started hour" in body["rates"]
    moto = parked(client, staff, "MOTO1", "Motorcycle", hours=1, minutes=30)
    suv = parked(client, staff, "SUV1", "SUV", hours=1, minutes=30)
    van = parked(client, staff, "VAN1", "Van", hours=1, minutes=30)
    assert [pay(client, staff, n).get_json()["amountPaid"] for n in (moto, suv, van)] == [1000, 3000, 2000]
    # null: the type pays the default rate again; types not sent keep theirs
    body = rules(client, manager, vehicleRates={"Motorcycle": None})
    assert body["vehicleRates"] == {"SUV": 1500}
    assert db.session.get(VehicleRate, (MAIN, "Motorcycle")) is None


def test_lost_ticket_fee_instead_of_the_time_fee(client, staff, manager):
    rules(client, manager, lostTicketFee=5000, lostTicketMode="replace")
    number = parked(client, staff, hours=2, minutes=30)
    assert quote(client, staff, number)["amountDue"] == 3000        # not lost: the time fee
    q = quote(client, staff, number, lost="true")
    assert (q["amountDue"], q["timeFee"], q["lostFee"], q["lost"]) == (5000, 0, 5000, True)
    body = pay(client, staff, number, lost=True, expectedAmount=5000).get_json()
    assert body["amountPaid"] == 5000 and body["lost"] is True and body["lostFee"] == 5000
    db.session.expire_all()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))
    assert ticket.lost is True and ticket.lost_fee_cents == 5000 and ticket.amount_paid == 5000
    detail = audit_events("ticket.paid")[-1].details
    assert detail["lost"] is True and detail["lostFeeCents"] == 5000 and detail["timeFeeCents"] == 0


def test_lost_ticket_fee_added_to_the_time_fee(client, staff, manager):
    rules(client, manager, lostTicketFee=5000, lostTicketMode="add")
    number = parked(client, staff, hours=2, minutes=30)
    q = quote(client, staff, number, lost="1")
    assert (q["amountDue"], q["timeFee"], q["lostFee"]) == (8000, 3000, 5000)
    body = pay(client, staff, number, lost=True).get_json()
    assert body["amountPaid"] == 8000 and body["lostFee"] == 5000


def test_a_ticket_not_lost_records_no_lost_fee(client, staff, manager):
    rules(client, manager, lostTicketFee=5000, lostTicketMode="add")
    body = pay(client, staff, parked(client, staff, minutes=30)).get_json()
    assert body["amountPaid"] == 1000 and body["lost"] is False and body["lostFee"] is None


def test_lost_ticket_without_a_fee_pays_the_time_fee_and_is_recorded(client, staff):
    number = parked(client, staff, hours=1, minutes=30)
    body = pay(client, staff, number, lost=True).get_json()
    assert body["amountPaid"] == 2000 and body["lost"] is True and body["lostFee"] == 0


def test_lost_quote_that_changed_is_refused(client, staff, manager):
    rules(client, manager, lostTicketFee=5000)
    number = parked(client, staff, minutes=30)
    r = pay(client, staff, number, lost=True, expectedAmount=1000)  # quoted without "lost"
    assert r.status_code == 409 and "$50.00" in r.get_json()["message"]
    assert db.session.scalar(sa.select(Ticket.status).where(Ticket.ticket_number == number)) == "active"


@pytest.mark.parametrize("flag", ["maybe", "2"])
def test_bad_lost_flag_is_422(client, staff, flag):
    number = parked(client, staff, minutes=5)
    r = client.get(f"/api/tickets/{number}/quote?lost={flag}", headers=staff)
    assert r.status_code == 422 and "lost" in r.get_json()["message"]


def test_lost_must_be_a_boolean_in_the_exit_body(client, staff):
    number = parked(client, staff, minutes=5)
    r = pay(client, staff, number, lost="yes")
    assert r.status_code == 422 and "lost" in r.get_json()["message"]


def test_rule_change_applies_to_the_next_exit_only(client, staff, manager):
    before = parked(client, staff, "OLD1", hours=1, minutes=30)
    after = parked(client, staff, "NEW1", hours=1, minutes=30)
    assert pay(client, staff, before).get_json()["amountPaid"] == 2000
    rules(client, manager, hourlyRate=2500, graceMinutes=5, lostTicketFee=9900)
    # the ticket paid before keeps its amount, in the API and in the service's breakdown
    assert client.get(f"/api/tickets/{before}", headers=staff).get_json()["amountPaid"] == 2000
    paid = ticket_service.find_ticket(MAIN, before)
    assert ticket_service.quote_for(paid).amount_cents == 2000
    # the next exit uses the new rate
    assert pay(client, staff, after).get_json()["amountPaid"] == 5000


def test_quotes_never_use_a_cached_tariff(app, staff, client):
    """Another worker changes the rate while this session holds the settings row:
    the next quote still sees the new rate."""
    number = parked(client, staff, hours=1, minutes=30)
    ticket = ticket_service.find_ticket(MAIN, number)
    held = settings_service.get_settings(MAIN)
    assert held.hourly_rate == 1000 and ticket_service.quote_for(ticket).amount_cents == 2000
    with db.engine.begin() as other_worker:
        other_worker.execute(sa.text("UPDATE garages SET hourly_rate = 700"))
        other_worker.execute(sa.text("INSERT INTO vehicle_rates (garage_id, vehicle_type, hourly_rate) VALUES (1, 'Car', 300)"))
    assert ticket_service.quote_for(ticket).amount_cents == 600
    assert ticket_service.process_exit(MAIN, number, "Cash").amount_paid == 600


def test_settings_change_is_audited_with_before_and_after_of_what_changed(client, manager):
    rules(client, manager, graceMinutes=10, dailyMaximum=4000, vehicleRates={"Van": 1200}, totalSpaces=140)
    events = audit_events("settings.changed")
    assert len(events) == 1
    assert events[0].details == {
        "before": {"graceMinutes": 0, "dailyMaxCents": None, "vehicleRates": {}},
        "after": {"graceMinutes": 10, "dailyMaxCents": 4000, "vehicleRates": {"Van": 1200}},
    }
    rules(client, manager, graceMinutes=10)  # no change: nothing to audit
    assert len(audit_events("settings.changed")) == 1


@pytest.mark.parametrize("body, words", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"graceMinutes": -1}, "graceMinutes"),
    ({"dailyMaximum": 0}, "dailyMaximum"),
    ({"lostTicketMode": "double"}, "lostTicketMode"),
    ({"vehicleRates": {"Truck": 100}}, "vehicleRates"),
    ({"vehicleRates": {"Van": -5}}, "Van rate must be from $0.00"),
    ({"almostFullPercent": 0}, "almostFullPercent"),
    ({"garageName": ""}, "garageName"),
    ({"graceMinutes": None}, "graceMinutes: may not be null"),
    ({"vehicleRates": {"Van": 1200.5}}, "vehicleRates.Van"),
    ({"lostTicketFee": "50"}, "lostTicketFee"),
])
def test_invalid_settings_are_refused_and_change_nothing(client, manager, body, words):
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == 422 and words in r.get_json()["message"]
    assert audit_events("settings.changed") == []
    assert settings_service.current_tariff(MAIN) == settings_service.get_settings(MAIN).tariff()
    assert client.get("/api/garage/settings", headers=manager).get_json()["rates"] == ["$10.00 per started hour"]


def test_total_spaces_below_cars_inside_is_409_via_the_api(client, staff, manager):
    for plate in ("A1", "A2", "A3"):
        enter(client, staff, plate)
    r = client.put("/api/garage/settings", json={"totalSpaces": 2, "graceMinutes": 15}, headers=manager)
    assert r.status_code == 409 and "3 cars inside" in r.get_json()["message"]
    row = db.session.get(Garage, 1)
    db.session.refresh(row)
    assert row.total_spaces == 140 and row.grace_minutes == 0 and audit_events("settings.changed") == []


def test_attendants_cannot_change_rules(client, staff):
    r = client.put("/api/garage/settings", json={"graceMinutes": 60}, headers=staff)
    assert r.status_code == 403
    assert settings_service.current_tariff(MAIN).grace_minutes == 0


def test_service_reports_every_problem_at_once(app):
    from garage.domain.garage_settings import InvalidSettings
    with pytest.raises(InvalidSettings) as exc:
        settings_service.update_settings(MAIN, BOSS, hourly_rate=-1, grace_minutes=5000, occupied=0)
    assert set(exc.value.errors) == {"hourly_rate", "grace_minutes", "occupied"}


def test_service_trims_the_garage_name(app):
    settings_service.update_settings(MAIN, BOSS, garage_name="  Main Street  ")
    assert settings_service.get_settings(MAIN).garage_name == "Main Street"
