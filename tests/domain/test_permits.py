"""The permit and reserved-space rules (issue 19) over classes of inputs (Hypothesis): what a visitor and
a permit holder may take, what the lobby shows, a permit's state on a day, what a permit car pays."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from garage.domain import permits, pricing
from garage.domain.occupancy import FULL, Occupancy

ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"])


@st.composite
def garages(draw):
    total = draw(st.integers(1, 60))
    reserved = draw(st.integers(0, total))
    occupied = draw(st.integers(0, total))
    permit_inside = draw(st.integers(0, occupied))
    return Occupancy(total, occupied, reserved, permit_inside)


@given(garages())
def test_a_visitor_takes_a_space_exactly_when_the_entry_statement_would_let_it(o):
    visitors = o.occupied - o.permit_inside
    # the condition of the entry's UPDATE (garage/persistence: ISSUE, PortableStore.issue) for a visitor
    statement_admits = o.occupied < o.total and visitors < o.total - o.reserved
    assert (o.available > 0) == statement_admits
    assert (o.permit_available > 0) == (o.occupied < o.total)
    assert o.available <= o.permit_available
    assert (o.state() == FULL) == (o.available == 0)
    # admitting as many visitors as it shows never puts a visitor into a reserved space or past full
    after = Occupancy(o.total, o.occupied + o.available, o.reserved, o.permit_inside)
    assert after.available == 0 and after.occupied <= o.total
    assert after.occupied - after.permit_inside <= max(o.total - o.reserved, visitors)


@given(st.integers(1, 60), st.integers(0, 60), st.integers(1, 100))
def test_without_reserved_spaces_the_figures_are_the_old_ones(total, occupied, almost):
    occupied = min(occupied, total)
    o = Occupancy(total, occupied)
    assert o.available == total - occupied
    old = FULL if total == occupied else ("ALMOST FULL" if occupied * 100 >= almost * total else "OPEN")
    assert o.state(almost) == old


DAYS = st.dates(date(2025, 1, 1), date(2027, 12, 31))


@given(DAYS, st.integers(0, 60), DAYS, st.sampled_from(permits.STATUSES), st.booleans())
def test_a_permit_admits_only_while_active_in_its_days_with_no_car_inside(start, length, today, status, inside):
    facts = permits.PermitFacts(1, "H", status, start, start + timedelta(days=length), "X 1" if inside else None)
    state = permits.state_on(facts, today)
    admits = status == permits.STATUS_ACTIVE and start <= today <= facts.valid_until and not inside
    assert (state == permits.STATE_VALID) == admits
    words = permits.refusal(facts, today)
    assert (words is None) == admits
    if words is not None:
        assert "H" in words and "charged as a visitor" in words
        assert "not let in" in permits.refusal(facts, today, permits.POLICY_REFUSE)


MOMENTS = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(timezone.utc))
TARIFFS = st.builds(pricing.Tariff, hourly_rate_cents=st.integers(0, 5000), grace_minutes=st.integers(0, 30),
                    daily_max_cents=st.one_of(st.none(), st.integers(1, 50_000)))


def permit_fee(entry, exit, valid_until, tz, tariff):
    start = permits.visitor_from(entry, exit, valid_until, tz)
    return 0 if start is None else pricing.quote(start, exit, tariff).amount_cents


@settings(max_examples=200)
@given(MOMENTS, st.integers(0, 5 * 24 * 60), st.integers(1, 24 * 60), DAYS, ZONES, TARIFFS)
def test_a_permit_car_pays_nothing_within_its_permit_never_more_than_a_visitor_and_more_the_longer_it_stays(
        entry, minutes, more, valid_until, tz, tariff):
    exit = entry + timedelta(minutes=minutes)
    end = permits.ends_at(valid_until, tz)
    fee = permit_fee(entry, exit, valid_until, tz, tariff)
    if exit <= end:
        assert fee == 0
    assert fee <= pricing.quote(entry, exit, tariff).amount_cents  # a visitor for the whole stay pays at least it
    assert permit_fee(entry, exit + timedelta(minutes=more), valid_until, tz, tariff) >= fee


@given(DAYS, ZONES)
def test_a_permit_ends_at_the_local_midnight_after_its_last_day(valid_until, tz):
    from zoneinfo import ZoneInfo
    end = permits.ends_at(valid_until, tz).astimezone(ZoneInfo(tz))
    assert (end.date(), end.hour, end.minute) == (valid_until + timedelta(days=1), 0, 0)


@given(DAYS, st.integers(0, 400), DAYS, st.integers(1, 12))
def test_a_renewal_continues_the_day_after_the_end_or_starts_today_if_it_lapsed(start, length, today, months):
    until = start + timedelta(days=length)
    first, last = permits.next_period(start, until, today, months)
    assert first == max(until + timedelta(days=1), today)
    assert last >= first and 28 * months - 1 <= (last - first).days + 1 <= 31 * months
