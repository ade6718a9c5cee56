"""Rate periods (issue 19): prices that depend on the local time of day, the day of the week or the
date, on top of a garage's standard hourly rate. Pure Python: no Flask, no database. How they
compose with grace, the daily maximum and the lost-ticket fee is told in garage/domain/pricing.py.

Three kinds, each with a name (shown on the quote and the receipt) and an optional vehicle type
(None: every type):

- :class:`FlatWindow` ("flat"): one price for the whole stay when the car **entered** within a local
  time window (``enter_from``..``enter_until``, both included; a window whose end is not after its
  start runs past midnight: 18:00..03:00), optionally only on some days of the week (the day the
  window opened: a night window of Friday 18:00..03:00 admits an entry at Saturday 01:00), and
  **left** by the first local ``leave_by`` after the entry (and, with ``leave_from``, not before the
  ``leave_from`` that precedes that deadline): night $8 = enter 18:00..03:00, leave by 08:00; early
  bird $15 = enter 06:00..09:00, leave 15:00..19:00.
- :class:`HourlyPeriod` ("hourly"): another rate per started hour for the hours that **start** within
  a local time window (``start``..``end``, end excluded; equal: the whole day) on some days of the
  week: weekend $5 per hour = days sat, sun. The daily maximum still caps each 24 hours.
- :class:`EventRate` ("event"): a flat price for the first 24 hours of a stay that entered on one of
  its local dates; it replaces every other rule for those entries (with "lowest wins", a higher event
  price would otherwise never apply); hours after the first 24 are charged as usual.

Times are local wall-clock times in the garage's IANA timezone. A wall-clock time that does not exist
on a spring-forward day is read with the offset before the change (02:30 → 03:30 new time), a repeated
one on a fall-back day as its first occurrence: nothing crashes and nothing is charged twice, since
hours are counted on the real clock (UTC) from the entry.

Stored (garages.rate_periods) and sent over the API as JSON, a list of objects in camelCase:
``{"kind": "flat", "name": "Night rate", "priceCents": 800, "enterFrom": "18:00", "enterUntil": "03:00",
"leaveBy": "08:00", "leaveFrom": null, "days": ["fri", "sat"], "vehicleType": null}``,
``{"kind": "hourly", "name": "Weekend", "rateCents": 500, "start": "00:00", "end": "00:00",
"days": ["sat", "sun"]}``, ``{"kind": "event", "name": "Concert", "priceCents": 4000,
"dates": ["2026-12-31"]}``. :func:`parse` checks them and says what is wrong with each (its number,
from 1, and the field).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable, Mapping, Union
from zoneinfo import ZoneInfo

from .money import format_money
from .words import N_, Text, _

FLAT = "flat"
HOURLY = "hourly"
EVENT = "event"
KINDS = (FLAT, HOURLY, EVENT)
KIND_LABELS = {FLAT: N_("Flat price for a time window"), HOURLY: N_("Hourly rate for some hours"),
               EVENT: N_("Event price for given dates")}

LOWEST = "lowest"
FIRST = "first"
CHOICES = (LOWEST, FIRST)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DAY_NAMES = {"mon": N_("Monday"), "tue": N_("Tuesday"), "wed": N_("Wednesday"), "thu": N_("Thursday"),
             "fri": N_("Friday"), "sat": N_("Saturday"), "sun": N_("Sunday")}

MAX_PERIODS = 20
NAME_MAX = 40
MAX_DATES = 60
MAX_PRICE_CENTS = 1_000_000   # as the daily maximum (garage_settings.MAX_DAILY_CENTS)
MAX_RATE_CENTS = 100_000      # as the hourly rate (garage_settings.MAX_RATE_CENTS)
# What the quote names when no period priced the stay; a period may not take these names. Stored in
# English (tickets.price_rule); a page translates them where it shows them (``{{ _(rule) }}``).
STANDARD = N_("Standard rate")
GRACE = N_("Grace period")
LOST = N_("Lost-ticket fee")
RESERVED_NAMES = frozenset(n.casefold() for n in (STANDARD, GRACE, LOST))


@dataclass(frozen=True)
class FlatWindow:
    name: str
    price_cents: int
    enter_from: time
    enter_until: time
    leave_by: time
    leave_from: time | None = None
    days: tuple[int, ...] = ()        # weekdays (0 Monday) the entry window opens; () every day
    vehicle_type: str | None = None
    kind = FLAT

    def applies(self, entry: datetime, exit: datetime, zone: ZoneInfo) -> bool:
        """Entered within the window (on one of its days) and left within its leave window."""
        entry, exit = _utc(entry), _utc(exit)  # compared on the real clock (see _utc)
        local = entry.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        opened = local.date()
        if self.enter_from <= self.enter_until:
            if not self.enter_from <= clock <= self.enter_until:
                return False
        elif clock >= self.enter_from:
            pass
        elif clock <= self.enter_until:
            opened -= timedelta(days=1)  # after midnight: the window opened the evening before
        else:
            return False
        if self.days and opened.weekday() not in self.days:
            return False
        deadline = _next_wall(local.date(), self.leave_by, zone, entry)
        if exit > deadline:
            return False
        if self.leave_from is not None:
            start = _wall(deadline.astimezone(zone).date(), self.leave_from, zone)
            if start > deadline:
                start = _wall(deadline.astimezone(zone).date() - timedelta(days=1), self.leave_from, zone)
            if exit < start:
                return False
        return True


@dataclass(frozen=True)
class HourlyPeriod:
    name: str
    rate_cents: int
    start: time = time(0, 0)
    end: time = time(0, 0)            # equal to start: the whole day
    days: tuple[int, ...] = ()
    vehicle_type: str | None = None
    kind = HOURLY

    def covers(self, hour_start: datetime, zone: ZoneInfo) -> bool:
        """The hour starting at that instant is in this period."""
        local = hour_start.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:
            if not self.start <= clock < self.end:
                return False
        elif self.start > self.end:
            if clock < self.end:
                day -= timedelta(days=1)
            elif clock < self.start:
                return False
        return not self.days or day.weekday() in self.days


@dataclass(frozen=True)
class EventRate:
    name: str
    price_cents: int
    dates: tuple[date, ...]
    vehicle_type: str | None = None
    kind = EVENT

    def applies(self, entry: datetime, zone: ZoneInfo) -> bool:
        return entry.astimezone(zone).date() in self.dates


Period = Union[FlatWindow, HourlyPeriod, EventRate]


def _utc(moment: datetime) -> datetime:
    """Python compares two datetimes of the same tzinfo by their wall clocks (fold ignored): a
    repeated hour's two halves would be equal. Every comparison here is in UTC."""
    return moment.astimezone(timezone.utc)


def _wall(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """That local wall-clock time on that day, as an aware datetime (fold 0: see the module doc)."""
    return _utc(datetime.combine(day, clock, tzinfo=zone))


def _next_wall(day: date, clock: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first local `clock` at or after `after` (looked for from `day` on)."""
    moment = _wall(day, clock, zone)
    while moment < after:
        day += timedelta(days=1)
        moment = _wall(day, clock, zone)
    return moment


def applies_to(period: Period, vehicle_type: str | None) -> bool:
    return period.vehicle_type is None or period.vehicle_type == vehicle_type


# --- JSON: the stored and the API's form -----------------------------------------------------

def _clock_text(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def to_json_list(periods: Iterable[Period]) -> list[dict[str, Any]]:
    out = []
    for p in periods:
        item: dict[str, Any] = {"kind": p.kind, "name": p.name}
        if isinstance(p, FlatWindow):
            item.update(priceCents=p.price_cents, enterFrom=_clock_text(p.enter_from),
                        enterUntil=_clock_text(p.enter_until), leaveFrom=_clock_text(p.leave_from),
                        leaveBy=_clock_text(p.leave_by), days=[DAYS[d] for d in p.days])
        elif isinstance(p, HourlyPeriod):
            item.update(rateCents=p.rate_cents, start=_clock_text(p.start), end=_clock_text(p.end),
                        days=[DAYS[d] for d in p.days])
        else:
            item.update(priceCents=p.price_cents, dates=[d.isoformat() for d in p.dates])
        item["vehicleType"] = p.vehicle_type
        out.append(item)
    return out


def dumps(periods: Iterable[Period]) -> str:
    return json.dumps(to_json_list(periods), separators=(",", ":"))


@lru_cache(maxsize=256)
def loads(text: str | None) -> tuple[Period, ...]:
    """The stored column back as periods (checked when saved; "" or NULL: none). Cached: the exit
    and every quote read the same text."""
    if not text:
        return ()
    periods, errors = parse(json.loads(text))
    if errors:
        raise ValueError("stored rate periods are invalid: " + "; ".join(errors.values()))
    return periods


FIELDS = {FLAT: ("kind", "name", "priceCents", "enterFrom", "enterUntil", "leaveFrom", "leaveBy", "days",
                 "vehicleType"),
          HOURLY: ("kind", "name", "rateCents", "start", "end", "days", "vehicleType"),
          EVENT: ("kind", "name", "priceCents", "dates", "vehicleType")}


def parse_clock(value: Any) -> time | None:
    """"18:00" (or "8:00") → time(18, 0); None for anything else (24:00, 18:60, "6pm", a number)."""
    if not isinstance(value, str):
        return None
    hours, colon, minutes = value.strip().partition(":")
    if not colon or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        return None
    h, m = int(hours), int(minutes)
    return time(h, m) if h < 24 and m < 60 else None


def _whole(value: Any, low: int, high: int) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return value if ok else None


def parse(raw: Any, vehicle_types: Iterable[str] | None = None) -> tuple[tuple[Period, ...], dict[str, str]]:
    """(periods, errors): every problem at once, keyed ``<number>.<field>`` (number from 1), each
    message naming the period ("Period 2: ..."). Errors: no periods are to be used."""
    from .tickets import VEHICLE_TYPES  # noqa: PLC0415 (tickets is a sibling; kept lazy for import order)

    types = tuple(vehicle_types) if vehicle_types is not None else VEHICLE_TYPES
    if not isinstance(raw, list):
        return (), {"rate_periods": _("Rate periods must be a list of periods")}
    if len(raw) > MAX_PERIODS:
        return (), {"rate_periods": _("At most %(most)d rate periods", most=MAX_PERIODS)}
    periods: list[Period] = []
    errors: dict[str, str] = {}
    names: set[str] = set()
    for number, item in enumerate(raw, start=1):
        period, problems = parse_one(item, types)
        for field, message in problems.items():
            errors[f"{number}.{field}"] = _("Period %(number)d: %(problem)s", number=number, problem=message)
        if period is not None:
            key = period.name.casefold()
            if key in names:
                errors[f"{number}.name"] = _("Period %(number)d: %(problem)s", number=number,
                                             problem=_("another period has the name %(name)s", name=period.name))
            names.add(key)
            periods.append(period)
    return (tuple(periods) if not errors else ()), errors


def parse_one(item: Any, vehicle_types: Iterable[str]) -> tuple[Period | None, dict[str, str]]:
    """One period from its JSON object: (the period or None, errors by field)."""
    if not isinstance(item, Mapping):
        return None, {"kind": _("a period is an object with a kind: %(kinds)s", kinds=", ".join(KINDS))}
    kind = item.get("kind")
    if kind not in KINDS:
        return None, {"kind": _("the kind must be one of: %(kinds)s", kinds=", ".join(KINDS))}
    errors: dict[str, str] = {}
    for field in item:
        if field not in FIELDS[kind]:
            errors[str(field)] = _("unknown field %(field)s for a %(kind)s period", field=field, kind=kind)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = _("enter a name (shown on quotes and receipts)")
    elif len(name.strip()) > NAME_MAX or not name.isprintable():
        errors["name"] = _("the name has at most %(most)d printable characters", most=NAME_MAX)
    elif name.strip().casefold() in RESERVED_NAMES:
        errors["name"] = _("the name %(name)s is taken by the standard rules", name=name.strip())
    vehicle_type = item.get("vehicleType")
    if vehicle_type is not None and vehicle_type not in vehicle_types:
        errors["vehicleType"] = _("the vehicle type must be one of: %(types)s (or none: all)",
                                  types=", ".join(vehicle_types))
    days: tuple[int, ...] = ()
    if kind in (FLAT, HOURLY):
        raw_days = item.get("days", [])
        if not isinstance(raw_days, list) or not all(isinstance(d, str) and d.lower() in DAYS for d in raw_days):
            errors["days"] = _("days are a list of %(days)s (empty: every day)", days=", ".join(DAYS))
        else:
            days = tuple(sorted({DAYS.index(d.lower()) for d in raw_days}))
    clean = name.strip() if isinstance(name, str) else ""

    def clock(field: str, required: bool = True, default: time | None = None) -> time | None:
        value = item.get(field)
        if value is None and not required:
            return default
        parsed = parse_clock(value)
        if parsed is None:
            errors[field] = CLOCK_MESSAGES[field]
        return parsed

    def money(field: str, high: int) -> int | None:
        cents = _whole(item.get(field), 0, high)
        if cents is None:
            errors[field] = Text(MONEY_MESSAGES[field], high=f"{high:,}")
        return cents

    period: Period | None = None
    if kind == FLAT:
        price = money("priceCents", MAX_PRICE_CENTS)
        enter_from, enter_until = clock("enterFrom"), clock("enterUntil")
        leave_by, leave_from = clock("leaveBy"), clock("leaveFrom", required=False)
        if enter_from is not None and enter_from == enter_until:
            errors["enterUntil"] = _("the entry window must end at another time than it starts")
        if not errors:
            period = FlatWindow(clean, price, enter_from, enter_until, leave_by, leave_from, days, vehicle_type)
    elif kind == HOURLY:
        rate = money("rateCents", MAX_RATE_CENTS)
        start, end = clock("start", required=False, default=time(0)), clock("end", required=False, default=time(0))
        if not errors:
            period = HourlyPeriod(clean, rate, start, end, days, vehicle_type)
    else:
        price = money("priceCents", MAX_PRICE_CENTS)
        raw_dates = item.get("dates")
        dates: list[date] = []
        if not isinstance(raw_dates, list) or not raw_dates or len(raw_dates) > MAX_DATES:
            errors["dates"] = _("dates are a list of 1 to %(most)d dates such as 2026-12-31", most=MAX_DATES)
        else:
            for value in raw_dates:
                parsed = _parse_date(value)
                if parsed is None:
                    errors["dates"] = _("%(value)s is not a date such as 2026-12-31", value=repr(value))
                    break
                dates.append(parsed)
        if not errors:
            period = EventRate(clean, price, tuple(sorted(set(dates))), vehicle_type)
    return period, errors


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# One whole message per field (a translator sees each sentence whole).
CLOCK_MESSAGES = {
    "enterFrom": _("the entry window's start is a local time such as 18:00 (00:00 to 23:59)"),
    "enterUntil": _("the entry window's end is a local time such as 18:00 (00:00 to 23:59)"),
    "leaveFrom": _("the earliest exit is a local time such as 18:00 (00:00 to 23:59)"),
    "leaveBy": _("the latest exit is a local time such as 18:00 (00:00 to 23:59)"),
    "start": _("the start is a local time such as 18:00 (00:00 to 23:59)"),
    "end": _("the end is a local time such as 18:00 (00:00 to 23:59)"),
}
MONEY_MESSAGES = {"priceCents": N_("the price is a whole number of cents from 0 to %(high)s"),
                  "rateCents": N_("the rate is a whole number of cents from 0 to %(high)s")}


# --- in words ----------------------------------------------------------------------------------

def _listed(names: list[Text]) -> Text:
    """Day names as one phrase: "Monday", "Monday and Friday", "Monday, Wednesday and Friday"."""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return _("%(first)s and %(last)s", first=names[0], last=names[1])
    return _("%(first)s, %(rest)s", first=names[0], rest=_listed(names[1:]))


def _days_text(days: tuple[int, ...]) -> Text:
    if not days or len(days) == 7:
        return _("any day")
    if days == (5, 6):
        return _("Saturday and Sunday")
    if days == (0, 1, 2, 3, 4):
        return _("Monday to Friday")
    return _listed([Text(DAY_NAMES[DAYS[d]]) for d in days])


def words(period: Period) -> Text:
    """One line a driver understands: "Night rate: $8.00 for entering 18:00–03:00 (any day) and
    leaving by 08:00" (a Text: read in the reader's language on a page)."""
    line = _line(period)
    if period.vehicle_type:
        return _("%(line)s (%(vehicle_type)s only)", line=line, vehicle_type=Text(period.vehicle_type))
    return line


def _line(period: Period) -> Text:
    if isinstance(period, FlatWindow):
        values = dict(name=period.name, price=format_money(period.price_cents),
                      start=_clock_text(period.enter_from), end=_clock_text(period.enter_until),
                      days=_days_text(period.days), leave_by=_clock_text(period.leave_by))
        if period.leave_from is not None:
            return _("%(name)s: %(price)s for entering %(start)s–%(end)s (%(days)s) and leaving "
                     "%(leave_from)s–%(leave_by)s", leave_from=_clock_text(period.leave_from), **values)
        return _("%(name)s: %(price)s for entering %(start)s–%(end)s (%(days)s) and leaving by %(leave_by)s",
                 **values)
    if isinstance(period, HourlyPeriod):
        values = dict(name=period.name, price=format_money(period.rate_cents), days=_days_text(period.days))
        if period.start == period.end:
            return _("%(name)s: %(price)s per started hour, all day, %(days)s", **values)
        return _("%(name)s: %(price)s per started hour, %(start)s–%(end)s, %(days)s",
                 start=_clock_text(period.start), end=_clock_text(period.end), **values)
    shown = ", ".join(d.isoformat() for d in period.dates[:5]) + (" …" if len(period.dates) > 5 else "")
    return _("%(name)s: %(price)s for the first 24 hours of a stay entering on %(dates)s, instead of every "
             "other rate", name=period.name, price=format_money(period.price_cents), dates=shown)
