"""A garage's currency in the JSON API (issue 22), on SQLite and PostgreSQL: responses with amounts say
the currency; the seed's decimal fields are in its major unit with its own decimals (¥1000/h is
hourlyRate 1000, €10/h is 10.0, BHD 1.500/h is 1.5); ...Cents fields stay minor units; the settings
take the currency, locale, languages, legal name and tax mode, checked; and the currency is fixed once
the garage has a payment (409: the stored amounts are in it)."""
from __future__ import annotations

import pytest

from tests.helpers.api import issue, pay, quote
from tests.helpers.db import audit_events, set_settings


@pytest.mark.parametrize("currency, locale, rate, major", [
    ("JPY", "ja_JP", 1000, 1000), ("EUR", "de_DE", 1000, 10.0), ("BHD", "en_US", 1500, 1.5), ("USD", "en_US", 1000, 10.0),
])
def test_amounts_are_in_the_garage_s_currency_and_say_it(client, manager, currency, locale, rate, major):
    set_settings(currency=currency, locale=locale, hourly_rate=rate)
    stats = client.get("/api/garage/stats", headers=manager).get_json()
    assert stats["currency"] == currency and stats["hourlyRate"] == major and stats["todaysRevenue"] == 0
    number = issue(client, manager, "CUR 1")
    q = quote(client, manager, number)
    assert q["currency"] == currency and q["amountDue"] == rate  # minor units
    paid = pay(client, manager, number)
    assert paid.status_code == 200 and paid.get_json()["currency"] == currency
    assert paid.get_json()["amountPaid"] == rate
    activity = client.get("/api/activities", headers=manager).get_json()[0]
    assert activity["currency"] == currency and activity["amount"] == major
    stats = client.get("/api/garage/stats", headers=manager).get_json()
    assert stats["todaysRevenue"] == major
    settings = client.get("/api/garage/settings", headers=manager).get_json()
    assert (settings["currency"], settings["locale"], settings["hourlyRate"]) == (currency, locale, rate)
    # the API writes en_US formats in every garage, named by its token or by its URL: words and numbers
    rate_line = {"JPY": "¥1,000", "EUR": "€10.00", "BHD": "BHD1.500", "USD": "$10.00"}[currency] + " per started hour"
    named = client.get("/api/garages/main/garage/settings", headers=manager)
    assert named.status_code == 200 and settings["rates"][0] == named.get_json()["rates"][0] == rate_line
    if currency == "JPY":
        assert isinstance(stats["hourlyRate"], int)


def test_a_shift_and_a_refund_say_the_currency(client, manager):
    set_settings(currency="EUR", locale="de_DE")
    opened = client.post("/api/shifts", json={"floatCents": 10000}, headers=manager)
    assert opened.status_code == 201 and opened.get_json()["currency"] == "EUR"
    number = issue(client, manager, "CUR 2")
    assert pay(client, manager, number).status_code == 200
    refund = client.post(f"/api/tickets/{number}/refund", json={"amountCents": 250, "reason": "Kulanz"},
                         headers=manager)
    assert refund.status_code == 201, refund.get_json()
    assert refund.get_json()["currency"] == "EUR" and refund.get_json()["amountCents"] == 250


def test_the_international_settings_round_trip_and_are_audited(client, manager):
    body = {"currency": "EUR", "locale": "de_DE", "language": "de", "lobbyLanguage": "en",
            "legalName": " Parkhaus Nord GmbH ", "taxAdded": True}
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert {k: got[k] for k in body} == {**body, "legalName": "Parkhaus Nord GmbH"}
    assert client.get("/api/garage/settings", headers=manager).get_json()["currency"] == "EUR"
    after = audit_events("settings.changed")[-1].details["after"]
    assert after["currency"] == "EUR" and after["locale"] == "de_DE" and after["lobbyLanguage"] == "en"
    back = client.put("/api/garage/settings", json={"language": "", "lobbyLanguage": ""}, headers=manager)
    assert back.status_code == 200 and back.get_json()["language"] == "" and back.get_json()["lobbyLanguage"] == ""


@pytest.mark.parametrize("body, words", [
    ({"currency": "ABC"}, "ISO 4217"), ({"currency": "XXX"}, "ISO 4217"), ({"currency": "eur"}, "currency"),
    ({"locale": "xx_YY"}, "locale"), ({"locale": "de-DE"}, "locale"), ({"language": "fr"}, "language"),
    ({"lobbyLanguage": "xx"}, "lobbyLanguage"), ({"legalName": "x" * 121}, "legalName"),
    ({"legalName": "Tab\there"}, "legalName"), ({"taxAdded": "yes"}, "taxAdded"), ({"currency": None}, "null"),
])
def test_bad_international_settings_are_refused_and_change_nothing(client, manager, body, words):
    r = client.put("/api/garage/settings", json=body, headers=manager)
    assert r.status_code == 422 and words in r.get_json()["message"], r.get_json()
    settings = client.get("/api/garage/settings", headers=manager).get_json()
    assert (settings["currency"], settings["locale"], settings["legalName"]) == ("USD", "en_US", "")


def test_the_currency_cannot_change_once_a_ticket_is_paid(client, manager):
    assert client.put("/api/garage/settings", json={"currency": "EUR"}, headers=manager).status_code == 200
    number = issue(client, manager, "CUR 3")
    assert pay(client, manager, number).status_code == 200  # paid in EUR
    r = client.put("/api/garage/settings", json={"currency": "JPY", "garageName": "Renamed"}, headers=manager)
    assert r.status_code == 409 and "EUR" in r.get_json()["message"] and "currency" in r.get_json()["message"]
    settings = client.get("/api/garage/settings", headers=manager).get_json()
    assert settings["currency"] == "EUR" and settings["garageName"] != "Renamed"  # nothing changed
    same = client.put("/api/garage/settings", json={"currency": "EUR", "locale": "fr_FR"}, headers=manager)
    assert same.status_code == 200 and same.get_json()["locale"] == "fr_FR"  # the same currency: no change


@pytest.mark.parametrize("held", ["a car inside", "an open shift"])
def test_the_currency_cannot_change_while_a_car_inside_or_a_drawer_counts_in_it(client, manager, held):
    """A car inside would be quoted its fee in the new currency, a drawer's float read in it (probe F1)."""
    if held == "a car inside":
        issue(client, manager, "CUR 4")
    else:
        assert client.post("/api/shifts", json={"floatCents": 10000}, headers=manager).status_code == 201
    refused = client.put("/api/garage/settings", json={"currency": "JPY"}, headers=manager)
    assert refused.status_code == 409 and "USD" in refused.get_json()["message"]
    assert client.get("/api/garage/settings", headers=manager).get_json()["currency"] == "USD"


def test_the_currency_cannot_change_once_a_permit_is_sold(client, manager):
    r = client.post("/api/permits", json={"holder": "Jane", "plates": ["B-XY 1"], "validFrom": "2026-01-01",
                                          "validUntil": "2026-01-31", "price": 12000}, headers=manager)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["currency"] == "USD"
    refused = client.put("/api/garage/settings", json={"currency": "EUR"}, headers=manager)
    assert refused.status_code == 409 and "USD" in refused.get_json()["message"]


def test_a_drawer_is_counted_in_the_garage_s_denominations(client, manager):
    set_settings(currency="EUR", locale="de_DE")
    shift = client.post("/api/shifts", json={"floatCents": 0}, headers=manager).get_json()
    usd_only = client.post(f"/api/shifts/{shift['id']}/close", json={"countedByDenomination": {"25": 1}},
                          headers=manager)
    assert usd_only.status_code == 422 and "not a denomination" in usd_only.get_json()["message"]
    closed = client.post(f"/api/shifts/{shift['id']}/close", json={"countedByDenomination": {"50000": 1, "2": 3}},
                        headers=manager)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["countedCashCents"] == 50006 and closed.get_json()["currency"] == "EUR"


@pytest.mark.parametrize("currency, rate, told", [
    ("JPY", 100_000, "The amount due changed from ¥5 to ¥100,000; confirm the new amount"),
    ("EUR", 250, "The amount due changed from €0.05 to €2.50; confirm the new amount"),
])
def test_a_refused_exit_says_the_amounts_in_the_garages_currency(client, staff, currency, rate, told):
    """A token's garage is known from its token only inside the exit's statement: the message was formatted
    in dollars, and a yen amount read as cents ("from $0.05 to $1,000.00"; an outside check)."""
    set_settings(currency=currency, hourly_rate=rate)
    number = issue(client, staff, "CUR 9")
    for path in (f"/api/tickets/{number}/exit", f"/api/garages/main/tickets/{number}/exit"):
        r = client.put(path, json={"paymentMethod": "Cash", "expectedAmount": 5}, headers=staff)
        assert r.status_code == 409 and r.get_json()["message"] == told, (path, r.get_json())
