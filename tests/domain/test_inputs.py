"""What a typed number, date and text may be (garage/domain/inputs.py, periods.parse_date),
and where a sign-in may send you (web.safe_next): plain Python, no database."""
import unicodedata

import pytest
from hypothesis import example, given, settings, strategies as st

from garage.domain.errors import InvalidInput, Malformed
from garage.domain.inputs import MAX_PAGE, check_text, has_control, parse_integer, parse_page, parse_whole
from garage.domain.periods import parse_date
from garage.web import safe_next


@pytest.mark.parametrize("raw, value", [("0", 0), ("7", 7), (" 42 ", 42), ("007", 7), ("100", 100)])
def test_a_number_is_ascii_digits(raw, value):
    assert parse_whole(raw, field="n", minimum=0, maximum=100) == value


@pytest.mark.parametrize("raw", [
    "²", "٣", "８", "१२", "1²", "-1", "+1", "-0", "1e3", "1e309", "1.0", "1_0", "0x10", "one", "1 0",
    "101", "99999999999999999999", "9" * 5000, "", "  ", None,
])
def test_anything_else_is_refused_with_the_range(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_whole(raw, field="limit", minimum=0, maximum=100)
    assert refused.value.message == "limit must be a whole number from 0 to 100"
    assert refused.value.field == "limit" and refused.value.status == 422


@settings(max_examples=200)
@given(st.text(max_size=30))
@example("²")
@example("٣")
@example("８")
@example("-0")
@example("99999999999999999999")
def test_no_text_but_ascii_digits_in_range_is_a_number(raw):
    """int() takes Unicode digits, signs, underscores and spaces: the parser takes digits only."""
    try:
        value = parse_whole(raw, field="n", minimum=1, maximum=1000)
    except InvalidInput:
        return
    digits = raw.strip()
    assert digits.isascii() and digits.isdigit() and 1 <= value <= 1000 and value == int(digits)


def test_a_page_is_one_when_blank_and_refused_out_of_range():
    assert parse_page(None) == 1 and parse_page("") == 1 and parse_page("3") == 3
    for raw in ("0", str(MAX_PAGE + 1), "99999999999999999999", "²", "abc"):
        with pytest.raises(InvalidInput, match=f"page must be a whole number from 1 to {MAX_PAGE}"):
            parse_page(raw)


@pytest.mark.parametrize("raw, message", [
    ("2026-02-30", "is not a date"), ("0000-01-01", "is not a date"), ("9999-12-31", "between 2000 and 2100"),
    ("1999-12-31", "between 2000 and 2100"), ("２０２６-03-08", "is not a date"), ("2026-W10-1", "is not a date"),
    ("20260308", "is not a date"), ("2026-3-8", "is not a date"), ("yesterday", "is not a date"),
])
def test_a_date_is_a_real_yyyy_mm_dd_day_in_range(raw, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        parse_date(raw, "from")
    assert refused.value.field == "from"


def test_a_good_date_is_read():
    assert parse_date("2026-03-08", "from").isoformat() == "2026-03-08"


@settings(max_examples=300)
@given(st.text(max_size=8))
@example("a\x00b")
@example("\r\n")
@example("\t")
@example("\x7f")
@example("\x85")
@example("\ud800")
def test_control_characters_are_exactly_unicode_cc_and_surrogates(text):
    assert has_control(text) == any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def test_the_address_may_hold_line_breaks_but_no_other_control_character():
    assert has_control("12 Main St\r\nSpringfield", multiline=True) is False
    assert has_control("12 Main St\nSpringfield") is True  # a one-line field refuses them
    assert has_control("12 Main St\tSpringfield\n", multiline=True) is True


def test_text_with_a_control_character_is_refused_naming_the_field():
    assert check_text("Ünïcode ok – ²", "name") == "Ünïcode ok – ²"
    with pytest.raises(Malformed) as refused:
        check_text("a\x00b", "user")
    assert refused.value.status == 400 and refused.value.message.startswith("user: control characters")


@pytest.mark.parametrize("target", [
    "/\r\nX", "/a\nb", "/a\rb", "/a\tb", "\x00/desk", "/desk\x00", "/x\x7f", "/\ud800",
    "//evil.example", "/\\evil.example", "https://evil.example/", "desk", "", None,
])
def test_next_refuses_other_sites_and_what_a_location_header_cannot_carry(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/desk", "/reports?from=2026-03-01&to=2026-03-08", "/admin/audit?user=é"])
def test_next_keeps_local_paths(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("raw, number", [("0", 0), ("-5", -5), (" +7 ", 7), ("0012", 12),
                                         ("9" * 40, 10 ** 18), ("-" + "9" * 40, -(10 ** 18)),
                                         ("9" * 18, 10 ** 18 - 1)])  # 18 digits are still read as they are
def test_a_signed_whole_number_is_read_as_one(raw, number):
    assert parse_integer(raw) == number


@pytest.mark.parametrize("raw", ["", " ", "-", "1.5", "1e3", "٣", "²", "1_000", "--5", "5-"])
def test_what_is_no_whole_number_is_none(raw):
    assert parse_integer(raw) is None


@pytest.mark.parametrize("spaces, message", [(0, "Total spaces must be at least 1"),
                                             (-5, "Total spaces must be at least 1"),
                                             (10 ** 18, "Total spaces can be at most 100,000"),
                                             (1.5, "Total spaces must be a whole number"),
                                             (True, "Total spaces must be a whole number")])
def test_total_spaces_out_of_range_say_which_limit(spaces, message):
    from garage.domain.garage_settings import check

    assert check({"total_spaces": spaces}) == {"total_spaces": message}
    assert check({"total_spaces": 1}) == {} and check({"total_spaces": 100_000}) == {}
