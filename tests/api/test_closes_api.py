"""GET and POST /api/closes/<date> (issue 18's end-of-day close): managers only, camelCase integer
cents, the seed's path and the garage's own, 404 for what is not a date, 409 for a day not over or
closed already, and a later correction to a closed day shown as an after-close adjustment."""
from __future__ import annotations

from datetime import timedelta

import pytest

from garage.domain.clock import local_today, utcnow
from garage.services import amendments
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from tests.helpers.closes import DAY, build_day, people

PATH = f"/api/closes/{DAY.isoformat()}"


@pytest.fixture
def day(make_user):
    ann, boss = people(make_user)
    return build_day(ann, boss), boss


def test_a_day_not_closed_answers_its_figures_now(client, manager, day):
    built, _ = day
    r = client.get(PATH, headers=manager)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["date"], body["timezone"], body["closed"], body["closable"]) == \
        (DAY.isoformat(), "America/New_York", False, True)
    assert body["closedAt"] is None and body["closedBy"] is None and body["adjustments"] == []
    f = body["figures"]
    assert f == body["currentFigures"]
    assert (f["ticketsIssued"], f["exits"], f["voids"], f["refunds"], f["lostTickets"], f["carsInside"]) == \
        (5, 4, 1, 1, 1, 1)
    assert (f["revenueCents"], f["refundedCents"], f["netRevenueCents"]) == \
        (built.revenue_cents, 300, built.revenue_cents - 300)
    assert {m["paymentMethod"]: m["revenueCents"] for m in f["byMethod"]} == \
        {"Cash": built.cash_cents, "Credit Card": built.card_cents}
    assert (f["shiftsClosed"], f["expectedCashCents"], f["countedCashCents"], f["overShortCents"]) == \
        (1, built.expected_cash_cents, built.counted_cash_cents, -50)
    assert f["shifts"] == [{"id": built.shift, "openedBy": "ann", "status": "closed",
                            "expectedCashCents": built.expected_cash_cents,
                            "countedCashCents": built.counted_cash_cents, "overShortCents": -50}]


def test_closing_keeps_the_figures_and_a_later_refund_is_an_adjustment(client, manager, day):
    built, boss = day
    closed = client.post(PATH, headers=manager)
    assert closed.status_code == 201
    body = closed.get_json()
    assert body["closed"] and not body["closable"] and body["closedBy"].startswith("manager-")
    again = client.post(PATH, headers=manager)
    assert again.status_code == 409 and "already closed" in again.get_json()["message"]
    amendments.refund_ticket(MAIN, built.paid, boss, 250, "charged twice")
    later = client.get(PATH, headers=manager).get_json()
    assert later["figures"]["paymentsRefundedCents"] == 300
    assert later["currentFigures"]["paymentsRefundedCents"] == 550
    assert later["adjustments"] == [{"figure": "paymentsRefundedCents", "label": "Refunded of this day's payments",
                                     "before": 300, "after": 550, "difference": 250}]


def test_today_and_later_cannot_be_closed(client, manager, day):
    today = local_today(utcnow(), "America/New_York")
    for when in (today, today + timedelta(days=1)):
        r = client.post(f"/api/closes/{when.isoformat()}", headers=manager)
        assert r.status_code == 409 and "has not ended yet" in r.get_json()["message"]
        shown = client.get(f"/api/closes/{when.isoformat()}", headers=manager).get_json()
        assert not shown["closed"] and not shown["closable"]


@pytest.mark.parametrize("raw", ["2026-02-30", "yesterday", "1999-12-31", "2026-4-10", "２０２６-04-10"])
def test_what_is_not_a_date_is_404_with_a_message(client, manager, raw):
    for method in ("GET", "POST"):
        r = client.open(f"/api/closes/{raw}", method=method, headers=manager)
        assert r.status_code == 404 and r.get_json()["message"], (method, raw)


def test_managers_only_and_at_the_garages_own_path(client, manager, staff, day):
    assert client.get(PATH, headers=staff).status_code == 403
    assert client.post(PATH, headers=staff).status_code == 403
    assert client.get(PATH).status_code == 401
    r = client.post(f"/api/garages/main/closes/{DAY.isoformat()}", headers=manager)
    assert r.status_code == 201 and r.get_json()["closed"]
    assert client.get(PATH, headers=manager).get_json()["closed"]
    assert client.get(f"/api/garages/nowhere/closes/{DAY.isoformat()}", headers=manager).status_code == 404


def test_the_document_describes_both_operations(client, staff):
    spec = client.get("/openapi.json", headers=staff).get_json()
    for path in ("/api/closes/{date}", "/api/garages/{garage}/closes/{date}"):
        ops = spec["paths"][path]
        assert set(ops) == {"get", "post"}
        assert {"200", "404"} <= set(ops["get"]["responses"]) and {"201", "404", "409"} <= set(ops["post"]["responses"])
        assert ops["post"]["description"] == "Roles: manager"
    figures = spec["components"]["schemas"]["DayFiguresResponse"]["properties"]
    assert {"revenueCents", "byMethod", "carsInside", "overShortCents"} <= set(figures)
