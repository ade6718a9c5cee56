"""Rate periods (issue 19) through the JSON API and the desk, on SQLite and PostgreSQL: the settings
accept and check them (422 naming the period, nothing saved), the quote names the rule that priced
the stay and equals the charge (also across a period's boundary), and the paid ticket and its
receipts keep the rule whatever the settings say later.

The clock is the real one: every window is built around the ticket's own entry (UTC garage)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from garage.domain.clock import utcnow
from tests.helpers.api import issue, pay, quote
from tests.helpers.db import audit_events, backdate, set_settings, ticket
from tests.helpers.staff import quoted_amount
from tests.helpers.web import soup, text


def hhmm(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M")


def night_around(entry: datetime, price: int = 800, name: str = "Night rate") -> dict:
    """A flat window the ticket's entry is inside, left by an hour from now."""
    return {"kind": "flat", "name": name, "priceCents": price, "enterFrom": hhmm(entry - timedelta(minutes=30)),
            "enterUntil": hhmm(entry + timedelta(minutes=30)), "leaveBy": hhmm(utcnow() + timedelta(hours=1))}


def put(client, manager, **body):
    return client.put("/api/garage/settings", json=body, headers=manager)


def parked(client, staff, plate: str, **ago) -> tuple[str, datetime]:
    number = issue(client, staff, plate)
    backdate(number, **ago)
    return number, ticket(number).entry_time


def test_the_settings_take_and_show_the_periods(client, manager):
    periods = [
        {"kind": "flat", "name": "Night rate", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "03:00",
         "leaveBy": "08:00"},
        {"kind": "flat", "name": "Early bird", "priceCents": 1500, "enterFrom": "06:00", "enterUntil": "09:00",
         "leaveFrom": "15:00", "leaveBy": "19:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
        {"kind": "hourly", "name": "Weekend rate", "rateCents": 500, "days": ["sat", "sun"]},
        {"kind": "event", "name": "Concert", "priceCents": 4000, "dates": ["2026-12-31"], "vehicleType": "Car"},
    ]
    r = put(client, manager, ratePeriods=periods, pricingChoice="first")
    assert r.status_code == 200, r.get_json()
    body = client.get("/api/garage/settings", headers=manager).get_json()
    assert [p["name"] for p in body["ratePeriods"]] == ["Night rate", "Early bird", "Weekend rate", "Concert"]
    assert body["ratePeriods"][1]["leaveFrom"] == "15:00" and body["ratePeriods"][3]["vehicleType"] == "Car"
    assert body["pricingChoice"] == "first"
    assert "Early bird: $15.00 for entering 06:00–09:00 (Monday to Friday) and leaving 15:00–19:00" in body["rates"]
    assert "The first flat price listed that applies is charged" in body["rates"]
    [event] = [e for e in audit_events("settings.changed")]
    assert event.details["after"]["pricingChoice"] == "first"
    assert [p["name"] for p in event.details["after"]["ratePeriods"]][0] == "Night rate"
    assert put(client, manager, ratePeriods=[]).get_json()["ratePeriods"] == []


@pytest.mark.parametrize("body, words", [
    ({"ratePeriods": [{"kind": "event", "name": "E", "priceCents": 100, "dates": ["2026-02-30"]}]},
     "Period 1: '2026-02-30' is not a date"),
    ({"ratePeriods": [{"kind": "hourly", "name": "W", "rateCents": 5},
                      {"kind": "hourly", "name": "w", "rateCents": 6}]}, "Period 2: another period has the name w"),
    ({"ratePeriods": [{"kind": "flat", "name": "N", "priceCents": 800, "enterFrom": "18:00",
                       "enterUntil": "18:00", "leaveBy": "08:00"}]}, "Period 1: the entry window must end"),
    ({"ratePeriods": [{"kind": "hourly", "name": "Standard rate", "rateCents": 5}]}, "Period 1: the name"),
    ({"ratePeriods": [{"kind": "weekly", "name": "W"}]}, "kind"),
    ({"ratePeriods": [{"kind": "flat", "name": "N", "priceCents": 800, "enterFrom": "25:00",
                       "enterUntil": "03:00", "leaveBy": "08:00"}]}, "enterFrom"),
    ({"ratePeriods": [{"kind": "hourly", "name": "W", "rateCents": 5, "days": ["funday"]}]}, "days"),
    ({"ratePeriods": "night"}, "ratePeriods"),
    ({"pricingChoice": "cheapest"}, "pricingChoice"),
    ({"pricingChoice": None}, "pricingChoice"),
])
def test_bad_periods_are_refused_with_a_message_and_nothing_is_saved(client, manager, body, words):
    r = put(client, manager, hourlyRate=1200, **body)
    assert r.status_code == 422 and words in r.get_json()["message"], r.get_json()
    settings = client.get("/api/garage/settings", headers=manager).get_json()
    assert settings["ratePeriods"] == [] and settings["hourlyRate"] == 1000 and settings["pricingChoice"] == "lowest"


def test_the_quote_names_the_flat_rule_and_equals_the_charge(client, staff, manager):
    number, entry = parked(client, staff, "NIGHT 1", hours=2)
    assert put(client, manager, ratePeriods=[night_around(entry)]).status_code == 200
    q = quote(client, staff, number)
    assert (q["amountDue"], q["priceRule"]) == (800, "Night rate")
    paid = pay(client, staff, number, expectedAmount=q["amountDue"]).get_json()
    assert (paid["amountPaid"], paid["priceRule"]) == (800, "Night rate")
    # later, whatever the rules say now, the ticket keeps what priced it
    put(client, manager, ratePeriods=[])
    again = client.get(f"/api/tickets/{number}", headers=staff).get_json()
    assert again["priceRule"] == "Night rate"
    assert audit_events("ticket.paid")[0].details["priceRule"] == "Night rate"


def test_lowest_or_first(client, staff, manager):
    number, entry = parked(client, staff, "FIRST 1", hours=2)
    dear, cheap = night_around(entry, 1800, "Evening"), night_around(entry, 600, "Night rate")
    put(client, manager, ratePeriods=[dear, cheap])
    assert quote(client, staff, number)["priceRule"] == "Night rate"
    put(client, manager, pricingChoice="first")
    q = quote(client, staff, number)
    assert (q["amountDue"], q["priceRule"]) == (1800, "Evening")
    assert pay(client, staff, number, expectedAmount=1800).get_json()["amountPaid"] == 1800


def test_a_stay_across_a_period_boundary_is_quoted_as_charged(client, staff, manager):
    """Two and a half hours: the first hour before the period starts, the next two inside it."""
    number, entry = parked(client, staff, "EVE 1", hours=2, minutes=30)
    period = {"kind": "hourly", "name": "Evening", "rateCents": 300, "start": hhmm(entry + timedelta(minutes=30)),
              "end": hhmm(entry + timedelta(hours=3))}
    put(client, manager, ratePeriods=[period])
    q = quote(client, staff, number)
    assert (q["amountDue"], q["billableHours"], q["priceRule"]) == (1600, 3, "Standard rate + Evening")
    paid = pay(client, staff, number, expectedAmount=q["amountDue"]).get_json()
    assert (paid["amountPaid"], paid["priceRule"]) == (1600, "Standard rate + Evening")


def test_a_period_for_one_vehicle_type_leaves_the_others_alone(client, staff, manager):
    car, entry = parked(client, staff, "CAR 1", hours=1, minutes=59)
    moto = issue(client, staff, "MOTO 1", "Motorcycle")
    backdate(moto, hours=1, minutes=59)
    put(client, manager, ratePeriods=[dict(night_around(entry), vehicleType="Motorcycle")])
    assert quote(client, staff, moto)["priceRule"] == "Night rate"
    assert (quote(client, staff, car)["amountDue"], quote(client, staff, car)["priceRule"]) == (2000, "Standard rate")


def test_a_ticket_paid_before_rate_periods_has_no_rule(client, staff):
    number = issue(client, staff, "OLD 1")
    assert pay(client, staff, number).status_code == 200
    # as migration 0013 leaves tickets paid before it
    from garage.extensions import db
    from garage.models import Ticket
    import sqlalchemy as sa
    db.session.execute(sa.update(Ticket).values(price_rule=None))
    db.session.commit()
    assert client.get(f"/api/tickets/{number}", headers=staff).get_json()["priceRule"] is None


# --- the desk ----------------------------------------------------------------------------------

def test_the_desk_quote_and_both_receipts_show_the_rule(desk):
    number = desk.issue("DESK 1")
    backdate(number, hours=2)
    set_settings(timezone="UTC", rate_periods=json.dumps([night_around(ticket(number).entry_time)]))
    page = soup(desk.lookup(number))
    assert text(page.select_one("#exit [data-price-rule]")) == "Night rate"
    assert quoted_amount(page) == 800
    r = desk.pay(number, "Cash", 800, htmx=True)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert text(soup(r).select_one("[data-price-rule]")) == "Night rate"
    set_settings(rate_periods="[]")  # the receipt printed later: as paid
    slip = soup(desk.client.get(f"/g/main/desk/tickets/{number}/receipt")).select_one(".slip")
    assert text(slip.select_one("[data-price-rule]")) == "Night rate"
    assert ticket(number).price_rule == "Night rate" and ticket(number).amount_paid == 800


def test_the_rates_panel_words_the_periods(desk):
    set_settings(rate_periods=json.dumps([{"kind": "hourly", "name": "Weekend rate", "rateCents": 500,
                                           "days": ["sat", "sun"]}]))
    panel = text(soup(desk.client.get("/g/main/desk")).select_one("#desk-rates"))
    assert "Weekend rate: $5.00 per started hour, all day, Saturday and Sunday" in panel


def test_openapi_documents_the_periods(client, manager):
    spec = client.get("/openapi.json", headers=manager).get_json()
    schemas = spec["components"]["schemas"]
    props = schemas["SettingsUpdate"]["properties"]
    assert "ratePeriods" in props and "pricingChoice" in props
    assert {"FlatPeriod", "HourlyPeriod", "EventPeriod"} <= set(schemas)
    assert set(schemas["FlatPeriod"]["required"]) == {"kind", "name", "priceCents", "enterFrom", "enterUntil", "leaveBy"}
    assert "priceRule" in schemas["QuoteResponse"]["properties"]
    assert "priceRule" in schemas["TicketResponse"]["properties"]
