"""Small rules at their edges: the clock is UTC, a stay of 0 minutes reads 0, a full garage
is 100 % (and an empty one 0 %), a username of exactly 64 characters is found, control
characters and lone surrogates never are."""
from __future__ import annotations

from datetime import timezone

import pytest

from garage.domain.clock import format_duration, utcnow
from garage.domain.occupancy import ALMOST_FULL, FULL, OPEN, Occupancy
from garage.domain.usernames import for_display, lookup_key


def test_now_is_an_aware_utc_time():
    assert utcnow().tzinfo is timezone.utc


@pytest.mark.parametrize("minutes, shown", [(-5, "0 min"), (0, "0 min"), (59, "59 min"), (60, "1 h 00 min"),
                                            (125, "2 h 05 min")])
def test_a_stay_reads_in_hours_and_minutes(minutes, shown):
    assert format_duration(minutes) == shown


def test_a_name_of_64_characters_is_looked_up_and_65_is_not():
    assert lookup_key("a" * 64) == "a" * 64
    assert lookup_key("a" * 65) is None


@pytest.mark.parametrize("raw", ["zoë\x00", "zoë\ud800", ""])
def test_a_name_no_user_can_have_is_not_looked_up(raw):
    assert lookup_key(raw) is None


def test_an_old_non_ascii_name_is_still_found():
    assert lookup_key(" Zoë ") == "zoë"


def test_what_someone_typed_is_recorded_printable_normalised_and_at_most_64_long():
    assert for_display(" ＢＯＳＳ\x07 ") == "boss"
    assert for_display("x" * 70) == "x" * 64
    assert for_display(None) == ""


@pytest.mark.parametrize("total, occupied, percent, state", [
    (10, 10, 100, FULL),     # a full garage is 100 %, not 99
    (1, 0, 0, OPEN),         # an empty one-space garage is empty, not full
    (1, 1, 100, FULL),
    (3, 1, 33, OPEN),        # rounded down
    (200, 199, 99, ALMOST_FULL),
    (10, 12, 100, FULL),     # more cars than spaces (spaces reduced): still 100 %
    (0, 0, 100, FULL),       # no spaces at all
    (100, 89, 89, OPEN), (100, 90, 90, ALMOST_FULL),
])
def test_the_occupancy_shown_in_the_lobby(total, occupied, percent, state):
    figures = Occupancy(total, occupied)
    assert (figures.occupied_percent, figures.available_percent, figures.state()) == (percent, 100 - percent, state)
    assert figures.available == max(0, total - occupied)
