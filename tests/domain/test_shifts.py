"""The cash drawer's arithmetic (garage/domain/shifts.py): expected cash, over/short, counting
by denomination, and what may be typed; plain Python, Hypothesis."""
import pytest
from hypothesis import given, strategies as st

from garage.domain.errors import InvalidInput
from garage.domain.shifts import (
    MAX_COUNTED_CENTS, MAX_FLOAT_CENTS, USD_DENOMINATIONS, CloseOut, check_counted, check_float, check_reason,
    count_denominations, denomination_label, expected_cash, over_short, over_short_text,
)

cents = st.integers(min_value=0, max_value=10 ** 9)
piece_counts = st.dictionaries(st.sampled_from(USD_DENOMINATIONS), st.integers(0, 500), max_size=12)


def test_a_drawer_with_a_float_and_cash_payments_expects_their_sum():
    assert expected_cash(10000, 4550) == 14550
    assert expected_cash(10000, 4550, 1000) == 13550  # a cash refund leaves the drawer


def test_over_and_short_read_as_a_person_says_them():
    assert over_short(14000, 14550) == -550
    assert over_short_text(-2000) == "short by $20.00"
    assert over_short_text(150) == "over by $1.50"
    assert over_short_text(0) == "balanced"


@given(cents, cents, cents, cents)
def test_counted_is_always_expected_plus_over_short(float_cents, paid, refunded, counted):
    out = CloseOut(float_cents, paid, refunded, counted)
    assert out.expected_cents == float_cents + paid - refunded
    assert out.expected_cents + out.over_short_cents == counted
    assert (out.over_short_cents < 0) == (counted < out.expected_cents)


@given(piece_counts)
def test_counting_by_denomination_totals_every_piece(counts):
    as_text = {str(d): n for d, n in counts.items()}
    pieces, total = count_denominations(as_text)
    assert total == sum(d * n for d, n in counts.items())
    assert list(pieces) == list(USD_DENOMINATIONS)  # every denomination, largest first
    assert all(pieces[d] == counts.get(d, 0) for d in USD_DENOMINATIONS)


def test_a_typical_count():
    pieces, total = count_denominations({"2000": 3, "500": 2, "25": 8, "1": 4})
    assert total == 6000 + 1000 + 200 + 4
    assert pieces[2000] == 3 and pieces[10000] == 0


@pytest.mark.parametrize("counts, words", [
    ({"300": 1}, "'300' is not a denomination"),
    ({"twenty": 1}, "'twenty' is not a denomination"),
    ({"2000": -1}, "The count of $20 must be a whole number"),
    ({"25": 1.5}, "The count of 25¢ must be a whole number"),
    ({"25": True}, "The count of 25¢ must be a whole number"),
    ({"100": 100_001}, "The count of $1 must be a whole number from 0 to 100,000"),
])
def test_a_wrong_count_is_refused_naming_what_is_wrong(counts, words):
    with pytest.raises(InvalidInput) as refused:
        count_denominations(counts)
    assert words in refused.value.message
    assert refused.value.field == "countedByDenomination"


def test_a_count_beyond_what_a_drawer_holds_is_refused():
    with pytest.raises(InvalidInput):
        count_denominations({"10000": 100_000, "5000": 100_000})  # $15,000,000


@pytest.mark.parametrize("value", [-1, MAX_FLOAT_CENTS + 1, 1.5, "100", True, None])
def test_a_float_must_be_whole_cents_in_range(value):
    with pytest.raises(InvalidInput) as refused:
        check_float(value)
    assert refused.value.message == "The float must be from $0.00 to $10,000.00"


@given(st.integers(0, MAX_FLOAT_CENTS))
def test_any_float_in_range_is_kept(value):
    assert check_float(value) == value


def test_counted_cash_bounds():
    assert check_counted(0) == 0 and check_counted(MAX_COUNTED_CENTS) == MAX_COUNTED_CENTS
    with pytest.raises(InvalidInput):
        check_counted(-5)


@pytest.mark.parametrize("reason", ["", "   ", None, 5, "x" * 501])
def test_a_reason_is_mandatory_and_bounded(reason):
    with pytest.raises(InvalidInput):
        check_reason(reason)


def test_labels():
    assert [denomination_label(d) for d in (10000, 100, 50, 1)] == ["$100", "$1", "50¢", "1¢"]
