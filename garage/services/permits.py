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
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..domain import permits as rules, pricing
from ..domain.clock import local_day_bounds, local_today, utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.figures import csv_text, safe_cell
from ..domain.money import DEFAULT_CURRENCY, current_currency, example, in_currency, minor_to_decimal, parse_money
from ..domain.periods import parse_date
from ..domain.tickets import PAYMENT_METHODS, STATUS_ACTIVE, check_payment_method, clean_plate, plate_key
from ..domain.inputs import PageCount
from ..domain.words import _, n_
from ..extensions import db
from ..identity import Actor
from ..models import Garage, Permit, PermitPayment, PermitPlate, Ticket
from ..persistence import OPEN_SHIFT_SHARED, commit_keeping_loaded
from . import audit, listed, rollups

SALE, RENEWAL = "sale", "renewal"
CHANGED_MEANWHILE = _("This permit was renewed or changed meanwhile: look it up again")
PER_PAGE = 25


def _garage(garage_id: int) -> Garage:
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        raise NotFound(_("No such garage"))
    return garage


def _plates(values: Any, field: str = "plates") -> list[tuple[str, str]]:
    """(as typed, key) of each plate, distinct by key, 1 .. MAX_PLATES. A string: one plate per line or comma."""
    if isinstance(values, str):
        values = [part for line in values.splitlines() for part in line.split(",")]
    if not isinstance(values, (list, tuple)):
        raise InvalidInput(_("Give the permit's plates as a list"), field=field)
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
    return Conflict(_("%(plate)s is already on permit %(permit)s", plate=row.license_plate,
                      permit=rules.number_of(row.permit_id)), field="plates")


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
    rollups.touched(permit.garage_id, now)  # the reports move (its day counted again if back-dated)
    return payment


@dataclass(frozen=True)
class SaleTerms:
    """A sale's fields, checked (create_permit, import_permits)."""

    holder: str
    contact: str
    start: date
    end: date
    price: int
    method: str
    plates: list[tuple[str, str]]  # (as typed, key)


def _sale_terms(holder: Any, contact: Any, plates: Any, valid_from: Any, valid_until: Any, price_cents: Any,
                payment_method: Any) -> SaleTerms:
    """The fields of a sale checked by the rules (InvalidInput naming the field, the first one wrong)."""
    holder = rules.check_holder(holder)
    contact = rules.check_contact(contact)
    start, end = rules.check_period(valid_from, valid_until)
    price = rules.check_price(price_cents)
    method = check_payment_method(payment_method)
    return SaleTerms(holder, contact, start, end, price, method, _plates(plates))


def holder_problems(holder: Any, contact: Any, plates: Any) -> dict[str, str]:
    """What is wrong with a sale's holder, contact and plates, by field (a form that found other fields
    wrong tells these at once too)."""
    problems: dict[str, str] = {}
    for name, check in (("holder", lambda: rules.check_holder(holder)), ("contact", lambda: rules.check_contact(contact)),
                        ("plates", lambda: _plates(plates))):
        try:
            check()
        except InvalidInput as bad:
            problems[name] = bad.message
    return problems


def _sell(garage_id: int, actor: Actor, terms: SaleTerms, now: datetime, imported: bool = False) -> Permit:
    """Add the permit, its plates, the sale (revenue) and the audit row to the session (no commit)."""
    permit = Permit(garage_id=garage_id, holder=terms.holder, contact=terms.contact, status=rules.STATUS_ACTIVE,
                    valid_from=terms.start, valid_until=terms.end, price_cents=terms.price, created_at=now,
                    updated_at=now)
    permit.plates = [PermitPlate(garage_id=garage_id, license_plate=plate, plate_key=key)
                     for plate, key in terms.plates]
    db.session.add(permit)
    db.session.flush()
    payment = _pay(permit, SALE, terms.price, terms.method, terms.start, terms.end, actor, now)
    db.session.flush()
    audit.record(actor, "permit.created", "permit", rules.number_of(permit.id),
                 {**_facts(permit), "paymentMethod": terms.method, "shiftId": payment.shift_id,
                  **({"imported": True} if imported else {})}, garage_id=garage_id)
    return permit


def create_permit(garage_id: int, actor: Actor, *, holder: Any, contact: Any = "", plates: Any,
                  valid_from: Any, valid_until: Any, price_cents: Any, payment_method: Any = "Cash",
                  now: datetime | None = None) -> Permit:
    """A permit sold now: its plates, its period and the sale (revenue), one audited transaction.
    InvalidInput (422) for a bad field; Conflict (409) for a plate already on another permit here."""
    terms = _sale_terms(holder, contact, plates, valid_from, valid_until, price_cents, payment_method)
    now = now or utcnow()
    rules.check_plate_limit(len(terms.plates), _garage(garage_id).permit_max_plates)
    keys = [key for _, key in terms.plates]
    taken = _taken_plate(garage_id, keys)
    if taken:
        raise taken
    try:
        permit = _sell(garage_id, actor, terms, now)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        raise _taken_plate(garage_id, keys) or Conflict(
            _("A plate of this permit is already on another permit"), field="plates") from None
    except BaseException:
        db.session.rollback()
        raise
    return permit


def get_permit(garage_id: int, permit_id: Any) -> Permit:
    """The garage's permit of that id (another garage's: not found)."""
    if isinstance(permit_id, bool) or not isinstance(permit_id, int):
        raise NotFound(_("Permit not found"))
    permit = db.session.scalar(sa.select(Permit).where(Permit.garage_id == garage_id, Permit.id == permit_id)
                               .options(selectinload(Permit.plates)))
    if permit is None:
        raise NotFound(_("Permit not found"))
    return permit


def update_permit(garage_id: int, permit_id: Any, actor: Actor, changes: dict[str, Any],
                  now: datetime | None = None) -> Permit:
    """Change a permit's holder, contact, plates, status (suspend / reactivate) or period (a
    correction: a renewal is `renew_permit`, which records the payment). Audited before/after."""
    permit = get_permit(garage_id, permit_id)
    allowed = {"holder", "contact", "plates", "status", "valid_from", "valid_until"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(_("Unknown field %(field)s", field=sorted(unknown)[0]), field=sorted(unknown)[0])
    if not changes:
        raise InvalidInput(_("Nothing to change"), field="holder")
    before = _facts(permit)
    holder = rules.check_holder(changes["holder"]) if "holder" in changes else permit.holder
    contact = rules.check_contact(changes["contact"]) if "contact" in changes else permit.contact
    status = rules.check_status(changes["status"]) if "status" in changes else permit.status
    start, end = rules.check_period(changes.get("valid_from", permit.valid_from),
                                    changes.get("valid_until", permit.valid_until))
    typed = _plates(changes["plates"]) if "plates" in changes else None
    if typed is not None:
        rules.check_plate_limit(len(typed), _garage(garage_id).permit_max_plates)
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
            for plate, key in typed:  # a kept plate takes the spelling typed now
                if key in keep:
                    keep[key].license_plate = plate
        db.session.flush()
        audit.record(actor, "permit.updated", "permit", rules.number_of(permit.id),
                     {"before": before, "after": _facts(permit)}, garage_id=garage_id)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("A plate of this permit is already on another permit"), field="plates") from None
    except BaseException:
        db.session.rollback()
        raise
    return permit


def renew_permit(garage_id: int, permit_id: Any, actor: Actor, *, price_cents: Any = None, months: Any = 1,
                 valid_until: Any = None, payment_method: Any = "Cash", now: datetime | None = None,
                 expected_until: date | None = None) -> Permit:
    """Extend a permit from the day after its end (or from today if it has ended) by `months` calendar
    months, or to `valid_until`; the renewal is paid (revenue, the shift). Price: the permit's last
    one unless given. One audited transaction; the period is moved by a conditional UPDATE on the end
    read, so two renewals at once extend it once each, never over each other."""
    permit = get_permit(garage_id, permit_id)
    if expected_until is not None and expected_until != permit.valid_until:
        # renewed (or changed) since the form that asks was shown: a double tap is not sold twice
        raise Conflict(CHANGED_MEANWHILE, field="months")
    method = check_payment_method(payment_method)
    price = rules.check_price(permit.price_cents if price_cents is None else price_cents)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 12:
        raise InvalidInput(_("Renew for 1 to 12 months"), field="months")
    now = now or utcnow()
    garage = _garage(garage_id)
    today = local_today(now, garage.timezone)
    start, end = rules.next_period(permit.valid_from, permit.valid_until, today, months)
    if valid_until is not None:
        if not isinstance(valid_until, date) or valid_until < start:
            raise InvalidInput(_("The new last day must be on or after %(day)s", day=start.isoformat()),
                               field="validUntil")
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
        raise InvalidInput(_("Show all, valid, expired, suspended or due permits"), field="status")
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
    return replace(charged, duration_minutes=minutes, permit=True)


# --- CSV of permit holders ----------------------------------------------------------------------

CSV_COLUMNS = ("permit", "holder", "contact", "plates", "status", "valid_from", "valid_until", "price", "currency")
PLATE_SEPARATOR = "; "  # a plate may hold a space ("AB 123"): the export separates them with semicolons


def holders_csv(garage_id: int, now: datetime | None = None) -> str:
    """Every permit of the garage, one row each (plates joined by "; "): the export. A holder or contact
    a spreadsheet would run as a formula ("=...", "+...", "@...") gets a leading quote (figures.safe_cell)."""
    garage = _garage(garage_id)
    today = local_today(now or utcnow(), garage.timezone)
    permits = db.session.scalars(sa.select(Permit).where(Permit.garage_id == garage_id)
                                 .order_by(Permit.id).options(selectinload(Permit.plates))).all()
    rows = ((rules.number_of(p.id), safe_cell(p.holder), safe_cell(p.contact),
             safe_cell(PLATE_SEPARATOR.join(x.license_plate for x in p.plates)),
             rules.state_on(_facts_of(p), today),
             p.valid_from.isoformat(), p.valid_until.isoformat(), minor_to_decimal(p.price_cents, garage.currency),
             garage.currency) for p in permits)
    return csv_text([CSV_COLUMNS, *rows])


# --- importing permit holders ----------------------------------------------------------------------

IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 1000
IMPORT_REQUIRED = ("holder", "plates", "valid_from", "valid_until", "price")
IMPORT_OPTIONAL = ("contact", "payment_method", "currency")  # currency: the garage's, or the line is refused
IMPORT_IGNORED = ("permit", "status")  # the export's own columns: a file exported here imports elsewhere
METHOD_NAMES = {method.lower(): method for method in PAYMENT_METHODS}  # "cash" in a file is Cash
IMPORT_HEADER = "holder,contact,plates,valid_from,valid_until,price,payment_method"
CSV_LOCALE = "en_US"  # a CSV file's amounts: a dot decimal, whatever the pages' formats


class ImportRefused(InvalidInput):
    """The file is refused as a whole: `errors` lists (line, message) for every line found wrong."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        count = len(errors)
        super().__init__(n_("%(num)d problem in the file; nothing was imported",
                            "%(num)d problems in the file; nothing was imported", count), field="file")
        self.errors = errors


def _import_plates(cell: str) -> list[str]:
    """A plates cell: plates separated by semicolons, as the export writes them. Spaces never separate:
    a plate may hold one ("AB 123" is one plate, as on the New permit form)."""
    parts = cell.split(";")
    return [part for part in (p.strip() for p in parts) if part]


def _read_csv(data: bytes | str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every row, the header first; ImportRefused for a file that is not CSV text."""
    if isinstance(data, bytes):
        if len(data) > IMPORT_MAX_BYTES:
            raise ImportRefused([(0, _("The file is larger than %(num)d MB: split it", num=IMPORT_MAX_BYTES // 1_000_000))])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as bad:
            line = data[:bad.start].count(b"\n") + 1
            raise ImportRefused([(line, _("The file is not UTF-8 text: save it as \"CSV UTF-8\" and try again"))]) from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise ImportRefused([(text[:text.index("\x00")].count("\n") + 1,
                              _("The file holds a NUL character: it is not CSV text"))])
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        line = 1
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
            if len(rows) > IMPORT_MAX_ROWS + 1:
                raise ImportRefused([(line - 1, _("At most %(num)d permits per file: split it", num=IMPORT_MAX_ROWS))])
    except csv.Error as bad:
        raise ImportRefused([(reader.line_num, _("Not readable as CSV: %(problem)s", problem=str(bad)))]) from None
    return rows


def _header(cells: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in cells]
    known = set(IMPORT_REQUIRED + IMPORT_OPTIONAL + IMPORT_IGNORED)
    problems = []
    unknown = [name for name in names if name not in known]
    if unknown:
        problems.append(_("unknown column “%(name)s”", name=unknown[0][:40]))
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        problems.append(_("column %(name)s twice", name=twice[0][:40]))
    missing = [name for name in IMPORT_REQUIRED if name not in names]
    if missing:
        problems.append(_("no column %(names)s", names=", ".join(missing)))
    if problems:
        raise ImportRefused([(1, _("The first line names the columns (%(header)s; contact and payment_method may "
                                   "be left out): %(problems)s", header=IMPORT_HEADER, problems=listed(problems)))])
    return {name: i for i, name in enumerate(names)}


def _cell_problem(column: str, problem: str) -> str:
    """What is wrong with a line's cell: "price: ..." (the column's name as the file has it)."""
    return _("%(column)s: %(problem)s", column=column, problem=problem)


def _import_row(columns: dict[str, int], cells: list[str]) -> tuple[SaleTerms | None, list[str]]:
    """A data line as a sale's terms, or every message of what is wrong in it."""
    if len(cells) != len(columns):
        return None, [_("%(cells)d cells where the first line names %(columns)d columns", cells=len(cells),
                         columns=len(columns))]
    cell = {name: cells[i].strip() for name, i in columns.items()}
    problems: list[str] = []
    terms: dict[str, Any] = {"holder": cell["holder"], "contact": cell.get("contact", ""),
                             "payment_method": METHOD_NAMES.get((cell.get("payment_method") or "Cash").lower(),
                                                                cell.get("payment_method"))}
    for name in ("valid_from", "valid_until"):
        try:
            terms[name] = parse_date(cell[name], name)
        except InvalidInput as bad:
            problems.append(_cell_problem(name, bad.message))
    if cell.get("currency") and cell["currency"].upper() != current_currency():  # an export of another garage's
        problems.append(_cell_problem("currency", f"the prices are in {cell['currency'][:8]}, this garage's in "
                                                  f"{current_currency()}"))
    try:
        terms["price_cents"] = parse_money(cell["price"], locale=CSV_LOCALE)  # the garage's currency, a dot decimal
    except ValueError:
        problems.append(_cell_problem("price", _("“%(text)s” is not an amount in dollars, like 120 or 120.00",
                                                 text=cell["price"][:20]) if current_currency() == DEFAULT_CURRENCY
                                      else _("“%(text)s” is not an amount %(in_currency)s, like %(example)s", text=cell["price"][:20],
                                          in_currency=in_currency(), example=example(120, '00', locale=CSV_LOCALE))))
    checks = [("holder", lambda: rules.check_holder(terms["holder"])),
              ("contact", lambda: rules.check_contact(terms["contact"])),
              ("payment_method", lambda: check_payment_method(terms["payment_method"])),
              ("plates", lambda: _plates(_import_plates(cell["plates"])))]
    if "valid_from" in terms and "valid_until" in terms:
        checks.append(("valid_until", lambda: rules.check_period(terms["valid_from"], terms["valid_until"])))
    if "price_cents" in terms:
        checks.append(("price", lambda: rules.check_price(terms["price_cents"])))
    for name, check in checks:
        try:
            check()
        except InvalidInput as bad:
            problems.append(_cell_problem(name, bad.message))
    if problems:
        return None, problems
    return _sale_terms(plates=_import_plates(cell["plates"]), **terms), []


def _row_plates(columns: dict[str, int], cells: list[str]) -> list[tuple[str, str]]:
    """The plates of a line found wrong elsewhere, when its plates cell is itself right (else none)."""
    if len(cells) != len(columns):
        return []
    try:
        return _plates(_import_plates(cells[columns["plates"]].strip()))
    except InvalidInput:
        return []


def import_permits(garage_id: int, actor: Actor, data: bytes | str, now: datetime | None = None) -> list[Permit]:
    """Permits sold from a CSV file (header IMPORT_HEADER; plates separated by semicolons; price in dollars; payment method Cash unless given): ALL of them in one
    audited transaction, each a sale (revenue, `permit.created` with `imported`), or none. Every line
    found wrong is reported (ImportRefused: line number and message): a bad field, a plate on a permit
    here already or twice in the file, more than IMPORT_MAX_ROWS lines or IMPORT_MAX_BYTES, not UTF-8."""
    most = _garage(garage_id).permit_max_plates
    rows = _read_csv(data)
    rows = [(line, cells) for line, cells in rows if any(cell.strip() for cell in cells)]
    if not rows:
        raise ImportRefused([(1, _("The file is empty: its first line names the columns (%(header)s)",
                                    header=IMPORT_HEADER))])
    columns = _header(rows[0][1])
    if len(rows) == 1:
        raise ImportRefused([(rows[0][0], _("No permits after the first line (one permit per line)"))])
    errors: list[tuple[int, str]] = []
    sales: list[tuple[int, SaleTerms]] = []
    first_line: dict[str, tuple[int, str]] = {}
    for line, cells in rows[1:]:
        terms, problems = _import_row(columns, cells)
        if terms is not None and len(terms.plates) > most:
            problems, terms = [_cell_problem("plates", _("this garage allows at most %(num)d plates per permit",
                                                             num=most))], None
        errors += [(line, problem) for problem in problems]
        # A line's plates are checked against the file and the garage even when another of its cells is
        # wrong: every problem of the file is told at once.
        for plate, key in (terms.plates if terms is not None else _row_plates(columns, cells)):
            if key in first_line:
                errors.append((line, _cell_problem("plates", _("%(plate)s is also on line %(line)d", plate=plate,
                                                                 line=first_line[key][0]))))
            else:
                first_line[key] = (line, plate)
        if terms is not None:
            sales.append((line, terms))
    keys = list(first_line)
    for chunk in range(0, len(keys), 500):
        for plate, key, permit_id in db.session.execute(
                sa.select(PermitPlate.license_plate, PermitPlate.plate_key, PermitPlate.permit_id)
                .where(PermitPlate.garage_id == garage_id, PermitPlate.plate_key.in_(keys[chunk:chunk + 500]))):
            errors.append((first_line[key][0], _cell_problem("plates", _(
                "%(plate)s is already on permit %(permit)s", plate=first_line[key][1],
                permit=rules.number_of(permit_id)))))
    if errors:
        db.session.rollback()
        raise ImportRefused(sorted(errors, key=lambda e: e[0]))
    now = now or utcnow()
    try:
        permits = [_sell(garage_id, actor, terms, now, imported=True) for _, terms in sales]
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("A plate of the file was put on a permit meanwhile: nothing was imported; "
                         "import the file again"), field="file") from None
    except BaseException:
        db.session.rollback()
        raise
    return permits


# --- the permits report ----------------------------------------------------------------------------

REPORT_DUE_DAYS = (1, 90)  # renewals due within N days: N from 1 to 90
REPORT_DUE_LISTED = 100
REPORT_MAX_DAYS = 92  # a quarter: permit_occupancy reads every ticket of the period


@dataclass(frozen=True)
class PermitCounts:
    valid: int       # active and valid today
    not_yet: int     # active, starting later
    expired: int     # active, last day over
    suspended: int

    @property
    def total(self) -> int:
        return self.valid + self.not_yet + self.expired + self.suspended


@dataclass(frozen=True)
class MethodRevenue:
    method: str
    sales: int
    renewals: int
    amount_cents: int


@dataclass(frozen=True)
class PermitReport:
    today: date
    counts: PermitCounts
    due_days: int
    due: PermitPage
    revenue: list[MethodRevenue]
    occupancy: list[rules.DayOccupancy]

    @property
    def revenue_cents(self) -> int:
        return sum(r.amount_cents for r in self.revenue)

    @property
    def sales(self) -> int:
        return sum(r.sales for r in self.revenue)

    @property
    def renewals(self) -> int:
        return sum(r.renewals for r in self.revenue)


def permit_counts(garage_id: int, today: date) -> PermitCounts:
    """The garage's permits by their state on the local day `today` (one statement)."""
    active = Permit.status == rules.STATUS_ACTIVE

    def counted(*conditions: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conditions), 1), else_=0)), 0)

    row = db.session.execute(sa.select(
        counted(active, Permit.valid_from <= today, Permit.valid_until >= today),
        counted(active, Permit.valid_from > today),
        counted(active, Permit.valid_until < today),
        counted(Permit.status == rules.STATUS_SUSPENDED)).where(Permit.garage_id == garage_id)).one()
    return PermitCounts(*(int(value) for value in row))


def permit_revenue(garage_id: int, start: datetime, end: datetime) -> list[MethodRevenue]:
    """Sales and renewals taken in [start, end) (UTC), by payment method (one grouped statement)."""
    rows = db.session.execute(
        sa.select(PermitPayment.payment_method, PermitPayment.kind, sa.func.count(PermitPayment.id),
                  sa.func.coalesce(sa.func.sum(PermitPayment.amount_cents), 0))
        .where(PermitPayment.garage_id == garage_id, PermitPayment.taken_at >= start, PermitPayment.taken_at < end)
        .group_by(PermitPayment.payment_method, PermitPayment.kind)).all()
    by_method: dict[str, list[int]] = {}
    for method, kind, count, amount in rows:
        figures = by_method.setdefault(method, [0, 0, 0])
        figures[0 if kind == SALE else 1] += count
        figures[2] += int(amount)
    order = {method: i for i, method in enumerate(PAYMENT_METHODS)}
    return [MethodRevenue(method, *figures)
            for method, figures in sorted(by_method.items(), key=lambda item: (order.get(item[0], 99), item[0]))]


def permit_occupancy(garage_id: int, first: date, last: date, tzname: str,
                     now: datetime | None = None) -> list[rules.DayOccupancy]:
    """For each local day first..last (the garage's timezone: a DST day is 23 or 25 hours), the peak of
    permit cars and of visitors inside, and both at the day's end (domain `occupancy_by_day`), from the
    tickets themselves: a ticket with a permit_id is a permit car; a voided ticket counts while it was
    inside, up to its exit_time (when its space was freed).

    Portable by design: ONE statement fetches the entry, the exit and the permit flag of the tickets
    present at some moment of the period (entered before its end, not left by its start), and the
    sweep over them runs in Python, day by day with `local_day_bounds`, so both databases give the same
    figures across DST changes without dialect-specific date arithmetic. The rows are bounded by the
    period (its traffic plus the cars already inside at its start; the report allows REPORT_MAX_DAYS);
    the statement reads the entries before the period's end through ix_tickets_entry_time."""
    days = [(day, *local_day_bounds(day, tzname))
            for day in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    start, end = days[0][1], days[-1][2]
    rows = db.session.execute(
        sa.select(Ticket.entry_time, Ticket.exit_time, Ticket.permit_id.is_not(None))
        .where(Ticket.garage_id == garage_id, Ticket.entry_time < end,
               sa.or_(Ticket.exit_time.is_(None), Ticket.exit_time > start))).all()
    return rules.occupancy_by_day(days, rows, now or utcnow())


def permits_report(garage_id: int, first: date, last: date, due_days: int = rules.DEFAULT_RENEW_DAYS_AHEAD,
                   now: datetime | None = None) -> PermitReport:
    """The permits report: permits by state today, those due for renewal within `due_days` (the first
    REPORT_DUE_LISTED, soonest first), the sales and renewals taken in the local days first..last by
    payment method, and the permit cars and visitors inside on each of those days."""
    low, high = REPORT_DUE_DAYS
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not low <= due_days <= high:
        raise InvalidInput(_("Days ahead must be a whole number from %(low)d to %(high)d", low=low, high=high), field="days")
    now = now or utcnow()
    garage = _garage(garage_id)
    today = local_today(now, garage.timezone)
    start, end = local_day_bounds(first, garage.timezone)[0], local_day_bounds(last, garage.timezone)[1]
    return PermitReport(today, permit_counts(garage_id, today), due_days,
                        search_permits(garage_id, which="due", due_days=due_days, per_page=REPORT_DUE_LISTED, now=now),
                        permit_revenue(garage_id, start, end),
                        permit_occupancy(garage_id, first, last, garage.timezone, now))
