"""Shifts and the cash drawer through the services, on both databases (issue 18): payments land in
the payer's open shift, a garage that requires a shift refuses a payment without one (nothing
written, no receipt number drawn), the close records expected, counted and over/short, and a
manager's reopening or adjustment is audited with a reason, before and after."""
from __future__ import annotations

import pytest

from garage.domain.errors import Conflict, InvalidInput, NotFound
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.shifts import NO_SHIFT_MESSAGE, ShiftAlreadyOpen, ShiftClosed, ShiftRequired
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage
from garage.services import shifts
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import audit_events, set_settings, ticket
from garage.services.garages import create_garage
from tests.helpers.garages import OPERATOR, add_garage, person


@pytest.fixture
def ann(make_user) -> Actor:
    user = make_user("ann", "attendant")
    return Actor(user.id, "ann", "10.0.0.1")


@pytest.fixture
def bob(make_user) -> Actor:
    user = make_user("bob", "attendant")
    return Actor(user.id, "bob", "10.0.0.2")


def car(plate: str) -> str:
    """A car that just came in (its first hour: $10 at the default rate): its ticket number."""
    return issue_ticket(MAIN, plate, "Car").ticket_number


def receipt_seq() -> int:
    db.session.expire_all()
    return db.session.get(Garage, MAIN).receipt_seq


def test_a_payment_is_taken_in_the_payers_open_shift_and_the_close_counts_it(ann, bob):
    opened = shifts.open_shift(MAIN, ann, 10000)
    assert opened.expected_cash_cents == 10000 and opened.payments == 0
    paid_cash = process_exit(MAIN, car("CASH 1"), "Cash", ann)
    process_exit(MAIN, car("CARD 1"), "Credit Card", ann)
    process_exit(MAIN, car("BOB 1"), "Cash", bob)  # bob has no shift: not in ann's
    assert ticket(paid_cash.ticket_number).shift_id == opened.shift.id
    assert audit_events("ticket.paid", paid_cash.ticket_number)[0].details["shiftId"] == opened.shift.id

    x = shifts.current_shift(MAIN, ann)  # the X report
    by_method = {t.method: (t.payments, t.cents) for t in x.totals}
    assert by_method["Cash"] == (1, 1000) and by_method["Credit Card"] == (1, 1000)
    assert by_method["Mobile Payment"] == (0, 0)
    assert x.expected_cash_cents == 11000 and x.total_cents == 2000

    closed = shifts.close_shift(MAIN, opened.shift.id, ann, counted_cents=10800)
    assert (closed.shift.expected_cash_cents, closed.shift.counted_cash_cents, closed.shift.over_short_cents) == \
        (11000, 10800, -200)
    event, = audit_events("shift.closed", str(opened.shift.id))
    assert event.details["overShortCents"] == -200 and event.details["cashPaymentsCents"] == 1000
    with pytest.raises(NotFound):
        shifts.current_shift(MAIN, ann)
    # a closed shift takes no more payments: the next one lands in no shift
    later = process_exit(MAIN, car("LATER 1"), "Cash", ann)
    assert ticket(later.ticket_number).shift_id is None
    with pytest.raises(ShiftClosed):
        shifts.close_shift(MAIN, opened.shift.id, ann, counted_cents=0)


def test_a_garage_that_requires_a_shift_refuses_a_payment_without_one_drawing_no_number(ann):
    set_settings(payments_require_shift=True)
    number = car("NO SHIFT")
    before = receipt_seq()
    with pytest.raises(ShiftRequired) as refused:
        process_exit(MAIN, number, "Cash", ann)
    assert refused.value.message == NO_SHIFT_MESSAGE and refused.value.status == 409
    assert ticket(number).status == "active" and receipt_seq() == before
    assert audit_events("ticket.paid", number) == []
    shifts.open_shift(MAIN, ann, 0)
    assert process_exit(MAIN, number, "Cash", ann).receipt_number == before + 1


def test_new_garages_require_a_shift_the_default_garage_does_not(app):
    north = create_garage(OPERATOR, "north", "North", 3).id  # as the command line and the New garage form do
    assert db.session.get(Garage, north).payments_require_shift is True
    assert db.session.get(Garage, MAIN).payments_require_shift is False


def test_one_open_shift_per_person_per_garage(ann, bob):
    shifts.open_shift(MAIN, ann, 5000)
    with pytest.raises(ShiftAlreadyOpen):
        shifts.open_shift(MAIN, ann, 5000)
    shifts.open_shift(MAIN, bob, 5000)  # another person may
    north = add_garage("north")
    person("carl", {MAIN: "attendant", north: "attendant"})
    carl = Actor(db.session.scalar(db.select(db.metadata.tables["users"].c.id).where(
        db.metadata.tables["users"].c.username == "carl")), "carl")
    shifts.open_shift(MAIN, carl, 0)
    shifts.open_shift(north, carl, 0)  # another garage too


def test_counting_by_denomination_is_kept_with_its_total(ann):
    opened = shifts.open_shift(MAIN, ann, 2000)
    closed = shifts.close_shift(MAIN, opened.shift.id, ann, counted_by_denomination={"1000": 2, "25": 4})
    assert closed.shift.counted_cash_cents == 2100 and closed.shift.over_short_cents == 100
    assert closed.counted[1000] == 2 and closed.counted[25] == 4 and closed.counted[10000] == 0


@pytest.mark.parametrize("counts", [dict(counted_cents=None), dict(counted_cents=5, counted_by_denomination={"1": 5}),
                                    dict(counted_cents=-1), dict(counted_by_denomination={"3": 1})])
def test_a_bad_count_is_refused_and_the_shift_stays_open(ann, counts):
    opened = shifts.open_shift(MAIN, ann, 0)
    with pytest.raises(InvalidInput):
        shifts.close_shift(MAIN, opened.shift.id, ann, **counts)
    assert shifts.current_shift(MAIN, ann).shift.closed_at is None


def test_another_attendants_shift_is_not_found_a_manager_sees_and_closes_it(ann, bob):
    opened = shifts.open_shift(MAIN, ann, 0)
    with pytest.raises(NotFound):
        shifts.get_shift(MAIN, opened.shift.id, bob)
    with pytest.raises(NotFound):
        shifts.close_shift(MAIN, opened.shift.id, bob, counted_cents=0)
    assert shifts.get_shift(MAIN, opened.shift.id, bob, manager=True).shift.id == opened.shift.id
    north = add_garage("north")
    with pytest.raises(NotFound):  # another garage's path names no such shift
        shifts.get_shift(north, opened.shift.id, ann, manager=True)
    closed = shifts.close_shift(MAIN, opened.shift.id, bob, counted_cents=0, manager=True)
    assert closed.shift.closed_by.username == "bob"


def test_reopen_and_adjust_need_a_reason_and_are_audited_before_and_after(ann, bob):
    opened = shifts.open_shift(MAIN, ann, 1000)
    process_exit(MAIN, car("CASH 2"), "Cash", ann)
    shift_id = opened.shift.id
    shifts.close_shift(MAIN, shift_id, ann, counted_cents=1900)
    with pytest.raises(InvalidInput):
        shifts.adjust_shift(MAIN, shift_id, bob, "  ", counted_cents=2000)
    adjusted = shifts.adjust_shift(MAIN, shift_id, bob, "Found $1 under the tray", counted_cents=2000)
    assert (adjusted.shift.counted_cash_cents, adjusted.shift.over_short_cents) == (2000, 0)
    event, = audit_events("shift.adjusted", str(shift_id))
    assert event.details["reason"] == "Found $1 under the tray"
    assert event.details["before"]["overShortCents"] == -100 and event.details["after"]["overShortCents"] == 0

    reopened = shifts.reopen_shift(MAIN, shift_id, bob, "Closed by mistake")
    assert reopened.shift.closed_at is None and reopened.shift.counted_cash_cents is None
    event, = audit_events("shift.reopened", str(shift_id))
    assert event.details["before"]["countedCashCents"] == 2000 and event.details["after"]["closedAt"] is None
    assert process_exit(MAIN, car("CASH 3"), "Cash", ann).shift_id == shift_id  # takes payments again
    with pytest.raises(Conflict):
        shifts.reopen_shift(MAIN, shift_id, bob, "again")  # not closed
    closed = shifts.close_shift(MAIN, shift_id, ann, counted_cents=3000)
    assert closed.shift.expected_cash_cents == 3000 and closed.shift.over_short_cents == 0


def test_reopening_is_refused_while_the_opener_has_another_shift_open(ann, bob):
    first = shifts.open_shift(MAIN, ann, 0)
    shifts.close_shift(MAIN, first.shift.id, ann, counted_cents=0)
    shifts.open_shift(MAIN, ann, 0)
    with pytest.raises(Conflict) as refused:
        shifts.reopen_shift(MAIN, first.shift.id, bob, "mistake")
    assert "ann has another shift open" in refused.value.message
    assert shifts.get_shift(MAIN, first.shift.id, bob, manager=True).shift.closed_at is not None


def test_a_shift_belongs_to_a_person(app):
    with pytest.raises(Exception) as refused:
        shifts.open_shift(MAIN, Actor.system(), 0)
    assert refused.value.status == 403


def test_a_shift_closed_between_the_payments_read_and_its_write_takes_no_payment(app, ann, monkeypatch):
    """The exit has read the ticket (its shift still open); the shift's close commits meanwhile in
    another session: the payment is refused (this garage requires a shift), not taken in the closed
    shift, and the close's expected cash is the float alone."""
    from garage.persistence import store

    set_settings(payments_require_shift=True)
    opened = shifts.open_shift(MAIN, ann, 3000)
    number = car("RACE 1")
    real = type(store()).exit_inputs

    def close_meanwhile(self, *args, **kwargs):
        found = real(self, *args, **kwargs)
        with app.app_context():  # another worker's session
            shifts.close_shift(MAIN, opened.shift.id, ann, counted_cents=3000)
            db.session.remove()
        return found

    monkeypatch.setattr(type(store()), "exit_inputs", close_meanwhile)
    before = receipt_seq()
    with pytest.raises(ShiftRequired):
        process_exit(MAIN, number, "Cash", ann)
    monkeypatch.undo()
    assert ticket(number).status == "active" and ticket(number).shift_id is None and receipt_seq() == before
    closed = shifts.get_shift(MAIN, opened.shift.id, ann)
    assert (closed.shift.expected_cash_cents, closed.shift.over_short_cents, closed.payments) == (3000, 0, 0)


def test_a_ticket_paid_meanwhile_at_another_booth_is_already_processed_not_a_missing_shift(app, ann, bob, monkeypatch):
    """In a garage that requires a shift, both attendants have theirs open; bob's booth pays the
    ticket between ann's read and her write: ann is told it was already paid (not to open a shift),
    and the ticket is in bob's shift only."""
    from garage.domain.errors import AlreadyProcessed
    from garage.persistence import store

    set_settings(payments_require_shift=True)
    shifts.open_shift(MAIN, ann, 0)
    bobs = shifts.open_shift(MAIN, bob, 0)
    number = car("TWO BOOTHS")  # the last car inside: its space is freed once, on both databases
    real = type(store()).exit_inputs

    def paid_meanwhile(self, *args, **kwargs):
        found = real(self, *args, **kwargs)
        monkeypatch.setattr(type(store()), "exit_inputs", real)  # the other booth reads as ever
        with app.app_context():  # the other booth's worker
            process_exit(MAIN, number, "Cash", bob)
            db.session.remove()
        return found

    monkeypatch.setattr(type(store()), "exit_inputs", paid_meanwhile)
    with pytest.raises(AlreadyProcessed):
        process_exit(MAIN, number, "Cash", ann)
    monkeypatch.undo()
    assert ticket(number).shift_id == bobs.shift.id and len(audit_events("ticket.paid", number)) == 1
    assert db.session.get(Garage, MAIN).occupied == 0


def test_a_payment_outside_any_shift_says_nothing_of_a_shift_in_the_audit_trail(ann):
    """A garage without shifts (the default): its payments' audit rows carry no "shift: none" line."""
    paid = process_exit(MAIN, car("NO DRAWER"), "Cash", ann)
    assert "shiftId" not in audit_events("ticket.paid", paid.ticket_number)[0].details


def test_a_shift_whose_cash_passes_32_bits_closes_with_its_exact_figures(ann):
    """Each payment fits what a ticket records (2,147,483,647 minor units), their sum in one drawer
    need not: three ¥876,091,239 cash payments (an outside check) made the close fail with
    PostgreSQL's "integer out of range"; the expected cash and the over/short are 64-bit (0021)."""
    fee = 876_091_239
    set_settings(currency="JPY", hourly_rate=fee)
    opened = shifts.open_shift(MAIN, ann, 10_000)
    for n in range(3):
        assert process_exit(MAIN, car(f"BIG {n}"), "Cash", ann).amount_paid == fee
    expected = 10_000 + 3 * fee
    assert expected > 2 ** 31 - 1
    assert shifts.current_shift(MAIN, ann).expected_cash_cents == expected

    counted = expected - 1_234  # the drawer's true count, ¥1,234 short (it was capped at ¥100,000,000)
    closed = shifts.close_shift(MAIN, opened.shift.id, ann, counted_cents=counted)
    db.session.expire_all()
    assert (closed.shift.expected_cash_cents, closed.shift.counted_cash_cents, closed.shift.over_short_cents) == \
        (expected, counted, -1_234)
    again = shifts.get_shift(MAIN, opened.shift.id, ann)
    assert (again.expected_cash_cents, again.shift.counted_cash_cents, again.shift.over_short_cents) == \
        (expected, counted, -1_234)
    event, = audit_events("shift.closed", str(opened.shift.id))
    assert event.details["expectedCashCents"] == expected and event.details["overShortCents"] == -1_234
