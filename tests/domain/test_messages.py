"""What a refused input tells the person and under which field it is shown: the exact
message and field of every domain error a page or the API answers with (the pages put the
message under the field named here; the API answers it as {"message": ...}). A changed
word, limit or field name fails here, not in front of a customer."""
from __future__ import annotations

import pytest

from garage.domain import errors, shifts, tickets
from garage.domain.inputs import check_text, parse_whole
from garage.domain.throttle import MINUTE, address_limit

PLATE = "licensePlate"


def refusal(call, *args) -> tuple[str, str | None, int]:
    with pytest.raises(errors.DomainError) as caught:
        call(*args)
    return caught.value.message, caught.value.field, caught.value.status


@pytest.mark.parametrize("make, message, field, status", [
    (errors.Unauthenticated, "Authentication required: send Authorization: Bearer <token>", None, 401),
    (errors.Forbidden, "Your role does not allow this", None, 403),
    (errors.GarageFull, "Garage is full", PLATE, 409),
    (errors.AlreadyProcessed, "Ticket has already been processed", None, 409),
    (lambda: errors.QuoteChanged(1250, 123456),
     "The amount due changed from $12.50 to $1,234.56; confirm the new amount", None, 409),
    (errors.NoSuchGarage, "No such garage", "garage", 404),
    (lambda: errors.SeveralGarages(["main", "north"]),
     "This token works at several garages: use /api/garages/<slug>/... (main, north)", None, 400),
    (shifts.ShiftRequired, "Open a shift before taking payments", "shift", 409),
    (shifts.ShiftAlreadyOpen, "You already have an open shift at this garage", "shift", 409),
    (shifts.ShiftClosed, "This shift is closed", "shift", 409),
])
def test_each_error_says_what_happened_under_its_field(make, message, field, status):
    error = make()  # built inside the test: a mutant of the error's code must be running
    assert (error.message, str(error), error.field, error.status) == (message, message, field, status)


def test_an_error_can_say_something_else():
    assert errors.Forbidden("Managers only").message == "Managers only"
    assert errors.Unauthenticated("Token expired").message == "Token expired"


def test_a_changed_quote_keeps_both_amounts_for_the_page():
    changed = errors.QuoteChanged(1250, 1500)
    assert (changed.quoted_cents, changed.current_cents) == (1250, 1500)


@pytest.mark.parametrize("raw, message", [
    (None, "Enter a licence plate"),
    ("   ", "Enter a licence plate"),
    ("A" * 41, "A licence plate is at most 40 characters long"),
    ("AB_12", "A licence plate may contain only letters, digits, spaces, dashes and dots (Latin letters A-Z, "
              "also with accents such as Ä, Ø or Č)"),
    (" - - ", "A licence plate needs at least one letter or digit"),
    ("ABCDEFGHJKLMN", "A licence plate has at most 12 letters and digits"),
])
def test_a_refused_plate_says_why_under_the_plate_field(raw, message):
    assert refusal(tickets.clean_plate, raw) == (message, PLATE, 422)


def test_a_plate_of_exactly_40_typed_characters_is_accepted():
    typed = "AB" + " " * 36 + "12"  # 40 characters, 4 letters and digits
    assert len(typed) == 40
    assert tickets.clean_plate(typed) == ("AB 12", "AB12")


@pytest.mark.parametrize("raw, key", [("ab-12 c", "AB12C"), ("XY 9", "XY9"), ("", ""), (None, ""), (" é-1 ", "É1")])
def test_a_plate_key_keeps_latin_letters_and_digits_in_upper_case(raw, key):
    assert tickets.plate_key(raw) == key


def test_an_unknown_vehicle_type_lists_the_choices_under_its_field():
    assert refusal(tickets.check_vehicle_type, "Bus") == (
        "Vehicle type must be one of: Car, Standard Vehicle, Compact Car, SUV, Motorcycle, Van", "vehicleType", 422)


def test_an_unknown_payment_method_lists_the_choices_under_its_field():
    assert refusal(tickets.check_payment_method, "Cheque") == (
        "Payment method must be one of: Cash, Credit Card, Debit Card, Mobile Payment", "paymentMethod", 422)


@pytest.mark.parametrize("typed", ["ps-abcd 23", " PS- ABCD23 ", "abcd23", "AB CD 23"])
def test_a_ticket_number_typed_with_spaces_or_in_lower_case_is_found(typed):
    assert tickets.normalise_ticket_number(typed) == "PS-ABCD23"


def test_a_whole_number_of_18_digits_is_read_and_19_are_not():
    assert parse_whole("0" * 17 + "7", field="n", minimum=0, maximum=10) == 7
    assert refusal(lambda: parse_whole("0" * 18 + "7", field="n", minimum=0, maximum=10)) == (
        "n must be a whole number from 0 to 10", "n", 422)


def test_a_control_character_is_refused_under_its_field():
    assert refusal(check_text, "a\tb", "garage_name") == (
        "garage_name: control characters (such as NUL, line breaks or tabs) are not allowed", "garage_name", 400)


def test_an_address_is_stopped_for_15_minutes_after_its_failures_within_15_minutes():
    limit = address_limit(3)
    assert (limit.free, limit.first_wait, limit.max_wait, limit.window) == (3, 15 * MINUTE, 15 * MINUTE, 15 * MINUTE)
    assert [limit.wait_after(n) for n in (2, 3, 4, 40)] == [0, 900, 900, 900]


def test_a_token_of_several_garages_is_told_which_ones():
    """The 400's body names them; the API also lists them for a client to pick from."""
    assert errors.SeveralGarages(["a", "b-2"]).slugs == ["a", "b-2"]
