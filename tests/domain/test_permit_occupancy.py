"""Permit holders and visitors inside, day by day (the permits report, issue 19): the sweep of
`occupancy_by_day` agrees with counting every car at every moment that matters, for any stays over
local days of a DST timezone (23- and 25-hour days)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings, strategies as st

from garage.domain.clock import local_day_bounds
from garage.domain.permits import occupancy_by_day

TZ = "Europe/Berlin"
FIRST = date(2026, 3, 27)  # Berlin springs forward on 29 March 2026 and falls back on 25 October
DAYS = [(day, *local_day_bounds(day, TZ)) for day in (FIRST + timedelta(days=i) for i in range(5))]
ORIGIN = DAYS[0][1] - timedelta(hours=30)
SPAN_MINUTES = int((DAYS[-1][2] - ORIGIN).total_seconds() // 60) + 30 * 60

MIDNIGHTS = sorted({start for _, start, _ in DAYS} | {end for _, _, end in DAYS})
# Mostly a coarse grid and the midnights themselves, so that entries, exits and midnights fall on each
# other (a car leaving as another enters, a car leaving at midnight); any minute sometimes.
moment = st.one_of(st.integers(0, SPAN_MINUTES // 720).map(lambda k: ORIGIN + timedelta(hours=12 * k)),
                   st.sampled_from(MIDNIGHTS),
                   st.integers(0, SPAN_MINUTES).map(lambda m: ORIGIN + timedelta(minutes=m)))
length = st.one_of(st.none(), st.integers(0, 6).map(lambda k: timedelta(hours=12 * k)),
                   st.integers(0, 72 * 60).map(lambda m: timedelta(minutes=m)))
stay = st.tuples(moment, length, st.booleans()).map(lambda s: (s[0], None if s[1] is None else s[0] + s[1], s[2]))


def inside(stays, t: datetime, permit: bool) -> int:
    """Cars of that kind inside at the instant t: a car is inside over [entry, exit)."""
    return sum(1 for entry, exit_, kind in stays if kind == permit and entry <= t and (exit_ is None or t < exit_))


def expected(stays, now: datetime):
    out = []
    for day, start, end in DAYS:
        if start > now:
            out.append((day, 0, 0, None, None))
            continue
        moments = [start] + [e for e, _, _ in stays if start <= e < end]
        over = end <= now
        just_before = end - timedelta(microseconds=1)
        out.append((day, max(inside(stays, t, True) for t in moments), max(inside(stays, t, False) for t in moments),
                    inside(stays, just_before, True) if over else None,
                    inside(stays, just_before, False) if over else None))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(stay, max_size=25), st.integers(0, len(DAYS)))
def test_the_sweep_agrees_with_counting_every_car_at_every_moment(stays, days_over):
    now = DAYS[days_over - 1][2] if days_over else DAYS[0][1] + timedelta(hours=5)
    stays = [(entry, exit_, permit) for entry, exit_, permit in stays if entry <= now and (exit_ is None or exit_ <= now)]
    got = [(d.day, d.peak_permit, d.peak_visitor, d.end_permit, d.end_visitor) for d in occupancy_by_day(DAYS, stays, now)]
    assert got == expected(stays, now)


def test_the_days_of_the_dst_change_are_23_and_25_hours_long():
    lengths = {day: (end - start) / timedelta(hours=1) for day, start, end in DAYS}
    assert lengths[date(2026, 3, 29)] == 23
    assert all(hours == 24 for day, hours in lengths.items() if day != date(2026, 3, 29))


def test_a_car_leaving_at_midnight_counts_on_the_day_it_leaves_not_the_next():
    (d1, s1, e1), (d2, _, e2) = DAYS[0], DAYS[1]
    got = occupancy_by_day(DAYS[:2], [(s1 + timedelta(hours=20), e1, True)], e2)
    assert [(d.peak_permit, d.end_permit) for d in got] == [(1, 1), (0, 0)]
    assert got[0].day == d1 and got[1].day == d2
