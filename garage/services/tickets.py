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
from ..domain.errors import (
    AlreadyProcessed, Conflict, Forbidden, GarageFull, NotFound, QuoteChanged, Unauthenticated,
)
from ..domain.tickets import (
    STATUS_ACTIVE, STATUS_COMPLETED, check_payment_method, check_vehicle_type, clean_plate,
    new_ticket_number, normalise_ticket_number, plate_key,
)
from ..extensions import db
from ..models import GarageSetting, Ticket, VehicleRate
from ..prepared import Prepared
from . import accounts, audit
from .audit import Actor, TokenCaller
from .settings import SETTINGS_ID, current_tariff, get_settings

NUMBER_ATTEMPTS = 8


# Hot statements are built once, with bind parameters: building a select costs
# more Python than running its cached compilation (exit: 1.8 -> 1.4 ms of CPU
# per request in-process with the exit's statement below).
_BY_NUMBER = Ticket.ticket_number == sa.bindparam("number")
TICKET_BY_NUMBER = sa.select(Ticket).where(_BY_NUMBER)
ACTIVE_BY_PLATE = sa.select(Ticket).where(Ticket.plate_key == sa.bindparam("key"), Ticket.status == STATUS_ACTIVE)


def _active_by_plate(key: str) -> Ticket | None:
    return db.session.scalar(ACTIVE_BY_PLATE, {"key": key})


def _refuse_if_inside(typed: str, key: str) -> None:
    existing = _active_by_plate(key)
    if existing is not None:
        raise Conflict(f"{typed} is already inside on ticket {existing.ticket_number}", field="licensePlate")


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: the objects are exactly
    what was just written, so the caller can serialise them without a
    re-SELECT (one transaction and two round trips fewer per request).
    Under autocommit it sends nothing and hands the connection back."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# PostgreSQL: the entry as ONE prepared statement (one round trip, atomic on its
# own, so also right under autocommit; parsed and planned once per connection,
# see garage/prepared.py).
# `actor`: for an API call, the owner of the token (checked here rather than in
# a statement of its own); for a signed-in user, the user the caller passes.
# The counter's conditional UPDATE runs only for an admitted actor and before
# the inserts, which use its RETURNING row: when the caller is refused or the
# garage is full nothing is written. A concurrent entry waits for the counter's
# row lock and re-checks "occupied < total_spaces" on the new value (READ
# COMMITTED re-evaluation), so capacity holds across workers. The plate rule is
# the partial unique index: a violation aborts the whole statement.
# The one result row says who the caller was (caller_role) and, if a ticket was
# issued, its id and issuer: the rest of the row is what the caller sent.
ISSUE = Prepared("garage_issue_ticket", """
WITH actor AS (
    SELECT users.id, users.username, users.role
    FROM api_tokens JOIN users ON users.id = api_tokens.user_id
    WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL AND users.active
    UNION ALL
    SELECT :user_id, :username, NULL WHERE NOT :by_token
), admitted AS (
    SELECT id, username FROM actor WHERE NOT :by_token OR role = ANY(:roles)
), taken AS (
    UPDATE garage_settings SET occupied = occupied + 1, updated_at = :now
    WHERE id = :settings_id AND occupied < total_spaces AND EXISTS (SELECT FROM admitted)
    RETURNING id
), ticket AS (
    INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, status, lost,
                         last_event_at, issued_by_id, created_at, updated_at)
    SELECT :number, :plate, :plate_key, :vehicle_type, :now, :status, false, :now, admitted.id, :now, :now
    FROM taken, admitted
    RETURNING id, ticket_number, issued_by_id
), audit AS (
    INSERT INTO audit_log (at, user_id, username, action, object_type, object_id, ip, details)
    SELECT :now, admitted.id, admitted.username, 'ticket.issued', 'ticket', ticket.ticket_number, :ip, :details
    FROM ticket, admitted
)
SELECT (SELECT role FROM actor) AS caller_role, ticket.id, ticket.issued_by_id
FROM (VALUES (1)) AS one (x) LEFT JOIN ticket ON true
""", types=dict(token_hash="varchar", by_token="boolean", user_id="integer", username="varchar",
                roles="varchar[]", now="timestamptz", settings_id="integer", number="varchar", plate="varchar",
                plate_key="varchar", vehicle_type="varchar", status="varchar", ip="varchar", details="json"))


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """A ticket exactly as the entry wrote it: every column the desk and the API
    show, as plain values. No ORM object: the entry is the busiest path, and
    building an instrumented Ticket only to read it back cost more CPU than
    the security headers and the JSON together (bench/inprocess.py under callgrind)."""

    id: int
    ticket_number: str
    license_plate: str
    plate_key: str
    vehicle_type: str
    entry_time: datetime
    issued_by_id: int | None
    exit_time: None = None
    duration_minutes: None = None
    amount_paid: None = None
    status: str = STATUS_ACTIVE
    payment_method: None = None
    lost: bool = False
    lost_fee_cents: None = None


def _new_ticket(number: str, typed: str, key: str, vehicle_type: str, now: datetime,
                issued_by_id: int | None) -> Ticket:
    return Ticket(ticket_number=number, license_plate=typed, plate_key=key, vehicle_type=vehicle_type,
                  entry_time=now, exit_time=None, duration_minutes=None, amount_paid=None,
                  status=STATUS_ACTIVE, payment_method=None, lost=False, lost_fee_cents=None,
                  last_event_at=now, issued_by_id=issued_by_id, closed_by_id=None,
                  created_at=now, updated_at=now)


def _insert_in_one_statement(number: str, typed: str, key: str, vehicle_type: str,
                             actor: Actor | TokenCaller, now: datetime) -> IssuedTicket | None:
    by_token = isinstance(actor, TokenCaller)
    if by_token and actor.token_hash is None:
        raise Unauthenticated()  # no token at all: nothing to look up, nothing to run
    row = ISSUE.execute(dict(
        token_hash=actor.token_hash if by_token else None, by_token=by_token,
        roles=list(actor.roles) if by_token else [],
        user_id=None if by_token else actor.user_id, username=None if by_token else actor.username,
        now=now, settings_id=SETTINGS_ID, number=number, plate=typed, plate_key=key, vehicle_type=vehicle_type,
        status=STATUS_ACTIVE, ip=actor.ip,
        details=audit.details_json({"plate": typed, "vehicleType": vehicle_type}))).one()
    if by_token and row.caller_role is None:
        raise Unauthenticated()
    if by_token and row.caller_role not in actor.roles:
        raise Forbidden()
    if row.id is None:
        return None
    return IssuedTicket(row.id, number, typed, key, vehicle_type, now, row.issued_by_id)  # no re-SELECT


def _insert_with_orm(number: str, typed: str, key: str, vehicle_type: str,
                     actor: Actor | TokenCaller, now: datetime) -> IssuedTicket | None:
    """INSERT the ticket and its audit row, then take a space (conditional
    UPDATE of the counter, atomic under concurrency): its row lock is taken
    last, so it is held only until the commit."""
    if isinstance(actor, TokenCaller):
        actor = accounts.actor_for(actor)
    ticket = _new_ticket(number, typed, key, vehicle_type, now, actor.user_id)
    db.session.add(ticket)
    audit.record(actor, "ticket.issued", "ticket", ticket.ticket_number,
                 {"plate": typed, "vehicleType": vehicle_type})
    db.session.flush()
    taken = db.session.execute(
        sa.update(GarageSetting)
        .where(GarageSetting.id == SETTINGS_ID, GarageSetting.occupied < GarageSetting.total_spaces)
        .values(occupied=GarageSetting.occupied + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return None
    return IssuedTicket(ticket.id, number, typed, key, vehicle_type, now, actor.user_id)


def issue_ticket(license_plate: str | None, vehicle_type: str | None,
                 actor: Actor | TokenCaller | None = None, now: datetime | None = None) -> IssuedTicket:
    """One short transaction: the ticket, its audit row and a space taken from
    the counter (ONE statement on PostgreSQL, three on SQLite), COMMIT.
    ``actor``: who issues it; a TokenCaller (an API request) is looked up in
    the same transaction (Unauthenticated / Forbidden, and nothing written,
    when it may not).
    The one-active-ticket-per-plate rule is the partial unique index: a
    violation rolls everything back and names the ticket already inside; a
    ticket-number collision (rare) rolls back and retries with a new number."""
    typed, key = clean_plate(license_plate)
    vehicle_type = check_vehicle_type(vehicle_type)
    now = now or utcnow()
    actor = actor or Actor.system()
    insert = _insert_in_one_statement if _postgresql() else _insert_with_orm
    for _ in range(NUMBER_ATTEMPTS):
        try:
            ticket = insert(new_ticket_number(), typed, key, vehicle_type, actor, now)
            if ticket is not None:
                db.session.commit()
                return ticket
        except IntegrityError:
            db.session.rollback()
            _refuse_if_inside(typed, key)  # an earlier or concurrent entry of this plate
            continue  # otherwise the ticket number collided: draw another
        except BaseException:
            db.session.rollback()
            raise
        db.session.rollback()  # no space taken: nothing is kept
        if db.session.get(GarageSetting, SETTINGS_ID) is None:
            get_settings()  # first entry ever on a fresh database: create the row, go again
            continue
        raise GarageFull()
    raise Conflict("Could not allocate a ticket number, try again")


def _by_number(typed: str | None) -> Ticket | None:
    """The ticket a typed number names (any case, with or without PS-), if any."""
    number = normalise_ticket_number(typed)
    return db.session.scalar(TICKET_BY_NUMBER, {"number": number}) if number is not None else None


def find_ticket(ticket_number: str | None) -> Ticket:
    ticket = _by_number(ticket_number)
    if ticket is None:
        raise NotFound("Ticket not found")
    return ticket


def find_active(query: str | None) -> Ticket:
    """Ticket number (any case, with or without PS-) or plate of a car inside."""
    ticket = _by_number(query)
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
                 actor: Actor | TokenCaller | None = None, now: datetime | None = None,
                 expected_amount_cents: int | None = None, lost: bool = False) -> Ticket:
    """Charge and close an active ticket, exactly once.

    With ``expected_amount_cents`` (what the attendant quoted), the payment is
    refused if the fee has changed since, so nobody is charged a surprise.
    ``lost``: closed without the paper ticket (found by plate); see quote_for.
    ``actor``: a TokenCaller (an API request) is looked up by the exit's own
    SELECT; a caller who may not call gets Unauthenticated / Forbidden before
    anything else is said (payment method, ticket) and nothing is written.
    """
    now = now or utcnow()
    try:
        ticket, settings, type_rate, actor = _ticket_with_settings(ticket_number, actor)
        payment_method = check_payment_method(payment_method)
        if ticket is None:
            raise NotFound("Ticket not found")
        if ticket.status != STATUS_ACTIVE:
            raise AlreadyProcessed()
        # The ticket's own vehicle type is the only one its fee looks at.
        tariff = (settings.tariff({ticket.vehicle_type: type_rate} if type_rate is not None else None)
                  if settings is not None else None)
        q = quote_for(ticket, now, lost=lost, tariff=tariff)
        if expected_amount_cents is not None and expected_amount_cents != q.amount_cents:
            raise QuoteChanged(expected_amount_cents, q.amount_cents)
        values = dict(status=STATUS_COMPLETED, exit_time=now, duration_minutes=q.duration_minutes,
                      amount_paid=q.amount_cents, payment_method=payment_method, last_event_at=now,
                      lost=lost, lost_fee_cents=q.lost_fee_cents if lost else None,
                      closed_by_id=actor.user_id if actor else None, updated_at=now)
        details = {"amountCents": q.amount_cents, "paymentMethod": payment_method,
                   "durationMinutes": q.duration_minutes, "lost": lost,
                   "timeFeeCents": q.time_fee_cents, "lostFeeCents": q.lost_fee_cents}
        if _postgresql():
            _close_in_one_statement(ticket, values, details, actor)
        else:
            _close_with_orm(ticket, values, details, actor)
        for name, value in values.items():  # what was written: no refresh round trip
            set_committed_value(ticket, name, value)
        _commit_keeping_loaded()
        if settings is not None:  # its counter was changed by SQL: read again if anyone asks
            db.session.expire(settings, ["occupied", "updated_at"])
    except BaseException:
        db.session.rollback()
        raise
    return ticket


# PostgreSQL: the exit's writes as ONE statement. The guard (still active) makes
# a second, concurrent payment match no row, and then neither the audit row nor
# the counter is touched: the caller answers "already processed".
CLOSE = Prepared("garage_close_ticket", """
WITH closed AS (
    UPDATE tickets SET status = :status, exit_time = :exit_time, duration_minutes = :duration_minutes,
           amount_paid = :amount_paid, payment_method = :payment_method, last_event_at = :last_event_at,
           lost = :lost, lost_fee_cents = :lost_fee_cents, closed_by_id = :closed_by_id, updated_at = :updated_at
    WHERE id = :ticket_id AND status = :active
    RETURNING ticket_number
), freed AS (
    UPDATE garage_settings SET occupied = occupied - 1, updated_at = :updated_at
    FROM closed WHERE garage_settings.id = :settings_id
), audit AS (
    INSERT INTO audit_log (at, user_id, username, action, object_type, object_id, ip, details)
    SELECT :updated_at, :user_id, :username, 'ticket.paid', 'ticket', ticket_number, :ip, :details
    FROM closed
)
SELECT count(*) FROM closed
""", types=dict(status="varchar", exit_time="timestamptz", duration_minutes="integer", amount_paid="integer",
                payment_method="varchar", last_event_at="timestamptz", lost="boolean", lost_fee_cents="integer",
                closed_by_id="integer", updated_at="timestamptz", ticket_id="integer", active="varchar",
                settings_id="integer", user_id="integer", username="varchar", ip="varchar", details="json"))


def _close_in_one_statement(ticket: Ticket, values: dict, details: dict, actor: Actor | None) -> None:
    actor = actor or Actor.system()
    closed = CLOSE.execute({
        **values, "ticket_id": ticket.id, "active": STATUS_ACTIVE, "settings_id": SETTINGS_ID,
        "user_id": actor.user_id, "username": actor.username, "ip": actor.ip,
        "details": audit.details_json(details)}).scalar()
    if closed != 1:
        raise AlreadyProcessed()


def _close_with_orm(ticket: Ticket, values: dict, details: dict, actor: Actor | None) -> None:
    # The guard (still active) makes a second, concurrent payment match no row.
    closed = db.session.execute(
        sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        raise AlreadyProcessed()
    audit.record(actor, "ticket.paid", "ticket", ticket.ticket_number, details)
    db.session.flush()
    # Counter last: its row lock is held only until the commit.
    db.session.execute(
        sa.update(GarageSetting).where(GarageSetting.id == SETTINGS_ID)
        .values(occupied=GarageSetting.occupied - 1)
        .execution_options(synchronize_session=False)
    )


def _with_fee_inputs(stmt: sa.Select) -> sa.Select:
    """Join what the fee needs to a select that has the ticket: the settings row
    and the ticket's vehicle-type rate, both as committed now."""
    return (stmt.outerjoin(GarageSetting, GarageSetting.id == SETTINGS_ID)
            .outerjoin(VehicleRate, VehicleRate.vehicle_type == Ticket.vehicle_type)
            .execution_options(populate_existing=True))


# The ticket, the settings row and the ticket's vehicle-type rate.
TICKET_WITH_SETTINGS = _with_fee_inputs(
    sa.select(Ticket, GarageSetting, VehicleRate.hourly_rate).select_from(Ticket)).where(_BY_NUMBER)
# The same for an API exit, with the caller: the token's owner is the base row and
# the ticket is joined to it, so a dead token gives no row at all (401, whatever the
# ticket), a live one a row with or without the ticket. One round trip fewer than
# looking the token up first (accounts.actor_for).
_OWNER = accounts.TOKEN_OWNER.subquery("owner")
TICKET_WITH_SETTINGS_FOR_TOKEN = _with_fee_inputs(
    sa.select(Ticket, GarageSetting, VehicleRate.hourly_rate, _OWNER.c.id, _OWNER.c.username, _OWNER.c.role)
    .select_from(_OWNER).outerjoin(Ticket, _BY_NUMBER))


def _ticket_with_settings(ticket_number: str | None, actor: Actor | TokenCaller | None
                          ) -> tuple[Ticket | None, GarageSetting | None, int | None, Actor | None]:
    """The ticket (None if there is no such ticket), the settings row and the
    ticket's vehicle-type rate (if it has its own) in one round trip: everything
    the fee needs; and who asks (a TokenCaller checked and turned into an Actor)."""
    number = normalise_ticket_number(ticket_number)
    if isinstance(actor, TokenCaller):
        if actor.token_hash is None:
            raise Unauthenticated()  # no token at all: nothing to look up
        row = db.session.execute(TICKET_WITH_SETTINGS_FOR_TOKEN,
                                 {"number": number, "token_hash": actor.token_hash}).first()
        if row is None:
            raise Unauthenticated()
        if row[5] not in actor.roles:
            raise Forbidden()
        return row[0], row[1], row[2], Actor(row[3], row[4], actor.ip)
    row = db.session.execute(TICKET_WITH_SETTINGS, {"number": number}).first() if number is not None else None
    return (row[0], row[1], row[2], actor) if row is not None else (None, None, None, actor)


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
    """Cars inside, longest-parked first, with the fee so far: the exit's own
    pricing (the rules as committed, each car's vehicle-type rate), read once."""
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
    tariff = current_tariff()
    rows = [InsideRow(t, pricing.quote(t.entry_time, now, tariff, vehicle_type=t.vehicle_type)) for t in tickets]
    return InsidePage(rows, total, page, per_page)
