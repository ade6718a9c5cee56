"""Usernames (garage.domain.usernames) and the sign-in throttle's policy (garage.domain.throttle),
without Flask or a database."""
import string

import pytest
from hypothesis import example, given, settings, strategies as st

from garage.domain import throttle
from garage.domain.errors import InvalidInput
from garage.domain.usernames import MESSAGE, clean_username, is_valid, lookup_key, normalise

ALLOWED = set(string.ascii_lowercase + string.digits + "._-")


@given(st.text(max_size=80))
@example("１２３")        # fullwidth digits
@example("²")            # superscript two
@example("ＢＯＳＳ")      # fullwidth letters
@example("аdmin")        # Cyrillic а
@example("ﬁona")         # the fi ligature
@example("K")            # Kelvin sign
@example("İlker")        # dotted capital I: lower() adds a combining dot
@example("a\x00b")
@example(" Ann ")
@example("x" * 65)
@settings(max_examples=300)
def test_whatever_is_accepted_is_in_the_set_and_round_trips(typed):
    try:
        name = clean_username(typed)
    except InvalidInput as exc:
        assert exc.field == "username" and exc.message == MESSAGE
        return
    assert 1 <= len(name) <= 64 and set(name) <= ALLOWED
    assert clean_username(name) == name  # stored names are already canonical
    assert lookup_key(typed) == name     # signing in with what was typed finds it


@pytest.mark.parametrize("typed, name", [("１２３", "123"), ("²", "2"), ("ＢＯＳＳ", "boss"), ("  Ann.B-c_1 ", "ann.b-c_1"),
                                         ("ﬁona", "fiona")])
def test_look_alikes_become_the_plain_name(typed, name):
    assert clean_username(typed) == name


@pytest.mark.parametrize("typed", ["", "  ", "аdmin", "josé", "a b", "a@b", "x" * 65, "a\x00b", "İlker"])
def test_names_outside_the_set_are_refused(typed):
    with pytest.raises(InvalidInput):
        clean_username(typed)


def test_looking_up_never_sends_what_no_name_can_be():
    assert lookup_key("a\x00b") is None and lookup_key("x" * 65) is None and lookup_key("") is None
    assert lookup_key("josé") == "josé"  # a name stored before the character set still signs in
    assert is_valid(normalise(" ＡＮＮ "))


def test_account_waits_double_after_five_failures_up_to_fifteen_minutes():
    waits = [throttle.ACCOUNT.wait_after(n) for n in range(1, 12)]
    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900]
    assert throttle.ACCOUNT.schedule() == [(5, 60), (6, 120), (7, 240), (8, 480)]


def test_address_limit_is_much_higher_and_waits_fifteen_minutes():
    limit = throttle.address_limit()
    assert limit.free == 100 and limit.wait_after(99) == 0 and limit.wait_after(100) == 900
    assert limit.schedule() == []


@pytest.mark.parametrize("seconds, words", [(1, "1 minute"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")])
def test_refusal_says_how_long_to_wait(seconds, words):
    assert throttle.refused_message(seconds) == f"Too many failed sign-ins. Wait {words} and try again."
