"""Entries, lookups and exits: each use case one short transaction. Capacity,
one-active-ticket-per-plate and pay-once are enforced by the database (through
the persistence layer), so they hold across gunicorn workers, each per garage.
Every use case takes the garage's id first (identity.current_garage for a request)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import wraps
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..domain import permits as permit_rules, pricing
from ..domain.clock import utcnow
from ..domain.errors import (
    AlreadyInside, AlreadyProcessed, Conflict, GarageFull, InvalidInput, NotFound, PermitRefused, QuoteChanged,
    ScannedTicket,
)
from ..domain.tickets import (
    NOTHING_TO_FIND, STATUS_ACTIVE, STATUS_COMPLETED, TicketView, appended_scan, check_payment_method, check_vehicle_type,
    clean_plate,
    is_resent_entry, looks_like_ticket_number, new_ticket_number, normalise_ticket_number, plate_key,
    recorded_method, scanned_ticket_message,
)
from ..domain.inputs import PageCount
from ..domain.words import _, n_
from ..extensions import db
from ..domain.garages import DEFAULT_GARAGE_ID
from ..identity import Actor, TokenCaller, admitted
from ..models import Garage, Ticket, User
from ..observability import metrics
from ..persistence import BY_NUMBER, IN_GARAGE, NewTicket, commit_keeping_loaded, store
from . import permits as permit_service, rollups, validations as validation_service
from .settings import current_tariff, get_settings, keep as keep_settings_row

NUMBER_ATTEMPTS = 8
DEADLOCK_ATTEMPTS = 3


# Built once, with bind parameters: building a select costs more Python than running
# its cached compilation.
TICKET_BY_NUMBER = sa.select(Ticket).where(BY_NUMBER)
ACTIVE_BY_PLATE = sa.select(Ticket).where(IN_GARAGE, Ticket.plate_key == sa.bindparam("key"),
                                           Ticket.status == STATUS_ACTIVE)


def _active_by_plate(garage_id: int, key: str) -> Ticket | None:
    return db.session.scalar(ACTIVE_BY_PLATE, {"garage_id": garage_id, "key": key})


def _refuse_if_inside(garage_id: int, key: str) -> None:
    """The plate as stored (not as typed now: "HH AB.102" is the car "HH-AB 102" inside) names the car."""
    existing = _active_by_plate(garage_id, key)
    if existing is not None:
        raise AlreadyInside(_("%(plate)s is already inside on ticket %(number)s", plate=existing.license_plate,
                              number=existing.ticket_number), inside=existing)


def _refuse_scanned_ticket(garage_id: int | None, typed: str,
                           actor: Actor | TokenCaller) -> tuple[int | None, Actor | TokenCaller]:
    """A ticket scanned into the plate field is not a car: refuse a plate that has exactly a ticket
    number's shape AND is the number of a ticket of that garage (issue 15). Only for that shape are
    statements added: an API caller is checked first (no one without a token learns which numbers
    exist), then one SELECT. Returns the garage and the actor (looked up, if it was a TokenCaller
    that was checked: then the garage is the one it was admitted at)."""
    if not looks_like_ticket_number(typed):
        return garage_id, actor
    if isinstance(actor, TokenCaller):
        actor, garage_id = admitted(actor if garage_id is None else replace(actor, garage_id=garage_id))
    if _by_number(garage_id, typed) is not None:
        raise ScannedTicket(scanned_ticket_message(typed), number=typed)
    return garage_id, actor


def entry_details(plate: str, vehicle_type: str) -> dict[str, Any]:
    """The audit details of an entry (both database implementations write these)."""
    return {"plate": plate, "vehicleType": vehicle_type}


def exit_details(quote: pricing.Quote, payment_method: str, lost: bool) -> dict[str, Any]:
    """The audit details of a payment (both database implementations write these)."""
    details = {"amountCents": quote.amount_cents, "paymentMethod": payment_method,
               "durationMinutes": quote.duration_minutes, "lost": lost,
               "timeFeeCents": quote.time_fee_cents, "lostFeeCents": quote.lost_fee_cents}
    if quote.rule:
        details["priceRule"] = quote.rule
    if quote.discount_cents:
        details["discountCents"] = quote.discount_cents
    return details


def issue_ticket(garage_id: int | None, license_plate: str | None, vehicle_type: str | None,
                 actor: Actor | TokenCaller | None = None, now: datetime | None = None,
                 keep: Callable[[TicketView], None] | None = None) -> TicketView:
    """One short transaction: the ticket, its audit row and a space taken from
    the garage's counter (ONE statement on PostgreSQL, three on SQLite), COMMIT.
    ``actor``: who issues it; a TokenCaller (an API request) is looked up in
    the same transaction (Unauthenticated / Forbidden, and nothing written,
    when it may not act at that garage). ``garage_id`` None: only with a
    TokenCaller, the garage its token acts at (its only one), found by that lookup.
    The one-active-ticket-per-plate rule is the partial unique index: a
    violation rolls everything back and names the ticket already inside; a
    ticket-number collision (rare) rolls back and retries with a new number.
    ``keep``: called with the ticket right before the COMMIT, in the same transaction (an API client's
    Idempotency-Key keeps its answer there: services/idempotency.py)."""
    typed, key = clean_plate(license_plate)
    vehicle_type = check_vehicle_type(vehicle_type)
    now = now or utcnow()
    garage_id, actor = _refuse_scanned_ticket(garage_id, typed, actor or Actor.system())
    details = entry_details(typed, vehicle_type)
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            ticket = store().issue(garage_id, NewTicket(new_ticket_number(), typed, key, vehicle_type, now), actor,
                                   details)
            if ticket is not None:
                if garage_id is not None:
                    rollups.touched(garage_id, now, revised=True)  # the entry's statement moved the revision
                if keep is not None:
                    keep(ticket)
                # What the request holds stays loaded (the person, the garage's row): its answer needs no
                # read after the COMMIT, when a database that just went would make an issued ticket "try again".
                commit_keeping_loaded()
                _counters_moved(garage_id)
                return ticket
        except IntegrityError:
            db.session.rollback()
            if isinstance(actor, TokenCaller) and garage_id is None:
                garage_id = admitted(actor)[1]  # the garage the statement resolved (a rare path)
            _refuse_if_inside(garage_id, key)  # an earlier or concurrent entry of this plate
            continue  # otherwise the ticket number collided: draw another
        except (GarageFull, PermitRefused):  # no space for it, or its permit's refusal: unless it is inside
            db.session.rollback()
            if isinstance(actor, TokenCaller) and garage_id is None:
                garage_id = admitted(actor)[1]
            _refuse_if_inside(garage_id, key)
            raise
        except BaseException:
            db.session.rollback()
            raise
        db.session.rollback()  # no space taken: nothing is kept
        if db.session.get(Garage, DEFAULT_GARAGE_ID) is None:
            get_settings(DEFAULT_GARAGE_ID)  # first entry ever on a fresh database: create the row, go again
            continue
        if isinstance(actor, TokenCaller) and garage_id is None:
            garage_id = admitted(actor)[1]  # the garage the statement resolved (this rare path only)
        _refuse_if_inside(garage_id, key)  # no space was taken before the plate rule could speak: it first
        raise GarageFull(_full_message(garage_id))
    raise Conflict(_("Could not allocate a ticket number, try again"))


def _full_message(garage_id: int | None) -> str:
    """What a refused entry is told: the garage is full, or full for visitors only (the free spaces
    left are reserved for permit holders). Read only on this rare path."""
    row = (db.session.execute(sa.select(Garage.total_spaces, Garage.occupied, Garage.reserved_spaces)
                              .where(Garage.id == garage_id)).first() if garage_id is not None else None)
    if row is not None and row.reserved_spaces and row.occupied < row.total_spaces:
        free = row.total_spaces - row.occupied
        return n_("Full for visitors: the %(num)d free space is reserved for permit holders",
                  "Full for visitors: the %(num)d free spaces are reserved for permit holders", free)
    return _("Garage is full")


def again_on_deadlock(use_case):
    """Run an entry or an exit again when the database aborted it to break a deadlock (nothing of it was
    written): an entry of a plate whose car is leaving at that moment takes the garage's row, then waits
    for the plate's index entry, while the exit holds the ticket and waits for the garage's row."""
    @wraps(use_case)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(DEADLOCK_ATTEMPTS):
            try:
                return use_case(*args, **kwargs)
            except sa.exc.DBAPIError as exc:
                if attempt == DEADLOCK_ATTEMPTS - 1 or not store().is_deadlock(exc):
                    raise
                db.session.rollback()
        raise AssertionError("unreachable")
    return run


issue_ticket = metrics.counted("entry")(again_on_deadlock(issue_ticket))  # not `@`: mutmut 3 skips decorated functions


def enter_at_desk(garage_id: int, license_plate: str | None, vehicle_type: str | None,
                  actor: Actor) -> tuple[TicketView, bool]:
    """The desk's entry: issue_ticket, except that the same person's entry sent again moments later (a
    second tap, a browser resending the form; domain.tickets.is_resent_entry) answers the ticket it got
    instead of AlreadyInside. Returns the ticket and whether it was that resend (nothing written)."""
    try:
        return issue_ticket(garage_id, license_plate, vehicle_type, actor), False
    except AlreadyInside as exc:
        if exc.inside is None or not is_resent_entry(exc.inside, actor.user_id, check_vehicle_type(vehicle_type),
                                                     utcnow()):
            raise
        return exc.inside, True


def _by_number(garage_id: int, typed: str | None) -> Ticket | None:
    """The garage's ticket a typed number names (any case, with or without PS-), if any."""
    number = normalise_ticket_number(typed)
    return (db.session.scalar(TICKET_BY_NUMBER, {"garage_id": garage_id, "number": number})
            if number is not None else None)


def find_ticket(garage_id: int, ticket_number: str | None) -> Ticket:
    """The garage's ticket of that number; NotFound also for another garage's (nothing said of it)."""
    ticket = _by_number(garage_id, ticket_number)
    if ticket is None:
        raise NotFound(_("Ticket not found"))
    return ticket


def find_active(garage_id: int, query: str | None) -> Ticket:
    """The desk's lookup: a ticket number (any case, with or without PS-), else a plate: its car
    inside, or the plate's latest ticket, paid or not (a departed car: its receipt). ONE statement; a
    second only when that finds nothing and the text ends with a ticket number scanned after other text."""
    number, key = normalise_ticket_number(query), plate_key(query)
    if number is None and not key:
        raise InvalidInput(NOTHING_TO_FIND, field="q")
    ticket = store().latest_ticket(garage_id, number, key)
    if ticket is None and (scanned := appended_scan(query)) is not None:  # a scan after earlier text
        ticket = store().latest_ticket(garage_id, scanned, "")
    if ticket is None:
        raise NotFound(_("No ticket or car matches that number or plate"))
    return ticket


def quote_for(ticket: Ticket, now: datetime | None = None, lost: bool = False,
              tariff: pricing.Tariff | None = None) -> pricing.Quote:
    """The fee for this ticket now: the same function the exit charges with,
    with the rules in force now and the ticket's vehicle type.
    ``lost``: the driver has no ticket (the lost-ticket fee applies).
    A paid ticket answers what was charged, whatever the rules are today."""
    if ticket.status == STATUS_COMPLETED and ticket.amount_paid is not None:
        return pricing.recorded(ticket.duration_minutes or 0, ticket.amount_paid, ticket.lost,
                                ticket.lost_fee_cents, getattr(ticket, "discount_cents", 0) or 0,
                                getattr(ticket, "price_rule", None),
                                permit=getattr(ticket, "permit_id", None) is not None,
                                tax_rate_bp=ticket.tax_rate_bp, tax_added=bool(ticket.tax_added))
    return _priced(ticket, now or utcnow(), lost, tariff or current_tariff(ticket.garage_id))[0]


def _priced(ticket: Ticket, now: datetime, lost: bool, tariff: pricing.Tariff,
            extra: tuple = ()) -> tuple[pricing.Quote, tuple, list]:
    """The fee of an active ticket now with its merchant validations (and `extra` terms: a preview)
    taken off: the quote, its validation lines and the validations on the ticket."""
    base = permit_service.priced(
        ticket, lambda start: pricing.quote(start, now, tariff, vehicle_type=ticket.vehicle_type, lost=lost),
        now, tariff, lost)
    q, lines, on_ticket = validation_service.priced(ticket, base, now, tariff, extra)
    return pricing.with_added_tax(q, tariff), lines, on_ticket


def quote_with_validations(ticket: Ticket, now: datetime | None = None, lost: bool = False,
                           code: Any = None) -> tuple[pricing.Quote, tuple]:
    """The quote and its validation lines (a paid ticket: as recorded). `code`: a merchant's code the
    driver has, shown as if it were given (nothing written; NotFound / Conflict when it cannot be)."""
    if ticket.status == STATUS_COMPLETED and ticket.amount_paid is not None:
        return quote_for(ticket), validation_service.lines_of(ticket)
    now = now or utcnow()
    extra = tuple(validation_service.preview(ticket.garage_id, ticket, code, now)) if code is not None else ()
    q, lines, _ = _priced(ticket, now, lost, current_tariff(ticket.garage_id), extra)
    return q, lines


# What the entry's and the exit's statements change on the garage's row in SQL (its counters, the receipt
# sequence, the report revision): expired after their COMMIT, which keeps the rest of the row loaded.
COUNTERS = ["occupied", "occupied_permit", "receipt_seq", "report_revision", "updated_at"]


def _counters_moved(garage_id: int | None) -> None:
    """The entry's statement changed the garage row's COUNTERS in SQL: read them again if asked (the rest
    of the row, the timezone and the names, is as loaded)."""
    row = (db.session.identity_map.get(sa.inspect(Garage).identity_key_from_primary_key([garage_id]))
           if garage_id is not None else None)
    if row is not None:
        db.session.expire(row, COUNTERS)


def _method_or_none(method: Any) -> str | None:
    """A payment method sent is checked at once (told before anything else); none sent is allowed only
    for a car that owes nothing (checked once priced, in process_exit: domain.tickets.recorded_method)."""
    return None if method is None or method == "" else check_payment_method(method)


def process_exit(garage_id: int | None, ticket_number: str | None, payment_method: str | None,
                 actor: Actor | TokenCaller | None = None, now: datetime | None = None,
                 expected_amount_cents: int | None = None, lost: bool = False,
                 validation_code: Any = None, keep: Callable[[Ticket], None] | None = None) -> Ticket:
    """Charge and close an active ticket, exactly once, drawing its receipt number
    (gap-free: in the exit's own statement; a refused exit draws none).

    With ``expected_amount_cents`` (what the attendant quoted), the payment is
    refused if the fee has changed since, so nobody is charged a surprise.
    ``lost``: closed without the paper ticket (found by plate); see quote_for.
    ``actor``: a TokenCaller (an API request) is looked up by the exit's own
    SELECT; a caller who may not call gets Unauthenticated / Forbidden before
    anything else is said (payment method, ticket) and nothing is written.
    ``garage_id``: the garage the exit is at (a ticket of another is not found); None only
    with a TokenCaller, as in issue_ticket.
    The payment is taken in the payer's open shift at the garage (recorded on the ticket and
    in its audit row); where the garage requires one and the payer has none open:
    ShiftRequired (409 "Open a shift before taking payments"), nothing written, no number drawn.
    ``validation_code``: a merchant's code the driver hands over: the ticket is validated by it first
    (its own transaction, services/validations.py: kept if the payment is then refused, and the same
    code again changes nothing, so the exit can be retried), then paid with the discount.
    ``keep``: called with the paid ticket right before the COMMIT, in the same transaction (see issue_ticket).
    """
    now = now or utcnow()
    if validation_code is not None:
        if isinstance(actor, TokenCaller):
            actor, garage_id = admitted(actor if garage_id is None else replace(actor, garage_id=garage_id))
        payment_method = _method_or_none(payment_method)  # told before anything is written
        ticket = find_ticket(garage_id, ticket_number)
        if ticket.status == STATUS_ACTIVE:  # a paid one: the exit below says so ("already processed")
            validation_service.validate_ticket(garage_id, ticket, validation_code, actor or Actor.system(), now)
    try:
        found = store().exit_inputs(garage_id, normalise_ticket_number(ticket_number), actor)
        ticket, settings = found.ticket, found.settings
        payment_method = _method_or_none(payment_method)
        if ticket is None:
            raise NotFound(_("Ticket not found"))
        if ticket.status != STATUS_ACTIVE:
            raise AlreadyProcessed()
        # The ticket's own vehicle type is the only one its fee looks at.
        tariff = (settings.tariff({ticket.vehicle_type: found.type_rate} if found.type_rate is not None else None)
                  if settings is not None else None)
        tariff_used = tariff or current_tariff(ticket.garage_id)
        q, lines, on_ticket = _priced(ticket, now, lost, tariff_used)
        currency = getattr(settings, "currency", None)  # the ticket's garage's, for the messages
        pricing.check_recordable(q, currency)  # first: a fee no payment records is not one to confirm again
        if expected_amount_cents is not None and expected_amount_cents != q.amount_cents:
            raise QuoteChanged(expected_amount_cents, q.amount_cents, currency)
        # A car that owes nothing is let out: "Permit" or "No charge", whatever was sent.
        payment_method = recorded_method(payment_method, q.amount_cents,
                                         permit_rules.PERMIT_METHOD if ticket.permit_id is not None else None)
        values = dict(status=STATUS_COMPLETED, exit_time=now, duration_minutes=q.duration_minutes,
                      amount_paid=q.amount_cents, payment_method=payment_method, last_event_at=now,
                      lost=lost, lost_fee_cents=q.lost_fee_cents if lost else None,
                      closed_by_id=found.actor.user_id if found.actor else None, updated_at=now,
                      discount_cents=q.discount_cents, price_rule=q.rule,
                      # how the price was taxed: the receipt splits it the same way whatever changes later
                      tax_rate_bp=tariff_used.tax_rate_bp, tax_added=tariff_used.tax_added)
        # What each validation on the ticket took off, for its row (written by the exit's statement).
        given = [(v.id, line.discount_cents) for line in lines for v in on_ticket
                 if v.terms.program_id == line.program_id]
        # (No settings row: current_tariff() has just created it.)
        require_shift = bool(settings is not None and settings.payments_require_shift)
        receipt = store().close(ticket, values, exit_details(q, payment_method, lost), found.actor, require_shift,
                                given)
        values.update(receipt_number=receipt.number, tax_rate_bp=receipt.tax_rate_bp, shift_id=receipt.shift_id)
        for name, value in values.items():  # what was written: no refresh round trip
            set_committed_value(ticket, name, value)
        rollups.touched(ticket.garage_id, now, revised=True)  # the exit's statement moved the revision
        if keep is not None:
            keep(ticket)
        commit_keeping_loaded()
        if settings is not None:  # its counters were changed by SQL: read again if anyone asks
            db.session.expire(settings, COUNTERS)
            keep_settings_row(settings)  # the response's currency reads it (no second SELECT)
    except BaseException:
        db.session.rollback()
        raise
    return ticket


process_exit = metrics.counted("exit")(again_on_deadlock(process_exit))  # not `@`: mutmut 3 skips decorated functions


# The latest event first, with who recorded it (the issuer of an entry, the attendant who
# took a payment): ONE statement, the users joined for their names only.
RECENT_ACTIVITY = (
    sa.select(Ticket).where(IN_GARAGE)
    .options(joinedload(Ticket.issued_by).load_only(User.username),
             joinedload(Ticket.closed_by).load_only(User.username))
    .order_by(Ticket.last_event_at.desc(), Ticket.id.desc()).limit(sa.bindparam("limit")))


def recent_activity(garage_id: int, limit: int = 10) -> list[Ticket]:
    """The garage's last `limit` tickets to enter or leave, newest event first; ticket.issued_by and
    ticket.closed_by are loaded (their usernames) by the same statement."""
    return list(db.session.scalars(RECENT_ACTIVITY, {"garage_id": garage_id, "limit": limit}).unique())


def find_inside_by_plate(garage_id: int, license_plate: str | None) -> Ticket:
    """The active ticket of a car inside, by plate only (a lost ticket)."""
    key = plate_key(license_plate)
    if not key:
        raise InvalidInput(NOTHING_TO_FIND, field="plate")
    ticket = _active_by_plate(garage_id, key)
    if ticket is None:
        raise NotFound(_("No car inside has that plate"), field="plate")
    return ticket


@dataclass(frozen=True)
class InsideRow:
    ticket: Ticket
    quote: pricing.Quote


@dataclass(frozen=True)
class InsidePage(PageCount):
    rows: list[InsideRow]
    total: int
    page: int
    per_page: int


def _active_filter(garage_id: int, query: str | None) -> list[sa.ColumnElement[bool]]:
    """Active tickets whose plate or ticket code contains what was typed.

    Only active tickets are scanned (the partial index on active entry_time),
    and there are never more of them than spaces, so a contains-match stays cheap.
    Plate keys and ticket codes are letters and digits only: no LIKE wildcards.
    A filter with nothing of a plate in it (only emoji, say) matches nothing and says so
    (InvalidInput, NOTHING_TO_FIND) rather than listing every car.
    """
    conditions: list[sa.ColumnElement[bool]] = [Ticket.garage_id == garage_id, Ticket.status == STATUS_ACTIVE]
    text = (query or "").strip().upper()
    key = plate_key(text)
    if text and not key:
        raise InvalidInput(NOTHING_TO_FIND, field="q")
    if key:
        code = plate_key(text[len("PS-"):]) if text.startswith("PS-") else key
        conditions.append(sa.or_(Ticket.plate_key.contains(key, autoescape=True),
                                 Ticket.ticket_number.contains(code, autoescape=True)))
    return conditions


def list_active(garage_id: int, query: str | None = None, page: int = 1, per_page: int = 10,
                now: datetime | None = None) -> InsidePage:
    """Cars inside, longest-parked first, with the fee so far: the exit's own
    pricing (the rules as committed, each car's vehicle-type rate), read once.
    InvalidInput when `query` holds nothing of a plate or ticket number."""
    per_page = max(1, min(per_page, 100))
    conditions = _active_filter(garage_id, query)
    total = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    tickets = db.session.scalars(
        sa.select(Ticket).where(*conditions).order_by(Ticket.entry_time, Ticket.id)
        .offset((page - 1) * per_page).limit(per_page)
    )
    now = now or utcnow()
    tariff = current_tariff(garage_id)
    # A car with validations or a permit: the exit's own pricing with them (a statement more each).
    rows = [InsideRow(t, _priced(t, now, False, tariff)[0] if t.validations or t.permit_id is not None
                      else pricing.quote(t.entry_time, now, tariff, vehicle_type=t.vehicle_type)) for t in tickets]
    return InsidePage(rows, total, page, per_page)
