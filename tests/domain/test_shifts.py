"""The cash drawer's arithmetic (garage/domain/shifts.py): expected cash, over/short, counting
by denomination, and what may be typed; plain Python, Hypothesis."""
import pytest
from hypothesis import example, given, strategies as st

from garage.domain.errors import InvalidInput
from garage.domain.shifts import (
    MAX_COUNTED_CENTS, MAX_FLOAT_CENTS, USD_DENOMINATIONS, CloseOut, check_counted, check_float, check_reason,
    count_denominations, denomination_label, expected_cash, over_short, over_short_text,
)

cents = st.integers(min_value=0, max_value=10 ** 9)
piece_counts = st.dictionaries(st.sampled_from(USD_DENOMINATIONS), st.integers(0, 500), min_size=1, max_size=12)  # {} is no count (refused)


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


@pytest.mark.parametrize("value", [-1, MAX_FLOAT_CENTS + 1, 1.5, "100", True, None])
def test_a_float_must_be_whole_cents_in_range(value):
    with pytest.raises(InvalidInput) as refused:
        check_float(value)
    assert refused.value.message == "The float must be from $0.00 to $10,000.00"


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


# The exact words and the field a refused drawer entry is shown under (the page puts the
# message under that field; the API answers it as {"message": ..., "field": ...}).

def refused(call, *args) -> tuple[str, str | None]:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value.message, caught.value.field


FLOAT_RANGE = "The float must be from $0.00 to $10,000.00"
COUNTED_RANGE = "The counted cash must be from $0.00 to $10,000,000,000,000.00"


@given(st.integers(0, MAX_FLOAT_CENTS))
@example(0).via("the empty drawer")
@example(MAX_FLOAT_CENTS).via("exactly $10,000.00, the largest float")
def test_a_float_from_nothing_to_ten_thousand_dollars_is_kept(value):
    assert check_float(value) == value


def test_a_refused_float_is_shown_under_the_float_field_or_the_one_named():
    assert refused(check_float, MAX_FLOAT_CENTS + 1) == (FLOAT_RANGE, "floatCents")
    assert refused(check_float, -1, "newFloat") == (FLOAT_RANGE, "newFloat")


@pytest.mark.parametrize("value", [-1, MAX_COUNTED_CENTS + 1, 1.5, 100.0, "100", True, None])
def test_counted_cash_must_be_whole_cents_in_range_under_its_field(value):
    assert refused(check_counted, value) == (COUNTED_RANGE, "countedCashCents")
    assert refused(check_counted, value, "counted") == (COUNTED_RANGE, "counted")


def test_a_denomination_is_read_from_at_most_nine_digits():
    """Leading zeros are fine up to nine digits ("000000100" is $1); a longer key is not read."""
    assert count_denominations({"000000100": 3}) == ({**dict.fromkeys(USD_DENOMINATIONS, 0), 100: 3}, 300)
    assert refused(count_denominations, {"0000000100": 3}) == (
        "'0000000100' is not a denomination: use cents, one of 10000, 5000, 2000, 1000, 500, 200, 100, 50, 25, "
        "10, 5, 1", "countedByDenomination")


def test_an_unknown_denomination_is_quoted_by_its_first_20_characters_and_the_list_of_them_given():
    typed = "hundred-dollar notes, 3 of them"
    assert refused(count_denominations, {typed: 1}, (2000, 100), "count") == (
        "'hundred-dollar notes' is not a denomination: use cents, one of 2000, 100", "count")


def test_a_hundred_thousand_pieces_of_one_denomination_is_the_most_counted():
    pieces, total = count_denominations({"1": 100_000})
    assert (pieces[1], total) == (100_000, 100_000)  # $1,000.00 in cents
    assert refused(count_denominations, {"1": 100_001}) == (
        "The count of 1¢ must be a whole number from 0 to 100,000", "countedByDenomination")


def test_one_denomination_typed_twice_adds_both_counts():
    """{"25": 4, "025": 2} are both quarters: six of them, not the last one's two."""
    pieces, total = count_denominations({"25": 4, "025": 2})
    assert (pieces[25], total) == (6, 150)


def test_an_empty_count_by_denomination_is_no_count():
    """{} closed a shift with a count of 0 against ¥2,164,300,000 expected (an outside check): refused, while
    a denomination counted 0 is an empty drawer."""
    assert refused(count_denominations, {}) == (
        "Give the count of at least one note or coin (0 for none), or the counted total", "countedByDenomination")
    assert count_denominations({"100": 0})[1] == 0


def test_a_drawer_of_more_than_a_million_is_counted_as_it_is():
    """A count is what the drawer holds, however much (its cash is a sum of payments): a cap of $1,000,000
    left a JPY drawer of ¥104,400,000 closable only with a false count (an outside check)."""
    pieces, total = count_denominations({"10000": 100_000, "5000": 100_000})
    assert total == 1_500_000_000  # $15,000,000.00
    assert check_counted(104_400_000) == 104_400_000


def test_a_reason_is_kept_without_its_surrounding_spaces():
    assert check_reason("  Customer paid twice \n") == "Customer paid twice"
    assert check_reason("x" * 500) == "x" * 500  # 500 characters: the most


@pytest.mark.parametrize("reason", ["", "   ", None, 5])
def test_a_missing_reason_asks_for_one_under_the_reason_field(reason):
    assert refused(check_reason, reason) == ("Give a reason (it is kept in the audit log)", "reason")
    assert refused(check_reason, reason, "note") == ("Give a reason (it is kept in the audit log)", "note")


def test_a_reason_of_501_characters_is_refused_saying_the_limit():
    assert refused(check_reason, "x" * 501) == ("The reason may be at most 500 characters", "reason")
    assert refused(check_reason, "x" * 501, "note") == ("The reason may be at most 500 characters", "note")


def test_a_drawer_one_cent_off_reads_over_or_short_by_a_cent():
    assert [over_short_text(c) for c in (1, -1)] == ["over by $0.01", "short by $0.01"]
