"""Report helpers without Flask or a database (garage.domain: periods, figures, charts): periods (local days, DST), comparison, median,
occupancy arithmetic, chart geometry."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain.charts import bar_chart, heat_legend, heat_level, heat_map, heat_scale, line_chart, nice_ticks
from garage.domain.errors import InvalidInput
from garage.domain.figures import (
    HourEvents, format_change, hour_of_week, occupancy_series, percent_change,
    weighted_median,
)
from garage.domain.periods import BucketIndex, Period, parse_period, presets
from garage.reports.present import told_apart

UTC = timezone.utc
NY = "America/New_York"
TODAY = date(2026, 11, 26)  # a Thursday


def test_local_days_follow_dst():
    spring, fall = Period(date(2026, 3, 8), date(2026, 3, 8)), Period(date(2026, 11, 1), date(2026, 11, 1))
    assert len(spring.hour_buckets(NY)) == 23 and len(fall.hour_buckets(NY)) == 25
    start, end = spring.bounds(NY)
    assert start == datetime(2026, 3, 8, 5, tzinfo=UTC) and end == datetime(2026, 3, 9, 4, tzinfo=UTC)
    days = Period(date(2026, 3, 7), date(2026, 3, 9)).day_buckets(NY)
    assert [b.seconds / 3600 for b in days] == [24, 23, 24]
    hours = fall.hour_buckets(NY)
    assert [h.local_start.strftime("%H %Z") for h in hours[:3]] == ["00 EDT", "01 EDT", "01 EST"]


def test_bucket_index_finds_the_containing_bucket():
    hours = Period(date(2026, 3, 8), date(2026, 3, 8)).hour_buckets(NY)
    index = BucketIndex(hours)
    assert index.find(datetime(2026, 3, 8, 5, tzinfo=UTC)) == 0
    assert index.find(datetime(2026, 3, 8, 7, 30, tzinfo=UTC)) == 2
    assert index.find(datetime(2026, 3, 9, 4, tzinfo=UTC)) is None
    assert index.find(datetime(2026, 3, 8, 4, 59, tzinfo=UTC)) is None


def test_previous_period_has_the_same_length():
    p = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert p.previous() == Period(date(2026, 1, 29), date(2026, 2, 28))
    assert Period(TODAY, TODAY).previous() == Period(TODAY - timedelta(days=1), TODAY - timedelta(days=1))


def test_presets_relative_to_the_local_today():
    got = {label: (p.first, p.last) for label, p in presets(TODAY)}
    assert got == {
        "Today": (TODAY, TODAY),
        "Yesterday": (date(2026, 11, 25), date(2026, 11, 25)),
        "This week": (date(2026, 11, 23), TODAY),
        "This month": (date(2026, 11, 1), TODAY),
        "Last 30 days": (date(2026, 10, 28), TODAY),
    }


def test_parse_period_defaults_and_grouping():
    assert parse_period({}, TODAY) == Period(date(2026, 10, 28), TODAY, "day")
    assert parse_period({"from": "2026-03-08"}, TODAY) == Period(date(2026, 3, 8), date(2026, 3, 8), "hour")
    assert parse_period({"to": "2026-03-08", "group": "DAY"}, TODAY).group == "day"
    assert parse_period({"from": "2026-03-01", "to": "2026-03-31", "group": "hour"}, TODAY).group == "hour"


@pytest.mark.parametrize("args, field", [
    ({"from": "08/03/2026"}, "from"), ({"from": "2026-3-8"}, "from"), ({"to": "yesterday"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to"), ({"group": "month"}, "group"),
    ({"from": "2025-01-01", "to": "2026-03-01"}, "to"), ({"from": "9999-12-31"}, "from"),
    ({"from": "2026-01-01", "to": "2026-02-15", "group": "hour"}, "group"),
])
def test_parse_period_rejects_with_the_field(args, field):
    with pytest.raises(InvalidInput) as exc:
        parse_period(args, TODAY)
    assert exc.value.field == field and exc.value.status == 422


def test_percent_change_and_its_display():
    assert percent_change(150, 100) == 50.0
    assert percent_change(50, 100) == -50.0
    assert percent_change(10, 0) is None and percent_change(None, 5) is None
    assert format_change(12.345) == "+12.3%" and format_change(-5) == "−5.0%"
    assert format_change(0.01) == "±0.0%" and format_change(None) == "n/a"


@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 50)), max_size=40))
def test_weighted_median_matches_the_median_of_the_expanded_list(pairs):
    expanded = [v for v, n in pairs for _ in range(n)]
    expected = statistics.median(expanded) if expanded else None
    assert weighted_median(pairs) == expected


def test_occupancy_integral_and_peak():
    hours = Period(date(2026, 5, 4), date(2026, 5, 4)).hour_buckets("UTC")
    t = lambda h, m=0: datetime(2026, 5, 4, h, m, tzinfo=UTC).timestamp()  # noqa: E731
    events = [HourEvents() for _ in hours]
    # hour 10: one in at 10:15, out at 10:45 (running +1 then 0)
    events[10] = HourEvents(1, 1, t(10, 15) - t(10, 45), 1, t(10, 15))
    # hour 12: the car inside since before leaves at 12:00 sharp
    events[12] = HourEvents(0, 1, -t(12), -1, t(12))
    now = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    points = occupancy_series(1, hours, events, now)
    assert (points[9].peak, points[9].average) == (1, 1.0)
    assert (points[10].peak, points[10].average) == (2, 1.5)
    assert (points[12].at_start, points[12].peak, points[12].average) == (1, 0, 0.0)  # averaged to 12:30
    assert points[13] is None  # not begun yet
    cells = hour_of_week(points)
    assert cells[0][10].average == 1.5 and cells[0][13].average is None and cells[1][10].hours == 0


@given(st.floats(0.01, 1e7))
def test_ticks_cover_the_maximum_in_round_steps(top):
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 11
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1


def test_bar_geometry_stays_inside_the_plot():
    chart = bar_chart("r", "Revenue", "d", ["a", "b", "c"], [("Revenue", [0, 50, 100])], "Day", "$")
    assert len(chart.bars) == 3
    for bar in chart.bars:
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
        assert chart.top <= bar.y and bar.y + bar.height == pytest.approx(chart.bottom, abs=0.02)
    assert chart.bars[0].height == 0 and chart.bars[2].height > chart.bars[1].height
    assert chart.table_rows == [["a", "0"], ["b", "50"], ["c", "100"]]


def test_line_breaks_on_missing_values_and_draws_the_ceiling():
    chart = line_chart("o", "Occ", "d", ["0", "1", "2", "3"], [("Peak", [1, 2, None, 3])], "Hour", "Cars",
                       ceiling=("Total spaces", 10))
    peak, ceiling = chart.lines
    assert [len(s.split()) for s in peak.segments] == [2, 1]
    assert ceiling.dashed and len(ceiling.segments) == 1


@given(st.floats(min_value=0, max_value=100_000, allow_nan=False))
def test_a_heat_map_legend_never_repeats_a_label_and_shows_every_colour_drawn(top):
    legend = heat_legend(top)
    labels = [name for name, _ in legend]
    assert len(labels) == len(set(labels)) and len({colour for _, colour in legend}) == len(legend)
    drawn = {heat_level(top * i / 97, top, heat_scale(top)[1]) for i in range(98)}
    assert drawn <= {colour for _, colour in legend}


def test_heat_map_colours_scale_with_the_value():
    chart = heat_map("h", "Heat", "d", ["Mon", "Tue"], ["00", "01"], [[0.0, 4.0], [None, 2.0]], "Hour", "Day")
    colours = [c.colour for c in chart.cells]
    assert len(colours) == 4 and len(set(colours)) == 4  # empty, darkest, no data, middle


def test_same_named_garages_are_told_apart_by_their_slugs_and_the_others_keep_their_names():
    assert told_apart([("Central", "central-east"), ("Docks", "docks"), ("Central", "central-west")]) == [
        "Central (central-east)", "Docks", "Central (central-west)"]
