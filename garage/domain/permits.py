"""Monthly permits (season passes) and reserved spaces (issue 19). Pure Python.

A **permit** belongs to one garage: a holder (name, contact), up to the garage's ``permit_max_plates``
plates (``DEFAULT_MAX_PLATES``, at most ``MAX_PLATES``; a plate
is on at most one permit of a garage), a validity of whole local days ``valid_from`` ..
``valid_until`` (both included, in the garage's timezone), the price it was sold for, and a status:
``active`` or ``suspended`` (a manager's decision). **Expired** is not stored: it is an active permit
whose last day is over; "not yet valid" one whose first day has not come.

At the entry, a plate on a permit that is valid today, none of whose cars is inside
(**anti-passback**: one car of a permit inside at a time), gets a **permit ticket**: it counts in the
permit holders' pool and pays nothing while the permit is valid. A plate on a permit that is not
valid now (expired, suspended, not yet valid, another of its cars inside) is told to the attendant in
words (:func:`refusal`) and enters as a visitor, or is refused where the garage says so
(``permit_policy`` = ``refuse``).

**At the exit** (:func:`quote`): a permit car pays nothing up to the end of the permit's last day
(local midnight after ``valid_until``; a renewal while the car is inside moves it); a car that stays
longer pays as a visitor from that moment: the garage's ordinary pricing (grace, daily maximum, rate
periods) over the part of the stay after the end, the lost-ticket fee only if that part is charged.
The quote is the charge: the exit prices with this same function.

**Reserved spaces** (the figures: garage/domain/occupancy.py): R of the garage's spaces are kept for
permit holders.
A visitor enters only while the visitors inside are fewer than ``total - R`` AND the garage is not
full; a permit holder while the garage is not full (they may use any space). The database enforces
both in the entry's one conditional UPDATE (``garages.occupied`` counts every car,
``garages.occupied_permit`` the permit cars among them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from .clock import local_day_bounds
from .errors import InvalidInput
from .money import format_money
from .words import N_, Text, _, n_

STATUS_ACTIVE = "active"
STATUS_SUSPENDED = "suspended"
STATUSES = (STATUS_ACTIVE, STATUS_SUSPENDED)
# What the desk and the API say of a permit on a given day (not stored except the first two).
STATE_VALID = "valid"
STATE_EXPIRED = "expired"
STATE_SUSPENDED = "suspended"
STATE_NOT_YET = "not_yet_valid"
STATE_INSIDE = "car_inside"  # anti-passback: another car of the permit is inside

POLICY_VISITOR = "visitor"
POLICY_REFUSE = "refuse"
POLICIES = (POLICY_VISITOR, POLICY_REFUSE)

MAX_PLATES = 10            # plates per permit, whatever a garage allows
DEFAULT_MAX_PLATES = 5     # a garage's limit unless its manager sets another (garages.permit_max_plates)
HOLDER_MAX = 80
CONTACT_MAX = 120
MAX_PERMIT_DAYS = 400      # one sale covers at most this many days
MAX_PRICE_CENTS = 10_000_000
DEFAULT_RENEW_DAYS_AHEAD = 14
PERMIT_RULE = N_("Permit")     # the rule named on a permit car's quote and receipt
PERMIT_METHOD = N_("Permit")   # the payment method recorded for a permit car let out with nothing to pay


@dataclass(frozen=True)
class PermitFacts:
    """What the entry needs to know of the permit a plate is on."""

    id: int
    holder: str
    status: str
    valid_from: date
    valid_until: date
    other_car_inside: str | None = None  # the plate of the permit's car inside, if any


def state_on(facts: PermitFacts, today: date) -> str:
    """The permit's state for a car entering on the local day `today`."""
    if facts.status == STATUS_SUSPENDED:
        return STATE_SUSPENDED
    if today < facts.valid_from:
        return STATE_NOT_YET
    if today > facts.valid_until:
        return STATE_EXPIRED
    if facts.other_car_inside:
        return STATE_INSIDE
    return STATE_VALID


def refusal(facts: PermitFacts, today: date, policy: str = POLICY_VISITOR) -> str | None:
    """The attendant's words when the permit does not let this car in as a permit holder (None when it
    does): why, and what happens now (a visitor's ticket, or no entry)."""
    why = _why(facts, today)
    if why is None:
        return None
    if policy == POLICY_REFUSE:
        return _("%(why)s: this car is not let in (this garage refuses it)", why=why)
    return _("%(why)s: this car is charged as a visitor", why=why)


def full_for(facts: PermitFacts, today: date) -> str:
    """Why a plate on a permit that does not admit it now found no space: as a visitor, the visitors'
    spaces are full (not "reserved for permit holders", which would read as if the permit counted)."""
    return _("%(why)s: as a visitor this car cannot enter, the visitors' spaces are full", why=_why(facts, today))


def _why(facts: PermitFacts, today: date) -> Text | None:
    state = state_on(facts, today)
    if state == STATE_VALID:
        return None
    if state == STATE_SUSPENDED:
        return _("The permit of %(holder)s is suspended", holder=facts.holder)
    if state == STATE_NOT_YET:
        return _("The permit of %(holder)s starts on %(day)s", holder=facts.holder, day=facts.valid_from.isoformat())
    if state == STATE_EXPIRED:
        return _("The permit of %(holder)s expired on %(day)s", holder=facts.holder,
                 day=facts.valid_until.isoformat())
    return _("The permit of %(holder)s already has %(plate)s inside (one car per permit at a time)",
             holder=facts.holder, plate=facts.other_car_inside)


def entry_note(facts: PermitFacts, today: date, admitted: bool, policy: str = POLICY_VISITOR) -> tuple[bool, str]:
    """What the desk tells the attendant when an entering plate is on a permit: (admitted, words)."""
    if admitted:
        return True, _("Permit %(number)s · %(holder)s: no charge while it is valid (until %(day)s)",
                       number=number_of(facts.id), holder=facts.holder, day=facts.valid_until.isoformat())
    return False, refusal(facts, today, policy) or ""


def ends_at(valid_until: date, tzname: str) -> datetime:
    """The instant a permit stops covering a stay: the local midnight after its last day (UTC)."""
    return local_day_bounds(valid_until, tzname)[1]


def visitor_from(entry: datetime, exit: datetime, valid_until: date | None, tzname: str) -> datetime | None:
    """Where a permit car's stay starts to be charged as a visitor's (None: the permit covers it all)."""
    if valid_until is None:
        return entry
    end = ends_at(valid_until, tzname)
    if exit <= end:
        return None
    return max(entry, end)


def _text(value: Any, field: str, most: int, required: bool, messages: tuple[Text, Text, Text]) -> str:
    """`messages`: (not text, missing, too long or unprintable)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(messages[0], field=field)
    value = " ".join(value.split())
    if required and not value:
        raise InvalidInput(messages[1], field=field)
    if len(value) > most or not value.isprintable():
        raise InvalidInput(messages[2], field=field)
    return value


def check_holder(value: Any, field: str = "holder") -> str:
    return _text(value, field, HOLDER_MAX, True, (
        _("Holder's name must be text"), _("Enter the holder's name"),
        _("Holder's name has at most %(most)d printable characters", most=HOLDER_MAX)))


def check_contact(value: Any, field: str = "contact") -> str:
    return _text(value, field, CONTACT_MAX, False, (
        _("Contact must be text"), _("Enter the contact"),
        _("Contact has at most %(most)d printable characters", most=CONTACT_MAX)))


def check_status(value: Any, field: str = "status") -> str:
    if value not in STATUSES:
        raise InvalidInput(_("The status is active or suspended"), field=field)
    return value


def check_period(valid_from: Any, valid_until: Any, field: str = "validUntil") -> tuple[date, date]:
    if not isinstance(valid_from, date) or not isinstance(valid_until, date):
        raise InvalidInput(_("Give the first and the last day of the permit (YYYY-MM-DD)"), field=field)
    if valid_until < valid_from:
        raise InvalidInput(_("The last day cannot be before the first day"), field=field)
    if (valid_until - valid_from).days + 1 > MAX_PERMIT_DAYS:
        raise InvalidInput(_("A permit covers at most %(most)d days at a time", most=MAX_PERMIT_DAYS), field=field)
    return valid_from, valid_until


def check_price(value: Any, field: str = "priceCents") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRICE_CENTS:
        raise InvalidInput(_("The price must be from %(low)s to %(high)s", low=format_money(0),
                             high=format_money(MAX_PRICE_CENTS)), field=field)
    return value


def check_plate_limit(count: int, most: int, field: str = "plates") -> None:
    """The garage's own limit of plates per permit (1 .. MAX_PLATES)."""
    if count > most:
        raise InvalidInput(n_("This garage allows at most %(num)d plate per permit",
                              "This garage allows at most %(num)d plates per permit", most), field=field)


def check_plate_count(keys: list[str], field: str = "plates") -> list[str]:
    """Distinct plate keys, 1 .. MAX_PLATES (the same plate twice counts once)."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        raise InvalidInput(_("Enter at least one plate"), field=field)
    if len(unique) > MAX_PLATES:
        raise InvalidInput(_("A permit has at most %(most)d plates", most=MAX_PLATES), field=field)
    return unique


def next_period(valid_from: date, valid_until: date, today: date, months: int = 1) -> tuple[date, date]:
    """A renewal's period: from the day after the current end (or today, if it has already ended),
    for `months` calendar months (the day before the same day-of-month, clamped to the month's end)."""
    start = max(valid_until + timedelta(days=1), today)
    return start, add_months(start, months) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def number_of(permit_id: int) -> str:
    """How a permit is named on screens and prints."""
    return f"P-{permit_id:05d}"


# --- permit holders and visitors inside, day by day (the permits report) ------------------------

@dataclass(frozen=True)
class DayOccupancy:
    """One local day: the most permit cars and the most visitors inside at any moment of it, and the cars
    inside at its end (None while the day is not over)."""

    day: date
    peak_permit: int
    peak_visitor: int
    end_permit: int | None
    end_visitor: int | None


def occupancy_by_day(days: Sequence[tuple[date, datetime, datetime]],
                     stays: Iterable[tuple[datetime, datetime | None, bool]], now: datetime) -> list[DayOccupancy]:
    """`days`: consecutive (local day, start, end) in UTC; `stays`: (entry, exit or None while inside,
    a permit car?) of every car present at some moment of them. A car is inside over [entry, exit): one
    leaving as another enters is never counted twice, one leaving at midnight is inside at the end of
    the day before and not at the start of the next. A day that has not begun by `now` counts nothing;
    one not over has no end figures."""
    if not days:
        return []
    start, end = days[0][1], days[-1][2]
    inside = [0, 0]  # visitors, permit cars
    events: list[tuple[datetime, int, int]] = []  # (moment, -1 exit / +1 entry, 1 for a permit car)
    for entry, exit_, permit in stays:
        kind = 1 if permit else 0
        if exit_ is not None and (exit_ <= start or exit_ <= entry):
            continue  # gone before the first day, or never inside
        if entry < start:
            inside[kind] += 1
        elif entry < end:
            events.append((entry, 1, kind))
        else:
            continue
        if exit_ is not None and exit_ < end:
            events.append((exit_, -1, kind))
    events.sort(key=lambda event: (event[0], event[1]))  # at the same moment, exits first
    out: list[DayOccupancy] = []
    i = 0
    for day, day_start, day_end in days:
        if day_start > now:
            out.append(DayOccupancy(day, 0, 0, None, None))
            continue
        while i < len(events) and events[i][0] <= day_start and events[i][1] < 0:  # left at midnight
            inside[events[i][2]] -= 1
            i += 1
        peak = list(inside)
        while i < len(events) and events[i][0] < day_end:
            _moment, step, kind = events[i]
            inside[kind] += step
            peak[kind] = max(peak[kind], inside[kind])
            i += 1
        over = day_end <= now
        out.append(DayOccupancy(day, peak[1], peak[0], inside[1] if over else None, inside[0] if over else None))
    return out
