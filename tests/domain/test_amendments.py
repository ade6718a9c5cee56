"""The rules of voids, corrections and refunds (garage/domain/amendments.py), over classes of inputs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from garage.domain import amendments as rules
from garage.domain.errors import Conflict, Forbidden, InvalidInput
from garage.domain.roles import ROLE_ATTENDANT, ROLE_MANAGER
from garage.domain.tickets import STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
windows = st.integers(0, rules.MAX_VOID_WINDOW_MINUTES)
seconds = st.integers(0, 3 * 24 * 3600)


# --- voids ---------------------------------------------------------------------------------------

@given(window=windows, after=seconds)
def test_an_attendant_voids_exactly_within_the_window(window, after):
    now = T0 + timedelta(seconds=after)
    if after <= window * 60:
        rules.may_void(STATUS_ACTIVE, T0, now, ROLE_ATTENDANT, window)
    else:
        with pytest.raises(Forbidden) as refused:
            rules.may_void(STATUS_ACTIVE, T0, now, ROLE_ATTENDANT, window)
        assert "manager" in refused.value.message
        if window:
            assert f"{window} minute" in refused.value.message  # "1 minute", "2 minutes"


@given(window=windows, after=seconds)
def test_a_manager_voids_a_car_inside_at_any_time(window, after):
    rules.may_void(STATUS_ACTIVE, T0, T0 + timedelta(seconds=after), ROLE_MANAGER, window)


@pytest.mark.parametrize("role", [ROLE_ATTENDANT, ROLE_MANAGER])
def test_only_an_active_ticket_is_voided(role):
    with pytest.raises(Conflict) as paid:
        rules.may_void(STATUS_COMPLETED, T0, T0, role, 10)
    assert paid.value.message == rules.VOID_ONLY_ACTIVE
    with pytest.raises(Conflict) as voided:
        rules.may_void(STATUS_VOIDED, T0, T0, role, 10)
    assert voided.value.message == rules.VOIDED_ALREADY


def test_a_window_of_zero_leaves_voids_to_managers():
    rules.may_void(STATUS_ACTIVE, T0, T0, ROLE_ATTENDANT, 0)  # the same instant: not after the window
    with pytest.raises(Forbidden) as refused:
        rules.may_void(STATUS_ACTIVE, T0, T0 + timedelta(seconds=1), ROLE_ATTENDANT, 0)
    assert refused.value.message == "Only a manager can void a ticket at this garage"


@given(st.integers(-10_000, 10_000))
def test_the_void_window_is_whole_minutes_up_to_a_day(minutes):
    if 0 <= minutes <= 1440:
        assert rules.check_void_window(minutes) == minutes
    else:
        with pytest.raises(InvalidInput):
            rules.check_void_window(minutes)


@pytest.mark.parametrize("value", [True, False, "10", 10.0, None])
def test_the_void_window_is_an_integer(value):
    with pytest.raises(InvalidInput):
        rules.check_void_window(value)


# --- refunds -------------------------------------------------------------------------------------

@given(paid=st.integers(0, 10**7), refunded=st.integers(0, 10**7), amount=st.integers(-10**7, 2 * 10**7))
def test_a_refund_never_exceeds_what_is_left_of_the_payment(paid, refunded, amount):
    refunded = min(refunded, paid)
    left = paid - refunded
    assert rules.refundable(paid, refunded) == left
    try:
        given_back = rules.check_refund(amount, STATUS_COMPLETED, paid, refunded)
    except Conflict as refused:
        assert left == 0 and refused.message == (rules.NOTHING_PAID if paid == 0 else rules.NOTHING_LEFT)
    except InvalidInput as refused:
        assert left > 0 and (amount < 1 or amount > left) and refused.field == "amountCents"
    else:
        assert 1 <= given_back == amount <= left


@pytest.mark.parametrize("status, paid", [(STATUS_ACTIVE, None), (STATUS_VOIDED, None), (STATUS_COMPLETED, None)])
def test_only_a_paid_ticket_is_refunded(status, paid):
    with pytest.raises(Conflict) as refused:
        rules.check_refund(100, status, paid, 0)
    assert refused.value.message == rules.REFUND_ONLY_PAID


def test_what_is_left_is_said_in_dollars():
    with pytest.raises(InvalidInput) as refused:
        rules.check_refund(701, STATUS_COMPLETED, 1000, 300)
    assert refused.value.message == "At most $7.00 of this payment can still be refunded"


@pytest.mark.parametrize("amount", [True, "5", 5.0, None])
def test_a_refund_is_whole_cents(amount):
    with pytest.raises(InvalidInput):
        rules.check_refund(amount, STATUS_COMPLETED, 1000, 0)


# --- corrections ---------------------------------------------------------------------------------

@given(status=st.sampled_from([STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED]), plate=st.booleans(),
       kind=st.booleans())
def test_what_a_correction_may_change(status, plate, kind):
    refusal = rules.correction_refusal(status, plate, kind)
    if status == STATUS_VOIDED:
        assert refusal == rules.CORRECT_VOIDED
    elif not (plate or kind):
        assert refusal == rules.NOTHING_TO_CORRECT
    elif kind and status == STATUS_COMPLETED:
        assert refusal == rules.CORRECT_PAID_TYPE
    else:
        assert refusal is None


# --- reasons -------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   ", "\u00a0", "\u3000", "\u200b", "\u2800", "\u3164", "\ufeff",
                                    "\u00ad", "\u180e", "\u200d\u200c", " \u200b ", None, 5])
def test_a_reason_nobody_can_read_is_no_reason(reason):
    with pytest.raises(InvalidInput) as refused:
        rules.check_reason(reason)
    assert refused.value.message == "Give a reason (it is kept in the audit log)"


@pytest.mark.parametrize("reason", ["\u202eevil", "a\u2066b\u2069", "ok \u202a"])
def test_a_reason_may_not_reorder_the_audit_log(reason):
    with pytest.raises(InvalidInput):
        rules.check_reason(reason)


@pytest.mark.parametrize("reason, kept", [("  typo  ", "typo"), ("€5 off", "€5 off"), ("O≠0", "O≠0"),
                                          ("ошибка", "ошибка"), ("👍", "👍"), ("入力ミス", "入力ミス")])
def test_a_readable_reason_is_kept_trimmed(reason, kept):
    assert rules.check_reason(reason) == kept


def test_a_free_stay_has_nothing_to_refund():
    with pytest.raises(Conflict) as refused:
        rules.check_refund(1, STATUS_COMPLETED, 0, 0)
    assert refused.value.message == "Nothing was paid for this ticket: there is nothing to refund"


def test_the_window_is_said_in_words():
    with pytest.raises(Forbidden) as one:
        rules.may_void(STATUS_ACTIVE, T0, T0 + timedelta(minutes=2), ROLE_ATTENDANT, 1)
    assert one.value.message == "Only a manager can void a ticket issued more than 1 minute ago"
