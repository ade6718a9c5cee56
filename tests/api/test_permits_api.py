"""Monthly permits and reserved spaces through the API (issue 19), on SQLite and PostgreSQL: a permit
car enters on a permit ticket and pays nothing, an expired / suspended / not-yet-valid permit or a second
car of the permit is told and enters as a visitor (or is refused where the garage says so), a car that
stays past its permit's end pays as a visitor from that moment (the quote is the charge), renewals,
reserved spaces (visitors FULL while permit holders still enter), sales as revenue, managers only."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from garage.domain.clock import local_day_bounds, utcnow
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.identity import Actor
from garage.models import PermitPayment
from garage.services.tickets import issue_ticket, process_exit, quote_for
from tests.helpers.api import enter, issue, pay, quote
from tests.helpers.db import audit_events, ticket

TODAY = utcnow().date()  # the default garage's timezone is UTC


def sell(client, manager, plates=("PERM 1",), start=None, end=None, **more):
    body = {"holder": "Jane Doe", "contact": "jane@example.com", "plates": list(plates),
            "validFrom": (start or TODAY - timedelta(days=3)).isoformat(),
            "validUntil": (end or TODAY + timedelta(days=27)).isoformat(), "price": 12000, **more}
    r = client.post("/api/permits", json=body, headers=manager)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def settings(client, manager, **values):
    r = client.put("/api/garage/settings", json=values, headers=manager)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def occupancy(client):
    return client.get("/api/garage/occupancy").get_json()


def test_a_permit_car_enters_on_a_permit_ticket_and_pays_nothing(client, staff, manager):
    permit = sell(client, manager, plates=["perm 1", "PERM-2"])
    assert (permit["number"], permit["state"], permit["plates"]) == (f"P-{permit['id']:05d}", "valid",
                                                                      ["PERM 1", "PERM-2"])
    r = enter(client, staff, "PERM1")  # the plate's key matches however it is typed
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["permitId"] == permit["id"]
    assert body["permit"] == {"permitId": permit["id"], "number": permit["number"], "holder": "Jane Doe",
                              "state": "valid", "admitted": True, "message": None}
    assert occupancy(client)["permitOccupied"] == 1
    assert audit_events("ticket.issued", body["ticketNumber"])[0].details["permitId"] == permit["id"]
    q = quote(client, staff, body["ticketNumber"])
    assert q["amountDue"] == 0
    paid = pay(client, staff, body["ticketNumber"], expectedAmount=0)
    assert paid.status_code == 200 and paid.get_json()["amountPaid"] == 0
    assert occupancy(client)["permitOccupied"] == 0 and occupancy(client)["occupied"] == 0


def test_a_visitor_plate_is_on_no_permit(client, staff, manager):
    sell(client, manager)
    body = enter(client, staff, "VISIT 1").get_json()
    assert body["permitId"] is None and body["permit"] is None


@pytest.mark.parametrize("change, state, words", [
    ({"validFrom": (TODAY - timedelta(days=40)).isoformat(), "validUntil": (TODAY - timedelta(days=1)).isoformat()},
     "expired", "expired on"),
    ({"status": "suspended"}, "suspended", "is suspended"),
    ({"validFrom": (TODAY + timedelta(days=2)).isoformat(), "validUntil": (TODAY + timedelta(days=30)).isoformat()},
     "not_yet_valid", "starts on"),
])
def test_a_permit_not_valid_now_is_told_and_the_car_enters_as_a_visitor(client, staff, manager, change, state,
                                                                       words):
    permit = sell(client, manager)
    r = client.patch(f"/api/permits/{permit['id']}", json=change, headers=manager)
    assert r.status_code == 200, r.get_json()
    body = enter(client, staff, "PERM 1").get_json()
    assert body["permitId"] is None
    assert body["permit"]["state"] == state and body["permit"]["admitted"] is False
    assert words in body["permit"]["message"] and "charged as a visitor" in body["permit"]["message"]
    assert quote(client, staff, body["ticketNumber"])["amountDue"] == 1000  # a visitor's first hour


def test_the_garage_may_refuse_a_car_whose_permit_is_not_valid(client, staff, manager):
    permit = sell(client, manager)
    client.patch(f"/api/permits/{permit['id']}", json={"status": "suspended"}, headers=manager)
    settings(client, manager, permitPolicy="refuse")
    r = enter(client, staff, "PERM 1")
    assert r.status_code == 409
    assert "suspended" in r.get_json()["message"] and "not let in" in r.get_json()["message"]
    assert occupancy(client)["occupied"] == 0 and ticket_count(client, staff) == 0
    assert enter(client, staff, "OTHER 1").status_code == 201  # a plate on no permit is a visitor as ever


def ticket_count(client, headers) -> int:
    return len(client.get("/api/activities", headers=headers).get_json())


def test_anti_passback_one_car_of_a_permit_inside_at_a_time(client, staff, manager):
    permit = sell(client, manager, plates=["CAR A", "CAR B"])
    first = enter(client, staff, "CAR A").get_json()
    assert first["permitId"] == permit["id"]
    second = enter(client, staff, "CAR B").get_json()
    assert second["permitId"] is None
    assert second["permit"]["state"] == "car_inside" and "CAR A is inside" not in second["permit"]["message"]
    assert "already has CAR A inside" in second["permit"]["message"]
    assert pay(client, staff, first["ticketNumber"]).get_json()["amountPaid"] == 0
    assert pay(client, staff, second["ticketNumber"]).get_json()["amountPaid"] == 1000
    third = enter(client, staff, "CAR B").get_json()  # the first has left: the permit admits its other car
    assert third["permitId"] == permit["id"]


def test_a_car_past_its_permits_end_pays_as_a_visitor_from_that_moment(app, client, staff, manager):
    end_day = TODAY - timedelta(days=1)
    permit = sell(client, manager, start=TODAY - timedelta(days=30), end=end_day)
    ends = local_day_bounds(end_day, "UTC")[1]
    entered = ends - timedelta(hours=5)
    number = issue_ticket(MAIN, "PERM 1", "Car", Actor.system(), now=entered).ticket_number
    assert ticket(number).permit_id == permit["id"]
    now = ends + timedelta(hours=2, minutes=10)  # 3 started hours after the end: $30
    t = ticket(number)
    q = quote_for(t, now=now)
    assert (q.amount_cents, q.billable_hours, q.duration_minutes) == (3000, 3, 7 * 60 + 10)
    paid = process_exit(MAIN, number, "Cash", Actor.system(), now=now, expected_amount_cents=3000)
    assert paid.amount_paid == 3000


def test_a_renewal_while_the_car_is_inside_covers_the_stay(app, client, staff, manager):
    end_day = TODAY
    permit = sell(client, manager, start=TODAY - timedelta(days=30), end=end_day)
    number = issue(client, staff, "PERM 1")
    later = local_day_bounds(end_day, "UTC")[1] + timedelta(hours=3)
    assert quote_for(ticket(number), now=later).amount_cents > 0
    r = client.post(f"/api/permits/{permit['id']}/renew", json={"months": 1, "paymentMethod": "Credit Card"},
                    headers=manager)
    assert r.status_code == 200, r.get_json()
    renewed = r.get_json()
    assert renewed["validUntil"] == _month_after(end_day + timedelta(days=1)).isoformat()
    assert quote_for(ticket(number), now=later).amount_cents == 0
    sales = PermitPayment.query.filter_by(permit_id=permit["id"]).order_by(PermitPayment.id).all()
    assert [(p.kind, p.amount_cents, p.payment_method) for p in sales] == [("sale", 12000, "Cash"),
                                                                           ("renewal", 12000, "Credit Card")]
    assert audit_events("permit.renewed", permit["number"])


def _month_after(start: date) -> date:
    from garage.domain.permits import add_months
    return add_months(start, 1) - timedelta(days=1)


def test_reserved_spaces_visitors_see_full_while_permit_holders_still_enter(client, staff, manager):
    settings(client, manager, totalSpaces=3, reservedSpaces=1)
    sell(client, manager, plates=["PERM 1"])
    assert occupancy(client)["available"] == 2 and occupancy(client)["permitAvailable"] == 3
    issue(client, staff, "VIS 1")
    issue(client, staff, "VIS 2")
    full = occupancy(client)
    assert (full["state"], full["available"], full["permitAvailable"], full["reservedSpaces"]) == ("FULL", 0, 1, 1)
    r = enter(client, staff, "VIS 3")
    assert r.status_code == 409
    assert r.get_json()["message"] == "Full for visitors: the 1 free space is reserved for permit holders"
    assert enter(client, staff, "PERM 1").get_json()["permitId"] is not None
    r = enter(client, staff, "VIS 4")
    assert r.status_code == 409 and r.get_json()["message"] == "Garage is full"


def test_permit_cars_may_use_visitor_spaces_which_then_count_against_visitors(client, staff, manager):
    settings(client, manager, totalSpaces=3, reservedSpaces=1)
    sell(client, manager, plates=["P 1"])
    client.post("/api/permits", json={"holder": "B", "plates": ["P 2"], "validFrom": TODAY.isoformat(),
                                      "validUntil": TODAY.isoformat(), "price": 0}, headers=manager)
    issue(client, staff, "P 1")
    issue(client, staff, "P 2")  # two permit cars: one in the reserved space, one in a visitor space
    assert occupancy(client)["available"] == 1
    issue(client, staff, "VIS 1")
    assert occupancy(client)["state"] == "FULL" and enter(client, staff, "VIS 2").status_code == 409


def test_reserved_spaces_are_some_of_the_garages_spaces(client, manager):
    r = client.put("/api/garage/settings", json={"reservedSpaces": 200}, headers=manager)
    assert r.status_code == 422 and "at most the 140 spaces" in r.get_json()["message"]
    r = client.put("/api/garage/settings", json={"reservedSpaces": 10, "totalSpaces": 5}, headers=manager)
    assert r.status_code == 422
    assert client.get("/api/garage/settings", headers=manager).get_json()["reservedSpaces"] == 0
    assert settings(client, manager, reservedSpaces=10)["reservedSpaces"] == 10
    r = client.put("/api/garage/settings", json={"totalSpaces": 5}, headers=manager)
    assert r.status_code == 422 and "at most the 5 spaces" in r.get_json()["message"]


def test_a_plate_is_on_one_permit_of_a_garage(client, manager):
    first = sell(client, manager, plates=["DUP 1"])
    r = client.post("/api/permits", json={"holder": "Other", "plates": ["dup-1"], "validFrom": TODAY.isoformat(),
                                          "validUntil": TODAY.isoformat(), "price": 0}, headers=manager)
    assert r.status_code == 409 and r.get_json()["message"] == f"DUP 1 is already on permit {first['number']}"


@pytest.mark.parametrize("body, field", [
    ({"holder": "  "}, "holder"), ({"plates": []}, "plates"), ({"plates": ["A 1", "B", "C", "D", "E", "F"]}, "plates"),
    ({"plates": ["😀"]}, "plates"), ({"validFrom": "2026-02-30"}, "validFrom"),
    ({"validUntil": (TODAY - timedelta(days=10)).isoformat()}, "validUntil"), ({"price": -1}, "price"),
    ({"validUntil": (TODAY + timedelta(days=900)).isoformat()}, "validUntil"), ({"paymentMethod": "Gold"}, "pay"),
])
def test_a_bad_permit_is_refused_with_a_message_and_nothing_sold(client, manager, body, field):
    full = {"holder": "Jane", "plates": ["OK 1"], "validFrom": TODAY.isoformat(),
            "validUntil": (TODAY + timedelta(days=30)).isoformat(), "price": 100, **body}
    r = client.post("/api/permits", json=full, headers=manager)
    assert r.status_code in (400, 422), r.get_json()
    assert r.get_json()["message"]
    assert client.get("/api/permits", headers=manager).get_json() == []
    assert PermitPayment.query.count() == 0


def test_permits_are_for_managers_and_per_garage(client, staff, manager):
    permit = sell(client, manager)
    assert client.get("/api/permits", headers=staff).status_code == 403
    assert client.post(f"/api/permits/{permit['id']}/renew", json={}, headers=staff).status_code == 403
    assert client.get("/api/permits/999999", headers=manager).status_code == 404
    assert client.get("/api/permits/abc", headers=manager).status_code == 404
    assert client.get("/api/permits").status_code == 401


def test_search_by_holder_plate_and_state(client, manager):
    sell(client, manager, plates=["ABC 1"], holder="Alice Martin")
    client.post("/api/permits", json={"holder": "Bob Stone", "plates": ["XYZ 9"],
                                      "validFrom": (TODAY - timedelta(days=40)).isoformat(),
                                      "validUntil": (TODAY - timedelta(days=10)).isoformat(), "price": 0},
                headers=manager)
    names = lambda **q: [p["holder"] for p in client.get("/api/permits", query_string=q, headers=manager).get_json()]
    assert names() == ["Alice Martin", "Bob Stone"]
    assert names(q="martin") == ["Alice Martin"]
    assert names(q="xyz") == ["Bob Stone"]
    assert names(status="expired") == ["Bob Stone"]
    assert names(status="valid") == ["Alice Martin"]
    assert names(q="%") == [] and names(q="_") == []
    assert client.get("/api/permits", query_string={"status": "nope"}, headers=manager).status_code == 422


def test_a_cash_sale_is_in_the_sellers_drawer_and_every_sale_in_the_reports(client, manager):
    from garage.services import reports
    opened = client.post("/api/shifts", json={"floatCents": 5000}, headers=manager)
    assert opened.status_code == 201, opened.get_json()
    permit = sell(client, manager)  # $120.00 cash
    r = client.post(f"/api/permits/{permit['id']}/renew", json={"price": 10000, "paymentMethod": "Credit Card"},
                    headers=manager)
    assert r.status_code == 200
    current = client.get("/api/shifts/current", headers=manager).get_json()
    assert current["expectedCashCents"] == 5000 + 12000
    totals = {t["paymentMethod"]: (t["payments"], t["amountCents"]) for t in current["totals"]}
    assert totals["Cash"] == (1, 12000) and totals["Credit Card"] == (1, 10000)
    closed = client.post(f"/api/shifts/{current['id']}/close", json={"countedCashCents": 17000}, headers=manager)
    assert closed.status_code == 200 and closed.get_json()["overShortCents"] == 0
    start = utcnow() - timedelta(hours=1)
    figures = reports.summary(MAIN, start, utcnow() + timedelta(minutes=1))
    assert (figures.permit_sales, figures.permit_sales_cents, figures.revenue_cents) == (2, 22000, 0)


def test_permit_car_exits_are_counted_apart(client, staff, manager):
    from garage.services import reports
    sell(client, manager)
    pay(client, staff, issue(client, staff, "PERM 1"))
    pay(client, staff, issue(client, staff, "VISIT 9"))
    figures = reports.summary(MAIN, utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=1))
    assert (figures.exits, figures.permit_exits, figures.revenue_cents) == (2, 1, 1000)
    assert figures.average_ticket_cents == 1000  # the permit car let out for nothing is no ticket sold
    methods = {row.label: (row.exits, row.revenue_cents) for row in reports.breakdowns(
        MAIN, utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=1)).by_method}
    assert methods == {"Cash": (1, 1000), "Permit": (1, 0)}  # counted apart, not as cash


def test_a_change_made_on_a_permit_read_before_a_renewal_is_refused_not_lost(app, client, manager, monkeypatch):
    """The interleaving the concurrency test can only hope for: a manager's change read the permit, another
    renewed (and was paid) meanwhile; the change is refused (409) rather than putting the old end back."""
    from garage.domain.errors import Conflict
    from garage.extensions import db
    from garage.services import permits as service
    permit = sell(client, manager)
    stale = service.get_permit(MAIN, permit["id"])
    db.session.expunge(stale)  # what the change read, before the renewal
    renewed = client.post(f"/api/permits/{permit['id']}/renew", json={"months": 1}, headers=manager).get_json()
    monkeypatch.setattr(service, "get_permit", lambda garage_id, permit_id: db.session.merge(stale, load=False))
    with pytest.raises(Conflict, match="renewed or changed meanwhile"):
        service.update_permit(MAIN, permit["id"], Actor.system(), {"status": "suspended"})
    monkeypatch.undo()
    now = client.get(f"/api/permits/{permit['id']}", headers=manager).get_json()
    assert (now["validUntil"], now["status"]) == (renewed["validUntil"], "active")


def test_a_permits_second_car_finding_the_visitor_spaces_full_is_told_why_it_counted_as_a_visitor(client, staff,
                                                                                                   manager):
    settings(client, manager, totalSpaces=3, reservedSpaces=1)
    sell(client, manager, plates=["JB 100", "JB 101"])
    issue(client, staff, "JB 100")  # the permit's car: in the reserved space
    issue(client, staff, "VIS 1")
    issue(client, staff, "VIS 2")  # the visitors' spaces are full; the garage too
    r = enter(client, staff, "JB 101")
    assert r.status_code == 409
    assert r.get_json()["message"] == ("The permit of Jane Doe already has JB 100 inside (one car per permit at a "
                                       "time): as a visitor this car cannot enter, the visitors' spaces are full")


def test_a_car_already_inside_is_told_so_even_when_the_garage_is_full(client, staff, manager):
    settings(client, manager, totalSpaces=2, reservedSpaces=1)
    sell(client, manager, plates=["PB 1"])
    first = issue(client, staff, "PB 1")
    issue(client, staff, "VIS 1")  # full
    for plate in ("PB 1", "vis-1"):
        r = enter(client, staff, plate)
        assert r.status_code == 409 and "already inside on ticket" in r.get_json()["message"], r.get_json()
    assert first in enter(client, staff, "PB 1").get_json()["message"]
    stats = client.get("/api/garage/stats", headers=staff).get_json()
    assert (stats["availableSpaces"], stats["availableSpacesPercentage"]) == (0, 0)


def test_a_car_inside_is_told_so_where_its_permit_would_refuse_it(client, staff, manager):
    sell(client, manager, plates=["PB 2", "PB 3"])
    settings(client, manager, permitPolicy="refuse")
    issue(client, staff, "PB 2")
    r = enter(client, staff, "PB 2")
    assert r.status_code == 409 and "already inside on ticket" in r.get_json()["message"]
    r = enter(client, staff, "PB 3")  # the other car of the permit: refused for the permit's rule
    assert r.status_code == 409 and "already has PB 2 inside" in r.get_json()["message"]


def test_each_garage_says_how_many_plates_a_permit_may_have(client, manager):
    plates = [f"FAM {n}" for n in range(7)]
    r = client.post("/api/permits", json={"holder": "Big Family", "plates": plates, "validFrom": TODAY.isoformat(),
                                          "validUntil": TODAY.isoformat(), "price": 0}, headers=manager)
    assert r.status_code == 422 and r.get_json()["message"] == "This garage allows at most 5 plates per permit"
    assert settings(client, manager, permitMaxPlates=8)["permitMaxPlates"] == 8
    assert sell(client, manager, plates=plates)["plates"] == plates
    r = client.put("/api/garage/settings", json={"permitMaxPlates": 11}, headers=manager)
    assert r.status_code == 422
