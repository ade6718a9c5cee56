"""Monthly permits (issue 19): sell, change, suspend, renew and find them (managers), and what a
permit car pays. The rules are garage/domain/permits.py; the entry's side (a permit ticket, the
two pools of spaces, anti-passback) is the entry's own statement (garage/persistence: `ISSUE`,
`PortableStore.issue`).

Each use case is one audited transaction. A sale or a renewal is revenue: a `permit_payments` row
with its payment method, in the taker's open shift at the garage if they have one (a cash one is then
part of that drawer's expected cash)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..domain import permits as rules, pricing
from ..domain.clock import local_today, utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.figures import csv_text
from ..domain.money import cents_to_decimal
from ..domain.tickets import STATUS_ACTIVE, check_payment_method, clean_plate, plate_key
from ..domain.inputs import PageCount
from ..extensions import db
from ..identity import Actor
from ..models import Garage, Permit, PermitPayment, PermitPlate, Ticket
from ..persistence import OPEN_SHIFT_SHARED, commit_keeping_loaded
from . import audit

SALE, RENEWAL = "sale", "renewal"
CHANGED_MEANWHILE = "This permit was renewed or changed meanwhile: look it up again"
PER_PAGE = 25


def _garage(garage_id: int) -> Garage:
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        raise NotFound("No such garage")
    return garage


def _plates(values: Any, field: str = "plates") -> list[tuple[str, str]]:
    """(as typed, key) of each plate, distinct by key, 1 .. MAX_PLATES. A string: one plate per line or comma."""
    if isinstance(values, str):
        values = [part for line in values.splitlines() for part in line.split(",")]
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("Give the permit's plates as a list", field=field)
    cleaned: dict[str, str] = {}
    for value in values:
        if isinstance(value, str) and not value.strip():
            continue
        try:
            typed, key = clean_plate(value)
        except InvalidInput as bad:
            raise InvalidInput(bad.message, field=field) from None
        cleaned.setdefault(key, typed)
    keys = rules.check_plate_count(list(cleaned), field=field)
    return [(cleaned[key], key) for key in keys]


def _taken_plate(garage_id: int, keys: Iterable[str], permit_id: int | None = None) -> Conflict | None:
    row = db.session.execute(
        sa.select(PermitPlate.license_plate, PermitPlate.permit_id)
        .where(PermitPlate.garage_id == garage_id, PermitPlate.plate_key.in_(list(keys)),
               PermitPlate.permit_id != (permit_id or 0)).limit(1)).first()
    if row is None:
        return None
    return Conflict(f"{row.license_plate} is already on permit {rules.number_of(row.permit_id)}", field="plates")


def _shift_of(garage_id: int, actor: Actor) -> Any:
    """The seller's open shift at the garage, read FOR SHARE after this use case's first write (as a refund's,
    services/amendments.py): a close of that shift waits for the sale's commit and counts it."""
    if actor.user_id is None:
        return None
    return db.session.scalar(OPEN_SHIFT_SHARED, {"garage_id": garage_id, "user_id": actor.user_id})


def _facts(permit: Permit) -> dict[str, Any]:
    return {"holder": permit.holder, "status": permit.status, "validFrom": permit.valid_from.isoformat(),
            "validUntil": permit.valid_until.isoformat(), "plates": [p.license_plate for p in permit.plates],
            "priceCents": permit.price_cents}


def _pay(permit: Permit, kind: str, amount: int, method: str, start: date, end: date, actor: Actor,
         now: datetime) -> PermitPayment:
    payment = PermitPayment(garage_id=permit.garage_id, permit_id=permit.id, kind=kind, amount_cents=amount,
                            payment_method=method, period_from=start, period_until=end, taken_at=now,
                            taken_by_id=actor.user_id, shift_id=_shift_of(permit.garage_id, actor))
    db.session.add(payment)
    return payment


def create_permit(garage_id: int, actor: Actor, *, holder: Any, contact: Any = "", plates: Any,
                  valid_from: Any, valid_until: Any, price_cents: Any, payment_method: Any = "Cash",
                  now: datetime | None = None) -> Permit:
    """A permit sold now: its plates, its period and the sale (revenue), one audited transaction.
    InvalidInput (422) for a bad field; Conflict (409) for a plate already on another permit here."""
    holder = rules.check_holder(holder)
    contact = rules.check_contact(contact)
    start, end = rules.check_period(valid_from, valid_until)
    price = rules.check_price(price_cents)
    method = check_payment_method(payment_method)
    typed = _plates(plates)
    now = now or utcnow()
    _garage(garage_id)
    taken = _taken_plate(garage_id, [key for _, key in typed])
    if taken:
        raise taken
    try:
        permit = Permit(garage_id=garage_id, holder=holder, contact=contact, status=rules.STATUS_ACTIVE,
                        valid_from=start, valid_until=end, price_cents=price, created_at=now, updated_at=now)
        permit.plates = [PermitPlate(garage_id=garage_id, license_plate=plate, plate_key=key) for plate, key in typed]
        db.session.add(permit)
        db.session.flush()
        payment = _pay(permit, SALE, price, method, start, end, actor, now)
        db.session.flush()
        audit.record(actor, "permit.created", "permit", rules.number_of(permit.id),
                     {**_facts(permit), "paymentMethod": method, "shiftId": payment.shift_id}, garage_id=garage_id)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        raise _taken_plate(garage_id, [key for _, key in typed]) or Conflict(
            "A plate of this permit is already on another permit", field="plates") from None
    except BaseException:
        db.session.rollback()
        raise
    return permit


def get_permit(garage_id: int, permit_id: Any) -> Permit:
    """The garage's permit of that id (another garage's: not found)."""
    if isinstance(permit_id, bool) or not isinstance(permit_id, int):
        raise NotFound("Permit not found")
    permit = db.session.scalar(sa.select(Permit).where(Permit.garage_id == garage_id, Permit.id == permit_id)
                               .options(selectinload(Permit.plates)))
    if permit is None:
        raise NotFound("Permit not found")
    return permit


def update_permit(garage_id: int, permit_id: Any, actor: Actor, changes: dict[str, Any],
                  now: datetime | None = None) -> Permit:
    """Change a permit's holder, contact, plates, status (suspend / reactivate) or period (a
    correction: a renewal is `renew_permit`, which records the payment). Audited before/after."""
    permit = get_permit(garage_id, permit_id)
    allowed = {"holder", "contact", "plates", "status", "valid_from", "valid_until"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    if not changes:
        raise InvalidInput("Nothing to change", field="holder")
    before = _facts(permit)
    holder = rules.check_holder(changes["holder"]) if "holder" in changes else permit.holder
    contact = rules.check_contact(changes["contact"]) if "contact" in changes else permit.contact
    status = rules.check_status(changes["status"]) if "status" in changes else permit.status
    start, end = rules.check_period(changes.get("valid_from", permit.valid_from),
                                    changes.get("valid_until", permit.valid_until))
    typed = _plates(changes["plates"]) if "plates" in changes else None
    if typed is not None:
        taken = _taken_plate(garage_id, [key for _, key in typed], permit.id)
        if taken:
            raise taken
    now = now or utcnow()
    try:
        # Only if nobody changed or renewed it since it was read (a renewal racing a correction of the
        # period would otherwise be lost, its payment kept): 409, look it up again.
        changed = db.session.execute(
            sa.update(Permit).where(Permit.id == permit.id, Permit.updated_at == permit.updated_at)
            .values(holder=holder, contact=contact, status=status, valid_from=start, valid_until=end, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise Conflict(CHANGED_MEANWHILE, field="holder")
        db.session.refresh(permit)
        if typed is not None:
            keep = {p.plate_key: p for p in permit.plates}
            permit.plates = [keep.get(key) or PermitPlate(garage_id=garage_id, license_plate=plate, plate_key=key)
                             for plate, key in typed]
            for plate, key in typed:
                keep.get(key) and setattr(keep[key], "license_plate", plate)
        db.session.flush()
        audit.record(actor, "permit.updated", "permit", rules.number_of(permit.id),
                     {"before": before, "after": _facts(permit)}, garage_id=garage_id)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("A plate of this permit is already on another permit", field="plates") from None
    except BaseException:
        db.session.rollback()
        raise
    return permit


def renew_permit(garage_id: int, permit_id: Any, actor: Actor, *, price_cents: Any = None, months: Any = 1,
                 valid_until: Any = None, payment_method: Any = "Cash", now: datetime | None = None) -> Permit:
    """Extend a permit from the day after its end (or from today if it has ended) by `months` calendar
    months, or to `valid_until`; the renewal is paid (revenue, the shift). Price: the permit's last
    one unless given. One audited transaction; the period is moved by a conditional UPDATE on the end
    read, so two renewals at once extend it once each, never over each other."""
    permit = get_permit(garage_id, permit_id)
    method = check_payment_method(payment_method)
    price = rules.check_price(permit.price_cents if price_cents is None else price_cents)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 12:
        raise InvalidInput("Renew for 1 to 12 months", field="months")
    now = now or utcnow()
    garage = _garage(garage_id)
    today = local_today(now, garage.timezone)
    start, end = rules.next_period(permit.valid_from, permit.valid_until, today, months)
    if valid_until is not None:
        if not isinstance(valid_until, date) or valid_until < start:
            raise InvalidInput(f"The new last day must be on or after {start.isoformat()}", field="validUntil")
        end = valid_until
    rules.check_period(start, end)
    before = permit.valid_until
    # A lapsed permit (renewed after a gap) starts its validity again on the renewal's first day.
    first = start if start > before + timedelta(days=1) else permit.valid_from
    try:
        moved = db.session.execute(
            sa.update(Permit).where(Permit.id == permit.id, Permit.valid_until == before)
            .values(valid_from=first, valid_until=end, price_cents=price, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict(CHANGED_MEANWHILE, field="months")
        payment = _pay(permit, RENEWAL, price, method, start, end, actor, now)
        db.session.flush()
        audit.record(actor, "permit.renewed", "permit", rules.number_of(permit.id),
                     {"from": start.isoformat(), "until": end.isoformat(), "amountCents": price,
                      "paymentMethod": method, "shiftId": payment.shift_id}, garage_id=garage_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return get_permit(garage_id, permit.id)


@dataclass(frozen=True)
class PermitRow:
    permit: Permit
    state: str          # garage/domain/permits.py STATE_*, today (car inside not looked at)
    inside: str | None  # the plate of its car inside, if any


@dataclass(frozen=True)
class PermitPage(PageCount):
    rows: list[PermitRow]
    total: int
    page: int
    per_page: int


FILTERS = ("all", "valid", "expired", "suspended", "due")


def search_permits(garage_id: int, query: Any = None, which: str = "all", page: int = 1,
                   per_page: int = PER_PAGE, due_days: int = rules.DEFAULT_RENEW_DAYS_AHEAD,
                   now: datetime | None = None) -> PermitPage:
    """The garage's permits whose holder or contact contains the words, or with a plate containing them;
    `which`: all, valid (today), expired, suspended, due (valid, ending within `due_days`)."""
    if which not in FILTERS:
        raise InvalidInput("Show all, valid, expired, suspended or due permits", field="status")
    garage = _garage(garage_id)
    today = local_today(now or utcnow(), garage.timezone)
    conditions: list[Any] = [Permit.garage_id == garage_id]
    text = query.strip() if isinstance(query, str) else ""
    if text:
        key = plate_key(text)
        words = sa.or_(Permit.holder.icontains(text, autoescape=True),
                       Permit.contact.icontains(text, autoescape=True),
                       *([sa.exists().where(PermitPlate.permit_id == Permit.id,
                                            PermitPlate.plate_key.contains(key, autoescape=True))] if key else []))
        conditions.append(words)
    active = Permit.status == rules.STATUS_ACTIVE
    if which == "valid":
        conditions += [active, Permit.valid_from <= today, Permit.valid_until >= today]
    elif which == "expired":
        conditions += [active, Permit.valid_until < today]
    elif which == "suspended":
        conditions.append(Permit.status == rules.STATUS_SUSPENDED)
    elif which == "due":
        conditions += [active, Permit.valid_until >= today, Permit.valid_until <= today + timedelta(days=due_days)]
    per_page = max(1, min(per_page, 100))
    total = db.session.scalar(sa.select(sa.func.count(Permit.id)).where(*conditions)) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    order = (Permit.valid_until, Permit.id) if which == "due" else (Permit.holder, Permit.id)
    permits = db.session.scalars(sa.select(Permit).where(*conditions).order_by(*order)
                                 .offset((page - 1) * per_page).limit(per_page)
                                 .options(selectinload(Permit.plates))).all()
    inside = dict(db.session.execute(
        sa.select(Ticket.permit_id, Ticket.license_plate)
        .where(Ticket.garage_id == garage_id, Ticket.status == STATUS_ACTIVE,
               Ticket.permit_id.in_([p.id for p in permits]))).all()) if permits else {}
    rows = [PermitRow(p, rules.state_on(_facts_of(p), today), inside.get(p.id)) for p in permits]
    return PermitPage(rows, total, page, per_page)


def permit_row(garage_id: int, permit_id: Any, now: datetime | None = None) -> PermitRow:
    """One permit with its state today and its car inside, if any."""
    permit = get_permit(garage_id, permit_id)
    garage = _garage(garage_id)
    today = local_today(now or utcnow(), garage.timezone)
    inside = db.session.scalar(sa.select(Ticket.license_plate).where(
        Ticket.garage_id == garage_id, Ticket.status == STATUS_ACTIVE, Ticket.permit_id == permit.id))
    return PermitRow(permit, rules.state_on(_facts_of(permit), today), inside)


def _facts_of(permit: Permit) -> rules.PermitFacts:
    return rules.PermitFacts(permit.id, permit.holder, permit.status, permit.valid_from, permit.valid_until)


def payments_of(garage_id: int, permit_id: int) -> list[PermitPayment]:
    return list(db.session.scalars(sa.select(PermitPayment).where(PermitPayment.garage_id == garage_id,
                                                                  PermitPayment.permit_id == permit_id)
                                   .order_by(PermitPayment.taken_at, PermitPayment.id)))


# --- what a permit car pays ---------------------------------------------------------------------

PERMIT_END = (sa.select(Permit.valid_until, Garage.timezone).join(Garage, Garage.id == Permit.garage_id)
              .where(Permit.id == sa.bindparam("permit_id")))


def priced(ticket: Any, base_quote: Any, now: datetime, tariff: pricing.Tariff, lost: bool) -> pricing.Quote:
    """The fee of an active ticket before validations: a permit ticket's from its permit's end on
    (nothing while the permit covers the stay; a renewal while the car is inside counts), any other's
    `base_quote()` (the garage's ordinary pricing from the entry)."""
    permit_id = getattr(ticket, "permit_id", None)
    if permit_id is None:
        return base_quote(ticket.entry_time)
    row = db.session.execute(PERMIT_END, {"permit_id": permit_id}).first()
    start = rules.visitor_from(ticket.entry_time, now, row.valid_until if row else None,
                               row.timezone if row else "UTC")
    minutes = pricing.duration_minutes(ticket.entry_time, now)
    if start is None:
        return pricing.Quote(duration_minutes=minutes, billable_hours=0, amount_cents=0, time_fee_cents=0,
                             lost=lost, hourly_rate_cents=tariff.rate_for(ticket.vehicle_type), permit=True,
                             rule=rules.PERMIT_RULE)
    charged = base_quote(start)
    return pricing.Quote(**{**charged.__dict__, "duration_minutes": minutes, "permit": True})


# --- CSV of permit holders ----------------------------------------------------------------------

CSV_COLUMNS = ("permit", "holder", "contact", "plates", "status", "valid_from", "valid_until", "price")


def holders_csv(garage_id: int, now: datetime | None = None) -> str:
    """Every permit of the garage, one row each (plates joined by spaces): the export."""
    garage = _garage(garage_id)
    today = local_today(now or utcnow(), garage.timezone)
    permits = db.session.scalars(sa.select(Permit).where(Permit.garage_id == garage_id)
                                 .order_by(Permit.id).options(selectinload(Permit.plates))).all()
    rows = ((rules.number_of(p.id), p.holder, p.contact, " ".join(x.license_plate for x in p.plates),
             rules.state_on(_facts_of(p), today),
             p.valid_from.isoformat(), p.valid_until.isoformat(), cents_to_decimal(p.price_cents)) for p in permits)
    return csv_text([CSV_COLUMNS, *rows])
