"""Reserved spaces and permits under real concurrency (issue 19): gunicorn with several workers on
PostgreSQL, entries and exits fired at the same moment. Both pools stay exact: visitors never take a
reserved space, the garage never holds more than its spaces, the permit counter equals the permit cars
inside, and one permit never has two cars inside."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from garage.domain.clock import utcnow
from garage.extensions import db
from garage.identity import Actor
from tests.db.test_concurrency import fire, scalar
from tests.helpers.live import call

VISITORS_FULL = "Full for visitors"


def permits_for(live, plate_sets: list[list[str]]) -> None:
    from garage.services import permits
    today = utcnow().date()
    with live.app.app_context():
        for i, plates in enumerate(plate_sets):
            permits.create_permit(1, Actor.system(), holder=f"Holder {i}", plates=plates,
                                  valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=30),
                                  price_cents=0)
        db.session.remove()


def reserve(live, spaces: int) -> None:
    with live.app.app_context():
        db.session.execute(sa.text("UPDATE garages SET reserved_spaces = :n"), {"n": spaces})
        db.session.commit()
        db.session.remove()


def counters(live) -> tuple[int, int, int, int]:
    """(occupied, occupied_permit, cars inside, permit cars inside)."""
    return (scalar(live, "SELECT occupied FROM garages"), scalar(live, "SELECT occupied_permit FROM garages"),
            scalar(live, "SELECT count(*) FROM tickets WHERE status = 'active'"),
            scalar(live, "SELECT count(*) FROM tickets WHERE status = 'active' AND permit_id IS NOT NULL"))


def test_visitors_and_permit_holders_at_once_keep_both_pools_exact(live):
    live.reset(total_spaces=6)
    reserve(live, 2)
    permits_for(live, [[f"PM{i}"] for i in range(5)])
    headers = live.token()
    plates = [f"PM{i}" for i in range(5)] + [f"VV{i:02d}" for i in range(20)]
    results = fire(len(plates), lambda i: call("POST", f"{live.url}/api/tickets",
                                               {"licensePlate": plates[i], "vehicleType": "Car"}, headers))
    admitted = [body for status, body in results if status == 201]
    refused = [(plates[i], body["message"]) for i, (status, body) in enumerate(results) if status == 409]
    assert len(admitted) + len(refused) == len(plates), Counter(status for status, _ in results)
    occupied, permit_counter, inside, permit_inside = counters(live)
    assert (occupied, inside) == (6, 6)  # the garage fills exactly: more cars came than it holds
    assert permit_counter == permit_inside == sum(1 for body in admitted if body["permitId"] is not None)
    assert inside - permit_inside <= 4  # visitors never took one of the 2 reserved spaces
    for plate, message in refused:
        if plate.startswith("PM"):
            assert message == "Garage is full", (plate, message)  # a permit holder is refused only when full
        else:
            assert message == "Garage is full" or message.startswith(VISITORS_FULL), (plate, message)
    # Every car leaves at once: both counters come back to zero.
    out = fire(len(admitted), lambda i: call("PUT", f"{live.url}/api/tickets/{admitted[i]['ticketNumber']}/exit",
                                             {"paymentMethod": "Cash"}, headers))
    assert Counter(status for status, _ in out) == {200: len(admitted)}
    assert all(body["amountPaid"] == (0 if body["permitId"] else 1000) for _, body in out)
    assert counters(live) == (0, 0, 0, 0)


def test_the_cars_of_one_permit_entering_at_once_get_one_permit_ticket(live):
    live.reset(total_spaces=20)
    permits_for(live, [[f"FAM{i}" for i in range(5)]])
    headers = live.token()
    results = fire(5, lambda i: call("POST", f"{live.url}/api/tickets",
                                     {"licensePlate": f"FAM{i}", "vehicleType": "Car"}, headers))
    assert Counter(status for status, _ in results) == {201: 5}
    on_permit = [body for _, body in results if body["permitId"] is not None]
    assert len(on_permit) == 1  # anti-passback: the others entered as visitors, told why
    others = [body["permit"] for _, body in results if body["permitId"] is None]
    assert len(others) == 4 and all(p["state"] == "car_inside" and not p["admitted"] for p in others)
    assert counters(live) == (5, 1, 5, 1)


def test_renewals_and_a_correction_at_once_never_lose_a_paid_extension(live):
    from garage.domain.permits import add_months
    live.reset()
    permits_for(live, [["REN 1"]])
    manager = live.token("manager")
    permit_id = scalar(live, "SELECT id FROM permits")
    start_until = scalar(live, "SELECT valid_until FROM permits")
    bodies = [("POST", f"/api/permits/{permit_id}/renew", {"months": 1})] * 6 + \
             [("PATCH", f"/api/permits/{permit_id}", {"holder": "Renamed", "status": "suspended"})] * 2
    results = fire(len(bodies), lambda i: call(bodies[i][0], f"{live.url}{bodies[i][1]}", bodies[i][2], manager))
    assert {status for status, _ in results} <= {200, 409}, results
    renewed = sum(1 for (method, _, _), (status, _) in zip(bodies, results) if method == "POST" and status == 200)
    assert renewed >= 1
    until = start_until
    for _ in range(renewed):
        until = add_months(until + timedelta(days=1), 1) - timedelta(days=1)
    # every renewal that was answered 200 was paid for and moved the end: none lost to another request
    assert scalar(live, "SELECT valid_until FROM permits") == until
    assert scalar(live, "SELECT count(*) FROM permit_payments WHERE kind = 'renewal'") == renewed
