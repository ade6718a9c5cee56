"""Tax on receipts (garage/domain/tax.py) and the receipt settings' rules
(garage/domain/garage_settings.py), without Flask or a database."""
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, strategies as st

from garage.domain import garage_settings as rules
from garage.domain.tax import (
    MAX_RATE_BP, format_percent, included_line, included_tax, parse_percent, percent_text,
)
from garage.domain.tickets import format_receipt_number

totals = st.integers(min_value=0, max_value=10 ** 11)  # cents: up to $1,000,000,000
rates = st.integers(min_value=0, max_value=MAX_RATE_BP)


@pytest.mark.parametrize("total, rate, tax", [
    (1190, 1900, 190),   # 11.90 incl. 19 %: exactly 1.90
    (1000, 1900, 160),   # 159.66 → 160
    (1000, 700, 65),     # 65.42 → 65
    (107, 700, 7),       # exactly 7
    (1, 1900, 0),        # 0.16 → 0
    (3, 1900, 0),        # 0.479 → 0
    (4, 1900, 1),        # 0.639 → 1
    (21, 10000, 11),     # 10.5 → 11: half goes up
    (0, 1900, 0),
    (5000, 0, 0),
    (5001, 1, 1),        # 0.01 %: 0.50005 → 1; the smallest rate still taxes a large enough total
    (5000, 1, 0),        # 0.49995 → 0
])
def test_the_tax_included_in_a_total_rounds_half_up_to_the_cent(total, rate, tax):
    assert included_tax(total, rate) == tax


@given(totals, rates)
def test_the_rounding_rule_is_exactly_half_up_of_the_exact_share(total, rate):
    exact = Decimal(total) * rate / (10000 + rate)
    assert included_tax(total, rate) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(totals, rates)
def test_the_tax_is_never_more_than_the_total_and_nothing_at_a_zero_rate(total, rate):
    tax = included_tax(total, rate)
    assert 0 <= tax <= total
    assert included_tax(total, 0) == 0
    if rate and total:
        assert tax < total  # the net price is never negative


@given(totals, totals, rates)
def test_a_larger_total_never_includes_less_tax(a, b, rate):
    low, high = sorted((a, b))
    assert included_tax(low, rate) <= included_tax(high, rate)


@given(totals, rates, rates)
def test_a_higher_rate_never_includes_less_tax(total, r1, r2):
    low, high = sorted((r1, r2))
    assert included_tax(total, low) <= included_tax(total, high)


def test_negative_amounts_are_not_taxed():
    with pytest.raises(ValueError, match="^a total and a tax rate cannot be negative$"):
        included_tax(-1, 1900)
    with pytest.raises(ValueError, match="^a total and a tax rate cannot be negative$"):
        included_tax(100, -1)


@pytest.mark.parametrize("typed, bp", [
    ("19", 1900), ("7.25", 725), ("7,25", 725), ("7.5", 750), ("0", 0), ("", 0), (" 19 % ", 1900),
    ("19%", 1900), ("100", 10000), ("0.01", 1), ("007", 700),
])
def test_a_typed_percentage_becomes_basis_points(typed, bp):
    assert parse_percent(typed) == bp


@pytest.mark.parametrize("typed", ["19.005", "-7", "+7", "VAT", "1e2", "19 20", "٣", "1000", ".5", "%"])
def test_anything_else_is_not_a_percentage(typed):
    with pytest.raises(ValueError) as refused:
        parse_percent(typed)
    assert str(refused.value) == f"not a percentage: {typed.strip()!r}"


@given(rates)
def test_a_rate_shown_in_the_form_reads_back_as_the_same_rate(bp):
    assert parse_percent(percent_text(bp)) == bp


def test_rates_and_tax_lines_read_as_people_write_them():
    assert [format_percent(bp) for bp in (1900, 725, 750, 0, 1)] == ["19 %", "7.25 %", "7.5 %", "0 %", "0.01 %"]
    assert included_line(1000, 1900) == "incl. VAT 19 %: $1.60"
    assert included_line(123456, 725) == "incl. VAT 7.25 %: $83.46"  # 8345.51 cents
    assert included_line(1000, 0) is None and included_line(1000, None) is None


def test_receipt_numbers_are_shown_with_six_digits_at_least():
    assert format_receipt_number(123) == "R-000123"
    assert format_receipt_number(1) == "R-000001"
    assert format_receipt_number(1234567) == "R-1234567"
    assert format_receipt_number(None) is None


# --- the receipt settings' rules -------------------------------------------------------------

def test_valid_receipt_settings_pass():
    assert rules.check({"garage_address": "12 Main St\r\nSpringfield", "tax_rate_bp": 1900,
                        "tax_id": "DE123456789"}) == {}
    assert rules.check({"garage_address": "", "tax_rate_bp": 0, "tax_id": ""}) == {}
    assert rules.check({"tax_rate_bp": MAX_RATE_BP}) == {}
    # the longest accepted: a 32-character tax id, address lines of 60
    assert rules.check({"tax_id": "X" * 32, "garage_address": "y" * 60 + "\n" + "z" * 60}) == {}


@pytest.mark.parametrize("changes, key, words", [
    ({"tax_rate_bp": MAX_RATE_BP + 1}, "tax_rate_bp", "from 0 to 100"),
    ({"tax_rate_bp": -1}, "tax_rate_bp", "from 0 to 100"),
    ({"tax_rate_bp": 19.5}, "tax_rate_bp", "from 0 to 100"),
    ({"tax_rate_bp": True}, "tax_rate_bp", "from 0 to 100"),
    ({"tax_rate_bp": 100.5}, "tax_rate_bp", "The tax rate must be a percentage from 0 to 100 with at most two"
                                            " decimals, e.g. 19 or 7.25 (0: no tax line)"),
    ({"tax_id": "X" * 33}, "tax_id", "at most 32"),
    ({"tax_id": None}, "tax_id", "at most 32"),
    ({"garage_address": "a\nb\nc\nd\ne"}, "garage_address", "at most 4 lines"),
    ({"garage_address": "y" * 61}, "garage_address", "at most 60"),
    ({"garage_address": "Main\tStreet"}, "garage_address", "printable"),
    ({"garage_address": ["a list"]}, "garage_address", "at most 4 lines"),
])
def test_invalid_receipt_settings_are_named_with_their_message(changes, key, words):
    errors = rules.check(changes)
    assert list(errors) == [key] and words in errors[key]


def test_the_address_is_kept_as_trimmed_lines_whatever_the_line_breaks():
    assert rules.clean_address("  12 Main St \r\n\r\n Springfield \rIL\n") == "12 Main St\nSpringfield\nIL"
    assert rules.clean_address("   \n ") == ""
    # blank lines do not count against the four
    assert rules.check({"garage_address": "1\n\n2\n\n3\n\n4\n"}) == {}


# Tax added on top of the price (garages.tax_added, issue 22).
from garage.domain.tax import added_tax, split  # noqa: E402


@pytest.mark.parametrize("net, rate, tax", [
    (1000, 1900, 190), (1003, 1900, 191), (1, 1900, 0), (3, 1900, 1), (0, 1900, 0), (5000, 0, 0),
    (1000, 725, 73),  # 72.5 → 73: half goes up
])
def test_the_tax_added_to_a_price_is_rounded_half_up(net, rate, tax):
    assert added_tax(net, rate) == tax


@given(totals, rates)
def test_added_tax_is_the_exact_half_up_percentage(net, rate):
    exact = Decimal(net) * Decimal(rate) / Decimal(10000)
    assert added_tax(net, rate) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(totals, rates)
def test_a_total_charged_with_tax_added_splits_back_into_its_price_and_tax(net, rate):
    total = net + added_tax(net, rate)
    assert split(total, rate, True) == (net, total - net)


@given(totals, rates)
def test_a_total_with_tax_included_splits_into_net_and_the_included_tax(total, rate):
    net, tax = split(total, rate, False)
    assert net + tax == total and tax == included_tax(total, rate)


def test_the_receipt_line_says_whether_the_tax_was_included_or_added():
    assert included_line(1190, 1900) == "incl. VAT 19 %: $1.90"
    assert included_line(1190, 1900, added=True) == "Net $10.00 + VAT 19 %: $1.90"
    assert included_line(1190, 0, added=True) is None
