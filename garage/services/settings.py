"""A garage's row (its settings, pricing and counters) and its per-vehicle-type rates. Every
function takes the garage's id first (identity.current_garage for a request)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.exc import IntegrityError

from ..domain import garage_settings as rules, locales, rate_periods as periods
from ..domain.clock import utcnow
from ..domain.pricing import Quote, Tariff, quote
from ..domain.tickets import STATUS_ACTIVE, VEHICLE_TYPES
from ..extensions import db
from ..domain.errors import NotFound
from ..domain.words import _
from ..domain.garages import DEFAULT_GARAGE_ID, DEFAULT_GARAGE_NAME, DEFAULT_SLUG
from ..models import Garage, PermitPayment, Shift, Ticket, VehicleRate
from ..persistence import rollups as rollup_table

# Columns of garages a manager may change (vehicle rates live in their own table).
COLUMNS = ("total_spaces", "hourly_rate", "grace_minutes", "daily_max_cents", "lost_ticket_fee_cents",
           "lost_ticket_mode", "garage_name", "timezone", "almost_full_percent", "garage_address", "tax_rate_bp",
           "tax_id", "void_window_minutes", "payments_require_shift", "reserved_spaces", "permit_policy",
           "rate_periods", "pricing_choice", "permit_max_plates", *locales.INTERNATIONAL_SETTINGS)


def ensure_settings() -> Garage:
    """Create the default garage (id 1, slug main, named "Main garage") if missing (idempotent,
    safe to race): a fresh deployment has one garage without anyone creating it. An existing
    garage keeps its name (one named "Garage" by an older first start included: a manager renames
    it in Settings; receipts and lobby screens never change name unasked)."""
    row = db.session.get(Garage, DEFAULT_GARAGE_ID)
    if row is not None:
        return row
    occupied = db.session.scalar(
        sa.select(sa.func.count()).select_from(Ticket)
        .where(Ticket.garage_id == DEFAULT_GARAGE_ID, Ticket.status == STATUS_ACTIVE)) or 0
    row = Garage(id=DEFAULT_GARAGE_ID, slug=DEFAULT_SLUG, garage_name=DEFAULT_GARAGE_NAME,
                 timezone=current_app.config["GARAGE_TIMEZONE"], occupied=occupied, total_spaces=max(140, occupied))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        row = db.session.get(Garage, DEFAULT_GARAGE_ID)
    return row


def get_settings(garage_id: int) -> Garage:
    """The garage's row (NotFound for a garage that does not exist; the default garage is
    created on first use). Within a request it is loaded once: the session's
    identity map holds objects weakly, so without the reference kept in `g`
    every caller that let go of the row (stats, the cars-inside list, the time
    zone of a template) read it again: four SELECTs for one desk page. After a
    commit the row is expired and the next attribute read refreshes it, as ever."""
    row = db.session.get(Garage, garage_id)
    if row is None:
        if garage_id != DEFAULT_GARAGE_ID:
            raise NotFound(_("No such garage"))
        row = ensure_settings()
    keep(row)
    return row


# Built once: read on every exit, quote and desk panel.
VEHICLE_RATES = (sa.select(VehicleRate.vehicle_type, VehicleRate.hourly_rate)
                 .where(VehicleRate.garage_id == sa.bindparam("garage_id")))
SETTINGS_AS_COMMITTED = (sa.select(Garage).where(Garage.id == sa.bindparam("garage_id"))
                         .execution_options(populate_existing=True))


def current_vehicle_rates(garage_id: int) -> dict[str, int]:
    """{vehicle type: cents per hour} for the types with their own rate at the garage, in the usual type order."""
    order = {kind: i for i, kind in enumerate(VEHICLE_TYPES)}
    rows = db.session.execute(VEHICLE_RATES, {"garage_id": garage_id}).all()
    return dict(sorted(((k, r) for k, r in rows), key=lambda kv: order.get(kv[0], len(order))))


def current_tariff(garage_id: int) -> Tariff:
    """The pricing rules as committed right now, read from the database (never
    an object cached in the session), so a rule change applies to the very next
    exit, whichever worker handles it. Read once per request: the fees of the
    cars-inside list and the rates panel beside it come from the same rules
    (update_settings drops the request's copy)."""
    if has_request_context() and garage_id in g.get("garage_tariffs", {}):
        return g.garage_tariffs[garage_id]
    row = settings_as_committed(garage_id)
    tariff = row.tariff(current_vehicle_rates(garage_id))
    if has_request_context():
        g.setdefault("garage_tariffs", {})[garage_id] = tariff
    return tariff


def settings_as_committed(garage_id: int) -> Garage:
    """The garage's row read again now, over what this request loaded before: its settings and its
    counters (cars inside) as other requests committed them meanwhile."""
    row = db.session.scalar(SETTINGS_AS_COMMITTED, {"garage_id": garage_id}) or get_settings(garage_id)
    keep(row)
    return row


def keep(row: Garage) -> None:
    """Keep a garage's row this request has read (by any statement) for get_settings: the session's
    identity map holds it weakly, and the currency of an amount in a response (the quote, the exit)
    reads it again (no second SELECT)."""
    if has_request_context():
        g.setdefault("garage_rows", {})[row.id] = row


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snapshot(row: Garage, names: list[str]) -> dict[str, Any]:
    rates = current_vehicle_rates(row.id) if "vehicle_rates" in names else None
    return {_camel(n): (rates if n == "vehicle_rates" else
                        periods.to_json_list(periods.loads(row.rate_periods)) if n == "rate_periods" else
                        getattr(row, n)) for n in names}


def update_settings(garage_id: int, actor, *, total_spaces: int | None = None, hourly_rate: int | None = None,
                    vehicle_rates: Mapping[str, int | None] | None = None,
                    **other: Any) -> Garage:
    """Change settings in one audited transaction (before/after of what changed).

    ``other``: any of the COLUMNS by name; ``daily_max_cents=None`` removes the
    maximum; ``rate_periods``: the whole list of periods as JSON objects (garage/domain/rate_periods.py),
    replacing the garage's. ``vehicle_rates``: {type: cents, or None to fall back to the default
    rate}; types not listed keep their rate. Every problem is reported at once
    (InvalidSettings, 422). Total spaces can never go below the cars inside:
    checked by a conditional UPDATE, so a car entering at the same moment
    cannot slip past the check (Conflict, 409).
    """
    from ..domain.errors import Conflict
    from . import audit

    changes: dict[str, Any] = dict(other)
    if total_spaces is not None:
        changes["total_spaces"] = total_spaces
    if hourly_rate is not None:
        changes["hourly_rate"] = hourly_rate
    if vehicle_rates is not None:
        changes["vehicle_rates"] = dict(vehicle_rates)
    international = {k: changes[k] for k in locales.INTERNATIONAL_SETTINGS if k in changes}
    errors = {**rules.check({k: v for k, v in changes.items() if k not in international}),
              **locales.check_international(international)}
    if errors:
        raise rules.InvalidSettings(errors)
    for name in ("garage_name", "tax_id", "legal_name"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    if "garage_address" in changes:
        changes["garage_address"] = rules.clean_address(changes["garage_address"])
    if "rate_periods" in changes:  # stored as checked: the same JSON whatever was sent
        changes["rate_periods"] = periods.dumps(periods.parse(changes["rate_periods"])[0])
    values = {k: v for k, v in changes.items() if k in COLUMNS}
    if vehicle_rates and not values:
        # Only the vehicle rates change: stamp the settings row all the same, so open desks see
        # a change (stats.change_mark) and reload their rates and fees.
        values["updated_at"] = utcnow()

    row = get_settings(garage_id)
    names = list(changes)
    try:
        db.session.refresh(row)
        if "reserved_spaces" in values or "total_spaces" in values:
            errors = rules.check_reserved(values.get("reserved_spaces", row.reserved_spaces),
                                          values.get("total_spaces", row.total_spaces))
            if errors:  # the check constraint ck_garages_reserved is the backstop
                raise rules.InvalidSettings(errors)
        before = _snapshot(row, names)
        if "currency" in values and values["currency"] != row.currency and currency_in_use(garage_id):
            raise Conflict(_("The currency cannot be changed: this garage has tickets, shifts or payments counted in "
                             "%(currency)s, and amounts are stored in its minor units", currency=row.currency),
                           field="currency")
        if values:  # whatever it is, a report may show it (spaces, timezone, currency): drawn again
            stmt = sa.update(Garage).where(Garage.id == garage_id)
            values["report_revision"] = Garage.report_revision + 1
            if "total_spaces" in values:
                stmt = stmt.where(Garage.occupied <= values["total_spaces"])
            changed = db.session.execute(stmt.values(**values).execution_options(synchronize_session=False)).rowcount
            if changed != 1:
                occupied = db.session.scalar(sa.select(Garage.occupied).where(Garage.id == garage_id))
                raise Conflict(_("Total spaces cannot be below the %(occupied)s cars inside", occupied=occupied),
                               field="total_spaces")
        for kind, rate in (vehicle_rates or {}).items():
            _set_vehicle_rate(garage_id, kind, rate)
        if "timezone" in values and values["timezone"] != before.get("timezone"):
            rollup_table.forget(garage_id)  # every local day moved: the reports' rollups are built again (services/rollups.py)
        db.session.flush()
        db.session.expire(row)
        after = _snapshot(row, names)
        changed_names = [k for k in before if before[k] != after[k]]
        if changed_names:
            audit.record(actor, "settings.changed", "garage_settings", garage_id,
                         {"before": {k: before[k] for k in changed_names},
                          "after": {k: after[k] for k in changed_names}}, garage_id=garage_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("The settings were changed by someone else at the same moment; try again")) from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if has_request_context():
            g.get("garage_tariffs", {}).pop(garage_id, None)  # whatever happened, this request reads them again
            for cached in ("money_context", "format_locale", "language"):  # the currency, locale or language changed
                if cached in g and {"currency", "locale", "language"} & set(values):
                    g.pop(cached)
    return row


def currencies(garage_ids: list[int]) -> dict[int, str]:
    """{garage id: its currency} of the garages (one SELECT): a page or file over several garages."""
    if not garage_ids:
        return {}
    return dict(db.session.execute(sa.select(Garage.id, Garage.currency).where(Garage.id.in_(garage_ids))).all())


def currency_in_use(garage_id: int) -> bool:
    """Whether the garage has anything counted in its currency: a ticket (paid, or a car inside whose fee
    would be read in another currency), a shift (its float and counts) or a permit payment. Its currency
    is then fixed (update_settings: Conflict), so no stored amount is ever read in another currency."""
    ticket = sa.select(Ticket.id).where(Ticket.garage_id == garage_id).limit(1)
    shift = sa.select(Shift.id).where(Shift.garage_id == garage_id).limit(1)
    sold = sa.select(PermitPayment.id).where(PermitPayment.garage_id == garage_id).limit(1)
    return any(db.session.scalar(q) is not None for q in (ticket, shift, sold))


def _set_vehicle_rate(garage_id: int, kind: str, rate: int | None) -> None:
    existing = db.session.get(VehicleRate, (garage_id, kind))
    if rate is None:
        if existing is not None:
            db.session.delete(existing)
    elif existing is None:
        db.session.add(VehicleRate(garage_id=garage_id, vehicle_type=kind, hourly_rate=rate))
    else:
        existing.hourly_rate = rate


# --- rate periods, one at a time (the settings page's forms) -------------------------------------

def period_items(garage_id: int) -> list[dict[str, Any]]:
    """The garage's rate periods as committed now, as JSON objects (garage/domain/rate_periods.py)."""
    return periods.to_json_list(current_tariff(garage_id).periods)


def _period_at(items: list[dict[str, Any]], position: int, name: str) -> None:
    """The period at `position` (from 1) must exist (NotFound) and still be the one named `name` that the
    manager was shown (Conflict: the list changed since; nothing is changed)."""
    from ..domain.errors import Conflict

    if not 1 <= position <= len(items):
        raise NotFound(_("No such rate period"))
    if items[position - 1]["name"] != name:
        raise Conflict(_("The rate periods were changed meanwhile; nothing was saved. Look at them again."))


def save_period(garage_id: int, actor, position: int | None, item: Mapping[str, Any], was: str = "") -> Garage:
    """Add a period at the end (`position` None) or replace the one at `position` (from 1), named `was`
    when the form was shown: the whole list is checked and stored again by update_settings (one audited
    transaction). InvalidSettings keyed like check()'s (``rate_periods.<n>.<field>``)."""
    items = period_items(garage_id)
    if position is None:
        items.append(dict(item))
    else:
        _period_at(items, position, was)
        items[position - 1] = dict(item)
    return update_settings(garage_id, actor, rate_periods=items)


def remove_period(garage_id: int, actor, position: int, name: str) -> Garage:
    """Remove the period at `position` (from 1), still named `name` (see _period_at)."""
    items = period_items(garage_id)
    _period_at(items, position, name)
    del items[position - 1]
    return update_settings(garage_id, actor, rate_periods=items)


@dataclass(frozen=True)
class PreviewRow:
    entry: datetime
    exit: datetime
    quote: Quote


def preview(garage_id: int, now: datetime) -> list[PreviewRow]:
    """A few stays priced by the same quote() as the exit, with the default rate: entering now and
    leaving 1 h, 3 h and 24 h later, entering this evening at 18:00 leaving tomorrow at 07:00, and a
    working day tomorrow, 07:30 to 17:30 (local: where an early bird shows)."""
    tariff = current_tariff(garage_id)
    zone = ZoneInfo(get_settings(garage_id).timezone or "UTC")
    local = now.astimezone(zone)
    evening = datetime.combine(local.date(), time(18), tzinfo=zone)
    if evening < local:
        evening = local
    morning = datetime.combine(evening.date() + timedelta(days=1), time(7), tzinfo=zone)
    early = datetime.combine(local.date() + timedelta(days=1), time(7, 30), tzinfo=zone)
    late = datetime.combine(early.date(), time(17, 30), tzinfo=zone)
    stays = [(now, now + timedelta(hours=1)), (now, now + timedelta(hours=3)),
             (evening.astimezone(timezone.utc), morning.astimezone(timezone.utc)),
             (early.astimezone(timezone.utc), late.astimezone(timezone.utc)), (now, now + timedelta(hours=24))]
    return [PreviewRow(entry, exit, quote(entry, exit, tariff)) for entry, exit in stays]
