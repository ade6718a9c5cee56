"""The fee (garage.domain.pricing), without Flask or a database: started hours, grace,
the daily maximum, per-type rates and lost tickets, with properties checked by Hypothesis."""
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


# --- pricing rules: grace period, daily maximum, per-type rates, lost ticket ------------

from garage.domain.pricing import (  # noqa: E402
    LOST_ADD, LOST_MODES, LOST_REPLACE, describe, recorded, time_fee,
)
from garage.domain.tickets import VEHICLE_TYPES  # noqa: E402

tariffs = st.builds(
    Tariff,
    hourly_rate_cents=rates,
    grace_minutes=st.integers(min_value=0, max_value=1440),
    daily_max_cents=st.none() | st.integers(min_value=1, max_value=1_000_000),
    vehicle_rates=st.dictionaries(st.sampled_from(VEHICLE_TYPES), rates).map(lambda d: tuple(d.items())),
    lost_ticket_fee_cents=st.integers(min_value=0, max_value=1_000_000),
    lost_ticket_mode=st.sampled_from(LOST_MODES),
)
kinds = st.sampled_from(VEHICLE_TYPES)


def at(seconds_: int) -> datetime:
    return T0 + timedelta(seconds=seconds_)


@given(seconds, kinds, st.booleans())
def test_default_rules_are_the_original_ten_dollars_per_started_hour(s, kind, lost):
    q = quote(T0, at(s), Tariff(), vehicle_type=kind, lost=lost)
    assert q.amount_cents == q.time_fee_cents == 1000 * max(1, -(-s // 3600))
    assert q.lost_fee_cents == 0 and q.billable_hours == max(1, -(-s // 3600))


@given(seconds, seconds, tariffs, kinds, st.booleans())
def test_fee_is_monotone_in_duration_under_any_rules(a, b, tariff, kind, lost):
    short, long_ = sorted((a, b))
    assert quote(T0, at(short), tariff, kind, lost).amount_cents <= \
        quote(T0, at(long_), tariff, kind, lost).amount_cents


@given(seconds, tariffs, kinds, st.booleans())
def test_breakdown_adds_up(s, tariff, kind, lost):
    q = quote(T0, at(s), tariff, kind, lost)
    assert q.amount_cents == q.time_fee_cents + q.lost_fee_cents
    assert q.time_fee_cents >= 0 and q.lost_fee_cents >= 0 and q.lost is lost
    assert q.hourly_rate_cents == tariff.rate_for(kind)


@given(seconds, tariffs.filter(lambda t: t.daily_max_cents is not None), kinds)
def test_time_fee_never_above_the_maximum_per_started_day(s, tariff, kind):
    q = quote(T0, at(s), tariff, kind)
    started_days = max(1, -(-s // 86_400))
    assert q.time_fee_cents <= tariff.daily_max_cents * started_days


@given(seconds, tariffs, kinds)
def test_a_daily_maximum_never_makes_a_stay_dearer(s, tariff, kind):
    from dataclasses import replace
    uncapped = replace(tariff, daily_max_cents=None)
    assert quote(T0, at(s), tariff, kind).amount_cents <= quote(T0, at(s), uncapped, kind).amount_cents


@pytest.mark.parametrize("hours, cents", [
    (1, 1000), (4, 4000), (5, 4000), (24, 4000),  # capped within the first day
    (25, 5000),                                    # one maximum + 1 hour
    (30, 8000),                                    # the example: one maximum + min(6 h, maximum)
    (48, 8000), (49, 9000),
])
def test_daily_maximum_applies_per_24_hours(hours, cents):
    tariff = Tariff(hourly_rate_cents=1000, daily_max_cents=4000)
    assert quote(T0, T0 + timedelta(hours=hours), tariff).amount_cents == cents


def test_daily_maximum_above_a_days_fee_changes_nothing():
    tariff = Tariff(hourly_rate_cents=100, daily_max_cents=5000)  # a day is $24 < $50
    assert quote(T0, T0 + timedelta(hours=30), tariff).amount_cents == 3000
    assert time_fee(30, 100, 5000) == time_fee(30, 100, None)


@given(st.integers(min_value=1, max_value=1440), rates, kinds)
def test_grace_boundary_is_exact_to_the_second(grace, rate, kind):
    tariff = Tariff(hourly_rate_cents=rate, grace_minutes=grace)
    free = quote(T0, at(grace * 60), tariff, kind)
    assert free.amount_cents == 0 and free.billable_hours == 0 and free.in_grace
    past = quote(T0, at(grace * 60 + 1), tariff, kind)
    assert past.billable_hours == max(1, -(-(grace * 60 + 1) // 3600))
    assert past.amount_cents == past.billable_hours * rate   # billed from entry, not from the end of grace


@given(seconds, tariffs, kinds)
def test_grace_only_changes_stays_inside_it(s, tariff, kind):
    from dataclasses import replace
    without = replace(tariff, grace_minutes=0)
    q = quote(T0, at(s), tariff, kind)
    if tariff.grace_minutes == 0 or q.duration_minutes > tariff.grace_minutes:
        assert q == quote(T0, at(s), without, kind)
    else:
        assert q.amount_cents == 0


@pytest.mark.parametrize("elapsed, cents", [
    (timedelta(0), 0), (timedelta(minutes=10), 0),
    (timedelta(minutes=10, seconds=1), 1000),  # 10:01 → one hour
    (timedelta(minutes=60), 1000), (timedelta(minutes=61), 2000),
])
def test_grace_of_ten_minutes(elapsed, cents):
    assert quote(T0, T0 + elapsed, Tariff(grace_minutes=10)).amount_cents == cents


def test_no_grace_still_charges_the_minimum_hour_for_a_zero_stay():
    assert quote(T0, T0, Tariff(grace_minutes=0)).amount_cents == 1000


@given(seconds, tariffs, kinds)
def test_vehicle_type_rate_or_the_default(s, tariff, kind):
    from dataclasses import replace
    own = dict(tariff.vehicle_rates).get(kind)
    expected_rate = tariff.hourly_rate_cents if own is None else own
    q = quote(T0, at(s), tariff, kind)
    assert q.hourly_rate_cents == expected_rate
    flat = replace(tariff, hourly_rate_cents=expected_rate, vehicle_rates=())
    assert q.amount_cents == quote(T0, at(s), flat, kind).amount_cents


def test_vehicle_rates_example_and_unknown_type_falls_back():
    tariff = Tariff(hourly_rate_cents=1000, vehicle_rates={"Motorcycle": 500, "SUV": 1500})
    two_hours = T0 + timedelta(hours=2)
    assert quote(T0, two_hours, tariff, "Motorcycle").amount_cents == 1000
    assert quote(T0, two_hours, tariff, "SUV").amount_cents == 3000
    assert quote(T0, two_hours, tariff, "Van").amount_cents == 2000
    assert quote(T0, two_hours, tariff).amount_cents == 2000


@given(seconds, tariffs.filter(lambda t: t.lost_ticket_fee_cents > 0), kinds)
def test_lost_ticket_fee_modes(s, tariff, kind):
    from dataclasses import replace
    normal = quote(T0, at(s), tariff, kind)
    instead = quote(T0, at(s), replace(tariff, lost_ticket_mode=LOST_REPLACE), kind, lost=True)
    added = quote(T0, at(s), replace(tariff, lost_ticket_mode=LOST_ADD), kind, lost=True)
    fee = tariff.lost_ticket_fee_cents
    assert (instead.amount_cents, instead.time_fee_cents, instead.lost_fee_cents) == (fee, 0, fee)
    assert (added.amount_cents, added.time_fee_cents, added.lost_fee_cents) == \
        (normal.amount_cents + fee, normal.amount_cents, fee)
    assert normal.lost_fee_cents == 0  # only a lost ticket pays it


@given(seconds, tariffs.filter(lambda t: t.lost_ticket_fee_cents == 0), kinds)
def test_without_a_lost_fee_a_lost_ticket_pays_the_time_fee(s, tariff, kind):
    assert quote(T0, at(s), tariff, kind, lost=True).amount_cents == quote(T0, at(s), tariff, kind).amount_cents


def test_lost_ticket_examples():
    replace_ = Tariff(lost_ticket_fee_cents=5000)
    add = Tariff(lost_ticket_fee_cents=5000, lost_ticket_mode=LOST_ADD)
    three_hours = T0 + timedelta(hours=3)
    assert quote(T0, three_hours, replace_, lost=True).amount_cents == 5000
    assert quote(T0, three_hours, add, lost=True).amount_cents == 8000
    assert quote(T0, three_hours, add).amount_cents == 3000


@pytest.mark.parametrize("kwargs", [
    {"grace_minutes": -1}, {"daily_max_cents": 0}, {"daily_max_cents": -5},
    {"vehicle_rates": {"Van": -1}}, {"lost_ticket_fee_cents": -1}, {"lost_ticket_mode": "double"},
])
def test_impossible_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Tariff(**kwargs)


def test_recorded_quote_keeps_what_was_paid():
    q = recorded(125, 8000, lost=True, lost_fee_cents=5000)
    assert (q.amount_cents, q.time_fee_cents, q.lost_fee_cents, q.billable_hours) == (8000, 3000, 5000, 3)
    assert recorded(5, 0).billable_hours == 0


def test_describe_default_rules():
    assert describe(Tariff()) == ["$10.00 per started hour"]


def test_describe_every_rule():
    tariff = Tariff(hourly_rate_cents=1000, grace_minutes=10, daily_max_cents=4000,
                    vehicle_rates={"Motorcycle": 500, "Car": 1000}, lost_ticket_fee_cents=5000)
    assert describe(tariff) == [
        "$10.00 per started hour", "Motorcycle: $5.00 per started hour", "First 10 minutes free",
        "Daily maximum $40.00 per 24 hours", "Lost ticket: $50.00 instead of the time fee",
    ]
    added = Tariff(grace_minutes=1, lost_ticket_fee_cents=2550, lost_ticket_mode=LOST_ADD)
    assert describe(added)[1:] == ["First 1 minute free", "Lost ticket: $25.50 plus the time fee"]


from dataclasses import replace  # noqa: E402

from garage.domain.errors import FeeTooLarge  # noqa: E402
from garage.domain.money import MAX_PAYMENT_MINOR  # noqa: E402
from garage.domain.pricing import check_recordable  # noqa: E402


@given(st.integers(0, 10**15))
def test_a_fee_is_recordable_exactly_up_to_the_largest_payment(amount):
    """Every fee up to MAX_PAYMENT_MINOR (2,147,483,647 minor units: tickets.amount_paid) is taken; every
    one above is refused with FeeTooLarge (409), naming the fee and the limit."""
    q = quote(T0, T0 + timedelta(minutes=1), Tariff(hourly_rate_cents=1))
    q = replace(q, amount_cents=amount, time_fee_cents=amount)
    if amount <= MAX_PAYMENT_MINOR:
        check_recordable(q)
    else:
        with pytest.raises(FeeTooLarge) as refused:
            check_recordable(q)
        assert refused.value.status == 409 and "$21,474,836.47" in refused.value.message
