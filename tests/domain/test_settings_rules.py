"""What a garage setting may be (garage/domain/garage_settings.py): each limit at its edge,
and the message the settings page shows under that setting's field."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest

from garage.domain import garage_settings
from garage.domain.garage_settings import InvalidSettings, check

# Total spaces says which limit was crossed (-5 is a whole number, so "at least 1", issue 15).
SPACES = {"below": "Total spaces must be at least 1", "above": "Total spaces can be at most 100,000",
          "not whole": "Total spaces must be a whole number"}

# (setting, lowest accepted, highest accepted, the message when outside: one text, or one per way out)
RANGES = [
    ("total_spaces", 1, 100_000, SPACES),
    ("hourly_rate", 0, 100_000, "The hourly rate must be from $0.00 to $1,000.00"),
    ("grace_minutes", 0, 1440, "The grace period must be a whole number of minutes from 0 to 1440"),
    ("daily_max_cents", 1, 1_000_000,
     "The daily maximum must be from $0.01 to $10,000.00 (or empty for no maximum)"),
    ("lost_ticket_fee_cents", 0, 1_000_000, "The lost-ticket fee must be from $0.00 to $10,000.00"),
    ("almost_full_percent", 1, 100, "The ALMOST FULL threshold must be a whole percent from 1 to 100"),
    ("void_window_minutes", 0, 1440,
     "The void window must be a whole number of minutes from 0 to 1440 (0: only managers void tickets)"),
]


def said(message: str | dict[str, str], way: str) -> str:
    return message if isinstance(message, str) else message[way]


@pytest.mark.parametrize("name, low, high, message", RANGES)
def test_each_number_is_accepted_at_its_limits_and_refused_just_outside(name, low, high, message):
    assert check({name: low}) == {}
    assert check({name: high}) == {}
    assert check({name: low - 1}) == {name: said(message, "below")}
    assert check({name: high + 1}) == {name: said(message, "above")}


@pytest.mark.parametrize("name, low, high, message", RANGES)
@pytest.mark.parametrize("value", [True, 5.0, "5"])
def test_a_number_setting_must_be_a_whole_number(name, low, high, message, value):
    assert check({name: value}) == {name: said(message, "not whole")}


@pytest.mark.parametrize("value, problems", [
    (True, {}), (False, {}), (1, {"payments_require_shift": "Choose whether payments need an open shift"}),
    ("yes", {"payments_require_shift": "Choose whether payments need an open shift"}),
    (None, {"payments_require_shift": "Choose whether payments need an open shift"})])
def test_payments_require_a_shift_is_yes_or_no(value, problems):
    assert check({"payments_require_shift": value}) == problems


def test_no_daily_maximum_is_allowed():
    assert check({"daily_max_cents": None}) == {}


VAN = "The Van rate must be from $0.00 to $1,000.00 (or empty for the default rate)"


@pytest.mark.parametrize("rate, problems", [
    (0, {}), (100_000, {}), (None, {}), (-1, {"vehicle_rates.Van": VAN}), (100_001, {"vehicle_rates.Van": VAN}),
    (True, {"vehicle_rates.Van": VAN}),
])
def test_a_vehicle_rate_is_checked_under_its_own_vehicle(rate, problems):
    assert check({"vehicle_rates": {"Car": 500, "Van": rate}}) == problems


def test_an_unknown_vehicle_type_lists_the_known_ones():
    assert check({"vehicle_rates": {"Bus": 100}}) == {
        "vehicle_rates.Bus": "Unknown vehicle type; use one of: Car, Standard Vehicle, Compact Car, SUV, "
                             "Motorcycle, Van"}


@pytest.mark.parametrize("rates", [[500], "Car=500", None])
def test_vehicle_rates_must_be_a_mapping(rates):
    assert check({"vehicle_rates": rates}) == {
        "vehicle_rates": "Vehicle rates must map a vehicle type to cents per hour"}


def test_no_vehicle_rates_is_nothing_to_check():
    assert check({"vehicle_rates": {}}) == {}


@pytest.mark.parametrize("mode, problems", [
    ("replace", {}), ("add", {}),
    ("Replace", {"lost_ticket_mode": "Choose whether the lost-ticket fee replaces or is added to the time fee"}),
])
def test_the_lost_ticket_mode_is_replace_or_add(mode, problems):
    assert check({"lost_ticket_mode": mode}) == problems


EMPTY_NAME = "Enter the garage's display name"
LONG_NAME = "The display name has at most 80 printable characters"


@pytest.mark.parametrize("name, problems", [
    ("Garage 1", {}), ("x" * 80, {}), ("  ", {"garage_name": EMPTY_NAME}), (None, {"garage_name": EMPTY_NAME}),
    ("x" * 81, {"garage_name": LONG_NAME}), ("Tab\there", {"garage_name": LONG_NAME}),
])
def test_the_display_name_is_printable_and_at_most_80_characters(name, problems):
    assert check({"garage_name": name}) == problems


ZONE = ("Unknown timezone: use UTC or a region's IANA name (Area/Location) "
        "such as Europe/Berlin or America/New_York")


@pytest.mark.parametrize("zone, problems", [
    ("Europe/Berlin", {}), ("America/Argentina/Ushuaia", {}), ("UTC", {}), ("US/Eastern", {}),
    ("Mars/Base", {"timezone": ZONE}), (None, {"timezone": ZONE}), ("", {"timezone": ZONE}),
    # zoneinfo knows these, but they name no region (an outside check set a garage to each):
    ("localtime", {"timezone": ZONE}), ("Factory", {"timezone": ZONE}), ("EST5EDT", {"timezone": ZONE}),
    ("GMT0", {"timezone": ZONE}), ("posixrules", {"timezone": ZONE}), ("Etc/GMT+5", {"timezone": ZONE}),
    ("Etc/UTC", {"timezone": ZONE}), ("Japan", {"timezone": ZONE}), ("europe/berlin", {"timezone": ZONE}),
])
def test_the_timezone_is_utc_or_a_region_s_iana_name(zone, problems):
    assert check({"timezone": zone}) == problems


@pytest.mark.parametrize("zone", sorted(available_timezones()))
def test_every_zone_zoneinfo_knows_is_accepted_exactly_when_it_is_utc_or_area_slash_location(zone):
    area, slash, _ = zone.partition("/")
    region = bool(slash) and area not in ("Etc", "posix", "right", "SystemV")
    assert (check({"timezone": zone}) == {}) == (zone == "UTC" or region), zone
    if check({"timezone": zone}) == {}:
        assert ZoneInfo(zone).utcoffset(datetime(2026, 7, 1)) is not None  # usable by every clock function


@pytest.mark.parametrize("copy", ["posix/Europe/Berlin", "right/America/Argentina/Salta", "Etc/Area/Place"])
def test_the_copies_some_systems_install_are_refused_however_deep(monkeypatch, copy):
    """Some systems' zone lists hold posix/... and right/... copies (right/ counts leap seconds, so its
    clock is off by them): refused by their first part, even with a region's own name after it."""
    monkeypatch.setattr(garage_settings, "_zones", lambda: frozenset({copy, "Europe/Berlin"}))
    assert check({"timezone": copy}) == {"timezone": ZONE}
    assert check({"timezone": "Europe/Berlin"}) == {}


def test_an_unknown_setting_is_named():
    assert check({"colour": "red", "total_spaces": 10}) == {"colour": "Unknown setting colour"}


def test_every_problem_is_reported_at_once_each_under_its_setting():
    problems = check({"total_spaces": 0, "hourly_rate": -1, "garage_name": "", "timezone": "X"})
    assert list(problems) == ["total_spaces", "hourly_rate", "garage_name", "timezone"]


def test_invalid_settings_put_the_first_problem_s_field_first_and_join_the_messages():
    error = InvalidSettings({"hourly_rate": "Rate bad", "timezone": "Zone bad"})
    assert (error.field, error.message, error.status) == ("hourly_rate", "Rate bad; Zone bad", 422)
    assert error.errors == {"hourly_rate": "Rate bad", "timezone": "Zone bad"}

