"""The JSON API (/api) through the Flask test client, on SQLite and PostgreSQL: the seed's
contract (fields, status codes, messages) with credentials, and the OpenAPI document and docs page."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import AuditEvent, Garage, Ticket
from tests.helpers.api import enter
from tests.helpers.db import backdate, set_settings, ticket_count
from tests.helpers.web import signed_in, soup
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN

TICKET_FIELDS = {"id", "ticketNumber", "licensePlate", "vehicleType", "entryTime", "exitTime",
                 "durationMinutes", "amountPaid", "status", "paymentMethod", "lost", "lostFee", "receiptNumber",
                 "refundedCents", "voidReason", "permitId", "permit", "priceRule", "currency"}


# --- the seed's test plan (section 6.2) -------------------------------------------------

def test_status_is_public_and_checks_the_database(client):
    r = client.get("/api/status")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_stats_have_exactly_the_seed_fields(client, staff):
    r = client.get("/api/garage/stats", headers=staff)
    assert r.status_code == 200
    assert r.get_json() == {
        "totalSpaces": 140, "occupiedSpaces": 0, "availableSpaces": 140,
        "occupiedSpacesPercentage": 0, "availableSpacesPercentage": 100, "hourlyRate": 10.0,
        "todaysRevenue": 0.0, "vehiclesProcessedToday": 0, "averageStayTime": 0.0,
        "currency": "USD",  # the garage's (issue 22): hourlyRate and todaysRevenue are in its major unit
    }


def test_create_ticket_returns_the_seed_ticket(client, staff):
    r = enter(client, staff, plate=" abc 123 ", vehicle="SUV")
    assert r.status_code == 201
    body = r.get_json()
    assert set(body) == TICKET_FIELDS
    assert body["ticketNumber"].startswith("PS-")
    assert body["licensePlate"] == "ABC 123" and body["vehicleType"] == "SUV"
    assert body["status"] == "active" and body["exitTime"] is None and body["amountPaid"] is None
    entry = datetime.fromisoformat(body["entryTime"])
    assert entry.utcoffset() == timedelta(0)
    assert abs(entry - datetime.now(timezone.utc)) < timedelta(seconds=30)


def test_get_ticket_is_case_insensitive_and_trims(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    for form in (number, number.lower(), f"  {number} ", number[3:]):
        r = client.get(f"/api/tickets/{form}", headers=staff)
        assert r.status_code == 200, form
        assert r.get_json()["ticketNumber"] == number
    r = client.get("/api/tickets/PS-ZZZZZZ", headers=staff)
    assert r.status_code == 404 and r.get_json() == {"message": "Ticket not found"}


def test_exit_charges_started_hours_and_frees_the_space(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    backdate(number, minutes=61)
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Credit Card"}, headers=staff)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "completed" and body["paymentMethod"] == "Credit Card"
    assert body["durationMinutes"] in (61, 62) and body["amountPaid"] == 2000
    stats = client.get("/api/garage/stats", headers=staff).get_json()
    assert stats["occupiedSpaces"] == 0 and stats["vehiclesProcessedToday"] == 1
    assert stats["todaysRevenue"] == 20.0 and stats["averageStayTime"] == 1.0


def test_quote_is_what_the_exit_charges(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    backdate(number, hours=2, minutes=5)
    q = client.get(f"/api/tickets/{number}/quote", headers=staff).get_json()
    assert q["amountDue"] == 3000 and q["billableHours"] == 3
    paid = client.put(f"/api/tickets/{number}/exit",
                      json={"paymentMethod": "Cash", "expectedAmount": q["amountDue"]}, headers=staff)
    assert paid.status_code == 200 and paid.get_json()["amountPaid"] == q["amountDue"]


def test_exit_refused_when_the_quote_is_stale(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    backdate(number, minutes=61)  # an hour boundary passed after a 1-hour quote
    r = client.put(f"/api/tickets/{number}/exit",
                   json={"paymentMethod": "Cash", "expectedAmount": 1000}, headers=staff)
    assert r.status_code == 409 and "$20.00" in r.get_json()["message"]
    assert client.get(f"/api/tickets/{number}", headers=staff).get_json()["status"] == "active"


@pytest.mark.parametrize("expected", [10**15 + 1, 1e300, 2**63, -1, 1.5])
def test_an_expected_amount_no_quote_can_be_is_422_naming_the_range_and_charges_nothing(client, staff, expected):
    """0 to 10^15 minor units: any quote there can be (one above what a payment records is refused by
    the exit with its reason). 1e300 was compared with the fee and echoed in float digits."""
    number = enter(client, staff).get_json()["ticketNumber"]
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash", "expectedAmount": expected},
                   headers=staff)
    assert r.status_code == 422 and r.get_json()["message"].startswith("expectedAmount"), r.get_json()
    assert "e+" not in r.get_json()["message"]
    assert client.get(f"/api/tickets/{number}", headers=staff).get_json()["status"] == "active"
    assert client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash", "expectedAmount": 10**15},
                      headers=staff).status_code == 409  # the top of the range is an amount: it differs


def test_paying_twice_charges_once(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    first = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    second = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.get_json() == {"message": "Ticket has already been processed"}
    paid = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.paid")).all()
    assert len(paid) == 1


def test_activities_newest_first_with_amount_in_dollars(client, staff):
    a = enter(client, staff, "AAA1").get_json()["ticketNumber"]
    b = enter(client, staff, "BBB2").get_json()["ticketNumber"]
    client.put(f"/api/tickets/{a}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    rows = client.get("/api/activities", headers=staff).get_json()
    assert [r["ticketNumber"] for r in rows] == [a, b]  # a's exit is the latest event
    assert rows[0]["amount"] == 10.0 and rows[1]["amount"] is None
    assert set(rows[0]) == {"id", "ticketNumber", "licensePlate", "entryTime", "exitTime",
                            "durationMinutes", "amount", "status", "currency"}
    assert len(client.get("/api/activities?limit=1", headers=staff).get_json()) == 1


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_activities_limit_is_validated(client, staff, limit):
    r = client.get(f"/api/activities?limit={limit}", headers=staff)
    assert r.status_code == 422 and "limit" in r.get_json()["message"]


def test_openapi_describes_every_api_route(client, staff):
    assert client.get("/openapi.json").status_code == 401  # not public
    spec = client.get("/openapi.json", headers=staff).get_json()
    assert spec["openapi"].startswith("3.")
    for path, method in [("/api/status", "get"), ("/api/garage/stats", "get"), ("/api/tickets", "post"),
                         ("/api/tickets/{ticket_number}", "get"),
                         ("/api/tickets/{ticket_number}/exit", "put"), ("/api/activities", "get"),
                         ("/api/garage/settings", "put")]:
        assert method in spec["paths"][path], (path, method)
    create = spec["components"]["schemas"]["TicketCreate"]
    assert create["required"] == ["licensePlate", "vehicleType"]
    assert "Motorcycle" in str(create)


def test_docs_page_is_for_staff_and_uses_local_assets_only(client, app, make_user):
    r = client.get("/docs")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    client = signed_in(app, make_user, "reader", "attendant")
    r = client.get("/docs")
    assert r.status_code == 200
    assert client.get("/openapi.json").status_code == 200  # what Swagger UI fetches, with the session
    page = soup(r)
    sources = [s["src"] for s in page.find_all("script")] + [l["href"] for l in page.find_all("link")]
    assert sources and all(src.startswith("/") for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200, src


# --- capacity, duplicates, validation ---------------------------------------------------

def test_full_garage_refuses_entry_with_409(client, staff):
    set_settings(total_spaces=2)
    assert enter(client, staff, "A1").status_code == 201
    assert enter(client, staff, "A2").status_code == 201
    r = enter(client, staff, "A3")
    assert r.status_code == 409 and r.get_json() == {"message": "Garage is full"}
    assert ticket_count() == 2


def test_full_garage_writes_nothing_not_even_an_audit_row(client, staff):
    set_settings(total_spaces=1)
    assert enter(client, staff, "F1").status_code == 201
    audit_rows = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert enter(client, staff, "F2").status_code == 409
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == audit_rows
    assert db.session.get(Garage, 1).occupied == 1 and ticket_count() == 1


def test_a_ticket_number_collision_is_retried_with_a_new_number(client, staff, monkeypatch):
    taken = enter(client, staff, "FIRST 1").get_json()["ticketNumber"]
    numbers = iter([taken, "PS-ZZZZZZ"])  # the next draw collides, the one after does not
    monkeypatch.setattr("garage.services.tickets.new_ticket_number", lambda: next(numbers))
    r = enter(client, staff, "SECOND 2")
    assert r.status_code == 201 and r.get_json()["ticketNumber"] == "PS-ZZZZZZ"
    db.session.remove()
    assert ticket_count() == 2 and db.session.get(Garage, 1).occupied == 2
    issued = db.session.scalars(sa.select(AuditEvent.object_id).where(AuditEvent.action == "ticket.issued"))
    assert sorted(issued) == sorted([taken, "PS-ZZZZZZ"])


def test_plate_already_inside_names_the_ticket(client, staff):
    number = enter(client, staff, "XY-99").get_json()["ticketNumber"]
    r = enter(client, staff, "xy 99")
    assert r.status_code == 409 and number in r.get_json()["message"]
    assert ticket_count() == 1
    client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert enter(client, staff, "XY99").status_code == 201  # may come back after leaving


@pytest.mark.parametrize("body, status, words", [
    ({"licensePlate": "ABC", "vehicleType": "Truck"}, 422, "Motorcycle"),
    ({"licensePlate": "ABC"}, 422, "vehicleType: field required"),
    ({"vehicleType": "Car"}, 422, "licensePlate: field required"),
    ({"licensePlate": 123, "vehicleType": "Car"}, 422, "licensePlate"),
    ({"licensePlate": "ABC", "vehicleType": "Car", "admin": True}, 422, "admin: unknown field"),
    ({"licensePlate": "A_B", "vehicleType": "Car"}, 422, "letters, digits"),
    ({"licensePlate": "ABCDEFGHJK123", "vehicleType": "Car"}, 422, "at most 12"),
    ({"licensePlate": "", "vehicleType": "Car"}, 422, "licensePlate"),
    (["ABC", "Car"], 422, "JSON object"),
])
def test_invalid_entries_are_refused_and_write_nothing(client, staff, body, status, words):
    r = client.post("/api/tickets", json=body, headers=staff)
    assert r.status_code == status
    assert words in r.get_json()["message"]
    assert ticket_count() == 0


def test_malformed_json_is_400(client, staff):
    r = client.post("/api/tickets", data="{not json", headers={**staff, "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.get_json()["message"]
    assert ticket_count() == 0


def test_huge_body_is_413(client, staff):
    r = client.post("/api/tickets", data="x" * 200_000, headers={**staff, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.get_json()["message"]


def test_bad_payment_method_is_422_and_charges_nothing(client, staff):
    number = enter(client, staff).get_json()["ticketNumber"]
    r = client.put(f"/api/tickets/{number}/exit", json={"paymentMethod": "Gold"}, headers=staff)
    assert r.status_code == 422 and "Credit Card" in r.get_json()["message"]
    assert client.get(f"/api/tickets/{number}", headers=staff).get_json()["status"] == "active"


def test_exit_of_unknown_ticket_is_404(client, staff):
    r = client.put("/api/tickets/PS-XXXXXX/exit", json={"paymentMethod": "Cash"}, headers=staff)
    assert r.status_code == 404


def test_unknown_api_path_and_method_answer_json(client, staff):
    assert client.get("/api/nope", headers=staff).get_json() == {"message": "Not found"}
    r = client.delete("/api/tickets", headers=staff)
    assert r.status_code == 405 and r.get_json()["message"]


def test_counter_matches_active_tickets(client, staff):
    numbers = [enter(client, staff, f"P{i}").get_json()["ticketNumber"] for i in range(5)]
    for n in numbers[:2]:
        client.put(f"/api/tickets/{n}/exit", json={"paymentMethod": "Cash"}, headers=staff)
    active = db.session.scalar(sa.select(sa.func.count()).where(Ticket.status == "active"))
    assert db.session.get(Garage, 1).occupied == active == 3


def test_times_are_stored_timezone_aware_utc(client, staff):
    enter(client, staff)
    db.session.expire_all()
    t = db.session.scalar(sa.select(Ticket))
    assert t.entry_time.tzinfo is not None and t.entry_time.utcoffset() == timedelta(0)


@pytest.mark.parametrize("tzname, now_utc", [
    ("America/New_York", datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)),   # local: still the 4th, 22:00
    ("America/New_York", datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc)),  # local: the 5th, 12:00
    ("Asia/Tokyo", datetime(2026, 12, 5, 20, 0, tzinfo=timezone.utc)),        # local: already the 6th, 05:00
])
def test_todays_figures_follow_the_garage_timezone(client, staff, app, monkeypatch, tzname, now_utc):
    """An exit at 23:30 local yesterday is not today's revenue, whatever UTC says. The clock is fixed
    (at hours where the UTC date and the local date differ, and one where they agree): with the
    real clock the UTC-date bug showed only five hours a day."""
    from zoneinfo import ZoneInfo
    from garage.services import stats as stats_service
    monkeypatch.setattr(stats_service, "utcnow", lambda: now_utc)
    db.session.execute(sa.update(Garage).values(timezone=tzname))
    db.session.commit()
    now_local = now_utc.astimezone(ZoneInfo(tzname))
    midnight = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    for plate, exit_local, cents in [("OLD1", midnight - timedelta(minutes=30), 7000),
                                     ("NEW1", midnight + timedelta(minutes=1), 3000)]:
        exit_utc = exit_local.astimezone(timezone.utc)
        db.session.add(Ticket(garage_id=MAIN, ticket_number=f"PS-{plate}", license_plate=plate, plate_key=plate,
                              vehicle_type="Car", entry_time=exit_utc - timedelta(hours=3),
                              exit_time=exit_utc, duration_minutes=180, amount_paid=cents,
                              status="completed", payment_method="Cash", last_event_at=exit_utc))
    db.session.commit()
    stats = client.get("/api/garage/stats", headers=staff).get_json()
    assert stats["todaysRevenue"] == 30.0 and stats["vehiclesProcessedToday"] == 1
    assert stats["averageStayTime"] == 3.0


def test_status_is_503_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    r = client.get("/api/status")
    assert r.status_code == 503 and r.get_json()["status"] == "error"


def test_api_needs_a_token_except_public_endpoints(client):
    assert client.get("/api/garage/stats").status_code == 401
    assert client.post("/api/tickets", json={"licensePlate": "A1", "vehicleType": "Car"}).status_code == 401
    assert ticket_count() == 0
    assert client.get("/api/garage/occupancy").status_code == 200


def test_openapi_says_every_operation_may_answer_503_while_the_database_is_away(client, staff):
    spec = client.get("/openapi.json", headers=staff).get_json()
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) >= 9
    missing = [(path, method) for path, method, op in operations if "503" not in op["responses"]]
    assert missing == []


def test_a_doubled_slash_under_the_api_is_a_json_404_not_an_html_redirect(client, staff):
    """An outside check: /api/garages/north%2F/... and /api/garages/north//... answered 308 with an
    HTML body (Werkzeug's merge_slashes redirect): every answer under /api is JSON."""
    from tests.helpers.garages import add_garage

    add_garage("north")
    for path in ("/api/garages/north%2F/garage/stats", "/api/garages/north//garage/stats", "/api//garage/stats",
                 "/api/garages/north%2F/garage/occupancy", "/api//garages", "/api//status"):
        for headers in ({}, staff):
            r = client.get(path, headers=headers)
            assert (r.status_code, r.mimetype, r.get_json()) == (404, "application/json", {"message": "Not found"}), path
    assert client.get("/api/garage/stats", headers=staff).status_code == 200
