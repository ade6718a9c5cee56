"""Report periods at their edges (garage/domain/periods.py): the range limits (366 days, a
leap year, 31 days per hour, 2000-2100), the grouping of each shortcut, the page's label and
link, and the message and field of every refusal."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from garage.domain.errors import InvalidInput
from garage.domain.clock import local_today
from garage.domain.periods import (
    Period, TodayAcross, default_period, parse_asked_period, parse_date, parse_period, presets, spanning,
)

TODAY = date(2026, 11, 26)
NY = "America/New_York"


def refused(args: dict) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_period(args, TODAY)
    return caught.value.message, caught.value.field


def test_a_report_covers_up_to_366_days_a_leap_year_whole():
    leap = parse_period({"from": "2028-01-01", "to": "2028-12-31"}, TODAY)
    assert (leap.days, leap.group) == (366, "day")
    assert refused({"from": "2027-01-01", "to": "2028-01-02"}) == (
        "A report covers at most 366 days; choose a shorter range", "to")


def test_per_hour_rows_cover_up_to_31_days():
    assert parse_period({"from": "2026-01-01", "to": "2026-01-31", "group": "hour"}, TODAY).group == "hour"
    assert refused({"from": "2026-01-01", "to": "2026-02-01", "group": "hour"}) == (
        "Per-hour rows are available for up to 31 days; group by day or choose a shorter range", "group")


def test_a_form_asking_per_hour_over_more_than_31_days_gets_days_and_a_note():
    """"Yesterday" leaves the form on Hour; a From typed a year back then: the year by day, saying so
    (parse_period, for addresses, still refuses: an hourly CSV never comes back daily)."""
    year = {"from": "2025-11-27", "to": "2026-11-26", "group": "hour"}
    period, note = parse_asked_period(year, TODAY)
    assert period == Period(date(2025, 11, 27), date(2026, 11, 26), "day")
    assert note == "Rows per hour are available for up to 31 days: this report of 365 days is by day."
    assert parse_asked_period({"from": "2026-01-01", "to": "2026-01-31", "group": "hour"}, TODAY) == (
        Period(date(2026, 1, 1), date(2026, 1, 31), "hour"), None)
    assert parse_asked_period({"from": "2026-01-01", "to": "2026-03-01"}, TODAY)[1] is None  # by day as asked
    assert parse_asked_period({}, TODAY) == (default_period(TODAY), None)
    with pytest.raises(InvalidInput):  # the other mistakes are still refused
        parse_asked_period({"from": "2024-01-01", "to": "2026-01-01", "group": "hour"}, TODAY)
    assert refused(year)[1] == "group"


@pytest.mark.parametrize("args, message, field", [
    ({"group": "week"}, "Group by must be “day” or “hour”", "group"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "The start date must be on or before the end date", "to"),
    ({"from": "1999-12-31"}, "Dates must be between 2000 and 2100", "from"),
    ({"to": "2101-01-01"}, "Dates must be between 2000 and 2100", "to"),
    ({"from": "2026-02-30"}, "“2026-02-30” is not a date: use YYYY-MM-DD, e.g. 2026-03-08", "from"),
    ({"from": "not a date at all, honest"}, "“not a date at all, h” is not a date: use YYYY-MM-DD, e.g. 2026-03-08",
     "from"),
])
def test_each_refusal_names_its_field(args, message, field):
    assert refused(args) == (message, field)


@pytest.mark.parametrize("raw", ["2000-01-01", "2100-12-31"])
def test_the_first_and_last_years_are_accepted(raw):
    assert parse_date(raw, "from") == date.fromisoformat(raw)


def test_one_date_alone_is_a_single_day_per_hour_and_group_is_any_case():
    assert parse_period({"to": "2026-03-08"}, TODAY) == Period(date(2026, 3, 8), date(2026, 3, 8), "hour")
    assert parse_period({"from": "2026-03-08", "group": " DAY "}, TODAY).group == "day"


def test_no_dates_is_the_last_30_days_per_day():
    assert parse_period({}, TODAY) == default_period(TODAY) == Period(date(2026, 10, 28), TODAY, "day")


def test_each_shortcut_has_its_grouping():
    assert [(label, p.group) for label, p in presets(TODAY)] == [
        ("Today", "hour"), ("Yesterday", "hour"), ("This week", "day"), ("This month", "day"),
        ("Last 30 days", "day")]


def test_the_previous_period_keeps_the_grouping():
    assert Period(TODAY, TODAY, "hour").previous().group == "hour"


def test_a_period_reads_as_its_dates_and_links_to_itself():
    assert Period(date(2026, 3, 8), date(2026, 3, 8)).label() == "Sun 08 Mar 2026"
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).label() == "01 Mar 2026 – 31 Mar 2026"
    assert Period(date(2026, 3, 1), date(2026, 3, 31), "hour").query() == {
        "from": "2026-03-01", "to": "2026-03-31", "group": "hour"}


def test_the_grouping_chooses_hour_or_day_buckets():
    day = date(2026, 3, 8)
    assert len(Period(day, day, "hour").buckets(NY)) == 23
    days = Period(day, date(2026, 3, 9), "day").buckets(NY)
    assert [b.local_start.isoformat() for b in days] == ["2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"]
    assert days[0].start == datetime(2026, 3, 8, 5, tzinfo=timezone.utc)


# --- "today" across garages in different timezones (the portfolio) -----------------------------------

AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"  # UTC+13 and UTC-8 in December


def at(utc: str) -> datetime:
    return datetime.fromisoformat(utc).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("now,today", [
    ("2026-12-06T07:30", (date(2026, 12, 5), date(2026, 12, 6))),  # LA 23:30 on the 5th, Auckland 20:30 on the 6th
    ("2026-12-06T08:30", (date(2026, 12, 6), date(2026, 12, 6))),  # LA just past its midnight: both on the 6th
    ("2026-12-06T10:59", (date(2026, 12, 6), date(2026, 12, 6))),
    ("2026-12-06T11:00", (date(2026, 12, 6), date(2026, 12, 7))),  # Auckland's midnight: the 7th there
])
def test_the_portfolio_s_today_holds_every_garage_s_own_today(now, today):
    across = TodayAcross.at(at(now), [AUCKLAND, LOS_ANGELES])
    shortcuts = dict(across.presets())
    assert (shortcuts["Today"].first, shortcuts["Today"].last) == today
    assert across.differ == (today[0] != today[1])
    for tz in (AUCKLAND, LOS_ANGELES):  # each garage's own shortcuts lie inside the portfolio's
        for label, own in presets(local_today(at(now), tz)):
            assert shortcuts[label].first <= own.first and own.last <= shortcuts[label].last, (now, tz, label)
        own_default = default_period(local_today(at(now), tz))
        assert across.default_period().first <= own_default.first and own_default.last <= across.default_period().last


def test_garages_on_the_same_date_have_the_one_garage_shortcuts():
    across = TodayAcross.at(at("2026-12-06T09:00"), [AUCKLAND, LOS_ANGELES, "UTC"])
    assert not across.differ
    assert dict(across.presets()) == dict(presets(date(2026, 12, 6)))
    assert parse_period({}, across.latest, across.default_period()) == default_period(date(2026, 12, 6))


def test_yesterday_and_the_default_span_both_dates_when_they_differ():
    across = TodayAcross.at(at("2026-12-06T12:00"), [AUCKLAND, LOS_ANGELES])  # the 7th and the 6th
    shortcuts = dict(across.presets())
    assert (shortcuts["Yesterday"].first, shortcuts["Yesterday"].last) == (date(2026, 12, 5), date(2026, 12, 6))
    assert parse_period({}, across.latest, across.default_period()) == Period(date(2026, 11, 7), date(2026, 12, 7))
    assert parse_period({"from": "2026-12-01"}, across.latest, across.default_period()).first == date(2026, 12, 1)


def test_the_span_of_one_period_is_that_period():
    week = Period(date(2026, 3, 2), date(2026, 3, 8), "day")
    assert spanning([week]) == week


def test_today_across_no_garage_is_utc_s_date_at_that_instant():
    """The portfolio of someone with no garage shown yet: "today" is the UTC date of the instant
    asked about (not of the clock on the wall)."""
    late = datetime(2026, 3, 8, 23, 30, tzinfo=timezone.utc)
    assert TodayAcross.at(late, []) == TodayAcross(date(2026, 3, 8), date(2026, 3, 8))
    early = datetime(2019, 1, 1, 0, 30, tzinfo=timezone.utc)
    assert TodayAcross.at(early, []) == TodayAcross(date(2019, 1, 1), date(2019, 1, 1))
