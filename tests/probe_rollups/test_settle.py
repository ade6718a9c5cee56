"""The SETTLE window and "today" (issue 21): with the rollups' clock held at chosen instants, writes
stamped just before a local midnight and committed a moment (or more than an hour) later, reports of
today, of yesterday that ended less than an hour ago and of the days before, catch-ups between them:
every figure is the recount from the rows, at every point of the clock."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from garage.domain.clock import local_today
from garage.domain.periods import Period
from garage.services import amendments, reports, rollups
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.garages import add_garage
from tests.probe_rollups.harness import differences, first_lines, midnight, sqlite_safe
from tests.probe_rollups.test_generated import SETTINGS, examples, people  # noqa: F401 (a fixture)

SERIAL = itertools.count(1)
ZONES = ("Europe/Berlin", "Asia/Kathmandu", "America/St_Johns", "Pacific/Apia", "Pacific/Kiritimati", "UTC")
DAYS = (date(2026, 10, 25), date(2026, 11, 1), date(2026, 11, 12))
LAGS = (timedelta(0), timedelta(seconds=1), timedelta(minutes=10), timedelta(minutes=59, seconds=59),
        timedelta(minutes=60), timedelta(minutes=61), timedelta(hours=3))
AROUND = (timedelta(0), timedelta(microseconds=-1), timedelta(seconds=-1), timedelta(minutes=-1),
          timedelta(minutes=1), timedelta(minutes=-59), timedelta(minutes=59), timedelta(minutes=61))


@st.composite
def timelines(draw):
    tz = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(DAYS))
    start, end = midnight(day - timedelta(days=1), tz), midnight(day + timedelta(days=1), tz) + timedelta(hours=2)
    midnights = [midnight(day + timedelta(days=i), tz) for i in (0, 1)]

    def instant():
        if draw(st.booleans()):
            return draw(st.sampled_from(midnights)) + draw(st.sampled_from(AROUND))
        return start + timedelta(seconds=draw(st.integers(0, int((end - start).total_seconds()))))

    steps = []  # (stamp, lag, what)
    for n in range(draw(st.integers(2, 8))):
        entered = instant()
        steps.append((entered, draw(st.sampled_from(LAGS)), ("enter", n)))
        if draw(st.integers(0, 3)):
            left = max(instant(), entered + timedelta(minutes=draw(st.integers(0, 30))))
            steps.append((left, draw(st.sampled_from(LAGS)), ("exit", n)))
            if draw(st.integers(0, 2)) == 0:
                steps.append((left + draw(st.sampled_from(LAGS)) + timedelta(seconds=1), draw(st.sampled_from(LAGS)),
                              ("refund", n)))
    steps.sort(key=lambda s: (s[0], s[2][0] != "enter"))
    checks = sorted(draw(st.lists(st.tuples(st.integers(0, len(steps)), st.sampled_from(("catch_up", "report"))),
                                  min_size=1, max_size=4)))
    final_lag = draw(st.sampled_from(LAGS))
    return tz, day, steps, checks, final_lag


@settings(max_examples=examples(8), **SETTINGS)
@given(timeline=timelines())
def test_writes_around_midnight_with_the_clock_held(app, monkeypatch, people, timeline):
    tz, day, steps, checks, final_lag = timeline
    staff, boss = people
    garage_id = add_garage(f"s{next(SERIAL)}", 60, timezone=tz)
    clock = [steps[0][0]]
    monkeypatch.setattr(rollups, "utcnow", lambda: clock[0])
    monkeypatch.setattr(reports, "utcnow", lambda: clock[0])
    numbers: dict[int, str] = {}
    paid: dict[int, int] = {}

    def checkpoint(kind: str) -> None:
        if kind == "catch_up":
            rollups.catch_up(garage_id, tz)
        else:  # the page of the last 3 local days: its own catch-up at the clock
            today = local_today(clock[0], tz)
            with app.test_request_context():
                reports.build_report(garage_id, Period(today - timedelta(days=2), today))

    c = 0
    if app.config["DATABASE_KIND"] == "sqlite":  # its known millisecond rounding (test_known_failures.py)
        steps = [(sqlite_safe(stamp), lag, step) for stamp, lag, step in steps]
    for i, (stamp, lag, (what, n)) in enumerate(steps):
        while c < len(checks) and checks[c][0] <= i:
            checkpoint(checks[c][1])
            c += 1
        clock[0] = max(clock[0], stamp + lag)  # committed `lag` after it was stamped
        if what == "enter":
            numbers[n] = issue_ticket(garage_id, f"S{n}", "Car", staff, now=stamp).ticket_number
        elif what == "exit":
            paid[n] = process_exit(garage_id, numbers[n], "Cash", staff, now=stamp).amount_paid
        elif what == "refund" and paid.get(n):
            amendments.refund_ticket(garage_id, numbers[n], boss, 1, "goodwill", now=stamp)
    for _, kind in checks[c:]:
        checkpoint(kind)
    clock[0] += final_lag
    today = local_today(clock[0], tz)
    periods = [Period(today, today, "hour"), Period(today - timedelta(days=1), today - timedelta(days=1), "hour"),
               Period(today - timedelta(days=3), today), Period(day - timedelta(days=1), day + timedelta(days=1), "hour")]
    diffs = differences(app, monkeypatch, garage_id, periods, now=clock[0])
    assert not diffs, f"{tz} {day} clock {clock[0]}\n{steps}\n{checks}\n{first_lines(diffs)}"


def test_a_refund_today_of_an_exit_in_a_rolled_up_day(app, monkeypatch, people):
    """Stamped with the real clock (no `now`): the refund is today's, the exit's day keeps its rollup."""
    from datetime import datetime, timezone

    from garage.domain.clock import utcnow
    from tests.probe_rollups.harness import built_days, local

    staff, boss = people
    tz = "Pacific/Chatham"
    garage_id = add_garage("chatham", 20, timezone=tz)
    today = local_today(utcnow(), tz)
    day = today - timedelta(days=3)
    number = issue_ticket(garage_id, "R1", "Car", staff, now=local(day, 10, tz)).ticket_number
    paid = process_exit(garage_id, number, "Cash", staff, now=local(day, 23.99, tz)).amount_paid
    rollups.catch_up(garage_id, tz)
    assert day in built_days(garage_id)
    amendments.refund_ticket(garage_id, number, boss, paid, "goodwill")  # the whole payment, now
    assert day in built_days(garage_id)  # not touched: counted on today
    periods = [Period(today, today, "hour"), Period(day, day, "hour"), Period(day, today)]
    diffs = differences(app, monkeypatch, garage_id, periods, now=datetime.now(timezone.utc))
    assert not diffs, first_lines(diffs)
    with app.test_request_context():
        assert reports.build_report(garage_id, Period(today, today + timedelta(days=1))).summary.refunded_cents == paid
