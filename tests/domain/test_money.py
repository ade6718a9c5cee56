"""Money as text and back (garage/domain/money.py), without Flask or a database."""
import pytest
from hypothesis import given, strategies as st

from garage.domain.money import (
    minor_to_decimal, minor_to_major, format_major_amount, format_money, format_whole_major, parse_money,
)

# Every amount the settings accept and every total a report can reach, and more.
amounts = st.integers(min_value=0, max_value=99_999_999_999)  # up to $999,999,999.99


@pytest.mark.parametrize("cents, text", [
    (0, "$0.00"), (5, "$0.05"), (1050, "$10.50"), (100000, "$1,000.00"), (123456789, "$1,234,567.89"),
    (-500, "-$5.00"), (-1, "-$0.01"),
])
def test_dollars_for_display(cents, text):
    assert format_money(cents) == text


def test_computed_dollar_figures_round_to_the_cent_and_ticks_drop_whole_cents():
    assert format_major_amount(12.5) == "$12.50" and format_major_amount(1234.567) == "$1,234.57"
    assert format_whole_major(40.0) == "$40" and format_whole_major(2500) == "$2,500"
    assert format_whole_major(12.5) == "$12.50"


def test_cents_as_a_number_of_dollars_for_json_and_charts():
    assert minor_to_major(1050) == 10.5 and minor_to_major(0) == 0 and minor_to_major(None) is None
    assert minor_to_major(1234.5) == 12.345


def test_money_for_csv():
    assert minor_to_decimal(1250) == "12.50" and minor_to_decimal(5) == "0.05"
    assert minor_to_decimal(123456789) == "1234567.89" and minor_to_decimal(None) == ""
    assert minor_to_decimal(-1250) == "-12.50"


@pytest.mark.parametrize("text, cents", [
    ("10", 1000), ("10.5", 1050), ("10.50", 1050), (" $10.05 ", 1005), ("0", 0), (".5", 50),
    ("1,000", 100000), ("1,000.25", 100025), ("1000", 100000),
])
def test_parse_dollars(text, cents):
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", " ", "-1", "10.505", "ten", "1,00", "10.", "$", "1e3", "10,5", "١٠"])
def test_parse_dollars_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_money(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_dollars_in_a_form_field_round_trip(cents):
    assert parse_money(minor_to_decimal(cents)) == cents


@given(amounts)
def test_what_the_page_shows_can_be_typed_back(cents):
    assert parse_money(format_money(cents)) == cents
    assert parse_money(minor_to_decimal(cents)) == cents


@given(amounts)
def test_one_amount_reads_the_same_from_cents_and_from_dollars(cents):
    assert format_major_amount(minor_to_major(cents)) == format_money(cents)
    assert format_major_amount(minor_to_major(-cents)) == format_money(-cents)  # net revenue may be below 0
    assert format_money(cents).replace("$", "").replace(",", "") == minor_to_decimal(cents)


@given(st.integers(min_value=1, max_value=10**12))
def test_a_negative_amount_is_the_positive_one_with_a_minus_sign(cents):
    assert format_money(-cents) == "-" + format_money(cents)
    assert minor_to_decimal(-cents) == "-" + minor_to_decimal(cents)


# --- Other currencies and locales (issue 22): the currency's own decimals, the locale's marks -----

from garage.domain.money import MoneyError, exponent, minor_to_input, set_context  # noqa: E402
from garage.domain.locales import is_currency, is_locale  # noqa: E402
from babel.numbers import get_decimal_symbol  # noqa: E402

# (currency, locale, decimals): no decimals, two, three; a dot-grouping and a space-grouping locale.
CURRENCIES = [("USD", "en_US", 2), ("EUR", "de_DE", 2), ("EUR", "fr_FR", 2), ("JPY", "ja_JP", 0),
              ("JPY", "de_DE", 0), ("BHD", "en_US", 3), ("BHD", "ar_BH", 3), ("CHF", "de_CH", 2)]
any_currency = st.sampled_from(CURRENCIES)


@pytest.mark.parametrize("code, places", [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLP", 0)])
def test_a_currency_s_decimals_come_from_cldr(code, places):
    assert exponent(code) == places


@pytest.mark.parametrize("minor, currency, locale, text", [
    (1250, "EUR", "de_DE", "12,50\xa0€"), (123450, "EUR", "de_DE", "1.234,50\xa0€"), (1250, "JPY", "ja_JP", "￥1,250"),
    (1250, "USD", "en_US", "$12.50"), (1250, "BHD", "en_US", "BHD1.250"), (-500, "EUR", "de_DE", "-5,00\xa0€"),
    (100000, "JPY", "ja_JP", "￥100,000"), (1000, "EUR", "de_DE", "10,00\xa0€"),
])
def test_amounts_in_the_garage_s_currency_and_locale(minor, currency, locale, text):
    assert format_money(minor, currency, locale) == text


@pytest.mark.parametrize("minor, currency, text", [
    (1250, "JPY", "1250"), (1250, "BHD", "1.250"), (5, "BHD", "0.005"), (1250, "EUR", "12.50"), (-1250, "JPY", "-1250"),
])
def test_csv_cells_are_dot_decimals_with_the_currency_s_decimals(minor, currency, text):
    assert minor_to_decimal(minor, currency) == text


def test_major_units_for_json_follow_the_exponent():
    assert minor_to_major(1000, "JPY") == 1000 and isinstance(minor_to_major(1000, "JPY"), int)
    assert minor_to_major(1500, "BHD") == 1.5 and minor_to_major(1050, "EUR") == 10.5


def test_computed_figures_and_chart_ticks_in_other_currencies():
    assert format_major_amount(1234.567, "EUR", "de_DE") == "1.234,57\xa0€"
    assert format_major_amount(1234.5, "JPY", "ja_JP") == "￥1,234"  # no decimals: rounded (half to even)
    assert format_whole_major(2500, "EUR", "de_DE") == "2.500\xa0€"
    assert format_whole_major(40, "JPY", "ja_JP") == "￥40"


@pytest.mark.parametrize("text, currency, locale, minor", [
    ("12,50", "EUR", "de_DE", 1250), ("12.50", "EUR", "de_DE", 1250), ("1.234,50", "EUR", "de_DE", 123450),
    ("1.234", "EUR", "de_DE", 123400), ("12.505", "EUR", "de_DE", 1250500), ("12,50 €", "EUR", "de_DE", 1250), ("€ 5", "EUR", "de_DE", 500),
    ("1 234,50", "EUR", "fr_FR", 123450), ("1250", "JPY", "ja_JP", 1250), ("￥1,250", "JPY", "ja_JP", 1250),
    ("¥1,250", "JPY", "ja_JP", 1250), ("1.250", "JPY", "de_DE", 1250), ("1.5", "BHD", "en_US", 1500),
    ("1.250", "BHD", "en_US", 1250), ("BHD 0.005", "BHD", "en_US", 5), ("1,25", "BHD", "de_DE", 1250),
    ("CHF 1'234.50", "CHF", "de_CH", 123450), ("1’234.50", "CHF", "de_CH", 123450),
])
def test_parse_in_the_garage_s_currency_and_locale(text, currency, locale, minor):
    assert parse_money(text, currency, locale) == minor


@pytest.mark.parametrize("text, currency, locale", [
    ("12.5", "JPY", "ja_JP"), ("1250.0", "JPY", "ja_JP"), ("12,50", "JPY", "de_DE"), ("0.111", "JPY", "de_DE"),
    ("12,505", "EUR", "de_DE"), ("1.2345", "BHD", "en_US"), ("1,234.50", "EUR", "de_DE"), ("12,50", "USD", "en_US"),
    ("-5", "EUR", "de_DE"), ("", "JPY", "ja_JP"), ("€", "EUR", "de_DE"), ("12 $", "EUR", "de_DE"),
])
def test_parse_refuses_more_decimals_than_the_currency_has_and_foreign_marks(text, currency, locale):
    with pytest.raises(MoneyError):
        parse_money(text, currency, locale)


def test_ambiguous_text_is_refused_with_both_readings_named():
    """de_DE groups with a dot and a dot decimal is always understood: for a 3-decimal currency
    "1.250" is 1.25 or 1250 — refused, not guessed."""
    with pytest.raises(MoneyError, match="could be"):
        parse_money("1.250", "BHD", "de_DE")
    assert parse_money("1,250", "BHD", "de_DE") == 1250 and parse_money("1250", "BHD", "de_DE") == 1250000


@given(any_currency, amounts)
def test_what_the_page_shows_can_be_typed_back_in_any_currency(case, minor):
    currency, locale, _ = case
    assert parse_money(format_money(minor, currency, locale), currency, locale) == minor
    assert parse_money(minor_to_input(minor, currency, locale), currency, locale) == minor


@given(any_currency, amounts)
def test_csv_cells_read_back_in_any_locale_that_does_not_group_with_a_dot(case, minor):
    currency, locale, places = case
    text = minor_to_decimal(minor, currency)
    assert len(text.partition(".")[2]) == places
    if places != 3 or locale != "de_DE":
        assert parse_money(text, currency, locale) == minor


@given(any_currency, amounts, st.integers(min_value=1, max_value=4))
def test_parse_never_accepts_more_decimals_than_the_currency_has(case, minor, extra):
    """The amount as a form shows it (the locale's decimal mark) with one more decimal or several:
    refused, never rounded or read as something else."""
    currency, locale, places = case
    typed = minor_to_input(minor, currency, locale)
    if not places:
        typed += get_decimal_symbol(locale)
    with pytest.raises(MoneyError):
        parse_money(typed + "1" * extra, currency, locale)


@given(any_currency, st.integers(min_value=-10**10, max_value=10**10))
def test_one_amount_reads_the_same_from_minor_and_from_major_units(case, minor):
    currency, locale, _ = case
    assert format_major_amount(minor_to_major(minor, currency), currency, locale) == format_money(minor, currency, locale)


def test_the_context_gives_the_currency_and_locale_left_out():
    set_context(lambda: ("EUR", "de_DE"))
    try:
        assert format_money(1250) == "12,50\xa0€" and parse_money("12,50") == 1250
        assert minor_to_decimal(1250) == "12.50" and minor_to_input(1250) == "12,50"
        assert format_money(1250, "JPY", "ja_JP") == "￥1,250"
    finally:
        set_context(None)
    assert format_money(1250) == "$12.50"


@pytest.mark.parametrize("code, ok", [("EUR", True), ("JPY", True), ("BHD", True), ("eur", False), ("EURO", False),
                                      ("ABC", False), ("XXX", False), ("XAU", False), ("", False), (None, False)])
def test_a_currency_is_an_iso_4217_code_of_money(code, ok):
    assert is_currency(code) is ok


@pytest.mark.parametrize("code, ok", [("de_DE", True), ("ja_JP", True), ("en", False), ("de-DE", False),
                                      ("xx_YY", False), ("", False), ("de_DE.UTF-8", False), (5, False),
                                      ("de_de", False), ("DE_de", False), ("und", False)])
def test_a_locale_is_one_babel_knows(code, ok):
    assert is_locale(code) is ok
