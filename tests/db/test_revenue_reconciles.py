"""Issue 18: the report, its two CSV exports, the merchants' validation report and the shifts'
close-outs reconcile to the cent on a generated month of traffic with voids, corrections, refunds and
validations mixed in (both databases; the
garage in America/New_York, so the month crosses no DST change but every local day is 5 h off UTC).

Every figure is recomputed here from what the generator did (its own ledger), not from the tables."""
from __future__ import annotations

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.periods import Period
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.reports.present import report_csv
from garage.services import amendments, reports, shifts, validations
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import arranged_once

NY = ZoneInfo("America/New_York")
FIRST = date(2026, 4, 1)
DAYS = 30
METHODS = ("Cash", "Cash", "Credit Card", "Mobile Payment")


@dataclass
class Ledger:
    revenue: int = 0
    refunded: int = 0
    exits: int = 0
    voids: int = 0
    entries: int = 0
    by_method: Counter = field(default_factory=Counter)
    shift_cash: Counter = field(default_factory=Counter)  # shift id → cash in − cash refunded out
    shift_float: dict = field(default_factory=dict)
    validated: int = 0
    discounts: int = 0


def local(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0), NY).astimezone(timezone.utc) + timedelta(hours=hour)


@pytest.fixture
def month(app, make_user):
    """Thirty days: each day the attendant opens a shift at 07:00 with a float, cars come and go,
    one ticket a day is voided soon after its entry, about one payment in four is refunded in part by
    the manager (from the manager's own shift that day), a plate is corrected now and then; both
    shifts close at 20:00 with a count off by a few cents. (Played once per test process and database, then
    its rows put back: tests/helpers/db.arranged_once.)"""
    return arranged_once("a month of shifts", lambda: play_month(make_user))


def play_month(make_user) -> "Ledger":
    db.session.get(Garage, MAIN).timezone = "America/New_York"
    db.session.commit()
    ann = Actor(make_user("ann", "attendant").id, "ann")
    boss = Actor(make_user("mia", "manager").id, "mia")
    rng = random.Random(18)
    book = Ledger()
    validations.create_program(MAIN, boss, name="Cinema", kind="percent_off", value=30, codes=["CINEMA-ALL"],
                               reusable=True)
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        desk = shifts.open_shift(MAIN, ann, 5000, now=local(day, 7)).shift.id
        office = shifts.open_shift(MAIN, boss, 20000, now=local(day, 7)).shift.id
        book.shift_float.update({desk: 5000, office: 20000})
        paid = []
        for i in range(rng.randint(4, 8)):
            entered = local(day, 8 + i + rng.random())
            number = issue_ticket(MAIN, f"D{d}C{i}", "Car", ann, now=entered).ticket_number
            book.entries += 1
            if i == 0:  # issued by mistake, voided three minutes later
                amendments.void_ticket(MAIN, number, ann, "pressed twice", now=entered + timedelta(minutes=3))
                book.voids += 1
                continue
            if rng.random() < 0.3:
                amendments.correct_ticket(MAIN, number, ann, license_plate=f"D{d}K{i}", reason="typo",
                                          now=entered + timedelta(minutes=1))
            method = rng.choice(METHODS)
            code = "cinema all" if rng.random() < 0.2 else None
            ticket = process_exit(MAIN, number, method, ann, now=entered + timedelta(minutes=rng.randint(5, 300)),
                                  validation_code=code)
            if code:
                book.validated += 1
                book.discounts += ticket.discount_cents
                assert ticket.discount_cents > 0
            book.revenue += ticket.amount_paid
            book.exits += 1
            book.by_method[method] += ticket.amount_paid
            if method == "Cash":
                book.shift_cash[desk] += ticket.amount_paid
            paid.append(ticket)
        for ticket in paid:
            if rng.random() < 0.25:
                cents = rng.randint(1, ticket.amount_paid)
                amendments.refund_ticket(MAIN, ticket.ticket_number, boss, cents, "goodwill",
                                         now=local(day, 19.5))
                book.refunded += cents
                if ticket.payment_method == "Cash":
                    book.shift_cash[office] -= cents
        for shift, who in ((desk, ann), (office, boss)):
            expected = book.shift_float[shift] + book.shift_cash[shift]
            shifts.close_shift(MAIN, shift, who, expected - 7, manager=who is boss, now=local(day, 20))
    return book


def test_the_report_and_its_csv_reconcile_with_what_happened(month, manager_client):
    period = Period(FIRST, FIRST + timedelta(days=DAYS - 1), "day")
    report = reports.build_report(MAIN, period, now=local(FIRST + timedelta(days=DAYS), 0))
    s = report.summary
    assert (s.revenue_cents, s.refunded_cents, s.net_revenue_cents) == \
        (month.revenue, month.refunded, month.revenue - month.refunded)
    assert (s.exits, s.voids, s.entries) == (month.exits, month.voids, month.entries)
    assert {row.label: row.revenue_cents for row in report.by_method} == dict(month.by_method)
    assert sum(row.exits for row in report.by_attendant) == month.exits  # voids are no one's exits
    assert sum(row.revenue_cents for row in report.rows) == month.revenue
    assert sum(row.refunded_cents for row in report.rows) == month.refunded
    assert sum(row.exits for row in report.rows) == month.exits
    assert [row.entries for row in report.rows].count(0) == 0 and len(report.rows) == DAYS
    # occupancy over time stays within what the garage holds (a void frees its space like an exit)
    assert all(0 <= row.average_occupancy <= row.peak_occupancy <= 140 for row in report.rows)

    start, end = period.bounds("America/New_York")
    [cinema] = validations.report(MAIN, start, end)
    assert (cinema.tickets, cinema.value_cents) == (month.validated, month.discounts)

    rows = list(csv.DictReader(io.StringIO("".join(report_csv(report)))))
    assert sum(cents(r["revenue_usd"]) for r in rows) == month.revenue
    assert sum(cents(r["refunds_usd"]) for r in rows) == month.refunded

    r = manager_client.get("/g/main/reports/export/tickets.csv",
                           query_string={"from": FIRST.isoformat(), "to": (FIRST + timedelta(days=DAYS - 1)).isoformat()})
    assert r.status_code == 200
    tickets = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(tickets) == month.entries
    statuses = Counter(t["status"] for t in tickets)
    assert statuses == {"completed": month.exits, "voided": month.voids}
    assert sum(cents(t["amount_usd"]) for t in tickets) == month.revenue
    assert sum(cents(t["refunded_usd"]) for t in tickets) == month.refunded
    assert all(t["amount_usd"] == t["refunded_usd"] == "" for t in tickets if t["status"] == "voided")


def test_every_shift_close_out_reconciles_with_its_payments_and_refunds(month):
    closed = shifts.list_shifts(MAIN, limit=1000)
    assert len(closed) == 2 * DAYS
    for report in closed:
        shift = report.shift
        assert report.expected_cash_cents == month.shift_float[shift.id] + month.shift_cash[shift.id]
        assert shift.over_short_cents == -7
        assert report.expected_cash_cents == \
            shift.float_cents + report.cash_payments_cents - report.cash_refunds_cents
    assert sum(r.cash_payments_cents for r in closed) == month.by_method["Cash"]


def cents(text: str) -> int:
    if not text:
        return 0
    units, _, frac = text.partition(".")
    return int(units) * 100 + int(frac.ljust(2, "0"))


def test_the_day_closes_of_the_month_add_up_to_it(month):
    """Each local day closed the next morning: the closes' figures add up to the month's ledger (revenue,
    refunds, voids, validations) and their cash to the shifts' close-outs; closing changes nothing."""
    from garage.services import closes

    manager = Actor(None, "system")
    totals = Counter()
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        view = closes.close_day(MAIN, day, manager, now=local(day + timedelta(days=1), 6))
        f = view.figures
        totals.update(revenue=f.revenue_cents, refunded=f.refunded_cents, voids=f.voids, exits=f.exits,
                      validated=f.validated, discounts=f.validation_discount_cents,
                      expected=f.expected_cash_cents, counted=f.counted_cash_cents, shifts=len(f.closed_shifts))
        assert view.adjustments == ()  # just closed: nothing changed since
    assert (totals["revenue"], totals["refunded"], totals["voids"], totals["exits"]) == \
        (month.revenue, month.refunded, month.voids, month.exits)
    assert (totals["validated"], totals["discounts"]) == (month.validated, month.discounts)
    assert totals["shifts"] == 2 * DAYS and totals["counted"] - totals["expected"] == -7 * 2 * DAYS
    assert totals["expected"] == sum(month.shift_float.values()) + sum(month.shift_cash.values())
