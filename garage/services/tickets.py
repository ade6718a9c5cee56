"""Entries, lookups and exits. Capacity, one-active-ticket-per-plate and
pay-once are enforced by the database, so they hold across gunicorn workers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..domain import pricing
from ..domain.clock import utcnow
from ..domain.errors import AlreadyProcessed, Conflict, GarageFull, NotFound, QuoteChanged
from ..domain.tickets import (
    STATUS_ACTIVE, STATUS_COMPLETED, check_payment_method, check_vehicle_type, clean_plate,
    new_ticket_number, normalise_ticket_number, plate_key,
)
from ..extensions import db
from ..models import GarageSetting, Ticket
from . import audit
from .audit import Actor
from .settings import SETTINGS_ID, current_tariff, current_vehicle_rates, get_settings

NUMBER_ATTEMPTS = 8


def _active_by_plate(key: str) -> Ticket | None:
    return db.session.scalar(
        sa.select(Ticket).where(Ticket.plate_key == key, Ticket.status == STATUS_ACTIVE)
    )


def _refuse_if_inside(typed: str, key: str) -> None:
    existing = _active_by_plate(key)
    if existing is not None:
        raise Conflict(f"{typed} is already inside on ticket {existing.ticket_number}", field="licensePlate")


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: the objects are exactly
    what was just written, so the caller can serialise them without a
    re-SELECT (one transaction and two round trips fewer per request)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def issue_ticket(license_plate: str | None, vehicle_type: str | None,
                 actor: Actor | None = None, now: datetime | None = None) -> Ticket:
    """One short transaction: INSERT the ticket and its audit row, then take a
    space (conditional UPDATE of the counter, atomic under concurrency), COMMIT.
    The counter's row lock is taken last, so it is held only until the commit.
    The one-active-ticket-per-plate rule is the partial unique index: a
    violation rolls everything back and names the ticket already inside; a
    ticket-number collision (rare) rolls back and retries with a new number."""
    typed, key = clean_plate(license_plate)
    vehicle_type = check_vehicle_type(vehicle_type)
    now = now or utcnow()
    for _ in range(NUMBER_ATTEMPTS):
        try:
            ticket = Ticket(
                ticket_number=new_ticket_number(), license_plate=typed, plate_key=key,
                vehicle_type=vehicle_type, entry_time=now, status=STATUS_ACTIVE,
                last_event_at=now, issued_by_id=actor.user_id if actor else None,
                created_at=now, updated_at=now,
            )
            db.session.add(ticket)
            audit.record(actor, "ticket.issued", "ticket", ticket.ticket_number,
                         {"plate": typed, "vehicleType": vehicle_type})
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            _refuse_if_inside(typed, key)  # an earlier or concurrent entry of this plate
            continue  # otherwise the ticket number collided: draw another
        except BaseException:
            db.session.rollback()
            raise
        try:
            taken = db.session.execute(
                sa.update(GarageSetting)
                .where(GarageSetting.id == SETTINGS_ID, GarageSetting.occupied < GarageSetting.total_spaces)
                .values(occupied=GarageSetting.occupied + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                db.session.rollback()
                if db.session.get(GarageSetting, SETTINGS_ID) is None:
                    get_settings()  # first entry ever on a fresh database: create the row, go again
                    continue
                raise GarageFull()
            _commit_keeping_loaded()
        except BaseException:
            db.session.rollback()
            raise
        return ticket
    raise Conflict("Could not allocate a ticket number, try again")


def find_ticket(ticket_number: str | None) -> Ticket:
    number = normalise_ticket_number(ticket_number)
    ticket = None
    if number is not None:
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


def find_active(query: str | None) -> Ticket:
    """Ticket number (any case, with or without PS-) or plate of a car inside."""
    number = normalise_ticket_number(query)
    if number is not None:
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.ticket_number == number))
        if ticket is not None:
            return ticket
    key = plate_key(query or "")
    if key:
        ticket = _active_by_plate(key)
        if ticket is not None:
            return ticket
    raise NotFound("No ticket or car inside matches that number or plate")


def quote_for(ticket: Ticket, now: datetime | None = None, lost: bool = False,
              tariff: pricing.Tariff | None = None) -> pricing.Quote:
    """The fee for this ticket now: the same function the exit charges with,
    with the rules in force now and the ticket's vehicle type.
    ``lost``: the driver has no ticket (the lost-ticket fee applies).
    A paid ticket answers what was charged, whatever the rules are today."""
    if ticket.status == STATUS_COMPLETED and ticket.amount_paid is not None:
        return pricing.recorded(ticket.duration_minutes or 0, ticket.amount_paid, ticket.lost,
                                ticket.lost_fee_cents)
    return pricing.quote(ticket.entry_time, now or utcnow(), tariff or current_tariff(),
                         vehicle_type=ticket.vehicle_type, lost=lost)


def process_exit(ticket_number: str | None, payment_method: str | None,
                 actor: Actor | None = None, now: datetime | None = None,
                 expected_amount_cents: int | None = None, lost: bool = False) -> Ticket:
    """Charge and close an active ticket, exactly once.

    With ``expected_amount_cents`` (what the attendant quoted), the payment is
    refused if the fee has changed since, so nobody is charged a surprise.
    ``lost``: closed without the paper ticket (found by plate); see quote_for.
    """
    payment_method = check_payment_method(payment_method)
    now = now or utcnow()
    try:
        ticket, settings = _ticket_with_settings(ticket_number)
        if ticket.status != STATUS_ACTIVE:
            raise AlreadyProcessed()
        tariff = settings.tariff(current_vehicle_rates()) if settings is not None else None
        q = quote_for(ticket, now, lost=lost, tariff=tariff)
        if expected_amount_cents is not None and expected_amount_cents != q.amount_cents:
            raise QuoteChanged(expected_amount_cents, q.amount_cents)
        values = dict(status=STATUS_COMPLETED, exit_time=now, duration_minutes=q.duration_minutes,
                      amount_paid=q.amount_cents, payment_method=payment_method, last_event_at=now,
                      lost=lost, lost_fee_cents=q.lost_fee_cents if lost else None,
                      closed_by_id=actor.user_id if actor else None, updated_at=now)
        # The guard (still active) makes a second, concurrent payment match no row.
        closed = db.session.execute(
            sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE)
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
        if closed != 1:
            raise AlreadyProcessed()
        for name, value in values.items():  # what was written: no refresh round trip
            set_committed_value(ticket, name, value)
        audit.record(actor, "ticket.paid", "ticket", ticket.ticket_number,
                     {"amountCents": q.amount_cents, "paymentMethod": payment_method,
                      "durationMinutes": q.duration_minutes, "lost": lost,
                      "timeFeeCents": q.time_fee_cents, "lostFeeCents": q.lost_fee_cents})
        db.session.flush()
        # Counter last: its row lock is held only until the commit.
        db.session.execute(
            sa.update(GarageSetting).where(GarageSetting.id == SETTINGS_ID)
            .values(occupied=GarageSetting.occupied - 1)
            .execution_options(synchronize_session=False)
        )
        _commit_keeping_loaded()
    except BaseException:
        db.session.rollback()
        raise
    return ticket


def _ticket_with_settings(ticket_number: str | None) -> tuple[Ticket, GarageSetting | None]:
    """The ticket and the settings row in one round trip (the fee needs both;
    while the caller holds the row, get_settings() finds it in the session)."""
    number = normalise_ticket_number(ticket_number)
    row = None
    if number is not None:
        row = db.session.execute(
            sa.select(Ticket, GarageSetting).outerjoin(GarageSetting, GarageSetting.id == SETTINGS_ID)
            .where(Ticket.ticket_number == number)
            .execution_options(populate_existing=True)  # the rules as committed now
        ).first()
    if row is None:
        raise NotFound("Ticket not found")
    return row[0], row[1]


def recent_activity(limit: int = 10) -> list[Ticket]:
    return list(db.session.scalars(
        sa.select(Ticket).order_by(Ticket.last_event_at.desc(), Ticket.id.desc()).limit(limit)
    ))


def find_inside_by_plate(license_plate: str | None) -> Ticket:
    """The active ticket of a car inside, by plate only (a lost ticket)."""
    key = plate_key(license_plate or "")
    ticket = _active_by_plate(key) if key else None
    if ticket is None:
        raise NotFound("No car inside has that plate", field="plate")
    return ticket


@dataclass(frozen=True)
class InsideRow:
    ticket: Ticket
    quote: pricing.Quote


@dataclass(frozen=True)
class InsidePage:
    rows: list[InsideRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _active_filter(query: str | None) -> list[sa.ColumnElement[bool]]:
    """Active tickets whose plate or ticket code contains what was typed.

    Only active tickets are scanned (the partial index on active entry_time),
    and there are never more of them than spaces, so a contains-match stays cheap.
    Plate keys and ticket codes are letters and digits only: no LIKE wildcards.
    """
    conditions: list[sa.ColumnElement[bool]] = [Ticket.status == STATUS_ACTIVE]
    text = (query or "").strip().upper()
    key = plate_key(text)
    if key:
        code = plate_key(text[len("PS-"):]) if text.startswith("PS-") else key
        conditions.append(sa.or_(Ticket.plate_key.contains(key, autoescape=True),
                                 Ticket.ticket_number.contains(code, autoescape=True)))
    return conditions


def list_active(query: str | None = None, page: int = 1, per_page: int = 10,
                now: datetime | None = None) -> InsidePage:
    """Cars inside, longest-parked first, with the fee so far (tariff read once)."""
    per_page = max(1, min(per_page, 100))
    conditions = _active_filter(query)
    total = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    tickets = db.session.scalars(
        sa.select(Ticket).where(*conditions).order_by(Ticket.entry_time, Ticket.id)
        .offset((page - 1) * per_page).limit(per_page)
    )
    now = now or utcnow()
    tariff = get_settings().tariff()
    rows = [InsideRow(t, pricing.quote(t.entry_time, now, tariff)) for t in tickets]
    return InsidePage(rows, total, page, per_page)
