"""Rate periods on the settings page (issue 19), on SQLite and PostgreSQL: the periods in plain words,
adding, editing and removing one with a normal form (no JS: 303; htmx: 422 with each message under
its field, nothing saved), the choice lowest / first, and the preview of a few stays priced by the
same quote() as the exit."""
from __future__ import annotations

import json

import pytest

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.models import Garage
from tests.helpers.db import audit_events, set_settings
from tests.helpers.web import HTMX, csrf_token, soup, text

NIGHT = {"kind": "flat", "name": "Night rate", "price": "8", "enter_from": "18:00", "enter_until": "03:00",
         "leave_by": "08:00"}


def stored() -> list[dict]:
    db.session.expire_all()
    return json.loads(db.session.get(Garage, MAIN).rate_periods)


def post(client, path: str, data: dict, htmx: bool = False):
    form = {**data, "csrf_token": csrf_token(client, "/g/main/settings")}
    return client.post(f"/g/main{path}", data=form, headers=HTMX if htmx else {})


def test_add_a_night_rate_without_js_and_see_it_in_words_and_in_the_preview(manager_client):
    r = post(manager_client, "/settings/periods/new", NIGHT)
    assert r.status_code == 303 and r.location.endswith("/g/main/settings")
    assert stored() == [{"kind": "flat", "name": "Night rate", "priceCents": 800, "enterFrom": "18:00",
                         "enterUntil": "03:00", "leaveFrom": None, "leaveBy": "08:00", "days": [],
                         "vehicleType": None}]
    page = soup(manager_client.get("/g/main/settings"))
    assert [text(p) for p in page.select("#rate-periods [data-period]")] == [
        "Night rate: $8.00 for entering 18:00–03:00 (any day) and leaving by 08:00"]
    rows = page.select("#rate-periods [data-preview]")
    assert len(rows) == 5
    evening = rows[2]  # this evening → tomorrow 07:00: the night rate (or the hourly rate, if already past 03:00)
    assert text(evening.select_one("[data-preview-rule]")) in ("Night rate", "Standard rate")
    assert text(rows[0].select_one("[data-preview-amount]")) in ("$8.00", "$10.00")
    assert audit_events("settings.changed")[-1].details["after"]["ratePeriods"][0]["name"] == "Night rate"


def test_edit_and_remove_a_period(manager_client):
    post(manager_client, "/settings/periods/new", NIGHT)
    post(manager_client, "/settings/periods/new", {"kind": "hourly", "name": "Weekend rate", "price": "5",
                                                   "days": ["sat", "sun"]})
    form = soup(manager_client.get("/g/main/settings/periods/2"))
    assert form.select_one("#name")["value"] == "Weekend rate" and form.select_one("#price")["value"] == "5.00"
    assert {box["value"] for box in form.select('input[name="days"][checked]')} == {"sat", "sun"}
    assert form.select_one('input[name="was"]')["value"] == "Weekend rate"
    edit = {"kind": "hourly", "name": "Weekend rate", "price": "4.50", "days": ["sat", "sun"], "start": "08:00",
            "end": "20:00"}
    r = post(manager_client, "/settings/periods/2", {**edit, "was": "Night rate"}, htmx=True)  # changed meanwhile
    assert r.status_code == 409 and stored()[1]["rateCents"] == 500
    assert "changed meanwhile" in text(soup(r).select_one("#period-form #form-error"))
    r = post(manager_client, "/settings/periods/2", {**edit, "was": "Weekend rate"})
    assert r.status_code == 303
    assert stored()[1]["rateCents"] == 450 and stored()[1]["start"] == "08:00"
    r = post(manager_client, "/settings/periods/1/remove", {"name": "Weekend rate"})  # not the first any more
    assert r.status_code == 409 and len(stored()) == 2
    r = post(manager_client, "/settings/periods/1/remove", {"name": "Night rate"})
    assert r.status_code == 303 and [p["name"] for p in stored()] == ["Weekend rate"]
    assert manager_client.get("/g/main/settings/periods/9").status_code == 404


@pytest.mark.parametrize("change, field, words", [
    ({"price": "eight"}, "price", "Enter the price in dollars"),
    ({"name": ""}, "name", "Enter a name"),
    ({"enter_from": "25:00"}, "enter_from", "local time such as 18:00"),
    ({"enter_until": "18:00"}, "enter_until", "must end at another time"),
    ({"leave_by": ""}, "leave_by", "local time"),
    ({"vehicle_type": "Tank"}, "vehicle_type", "vehicle type must be one of"),
    ({"kind": "weekly"}, "kind", "kind must be one of"),
    ({"name": "Standard rate"}, "name", "taken by the standard rules"),
])
def test_a_bad_period_is_refused_under_its_field_and_nothing_is_saved(manager_client, change, field, words):
    r = post(manager_client, "/settings/periods/new", {**NIGHT, **change}, htmx=True)
    assert r.status_code == 422
    page = soup(r)
    assert words in text(page.select_one(f"#{field}-error"))
    assert page.select_one("#name")["value"] == (change.get("name", "Night rate"))
    assert stored() == []


def test_an_event_with_a_bad_date_or_a_taken_name(manager_client):
    r = post(manager_client, "/settings/periods/new", {"kind": "event", "name": "Concert", "price": "40",
                                                       "dates": "2026-12-31, 2026-02-30"}, htmx=True)
    assert r.status_code == 422 and "'2026-02-30' is not a date" in text(soup(r).select_one("#dates-error"))
    post(manager_client, "/settings/periods/new", NIGHT)
    r = post(manager_client, "/settings/periods/new", {**NIGHT, "name": "night RATE"}, htmx=True)
    assert r.status_code == 422 and "another period has the name" in text(soup(r).select_one("#name-error"))
    assert len(stored()) == 1


def test_htmx_save_sends_the_browser_back_to_the_settings(manager_client):
    r = post(manager_client, "/settings/periods/new", {"kind": "event", "name": "Concert", "price": "40",
                                                       "dates": "2026-12-31 2027-01-01"}, htmx=True)
    assert r.status_code == 200 and r.headers["HX-Redirect"].endswith("/g/main/settings")
    assert stored()[0]["dates"] == ["2026-12-31", "2027-01-01"]


def test_the_choice_lowest_or_first_is_saved_with_the_settings(manager_client):
    from tests.web.test_settings_page import post as save_settings
    assert save_settings(manager_client, {"pricing_choice": "first"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Garage, MAIN).pricing_choice == "first"
    r = save_settings(manager_client, {"pricing_choice": "cheapest"}, headers=HTMX)
    assert r.status_code == 422 and "lowest price" in text(soup(r).select_one("#pricing_choice-error"))
    page = soup(manager_client.get("/g/main/settings"))
    assert page.select_one('input[name="pricing_choice"][value="first"]').has_attr("checked")


def test_attendants_may_not_change_periods(desk):
    set_settings(rate_periods=json.dumps([{"kind": "hourly", "name": "W", "rateCents": 500}]))
    assert desk.client.get("/g/main/settings/periods/1").status_code == 403
    r = desk.client.post("/g/main/settings/periods/1/remove", data={"csrf_token": desk.token, "name": "W"})
    assert r.status_code == 403 and len(stored()) == 1


def test_the_preview_prices_a_few_stays_with_the_exit_s_quote(manager_client):
    """An all-day hourly period and a daily maximum: the same whatever the time of the test."""
    set_settings(timezone="UTC", daily_max_cents=5000,
                 rate_periods=json.dumps([{"kind": "hourly", "name": "All day", "rateCents": 300}]))
    rows = soup(manager_client.get("/g/main/settings")).select("#rate-periods [data-preview]")
    seen = [(text(r.select_one("[data-preview-amount]")), text(r.select_one("[data-preview-rule]"))) for r in rows]
    assert seen[0] == ("$3.00", "All day") and seen[1] == ("$9.00", "All day")
    assert seen[3] == ("$30.00", "All day")  # tomorrow 07:30 → 17:30: 10 hours
    assert seen[4] == ("$50.00", "All day")  # 24 hours: $72 capped at the daily maximum


def test_a_period_too_many_is_refused_for_the_form_as_a_whole(manager_client):
    set_settings(rate_periods=json.dumps([{"kind": "hourly", "name": f"P{n}", "rateCents": 100} for n in range(20)]))
    r = post(manager_client, "/settings/periods/new", NIGHT, htmx=True)
    assert r.status_code == 422 and "At most 20 rate periods" in text(soup(r).select_one("#form-error"))
    assert len(stored()) == 20
