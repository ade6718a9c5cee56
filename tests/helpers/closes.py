"""A hand-built local day at the default garage (America/New_York) for the end-of-day close's tests:
what happened, and what its figures must be (worked out here from the services' answers)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.identity import Actor
from garage.services import amendments, shifts
from garage.services.tickets import issue_ticket, process_exit
from tests.helpers.db import set_settings

NY = ZoneInfo("America/New_York")
DAY = date(2026, 4, 10)
LOST_FEE = 2500


def local(day: date, hour: float) -> datetime:
    """`hour` hours after the local midnight starting `day`, in UTC."""
    return datetime.combine(day, time(0), NY).astimezone(timezone.utc) + timedelta(hours=hour)


@dataclass
class Day:
    paid: str  # paid in cash, refunded later (after the close) in the tests
    refunded: str  # paid by card, refunded in part the same day
    lost: str
    inside: str
    voided: str
    shift: int
    cash_cents: int
    card_cents: int
    refunded_cents: int
    expected_cash_cents: int
    counted_cash_cents: int

    @property
    def revenue_cents(self) -> int:
        return self.cash_cents + self.card_cents


def build_day(ann: Actor, boss: Actor) -> Day:
    """On DAY: ann opens her shift at 07:00 with $50; a car paid in cash; a ticket voided three minutes
    after its entry; a car paid by card, $3 of it refunded by the manager at 13:00; a lost ticket paid
    in cash with the $25 fee; a car still inside at midnight; ann closes at 20:00 $0.50 short.
    A car that came in the day before and left that day is one of its exits, not one of its tickets."""
    set_settings(timezone="America/New_York", lost_ticket_fee_cents=LOST_FEE, lost_ticket_mode="replace")
    before = issue_ticket(MAIN, "EVE1", "Car", ann, now=local(DAY, -2)).ticket_number
    shift = shifts.open_shift(MAIN, ann, 5000, now=local(DAY, 7)).shift.id
    early = process_exit(MAIN, before, "Cash", ann, now=local(DAY, 7.5))
    paid = issue_ticket(MAIN, "PAID1", "Car", ann, now=local(DAY, 8)).ticket_number
    cash = process_exit(MAIN, paid, "Cash", ann, now=local(DAY, 10))
    voided = issue_ticket(MAIN, "OOPS1", "Car", ann, now=local(DAY, 9)).ticket_number
    amendments.void_ticket(MAIN, voided, ann, "pressed twice", now=local(DAY, 9.05))
    refunded = issue_ticket(MAIN, "CARD1", "Car", ann, now=local(DAY, 10)).ticket_number
    card = process_exit(MAIN, refunded, "Credit Card", ann, now=local(DAY, 12))
    amendments.refund_ticket(MAIN, refunded, boss, 300, "goodwill", now=local(DAY, 13))
    lost = issue_ticket(MAIN, "LOST1", "Car", ann, now=local(DAY, 11)).ticket_number
    found = process_exit(MAIN, lost, "Cash", ann, now=local(DAY, 14), lost=True)
    inside = issue_ticket(MAIN, "STAY1", "Car", ann, now=local(DAY, 15)).ticket_number
    cash_cents = early.amount_paid + cash.amount_paid + found.amount_paid
    expected = 5000 + cash_cents
    shifts.close_shift(MAIN, shift, ann, expected - 50, now=local(DAY, 20))
    return Day(paid, refunded, lost, inside, voided, shift, cash_cents, card.amount_paid, 300, expected,
               expected - 50)


def people(make_user, manager: str = "mia") -> tuple[Actor, Actor]:
    """ann (attendant) and a manager, made by conftest's make_user."""
    return Actor(make_user("ann", "attendant").id, "ann"), Actor(make_user(manager, "manager").id, manager)
