"""Report arithmetic at its edges (garage/domain/figures.py): the change shown beside a
figure, the median with fixed examples (every run, not only when Hypothesis finds them), the
running count of cars inside from hour to hour, the hour-of-week averages, CSV text."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timezone

from hypothesis import example, given, strategies as st

from garage.domain.figures import (
    HourEvents, csv_text, format_change, hour_of_week, occupancy_series, safe_div, weighted_median,
)
from garage.domain.periods import Period

UTC = timezone.utc
DAY = date(2026, 5, 4)  # a Monday
HOURS = Period(DAY, DAY).hour_buckets("UTC")


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 5, 4, hour, minute, tzinfo=UTC).timestamp()


def test_a_change_is_shown_to_one_decimal_with_its_sign():
    assert [format_change(c) for c in (0.3, -0.3, 0.04, -0.04, 12.25)] == ["+0.3%", "−0.3%", "±0.0%", "±0.0%",
                                                                          "+12.2%"]


@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 50)), max_size=40))
@example([(5, 1), (7, 1), (9, 1)])  # three single values: the middle one
@example([(1, 1), (3, 1)])  # two: their mean
@example([(1, 2), (9, 1)])  # a repeated value is counted as often as it occurs
@example([(10, 0), (1, 1), (3, 2)])  # a value seen zero times is not a value
@example([(2, 0)])
def test_the_median_is_the_median_of_the_values_repeated(pairs):
    expanded = [v for v, n in pairs for _ in range(n)]
    assert weighted_median(pairs) == (statistics.median(expanded) if expanded else None)


def test_no_hours_no_average():
    assert safe_div(10, 0) is None and safe_div(10, 4) == 2.5


def test_csv_lines_end_in_crlf_and_quote_only_where_needed():
    assert csv_text([["a", "b,c", None], [1, 'say "hi"', 2.5]]) == 'a,"b,c",\r\n1,"say ""hi""",2.5\r\n'


def test_two_quarters_of_one_hour_fold_into_one():
    first = HourEvents(2, 1, 100.0, 3, 50.0)
    second = HourEvents(1, 2, -30.0, 1, 20.0)
    assert first.merge(second) == HourEvents(3, 3, 70.0, 3, 20.0)
    assert HourEvents().merge(second) == second and second.merge(HourEvents()) == second


def test_the_running_count_carries_from_hour_to_hour():
    events = [HourEvents() for _ in HOURS]
    events[8] = HourEvents(2, 0, at(8, 15) + at(8, 45), 2, at(8, 15))  # two in
    events[9] = HourEvents(0, 1, -at(9, 30), 1, at(9, 30))  # one out at 9:30
    points = occupancy_series(1, HOURS, events, datetime(2026, 5, 4, 11, 30, tzinfo=UTC))
    assert [points[h].at_start for h in (8, 9, 10, 11)] == [1, 3, 2, 2]
    # one car leaves mid-hour: the peak is the 3 inside at the hour's start, not the 2 after
    assert (points[9].peak, points[9].average) == (3, 2.5)
    assert len(points) == 24 and points[12:] == [None] * 12  # hours not begun yet


def point_at(weekday_offset: int, hour: int, average: float):
    day = date(2026, 5, 4 + weekday_offset)
    bucket = Period(day, day).hour_buckets("UTC")[hour]
    return occupancy_series(0, [bucket], [HourEvents(0, 0, -average * 3600.0 - 0.0, 0)],
                            datetime(2027, 1, 1, tzinfo=UTC))[0]


def test_the_hour_of_week_averages_every_week_s_same_hour():
    monday_9 = point_at(0, 9, 2.0)
    next_monday_9 = point_at(7, 9, 4.0)
    tuesday_10 = point_at(1, 10, 1.0)
    cells = hour_of_week([None, monday_9, tuesday_10, next_monday_9])
    assert len(cells) == 7 and {len(row) for row in cells} == {24}
    assert (cells[0][9].weekday, cells[0][9].hour, cells[0][9].average, cells[0][9].hours) == (0, 9, 3.0, 2)
    assert (cells[1][10].weekday, cells[1][10].hour, cells[1][10].average) == (1, 10, 1.0)
    assert cells[6][23].average is None and cells[6][23].hours == 0


def test_a_money_columns_name_carries_the_currency_its_values_are_in():
    from garage.domain.figures import money_column
    assert [money_column(n, "USD") for n in ("amount_usd", "revenue_cents")] == ["amount_usd", "revenue_usd"]
    assert [money_column(n, "JPY") for n in ("amount_usd", "revenue_cents", "lost_fees_usd")] == \
        ["amount_jpy", "revenue_jpy", "lost_fees_jpy"]
    assert money_column("revenue_usd", None) == "revenue"  # garages in several currencies in one column
