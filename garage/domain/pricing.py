"""Fees. The quote shown to the attendant and the amount charged both come
from :func:`quote`, so the two can never differ for the same instant.

The rules, all optional (the defaults are the original "$10 per started hour,
at least one hour"):

- **grace period** (minutes): a stay not longer than it costs nothing; one
  second longer and the whole stay is billed from entry (grace 10: 10:00 is
  free, 10:01 is one hour). 0 means no grace period, so a 0-minute stay still
  pays the minimum hour, as before.
- **daily maximum** (cents): the time fee of each 24 hours of stay is capped
  at it; a 30-hour stay pays one maximum plus the fee for the remaining 6
  hours, capped at the maximum again.
- **rate per vehicle type**: replaces the default hourly rate for that type.
- **lost-ticket fee**, in one of two modes: ``replace`` (charged instead of
  the time fee) or ``add`` (on top of it). No fee configured (0): a lost ticket
  pays the time fee like any other.
- **rate periods** (issue 19, garage/domain/rate_periods.py): flat prices for entry/exit windows
  (night, early bird), other hourly rates for some local hours and days (weekend), event prices for
  given local dates; each optionally for one vehicle type only.

The order in which they compose (every fee, the quote's and the exit's):

1. **grace**: a stay not longer than the grace period costs nothing (rule "Grace period"), whatever
   the periods say.
2. **event**: an entry on an event's local date pays the event's price for its first 24 hours
   (then the hourly schedule below for the hours after); it replaces every other rule, the daily
   maximum included, for that first day. The first event listed that applies wins.
3. **time-fee candidates** otherwise:
   - the *hourly schedule*: each started hour, counted on the real clock from the entry, costs the
     rate of the first hourly period listed whose local window holds the hour's start, else the
     standard rate (the vehicle type's own rate, if it has one); each 24 hours of stay cost at most the
     daily maximum. Named "Standard rate", the period's name, or both joined by " + " when mixed;
   - every flat window that applies to the stay (entered within its window, left within its leave
     window), at its price (at most the daily maximum).
4. **choice** (the garage's ``pricing_choice``): ``lowest`` (the default): the cheapest candidate (on a
   tie the hourly schedule, then the flat window listed first); ``first``: the first flat window listed
   that applies, else the hourly schedule.
5. **lost-ticket fee**: ``replace`` (the time fee becomes 0, rule "Lost-ticket fee") or ``add``.
6. **merchant validations** (garage/domain/validations.py), applied by the services after quote().

The quote names the rule that produced the time fee (``Quote.rule``); the exit stores it on the ticket
(``tickets.price_rule``) so a receipt printed later shows it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from . import rate_periods as periods_
from .errors import FeeTooLarge
from .money import MAX_PAYMENT_MINOR, format_money
from .tax import added_tax, split
from .rate_periods import CHOICES, FIRST, GRACE, LOST, LOWEST, STANDARD, EventRate, FlatWindow, HourlyPeriod
from .words import Text, _, n_

DEFAULT_HOURLY_RATE_CENTS = 1000
LOST_REPLACE = "replace"
LOST_ADD = "add"
LOST_MODES = (LOST_REPLACE, LOST_ADD)
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Tariff:
    hourly_rate_cents: int = DEFAULT_HOURLY_RATE_CENTS
    grace_minutes: int = 0
    daily_max_cents: int | None = None
    # (vehicle type, cents per started hour) pairs; a tuple keeps the tariff hashable.
    vehicle_rates: tuple[tuple[str, int], ...] = field(default=())
    lost_ticket_fee_cents: int = 0
    lost_ticket_mode: str = LOST_REPLACE
    # Rate periods (garage/domain/rate_periods.py), in the garage's order, and how candidates are chosen.
    periods: tuple[periods_.Period, ...] = field(default=())
    choice: str = LOWEST
    timezone: str = "UTC"  # the garage's: the periods' local times
    # Tax added on top of every price (garage/domain/tax.py; issue 22): the rate in basis points and
    # whether it is added (False: prices include it, nothing changes here).
    tax_rate_bp: int = 0
    tax_added: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.vehicle_rates, Mapping):
            object.__setattr__(self, "vehicle_rates", tuple(self.vehicle_rates.items()))
        if self.hourly_rate_cents < 0:
            raise ValueError("hourly rate cannot be negative")
        if self.grace_minutes < 0:
            raise ValueError("grace period cannot be negative")
        if self.daily_max_cents is not None and self.daily_max_cents <= 0:
            raise ValueError("daily maximum must be positive (None for no maximum)")
        if any(rate < 0 for _, rate in self.vehicle_rates):
            raise ValueError("vehicle rates cannot be negative")
        if self.lost_ticket_fee_cents < 0:
            raise ValueError("lost-ticket fee cannot be negative")
        if self.lost_ticket_mode not in LOST_MODES:
            raise ValueError(f"lost-ticket mode must be one of {LOST_MODES}")
        if self.choice not in CHOICES:
            raise ValueError(f"pricing choice must be one of {CHOICES}")
        object.__setattr__(self, "periods", tuple(self.periods))

    def rate_for(self, vehicle_type: str | None) -> int:
        """The vehicle type's own hourly rate, else the default one."""
        for kind, rate in self.vehicle_rates:
            if kind == vehicle_type:
                return rate
        return self.hourly_rate_cents


@dataclass(frozen=True)
class Quote:
    duration_minutes: int
    billable_hours: int      # 0 inside the grace period (and for a lost ticket in "replace" mode)
    amount_cents: int        # the total: what the driver pays
    time_fee_cents: int
    lost_fee_cents: int = 0
    lost: bool = False
    hourly_rate_cents: int | None = None  # the rate applied (None for a recorded quote)
    discount_cents: int = 0  # taken off the time fee by merchant validations (garage/domain/validations.py)
    permit: bool = False     # a permit car's: charged only for the part of its stay after the permit's end
    # The rule that produced the time fee ("Standard rate", "Night rate", "Grace period", ...); None
    # for a ticket paid before rate periods (migration 0013).
    rule: str | None = None
    tax_added_cents: int = 0  # the tax added on top (a garage whose prices exclude tax): in amount_cents

    @property
    def in_grace(self) -> bool:
        return self.amount_cents == 0 and self.billable_hours == 0 and not self.lost and not self.permit


def duration_seconds(entry: datetime, exit: datetime) -> int:
    if entry.tzinfo is None or exit.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    # Whole microseconds matter for rounding: 60:00.000001 is past the hour. On the real clock: two
    # datetimes of the same zone subtract by their wall clocks (a DST night would lose or gain an hour).
    delta = exit.astimezone(timezone.utc) - entry.astimezone(timezone.utc)
    micro = delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
    return max(0, -(-micro // 1_000_000))


def duration_minutes(entry: datetime, exit: datetime) -> int:
    """Length of stay, seconds rounded up to the whole minute (never negative)."""
    return -(-duration_seconds(entry, exit) // 60)


def billable_hours(minutes: int, grace_minutes: int = 0) -> int:
    """Started hours, at least one: 60 min is 1 hour, 61 min is 2.
    Inside a grace period (a stay not longer than it): 0."""
    if grace_minutes > 0 and minutes <= grace_minutes:
        return 0
    return max(1, math.ceil(minutes / 60))


def time_fee(hours: int, rate_cents: int, daily_max_cents: int | None = None) -> int:
    """Fee for `hours` started hours: each full 24 hours costs at most the
    daily maximum, and so do the hours left over."""
    if daily_max_cents is None:
        return hours * rate_cents
    days, rest = divmod(hours, HOURS_PER_DAY)
    per_day = min(daily_max_cents, HOURS_PER_DAY * rate_cents)
    return days * per_day + min(daily_max_cents, rest * rate_cents)


MAX_RULE_TEXT = 120  # tickets.price_rule's length


def _schedule(entry: datetime, hours: int, rate: int, hourly: Sequence[HourlyPeriod],
              daily_max_cents: int | None, zone: ZoneInfo, skip_days: int = 0) -> tuple[int, list[str]]:
    """The hourly schedule's fee for `hours` started hours from `entry` (each hour at the rate of the
    first hourly period holding its start, else `rate`; each 24 hours capped at the daily maximum),
    leaving out the first `skip_days` 24 hours; and the names of the rates used, in order."""
    if not hourly:
        skipped = min(hours, skip_days * HOURS_PER_DAY)
        return time_fee(hours, rate, daily_max_cents) - time_fee(skipped, rate, daily_max_cents), \
            ([STANDARD] if hours > skipped else [])
    total, names = 0, []
    entry = entry.astimezone(timezone.utc)  # hours added on the real clock, not the wall clock
    for day_start in range(skip_days * HOURS_PER_DAY, hours, HOURS_PER_DAY):
        day_fee = 0
        for h in range(day_start, min(hours, day_start + HOURS_PER_DAY)):
            start = entry + timedelta(hours=h)  # the real clock: a DST change neither adds nor drops an hour
            period = next((p for p in hourly if p.covers(start, zone)), None)
            day_fee += rate if period is None else period.rate_cents
            name = STANDARD if period is None else period.name
            if name not in names:
                names.append(name)
        total += day_fee if daily_max_cents is None else min(day_fee, daily_max_cents)
    return total, names


def _joined(names: Sequence[str]) -> str:
    text = " + ".join(names) or STANDARD
    return text if len(text) <= MAX_RULE_TEXT else text[:MAX_RULE_TEXT - 1] + "…"


def time_fee_and_rule(entry: datetime, exit: datetime, hours: int, tariff: Tariff,
                      vehicle_type: str | None = None) -> tuple[int, str]:
    """Steps 2-4 of the module's order: the time fee of a stay past any grace, and the rule's name."""
    rate = tariff.rate_for(vehicle_type)
    mine = [p for p in tariff.periods if periods_.applies_to(p, vehicle_type)]
    if not mine:
        return time_fee(hours, rate, tariff.daily_max_cents), STANDARD
    zone = ZoneInfo(tariff.timezone)
    hourly = [p for p in mine if isinstance(p, HourlyPeriod)]
    for p in mine:
        if isinstance(p, EventRate) and p.applies(entry, zone):
            rest, _names = _schedule(entry, hours, rate, hourly, tariff.daily_max_cents, zone, skip_days=1)
            return p.price_cents + rest, p.name
    fee, names = _schedule(entry, hours, rate, hourly, tariff.daily_max_cents, zone)
    best = (fee, _joined(names))
    for p in mine:
        if isinstance(p, FlatWindow) and p.applies(entry, exit, zone):
            price = flat_price(p, tariff)
            if tariff.choice == FIRST:
                return price, p.name
            if price < best[0]:
                best = (price, p.name)
    return best


def flat_price(window: FlatWindow, tariff: Tariff) -> int:
    """A flat window's price, capped at the daily maximum (its stay is never longer than a day or so)."""
    cap = tariff.daily_max_cents
    return window.price_cents if cap is None else min(window.price_cents, cap)


def quote(entry: datetime, exit: datetime, tariff: Tariff, vehicle_type: str | None = None,
          lost: bool = False) -> Quote:
    minutes = duration_minutes(entry, exit)
    rate = tariff.rate_for(vehicle_type)
    hours = billable_hours(minutes, tariff.grace_minutes)
    if hours == 0:
        fee, rule = 0, GRACE
    else:
        fee, rule = time_fee_and_rule(entry, exit, hours, tariff, vehicle_type)
    lost_fee = tariff.lost_ticket_fee_cents if lost else 0
    if lost_fee and tariff.lost_ticket_mode == LOST_REPLACE:
        hours, fee, rule = 0, 0, LOST
    return Quote(duration_minutes=minutes, billable_hours=hours, amount_cents=fee + lost_fee,
                 time_fee_cents=fee, lost_fee_cents=lost_fee, lost=lost, hourly_rate_cents=rate, rule=rule)


def check_recordable(q: Quote, currency: str | None = None) -> None:
    """A fee one payment can record (money.MAX_PAYMENT_MINOR), else FeeTooLarge (told in `currency`, the
    garage's): refused before anything is written, as a payment the database would refuse would otherwise
    be an internal error."""
    if q.amount_cents > MAX_PAYMENT_MINOR:
        raise FeeTooLarge(q.amount_cents, currency)


def with_added_tax(q: Quote, tariff: Tariff) -> Quote:
    """The quote with the tax added on top where the garage's prices exclude it (issue 22): last of
    all, on what the driver would pay after validations and permits (garage/domain/tax.py
    ``added_tax``, half-up); unchanged where prices include the tax or there is no rate."""
    if not tariff.tax_added or not tariff.tax_rate_bp or q.amount_cents == 0:
        return q
    tax = added_tax(q.amount_cents, tariff.tax_rate_bp)
    return replace(q, amount_cents=q.amount_cents + tax, tax_added_cents=tax)


def recorded(duration: int, amount_cents: int, lost: bool = False,
             lost_fee_cents: int | None = None, discount_cents: int = 0, rule: str | None = None,
             permit: bool = False, tax_rate_bp: int | None = None, tax_added: bool = False) -> Quote:
    """The breakdown of a ticket already paid, from what was stored at exit
    (never recomputed with today's rules). `discount_cents`: what validations took off its time fee;
    `permit`: a permit car's (garage/domain/permits.py); `tax_added`: the tax at `tax_rate_bp` was added
    on top of its price (split back out of the total: garage/domain/tax.py)."""
    lost_fee = lost_fee_cents or 0
    tax = split(amount_cents, tax_rate_bp, True)[1] if tax_added else 0
    fee = amount_cents - tax - lost_fee + discount_cents
    return Quote(duration_minutes=duration, billable_hours=billable_hours(duration) if fee else 0,
                 amount_cents=amount_cents, time_fee_cents=fee, lost_fee_cents=lost_fee, lost=lost,
                 discount_cents=discount_cents, rule=rule, permit=permit, tax_added_cents=tax)


def describe(tariff: Tariff) -> list[str]:
    """The published rules, one line each, for the desk panel and the printed ticket (each a Text: read
    in the reader's language on a page, English in the API)."""
    lines = [_("%(price)s per started hour", price=format_money(tariff.hourly_rate_cents))]
    for kind, rate in tariff.vehicle_rates:
        if rate != tariff.hourly_rate_cents:
            lines.append(_("%(vehicle_type)s: %(price)s per started hour", vehicle_type=Text(kind),
                           price=format_money(rate)))
    if tariff.grace_minutes:
        lines.append(n_("First %(num)d minute free", "First %(num)d minutes free", tariff.grace_minutes))
    if tariff.daily_max_cents is not None:
        lines.append(_("Daily maximum %(price)s per 24 hours", price=format_money(tariff.daily_max_cents)))
    if tariff.lost_ticket_fee_cents:
        fee = format_money(tariff.lost_ticket_fee_cents)
        lines.append(_("Lost ticket: %(price)s instead of the time fee", price=fee)
                     if tariff.lost_ticket_mode == LOST_REPLACE
                     else _("Lost ticket: %(price)s plus the time fee", price=fee))
    lines.extend(periods_.words(p) for p in tariff.periods)
    if any(isinstance(p, FlatWindow) for p in tariff.periods):
        lines.append(_("You pay the lowest price that applies") if tariff.choice == LOWEST
                     else _("The first flat price listed that applies is charged"))
    return lines
