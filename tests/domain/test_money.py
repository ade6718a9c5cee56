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
