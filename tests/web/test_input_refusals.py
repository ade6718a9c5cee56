"""Every input the outside probe turned into a 500 (issue 14 §1), and its class: deep JSON,
Unicode "digits", out-of-range pages and dates, control characters in any text, CR/LF in
`next`. Each is refused with a message a person can act on, and nothing is written.
(The property-based guard over every route and form: test_hostile_input.py.)"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import AuditEvent, User
from tests.helpers.api import issue
from tests.helpers.db import audit_events, ticket, ticket_count
from tests.helpers.web import HTMX, csrf_token, post_form, signed_in, soup, text

DEEP = "[" * 1200 + "]" * 1200
DEEP_OBJECT = '{"licensePlate": ' + "[" * 5000 + "]" * 5000 + ', "vehicleType": "Car"}'
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def boss(app, make_user):
    return signed_in(app, make_user, "boss", "manager")


def audit_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


# --- 1. deeply nested JSON ---------------------------------------------------------------------

@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deep_json_is_401_for_a_stranger_and_400_for_staff(client, staff, manager, body):
    number = issue(client, staff, "DEEP1")
    for method, path, who in (("post", "/api/tickets", staff), ("put", f"/api/tickets/{number}/exit", staff),
                              ("put", "/api/garage/settings", manager)):
        stranger = getattr(client, method)(path, data=body, headers=JSON)
        assert stranger.status_code == 401, (path, stranger.get_data(as_text=True))
        assert stranger.get_json()["message"].startswith("Authentication required")
        r = getattr(client, method)(path, data=body, headers={**JSON, **who})
        assert r.status_code == 400, (path, r.get_data(as_text=True))
        assert r.get_json() == {"message": "The request body must be a JSON object"}
    assert ticket_count() == 1 and ticket(number).status == "active"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_not_said_to_be_json_is_told_the_content_type_and_writes_nothing(client, staff, content_type):
    """A valid JSON object sent as text/plain (or with no Content-Type) was told it "must be a JSON object",
    which it is: the message names the header to send (an outside check)."""
    headers = {**staff, **({"Content-Type": content_type} if content_type else {})}
    r = client.post("/api/tickets", data='{"licensePlate": "AB1", "vehicleType": "Car"}', headers=headers)
    assert r.status_code == 400
    assert r.get_json() == {"message": "The request body must be a JSON object, sent with Content-Type: application/json"}
    assert ticket_count() == 0
    empty = client.post("/api/tickets", data="", headers=headers)  # no body at all: as before
    assert empty.status_code == 400 and empty.get_json() == {"message": "The request body must be a JSON object"}


def test_a_control_character_in_a_json_field_is_422_naming_it_and_writes_nothing(client, staff, manager):
    body = {"licensePlate": "AB\u0000C", "vehicleType": "Car"}
    assert client.post("/api/tickets", json=body).status_code == 401  # a stranger learns nothing
    r = client.post("/api/tickets", json=body, headers=staff)
    assert r.status_code == 422 and r.get_json()["message"].startswith("licensePlate: control characters")
    r = client.put("/api/garage/settings", json={"garageName": "North\nGarage"}, headers=manager)
    assert r.status_code == 422 and r.get_json()["message"].startswith("garageName: control characters")
    r = client.put("/api/garage/settings", json={"vehicleRates": {"Car\u0000": 100}}, headers=manager)
    assert r.status_code == 422 and "control characters" in r.get_json()["message"]
    assert ticket_count() == 0
    assert client.get("/api/garage/settings", headers=manager).get_json()["garageName"] != "North\nGarage"


# --- 2. what a number is -----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["²", "١٠٠٠", "１０００", "99999999999999999999", "-0", "1e3"])
def test_the_exit_form_takes_only_ascii_digits_as_the_quoted_amount(desk, typed):
    number = desk.issue("UNI 1")  # quote: $10.00 = 1000 cents, "١٠٠٠" in Arabic-Indic digits
    for htmx in (False, True):
        r = desk.pay(number, "Cash", typed, htmx=htmx)
        assert r.status_code == 422 and "confirm again" in text(soup(r).select_one("#exit .notice"))
    assert ticket(number).status == "active" and audit_events("ticket.paid", number) == []
    assert desk.pay(number, "Cash", 1000).status_code == 303  # the real figure still pays


@pytest.mark.parametrize("page", ["²", "٣", "0", "-1", "99999999999999999999", "abc"])
def test_a_page_that_is_not_a_whole_number_in_range_is_422_with_the_range(desk, boss, page):
    for client, path in ((desk.client, "/g/main/desk/inside"), (boss, "/g/main/admin/audit")):
        r = client.get(path, query_string={"page": page})
        assert r.status_code == 422, (path, page)
        assert "page must be a whole number from 1 to 100000" in text(r)
    assert desk.client.get("/g/main/desk/inside?page=2").status_code == 200  # past the last: the last page


@pytest.mark.parametrize("limit", ["٣", "３", "²", "+3", " 3_0 "])
def test_the_api_limit_takes_only_ascii_digits(client, staff, limit):
    r = client.get("/api/activities", query_string={"limit": limit}, headers=staff)
    assert r.status_code == 422 and r.get_json() == {"message": "limit must be a whole number from 1 to 100"}


def test_settings_whole_numbers_take_only_ascii_digits(boss):
    r = post_form(boss, "/g/main/settings", {"total_spaces": "٣٠٠", "hourly_rate": "5", "grace_minutes": "²",
                                      "almost_full_percent": "90", "garage_name": "G", "timezone": "UTC",
                                      "lost_ticket_mode": "replace"})
    assert r.status_code == 422
    page = soup(r)
    assert "Enter the total spaces as a whole number" in text(page)
    assert "Enter the grace period in minutes as a whole number" in text(page)


# --- 3. out-of-range pages and dates -------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("from=9999-12-31", "Dates must be between 2000 and 2100"),
    ("to=9999-12-31", "Dates must be between 2000 and 2100"),
    ("from=0001-01-01", "Dates must be between 2000 and 2100"),
    ("from=2026-02-30", "is not a date"),
])
def test_audit_dates_follow_the_reports_rule(boss, query, message):
    for path in ("/g/main/admin/audit", "/g/main/reports"):
        r = boss.get(f"{path}?{query}")
        assert r.status_code == 422 and message in text(r), path


# --- 4. control characters in any text -------------------------------------------------------------

def test_a_nul_in_a_query_parameter_is_400_naming_it(boss):
    r = boss.get("/g/main/admin/audit?user=a%00b")
    assert r.status_code == 400
    assert "user: control characters (such as NUL, line breaks or tabs) are not allowed" in text(r)
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "reset-password"])
def test_a_nul_in_a_path_segment_is_400_and_changes_nothing(boss, make_user, action):
    make_user("dave")
    before = audit_rows()
    r = post_form(boss, f"/g/main/admin/users/da%00ve/{action}", page="/g/main/admin/users")
    assert r.status_code == 400 and "username: control characters" in text(r)
    assert audit_rows() == before


@pytest.mark.parametrize("username", ["a\x00b", "boss\x00", "boss\r\n", "bo\x1bss"])
def test_a_control_character_in_the_sign_in_form_signs_nobody_in_and_records_nothing(client, make_user,
                                                                                   username):
    make_user("boss", "manager")
    before = audit_rows()
    r = client.post("/login", data={"username": username, "password": "correct horse battery",
                                    "csrf_token": csrf_token(client)})
    assert r.status_code == 400 and "username: control characters" in text(r)
    assert audit_rows() == before
    assert client.get("/g/main/desk").status_code == 302  # not signed in


def test_a_control_character_in_a_form_field_is_400_and_stores_nothing(boss):
    r = post_form(boss, "/g/main/admin/users", {"username": "carol\x00", "role": "attendant",
                                         "password": "initial password 1"}, page="/g/main/admin/users")
    assert r.status_code == 400 and "username: control characters" in text(r)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    r = post_form(boss, "/g/main/admin/users", {"username": "carol", "role": "attendant",
                                         "password": "initial password 1"}, htmx=True, page="/g/main/admin/users")
    assert r.status_code == 200  # the same form without the NUL works


def test_an_api_path_with_a_control_character_is_401_for_a_stranger_and_400_for_staff(client, staff):
    assert client.get("/api/tickets/PS-A%00B").status_code == 401
    r = client.get("/api/tickets/PS-A%00B", headers=staff)
    assert r.status_code == 400 and r.get_json()["message"].startswith("ticket_number: control characters")


# --- 5. CR/LF in next --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/%0D%0AX", "/a%0Ab", "/%00", "/a%09b"])
def test_next_with_a_control_character_never_reaches_a_location_header(app, client, make_user, target):
    make_user("boss", "manager")
    token = csrf_token(client)
    r = client.post(f"/login?next={target}",
                    data={"username": "boss", "password": "correct horse battery", "csrf_token": token})
    assert r.status_code == 400 and "next: control characters" in text(r)
    assert client.get("/g/main/desk").status_code == 302  # no session was created
    signed = signed_in(app, make_user, "ann", "attendant")
    r = signed.get(f"/login?next={target}")
    assert r.status_code == 400 and "next: control characters" in text(r)
    assert "Location" not in r.headers


def test_a_good_next_still_works(app, make_user):
    signed = signed_in(app, make_user, "ann", "attendant")
    r = signed.get("/login?next=/g/main/desk/exit%3Fq%3DAB")
    assert r.status_code == 302 and r.headers["Location"] == "/g/main/desk/exit?q=AB"
