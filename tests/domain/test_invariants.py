"""The rules `flask --app garage verify` prints (garage/domain/invariants.py), from counts alone:
each check's name, verdict and figures exactly as the command shows them, at each boundary
(a full garage, an empty one, one car too many). tests/app/test_verify.py breaks them in a database."""
from __future__ import annotations

import pytest

from garage.domain.invariants import Check, Counts, checks

COUNTER = "occupancy counter equals the cars inside"
AUDITED = "every paid ticket has its payment audit row"
FREE = "no negative free spaces"
WITHIN = "counter within 0..total spaces"
PERMITS = "permit counter equals the permit cars inside"


def verdicts(**counts) -> dict[str, tuple[bool, str]]:
    found = checks(Counts(**{"paid_without_audit": 0, **counts}))
    assert all(type(check.ok) is bool for check in found)  # OK / FAIL, never None
    return {check.name: (check.ok, check.detail) for check in found}


def test_without_a_settings_row_the_only_check_says_how_to_make_one():
    assert checks(Counts(total_spaces=None, occupied=0, inside=0, paid_without_audit=0)) == [
        Check("the settings row exists", False, "no garage_settings row: run flask --app garage init")]


def test_a_garage_in_use_passes_every_check_in_a_fixed_order():
    assert checks(Counts(total_spaces=140, occupied=2, inside=2, paid_without_audit=0)) == [
        Check(COUNTER, True, "counter 2, cars inside 2"),
        Check(AUDITED, True, "0 paid tickets without one"),
        Check(FREE, True, "140 spaces: 138 free by the counter, 138 by the cars inside"),
        Check(WITHIN, True, "counter 2, total 140"),
        Check(PERMITS, True, "counter 0, permit cars inside 0"),
    ]


def test_an_empty_garage_and_a_full_one_are_both_fine():
    assert verdicts(total_spaces=3, occupied=0, inside=0) == {
        COUNTER: (True, "counter 0, cars inside 0"), AUDITED: (True, "0 paid tickets without one"),
        FREE: (True, "3 spaces: 3 free by the counter, 3 by the cars inside"), WITHIN: (True, "counter 0, total 3"),
        PERMITS: (True, "counter 0, permit cars inside 0")}
    assert verdicts(total_spaces=3, occupied=3, inside=3) == {
        COUNTER: (True, "counter 3, cars inside 3"), AUDITED: (True, "0 paid tickets without one"),
        FREE: (True, "3 spaces: 0 free by the counter, 0 by the cars inside"), WITHIN: (True, "counter 3, total 3"),
        PERMITS: (True, "counter 0, permit cars inside 0")}


def test_a_counter_out_of_step_fails_only_its_own_check():
    result = verdicts(total_spaces=10, occupied=5, inside=4)
    assert result[COUNTER] == (False, "counter 5, cars inside 4")
    assert [name for name, (ok, _) in result.items() if not ok] == [COUNTER]


@pytest.mark.parametrize("occupied, inside, free_detail", [
    (4, 4, "3 spaces: -1 free by the counter, -1 by the cars inside"),  # both one over
    (4, 3, "3 spaces: -1 free by the counter, 0 by the cars inside"),  # only the counter
    (3, 4, "3 spaces: 0 free by the counter, -1 by the cars inside"),  # only the cars inside
])
def test_one_car_too_many_by_either_count_means_negative_free_spaces(occupied, inside, free_detail):
    assert verdicts(total_spaces=3, occupied=occupied, inside=inside)[FREE] == (False, free_detail)


def test_the_counter_must_stay_within_zero_and_the_total():
    assert verdicts(total_spaces=3, occupied=4, inside=4)[WITHIN] == (False, "counter 4, total 3")
    assert verdicts(total_spaces=3, occupied=-1, inside=0)[WITHIN] == (False, "counter -1, total 3")
    assert verdicts(total_spaces=3, occupied=1, inside=1)[WITHIN] == (True, "counter 1, total 3")


@pytest.mark.parametrize("missing, examples, detail", [
    (1, ("PS-AAAAAA",), "1 paid ticket without one (e.g. PS-AAAAAA)"),
    (2, ("PS-AAAAAA", "PS-BBBBBB"), "2 paid tickets without one (e.g. PS-AAAAAA, PS-BBBBBB)"),
    (3, (), "3 paid tickets without one"),  # numbers unknown: no "e.g."
])
def test_paid_tickets_without_their_audit_row_are_counted_and_named(missing, examples, detail):
    result = verdicts(total_spaces=3, occupied=0, inside=0, paid_without_audit=missing, examples=examples)
    assert result[AUDITED] == (False, detail)


def test_examples_are_not_shown_when_nothing_is_missing():
    result = verdicts(total_spaces=3, occupied=0, inside=0, paid_without_audit=0, examples=("PS-AAAAAA",))
    assert result[AUDITED] == (True, "0 paid tickets without one")


def test_a_permit_counter_out_of_step_fails_only_its_own_check():
    result = verdicts(total_spaces=10, occupied=5, inside=5, permit_occupied=2, permit_inside=1)
    assert result[PERMITS] == (False, "counter 2, permit cars inside 1")
    assert [name for name, (ok, _) in result.items() if not ok] == [PERMITS]
