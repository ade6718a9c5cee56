"""The plate rule for international plates (garage/domain/tickets.py, docs/desk.md "Plates"):
Latin letters with their diacritics and digits, one key per plate however it is typed, distinct
letters distinct, other scripts' look-alikes refused, and nothing accepted that the columns cannot hold."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, example, given, settings, strategies as st

from garage.domain.errors import InvalidInput
from garage.domain.tickets import NOTHING_TO_FIND, PLATE_MAX, PLATE_TYPED_MAX, clean_plate, plate_key
from garage.models import Ticket

KEY_COLUMN = Ticket.__table__.c.plate_key.type.length
SHOWN_COLUMN = Ticket.__table__.c.license_plate.type.length

# Letters plates really carry, beyond A-Z: German, Nordic, Baltic, Central European, Iberian, Turkish.
NATIONAL = "ÄÖÜÆØÅÉÈÇÑČŠŽŁŚŹŻĆŃŐŰĄĘĖĮŲŪĢĶĻŅŞĞĐ"
LETTERS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + NATIONAL + NATIONAL.lower())
SEPARATORS = st.sampled_from([" ", "-", ".", "  ", " - ", "–", "\u00a0"])


def accepted(text: str) -> tuple[str, str] | None:
    try:
        return clean_plate(text)
    except InvalidInput:
        return None


@pytest.mark.parametrize("typed, shown, key", [
    ("m-üx 123", "M-ÜX 123", "MÜX123"),          # German
    ("ab 12 æøå", "AB 12 ÆØÅ", "AB12ÆØÅ"),        # Nordic
    ("Ａｂ１２", "AB12", "AB12"),                    # full-width: NFKC
    ("ka.ab.123", "KA.AB.123", "KAAB123"),         # dots are separators
    ("34 abc 12", "34 ABC 12", "34ABC12"),
    ("straße 1", "STRAẞE 1", "STRAẞE1"),           # ß is one letter, not SS
    ("İST 1", "IST 1", "IST1"), ("ıst 1", "IST 1", "IST1"),  # Turkish I with and without the dot
    ("zg–123", "ZG-123", "ZG123"),                 # a phone's en dash is a dash
])
def test_international_plates_are_accepted_and_normalised(typed, shown, key):
    assert clean_plate(typed) == (shown, key)


@pytest.mark.parametrize("one, other", [("MÜ 1", "MU 1"), ("ÅB 1", "AB 1"), ("ØS 1", "OS 1"), ("STRAẞE", "STRASSE"),
                                        ("Č1", "C1"), ("O1", "01")])
def test_distinct_letters_keep_distinct_keys(one, other):
    assert clean_plate(one)[1] != clean_plate(other)[1]


@pytest.mark.parametrize("typed, script", [("АВС 123", "Cyrillic"), ("ΑΒΓ 1", "Greek"), ("AB Х1", "Cyrillic")])
def test_look_alikes_of_other_scripts_are_refused_by_name(typed, script):
    with pytest.raises(InvalidInput) as exc:
        clean_plate(typed)
    assert f"is a {script} letter" in exc.value.message and "Latin" in exc.value.message


@pytest.mark.parametrize("typed", ["🚗🚙💥", "AB_1", "١٢٣", "A\u0308\u0301Q\u0308", "ᴀʙ", "ǰ1", "½"])
def test_what_is_no_plate_letter_is_refused(typed):
    with pytest.raises(InvalidInput) as exc:
        clean_plate(typed)
    assert exc.value.field == "licensePlate"


def test_a_search_that_holds_no_plate_letter_normalises_to_nothing():
    assert plate_key("🚗🚙💥") == "" and plate_key("- . -") == "" and NOTHING_TO_FIND
    assert plate_key(" mü-1 ") == "MÜ1"


@given(st.lists(st.tuples(LETTERS, SEPARATORS | st.just("")), min_size=1, max_size=PLATE_MAX))
def test_the_same_plate_typed_with_separators_and_case_has_one_key(parts):
    compact = "".join(letter for letter, _ in parts)
    spaced = "".join(letter + sep for letter, sep in parts)
    assume(len(spaced) <= PLATE_TYPED_MAX)
    keys = {clean_plate(variant)[1] for variant in (compact, compact.upper(), compact.lower(), spaced,
                                                       spaced.swapcase(), " " + spaced.upper() + " ")}
    assert len(keys) == 1


@settings(max_examples=300)
@given(st.text(LETTERS | st.sampled_from(" -.–\u00a0") | st.characters(codec="utf-8"), max_size=PLATE_TYPED_MAX + 2))
@example("straße")
@example("ﬀ")
@example("ⅲ")
@example("㎉")
@example("Ǆ")
@example("ŉ")
@example("ǰ")
@example("ð")
def test_accepted_plates_are_stable_and_fit_the_columns(text):
    result = accepted(text)
    if result is None:
        return
    shown, key = result
    assert clean_plate(shown) == (shown, key) and clean_plate(key) == (key, key)  # idempotent
    assert plate_key(text) == key == plate_key(shown)  # a search finds what the entry stored
    assert 1 <= len(key) <= min(PLATE_MAX, KEY_COLUMN) and len(shown) <= min(PLATE_TYPED_MAX, SHOWN_COLUMN)
    assert unicodedata.is_normalized("NFC", key)
    for ch in key:  # digits and Latin capitals only: no look-alike of another script gets in
        assert "0" <= ch <= "9" or unicodedata.name(ch).startswith("LATIN CAPITAL ")


@given(st.text(LETTERS, min_size=1, max_size=PLATE_MAX), st.text(LETTERS, min_size=1, max_size=PLATE_MAX))
def test_different_letters_give_different_keys(one, other):
    a, b = accepted(one), accepted(other)
    assume(a is not None and b is not None)
    assert (a[1] == b[1]) == (one.upper().replace("ß", "ẞ") == other.upper().replace("ß", "ẞ"))
