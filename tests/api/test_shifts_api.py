"""Shifts through the API (issue 18), on SQLite and PostgreSQL: POST /shifts, GET /shifts/current
(the X report), GET /shifts/<id>, POST /shifts/<id>/close (a total or per denomination), at the
seed's paths and under /api/garages/<slug>; a garage created now takes payments only in a shift."""
from __future__ import annotations

import pytest

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.api import api, issue, pay
from tests.helpers.db import audit_events, ticket
from tests.helpers.garages import add_garage, bearer, grant

NO_SHIFT = {"message": "Open a shift before taking payments"}


def open_shift(client, headers, float_cents=10000, garage=None):
    return client.post(f"{api(garage)}/shifts", json={"floatCents": float_cents}, headers=headers)


def test_a_shift_from_opening_to_close_out(client, staff):
    r = open_shift(client, staff, 10000)
    assert r.status_code == 201, r.get_json()
    shift = r.get_json()
    assert (shift["status"], shift["floatCents"], shift["expectedCashCents"], shift["overShortCents"]) == \
        ("open", 10000, 10000, None)
    cash = issue(client, staff, "CASH 1")
    assert pay(client, staff, cash).status_code == 200
    assert pay(client, staff, issue(client, staff, "CARD 1"), paymentMethod="Debit Card").status_code == 200
    assert ticket(cash).shift_id == shift["id"]

    x = client.get("/api/shifts/current", headers=staff).get_json()
    totals = {t["paymentMethod"]: (t["payments"], t["amountCents"]) for t in x["totals"]}
    assert totals == {"Cash": (1, 1000), "Credit Card": (0, 0), "Debit Card": (1, 1000), "Mobile Payment": (0, 0)}
    assert (x["cashPaymentsCents"], x["expectedCashCents"], x["totalCents"]) == (1000, 11000, 2000)

    r = client.post(f"/api/shifts/{shift['id']}/close", json={"countedCashCents": 10500}, headers=staff)
    assert r.status_code == 200, r.get_json()
    closed = r.get_json()
    assert (closed["status"], closed["expectedCashCents"], closed["countedCashCents"], closed["overShortCents"]) == \
        ("closed", 11000, 10500, -500)
    assert client.get(f"/api/shifts/{shift['id']}", headers=staff).get_json() == closed  # kept as recorded
    assert client.get("/api/shifts/current", headers=staff).status_code == 404
    again = client.post(f"/api/shifts/{shift['id']}/close", json={"countedCashCents": 0}, headers=staff)
    assert (again.status_code, again.get_json()) == (409, {"message": "This shift is closed"})


def test_close_counted_by_denomination(client, staff):
    shift = open_shift(client, staff, 2000).get_json()
    r = client.post(f"/api/shifts/{shift['id']}/close", json={"countedByDenomination": {"1000": 2, "25": 3}},
                    headers=staff)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["countedCashCents"], body["overShortCents"]) == (2075, 75)
    assert body["countedByDenomination"]["1000"] == 2 and body["countedByDenomination"]["10000"] == 0


@pytest.mark.parametrize("body, status", [
    ({}, 422), ({"countedCashCents": 5, "countedByDenomination": {"5": 1}}, 422), ({"countedCashCents": -1}, 422),
    ({"countedByDenomination": {"300": 1}}, 422), ({"countedCashCents": "5"}, 422), ({"extra": 1}, 422),
    ({"countedByDenomination": {}}, 422),  # no count at all (it closed the shift with 0 counted)
])
def test_a_bad_count_is_refused_and_the_shift_stays_open(client, staff, body, status):
    shift = open_shift(client, staff).get_json()
    r = client.post(f"/api/shifts/{shift['id']}/close", json=body, headers=staff)
    assert r.status_code == status and "message" in r.get_json()
    assert client.get("/api/shifts/current", headers=staff).get_json()["status"] == "open"


def test_one_open_shift_per_person_and_a_bad_float(client, staff):
    assert open_shift(client, staff, -1).status_code == 422
    assert open_shift(client, staff, 1_000_001).status_code == 422
    assert open_shift(client, staff, 500).status_code == 201
    r = open_shift(client, staff, 500)
    assert (r.status_code, r.get_json()) == (409, {"message": "You already have an open shift at this garage"})


def test_another_attendants_shift_is_not_found_a_manager_closes_it(client, staff, token_for):
    other = token_for("attendant")
    boss = token_for("manager")
    shift = open_shift(client, staff).get_json()
    for path in (f"/api/shifts/{shift['id']}", "/api/shifts/99999", "/api/shifts/abc"):
        r = client.get(path, headers=other)
        assert (r.status_code, r.get_json()) == (404, {"message": "No such shift"}), path
    assert client.post(f"/api/shifts/{shift['id']}/close", json={"countedCashCents": 0},
                       headers=other).status_code == 404
    assert client.get(f"/api/shifts/{shift['id']}", headers=boss).status_code == 200
    r = client.post(f"/api/shifts/{shift['id']}/close", json={"countedCashCents": 10000}, headers=boss)
    assert r.status_code == 200 and r.get_json()["overShortCents"] == 0
    assert audit_events("shift.closed", str(shift["id"]))[0].details["countedCashCents"] == 10000


def test_a_new_garage_takes_payments_only_in_a_shift(client, make_user):
    north = add_garage("north", spaces=5, shifts_required=True)
    make_user("ann", "attendant")
    grant("ann", north)
    ann = bearer("ann", [north])
    number = issue(client, ann, "NORTH 1", garage="north")
    r = pay(client, ann, number, garage="north")
    assert (r.status_code, r.get_json()) == (409, NO_SHIFT)
    assert ticket(number).status == "active" and audit_events("ticket.paid", number) == []
    shift = open_shift(client, ann, 0, garage="north").get_json()
    r = pay(client, ann, number, garage="north")
    assert r.status_code == 200 and r.get_json()["receiptNumber"] == "R-000001"  # no number was drawn before
    assert client.get(f"/api/garages/north/shifts/{shift['id']}", headers=ann).get_json()["cashPaymentsCents"] == 1000
    # the seed's paths answer for the token's only garage, and main's shifts are not north's
    assert client.get(f"/api/shifts/{shift['id']}", headers=ann).status_code == 200
    assert client.get("/api/garages/main/shifts/current", headers=ann).status_code == 404


def test_the_default_garage_takes_payments_without_a_shift(client, staff):
    number = issue(client, staff, "NO SHIFT 1")
    assert pay(client, staff, number).status_code == 200
    assert ticket(number).shift_id is None


def test_shifts_need_a_token(client):
    assert client.post("/api/shifts", json={"floatCents": 0}).status_code == 401
    assert client.get("/api/shifts/current").status_code == 401
