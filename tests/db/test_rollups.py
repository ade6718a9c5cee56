"""Issue 21: the reports' rollups are a cache that can never be wrong. On generated traffic in three
garages (Europe/Berlin, America/New_York, Asia/Tokyo) over days that include both DST changes of both
zones, with voids, refunds days later, corrections, validations, lost tickets, permit sales and permit
cars, multi-day stays and cars still inside, every figure of the report (summary, comparison,
breakdowns, rows, hourly events, occupancy, the rows' CSV) and of the portfolio, for several periods,
equals the recount from the ticket rows (the live code path: rollups switched off), on both databases.
Also: a second catch-up changes nothing; a back-dated amendment of a rolled-up day is counted; a
timezone change builds the rollups again in the new zone; two catch-ups at once (PostgreSQL) build each
day once."""
from __future__ import annotations

import math
import random
import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.periods import Period
from garage.extensions import db
from garage.identity import Actor
from garage.models import (
    Garage, ReportBreakdown, ReportDay, ReportHour, ReportMonth, ReportMonthBreakdown, ReportMonthStay, ReportStay,
)
from garage.reports.present import report_csv
from garage.services import amendments, permits, reports, rollups, settings, validations
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import arranged_once
from tests.helpers.garages import add_garage

ZONES = {"berlin": "Europe/Berlin", "ny": "America/New_York", "tokyo": "Asia/Tokyo"}
# Around every DST change of 2026 in Berlin (03-29, 10-25) and New York (03-08, 11-01).
WINDOWS = [(date(2026, 3, 6), date(2026, 3, 9)), (date(2026, 3, 28), date(2026, 3, 30)),
           (date(2026, 10, 24), date(2026, 11, 2))]
METHODS = ("Cash", "Credit Card", "Mobile Payment")
TYPES = ("Car", "SUV", "Motorcycle")
ROLLUP_TABLES = (ReportDay, ReportHour, ReportStay, ReportBreakdown, ReportMonth, ReportMonthStay, ReportMonthBreakdown)


def local(day: date, hours: float, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(timezone.utc) + timedelta(hours=hours)


def generate(garage_id: int, tz: str, staff: Actor, boss: Actor, rng: random.Random) -> None:
    """A few days of traffic: each ticket's events in time order across the garage."""
    events: list[tuple[datetime, int, str, dict]] = []
    serial = 0
    for first, last in WINDOWS:
        day = first
        while day <= last:
            for _ in range(rng.randint(3, 7)):
                serial += 1
                entered = local(day, rng.uniform(0, 24), tz)  # any hour, the repeated and the missing too
                plate = f"G{garage_id}N{serial}"
                kind = rng.choice(TYPES)
                events.append((entered, serial, "enter", {"plate": plate, "type": kind}))
                fate = rng.random()
                if fate < 0.1:
                    events.append((entered + timedelta(minutes=3), serial, "void", {}))
                    continue
                if fate < 0.15:
                    continue  # still inside
                if rng.random() < 0.2:
                    events.append((entered + timedelta(minutes=1), serial, "correct", {"type": rng.choice([t for t in TYPES if t != kind])}))
                if rng.random() < 0.15:
                    events.append((entered + timedelta(minutes=2), serial, "validate", {}))
                stay = timedelta(minutes=rng.randint(1, 600)) if rng.random() < 0.85 else \
                    timedelta(days=rng.randint(1, 3), minutes=rng.randint(0, 600))  # a multi-day stay
                left = entered + stay
                events.append((left, serial, "exit", {"method": rng.choice(METHODS), "lost": rng.random() < 0.08}))
                if rng.random() < 0.25:
                    events.append((left + timedelta(hours=rng.uniform(0.1, 50)), serial, "refund", {}))
            day += timedelta(days=1)
    sold = WINDOWS[0][0]
    events.append((local(sold, 9, tz), 0, "permit", {"plate": f"P{garage_id}X"}))
    for k, day in enumerate((date(2026, 3, 7), date(2026, 10, 25), date(2026, 11, 1))):
        serial += 1
        entered = local(day, 8 + k, tz)
        events.append((entered, serial, "enter", {"plate": f"P{garage_id}X", "type": "Car"}))
        events.append((entered + timedelta(hours=3), serial, "exit", {"method": "Cash", "lost": False}))
    numbers: dict[int, str] = {}
    paid: dict[int, int] = {}
    for at, n, kind, data in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "enter":
            numbers[n] = issue_ticket(garage_id, data["plate"], data["type"], staff, now=at).ticket_number
        elif kind == "void":
            amendments.void_ticket(garage_id, numbers[n], boss, "pressed twice", manager=True, now=at)
        elif kind == "correct":
            amendments.correct_ticket(garage_id, numbers[n], staff, vehicle_type=data["type"], reason="typo", now=at)
        elif kind == "validate":
            from garage.services.tickets import find_ticket
            validations.validate_ticket(garage_id, find_ticket(garage_id, numbers[n]), "CINEMA", staff, now=at)
        elif kind == "exit":
            paid[n] = process_exit(garage_id, numbers[n], data["method"], staff, now=at, lost=data["lost"]).amount_paid
        elif kind == "refund" and paid.get(n):
            amendments.refund_ticket(garage_id, numbers[n], boss, rng.randint(1, paid[n]), "goodwill", now=at)
        elif kind == "permit":
            permits.create_permit(garage_id, boss, holder="Ms Permit", plates=[data["plate"]],
                                  valid_from=date(2026, 3, 1), valid_until=date(2026, 12, 31), price_cents=9000,
                                  now=at)


@pytest.fixture
def traffic(app, make_user):
    """Three garages (the default one in Berlin) with their generated traffic; {slug: garage id}
    (generated once per test process and database, then its rows put back: tests/helpers/db.arranged_once)."""
    return generated_traffic(make_user)


@pytest.fixture
def caught_up(app, make_user):
    """The traffic with every garage's rollups caught up (rollups.catch_up, each in its own zone), as the
    tests that start from a complete history had each built it: built once per test process, database and
    hour of the clock, then its rows put back (arranged_once). The hour: what is settled moves with the
    clock, and a new local day of these zones (a whole number of hours off UTC) starts on the hour."""
    def catch_up_all() -> dict[str, int]:
        ids = generated_traffic(make_user)
        for slug, garage_id in ids.items():
            rollups.catch_up(garage_id, ZONES[slug])
        return ids

    return arranged_once(f"rollups traffic caught up {rollups.utcnow():%Y-%m-%d %H}", catch_up_all)


def generated_traffic(make_user) -> dict[str, int]:
    return arranged_once("rollups traffic", lambda: generate_traffic(make_user))


def generate_traffic(make_user) -> dict[str, int]:
    db.session.get(Garage, MAIN).timezone = ZONES["berlin"]
    db.session.commit()
    ids = {"berlin": MAIN, "ny": add_garage("ny", 50, timezone=ZONES["ny"]),
           "tokyo": add_garage("tokyo", 50, timezone=ZONES["tokyo"])}
    staff = Actor(make_user("ann", "attendant").id, "ann")
    boss = Actor(make_user("mia", "manager").id, "mia")
    rng = random.Random(21)
    for slug, garage_id in ids.items():
        validations.create_program(garage_id, boss, name="Cinema", kind="free_minutes", value=30,
                                   codes=["CINEMA"], reusable=True)
        generate(garage_id, ZONES[slug], staff, boss, rng)
    return ids


def recount(monkeypatch, build):
    """What `build` gives with the rollups switched off: every figure from the ticket rows."""
    with monkeypatch.context() as m:
        m.setattr(rollups, "days_for", lambda garage_id, tz, first, last, now=None: {})
        m.setattr(rollups, "days_across", lambda garages, first, last, now=None: {g.id: {} for g in garages})
        return build()


def same(a, b, where: str) -> None:
    """Equal; floats (occupancy integrals summed in another order) to 1e-9."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), (where, a, b)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        for name in a.__dataclass_fields__:
            same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    else:
        assert a == b, (where, a, b)


def csv_of(report) -> str:
    return "".join(report_csv(report))


PERIODS = {
    "berlin": [Period(date(2026, 10, 24), date(2026, 11, 2)), Period(date(2026, 10, 25), date(2026, 10, 25), "hour"),
               Period(date(2026, 3, 28), date(2026, 3, 30), "hour"), Period(date(2026, 3, 1), date(2026, 11, 30))],
    "ny": [Period(date(2026, 3, 6), date(2026, 3, 9)), Period(date(2026, 11, 1), date(2026, 11, 1), "hour"),
           Period(date(2026, 10, 20), date(2026, 11, 18))],
    "tokyo": [Period(date(2026, 10, 24), date(2026, 11, 2), "hour"), Period(date(2025, 12, 7), date(2026, 12, 7))],
}


def check_reports(app, monkeypatch, ids, now=None) -> None:
    with app.test_request_context():
        for slug, periods in PERIODS.items():
            for period in periods:
                got = reports.build_report(ids[slug], period, now=now)
                want = recount(monkeypatch, lambda: reports.build_report(ids[slug], period, now=now))
                where = f"{slug} {period}"
                for name in ("summary", "previous_summary", "changes", "by_method", "by_vehicle_type",
                             "by_attendant", "rows", "hours", "hour_events", "occupancy", "profile"):
                    same(getattr(got, name), getattr(want, name), f"{where} {name}")
                assert csv_of(got) == csv_of(want), where
        garages = list(db.session.scalars(sa.select(Garage).order_by(Garage.id)))
        for period in (Period(date(2026, 10, 20), date(2026, 11, 18)), Period(date(2026, 3, 1), date(2026, 3, 31))):
            same(reports.portfolio_figures(garages, period),
                 recount(monkeypatch, lambda: reports.portfolio_figures(garages, period)), f"portfolio {period}")


def hour_by_hour(monkeypatch, build):
    """What `build` gives with every report counted hour by hour (no report counted by the day)."""
    with monkeypatch.context() as m:
        m.setattr(Period, "by_day", property(lambda self: False))
        return build()


def check_days_against_hours(app, monkeypatch, ids, now=None) -> None:
    """A report counted by the day (its rolled-up days whole: report_days, and report_hours by hour of the
    week) has the rows, heat map and traffic by hour of day of the same report counted hour by hour."""
    with app.test_request_context():
        for slug, periods in PERIODS.items():
            for period in periods:
                if not period.by_day:
                    continue
                got = reports.build_report(ids[slug], period, now=now)
                want = hour_by_hour(monkeypatch, lambda: reports.build_report(ids[slug], period, now=now))
                assert got.hours == [] and want.hours
                where = f"{slug} {period} by the day"
                for name in ("summary", "previous_summary", "by_method", "rows", "profile"):
                    same(getattr(got, name), getattr(want, name), f"{where} {name}")
                assert csv_of(got) == csv_of(want), where


def assert_months_add_up() -> None:
    """A summed month's stays and breakdowns are its days' added up."""
    for garage_id, month in db.session.execute(sa.select(ReportMonth.garage_id, ReportMonth.month)).all():
        end = rollups.table.month_end(month)
        days = dict(db.session.execute(
            sa.select(ReportStay.duration_minutes, sa.func.sum(ReportStay.tickets))
            .where(ReportStay.garage_id == garage_id, ReportStay.day >= month, ReportStay.day <= end)
            .group_by(ReportStay.duration_minutes)).all())
        summed = dict(db.session.execute(
            sa.select(ReportMonthStay.duration_minutes, ReportMonthStay.tickets)
            .where(ReportMonthStay.garage_id == garage_id, ReportMonthStay.month == month)).all())
        assert {m: int(n) for m, n in days.items()} == summed, (garage_id, month)
        key = (ReportBreakdown.payment_method, ReportBreakdown.vehicle_type, ReportBreakdown.closed_by_id)
        days = {tuple(row[:3]): (int(row[3]), int(row[4])) for row in db.session.execute(
            sa.select(*key, sa.func.sum(ReportBreakdown.exits), sa.func.sum(ReportBreakdown.revenue_cents))
            .where(ReportBreakdown.garage_id == garage_id, ReportBreakdown.day >= month, ReportBreakdown.day <= end)
            .group_by(*key))}
        summed = {tuple(row[:3]): (row[3], row[4]) for row in db.session.execute(
            sa.select(ReportMonthBreakdown.payment_method, ReportMonthBreakdown.vehicle_type,
                      ReportMonthBreakdown.closed_by_id, ReportMonthBreakdown.exits, ReportMonthBreakdown.revenue_cents)
            .where(ReportMonthBreakdown.garage_id == garage_id, ReportMonthBreakdown.month == month))}
        assert days == summed, (garage_id, month)


def snapshot() -> dict:
    """Every rollup row (but when it was built)."""
    out = {}
    for model in ROLLUP_TABLES:
        columns = [c for c in model.__table__.columns if c.name not in ("built_at", "id")]
        out[model.__tablename__] = sorted(tuple(row) for row in db.session.execute(sa.select(*columns)))
    return out


def built_days(garage_id: int) -> dict[date, str]:
    return dict(db.session.execute(sa.select(ReportDay.day, ReportDay.timezone)
                                   .where(ReportDay.garage_id == garage_id, ReportDay.dirty.is_(False))).all())


def test_every_report_figure_equals_the_recount_from_the_tickets(app, traffic, monkeypatch):
    check_reports(app, monkeypatch, traffic)  # the reports' own bounded catch-ups: rolled-up and live days mixed
    for slug, garage_id in traffic.items():
        assert rollups.catch_up(garage_id, ZONES[slug]) > 0
        days = built_days(garage_id)
        # every day of the history up to yesterday is rolled up, in the garage's zone; today is not
        assert date(2026, 3, 6) in days and date(2026, 11, 1) in days and set(days.values()) == {ZONES[slug]}
        assert rollups.local_today(rollups.utcnow(), ZONES[slug]) not in days
    hours = db.session.scalar(sa.select(sa.func.count()).select_from(ReportHour))
    assert hours > 100  # the reports below read them
    # every whole month of the history has its stays summed (Berlin's April to November: PERIODS read them)
    assert {date(2026, m, 1) for m in range(4, 12)} <= set(db.session.scalars(
        sa.select(ReportMonth.month).where(ReportMonth.garage_id == MAIN)))
    assert_months_add_up()
    check_reports(app, monkeypatch, traffic)
    check_reports(app, monkeypatch, traffic, now=datetime(2026, 11, 5, tzinfo=timezone.utc))


def test_a_report_counted_by_the_day_equals_the_same_report_counted_hour_by_hour(app, traffic, monkeypatch):
    """Long reports grouped by day (Period.by_day: two of PERIODS, with both DST changes of Berlin) read
    their rolled-up days whole; live days, rolled-up days after `now` and days not rolled up are counted
    hour by hour in between, each from the cars inside at its start."""
    assert sum(p.by_day for periods in PERIODS.values() for p in periods) == 2
    check_days_against_hours(app, monkeypatch, traffic)  # nothing rolled up yet: the reports build some
    for slug, garage_id in traffic.items():
        rollups.catch_up(garage_id, ZONES[slug])
    check_days_against_hours(app, monkeypatch, traffic)
    check_days_against_hours(app, monkeypatch, traffic, now=datetime(2026, 11, 5, tzinfo=timezone.utc))
    db.session.execute(sa.update(ReportDay).where(ReportDay.day.in_([date(2026, 3, 29), date(2026, 7, 1)]))
                       .values(dirty=True))  # a DST day and a quiet one counted live between rolled-up ones
    db.session.commit()
    with monkeypatch.context() as m:
        m.setattr(rollups, "build", lambda *args, **kwargs: 0)
        check_days_against_hours(app, monkeypatch, traffic)


def test_a_second_catch_up_changes_nothing(app, caught_up, monkeypatch):
    traffic = caught_up
    before = snapshot()
    assert before["report_days"] and before["report_hours"] and before["report_stays"] and before["report_breakdowns"]
    assert sum(rollups.catch_up(garage_id, ZONES[slug]) for slug, garage_id in traffic.items()) == 0
    assert snapshot() == before
    # Built again from nothing: the same rows (but the empty days marked before the history began)
    assert sum(rollups.rebuild(garage_id, ZONES[slug]) for slug, garage_id in traffic.items()) > 800
    after = snapshot()
    kept = {row[:2] for row in after["report_days"]}  # (garage, day)
    # every hour of a rolled-up day has its row (the heat map's hours): those of the empty days gone, empty
    assert after["report_hours"] == [row for row in before["report_hours"] if row[:2] in kept]
    assert all(not any(row[3:14]) and not row[15] for row in before["report_hours"] if row[:2] not in kept)
    assert {k: v for k, v in after.items() if k not in ("report_days", "report_hours")} == \
        {k: v for k, v in before.items() if k not in ("report_days", "report_hours")}
    assert set(after["report_days"]) <= set(before["report_days"])
    assert all(not any(row[4:]) for row in set(before["report_days"]) - set(after["report_days"]))


def test_a_back_dated_amendment_of_a_rolled_up_day_is_counted(app, caught_up, monkeypatch):
    """A refund and an exit stamped in a day already rolled up mark it dirty in their own transaction."""
    traffic = caught_up
    staff = Actor.system("late")
    day = date(2026, 10, 25)
    number = issue_ticket(MAIN, "LATE 1", "Car", staff, now=local(day, 2.5, ZONES["berlin"])).ticket_number
    process_exit(MAIN, number, "Cash", staff, now=local(day, 23.9, ZONES["berlin"]))
    boss = Actor.system("boss")
    amendments.refund_ticket(MAIN, number, boss, 100, "late", now=local(day, 23.95, ZONES["berlin"]))
    assert day not in built_days(MAIN)  # dirty: read live until it is built again
    check_reports(app, monkeypatch, traffic)
    assert day in built_days(MAIN)  # the report's catch-up built it again
    assert_months_add_up()  # October's stays added up again with it
    with app.test_request_context():
        s = reports.build_report(MAIN, Period(day, day, "hour")).summary
        assert s.refunds == recount(monkeypatch, lambda: reports.build_report(MAIN, Period(day, day, "hour"))).summary.refunds


def test_a_timezone_change_builds_the_rollups_again(app, caught_up, monkeypatch):
    traffic = caught_up
    assert set(built_days(traffic["ny"]).values()) == {ZONES["ny"]}
    settings.update_settings(traffic["ny"], Actor.system("test"), timezone="Pacific/Auckland")
    assert built_days(traffic["ny"]) == {}  # dropped with the change
    check_reports(app, monkeypatch, traffic)
    assert rollups.catch_up(traffic["ny"], "Pacific/Auckland") > 0
    assert set(built_days(traffic["ny"]).values()) == {"Pacific/Auckland"}
    check_reports(app, monkeypatch, traffic)


@pytest.mark.postgres_only  # SQLite has one writer at a time: nothing runs at once there
def test_two_catch_ups_at_once_build_each_day_once(app, traffic, monkeypatch):
    garage_id, tz = traffic["berlin"], ZONES["berlin"]
    days = [date(2026, 10, 20) + timedelta(days=i) for i in range(20)]
    db.session.commit()
    barrier = threading.Barrier(2)
    built: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait()
                built.append(rollups.build(garage_id, tz, days))
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(built) == len(days), built  # each day built by one of them: the other found it built
    assert set(built_days(garage_id)) >= set(days)
    check_reports(app, monkeypatch, traffic)


def test_the_command_rolls_up_every_complete_day_once(app, traffic, monkeypatch):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["rollups", "--garage", "ny"])
    assert first.exit_code == 0, first.output
    built = int(first.output.split(":")[1].split()[0])
    assert first.output.startswith("ny: ") and "(America/New_York)" in first.output and built > 250
    assert built_days(traffic["berlin"]) == {}  # only the garage named
    again = runner.invoke(args=["rollups", "--garage", "ny"])
    assert again.output == "ny: 0 days rolled up (America/New_York)\n"
    rebuilt = runner.invoke(args=["rollups", "--rebuild"])
    # every garage, the history again (a day marked before it began, by a back-dated write, is gone with --rebuild)
    assert rebuilt.exit_code == 0 and f"ny: {built - 1} days rolled up" in rebuilt.output, rebuilt.output
    assert "main: " in rebuilt.output and "tokyo: " in rebuilt.output
    assert runner.invoke(args=["rollups", "--garage", "nowhere"]).exit_code != 0
    check_reports(app, monkeypatch, traffic)
