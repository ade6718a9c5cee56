"""Report arithmetic on already-aggregated numbers: comparisons, medians,
occupancy from per-hour entry/exit aggregates, CSV text (money cells: domain.money). Pure Python."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from .periods import Bucket
from .words import _

EDGE_SECONDS = 0.001
# English abbreviations of the weekdays, Monday first (pages show the locale's own: reports.present).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_order(first_weekday: int = 0) -> list[int]:
    """The weekdays (0 = Monday ... 6 = Sunday) in the order a week is read, from `first_weekday`
    (the reader's locale: Monday in Germany, Sunday in the United States)."""
    return [(first_weekday + i) % 7 for i in range(7)]


def percent_change(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous in %, or None when there is nothing to compare with."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous * 100.0


def format_change(change: float | None, decimal: Callable[[float], str] | None = None) -> str:
    """A change in % with its sign (+12.3%, −5.0%, ±0.0%); `decimal` writes the number (one decimal,
    ≥ 0) in the reader's locale (a page: 12,3 in German), else with a dot."""
    if change is None:
        return _("n/a")
    write = decimal or (lambda value: f"{value:.1f}")
    if round(change, 1) == 0:
        return f"±{write(0.0)}%"
    return f"{'+' if change > 0 else '−'}{write(round(abs(change), 1))}%"


def weighted_median(counts: Iterable[tuple[float, int]]) -> float | None:
    """Median of values given as (value, how many times) pairs: the mean of
    the middle one or two values once sorted."""
    pairs = sorted((v, n) for v, n in counts if n > 0)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    lower, upper = (total - 1) // 2, total // 2  # 0-based ranks of the middle value(s)
    seen, low_value = 0, None
    for value, n in pairs:
        if low_value is None and seen + n > lower:
            low_value = value
        if seen + n > upper:
            return (low_value + value) / 2
        seen += n
    return None  # unreachable: the ranks are below total


def safe_div(total: float, count: int) -> float | None:
    return total / count if count else None


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV (RFC 4180: CRLF, quotes only where needed; None is empty)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


# Text a spreadsheet would run as a formula gets a leading quote in CSV exports
# (done in SQL for both databases: services.reports._cell).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet must not run as a formula: a leading quote where it starts like one."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class HourEvents:
    """What the database returns per hour: numbers of entries and exits,
    Σ(+t for an entry, −t for an exit) in epoch seconds, the highest running
    (entries − exits) an event reached (counted from the period start) and
    the time of the hour's first event."""

    entries: int = 0
    exits: int = 0  # paid exits
    signed_seconds: float = 0.0
    max_running: int | None = None
    first_seconds: float | None = None
    voids: int = 0  # tickets voided: their space freed (a −t event like an exit), never an exit

    @property
    def departures(self) -> int:
        """Every space freed in the hour: the exits and the voids."""
        return self.exits + self.voids

    def merge(self, other: "HourEvents") -> "HourEvents":
        """Fold two parts of one hour (SQLite groups by quarter-hour)."""
        return HourEvents(
            self.entries + other.entries, self.exits + other.exits,
            self.signed_seconds + other.signed_seconds,
            _pick(max, self.max_running, other.max_running), _pick(min, self.first_seconds, other.first_seconds),
            self.voids + other.voids)


def _pick(choose, a, b):
    return b if a is None else a if b is None else choose(a, b)


@dataclass(frozen=True)
class OccupancyPoint:
    bucket: Bucket
    at_start: int
    peak: int
    average: float


def occupancy_series(base: int, buckets: Sequence[Bucket], events: Sequence[HourEvents],
                     now: datetime) -> list[OccupancyPoint | None]:
    """Peak and time-weighted average cars inside for each hour.

    `base` is the number inside at the first bucket's start. Inside an hour
    [a, b) the occupancy integral is
        at_start·(b−a) + Σ_entries (b−e) − Σ_exits (b−x)
      = at_start·(b−a) + (entries − exits)·b − Σ(±t),
    which needs only the counts and the signed sum of event times per hour (a voided ticket's
    space freed counts as an exit here: `departures`). Hours not
    yet begun are None; the current hour is averaged up to `now`."""
    level = base
    out: list[OccupancyPoint | None] = []
    for bucket, ev in zip(buckets, events):
        a = bucket.start.timestamp()
        b = min(bucket.end, max(now, bucket.start)).timestamp()
        if b <= a:
            out.append(None)
            continue
        integral = level * (b - a) + (ev.entries - ev.departures) * b - ev.signed_seconds
        peak = level
        if ev.max_running is not None:
            # Events exactly at the hour's start (a car leaving at 13:00) are
            # already applied at its first instant: `level` then never occurs.
            at_edge = ev.first_seconds is not None and abs(ev.first_seconds - a) < EDGE_SECONDS
            peak = base + ev.max_running if at_edge else max(level, base + ev.max_running)
        out.append(OccupancyPoint(bucket, level, peak, max(0.0, integral / (b - a))))
        level += ev.entries - ev.departures
    return out


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday
    hour: int
    average: float | None
    hours: int  # how many hours of the period fell in this cell


def hour_of_week(points: Iterable[OccupancyPoint | None], first_weekday: int = 0) -> list[list[HeatCell]]:
    """7 rows (the week from `first_weekday`: Mon..Sun by default) × 24 columns of the mean hourly
    average occupancy."""
    sums = [[0.0] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for p in points:
        if p is None:
            continue
        wd, hr = p.bucket.local_start.weekday(), p.bucket.local_start.hour
        sums[wd][hr] += p.average
        counts[wd][hr] += 1
    return [[HeatCell(wd, hr, sums[wd][hr] / counts[wd][hr] if counts[wd][hr] else None, counts[wd][hr])
             for hr in range(24)] for wd in week_order(first_weekday)]
