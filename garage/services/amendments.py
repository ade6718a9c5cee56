"""Voids, corrections and refunds (issue 18): changing a ticket after the fact. The rules (who may,
what may change, how much may be given back) are garage/domain/amendments.py; each use case here is
one audited transaction whose writes are guarded in SQL, so a change racing another (an exit, a
second refund, a close of the refunder's shift) either lands whole or is refused, never half.

Nothing is deleted: the ticket row holds the figures as corrected, and the audit row of each change
keeps what it was before (and why). A refund is a row of its own (refunds), in the refunder's open
shift at the garage if any, and raises the ticket's refunded_cents in one conditional UPDATE that
the database checks against what was paid."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..domain import amendments as rules
from ..domain.clock import utcnow
from ..domain.errors import AlreadyInside, Conflict, Forbidden, InvalidInput
from ..domain.money import format_money
from ..domain.roles import ROLE_ATTENDANT, ROLE_MANAGER
from ..domain.shifts import CASH
from ..domain.words import _
from ..domain.tickets import (
    STATUS_ACTIVE, STATUS_COMPLETED, STATUS_VOIDED, check_vehicle_type, clean_plate,
)
from ..extensions import db
from ..identity import Actor
from ..models import Garage, Refund, Shift, Ticket, User
from ..persistence import OPEN_SHIFT_SHARED, commit_keeping_loaded
from . import audit, rollups, validations
from .tickets import _refuse_scanned_ticket, find_ticket

CHANGED_MEANWHILE = _("This ticket changed meanwhile (paid, voided or corrected at another desk): look it up again")
NO_SHIFT_FOR_CASH = _("Open a shift before giving cash back (a cash refund leaves your drawer)")



@dataclass(frozen=True)
class RefundDone:
    refund: Refund
    ticket: Ticket


def _facts(ticket: Ticket) -> dict[str, Any]:
    return {"plate": ticket.license_plate, "vehicleType": ticket.vehicle_type}


def _fresh(garage_id: int, ticket_id: int) -> Ticket:
    return db.session.get(Ticket, ticket_id, populate_existing=True)


def correct_ticket(garage_id: int, number: Any, actor: Actor, *, license_plate: Any = None,
                   vehicle_type: Any = None, reason: Any = None, now: datetime | None = None) -> Ticket:
    """Correct a ticket's plate and/or vehicle type (a typo at the entry), with a reason. A car inside
    may have both corrected, a paid ticket only its plate, a voided ticket nothing (Conflict). The
    one-car-per-plate rule still holds (the partial unique index: AlreadyInside, nothing written).
    Audited with the plate and type before and after."""
    reason = rules.check_reason(reason)
    typed = key = None
    if license_plate is not None:
        typed, key = clean_plate(license_plate)
    kind = check_vehicle_type(vehicle_type) if vehicle_type is not None else None
    ticket = find_ticket(garage_id, number)
    plate_changes = typed is not None and typed != ticket.license_plate
    type_changes = kind is not None and kind != ticket.vehicle_type
    refusal = rules.correction_refusal(ticket.status, plate_changes, type_changes)
    if refusal == rules.NOTHING_TO_CORRECT:
        raise InvalidInput(refusal, field="licensePlate" if license_plate is not None else "vehicleType")
    if refusal is not None:
        raise Conflict(refusal)
    if plate_changes:
        _refuse_scanned_ticket(garage_id, typed, actor)
    before = _facts(ticket)
    values: dict[str, Any] = {"updated_at": now or utcnow()}
    if plate_changes:
        values.update(license_plate=typed, plate_key=key)
    if type_changes:
        values["vehicle_type"] = kind
    try:
        changed = db.session.execute(
            sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == ticket.status,
                                    Ticket.license_plate == ticket.license_plate,
                                    Ticket.vehicle_type == ticket.vehicle_type)
            .values(**values).execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise Conflict(CHANGED_MEANWHILE)
        ticket = _fresh(garage_id, ticket.id)
        audit.record(actor, "ticket.corrected", "ticket", ticket.ticket_number,
                     {"reason": reason, "before": before, "after": _facts(ticket)}, garage_id=garage_id)
        rollups.touched(garage_id, values["updated_at"])  # the reports move (its day counted again if back-dated)
        commit_keeping_loaded()  # the answer is the ticket as corrected (not as changed since by anyone)
    except IntegrityError:
        db.session.rollback()
        inside = db.session.scalar(sa.select(Ticket).where(Ticket.garage_id == garage_id, Ticket.plate_key == key,
                                                           Ticket.status == STATUS_ACTIVE))
        raise AlreadyInside(_("%(plate)s is already inside on ticket %(number)s", plate=inside.license_plate,
                              number=inside.ticket_number)
                            if inside is not None else _("That plate is already inside")) from None
    except BaseException:
        db.session.rollback()
        raise
    return ticket


def _void_window(garage_id: int) -> int:
    window = db.session.scalar(sa.select(Garage.void_window_minutes).where(Garage.id == garage_id))
    return window if window is not None else rules.DEFAULT_VOID_WINDOW_MINUTES


def void_refusal(garage_id: int, ticket: Ticket, *, manager: bool = False, now: datetime | None = None) -> str | None:
    """Why this person may not void this ticket now (None: they may): said before they type a reason."""
    try:
        rules.may_void(ticket.status, ticket.entry_time, now or utcnow(),
                       ROLE_MANAGER if manager else ROLE_ATTENDANT, _void_window(garage_id))
    except (Conflict, Forbidden) as refused:
        return refused.message
    return None


def void_ticket(garage_id: int, number: Any, actor: Actor, reason: Any, *, manager: bool = False,
                now: datetime | None = None) -> Ticket:
    """Void a ticket issued by mistake (the car never entered): its space is freed, it is never
    revenue; who and why are recorded (closed_by, void_reason, the audit row). Only an active
    ticket; an attendant only within the garage's void window after its entry (Forbidden), a
    manager (`manager`) at any time. A payment racing the void: exactly one of them lands."""
    reason = rules.check_reason(reason)
    ticket = find_ticket(garage_id, number)
    now = now or utcnow()
    rules.may_void(ticket.status, ticket.entry_time, now, ROLE_MANAGER if manager else ROLE_ATTENDANT,
                   _void_window(garage_id))
    try:
        # The ticket first (as the exit's statement: its row, then the garage's), only while active.
        voided = db.session.execute(
            sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE)
            .values(status=STATUS_VOIDED, exit_time=now, last_event_at=now, closed_by_id=actor.user_id,
                    void_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if voided != 1:
            again = _fresh(garage_id, ticket.id)
            raise Conflict(rules.VOIDED_ALREADY if again.status == STATUS_VOIDED else rules.VOID_ONLY_ACTIVE)
        db.session.execute(sa.update(Garage).where(Garage.id == garage_id)
                           .values(occupied=Garage.occupied - 1, updated_at=now,
                                   report_revision=Garage.report_revision + 1,
                                   occupied_permit=Garage.occupied_permit - (0 if ticket.permit_id is None else 1))
                           .execution_options(synchronize_session=False))
        ticket = _fresh(garage_id, ticket.id)  # as voided: a correction committed since the read included
        validations.release(garage_id, ticket)  # its validations' uses are given back (it never entered)
        audit.record(actor, "ticket.voided", "ticket", ticket.ticket_number,
                     {"reason": reason, **_facts(ticket), "enteredAt": ticket.entry_time.isoformat()},
                     garage_id=garage_id)
        rollups.touched(garage_id, now, revised=True)  # its UPDATE of the garage moved the revision
        commit_keeping_loaded()
    except BaseException:
        db.session.rollback()
        raise
    return ticket


def refund_ticket(garage_id: int, number: Any, actor: Actor, amount_cents: Any, reason: Any, *,
                  now: datetime | None = None) -> RefundDone:
    """Give back all or part of a ticket's payment (a manager's, checked by the caller), with a
    reason, in the payment's own method. The ticket's refunded_cents is raised by one conditional
    UPDATE (never above what was paid: two refunds together cannot exceed it; the loser is told what
    is left, 409). The refund is taken in the refunder's open shift at the garage, if any; a cash
    refund where the garage takes payments only in a shift needs one (409, nothing written)."""
    reason = rules.check_reason(reason)
    ticket = find_ticket(garage_id, number)
    amount = rules.check_refund(amount_cents, ticket.status, ticket.amount_paid, ticket.refunded_cents)
    now = now or utcnow()
    try:
        raised = db.session.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.status == STATUS_COMPLETED,
                   Ticket.refunded_cents + amount <= Ticket.amount_paid)
            .values(refunded_cents=Ticket.refunded_cents + amount, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if raised != 1:
            left = rules.refundable(ticket.amount_paid, _fresh(garage_id, ticket.id).refunded_cents)
            raise Conflict(_("Refunded meanwhile at another desk: at most %(amount)s can still be refunded",
                             amount=format_money(left)) if left else rules.NOTHING_LEFT, field="amountCents")
        shift_id = (db.session.scalar(OPEN_SHIFT_SHARED, {"garage_id": garage_id, "user_id": actor.user_id})
                    if actor.user_id is not None else None)
        if shift_id is None and ticket.payment_method == CASH and db.session.scalar(
                sa.select(Garage.payments_require_shift).where(Garage.id == garage_id)):
            raise Conflict(NO_SHIFT_FOR_CASH, field="shift")
        refund = Refund(garage_id=garage_id, ticket_id=ticket.id, amount_cents=amount,
                        payment_method=ticket.payment_method or "", reason=reason, refunded_by_id=actor.user_id,
                        refunded_at=now, shift_id=shift_id)
        db.session.add(refund)
        db.session.flush()
        ticket = _fresh(garage_id, ticket.id)
        audit.record(actor, "ticket.refunded", "ticket", ticket.ticket_number,
                     {"amountCents": amount, "paymentMethod": refund.payment_method, "reason": reason,
                      "refundedTotalCents": ticket.refunded_cents, "refundId": refund.id,
                      **({"shiftId": shift_id} if shift_id is not None else {})}, garage_id=garage_id)
        rollups.touched(garage_id, now)  # the reports move (its day counted again if back-dated)
        commit_keeping_loaded()
    except BaseException:
        db.session.rollback()
        raise
    return RefundDone(refund, ticket)


REFUNDS_OF = (sa.select(Refund, User.username).outerjoin(User, User.id == Refund.refunded_by_id)
              .where(Refund.garage_id == sa.bindparam("garage_id"), Refund.ticket_id == sa.bindparam("ticket_id"))
              .order_by(Refund.refunded_at, Refund.id))


@dataclass(frozen=True)
class RefundLine:
    refund: Refund
    by: str | None


def refunds_of(garage_id: int, ticket_id: int) -> list[RefundLine]:
    """A ticket's refunds, oldest first, with who gave each."""
    return [RefundLine(r, name) for r, name in db.session.execute(
        REFUNDS_OF, {"garage_id": garage_id, "ticket_id": ticket_id})]
