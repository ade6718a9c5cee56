"""Corrections, voids and refunds through the API (issue 18), on SQLite and PostgreSQL:
PATCH /tickets/<n>, POST /tickets/<n>/void, POST /tickets/<n>/refund, at the seed's paths and under
/api/garages/<slug>. Each refused change writes nothing; each change is audited with why."""
from __future__ import annotations

from datetime import timedelta

import pytest

from garage.domain.clock import utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage, Refund
from garage.services.tickets import issue_ticket
from tests.helpers.api import api, issue, pay
from tests.helpers.db import audit_events, ticket
from tests.helpers.garages import add_garage, bearer, grant


def patch(client, headers, number, garage=None, **body):
    return client.patch(f"{api(garage)}/tickets/{number}", json=body, headers=headers)


def void(client, headers, number, reason="never entered", garage=None):
    return client.post(f"{api(garage)}/tickets/{number}/void", json={"reason": reason}, headers=headers)


def refund(client, headers, number, cents, reason="overcharged", garage=None):
    return client.post(f"{api(garage)}/tickets/{number}/refund", json={"amountCents": cents, "reason": reason},
                       headers=headers)


def occupied() -> int:
    db.session.expire_all()
    return db.session.get(Garage, MAIN).occupied


def entered_minutes_ago(minutes: int, plate: str) -> str:
    return issue_ticket(MAIN, plate, "Car", Actor.system(), now=utcnow() - timedelta(minutes=minutes)).ticket_number


# --- corrections ---------------------------------------------------------------------------------

def test_a_car_inside_has_its_plate_and_type_corrected_with_before_and_after_kept(client, staff):
    number = issue(client, staff, "AB0123", "Car")
    r = patch(client, staff, number, licensePlate="ab-o123", vehicleType="SUV", reason="typed 0 for O")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["licensePlate"], body["vehicleType"], body["status"]) == ("AB-O123", "SUV", "active")
    [event] = audit_events("ticket.corrected", number)
    assert event.details == {"reason": "typed 0 for O", "before": {"plate": "AB0123", "vehicleType": "Car"},
                             "after": {"plate": "AB-O123", "vehicleType": "SUV"}}
    # the car is now found by its right plate, and a new entry of that plate is refused
    assert client.post("/api/tickets", json={"licensePlate": "ABO123", "vehicleType": "Car"},
                       headers=staff).status_code == 409


def test_a_correction_keeps_one_car_per_plate(client, staff):
    inside = issue(client, staff, "KEEP 1")
    typo = issue(client, staff, "KEEP 2")
    r = patch(client, staff, typo, licensePlate="keep1", reason="same car twice?")
    assert r.status_code == 409 and inside in r.get_json()["message"]
    assert ticket(typo).license_plate == "KEEP 2" and audit_events("ticket.corrected", typo) == []


def test_a_paid_ticket_has_only_its_plate_corrected(client, staff):
    number = issue(client, staff, "PAID 1")
    assert pay(client, staff, number).status_code == 200
    r = patch(client, staff, number, vehicleType="SUV", reason="was an SUV")
    assert r.status_code == 409 and "Refund" in r.get_json()["message"]
    r = patch(client, staff, number, licensePlate="PAID 2", reason="receipt for the right car")
    assert r.status_code == 200 and r.get_json()["licensePlate"] == "PAID 2"
    assert r.get_json()["amountPaid"] == 1000  # the payment is untouched


@pytest.mark.parametrize("body, status", [
    ({"licensePlate": "NEW 1"}, 422),  # no reason
    ({"licensePlate": "NEW 1", "reason": "   "}, 422),
    ({"licensePlate": "NEW 1", "reason": "x" * 501}, 422),
    ({"reason": "nothing to change"}, 422),
    ({"licensePlate": "SAME 1", "reason": "unchanged"}, 422),
    ({"licensePlate": "!!", "reason": "not a plate"}, 422),
    ({"vehicleType": "Tank", "reason": "no such type"}, 422),
    ({"licensePlate": None, "reason": "null"}, 422),
    ({"licensePlate": "NEW 1", "reason": "r", "extra": 1}, 422),
])
def test_a_bad_correction_is_refused_and_changes_nothing(client, staff, body, status):
    number = issue(client, staff, "SAME 1")
    r = client.patch(f"/api/tickets/{number}", json=body, headers=staff)
    assert r.status_code == status and r.get_json()["message"], r.get_json()
    assert ticket(number).license_plate == "SAME 1" and audit_events("ticket.corrected", number) == []


def test_unknown_ticket_and_no_token(client, staff):
    assert patch(client, staff, "PS-NOSUCH", licensePlate="A1", reason="r").status_code == 404
    assert void(client, staff, "PS-NOSUCH").status_code == 404
    assert client.patch("/api/tickets/PS-NOSUCH", json={"licensePlate": "A1", "reason": "r"}).status_code == 401


# --- voids ---------------------------------------------------------------------------------------

def test_an_attendant_voids_a_ticket_issued_by_mistake_and_its_space_is_freed(client, staff):
    number = issue(client, staff, "OOPS 1")
    assert occupied() == 1
    r = void(client, staff, number, "pressed Issue twice")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["status"], body["amountPaid"], body["voidReason"]) == ("voided", None, "pressed Issue twice")
    assert occupied() == 0
    assert audit_events("ticket.voided", number)[0].details["reason"] == "pressed Issue twice"
    # it cannot be paid, voided again or corrected; the plate may enter again
    assert pay(client, staff, number).status_code == 409
    assert void(client, staff, number).status_code == 409
    assert patch(client, staff, number, licensePlate="OOPS 2", reason="r").status_code == 409
    assert issue(client, staff, "OOPS 1") != number
    assert occupied() == 1


def test_after_the_void_window_only_a_manager_voids(client, staff, manager):
    db.session.get(Garage, MAIN).void_window_minutes = 10
    db.session.commit()
    late = entered_minutes_ago(11, "LATE 1")
    r = void(client, staff, late)
    assert r.status_code == 403 and "manager" in r.get_json()["message"]
    assert ticket(late).status == "active" and occupied() == 1
    assert void(client, staff, entered_minutes_ago(9, "EARLY 1")).status_code == 200
    assert void(client, manager, late).status_code == 200
    assert occupied() == 0


def test_a_void_window_of_zero_leaves_voids_to_managers(client, staff, manager):
    r = client.put("/api/garage/settings", json={"voidWindowMinutes": 0}, headers=manager)
    assert r.status_code == 200 and r.get_json()["voidWindowMinutes"] == 0
    number = issue(client, staff, "ZERO 1")
    assert void(client, staff, number).status_code == 403
    assert void(client, manager, number).status_code == 200


@pytest.mark.parametrize("value", [-1, 1441, "10", True, None, 2.5])
def test_a_bad_void_window_is_refused(client, manager, value):
    r = client.put("/api/garage/settings", json={"voidWindowMinutes": value}, headers=manager)
    assert r.status_code == 422 and r.get_json()["message"]
    assert client.get("/api/garage/settings", headers=manager).get_json()["voidWindowMinutes"] == 10


def test_a_paid_ticket_is_not_voided(client, staff, manager):
    number = issue(client, staff, "PAID 9")
    pay(client, staff, number)
    r = void(client, manager, number)
    assert r.status_code == 409 and "refund" in r.get_json()["message"]
    assert ticket(number).status == "completed"


def test_a_void_needs_a_reason(client, staff):
    number = issue(client, staff, "WHY 1")
    assert void(client, staff, number, "  ").status_code == 422
    assert ticket(number).status == "active" and occupied() == 1


# --- refunds -------------------------------------------------------------------------------------

def test_a_manager_refunds_part_then_the_rest_never_more(client, staff, manager):
    number = issue(client, staff, "REFUND 1")
    assert pay(client, staff, number).status_code == 200  # $10.00 cash
    r = refund(client, manager, number, 300, "waited at the barrier")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["amountCents"], body["paymentMethod"], body["refundedTotalCents"], body["amountPaid"]) == \
        (300, "Cash", 300, 1000)
    r = refund(client, manager, number, 701)
    assert r.status_code == 422 and "$7.00" in r.get_json()["message"]
    assert refund(client, manager, number, 700).status_code == 201
    r = refund(client, manager, number, 1)
    assert r.status_code == 409 and "in full" in r.get_json()["message"]
    assert client.get(f"/api/tickets/{number}", headers=staff).get_json()["refundedCents"] == 1000
    assert [e.details["amountCents"] for e in audit_events("ticket.refunded", number)] == [300, 700]


@pytest.mark.parametrize("body", [{"amountCents": 0, "reason": "r"}, {"amountCents": -5, "reason": "r"},
                                  {"amountCents": "5", "reason": "r"}, {"amountCents": 5}, {"amountCents": 5,
                                                                                           "reason": ""}])
def test_a_bad_refund_is_refused_and_writes_nothing(client, staff, manager, body):
    number = issue(client, staff, "BAD REFUND")
    pay(client, staff, number)
    r = client.post(f"/api/tickets/{number}/refund", json=body, headers=manager)
    assert r.status_code == 422 and r.get_json()["message"]
    assert ticket(number).refunded_cents == 0 and db.session.query(Refund).count() == 0


def test_only_managers_refund_and_only_paid_tickets(client, staff, manager):
    number = issue(client, staff, "WHO 1")
    r = refund(client, manager, number, 100)
    assert r.status_code == 409 and "paid" in r.get_json()["message"]
    pay(client, staff, number)
    assert refund(client, staff, number, 100).status_code == 403
    assert ticket(number).refunded_cents == 0


def test_a_cash_refund_leaves_the_refunders_drawer(client, staff, token_for):
    boss = token_for("manager")
    shift = client.post("/api/shifts", json={"floatCents": 5000}, headers=boss).get_json()
    number = issue(client, staff, "DRAWER 1")
    pay(client, staff, number)  # the attendant has no shift: the payment is in none
    card = issue(client, staff, "CARD 1")
    pay(client, staff, card, paymentMethod="Credit Card")
    assert refund(client, boss, number, 400).get_json()["shiftId"] == shift["id"]
    assert refund(client, boss, card, 200).status_code == 201  # not cash: the drawer is untouched
    x = client.get("/api/shifts/current", headers=boss).get_json()
    assert (x["cashRefundsCents"], x["expectedCashCents"]) == (400, 4600)
    closed = client.post(f"/api/shifts/{shift['id']}/close", json={"countedCashCents": 4600}, headers=boss)
    assert closed.get_json()["overShortCents"] == 0
    assert audit_events("shift.closed", str(shift["id"]))[0].details["cashRefundsCents"] == 400


def test_a_garage_that_requires_shifts_gives_cash_back_only_from_a_drawer(client, make_user):
    north = add_garage("north", spaces=5, shifts_required=True)
    make_user("ann", "attendant")
    make_user("boss", "manager")
    grant("ann", north)
    grant("boss", north, "manager")
    ann, boss = bearer("ann", [north]), bearer("boss", [north])
    client.post("/api/garages/north/shifts", json={"floatCents": 0}, headers=ann)
    number = issue(client, ann, "NORTH 1", garage="north")
    assert pay(client, ann, number, garage="north").status_code == 200
    r = refund(client, boss, number, 100, garage="north")
    assert r.status_code == 409 and "shift" in r.get_json()["message"]
    assert ticket(number).refunded_cents == 0
    client.post("/api/garages/north/shifts", json={"floatCents": 1000}, headers=boss)
    assert refund(client, boss, number, 100, garage="north").status_code == 201
