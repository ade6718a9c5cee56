"""What a merchant validation takes off a fee (garage/domain/validations.py), over arbitrary stays,
tariffs and programs: never more than the time fee, never anything of a lost-ticket fee, never a
shorter stay dearer than a longer one, in one documented order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain import pricing, validations as rules
from garage.domain.errors import Conflict, InvalidInput, NotFound

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)

tariffs = st.builds(pricing.Tariff, hourly_rate_cents=st.integers(0, 5000), grace_minutes=st.integers(0, 30),
                    daily_max_cents=st.none() | st.integers(1, 20000),
                    lost_ticket_fee_cents=st.integers(0, 5000), lost_ticket_mode=st.sampled_from(pricing.LOST_MODES))
terms = st.builds(lambda i, kind, value: rules.Terms(i, f"P{i}", kind, min(value, rules.MAX_VALUE[kind]), True),
                  st.integers(1, 5), st.sampled_from(rules.KINDS), st.integers(1, 20000))
stays = st.integers(0, 4 * 24 * 60)


def priced(tariff, minutes, programs, lost=False):
    exit = T0 + timedelta(minutes=minutes)
    base = pricing.quote(T0, exit, tariff, lost=lost)
    return base, rules.apply(base, programs, T0, exit, tariff)


@given(tariff=tariffs, minutes=stays, programs=st.lists(terms, max_size=3, unique_by=lambda t: t.program_id),
       lost=st.booleans())
def test_a_validation_takes_off_the_time_fee_only_and_the_lines_add_up(tariff, minutes, programs, lost):
    base, (q, lines) = priced(tariff, minutes, programs, lost)
    assert 0 <= q.discount_cents <= base.time_fee_cents
    assert q.amount_cents == base.amount_cents - q.discount_cents >= base.lost_fee_cents
    assert q.lost_fee_cents == base.lost_fee_cents
    assert sum(line.discount_cents for line in lines) == q.discount_cents
    assert all(line.discount_cents >= 0 for line in lines) and len(lines) == len(programs)


@given(tariff=tariffs, minutes=stays, more=st.integers(1, 3000),
       programs=st.lists(terms, max_size=3, unique_by=lambda t: t.program_id))
def test_a_longer_stay_never_pays_less_with_the_same_validations(tariff, minutes, more, programs):
    _, (shorter, _) = priced(tariff, minutes, programs)
    _, (longer, _) = priced(tariff, minutes + more, programs)
    assert longer.amount_cents >= shorter.amount_cents


def test_each_kind_on_a_forty_dollar_stay():
    tariff = pricing.Tariff(hourly_rate_cents=1000)
    exit = T0 + timedelta(hours=3, minutes=30)
    base = pricing.quote(T0, exit, tariff)
    for kind, value, due in ((rules.FREE_MINUTES, 120, 2000), (rules.FLAT_PRICE, 1500, 1500),
                             (rules.AMOUNT_OFF, 500, 3500), (rules.PERCENT_OFF, 25, 3000),
                             (rules.AMOUNT_OFF, 99999, 0), (rules.FLAT_PRICE, 99999, 4000)):
        assert rules.apply(base, [rules.Terms(1, "P", kind, value)], T0, exit, tariff)[0].amount_cents == due


def test_stacked_validations_apply_in_the_documented_order():
    tariff = pricing.Tariff(hourly_rate_cents=1000)
    exit = T0 + timedelta(hours=3, minutes=30)  # $40
    base = pricing.quote(T0, exit, tariff)
    half, two = rules.Terms(1, "Half", rules.PERCENT_OFF, 50, True), rules.Terms(2, "Two", rules.AMOUNT_OFF, 200, True)
    q, lines = rules.apply(base, [half, two], T0, exit, tariff)  # $2 off first, then half of $38
    assert q.amount_cents == 1900 and [(line.name, line.discount_cents) for line in lines] == [("Two", 200),
                                                                                                ("Half", 1900)]


@pytest.mark.parametrize("cents, percent, off", [(1, 50, 1), (3, 50, 2), (999, 10, 100), (1000, 33, 330)])
def test_percentages_round_to_the_nearest_cent_halves_up(cents, percent, off):
    tariff = pricing.Tariff(hourly_rate_cents=cents)
    exit = T0 + timedelta(minutes=30)
    q, _ = rules.apply(pricing.quote(T0, exit, tariff), [rules.Terms(1, "P", rules.PERCENT_OFF, percent)], T0,
                       exit, tariff)
    assert q.discount_cents == off


def test_one_validation_unless_every_one_stacks():
    solo, a, b = (rules.Terms(1, "S", rules.AMOUNT_OFF, 1), rules.Terms(2, "A", rules.AMOUNT_OFF, 1, True),
                  rules.Terms(3, "B", rules.AMOUNT_OFF, 1, True))
    rules.may_add([], solo)
    rules.may_add([a], b)
    for existing, new in (([solo], a), ([a], solo), ([a], a)):
        with pytest.raises(Conflict):
            rules.may_add(existing, new)


@pytest.mark.parametrize("raw, key", [("cin-0001", "CIN0001"), (" Ab c 9 ", "ABC9"), ("ÄBC1", "BC1")])
def test_codes_are_letters_and_digits_any_case(raw, key):
    assert rules.code_key(raw) == key


@pytest.mark.parametrize("raw", ["AB", "", None, "x" * 41, "--", 5])
def test_a_code_that_cannot_be_one(raw):
    with pytest.raises(InvalidInput):
        rules.check_code(raw)
    with pytest.raises(NotFound):
        rules.find_code(raw)


def test_validity_days_are_inclusive():
    day = T0.date()
    assert rules.valid_on(day, True, day, day) is None
    assert "starts on" in rules.valid_on(day, True, day + timedelta(days=1), None)
    assert "ended on" in rules.valid_on(day, True, None, day - timedelta(days=1))
    assert rules.valid_on(day, False, None, None) == "This validation program has ended"


@pytest.mark.parametrize("kind, value, ok", [(rules.PERCENT_OFF, 100, True), (rules.PERCENT_OFF, 101, False),
                                             (rules.FREE_MINUTES, 0, False), (rules.AMOUNT_OFF, True, False),
                                             (rules.FLAT_PRICE, 1_000_000, True), (rules.FLAT_PRICE, 1_000_001, False)])
def test_a_programs_value_fits_its_kind(kind, value, ok):
    assert (rules.check_program("P", kind, value, None, None, None) == {}) == ok
