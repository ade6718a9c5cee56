"""Pricing rules, without Flask or a database."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain.pricing import Tariff, billable_hours, duration_minutes, quote

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
TEN = Tariff(hourly_rate_cents=1000)


@pytest.mark.parametrize("elapsed, minutes, cents", [
    (timedelta(0), 0, 1000),                               # at least one hour
    (timedelta(seconds=1), 1, 1000),                       # seconds round up to a minute
    (timedelta(minutes=59, seconds=59), 60, 1000),
    (timedelta(minutes=60), 60, 1000),                     # exactly 60:00 is one hour
    (timedelta(minutes=60, seconds=1), 61, 2000),          # 60:01 is two
    (timedelta(minutes=60, microseconds=1), 61, 2000),
    (timedelta(hours=2), 120, 2000),
    (timedelta(hours=24, minutes=1), 1441, 25000),
])
def test_fee_is_rate_times_started_hours(elapsed, minutes, cents):
    q = quote(T0, T0 + elapsed, TEN)
    assert (q.duration_minutes, q.amount_cents) == (minutes, cents)


def test_exit_before_entry_is_clamped_not_negative():
    q = quote(T0, T0 - timedelta(minutes=5), TEN)
    assert q.duration_minutes == 0 and q.amount_cents == 1000


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        duration_minutes(datetime(2026, 1, 1), T0)


def test_negative_rate_is_refused():
    with pytest.raises(ValueError):
        Tariff(hourly_rate_cents=-1)


def test_timezone_of_inputs_does_not_matter():
    from zoneinfo import ZoneInfo
    local_exit = (T0 + timedelta(minutes=90)).astimezone(ZoneInfo("America/New_York"))
    assert quote(T0, local_exit, TEN).amount_cents == 2000


seconds = st.integers(min_value=0, max_value=90 * 24 * 3600)
rates = st.integers(min_value=0, max_value=100_000)


@given(seconds, seconds, rates)
def test_fee_never_decreases_with_a_longer_stay(a, b, rate):
    short, long_ = sorted((a, b))
    tariff = Tariff(rate)
    assert quote(T0, T0 + timedelta(seconds=short), tariff).amount_cents <= \
        quote(T0, T0 + timedelta(seconds=long_), tariff).amount_cents


@given(seconds, rates)
def test_fee_is_a_whole_number_of_hours_and_covers_the_stay(s, rate):
    q = quote(T0, T0 + timedelta(seconds=s), Tariff(rate))
    assert q.amount_cents == q.billable_hours * rate
    assert q.billable_hours >= 1
    assert q.billable_hours * 3600 >= s                 # every started hour is billed
    assert (q.billable_hours - 1) * 3600 < max(s, 1)    # and no hour more


@given(seconds)
def test_duration_is_seconds_rounded_up_to_minutes(s):
    m = duration_minutes(T0, T0 + timedelta(seconds=s))
    assert m * 60 >= s > (m - 1) * 60 or (s == 0 and m == 0)


@given(st.integers(min_value=0, max_value=10_000))
def test_billable_hours_boundaries(minutes):
    h = billable_hours(minutes)
    assert h == max(1, -(-minutes // 60))
