"""The fee in a currency without decimals (JPY) and one with three (BHD), as well as USD (issue 22):
rates are typed in the major unit and stored in minor units (¥500/hour = 500, BHD 1.500/hour =
1500); quote() works in minor units whatever the currency, and what a page shows of a quote reads
back as the same amount. Properties checked by Hypothesis, without Flask or a database."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain.garage_settings import MAX_DAILY_CENTS, MAX_LOST_FEE_CENTS, MAX_RATE_CENTS
from garage.domain.money import format_money, minor_to_input, parse_money, set_context
from garage.domain.pricing import LOST_MODES, Tariff, describe, quote
from garage.domain.tickets import VEHICLE_TYPES

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
CURRENCIES = [("USD", "en_US"), ("JPY", "ja_JP"), ("BHD", "en_US"), ("EUR", "de_DE")]
seconds = st.integers(min_value=0, max_value=90 * 24 * 3600)
kinds = st.sampled_from(VEHICLE_TYPES)


def typed(minor_values: st.SearchStrategy[int], currency: str, locale: str) -> st.SearchStrategy[int]:
    """Amounts as a manager types them on the settings page (the locale's decimal mark) and the form
    stores them: through parse_money."""
    return minor_values.map(lambda m: parse_money(minor_to_input(m, currency, locale), currency, locale))


def tariffs(currency: str, locale: str) -> st.SearchStrategy[Tariff]:
    rate = typed(st.integers(min_value=0, max_value=MAX_RATE_CENTS), currency, locale)
    return st.builds(
        Tariff, hourly_rate_cents=rate, grace_minutes=st.integers(min_value=0, max_value=1440),
        daily_max_cents=st.none() | typed(st.integers(min_value=1, max_value=MAX_DAILY_CENTS), currency, locale),
        vehicle_rates=st.dictionaries(kinds, rate).map(lambda d: tuple(d.items())),
        lost_ticket_fee_cents=typed(st.integers(min_value=0, max_value=MAX_LOST_FEE_CENTS), currency, locale),
        lost_ticket_mode=st.sampled_from(LOST_MODES),
    )


def currency_cases():
    return st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(st.just(c), tariffs(*c)))


@pytest.mark.parametrize("currency, locale, text, minor", [
    ("JPY", "ja_JP", "500", 500), ("BHD", "en_US", "1.500", 1500), ("BHD", "en_US", "1.5", 1500),
    ("EUR", "de_DE", "2,50", 250), ("USD", "en_US", "2.50", 250),
])
def test_a_typed_rate_is_stored_in_the_currency_s_minor_units(currency, locale, text, minor):
    rate = parse_money(text, currency, locale)
    assert rate == minor
    assert quote(T0, T0 + timedelta(hours=3), Tariff(hourly_rate_cents=rate)).amount_cents == 3 * minor


@given(currency_cases(), seconds, seconds, kinds, st.booleans())
def test_fee_is_monotone_in_duration_in_any_currency(case, a, b, kind, lost):
    _, tariff = case
    short, long_ = sorted((a, b))
    assert quote(T0, T0 + timedelta(seconds=short), tariff, kind, lost).amount_cents <= \
        quote(T0, T0 + timedelta(seconds=long_), tariff, kind, lost).amount_cents


@given(currency_cases().filter(lambda c: c[1].daily_max_cents is not None), seconds, kinds)
def test_daily_maximum_caps_the_time_fee_in_any_currency(case, s, kind):
    _, tariff = case
    q = quote(T0, T0 + timedelta(seconds=s), tariff, kind)
    assert q.time_fee_cents <= tariff.daily_max_cents * max(1, -(-s // 86_400))


@given(currency_cases(), seconds, kinds, st.booleans())
def test_the_fee_shown_reads_back_as_the_fee_charged(case, s, kind, lost):
    (currency, locale), tariff = case
    q = quote(T0, T0 + timedelta(seconds=s), tariff, kind, lost)
    assert q.amount_cents == q.time_fee_cents + q.lost_fee_cents
    assert parse_money(format_money(q.amount_cents, currency, locale), currency, locale) == q.amount_cents


@pytest.mark.parametrize("currency, locale, lines", [
    ("JPY", "ja_JP", ["￥500 per started hour", "Daily maximum ￥3,000 per 24 hours"]),
    ("BHD", "en_US", ["BHD1.500 per started hour", "Daily maximum BHD9.000 per 24 hours"]),
    ("EUR", "de_DE", ["2,50\xa0€ per started hour", "Daily maximum 15,00\xa0€ per 24 hours"]),
])
def test_the_rates_panel_names_amounts_in_the_garage_s_currency(currency, locale, lines):
    rate, cap = {"JPY": (500, 3000), "BHD": (1500, 9000), "EUR": (250, 1500)}[currency]
    set_context(lambda: (currency, locale))
    try:
        assert describe(Tariff(hourly_rate_cents=rate, daily_max_cents=cap)) == lines
    finally:
        set_context(None)
