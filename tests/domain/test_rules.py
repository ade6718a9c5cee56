"""The domain's rules without Flask or a database (garage.domain): plates, vehicle types,
payment methods, ticket numbers, occupancy states, local days."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain import tickets as rules
from garage.domain.clock import local_day_bounds, local_today
from garage.domain.errors import InvalidInput
from garage.domain.occupancy import ALMOST_FULL, FULL, OPEN, Occupancy


@pytest.mark.parametrize("typed, key", [
    ("abc123", "ABC123"), ("  ab-c 12 3 ", "ABC123"), ("7-XYZ-001", "7XYZ001"),
    ("A", "A"), ("ABCDEFGHJK12", "ABCDEFGHJK12"),
])
def test_plates_are_normalised(typed, key):
    assert rules.clean_plate(typed)[1] == key


def test_plate_as_typed_keeps_spaces_and_dashes_but_trims():
    assert rules.clean_plate("  ab-c  123 ")[0] == "AB-C 123"


@pytest.mark.parametrize("bad", ["", "   ", "--", "ABC_123", "АBC", "AB<script>", "ABCDEFGHJK123", None])
def test_bad_plates_are_refused_with_a_message(bad):
    with pytest.raises(InvalidInput) as exc:
        rules.clean_plate(bad)
    assert exc.value.field == "licensePlate" and exc.value.message


def test_unknown_vehicle_type_lists_the_valid_ones():
    with pytest.raises(InvalidInput) as exc:
        rules.check_vehicle_type("Truck")
    for valid in rules.VEHICLE_TYPES:
        assert valid in exc.value.message


def test_unknown_payment_method_lists_the_valid_ones():
    with pytest.raises(InvalidInput) as exc:
        rules.check_payment_method("Bitcoin")
    assert "Mobile Payment" in exc.value.message and "Cash" in exc.value.message
    assert rules.check_payment_method("Cash") == "Cash"


SENT = st.one_of(st.none(), st.sampled_from(rules.PAYMENT_METHODS), st.text(max_size=20))


@given(SENT, st.integers(min_value=0, max_value=10**12), st.sampled_from([None, "Permit"]))
def test_an_exit_records_a_method_only_for_money_taken(sent, amount, permit_method):
    """Nothing to pay: no payment was taken, whatever was sent ("Permit" for a permit car, else "No
    charge"); something to pay: one of the four methods sent, anything else (none included) refused."""
    if amount == 0:
        assert rules.recorded_method(sent, amount, permit_method) == (permit_method or rules.NO_CHARGE_METHOD)
    elif sent in rules.PAYMENT_METHODS:
        assert rules.recorded_method(sent, amount, permit_method) == sent
    else:
        with pytest.raises(InvalidInput):
            rules.recorded_method(sent, amount, permit_method)


def test_ticket_numbers_use_only_the_unambiguous_alphabet():
    for _ in range(2000):
        number = rules.new_ticket_number()
        assert number.startswith("PS-") and len(number) == 9
        assert not set(number[3:]) & set("0O1IL")


def test_ticket_numbers_do_not_collide_like_the_seeds():
    # The seed's 4 random digits collide within a few thousand tickets.
    numbers = {rules.new_ticket_number() for _ in range(200_000)}
    assert len(numbers) >= 199_950


@pytest.mark.parametrize("typed", ["PS-ABCD23", "ps-abcd23", "  abcd23 ", "ABCD23", "Ps-AbCd23"])
def test_ticket_lookup_accepts_case_and_missing_prefix(typed):
    assert rules.normalise_ticket_number(typed) == "PS-ABCD23"


@pytest.mark.parametrize("typed", ["", "PS-", "PS-0000", "hello world!", "PS-ABC"])
def test_ticket_lookup_rejects_what_cannot_be_a_ticket(typed):
    assert rules.normalise_ticket_number(typed) is None


@given(st.text(max_size=40))
def test_plate_rules_never_crash(text):
    try:
        typed, key = rules.clean_plate(text)
    except InvalidInput:
        return
    assert 1 <= len(key) <= 12 and key.isalnum() and key == key.upper() and len(typed) <= 40


def test_occupancy_states_and_percentages():
    assert Occupancy(140, 0).state() == OPEN
    assert Occupancy(140, 125).state() == OPEN          # 89.3 %
    assert Occupancy(140, 126).state() == ALMOST_FULL   # 90 %
    assert Occupancy(140, 140).state() == FULL
    o = Occupancy(3, 1)
    assert (o.occupied_percent, o.available_percent, o.available) == (33, 67, 2)


def test_local_day_in_a_dst_zone_has_23_hours():
    start, end = local_day_bounds(date(2026, 3, 8), "America/New_York")
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)
    assert (end - start).total_seconds() == 23 * 3600


def test_local_today_differs_from_utc_date_late_in_the_evening():
    late = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)  # 22:00 on the 26th in New York
    assert local_today(late, "America/New_York") == date(2026, 11, 26)


class _Inside:
    """An active ticket as the refused entry found it."""

    def __init__(self, issued_by_id, entry_time, status=rules.STATUS_ACTIVE, vehicle_type="Car"):
        self.issued_by_id, self.entry_time, self.status = issued_by_id, entry_time, status
        self.vehicle_type = vehicle_type


_NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


@given(issuer=st.one_of(st.none(), st.integers(1, 4)), caller=st.one_of(st.none(), st.integers(1, 4)),
       age_ms=st.integers(-60_000, 120_000), status=st.sampled_from(
           [rules.STATUS_ACTIVE, rules.STATUS_COMPLETED, rules.STATUS_VOIDED]),
       issued_as=st.sampled_from(rules.VEHICLE_TYPES), asked=st.sampled_from(rules.VEHICLE_TYPES))
def test_an_entry_is_the_same_one_sent_again_only_from_its_issuer_moments_after(issuer, caller, age_ms, status,
                                                                                 issued_as, asked):
    """Resent: the refused entry's plate is inside on an active ticket that this very person (not an API
    token's system actor, not another attendant) was issued for the same vehicle type at most
    RESENT_ENTRY_SECONDS before; never a ticket from the future (a clock stepped back), never a paid or
    voided one, never one of another vehicle type (a correction meant, not a resend)."""
    inside = _Inside(issuer, _NOW - timedelta(milliseconds=age_ms), status, issued_as)
    expected = (caller is not None and issuer == caller and status == rules.STATUS_ACTIVE and issued_as == asked
                and 0 <= age_ms <= rules.RESENT_ENTRY_SECONDS * 1000)
    assert rules.is_resent_entry(inside, caller, asked, _NOW) is expected


@pytest.mark.parametrize("age, resent", [(0, True), (rules.RESENT_ENTRY_SECONDS, True),
                                         (rules.RESENT_ENTRY_SECONDS + 0.001, False), (-0.001, False)])
def test_the_resend_window_is_closed_at_both_ends(age, resent):
    assert rules.is_resent_entry(_Inside(7, _NOW - timedelta(seconds=age)), 7, "Car", _NOW) is resent


@pytest.mark.parametrize("issuer, caller, status", [
    (None, None, rules.STATUS_ACTIVE),  # a system or token entry: nobody to have sent it again
    (7, 8, rules.STATUS_ACTIVE), (7, 7, rules.STATUS_COMPLETED), (7, 7, rules.STATUS_VOIDED)])
def test_no_resend_without_the_same_person_and_a_car_still_inside(issuer, caller, status):
    assert rules.is_resent_entry(_Inside(issuer, _NOW - timedelta(seconds=1), status), caller, "Car", _NOW) is False


def test_the_same_plate_with_another_vehicle_type_is_not_a_resend():
    assert rules.is_resent_entry(_Inside(7, _NOW - timedelta(seconds=1), vehicle_type="Car"), 7, "SUV", _NOW) is False


TICKET_NUMBERS = st.text(alphabet=rules.TICKET_ALPHABET, min_size=6, max_size=6).map(lambda c: rules.TICKET_PREFIX + c)


@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip()), TICKET_NUMBERS, st.booleans())
def test_a_scan_after_any_text_is_read_back_and_a_bare_number_is_not_one(before, number, lower):
    """Whatever was in the field before (a partial number, a plate, a stray key), the printed number a
    scanner typed after it is found; the number alone, or text not ending with one, is not an appended scan."""
    typed = before.rstrip() + (number.lower() if lower else number)
    assert rules.appended_scan(typed) == number
    assert rules.appended_scan(number) is None and rules.appended_scan(number[:-1]) is None
