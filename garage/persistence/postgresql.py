"""PostgreSQL, the production database: the entry and the exit as ONE prepared statement
each (one round trip, atomic on its own, so also right under autocommit), autocommit for
requests whose writes are one statement, and the reports' time arithmetic in SQL."""
from __future__ import annotations

import json
from decimal import Decimal
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.money import exponent
from ..domain.tickets import STATUS_ACTIVE
from ..extensions import db
from ..identity import Actor, TokenCaller, admit
from ..models import ACTIVE, Ticket
from .base import (
    KEY_OWNER, LATEST_BY_NUMBER_OR_PLATE, TICKET_WITH_SETTINGS, TICKET_WITH_SETTINGS_FOR_TOKEN, IssuedTicket,
    NewTicket, Receipt, Store, claim_statement, formula_safe, lost_fee_column, no_space, permit_match,
)
from .prepared import Prepared, PreparedSelect

AUTOCOMMIT_FLAG = "garage_autocommit"

# The entry. `actor`: for an API call, the owner of the token (checked here rather
# than in a statement of its own: the rule is identity.TOKEN_OWNER's, garage included: the
# token must be scoped to the garage and its owner hold a grant there, or be an admin. The garage:
# the one asked for by id, else by the slug of the request's URL (resolved here: a garage's path
# costs no statement more than the seed's), else the only garage of the token's scope where its
# owner may act); for a signed-in user, the user the caller passes, at the garage the caller passes.
# The counter's conditional UPDATE runs only for an admitted actor and before
# the inserts, which use its RETURNING row: when the caller is refused or the
# garage is full nothing is written. It updates that garage's row only, so one
# garage's entries never wait on another's. A concurrent entry at the same garage
# waits for the counter's row lock and re-checks "occupied < total_spaces" on the
# new value (READ COMMITTED re-evaluation), so capacity holds across workers. The
# plate rule is the partial unique index (per garage): a violation aborts the whole statement.
# The one result row says who the caller was (caller_role) and, if a ticket was
# issued, its id and issuer: the rest of the row is what the caller sent.
# Permits and reserved spaces (issue 19, garage/domain/permits.py): `permit` is the permit the plate is
# on at that garage (if any) with the garage's local day and the plate of its car inside (anti-passback),
# `pass` that permit when it admits this car as a permit holder today. A permit car takes a space while
# the garage is not full (and counts in occupied_permit); any other car only while the visitors inside
# are fewer than the spaces not reserved; a plate whose permit does not admit it takes none where the
# garage refuses such cars (permit_policy). Two cars of one permit at once: the partial unique index
# uq_tickets_permit_inside aborts the second statement and the service runs it again (a visitor then).
# The result row carries the permit's facts, for the attendant's words (base.permit_match).
# The car inside on the permit is found with the partial indexes' own predicate (models.ACTIVE,
# "status = 'active'") written into the statement, not `status = :status`: a prepared statement's
# generic plan may use a partial index (uq_tickets_permit_inside) only when its predicate is proven from
# the query's own text. With a parameter the generic plan was a scan of every ticket, so PostgreSQL
# planned the whole statement afresh on every entry once a garage had a history (from ~1M tickets:
# custom plans only, the entry's server time doubled; tests/db/test_prepared.py).
ISSUE = Prepared("garage_issue_ticket", """
WITH actor AS (
    SELECT users.id, users.username,
           CASE WHEN scope.garage_id IS NULL THEN '' WHEN users.role = 'admin' THEN 'manager'
                ELSE COALESCE(grants.role, '') END AS role,
           scope.garage_id
    FROM api_tokens JOIN users ON users.id = api_tokens.user_id
    LEFT JOIN api_token_garages AS scope ON scope.token_id = api_tokens.id AND scope.garage_id = COALESCE(
        :garage_id, CASE WHEN :garage_slug IS NULL
            THEN (SELECT min(sole.garage_id) FROM api_token_garages AS sole
                  WHERE sole.token_id = api_tokens.id AND (users.role = 'admin' OR EXISTS (
                      SELECT FROM garage_grants WHERE garage_grants.user_id = users.id
                                                  AND garage_grants.garage_id = sole.garage_id))
                  HAVING count(*) = 1)
            ELSE (SELECT garages.id FROM garages WHERE garages.slug = :garage_slug) END)
    LEFT JOIN garage_grants AS grants ON grants.user_id = users.id AND grants.garage_id = scope.garage_id
    WHERE api_tokens.token_hash = :token_hash AND api_tokens.revoked_at IS NULL AND users.active
    UNION ALL
    SELECT :user_id, :username, NULL, :garage_id WHERE NOT :by_token
), admitted AS (
    SELECT id, username, garage_id FROM actor WHERE NOT :by_token OR role = ANY(:roles)
), garage AS (
    SELECT id, permit_policy, CAST(timezone(garages.timezone, CAST(:now AS timestamptz)) AS date) AS today
    FROM garages WHERE id = (SELECT garage_id FROM admitted)
), permit AS (
    SELECT permits.id, permits.holder, permits.status, permits.valid_from, permits.valid_until, garage.today,
           (SELECT inside.license_plate FROM tickets AS inside
            WHERE inside.permit_id = permits.id AND inside.""" + ACTIVE.text + """) AS other_inside
    FROM garage JOIN permit_plates ON permit_plates.garage_id = garage.id AND permit_plates.plate_key = :plate_key
    JOIN permits ON permits.id = permit_plates.permit_id
), pass AS (
    SELECT id FROM permit
    WHERE status = 'active' AND valid_from <= today AND today <= valid_until AND other_inside IS NULL
), taken AS (
    UPDATE garages SET occupied = occupied + 1, occupied_permit = occupied_permit + (SELECT count(*) FROM pass),
                       updated_at = :now, report_revision = report_revision + 1
    WHERE id = (SELECT garage_id FROM admitted) AND occupied < total_spaces
      AND (EXISTS (SELECT FROM pass) OR occupied - occupied_permit < total_spaces - reserved_spaces)
      AND (permit_policy <> 'refuse' OR EXISTS (SELECT FROM pass) OR NOT EXISTS (SELECT FROM permit))
    RETURNING id
), ticket AS (
    INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time, status, lost,
                         last_event_at, issued_by_id, created_at, updated_at, permit_id)
    SELECT admitted.garage_id, :number, :plate, :plate_key, :vehicle_type, :now, :status, false, :now, admitted.id, :now,
           :now, (SELECT id FROM pass)
    FROM taken, admitted
    RETURNING id, garage_id, ticket_number, issued_by_id, permit_id
), audit AS (
    INSERT INTO audit_log (garage_id, at, user_id, username, action, object_type, object_id, ip, details)
    SELECT ticket.garage_id, :now, admitted.id, admitted.username, 'ticket.issued', 'ticket', ticket.ticket_number,
           :ip, CAST(CASE WHEN ticket.permit_id IS NULL THEN :details
                          ELSE left(:details, -1) || ', "permitId": ' || ticket.permit_id || '}' END AS json)
    FROM ticket, admitted
)
SELECT (SELECT role FROM actor) AS caller_role, (SELECT garage_id FROM actor) AS garage_id,
       ticket.id, ticket.issued_by_id, ticket.permit_id AS admitted_permit,
       permit.id AS permit_id, permit.holder, permit.status AS permit_status, permit.valid_from, permit.valid_until,
       permit.other_inside, permit.today, (SELECT permit_policy FROM garage) AS permit_policy
FROM (VALUES (1)) AS one (x) LEFT JOIN ticket ON true LEFT JOIN permit ON true
""", types=dict(token_hash="varchar", by_token="boolean", user_id="integer", username="varchar",
                roles="varchar[]", now="timestamptz", garage_id="integer", garage_slug="varchar", number="varchar",
                plate="varchar", plate_key="varchar", vehicle_type="varchar", status="varchar", ip="varchar",
                details="text"))

# The exit's writes. `locked` takes the ticket's row lock while it is still active and still of the
# vehicle type and with the validations its fee was computed for (`priced_type`, `priced_validations`: a
# correction of the type or a validation committed since the exit's read matches nothing, issue 18; what
# each validation took off is written to its row by `given`): a second,
# concurrent payment of the same ticket waits for it, re-reads the row (READ COMMITTED),
# finds it paid and matches nothing, and then neither the counter, the receipt sequence nor
# the audit is touched. Only then is the ticket's garage's row updated: the space freed and
# the next receipt number drawn (receipt_seq + 1) in the same UPDATE, so concurrent exits of
# that garage queue on its row and each gets the next number of that garage, with no gap (the
# statement is atomic: a failed exit draws none). The ticket is closed with that number
# and the tax rate and mode its price was computed with (garage/domain/tax.py: the tariff read by the
# exit; with tax added the amount depends on them, so the receipt splits it as it was charged). The audit
# row's details are the service's JSON object (never empty) with "receiptNumber" appended
# as its last key: text, so the keys keep their order (jsonb would sort them).
# The payer's shift (`shift`, issue 18): the payer's open shift at that garage, taken FOR SHARE with
# `closed_at IS NULL`, so a close of that shift (FOR UPDATE on its row first, services/shifts.py)
# waits for this payment's commit and then counts it, while a payment that comes after the close
# locked the row waits, re-checks the row once the close commits and finds it closed: the payment
# is then refused where the garage requires a shift (`locked` matches nothing: no number drawn),
# else taken in no shift. The ticket and the audit row ("shiftId") record the shift.
CLOSE = Prepared("garage_close_ticket", """
WITH shift AS (
    SELECT id FROM shifts WHERE garage_id = :garage_id AND opened_by_id = :user_id AND closed_at IS NULL
    FOR SHARE
), locked AS (
    SELECT id, permit_id FROM tickets WHERE id = :ticket_id AND status = :active AND vehicle_type = :priced_type
        AND validations = :priced_validations AND (NOT :require_shift OR EXISTS (SELECT FROM shift)) FOR UPDATE
), numbered AS (
    UPDATE garages SET occupied = occupied - 1, receipt_seq = receipt_seq + 1, updated_at = :updated_at,
           report_revision = report_revision + 1,
           occupied_permit = occupied_permit - CASE WHEN locked.permit_id IS NULL THEN 0 ELSE 1 END
    FROM locked WHERE garages.id = :garage_id
    RETURNING garages.receipt_seq, garages.tax_rate_bp
), closed AS (
    UPDATE tickets SET status = :status, exit_time = :exit_time, duration_minutes = :duration_minutes,
           amount_paid = :amount_paid, payment_method = :payment_method, last_event_at = :last_event_at,
           lost = :lost, lost_fee_cents = :lost_fee_cents, closed_by_id = :closed_by_id, updated_at = :updated_at,
           receipt_number = numbered.receipt_seq, tax_rate_bp = COALESCE(:tax_rate_bp, numbered.tax_rate_bp),
           tax_added = COALESCE(:tax_added, false),
           shift_id = (SELECT id FROM shift), discount_cents = :discount_cents, price_rule = :price_rule
    FROM numbered WHERE tickets.id = :ticket_id
    RETURNING ticket_number, receipt_number, tickets.tax_rate_bp, tickets.shift_id
), given AS (
    UPDATE ticket_validations SET discount_cents = line.cents
    FROM closed, unnest(:given_ids, :given_cents) AS line (id, cents)
    WHERE ticket_validations.id = line.id
), audit AS (
    INSERT INTO audit_log (garage_id, at, user_id, username, action, object_type, object_id, ip, details)
    SELECT :garage_id, :updated_at, :user_id, :username, 'ticket.paid', 'ticket', ticket_number, :ip,
           CAST(left(:details, -1) || ', "receiptNumber": ' || receipt_number
                || COALESCE(', "shiftId": ' || shift_id, '') || '}' AS json)
    FROM closed
)
SELECT receipt_number, tax_rate_bp, shift_id FROM closed
""", types=dict(status="varchar", exit_time="timestamptz", duration_minutes="integer", amount_paid="integer",
                payment_method="varchar", last_event_at="timestamptz", lost="boolean", lost_fee_cents="integer",
                closed_by_id="integer", updated_at="timestamptz", ticket_id="integer", active="varchar",
                garage_id="integer", user_id="integer", username="varchar", ip="varchar", details="text",
                require_shift="boolean", priced_type="varchar", priced_validations="integer",
                discount_cents="integer", given_ids="integer[]", given_cents="integer[]", price_rule="varchar",
                tax_rate_bp="integer", tax_added="boolean"))

# A keyed request (garage/services/idempotency.py) holds its key until its transaction ends: a
# transaction-level advisory lock on a 64-bit hash of (caller, garage, key), only TRIED, so a concurrent
# duplicate is told at once (409, try again) instead of holding a worker while it waits. The COMMIT that
# keeps the answer with the ticket or payment releases it, as does any rollback. (Two keys of the same
# hash would only make one wait for a retry: 1 in 2^64.)
KEY_LOCK = sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended(
    sa.func.concat(KEY_OWNER.c.id, ":", KEY_OWNER.c.garage_id, ":", sa.bindparam("key")), 0))


def details_json(details: dict[str, Any] | None) -> str | None:
    """Audit `details` as the JSON column stores it (the statements below write it in SQL)."""
    return None if details is None else json.dumps(details)


ISO_8601 = 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'


def _major(minor: Any, places: int) -> Any:
    """Minor units as a dot decimal with the currency's `places` decimals ("12.50"; "1250" for JPY) as
    text; NULL stays NULL."""
    # An integer times a numeric constant of `places` decimals has that scale ("1250 * 0.01" is 12.50):
    # exact, and a third of what dividing as a double and casting to numeric cost (the month's CSV's
    # three money columns: 154 -> 66 ms of the server's time for 74,000 tickets).
    return sa.cast(minor * sa.literal(Decimal(1).scaleb(-places), sa.Numeric), sa.Text)


def _quoted(text: Any) -> Any:
    """A CSV field in SQL: always quoted, inner quotes doubled; NULL stays NULL (concat makes it empty)."""
    return sa.literal('"') + sa.func.replace(text, '"', '""') + sa.literal('"')


# The hot reads, prepared: each is planned once per connection instead of on every call (the exit's
# first read: ~1.9 ms as text, ~0.45 ms prepared). Keyed by the statement object itself (base.py's constants).
PREPARED_READS = {id(stmt): PreparedSelect(name, stmt) for name, stmt in (
    ("garage_exit_inputs", TICKET_WITH_SETTINGS),
    ("garage_exit_inputs_for_token", TICKET_WITH_SETTINGS_FOR_TOKEN),
    ("garage_latest_ticket", LATEST_BY_NUMBER_OR_PLATE))}


class PostgresStore(Store):
    name = "postgresql"
    insert = staticmethod(pg_insert)
    KEY_CLAIM = claim_statement(KEY_LOCK)

    def read(self, stmt: sa.Select, params: dict[str, Any]) -> sa.Result:
        prepared = PREPARED_READS.get(id(stmt))
        return prepared.execute(params) if prepared is not None else db.session.execute(stmt, params)

    def kept_report_lock(self, garage_id: int, digest: str) -> Any:
        """A transaction-level advisory lock on a 64-bit hash of the report's key, only TRIED: one
        worker of all draws the report, the others read it once kept (persistence/kept_reports.py)."""
        return sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended(
            sa.func.concat("report:", garage_id, ":", digest), 0))

    def autocommit(self) -> None:
        """Every statement its own transaction until the session releases its connection:
        no BEGIN and COMMIT/ROLLBACK round trips. For requests whose reads need no common
        snapshot (in READ COMMITTED each statement has its own anyway) and whose writes are
        each ONE statement (the entry and exit). A no-op once a transaction has started.

        psycopg2's own switch is used (a client-side flag): SQLAlchemy's
        isolation_level="AUTOCOMMIT" would cost a SET statement on the way in and
        another on the way out. The pool hook below turns it off again when the
        connection goes back to the pool."""
        session = db.session()
        if session.in_transaction():
            return
        record = session.connection().connection  # checked out (pre-ping), nothing sent yet
        record.dbapi_connection.autocommit = True
        record.info[AUTOCOMMIT_FLAG] = True

    def transaction(self) -> None:
        """Undo autocommit for the rest of this checkout: psycopg2 begins a transaction at the next
        statement again (no statement is sent now; between statements in autocommit none is open)."""
        session = db.session()
        if not session.in_transaction():
            return
        record = session.connection().connection
        if record.info.pop(AUTOCOMMIT_FLAG, False):
            record.dbapi_connection.autocommit = False

    def issue(self, garage_id: int | None, new: NewTicket, caller: Actor | TokenCaller,
              details: dict[str, Any]) -> IssuedTicket | None:
        by_token = isinstance(caller, TokenCaller)
        if by_token and caller.token_hash is None:
            admit(None, caller)  # no token at all: nothing to look up, nothing to run
        if by_token and garage_id is None:
            garage_id = caller.garage_id  # None: the token's only garage (the statement finds it)
        elif by_token:
            caller = replace(caller, garage_id=garage_id)  # the garage asked for (admit: 404 there, not 400)
        row = ISSUE.execute(dict(
            token_hash=caller.token_hash if by_token else None, by_token=by_token,
            roles=list(caller.roles) if by_token else [],
            user_id=None if by_token else caller.user_id, username=None if by_token else caller.username,
            now=new.now, garage_id=garage_id, garage_slug=caller.garage_slug if by_token else None,
            number=new.number, plate=new.plate, plate_key=new.plate_key,
            vehicle_type=new.vehicle_type, status=STATUS_ACTIVE, ip=caller.ip,
            details=details_json(details))).one()
        if by_token:
            admit(row.caller_role, caller)
        match = permit_match(row)
        if row.id is None:
            no_space(match, row.permit_policy)
            return None
        return new.issued(row.id, row.issued_by_id, row.admitted_permit, match)  # no re-SELECT

    def close(self, ticket: Ticket, values: dict[str, Any], details: dict[str, Any],
              actor: Actor | None, require_shift: bool = False,
              given: Sequence[tuple[int, int]] = ()) -> Receipt:
        actor = actor or Actor.system()
        row = CLOSE.execute({
            "discount_cents": 0, "price_rule": None, "tax_rate_bp": None, "tax_added": None, **values,
            "ticket_id": ticket.id, "active": STATUS_ACTIVE, "garage_id": ticket.garage_id,
            "user_id": actor.user_id, "username": actor.username, "ip": actor.ip,
            "details": details_json(details), "require_shift": require_shift,
            "priced_type": ticket.vehicle_type, "priced_validations": ticket.validations,
            "given_ids": [row_id for row_id, _ in given], "given_cents": [cents for _, cents in given]}).first()
        if row is None:
            raise self.refused_close(ticket, actor, require_shift)
        return Receipt(row.receipt_number, row.tax_rate_bp, row.shift_id)

    # Local hours: date_trunc('hour', t, tz) returns the instant the local hour began
    # (a fall-back day keeps its two 01:00 hours apart).
    def hour_key(self, column: Any, tzname: str) -> Any:
        return sa.func.date_trunc("hour", column, tzname)

    def key_instant(self, key: Any) -> datetime:
        return key.astimezone(timezone.utc)

    # The local date in each row's garage's own timezone (timezone(zone, timestamptz) is local time).
    def day_key(self, column: Any, tz_column: Any) -> Any:
        return sa.cast(sa.func.timezone(tz_column, column), sa.Date)

    def key_day(self, key: Any, tzname: str) -> date:
        return key

    def epoch(self, column: Any) -> Any:
        # date_part is double precision; extract() is numeric, slower.
        return sa.func.date_part("epoch", column)

    def sort_in_memory(self) -> None:
        db.session.execute(sa.select(sa.func.set_config("work_mem", "32MB", True)))

    # The CSV export: PostgreSQL writes each line itself (session TimeZone set for this
    # transaction only): one text column per row is far cheaper to move and parse than eleven.
    def _csv_columns(self, issuer: Any, closer: Any, tzname: str, currency: str) -> list[Any]:
        db.session.execute(sa.select(sa.func.set_config("TimeZone", tzname, True)))
        places = exponent(currency)
        text = (Ticket.ticket_number, formula_safe(Ticket.license_plate), Ticket.vehicle_type, Ticket.status)
        who = (Ticket.payment_method, formula_safe(issuer.username), formula_safe(closer.username))
        fields = [*map(_quoted, text), sa.func.to_char(Ticket.entry_time, ISO_8601),
                  sa.func.to_char(Ticket.exit_time, ISO_8601), sa.cast(Ticket.duration_minutes, sa.Text),
                  _major(Ticket.amount_paid, places), *map(_quoted, who),
                  sa.case((Ticket.lost, "true"), else_="false"), _major(lost_fee_column(), places),
                  _major(sa.case((Ticket.amount_paid.is_not(None), Ticket.refunded_cents), else_=sa.null()), places),
                  sa.literal(currency)]
        return [sa.func.concat(*[part for f in fields for part in (f, ",")][:-1], "\r\n")]

    def _csv_chunk(self, batch: Sequence[sa.Row], tzname: str, currency: str) -> str:
        return "".join(line for (line,) in batch)


@sa.event.listens_for(sa.pool.Pool, "checkin")
def _transactions_again(dbapi_connection, record) -> None:
    if record.info.pop(AUTOCOMMIT_FLAG, False) and dbapi_connection is not None:
        dbapi_connection.autocommit = False  # client-side: nothing is sent
