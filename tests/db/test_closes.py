"""The end-of-day close through its service, on both databases (issue 18): a hand-built local day's
figures, the close refused for a day not over or closed already, kept figures that later corrections
do not change, and those corrections listed as after-close adjustments."""
from __future__ import annotations

from datetime import timedelta

import pytest

from garage.domain import closes as rules
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.identity import Actor
from garage.services import amendments, closes, shifts
from tests.helpers.closes import DAY, LOST_FEE, build_day, local, people as staff
from tests.helpers.db import audit_events

AFTER = local(DAY + timedelta(days=1), 8)  # the next morning


@pytest.fixture
def people(make_user) -> tuple[Actor, Actor]:
    return staff(make_user)


@pytest.fixture
def day(people):
    return build_day(*people)


def test_the_days_figures_count_what_happened_that_local_day(day):
    f = closes.day_figures(MAIN, DAY, now=AFTER)
    assert f.tickets_issued == 5  # the car of the day before is not one of them
    assert f.exits == 4 and f.voids == 1  # the early car left that day; a void is neither exit nor revenue
    assert f.revenue_cents == day.revenue_cents
    assert {m.method: (m.exits, m.revenue_cents) for m in f.by_method} == {
        "Cash": (3, day.cash_cents), "Credit Card": (1, day.card_cents)}
    assert (f.refunds, f.refunded_cents, f.net_revenue_cents) == (1, 300, day.revenue_cents - 300)
    assert f.payments_refunded_cents == 300
    assert (f.lost_tickets, f.lost_fee_cents) == (1, LOST_FEE)
    assert f.cars_inside == 1
    assert [(s.id, s.opened_by, s.closed) for s in f.shifts] == [(day.shift, "ann", True)]
    assert (f.expected_cash_cents, f.counted_cash_cents, f.over_short_cents) == \
        (day.expected_cash_cents, day.counted_cash_cents, -50)


def test_the_day_before_and_after_have_none_of_it(day):
    for other in (DAY - timedelta(days=1), DAY + timedelta(days=1)):
        f = closes.day_figures(MAIN, other, now=AFTER)
        assert (f.exits, f.revenue_cents, f.voids, f.refunds, f.shifts) == (0, 0, 0, 0, ())
    assert closes.day_figures(MAIN, DAY - timedelta(days=1), now=AFTER).tickets_issued == 1  # the early car
    assert closes.day_figures(MAIN, DAY + timedelta(days=1), now=AFTER).cars_inside == 1  # still inside now


def test_an_open_shift_is_listed_as_open(people):
    ann, _ = people
    shift = shifts.open_shift(MAIN, ann, 1000, now=local(DAY, 7)).shift.id
    f = closes.day_figures(MAIN, DAY, now=AFTER)
    assert [(s.id, s.closed, s.expected_cash_cents) for s in f.shifts] == [(shift, False, None)]
    assert (f.expected_cash_cents, f.counted_cash_cents) == (0, 0)  # only closed shifts are counted


def test_a_closed_day_keeps_its_figures_and_is_audited(day, people):
    _, boss = people
    view = closes.close_day(MAIN, DAY, boss, now=AFTER)
    assert view.closed and view.closed_by == "mia" and view.closed_at == AFTER
    assert view.figures == view.live == closes.day_figures(MAIN, DAY, now=AFTER)
    assert view.adjustments == ()
    [event] = audit_events("day.closed", DAY.isoformat())
    assert event.username == "mia" and event.details["revenueCents"] == day.revenue_cents


@pytest.mark.parametrize("when", [local(DAY, 23.9), local(DAY, 1), local(DAY - timedelta(days=3), 12)])
def test_a_day_not_over_in_the_garages_timezone_cannot_be_closed(day, people, when):
    _, boss = people
    with pytest.raises(rules.DayNotOver) as refused:
        closes.close_day(MAIN, DAY, boss, now=when)  # 23:54 in New York is 03:54 UTC the next day
    assert refused.value.status == 409
    assert not closes.get_close(MAIN, DAY, now=when).closed and audit_events("day.closed") == []


def test_a_day_cannot_be_closed_twice(day, people):
    _, boss = people
    closes.close_day(MAIN, DAY, boss, now=AFTER)
    with pytest.raises(rules.AlreadyClosed) as refused:
        closes.close_day(MAIN, DAY, boss, now=AFTER + timedelta(hours=1))
    assert refused.value.status == 409
    assert closes.get_close(MAIN, DAY, now=AFTER).closed_at == AFTER
    assert len(audit_events("day.closed")) == 1


def test_a_later_refund_of_that_days_payment_is_an_after_close_adjustment(day, people):
    ann, boss = people
    closes.close_day(MAIN, DAY, boss, now=AFTER)
    amendments.refund_ticket(MAIN, day.paid, boss, 200, "charged twice", now=AFTER + timedelta(hours=1))
    view = closes.get_close(MAIN, DAY, now=AFTER + timedelta(hours=2))
    assert view.figures.payments_refunded_cents == 300  # as closed
    assert view.live.payments_refunded_cents == 500
    assert [(a.figure, a.before, a.after, a.difference) for a in view.adjustments] == [
        ("payments_refunded_cents", 300, 500, 200)]
    # the refund is the next day's money out, not this day's
    assert closes.day_figures(MAIN, DAY + timedelta(days=1), now=AFTER + timedelta(hours=2)).refunded_cents == 200


def test_a_recount_of_that_days_shift_is_an_after_close_adjustment(day, people):
    _, boss = people
    closes.close_day(MAIN, DAY, boss, now=AFTER)
    shifts.adjust_shift(MAIN, day.shift, boss, "found a $0.50 coin", counted_cents=day.expected_cash_cents)
    view = closes.get_close(MAIN, DAY, now=AFTER + timedelta(hours=2))
    assert [(a.figure, a.before, a.after) for a in view.adjustments] == [
        ("counted_cash_cents", day.counted_cash_cents, day.expected_cash_cents), ("over_short_cents", -50, 0)]


def test_garages_close_their_own_days(day, people, second_garage):
    _, boss = people
    closes.close_day(MAIN, DAY, boss, now=AFTER)
    other = closes.get_close(second_garage, DAY, now=AFTER)
    assert not other.closed and other.live.revenue_cents == 0 and other.live.shifts == ()


def test_the_days_validations_and_what_they_gave(day, people):
    """A car validated by a merchant's code and paid that day: the close counts the validation and its
    discount (what the merchant is billed); a validation of a car still inside is not counted yet."""
    from garage.services import validations
    from garage.services.tickets import find_ticket, issue_ticket, process_exit

    ann, mia = people
    validations.create_program(MAIN, mia, name="Cinema", kind="amount_off", value=400, codes=["CIN-1", "CIN-2"])
    number = issue_ticket(MAIN, "MOVIE 1", "Car", ann, now=local(DAY, 18)).ticket_number
    process_exit(MAIN, number, "Cash", ann, now=local(DAY, 18.5), validation_code="CIN1")
    waiting = issue_ticket(MAIN, "MOVIE 2", "Car", ann, now=local(DAY, 19)).ticket_number
    validations.validate_ticket(MAIN, find_ticket(MAIN, waiting), "CIN2", ann, now=local(DAY, 19.5))
    figures = closes.day_figures(MAIN, DAY, AFTER)
    assert (figures.validated, figures.validation_discount_cents) == (1, 400)
    assert figures.revenue_cents == day.revenue_cents + 600  # the validated stay paid $10 − $4
