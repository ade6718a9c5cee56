"""The manager's settings page: validation (422, messages next to fields,
typed values kept, nothing changed), success (303 + "Saved", audited),
htmx fragments, access control, and the "current rates" fragment."""
import re

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import render_template_string

from garage.extensions import db
from garage.models import Garage, VehicleRate
from garage.services import settings as settings_service
from tests.helpers.api import enter
from tests.helpers.db import audit_events, counting
from tests.helpers.web import HTMX, csrf_token, soup
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

VALID = {
    "garage_name": "Main Street Garage", "total_spaces": "120", "timezone": "Europe/Berlin",
    "almost_full_percent": "85", "hourly_rate": "10.50", "rate_car": "", "rate_standard_vehicle": "",
    "rate_compact_car": "", "rate_suv": "15", "rate_motorcycle": "5.5", "rate_van": "",
    "grace_minutes": "10", "daily_max": "40", "lost_ticket_fee": "50", "lost_ticket_mode": "add",
    "garage_address": " 12 Main Street \r\n\r\nSpringfield IL 62701\r\n", "tax_rate": "19", "tax_id": " DE123456789 ",
    "void_window_minutes": "15", "payments_require_shift": "1", "reserved_spaces": "0", "permit_policy": "visitor",
}


def post(client, overrides=None, headers=None, **kwargs):
    data = {**VALID, **(overrides or {}), "csrf_token": csrf_token(client, "/g/main/settings")}
    return client.post("/g/main/settings", data=data, headers=headers or {}, **kwargs)


def field_error(page: BeautifulSoup, name: str) -> str | None:
    """The message shown next to a field (linked by aria-describedby)."""
    node = page.find(id=f"{name}-error")
    field = page.find(id=name) if name != "lost_ticket_mode" else None
    if node is not None and field is not None:
        assert f"{name}-error" in field.get("aria-describedby", "")
        assert field.get("aria-invalid") == "true"
    return node.get_text(strip=True) if node else None


def snapshot():
    db.session.expire_all()
    row = db.session.get(Garage, 1)
    rates = db.session.execute(sa.select(VehicleRate.vehicle_type, VehicleRate.hourly_rate)).all()
    return ({c: getattr(row, c) for c in settings_service.COLUMNS}, sorted(rates))


def settings_audits():
    return audit_events("settings.changed")


# --- access ------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client):
    r = client.get("/g/main/settings")
    assert r.status_code == 302 and "/login" in r.location and "next=" in r.location


def test_attendants_get_403_and_cannot_post(actions):
    client = actions.client
    actions.sign_in("attendant", "attendant")
    denied = client.get("/g/main/settings")
    assert denied.status_code == 403 and soup(denied).find(id="settings-form") is None
    token = soup(denied).find("input", {"name": "csrf_token"})["value"]  # the sign-out form's
    before = snapshot()
    r = client.post("/g/main/settings", data={**VALID, "csrf_token": token})
    assert r.status_code == 403 and snapshot() == before and settings_audits() == []


def test_nav_links_to_settings_for_managers(manager_client):
    page = soup(manager_client.get("/g/main/settings"))
    link = page.find("nav").find("a", string="Settings")
    assert link["href"] == "/g/main/settings" and "active" in link["class"]


def test_post_without_csrf_token_changes_nothing(manager_client):
    before = snapshot()
    r = manager_client.post("/g/main/settings", data=VALID)
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)
    assert snapshot() == before


# --- the form shows the current settings ---------------------------------------------------

def test_form_shows_current_settings_in_dollars(manager_client):
    page = soup(manager_client.get("/g/main/settings"))
    value = {i["name"]: i.get("value") for i in page.select("#settings-form input:not([type=radio])")}
    assert value["hourly_rate"] == "10.00" and value["total_spaces"] == "140"
    assert value["grace_minutes"] == "0" and value["daily_max"] == "" and value["lost_ticket_fee"] == ""
    assert value["rate_motorcycle"] == "" and value["almost_full_percent"] == "90"
    assert page.find("input", {"name": "lost_ticket_mode", "value": "replace"}).has_attr("checked")
    assert [li.get_text() for li in page.select("#current-rates li")] == ["$10.00 per started hour"]
    assert page.find("label", {"for": "daily_max"}).get_text(strip=True) == "Daily maximum"
    assert "Europe/Berlin" in [o["value"] for o in page.select("datalist#timezone-list option")]


def test_every_label_points_at_a_field(manager_client):
    page = soup(manager_client.get("/g/main/settings"))
    for label in page.select("#settings-form label[for]"):
        assert page.find(id=label["for"]) is not None, label


# --- success -------------------------------------------------------------------------------

def test_saving_stores_cents_redirects_and_says_saved(manager_client):
    r = post(manager_client)
    assert r.status_code == 303 and r.location.endswith("/g/main/settings")
    settings, rates = snapshot()
    assert settings == {"total_spaces": 120, "hourly_rate": 1050, "grace_minutes": 10, "daily_max_cents": 4000,
                        "lost_ticket_fee_cents": 5000, "lost_ticket_mode": "add",
                        "garage_name": "Main Street Garage", "timezone": "Europe/Berlin",
                        "almost_full_percent": 85, "garage_address": "12 Main Street\nSpringfield IL 62701",
                        "tax_rate_bp": 1900, "tax_id": "DE123456789", "void_window_minutes": 15,
                        "payments_require_shift": True, "reserved_spaces": 0, "permit_policy": "visitor",
                        "rate_periods": "[]", "pricing_choice": "lowest", "permit_max_plates": 5,
                        "currency": "USD", "locale": "en_US", "language": "", "lobby_language": "", "legal_name": "",
                        "tax_added": False}  # a form without the international fields leaves them as they are
    assert rates == [("Motorcycle", 550), ("SUV", 1500)]  # blank types pay the default rate
    page = soup(manager_client.get(r.location))
    assert "Saved" in page.find(class_="saved").get_text()
    assert page.find(id="hourly_rate")["value"] == "10.50" and page.find(id="rate_motorcycle")["value"] == "5.50"
    assert [li.get_text() for li in page.select("#current-rates li")] == [
        "$10.50 per started hour", "SUV: $15.00 per started hour", "Motorcycle: $5.50 per started hour",
        "First 10 minutes free", "Daily maximum $40.00 per 24 hours", "Lost ticket: $50.00 plus the time fee"]
    # the notice shows once
    assert soup(manager_client.get("/g/main/settings")).find(class_="saved") is None


def test_saving_is_audited_with_who_before_and_after(manager_client):
    post(manager_client)
    (event,) = settings_audits()
    assert event.username == "boss" and event.ip
    assert event.details["before"]["hourlyRate"] == 1000 and event.details["after"]["hourlyRate"] == 1050
    assert event.details["before"]["vehicleRates"] == {}
    assert event.details["after"]["vehicleRates"] == {"SUV": 1500, "Motorcycle": 550}
    assert event.details["after"]["lostTicketMode"] == "add" and event.details["before"]["lostTicketMode"] == "replace"
    assert event.details["before"]["timezone"] == "UTC" and event.details["after"]["timezone"] == "Europe/Berlin"


def test_the_audit_log_words_every_fee_set_from_none_the_same_way(manager_client):
    """The lost-ticket fee stores 0 for none, the daily maximum null: the audit log read one
    change as "$0.00 → $50.00" and the other as "none → $40.00" (issue 15)."""
    post(manager_client)
    shown = soup(manager_client.get("/g/main/admin/audit?action=settings.changed")).get_text(" ", strip=True)
    assert "daily maximum none → $40.00" in shown and "lost-ticket fee none → $50.00" in shown
    post(manager_client, {"daily_max": "", "lost_ticket_fee": ""})
    shown = soup(manager_client.get("/g/main/admin/audit?action=settings.changed")).get_text(" ", strip=True)
    assert "daily maximum $40.00 → none" in shown and "lost-ticket fee $50.00 → none" in shown
    assert "$0.00" not in shown


def test_clearing_optional_money_fields_removes_the_rules(manager_client):
    post(manager_client)
    post(manager_client, {"daily_max": "", "lost_ticket_fee": "", "rate_suv": "", "rate_motorcycle": ""})
    settings, rates = snapshot()
    assert settings["daily_max_cents"] is None and settings["lost_ticket_fee_cents"] == 0 and rates == []


def test_htmx_save_swaps_the_form_with_saved_and_updates_the_rates_panel(manager_client):
    r = post(manager_client, headers=HTMX)
    assert r.status_code == 200 and "HX-Request" in r.headers.get("Vary", "")
    page = soup(r)
    assert page.find("html") is None and page.find("form", id="settings-form") is not None
    assert "Saved" in page.find(class_="saved").get_text()
    panel = page.find(id="current-rates")
    assert panel["hx-swap-oob"] == "true"
    assert "Daily maximum $40.00 per 24 hours" in panel.get_text()


@pytest.mark.parametrize("language, html_lang, saved", [("de", "de", "Gespeichert"), ("en", "en", "Saved")])
def test_an_htmx_save_that_changes_the_garages_language_loads_the_whole_page_in_it(
        manager_client, language, html_lang, saved):
    """The form alone came back in the new language inside the old page's menu and headings (seen by
    this stop's outside check): a change of the garage's language or locale loads the whole page."""
    def reads_in(lang: str) -> dict[str, str]:  # the form's international part, as the page sends it
        return {"international": "1", "currency": "USD", "locale": "en_US", "language": lang, "lobby_language": ""}

    other = "en" if language == "de" else "de"
    assert post(manager_client, reads_in(other)).status_code == 303  # from the other language
    manager_client.get("/g/main/settings")  # its "Saved" shown
    r = post(manager_client, reads_in(language), headers=HTMX)
    assert r.status_code == 200 and r.headers["HX-Redirect"] == "/g/main/settings" and r.data == b""
    assert snapshot()[0]["language"] == language
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find("html")["lang"] == html_lang
    assert saved in page.find(class_="saved").get_text()
    # Saved again in the same language: the form alone, as ever.
    again = soup(post(manager_client, reads_in(language), headers=HTMX))
    assert again.find("html") is None and saved in again.find(class_="saved").get_text()


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, field, words", [
    ({"hourly_rate": "ten"}, "hourly_rate", "in dollars and cents"),
    ({"hourly_rate": ""}, "hourly_rate", "Enter the hourly rate"),
    ({"hourly_rate": "10.505"}, "hourly_rate", "in dollars and cents"),
    ({"hourly_rate": "-1"}, "hourly_rate", "in dollars and cents"),
    ({"hourly_rate": "1000.01"}, "hourly_rate", "from $0.00 to $1,000.00"),
    ({"rate_motorcycle": "cheap"}, "rate_motorcycle", "Motorcycle rate"),
    ({"rate_standard_vehicle": "5000"}, "rate_standard_vehicle", "Standard Vehicle rate must be"),
    ({"daily_max": "0"}, "daily_max", "daily maximum must be"),
    ({"lost_ticket_fee": "1e3"}, "lost_ticket_fee", "lost-ticket fee"),
    ({"grace_minutes": "2.5"}, "grace_minutes", "whole number"),
    ({"grace_minutes": "9999"}, "grace_minutes", "from 0 to 1440"),
    ({"total_spaces": "0"}, "total_spaces", "Total spaces must be at least 1"),
    ({"total_spaces": "-5"}, "total_spaces", "Total spaces must be at least 1"),  # a whole number, too small
    ({"total_spaces": "100001"}, "total_spaces", "Total spaces can be at most 100,000"),
    ({"total_spaces": "9" * 40}, "total_spaces", "Total spaces can be at most 100,000"),
    ({"total_spaces": "lots"}, "total_spaces", "whole number"),
    ({"total_spaces": "1.5"}, "total_spaces", "whole number"),
    ({"grace_minutes": "-5"}, "grace_minutes", "from 0 to 1440"),
    ({"almost_full_percent": "101"}, "almost_full_percent", "from 1 to 100"),
    ({"timezone": "Mars/Olympus"}, "timezone", "Unknown timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone", "Unknown timezone"),
    ({"garage_name": "   "}, "garage_name", "display name"),
    ({"garage_name": "x" * 81}, "garage_name", "at most 80"),
    ({"lost_ticket_mode": "double"}, "lost_ticket_mode", "replaces or is added"),
    ({"tax_rate": "19.005"}, "tax_rate", "at most two decimals"),
    ({"tax_rate": "-7"}, "tax_rate", "as a percentage"),
    ({"tax_rate": "VAT"}, "tax_rate", "as a percentage"),
    ({"tax_rate": "100.01"}, "tax_rate", "from 0 to 100"),
    ({"tax_id": "D" * 33}, "tax_id", "at most 32"),
])
def test_invalid_field_is_422_with_its_message_and_nothing_changes(manager_client, overrides, field, words):
    before = snapshot()
    r = post(manager_client, overrides)
    assert r.status_code == 422
    page = soup(r)
    assert words in (field_error(page, field) or ""), page.select(".error")
    assert "nothing was saved" in page.find(class_="summary").get_text()
    if field != "lost_ticket_mode":
        assert page.find(id=field)["value"] == overrides[field]  # what was typed is kept
    assert page.find(id="garage_name")["value"] == VALID["garage_name"] or field == "garage_name"
    assert snapshot() == before and settings_audits() == []


def test_several_errors_are_shown_at_once_and_htmx_gets_the_fragment(manager_client):
    r = post(manager_client, {"hourly_rate": "abc", "timezone": "Nowhere", "total_spaces": "-3"}, headers=HTMX)
    assert r.status_code == 422 and "HX-Request" in r.headers.get("Vary", "")
    page = soup(r)
    assert page.find("html") is None
    assert all(field_error(page, f) for f in ("hourly_rate", "timezone", "total_spaces"))
    assert "3 fields need correcting" in page.find(class_="summary").get_text()
    assert page.find(id="timezone")["value"] == "Nowhere"


def test_total_spaces_below_cars_inside_is_409_next_to_the_field(manager_client, token_for):
    staff = token_for("attendant")
    for plate in ("A1", "A2", "A3"):
        assert enter(manager_client, staff, plate).status_code == 201
    page = soup(manager_client.get("/g/main/settings"))
    assert "Cars inside now: 3." in page.find(id="total_spaces-hint").get_text()
    before = snapshot()
    r = post(manager_client, {"total_spaces": "2"})
    assert r.status_code == 409
    page = soup(r)
    assert field_error(page, "total_spaces") == "Total spaces cannot be below the 3 cars inside"
    assert page.find(id="total_spaces")["value"] == "2" and page.find(id="hourly_rate")["value"] == "10.50"
    assert snapshot() == before and settings_audits() == []
    assert post(manager_client, {"total_spaces": "3"}).status_code == 303  # exactly the cars inside is fine


# --- the "current rates" fragment anywhere ---------------------------------------------------

def test_rates_fragment_can_be_included_by_any_template(app):
    settings_service.update_settings(MAIN, None, grace_minutes=15, lost_ticket_fee_cents=2500)
    with app.test_request_context("/"):
        html = render_template_string('<div>{% include "settings/_rates.html" %}</div>')
    items = [li.get_text() for li in soup(html).select("li")]
    assert items == ["$10.00 per started hour", "First 15 minutes free",
                     "Lost ticket: $25.00 instead of the time fee"]


def test_rates_are_only_read_when_a_template_shows_them(app):
    from garage.templating import current_rates
    with counting() as statements, app.test_request_context("/"):
        render_template_string("<p>no rates here</p>")
        assert statements == []
        lines = list(current_rates()["rates"])
    assert lines == ["$10.00 per started hour"] and any(re.search(r"vehicle_rates", s) for s in statements)


def test_the_display_name_field_limits_typing_to_what_the_rule_accepts(manager_client):
    """The browser stops typing at the display name's limit (a real maxlength attribute,
    not an escaped string) and the limit is the rule's."""
    from garage.domain.garage_settings import NAME_MAX

    field = soup(manager_client.get("/g/main/settings")).select_one("#garage_name")
    assert field.get("maxlength") == str(NAME_MAX)


# --- receipts: address, tax rate, tax id ------------------------------------------------------

def test_the_receipt_settings_show_as_saved_with_the_rate_in_percent(manager_client):
    post(manager_client, {"tax_rate": "7,25"})
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find(id="garage_address").get_text() == "12 Main Street\nSpringfield IL 62701"
    assert page.find(id="tax_rate")["value"] == "7.25" and page.find(id="tax_id")["value"] == "DE123456789"
    assert page.find(id="tax_id").get("maxlength") == "32"
    post(manager_client, {"tax_rate": "", "tax_id": "", "garage_address": ""})  # all optional: none
    assert {k: v for k, v in snapshot()[0].items() if k in ("garage_address", "tax_rate_bp", "tax_id")} == \
        {"garage_address": "", "tax_rate_bp": 0, "tax_id": ""}
    assert soup(manager_client.get("/g/main/settings")).find(id="tax_rate")["value"] == "0"


def test_the_receipt_settings_are_audited_in_words(manager_client):
    from garage.admin.present import event_details

    post(manager_client)
    (event,) = settings_audits()
    assert event.details["before"]["taxRateBp"] == 0 and event.details["after"]["taxRateBp"] == 1900
    lines = {line.label: (line.text, line.after) for line in event_details(event.details).lines}
    assert lines["tax rate"] == ("0 %", "19 %") and lines["tax/VAT id"] == ("none", "DE123456789")
    assert lines["address"] == ("none", "12 Main Street, Springfield IL 62701")


@pytest.mark.parametrize("address, status", [
    ("1\n2\n3\n4\n5", 422),  # five lines
    ("x" * 61, 422),  # a line too long
    ("Main Street\tNorth", 400),  # a control character other than a line break: refused before any view
])
def test_an_address_too_long_is_422_next_to_the_field_and_kept(manager_client, address, status):
    before = snapshot()
    r = post(manager_client, {"garage_address": address})
    assert r.status_code == status
    if status == 422:
        page = soup(r)
        assert "at most 4 lines of at most 60" in field_error(page, "garage_address")
        assert page.find(id="garage_address").get_text() == address
    assert snapshot() == before and settings_audits() == []


# --- the desk's rules (issue 18): the void window, payments in a shift ------------------------------

def test_the_void_window_and_the_shift_rule_show_as_saved_and_untick(manager_client):
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find(id="void_window_minutes")["value"] == "10"  # the default
    assert not page.find(id="payments_require_shift").has_attr("checked")
    assert "void a ticket within" in page.find("label", attrs={"for": "void_window_minutes"}).get_text()
    assert post(manager_client, {"void_window_minutes": "0"}).status_code == 303  # 0: managers only
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find(id="void_window_minutes")["value"] == "0"
    assert page.find(id="payments_require_shift").has_attr("checked")
    data = {k: v for k, v in VALID.items() if k != "payments_require_shift"}  # unticked: the browser sends nothing
    r = manager_client.post("/g/main/settings", data={**data, "csrf_token": csrf_token(manager_client, "/g/main/settings")})
    assert r.status_code == 303
    assert snapshot()[0]["payments_require_shift"] is False


@pytest.mark.parametrize("typed, words", [("", "whole number"), ("ten", "whole number"), ("-1", "from 0 to 1440"),
                                          ("1441", "from 0 to 1440")])
def test_a_bad_void_window_is_422_next_to_its_field_and_nothing_changes(manager_client, typed, words):
    before = snapshot()
    r = post(manager_client, {"void_window_minutes": typed})
    assert r.status_code == 422
    page = soup(r)
    assert words in field_error(page, "void_window_minutes")
    assert page.find(id="void_window_minutes")["value"] == typed
    assert snapshot() == before


# --- permit holders (issue 19): reserved spaces, a car whose permit is not valid ---------------------

def test_reserved_spaces_and_the_permit_policy_are_saved_and_shown(manager_client):
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find(id="reserved_spaces")["value"] == "0"
    assert page.find("input", attrs={"name": "permit_policy", "value": "visitor"}).has_attr("checked")
    assert post(manager_client, {"reserved_spaces": "12", "permit_policy": "refuse"}).status_code == 303
    assert {k: snapshot()[0][k] for k in ("reserved_spaces", "permit_policy")} == {"reserved_spaces": 12,
                                                                                  "permit_policy": "refuse"}
    page = soup(manager_client.get("/g/main/settings"))
    assert page.find(id="reserved_spaces")["value"] == "12"
    assert page.find("input", attrs={"name": "permit_policy", "value": "refuse"}).has_attr("checked")


@pytest.mark.parametrize("overrides, words", [
    ({"reserved_spaces": "121"}, "at most the 120 spaces"), ({"reserved_spaces": "-1"}, "from 0"),
    ({"reserved_spaces": "x"}, "whole number"), ({"reserved_spaces": "50", "total_spaces": "40"}, "at most the 40"),
])
def test_bad_reserved_spaces_are_422_next_to_the_field_and_nothing_changes(manager_client, overrides, words):
    before = snapshot()
    r = post(manager_client, overrides, headers=HTMX)
    assert r.status_code == 422
    assert words in field_error(soup(r), "reserved_spaces")
    assert snapshot() == before


def test_an_unknown_permit_policy_is_refused(manager_client):
    before = snapshot()
    r = post(manager_client, {"permit_policy": "maybe"})
    assert r.status_code == 422 and field_error(soup(r), "permit_policy")
    assert snapshot() == before


@pytest.mark.parametrize("typed, saved", [("3", 3), ("10", 10), ("0", None), ("11", None), ("two", None)])
def test_plates_per_permit_are_set_on_the_page(manager_client, typed, saved):
    before = snapshot()
    r = post(manager_client, {"permit_max_plates": typed}, headers=HTMX)
    if saved is None:
        assert r.status_code == 422 and field_error(soup(r), "permit_max_plates")
        assert snapshot() == before
    else:
        assert r.status_code == 200 and snapshot()[0]["permit_max_plates"] == saved


@pytest.mark.parametrize("typed", ["12345678901", "99,999,999,999.99", "1" + "0" * 24])
@pytest.mark.parametrize("field, words", [
    ("hourly_rate", "from $0.00 to $1,000.00"), ("rate_motorcycle", "Motorcycle rate must be from $0.00 to"),
    ("daily_max", "daily maximum must be from $0.01 to"), ("lost_ticket_fee", "lost-ticket fee must be from $0.00 to"),
])
def test_a_well_formed_amount_too_large_for_its_field_is_told_the_fields_range(manager_client, field, words, typed):
    """An amount far above its field's maximum (11 digits and more, with or without grouping) was told
    to be typed "in dollars and cents, e.g. 10 or 10.50", which it was: the field's range says what is
    wrong. Nothing is saved; what was typed stays in the field."""
    before = snapshot()
    r = post(manager_client, {field: typed})
    assert r.status_code == 422
    page = soup(r)
    assert words in (field_error(page, field) or ""), page.select(".error")
    assert page.find(id=field)["value"] == typed
    assert snapshot() == before and settings_audits() == []
