"""Voids, corrections and refunds of tickets (issue 18): who may change a ticket after the fact,
and what may be given back. Nothing is deleted: each change is a new audited event with the
ticket's figures before and after (garage/services/amendments.py); the ticket row holds the
figures as corrected. Money is integer cents. Pure Python.

- **Correct** a plate or a vehicle type typed wrong at the entry, with a reason. A car inside may
  have both corrected; a paid ticket only its plate (its fee was charged for its vehicle type: a
  wrong charge is refunded, not re-typed); a voided ticket nothing.
- **Void** a ticket issued by mistake (the car never entered): only while it is active (a paid
  ticket is refunded instead); its space is freed. An attendant may void only within the garage's
  void window after the ticket was issued; later, a manager.
- **Refund** all or part of a payment (a manager, with a reason): never more than was paid less
  what was already given back, in the payment's own method.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .errors import Conflict, Forbidden, InvalidInput
from .money import format_money
from .roles import ROLE_MANAGER
from .shifts import check_reason  # one rule for a reason, wherever one is asked for
from .tickets import STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED
from .words import Text, _, n_

__all__ = ["check_reason", "check_void_window", "may_void", "check_refund", "refundable", "correction_refusal",
           "DEFAULT_VOID_WINDOW_MINUTES", "MAX_VOID_WINDOW_MINUTES"]

DEFAULT_VOID_WINDOW_MINUTES = 10
MAX_VOID_WINDOW_MINUTES = 24 * 60

VOID_ONLY_ACTIVE = _("Only the ticket of a car inside can be voided (a paid ticket is refunded instead)")
VOIDED_ALREADY = _("This ticket is already voided")
REFUND_ONLY_PAID = _("Only a paid ticket can be refunded")
NOTHING_LEFT = _("This payment has been refunded in full")
NOTHING_PAID = _("Nothing was paid for this ticket: there is nothing to refund")
CORRECT_VOIDED = _("A voided ticket cannot be corrected")
CORRECT_PAID_TYPE = _("This ticket is paid: its fee was charged for its vehicle type. "
                      "Refund the difference instead of changing the type")
NOTHING_TO_CORRECT = _("Change the plate or the vehicle type (nothing would change)")


def check_void_window(value: Any, field: str = "void_window_minutes") -> int:
    """The garage's void window in whole minutes, 0 (attendants never void) to a day."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VOID_WINDOW_MINUTES:
        raise InvalidInput(_("The void window must be a whole number of minutes from 0 to %(max)d",
                             max=MAX_VOID_WINDOW_MINUTES), field=field)
    return value


def may_void(status: str, entry_time: datetime, now: datetime, role: str | None, window_minutes: int) -> None:
    """Raise why this person may not void this ticket now (nothing when they may): Conflict for a
    ticket that is not active, Forbidden for an attendant past the window."""
    if status == STATUS_VOIDED:
        raise Conflict(VOIDED_ALREADY)
    if status != STATUS_ACTIVE:
        raise Conflict(VOID_ONLY_ACTIVE)
    if role != ROLE_MANAGER and now - entry_time > timedelta(minutes=window_minutes):
        raise Forbidden(n_("Only a manager can void a ticket issued more than %(num)d minute ago",
                           "Only a manager can void a ticket issued more than %(num)d minutes ago", window_minutes)
                        if window_minutes else _("Only a manager can void a ticket at this garage"))


def refundable(amount_paid: int | None, refunded_cents: int) -> int:
    """What can still be given back of a payment."""
    return max(0, (amount_paid or 0) - refunded_cents)


def check_refund(amount: Any, status: str, amount_paid: int | None, refunded_cents: int,
                 field: str = "amountCents") -> int:
    """A refund's amount in cents: a paid ticket, at least 1 cent, at most what is left."""
    if status != STATUS_COMPLETED or amount_paid is None:
        raise Conflict(REFUND_ONLY_PAID)
    if amount_paid == 0:
        raise Conflict(NOTHING_PAID)
    left = refundable(amount_paid, refunded_cents)
    if left == 0:
        raise Conflict(NOTHING_LEFT)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput(_("Give the amount to refund: at least %(minimum)s", minimum=format_money(1)), field=field)
    if amount > left:
        raise InvalidInput(_("At most %(amount)s of this payment can still be refunded", amount=format_money(left)),
                           field=field)
    return amount


def correction_refusal(status: str, plate_changes: bool, type_changes: bool) -> Text | None:
    """Why this correction may not be made (None: it may)."""
    if status == STATUS_VOIDED:
        return CORRECT_VOIDED
    if not (plate_changes or type_changes):
        return NOTHING_TO_CORRECT
    if type_changes and status != STATUS_ACTIVE:
        return CORRECT_PAID_TYPE
    return None
