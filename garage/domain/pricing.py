"""Fees. The quote shown to the attendant and the amount charged both come
from :func:`quote`, so the two can never differ for the same instant."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

DEFAULT_HOURLY_RATE_CENTS = 1000


@dataclass(frozen=True)
class Tariff:
    hourly_rate_cents: int = DEFAULT_HOURLY_RATE_CENTS

    def __post_init__(self) -> None:
        if self.hourly_rate_cents < 0:
            raise ValueError("hourly rate cannot be negative")


@dataclass(frozen=True)
class Quote:
    duration_minutes: int
    billable_hours: int
    amount_cents: int


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


def billable_hours(minutes: int) -> int:
    """Started hours, at least one: 60 min is 1 hour, 61 min is 2."""
    return max(1, math.ceil(minutes / 60))


def quote(entry: datetime, exit: datetime, tariff: Tariff) -> Quote:
    minutes = duration_minutes(entry, exit)
    hours = billable_hours(minutes)
    return Quote(minutes, hours, hours * tariff.hourly_rate_cents)
