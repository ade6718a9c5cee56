"""The interface every database implementation offers, and what they share.

A :class:`Store` is what the services ask of the database beyond ordinary portable
queries: the entry's and the exit's writes (capacity, one car per plate and pay-once are
enforced by the database there), the exit's one-round-trip read, the report's time
arithmetic and the CSV export. Services call ``store()`` and never ask which database
they run on; the implementations are garage/persistence/postgresql.py (the production
database: one prepared statement per entry and per exit, autocommit) and
garage/persistence/portable.py (the ORM path: SQLite for the quick start and the tests).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..domain import permits
from ..domain.errors import AlreadyProcessed, CorrectedMeanwhile, GarageFull, PermitRefused, Unauthenticated
from ..domain.shifts import ShiftRequired
from ..domain.figures import FORMULA_STARTS
from ..domain.money import current_currency
from ..domain.invariants import Counts
from ..domain.throttle import Limit
from ..domain.tickets import STATUS_ACTIVE, STATUS_COMPLETED
from ..extensions import db
from ..identity import TOKEN_OWNER, Actor, TokenCaller, admit, token_params
from ..models import (
    AuditEvent, Garage, IdempotencyKey, Permit, PermitPlate, Shift, SignInThrottle, Ticket, User, VehicleRate,
)
from .outage import STATEMENT_TIMEOUT

DEADLOCK_DETECTED = "40P01"
TICKET_BATCH = 5000  # CSV export: rows per server-side cursor batch


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """A ticket exactly as the entry wrote it: every column the desk and the API
    show, as plain values (a :class:`garage.domain.tickets.TicketView`). No ORM
    object: the entry is the busiest path, and building an instrumented Ticket
    only to read it back costs more CPU than the rest of the response."""

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
    receipt_number: None = None
    refunded_cents: int = 0
    void_reason: None = None
    validations: int = 0
    discount_cents: int = 0
    permit_id: int | None = None              # a permit ticket: the permit it entered on
    permit_match: PermitMatch | None = None   # the permit the plate is on, if any (valid or not)
    price_rule: None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the exit's statement drew for the payment: the receipt number (the settings row's
    next receipt_seq) and the tax rate in force on that row then (basis points, 0: none)."""

    number: int
    tax_rate_bp: int
    shift_id: int | None = None  # the payer's open shift the payment was taken in (None: none open)


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What an entry writes: the checked plate, its key, the vehicle type, a fresh number."""

    number: str
    plate: str
    plate_key: str
    vehicle_type: str
    now: datetime

    def issued(self, ticket_id: int, issued_by_id: int | None, permit_id: int | None = None,
               match: PermitMatch | None = None) -> IssuedTicket:
        return IssuedTicket(ticket_id, self.number, self.plate, self.plate_key, self.vehicle_type, self.now,
                            issued_by_id, permit_id=permit_id, permit_match=match)


@dataclass(frozen=True, slots=True)
class PermitMatch:
    """The permit an entering plate is on, and the garage's local day of the entry."""

    facts: permits.PermitFacts
    today: date


def permit_match(row: Any) -> PermitMatch | None:
    """The permit facts of an entry's result row (None: the plate is on no permit)."""
    if row.permit_id is None:
        return None
    return PermitMatch(permits.PermitFacts(row.permit_id, row.holder, row.permit_status, row.valid_from,
                                           row.valid_until, row.other_inside), row.today)


def refuse_permit(match: PermitMatch | None, policy: str | None) -> None:
    """PermitRefused when the plate's permit does not admit it and the garage refuses such cars."""
    if match is not None and policy == permits.POLICY_REFUSE:
        words = permits.refusal(match.facts, match.today, policy)
        if words is not None:
            raise PermitRefused(words)


def no_space(match: PermitMatch | None, policy: str | None) -> None:
    """An entry that took no space: refused for its permit (above), or, for a plate whose permit does not
    admit it now, GarageFull saying why it counted as a visitor's; else the caller says the garage is full."""
    refuse_permit(match, policy)
    if match is not None and permits.state_on(match.facts, match.today) != permits.STATE_VALID:
        raise GarageFull(permits.full_for(match.facts, match.today))


@dataclass(frozen=True, slots=True)
class ExitInputs:
    """Everything an exit needs, read in one round trip: the ticket (None if there is
    no such ticket), the settings row, the ticket's vehicle-type rate (None: the
    default rate applies) and who asks (a TokenCaller checked and turned into an Actor)."""

    ticket: Ticket | None
    settings: Garage | None
    type_rate: int | None
    actor: Actor | None


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: the objects are exactly
    what was just written, so the caller can serialise them without a
    re-SELECT. Under autocommit it sends nothing and hands the connection back."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def lost_fee_column() -> Any:
    """A lost ticket's fee (0 when none was charged), NULL for every other
    ticket: count() of it is the number of lost tickets, sum() their fees."""
    return sa.case((Ticket.lost, sa.func.coalesce(Ticket.lost_fee_cents, 0)), else_=sa.null())


def formula_safe(column: Any) -> Any:
    """Text a spreadsheet would run as a formula (FORMULA_STARTS) gets a leading quote."""
    return sa.case((sa.func.substr(column, 1, 1).in_(FORMULA_STARTS), sa.literal("'") + column), else_=column)


def within(column: Any, start: datetime, end: datetime) -> Any:
    return sa.and_(column >= start, column < end)


# Hot statements are built once, with bind parameters: building a select costs
# more Python than running its cached compilation. Every ticket statement names its garage
# (every ticket index leads with garage_id, migration 0007).
IN_GARAGE = Ticket.garage_id == sa.bindparam("garage_id")
NUMBER_IS = Ticket.ticket_number == sa.bindparam("number")
BY_NUMBER = sa.and_(IN_GARAGE, NUMBER_IS)


def _with_fee_inputs(stmt: sa.Select, garage_id: Any) -> sa.Select:
    """Join what the fee needs to a select that has the ticket: its garage's row and the
    ticket's vehicle-type rate there, both as committed now."""
    return (stmt.outerjoin(Garage, Garage.id == garage_id)
            .outerjoin(VehicleRate, sa.and_(VehicleRate.garage_id == garage_id,
                                            VehicleRate.vehicle_type == Ticket.vehicle_type))
            .execution_options(populate_existing=True))


# The desk's lookup: the ticket of that number, else the plate's latest ticket, paid or not (an
# active one first: a car inside is the one at the barrier). ONE statement on both databases;
# PostgreSQL answers it from two indexes (uq_tickets_garage_number, ix_tickets_plate_latest).
# An absent number (None) matches nothing, an absent key ("") too.
BY_PLATE = Ticket.plate_key == sa.bindparam("key")
LATEST_BY_NUMBER_OR_PLATE = (
    # The garage inside each side of the OR: each is one index's lookup (SQLite plans an OR of
    # indexable terms as two index searches, not a scan of the garage's tickets).
    sa.select(Ticket).where(sa.or_(BY_NUMBER, sa.and_(IN_GARAGE, BY_PLATE)))
    .order_by(sa.case((NUMBER_IS, 0), else_=1), sa.case((Ticket.status == STATUS_ACTIVE, 0), else_=1),
              Ticket.entry_time.desc(), Ticket.id.desc())
    .limit(1))

# The ticket, its garage's row and the ticket's vehicle-type rate there.
TICKET_WITH_SETTINGS = _with_fee_inputs(
    sa.select(Ticket, Garage, VehicleRate.hourly_rate).select_from(Ticket), Ticket.garage_id).where(BY_NUMBER)
# The same for an API exit, with the caller: the token's owner is the base row and
# the ticket is joined to it, so a dead token gives no row at all (401, whatever the
# ticket), a live one a row with or without the ticket. One round trip fewer than
# looking the token up first (identity.actor_for). The garage is the one the token
# acts at (the one asked for, else its only garage): a ticket of another garage is not found.
_OWNER = TOKEN_OWNER.subquery("owner")
TICKET_WITH_SETTINGS_FOR_TOKEN = _with_fee_inputs(
    sa.select(Ticket, Garage, VehicleRate.hourly_rate, _OWNER.c.id, _OWNER.c.username, _OWNER.c.role)
    .select_from(_OWNER).outerjoin(Ticket, sa.and_(Ticket.garage_id == _OWNER.c.garage_id,
                                                   NUMBER_IS)),
    _OWNER.c.garage_id)

TICKET_CSV_COLUMNS = ("ticket_number", "license_plate", "vehicle_type", "status", "entry_time",
                      "exit_time", "duration_minutes", "amount_usd", "payment_method", "issued_by", "closed_by",
                      "lost", "lost_fee", "refunded_usd", "currency")


# A person's open shift at a garage (the partial unique index uq_shifts_open_per_person: at most one).
OPEN_SHIFT_OF = sa.select(Shift.id).where(Shift.garage_id == sa.bindparam("garage_id"),
                                          Shift.opened_by_id == sa.bindparam("user_id"), Shift.closed_at.is_(None))
# The same taken FOR SHARE on PostgreSQL (a no-op on SQLite, whose first write already holds the
# database's write lock), by a use case that takes money in that shift after its first write (a refund,
# services/amendments.py; a permit's sale, services/permits.py): a close of that shift (an UPDATE of its
# row, services/shifts.py) waits for the commit and then counts it; money taken after the close finds
# the shift closed.
OPEN_SHIFT_SHARED = OPEN_SHIFT_OF.with_for_update(read=True)

# The garage's timezone and permit policy, with the permit a plate is on there (NULLs: none) and the
# plate of that permit's car inside (if any): the portable entry's one read (PostgreSQL's ISSUE does
# the same in its own statement).
_INSIDE = aliased(Ticket)
_ON_PERMIT = (sa.select(PermitPlate.garage_id, Permit).join(Permit, Permit.id == PermitPlate.permit_id)
              .where(PermitPlate.plate_key == sa.bindparam("key")).subquery())
PERMIT_OF_PLATE = (
    sa.select(Garage.timezone, Garage.permit_policy, _ON_PERMIT.c.id, _ON_PERMIT.c.holder, _ON_PERMIT.c.status,
              _ON_PERMIT.c.valid_from, _ON_PERMIT.c.valid_until,
              sa.select(_INSIDE.license_plate).where(_INSIDE.permit_id == _ON_PERMIT.c.id,
                                                     _INSIDE.status == STATUS_ACTIVE)
              .scalar_subquery().label("other_inside"))
    .outerjoin(_ON_PERMIT, _ON_PERMIT.c.garage_id == Garage.id)
    .where(Garage.id == sa.bindparam("garage_id")))

THROTTLE = SignInThrottle.__table__

# Idempotency keys (garage/services/idempotency.py). A key's row is the caller's (the token's owner) at the
# garage the token acts at; a row older than `fresh_after` is dead (expired): never an answer.
KEYS = IdempotencyKey.__table__
KEY_OWNER = TOKEN_OWNER.subquery("owner")
_KEY_IS = sa.and_(KEYS.c.garage_id == sa.bindparam("garage_id"), KEYS.c.user_id == sa.bindparam("user_id"),
                  KEYS.c.key == sa.bindparam("key"))
KEPT_ANSWER = sa.select(KEYS.c.request_hash, KEYS.c.status, KEYS.c.body).where(
    _KEY_IS, KEYS.c.created_at >= sa.bindparam("fresh_after"))


def claim_statement(lock: Any) -> sa.Select:
    """A keyed request's first statement: the token's owner (TOKEN_OWNER: id, username, role, garage_id),
    the answer kept for the key there if any (request_hash NULL: none), and `lock` as `free`: whether this
    transaction now holds the key (False: a request with it is in flight). `lock` is the dialect's
    (PostgreSQL: a transaction-level advisory lock, postgresql.py; elsewhere: true, the database
    serialises writers)."""
    return (sa.select(KEY_OWNER.c.id, KEY_OWNER.c.username, KEY_OWNER.c.role, KEY_OWNER.c.garage_id,
                      KEYS.c.request_hash, KEYS.c.status, KEYS.c.body, lock.label("free"))
            .select_from(KEY_OWNER)
            .outerjoin(KEYS, sa.and_(KEYS.c.garage_id == KEY_OWNER.c.garage_id, KEYS.c.user_id == KEY_OWNER.c.id,
                                     KEYS.c.key == sa.bindparam("key"),
                                     KEYS.c.created_at >= sa.bindparam("fresh_after"))))


# The invariants a restore must keep (garage/domain/invariants.py), per garage; portable SQL.
CARS_INSIDE = sa.select(sa.func.count(Ticket.id)).where(IN_GARAGE, Ticket.status == STATUS_ACTIVE)
PERMIT_CARS_INSIDE = CARS_INSIDE.where(Ticket.permit_id.is_not(None))
PAID_WITHOUT_AUDIT = sa.select(Ticket.ticket_number).where(
    IN_GARAGE, Ticket.status == STATUS_COMPLETED,
    ~sa.exists().where(AuditEvent.garage_id == Ticket.garage_id, AuditEvent.action == "ticket.paid",
                       AuditEvent.object_type == "ticket", AuditEvent.object_id == Ticket.ticket_number))
SETTINGS_COUNTER = (sa.select(Garage.total_spaces, Garage.occupied, Garage.occupied_permit)
                    .where(Garage.id == sa.bindparam("garage_id")))
EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class CounterRepair:
    """The occupancy counter before and after a repair; `done` False: the cars inside are
    more than the total spaces (the counter could not hold them: nothing changed)."""

    before: int
    after: int
    inside: int
    total_spaces: int
    done: bool
    permit_before: int = 0  # the permit holders' counter (issue 19), repaired with it
    permit_after: int = 0


def _wait(failures: Any, limit: Limit) -> Any:
    """The limit's wait after `failures` (a SQL expression), as a SQL CASE of its steps."""
    return sa.case((failures < limit.free, 0), *[(failures == n, wait) for n, wait in limit.schedule()],
                   else_=limit.max_wait)


class Store:
    """One implementation per database, chosen once by the app factory (persistence.install)."""

    name = "base"
    insert: Any = None  # the dialect's INSERT with ON CONFLICT (both supported databases have one)

    def read(self, stmt: sa.Select, params: dict[str, Any]) -> sa.Result:
        """Run one of the hot reads built once in this module (the exit's, the desk's look-up). Here
        as it is; PostgreSQL's store runs them as prepared statements (their planning costs more
        than their execution there)."""
        return db.session.execute(stmt, params)

    # --- the sign-in throttle (garage/domain/throttle.py) --------------------------------

    def count_attempt(self, key: str, limit: Limit, now: int) -> int:
        """Count an attempt for `key` as a failure in advance, if it may be checked now:
        0 when admitted, else the seconds to wait (nothing counted). ONE conditional
        upsert decides and counts: concurrent attempts queue on the row's lock and each
        sees the count the previous one left, so exactly `limit.free` pass before the
        first wait, across workers. A success gives the count back (forgive / clear)."""
        restart = THROTTLE.c.started_at <= now - limit.window  # the series is over: start again
        failures = sa.case((restart, 1), else_=THROTTLE.c.failures + 1)
        stmt = (self.insert(THROTTLE)
                .values(key=key, failures=1, started_at=now, next_at=now + limit.wait_after(1))
                .on_conflict_do_update(
                    index_elements=[THROTTLE.c.key],
                    set_={"failures": failures, "started_at": sa.case((restart, now), else_=THROTTLE.c.started_at),
                          "next_at": now + _wait(failures, limit)},
                    where=THROTTLE.c.next_at <= now)
                .returning(THROTTLE.c.failures))
        if db.session.execute(stmt).first() is not None:
            return 0
        next_at = db.session.scalar(sa.select(THROTTLE.c.next_at).where(THROTTLE.c.key == key))
        return max(1, (next_at or now) - now)

    def forgive_attempt(self, key: str, limit: Limit, now: int) -> None:
        """Give back one attempt counted in advance (it succeeded, or was not checked)."""
        remaining = THROTTLE.c.failures - 1
        db.session.execute(sa.update(THROTTLE).where(THROTTLE.c.key == key, THROTTLE.c.failures > 0)
                           .values(failures=remaining,
                                   next_at=sa.case((remaining < limit.free, now), else_=THROTTLE.c.next_at)))

    def clear_attempts(self, key: str) -> None:
        db.session.execute(sa.delete(THROTTLE).where(THROTTLE.c.key == key))

    def prune_attempts(self, now: int, older_than: int) -> None:
        """Forget series that started `older_than` seconds ago and wait for nothing."""
        db.session.execute(sa.delete(THROTTLE).where(THROTTLE.c.started_at < now - older_than,
                                                     THROTTLE.c.next_at <= now))

    # --- idempotency keys (garage/services/idempotency.py) ----------------------------------

    KEY_CLAIM = claim_statement(sa.true())  # SQLite writes one transaction at a time: a duplicate waits, then replays

    def claim_key(self, token_hash: str, garage_id: int | None, garage_slug: str | None, key: str,
                  fresh_after: datetime) -> sa.Row | None:
        """ONE statement: the token's owner at the garage asked for, the answer kept for `key` there, and
        (PostgreSQL) the key held by this transaction until it ends (`free`). None: no live token."""
        params = {**token_params(token_hash, garage_id, garage_slug), "key": key, "fresh_after": fresh_after}
        return db.session.execute(self.KEY_CLAIM, params).first()

    def keep_answer(self, garage_id: int, user_id: int, key: str, request_hash: str, status: int, body: str,
                    now: datetime, fresh_after: datetime) -> bool:
        """Keep the answer for the key, in the caller's transaction; a dead row of the key is replaced.
        False (nothing written): another request's answer for the key is kept already (a race the claim's
        snapshot did not see, or a refusal kept after its rollback)."""
        columns = dict(request_hash=request_hash, status=status, body=body, created_at=now)
        stmt = (self.insert(KEYS).values(garage_id=garage_id, user_id=user_id, key=key, **columns)
                .on_conflict_do_update(index_elements=[KEYS.c.garage_id, KEYS.c.user_id, KEYS.c.key], set_=columns,
                                       where=KEYS.c.created_at < fresh_after)
                .returning(KEYS.c.status))
        return db.session.execute(stmt).first() is not None

    def kept_answer(self, garage_id: int, user_id: int, key: str, fresh_after: datetime) -> sa.Row | None:
        """(request_hash, status, body) kept for the key, if any and not expired."""
        return db.session.execute(KEPT_ANSWER, {"garage_id": garage_id, "user_id": user_id, "key": key,
                                                "fresh_after": fresh_after}).first()

    def purge_keys(self, before: datetime) -> int:
        """Delete the keys kept before `before` (ix_idempotency_keys_created_at); how many."""
        return db.session.execute(sa.delete(KEYS).where(KEYS.c.created_at < before)).rowcount

    # --- kept report pages (persistence/kept_reports.py) -----------------------------------

    def kept_report_lock(self, garage_id: int, digest: str) -> Any:
        """An SQL expression, true when this transaction may draw the report kept under (garage, digest),
        holding that turn until it ends; None: nobody waits for another's drawing (SQLite: one process)."""
        return None

    # --- transactions and health ---------------------------------------------------------

    def autocommit(self) -> None:
        """From now until the session releases its connection, every statement is its own
        transaction, where the database makes that cheaper (see the PostgreSQL store)."""

    def transaction(self) -> None:
        """From here on, this request's statements are one transaction again (a use case of several
        writes inside a request that began in autocommit, see the PostgreSQL store); a no-op elsewhere."""

    def ping(self) -> None:
        """Raises sqlalchemy's error (the session rolled back) if the database does not answer."""
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            raise

    @staticmethod
    def is_deadlock(exc: sa.exc.DBAPIError) -> bool:
        """A statement the database aborted to break a deadlock (PostgreSQL 40P01): nothing of its
        transaction was written, and the same use case may simply run again."""
        return getattr(exc.orig, "pgcode", None) == DEADLOCK_DETECTED

    @staticmethod
    def is_statement_timeout(exc: sa.exc.OperationalError) -> bool:
        """A query cut off by the database's statement timeout (STATEMENT_TIMEOUT_MS)."""
        return getattr(exc.orig, "pgcode", None) == STATEMENT_TIMEOUT or "statement timeout" in str(exc.orig)

    # --- invariants (flask --app garage verify) ----------------------------------------------

    def invariant_counts(self, garage_id: int) -> Counts:
        """The figures the invariants are checked on for one garage, read in the caller's transaction."""
        at = {"garage_id": garage_id}
        settings = db.session.execute(SETTINGS_COUNTER, at).first()
        missing = PAID_WITHOUT_AUDIT.subquery()
        paid_without_audit = db.session.scalar(sa.select(sa.func.count()).select_from(missing), at) or 0
        examples = (db.session.scalars(PAID_WITHOUT_AUDIT.order_by(Ticket.id).limit(EXAMPLES), at).all()
                    if paid_without_audit else ())
        return Counts(total_spaces=None if settings is None else settings.total_spaces,
                      occupied=0 if settings is None else settings.occupied,
                      inside=db.session.scalar(CARS_INSIDE, at) or 0,
                      paid_without_audit=paid_without_audit, examples=tuple(examples),
                      permit_occupied=0 if settings is None else settings.occupied_permit,
                      permit_inside=db.session.scalar(PERMIT_CARS_INSIDE, at) or 0)

    def repair_counter(self, garage_id: int) -> CounterRepair | None:
        """Set the occupancy counter to the cars inside, in the caller's transaction (None: no
        settings row). The settings row is locked first, so entries and exits wait for the
        commit (both touch it), and the count, a later statement, sees every one committed
        before the lock; an exit whose ticket update was not committed yet is counted as
        inside and takes its one off the repaired value when it commits. SQLite: the UPDATE
        with its count is one atomic write."""
        at = {"garage_id": garage_id}
        before = db.session.execute(SETTINGS_COUNTER.with_for_update(), at).first()
        if before is None:
            return None
        inside = CARS_INSIDE.scalar_subquery()
        done = db.session.execute(
            sa.update(Garage).where(Garage.id == garage_id, inside <= Garage.total_spaces)
            .values(occupied=inside, occupied_permit=PERMIT_CARS_INSIDE.scalar_subquery())
            .execution_options(synchronize_session=False), at).rowcount == 1
        after = db.session.execute(SETTINGS_COUNTER, at).one()
        return CounterRepair(before.occupied, after.occupied, db.session.scalar(CARS_INSIDE, at) or 0,
                             after.total_spaces, done, before.occupied_permit, after.occupied_permit)

    # --- entry and exit ------------------------------------------------------------------

    def issue(self, garage_id: int | None, new: NewTicket, caller: Actor | TokenCaller,
              details: dict[str, Any]) -> IssuedTicket | None:
        """Write the ticket and its audit row and take a space at that garage (its counter row
        only), in the caller's transaction. None when the garage is full (nothing written).
        `garage_id` None: a TokenCaller's own garage (TokenCaller.garage_id, else its only one).
        A TokenCaller is checked here: Unauthenticated / Forbidden, nothing written. A second active ticket for the plate or
        a taken number raise sqlalchemy's IntegrityError (the caller rolls back)."""
        raise NotImplementedError

    def close(self, ticket: Ticket, values: dict[str, Any], details: dict[str, Any],
              actor: Actor | None, require_shift: bool = False,
              given: Sequence[tuple[int, int]] = ()) -> Receipt:
        """Write the exit's `values` on a still-active ticket, its audit row, free its
        space and draw its receipt number (its garage's receipt_seq + 1, with the
        tax rate of that row, both stored on the ticket and returned). AlreadyProcessed
        (nothing written, no number drawn) when the ticket is no longer active: a second,
        concurrent payment of the same ticket matches no row. Needs the settings row.
        The payer's open shift at the garage, if any, is recorded on the ticket and in the audit
        row ("shiftId"), only while it is still open; `require_shift` (the garage's
        payments_require_shift) and none open: ShiftRequired, nothing written, no number drawn.
        The ticket must still be of the vehicle type and have the validations it was read with (its
        fee's): a correction or a validation since gives CorrectedMeanwhile, nothing written.
        `given`: (ticket_validations id, cents) of what each validation took off, written with it."""
        raise NotImplementedError

    def open_shift_id(self, garage_id: int, user_id: int | None) -> int | None:
        """The person's open shift at the garage (None: none, or no person)."""
        if user_id is None:
            return None
        return db.session.scalar(OPEN_SHIFT_OF, {"garage_id": garage_id, "user_id": user_id})

    def refused_close(self, ticket: Ticket, actor: Actor, require_shift: bool) -> Exception:
        """Why an exit's write matched nothing (read after the refusal: a rare path): the ticket was
        paid or voided meanwhile; its vehicle type was corrected since the exit read it (its fee is
        not the one computed); else the payer has no open shift where one is required."""
        now = db.session.execute(sa.select(Ticket.status, Ticket.vehicle_type, Ticket.validations)
                                 .where(Ticket.id == ticket.id)).first()
        if now is None or now.status != STATUS_ACTIVE:
            return AlreadyProcessed()
        if now.vehicle_type != ticket.vehicle_type or now.validations != ticket.validations:
            return CorrectedMeanwhile()
        if require_shift and self.open_shift_id(ticket.garage_id, actor.user_id) is None:
            return ShiftRequired()
        return AlreadyProcessed()

    def exit_inputs(self, garage_id: int | None, number: str | None,
                    caller: Actor | TokenCaller | None) -> ExitInputs:
        """The ticket of that garage, the garage's row and the vehicle-type rate in one round
        trip; a TokenCaller is checked by the same SELECT (Unauthenticated / Forbidden), at
        `garage_id` (None: its own garage, see issue)."""
        if isinstance(caller, TokenCaller):
            if caller.token_hash is None:
                admit(None, caller)  # no token at all: nothing to look up
            asked = garage_id if garage_id is not None else caller.garage_id
            caller = replace(caller, garage_id=asked)  # admit: the garage asked for (404 there, not 400)
            params = token_params(caller.token_hash, asked, caller.garage_slug)
            row = self.read(TICKET_WITH_SETTINGS_FOR_TOKEN, {"number": number, **params}).first()
            admit(row[5] if row is not None else None, caller)
            return ExitInputs(row[0], row[1], row[2], Actor(row[3], row[4], caller.ip))
        row = (self.read(TICKET_WITH_SETTINGS, {"number": number, "garage_id": garage_id}).first()
               if number is not None else None)
        if row is None:
            return ExitInputs(None, None, None, caller)
        return ExitInputs(row[0], row[1], row[2], caller)

    def latest_ticket(self, garage_id: int, number: str | None, key: str) -> Ticket | None:
        """The garage's ticket numbered `number`, else its latest ticket of the plate `key` (active first)."""
        return self.read(LATEST_BY_NUMBER_OR_PLATE, {"garage_id": garage_id, "number": number, "key": key}).scalar()

    # --- reports -------------------------------------------------------------------------

    def hour_key(self, column: Any, tzname: str) -> Any:
        """A grouping key per local hour of `column` (see key_instant)."""
        raise NotImplementedError

    def key_instant(self, key: Any) -> datetime:
        """The UTC instant a grouped hour_key stands for."""
        raise NotImplementedError

    def epoch(self, column: Any) -> Any:
        """Seconds since 1970 of a timestamp column, as a float."""
        raise NotImplementedError

    def day_key(self, column: Any, tz_column: Any) -> Any:
        """A grouping key per local day of `column` in the timezone named by `tz_column` (a
        column: each garage's own), for figures across garages (see key_day)."""
        raise NotImplementedError

    def key_day(self, key: Any, tzname: str) -> date:
        """The local date (in `tzname`, the row's garage's timezone) a grouped day_key stands for."""
        raise NotImplementedError

    def sort_in_memory(self) -> None:
        """Before a query that sorts a month of events: let it sort in memory, for this transaction."""

    def ticket_csv_chunks(self, garage_id: int, start: datetime, end: datetime, tzname: str) -> Iterator[str]:
        """CSV text (no header; TICKET_CSV_COLUMNS) of the garage's tickets that entered or
        left in [start, end), oldest entry first: one chunk per batch of a
        server-side cursor, never the whole result in memory. Times are ISO 8601
        in the garage's timezone to the second, money "12.50" (a dot decimal with the currency's own
        decimals: "1250" for JPY; the last column names the currency), text a spreadsheet
        would run as a formula starts with a quote; `lost` is true or false and
        `lost_fee` is the lost-ticket fee charged (empty unless lost); `refunded_usd` what was
        given back of the payment (0.00 when nothing; empty for a ticket not paid). A voided
        ticket's status is `voided` and its exit_time when it was voided.

        Two range queries rather than one OR (which PostgreSQL, planning a cursor
        for fast first rows, answers by walking the whole entry_time index): first
        the few cars that entered before the period and left in it, then every
        entry of the period straight off the entry_time index."""
        issuer, closer = aliased(User), aliased(User)
        currency = current_currency()  # the garage's (the request's money context)
        base = (
            sa.select(*self._csv_columns(issuer, closer, tzname, currency)).select_from(Ticket)
            .outerjoin(issuer, issuer.id == Ticket.issued_by_id)
            .outerjoin(closer, closer.id == Ticket.closed_by_id)
            .where(Ticket.garage_id == garage_id)
            .order_by(Ticket.entry_time, Ticket.id)
            .execution_options(stream_results=True, yield_per=TICKET_BATCH)
        )
        for where in ((within(Ticket.exit_time, start, end), Ticket.entry_time < start),
                      (within(Ticket.entry_time, start, end),)):
            # Core execution on the session's connection: no ORM row loading, same transaction.
            for batch in db.session.connection().execute(base.where(*where)).partitions():
                yield self._csv_chunk(batch, tzname, currency)

    def _csv_columns(self, issuer: Any, closer: Any, tzname: str, currency: str) -> list[Any]:
        raise NotImplementedError

    def _csv_chunk(self, batch: Sequence[sa.Row], tzname: str, currency: str) -> str:
        raise NotImplementedError

