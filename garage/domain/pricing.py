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
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from .money import format_dollars

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

    @property
    def in_grace(self) -> bool:
        return self.amount_cents == 0 and self.billable_hours == 0 and not self.lost and not self.permit


def duration_seconds(entry: datetime, exit: datetime) -> int:
    if entry.tzinfo is None or exit.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    # Whole microseconds matter for rounding: 60:00.000001 is past the hour.
    delta = exit - entry
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


def quote(entry: datetime, exit: datetime, tariff: Tariff, vehicle_type: str | None = None,
          lost: bool = False) -> Quote:
    minutes = duration_minutes(entry, exit)
    rate = tariff.rate_for(vehicle_type)
    hours = billable_hours(minutes, tariff.grace_minutes)
    fee = time_fee(hours, rate, tariff.daily_max_cents)
    lost_fee = tariff.lost_ticket_fee_cents if lost else 0
    if lost_fee and tariff.lost_ticket_mode == LOST_REPLACE:
        hours, fee = 0, 0
    return Quote(duration_minutes=minutes, billable_hours=hours, amount_cents=fee + lost_fee,
                 time_fee_cents=fee, lost_fee_cents=lost_fee, lost=lost, hourly_rate_cents=rate)


def recorded(duration: int, amount_cents: int, lost: bool = False,
             lost_fee_cents: int | None = None, discount_cents: int = 0, permit: bool = False) -> Quote:
    """The breakdown of a ticket already paid, from what was stored at exit
    (never recomputed with today's rules). `discount_cents`: what validations took off its time fee;
    `permit`: a permit car's (garage/domain/permits.py)."""
    lost_fee = lost_fee_cents or 0
    fee = amount_cents - lost_fee + discount_cents
    return Quote(duration_minutes=duration, billable_hours=billable_hours(duration) if fee else 0,
                 amount_cents=amount_cents, time_fee_cents=fee, lost_fee_cents=lost_fee, lost=lost,
                 discount_cents=discount_cents, permit=permit)


def describe(tariff: Tariff) -> list[str]:
    """The published rules, one line each, for the desk panel and the printed ticket."""
    lines = [f"{format_dollars(tariff.hourly_rate_cents)} per started hour"]
    for kind, rate in tariff.vehicle_rates:
        if rate != tariff.hourly_rate_cents:
            lines.append(f"{kind}: {format_dollars(rate)} per started hour")
    if tariff.grace_minutes:
        unit = "minute" if tariff.grace_minutes == 1 else "minutes"
        lines.append(f"First {tariff.grace_minutes} {unit} free")
    if tariff.daily_max_cents is not None:
        lines.append(f"Daily maximum {format_dollars(tariff.daily_max_cents)} per 24 hours")
    if tariff.lost_ticket_fee_cents:
        how = "instead of the time fee" if tariff.lost_ticket_mode == LOST_REPLACE else "plus the time fee"
        lines.append(f"Lost ticket: {format_dollars(tariff.lost_ticket_fee_cents)} {how}")
    return lines

