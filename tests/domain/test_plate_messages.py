"""What the plate rule says when it refuses (garage/domain/tickets.py): the message names the script
only for letters of another script, never "Latin" nor a made-up one; the typed-length limit holds
after NFKC too (one "…" becomes three dots); a plate already inside is reported on the plate field;
only the exact shape of a printed ticket looks like a scanned ticket."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, strategies as st

from garage.domain.errors import AlreadyInside, Conflict, InvalidInput
from garage.domain.tickets import PLATE_LETTERS_MESSAGE, PLATE_TYPED_MAX, clean_plate, looks_like_ticket_number


def refusal(typed: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        clean_plate(typed)
    assert exc.value.field == "licensePlate"
    return exc.value


# Latin letters no plate carries (their capital is no Latin capital letter, or they have none).
@given(st.sampled_from("ĸƍƛƪƫƾȡȸȹʔʕʡʢ"))
@example("ĸ")  # LATIN SMALL LETTER KRA: no capital
def test_a_latin_letter_that_is_no_plate_letter_gets_the_general_message(letter):
    assert unicodedata.name(letter).startswith("LATIN") and unicodedata.category(letter).startswith("L")
    assert refusal(f"AB {letter} 1").message == PLATE_LETTERS_MESSAGE


# Letters Python's Unicode database has no name for (Tangut ideographs): no script to name.
@given(st.sampled_from([chr(c) for c in (0x17000, 0x17001, 0x187F7)]))
@example("\U00017000")  # TANGUT IDEOGRAPH-17000
def test_a_letter_without_a_name_gets_the_general_message(letter):
    assert unicodedata.name(letter, "") == "" and unicodedata.category(letter) == "Lo"
    assert refusal(f"AB{letter}1").message == PLATE_LETTERS_MESSAGE


def test_a_letter_of_another_script_is_named_in_the_message():
    assert refusal("ABЖ1").message == "Type the plate in Latin letters: Ж is a Cyrillic letter"


def test_the_typed_length_counts_what_normalisation_makes_of_the_plate():
    # "…" (one character) is "..." (three separators) after NFKC
    exactly = "A" + "…" * 13
    assert len(exactly) <= PLATE_TYPED_MAX and clean_plate(exactly) == ("A" + "." * 39, "A")
    too_long = "AB" + "…" * 13
    assert len(unicodedata.normalize("NFKC", too_long)) == PLATE_TYPED_MAX + 1
    assert refusal(too_long).message == f"A licence plate is at most {PLATE_TYPED_MAX} characters long"


def test_a_plate_already_inside_is_a_conflict_on_the_plate_field():
    error = AlreadyInside("AB 123 is already inside on ticket PS-9EB9RV")
    assert isinstance(error, Conflict)
    assert (error.message, error.field) == ("AB 123 is already inside on ticket PS-9EB9RV", "licensePlate")
    assert str(error) == "AB 123 is already inside on ticket PS-9EB9RV"


@pytest.mark.parametrize("typed, scanned", [
    ("PS-9EB9RV", True),    # exactly a printed ticket: the scanner typed it into the plate field
    ("PS-AB 123", False),   # a real German plate of the same start
    ("PS-9EB9R", False), ("PS-9EB9RVX", False), ("9EB9RV", False),
    ("PS-9EB0RV", False),   # 0 is no ticket character
])
def test_only_the_exact_shape_of_a_printed_ticket_looks_like_one(typed, scanned):
    assert looks_like_ticket_number(typed) is scanned
