"""Report arithmetic on already-aggregated numbers: comparisons, medians,
occupancy from per-hour entry/exit aggregates, CSV text (money cells: domain.money). Pure Python."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator, Sequence

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


def money_column(name: str, currency: str | None) -> str:
    """A CSV money column's header in the currency its values are in: "amount_usd" stays for a USD garage,
    "amount_eur", "amount_jpy" elsewhere (it said "_usd" over yen, and an integrator reading by header
    booked yen as dollars; a figure named in "_cents" too: the close's "revenue_cents" is "revenue_eur");
    `currency` None (garages in several currencies in one column): "amount"."""
    base = next((name[:-len(unit)] for unit in ("_usd", "_cents") if name.endswith(unit)), name)
    return f"{base}_{currency.lower()}" if currency else base


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


def _hours(base: int, buckets: Sequence[Bucket], events: Sequence[HourEvents],
           now: datetime | None) -> Iterator[tuple[int, int, float, float] | None]:
    """Per hour: (cars inside at its start, its peak, its occupancy integral in car-seconds, its
    seconds so far), None for an hour not yet begun; `now` None: every hour is over."""
    level = base
    for bucket, ev in zip(buckets, events):
        a = bucket.start.timestamp()
        b = bucket.end.timestamp() if now is None else min(bucket.end, max(now, bucket.start)).timestamp()
        if b <= a:
            yield None
            continue
        integral = level * (b - a) + (ev.entries - ev.departures) * b - ev.signed_seconds
        peak = level
        if ev.max_running is not None:
            # Events exactly at the hour's start (a car leaving at 13:00) are
            # already applied at its first instant: `level` then never occurs.
            at_edge = ev.first_seconds is not None and abs(ev.first_seconds - a) < EDGE_SECONDS
            peak = base + ev.max_running if at_edge else max(level, base + ev.max_running)
        yield level, peak, integral, b - a
        level += ev.entries - ev.departures


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
    return [None if hour is None else OccupancyPoint(bucket, hour[0], hour[1], max(0.0, hour[2] / hour[3]))
            for bucket, hour in zip(buckets, _hours(base, buckets, events, now))]


@dataclass(frozen=True)
class DayOccupancy:
    """A past local day's occupancy counted from the cars inside at its start, whatever that number is
    (a rollup keeps it: report_days, report_hours): with L cars inside at its start, the day's peak is
    L + `peak_running`, its average (L·seconds + `occupancy_seconds`) / seconds, and each hour's
    average L + its `offsets` entry (what occupancy_series gives the day's hours from L)."""

    peak_running: int | None
    occupancy_seconds: float
    offsets: list[float]


def day_occupancy(buckets: Sequence[Bucket], events: Sequence[HourEvents]) -> DayOccupancy:
    """`events`: the day's hours, their max_running counted from the day's start."""
    hours = [hour for hour in _hours(0, buckets, events, None) if hour is not None]
    return DayOccupancy(max((peak for _, peak, _, _ in hours), default=None),
                        sum(integral for _, _, integral, _ in hours),
                        [integral / seconds for _, _, integral, seconds in hours])


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday
    hour: int
    average: float | None
    hours: int  # how many hours of the period fell in this cell


HOURS_OF_WEEK = 7 * 24


def hour_of_week_of(local_start: datetime) -> int:
    """An hour's place in the week: its local weekday (Monday 0) × 24 + its local hour."""
    return local_start.weekday() * 24 + local_start.hour


@dataclass
class WeekProfile:
    """A period's hours folded by hour of the week (hour_of_week_of): the entries and exits in them, the
    sum of their average occupancy and how many of them had begun (the traffic by hour of day and the
    heat map). Built hour by hour (`add_hours`) or from rollups (`add_hour_of_week`, `add_level`)."""

    entries: list[int] = field(default_factory=lambda: [0] * HOURS_OF_WEEK)
    exits: list[int] = field(default_factory=lambda: [0] * HOURS_OF_WEEK)
    occupancy: list[float] = field(default_factory=lambda: [0.0] * HOURS_OF_WEEK)
    hours: list[int] = field(default_factory=lambda: [0] * HOURS_OF_WEEK)

    @classmethod
    def of(cls, buckets: Sequence[Bucket], events: Sequence[HourEvents],
           points: Sequence[OccupancyPoint | None]) -> "WeekProfile":
        profile = cls()
        profile.add_hours(buckets, events, points)
        return profile

    def add_hours(self, buckets: Sequence[Bucket], events: Sequence[HourEvents],
                  points: Sequence[OccupancyPoint | None]) -> None:
        for bucket, ev, point in zip(buckets, events, points):
            k = hour_of_week_of(bucket.local_start)
            self.entries[k] += ev.entries
            self.exits[k] += ev.exits
            if point is not None:
                self.occupancy[k] += point.average
                self.hours[k] += 1

    def add_hour_of_week(self, k: int, entries: int, exits: int, occupancy: float, hours: int) -> None:
        self.entries[k] += entries
        self.exits[k] += exits
        self.occupancy[k] += occupancy
        self.hours[k] += hours

    def add_level(self, hours_of_week: Iterable[int], level: int) -> None:
        """`level` cars more in each of these hours (a rolled-up day's cars inside at its start)."""
        for k in hours_of_week:
            self.occupancy[k] += level

    def hour_of_day(self) -> tuple[list[int], list[int]]:
        """The entries and the exits per local hour of the day (0-23), summed over the weekdays."""
        return ([sum(self.entries[wd * 24 + hr] for wd in range(7)) for hr in range(24)],
                [sum(self.exits[wd * 24 + hr] for wd in range(7)) for hr in range(24)])

    def heat(self, first_weekday: int = 0) -> list[list["HeatCell"]]:
        """7 rows (the week from `first_weekday`: Mon..Sun by default) × 24 columns of the mean hourly
        average occupancy."""
        return [[HeatCell(wd, hr, self.occupancy[wd * 24 + hr] / self.hours[wd * 24 + hr]
                          if self.hours[wd * 24 + hr] else None, self.hours[wd * 24 + hr])
                 for hr in range(24)] for wd in week_order(first_weekday)]


def hour_of_week(points: Iterable[OccupancyPoint | None], first_weekday: int = 0) -> list[list[HeatCell]]:
    """7 rows (the week from `first_weekday`: Mon..Sun by default) × 24 columns of the mean hourly
    average occupancy."""
    points = [p for p in points if p is not None]
    return WeekProfile.of([p.bucket for p in points], [HourEvents()] * len(points), points).heat(first_weekday)
