"""The portable implementation: the ORM on any SQLAlchemy database (SQLite for the
quick start and the tests). Same rules as PostgreSQL, enforced by the same database
constraints: the plate's partial unique index, the conditional counter UPDATE, the
still-active guard on the exit."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..domain import permits
from ..domain.clock import to_local
from ..domain.figures import csv_text
from ..domain.money import minor_to_decimal
from ..domain.tickets import STATUS_ACTIVE
from ..extensions import db
from ..identity import Actor, TokenCaller, admitted
from ..models import AuditEvent, Garage, Ticket, TicketValidation
from .base import (
    OPEN_SHIFT_OF, PERMIT_OF_PLATE, IssuedTicket, NewTicket, PermitMatch, Receipt, Store, formula_safe, no_space,
    refuse_permit,
)

QUARTER = 900  # seconds


def _audit(garage_id: int, actor: Actor | None, action: str, ticket_number: str, details: dict[str, Any]) -> None:
    actor = actor or Actor.system()
    db.session.add(AuditEvent(garage_id=garage_id, user_id=actor.user_id, username=actor.username, ip=actor.ip,
                              action=action, object_type="ticket", object_id=ticket_number, details=details))


def _local_iso(moment: datetime | None, tzname: str) -> str | None:
    return to_local(moment, tzname).isoformat(timespec="seconds") if moment else None


def _lost_cells(lost: Any, fee_cents: Any, currency: str) -> tuple[str, str]:
    """The `lost` and `lost_fee` cells: the fee only for a lost ticket, 0.00 when none was charged."""
    return ("true", minor_to_decimal(fee_cents or 0, currency)) if lost else ("false", "")


class PortableStore(Store):
    name = "portable"
    insert = staticmethod(sqlite_insert)  # the portable path runs on SQLite (ON CONFLICT as PostgreSQL's)

    def issue(self, garage_id: int | None, new: NewTicket, caller: Actor | TokenCaller,
              details: dict[str, Any]) -> IssuedTicket | None:
        """INSERT the ticket and its audit row, then take a space at that garage (conditional
        UPDATE of its counter, atomic under concurrency): its row lock is taken
        last, so it is held only until the commit."""
        if isinstance(caller, TokenCaller):
            actor, garage_id = admitted(caller if garage_id is None else replace(caller, garage_id=garage_id))
        else:
            actor = caller
        match, policy = self._permit_match(garage_id, new.plate_key, new.now)
        passes = match is not None and permits.state_on(match.facts, match.today) == permits.STATE_VALID
        if not passes:
            refuse_permit(match, policy)  # before anything is written
        ticket = Ticket(garage_id=garage_id, ticket_number=new.number, license_plate=new.plate, plate_key=new.plate_key,
                        vehicle_type=new.vehicle_type, entry_time=new.now, exit_time=None, duration_minutes=None,
                        amount_paid=None, status=STATUS_ACTIVE, payment_method=None, lost=False,
                        lost_fee_cents=None, last_event_at=new.now, issued_by_id=actor.user_id, closed_by_id=None,
                        created_at=new.now, updated_at=new.now, permit_id=match.facts.id if passes else None)
        db.session.add(ticket)
        _audit(garage_id, actor, "ticket.issued", new.number,
               {**details, "permitId": match.facts.id} if passes else details)
        db.session.flush()
        # A permit car: any free space; anyone else: only while the visitors inside are fewer than the
        # spaces not reserved for permit holders (garage/domain/permits.py).
        room = (sa.true() if passes else
                Garage.occupied - Garage.occupied_permit < Garage.total_spaces - Garage.reserved_spaces)
        taken = db.session.execute(
            sa.update(Garage)
            .where(Garage.id == garage_id, Garage.occupied < Garage.total_spaces, room)
            .values(occupied=Garage.occupied + 1, occupied_permit=Garage.occupied_permit + (1 if passes else 0),
                    report_revision=Garage.report_revision + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            no_space(match, policy)
            return None
        return new.issued(ticket.id, actor.user_id, ticket.permit_id, match)

    @staticmethod
    def _permit_match(garage_id: int, key: str, now: datetime) -> tuple[PermitMatch | None, str | None]:
        """The permit the plate is on at the garage (with its car inside, if any) and the garage's policy."""
        row = db.session.execute(PERMIT_OF_PLATE, {"garage_id": garage_id, "key": key}).first()
        if row is None or row.id is None:
            return None, row.permit_policy if row is not None else None
        facts = permits.PermitFacts(row.id, row.holder, row.status, row.valid_from, row.valid_until, row.other_inside)
        return PermitMatch(facts, to_local(now, row.timezone).date()), row.permit_policy

    def close(self, ticket: Ticket, values: dict[str, Any], details: dict[str, Any],
              actor: Actor | None, require_shift: bool = False,
              given: Sequence[tuple[int, int]] = ()) -> Receipt:
        """Free the space and draw the receipt number (one UPDATE of the settings row,
        RETURNING the number and the tax rate), then close the still-active ticket with
        them: a second, concurrent payment of the same ticket matches no row, and the
        service's rollback then takes the number back (no gap). SQLite writes one
        transaction at a time, so drawing first holds no lock anyone else could wait for.
        The payer's open shift is read after that first write, under the database's write
        lock: a shift's close (a write) cannot come between it and the commit."""
        # Only while the ticket is still active: a ticket paid meanwhile at another booth frees no
        # space a second time (the last car inside: the counter would go below zero).
        # And only of the vehicle type its fee was computed for (a correction since: nothing matches).
        still_active = sa.exists().where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE,
                                         Ticket.vehicle_type == ticket.vehicle_type,
                                         Ticket.validations == ticket.validations)
        drawn = db.session.execute(
            sa.update(Garage).where(Garage.id == ticket.garage_id, still_active)
            .values(occupied=Garage.occupied - 1, receipt_seq=Garage.receipt_seq + 1,
                    report_revision=Garage.report_revision + 1,
                    occupied_permit=Garage.occupied_permit - (0 if ticket.permit_id is None else 1))
            .returning(Garage.receipt_seq, Garage.tax_rate_bp)
            .execution_options(synchronize_session=False)
        ).first()
        if drawn is None:
            raise self.refused_close(ticket, actor or Actor.system(), False)
        payer = actor or Actor.system()
        # The payer's open shift, in the ticket's UPDATE (no statement more): read under the
        # database's write lock, which the draw above took, so a shift's close (a write) cannot
        # come between it and the commit. Required and none open: no row matches.
        shift = OPEN_SHIFT_OF.params(garage_id=ticket.garage_id, user_id=payer.user_id).scalar_subquery()
        in_shift = sa.exists(shift) if require_shift else sa.true()
        # The guard (still active) makes a second, concurrent payment match no row.
        closed = db.session.execute(
            sa.update(Ticket).where(Ticket.id == ticket.id, Ticket.status == STATUS_ACTIVE,
                                    Ticket.vehicle_type == ticket.vehicle_type,
                                    Ticket.validations == ticket.validations, in_shift)
            .values(**{"tax_rate_bp": drawn.tax_rate_bp, **values}, receipt_number=drawn.receipt_seq, shift_id=shift)
            .returning(Ticket.shift_id)
            .execution_options(synchronize_session=False)
        ).first()
        if closed is None:
            raise self.refused_close(ticket, payer, require_shift)  # the service rolls the draw back
        for row_id, cents in given:  # what each validation took off (a few rows at most)
            db.session.execute(sa.update(TicketValidation).where(TicketValidation.id == row_id)
                               .values(discount_cents=cents).execution_options(synchronize_session=False))
        receipt = Receipt(drawn.receipt_seq, values.get("tax_rate_bp", drawn.tax_rate_bp), closed.shift_id)
        shifted = {} if receipt.shift_id is None else {"shiftId": receipt.shift_id}
        _audit(ticket.garage_id, actor, "ticket.paid", ticket.ticket_number,
               {**details, "receiptNumber": receipt.number, **shifted})
        db.session.flush()
        return receipt

    # SQLite has no timezones: group by UTC quarter-hour, and the report folds the quarters
    # into local hours (every real-world UTC offset is a multiple of 15 minutes). The stored text is cut to
    # whole seconds first: strftime('%s') rounds its fractional seconds to the millisecond, which put a
    # moment in the last half millisecond before a quarter (a local midnight) in the next one.
    def hour_key(self, column: Any, tzname: str) -> Any:
        return sa.cast(sa.func.strftime("%s", sa.func.substr(column, 1, 19)), sa.Integer) // QUARTER

    def key_instant(self, key: Any) -> datetime:
        return datetime.fromtimestamp(int(key) * QUARTER, timezone.utc)

    def epoch(self, column: Any) -> Any:
        return (sa.func.julianday(column) - 2440587.5) * 86400.0

    # Across garages, the same UTC quarter-hours, each folded into its garage's local day.
    def day_key(self, column: Any, tz_column: Any) -> Any:
        return self.hour_key(column, "UTC")

    def key_day(self, key: Any, tzname: str) -> date:
        return to_local(self.key_instant(key), tzname).date()

    # The CSV export: rows are formatted here.
    def _csv_columns(self, issuer: Any, closer: Any, tzname: str, currency: str) -> list[Any]:
        return [Ticket.ticket_number, formula_safe(Ticket.license_plate), Ticket.vehicle_type, Ticket.status,
                Ticket.entry_time, Ticket.exit_time, Ticket.duration_minutes, Ticket.amount_paid, Ticket.payment_method,
                formula_safe(issuer.username), formula_safe(closer.username), Ticket.lost, Ticket.lost_fee_cents,
                Ticket.refunded_cents]

    def _csv_chunk(self, batch: Sequence[sa.Row], tzname: str, currency: str) -> str:
        return csv_text((number, plate, vehicle, status, _local_iso(entry, tzname), _local_iso(exit_, tzname),
                         minutes, minor_to_decimal(cents, currency), method, issued, closed,
                         *_lost_cells(lost, fee, currency),
                         minor_to_decimal(refunded, currency) if cents is not None else "", currency)
                        for (number, plate, vehicle, status, entry, exit_, minutes, cents, method, issued, closed,
                             lost, fee, refunded) in batch)
