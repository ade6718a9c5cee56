"""Revenue and traffic reports: every figure is aggregated in SQL over
indexed time ranges (tickets.entry_time / exit_time), so a month of a
million-ticket history answers quickly.

Local days and hours (the garage's timezone, DST included):
- PostgreSQL buckets with `date_trunc('hour', t, :tz)`, which returns the
  instant the local hour began (a fall-back day keeps its two 01:00 hours apart);
- SQLite has no timezones: it groups by UTC quarter-hour and Python folds the
  quarters into the local hours (every real-world UTC offset is a multiple of
  15 minutes), a few thousand grouped rows at most.
Days are then unions of their local hours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..domain.clock import utcnow
from ..domain.figures import (
    HourEvents, OccupancyPoint, median_window, occupancy_series, percent_change, safe_div,
)
from ..domain.periods import Bucket, BucketIndex, Period
from ..extensions import db
from ..models import Ticket, User
from .settings import get_settings

UNKNOWN_ATTENDANT = "API/unknown"
QUARTER = 900  # seconds


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    revenue_cents: int
    exits: int
    entries: int
    average_stay_minutes: float | None
    median_stay_minutes: float | None
    average_ticket_cents: float | None

    FIELDS = ("revenue_cents", "exits", "entries", "average_stay_minutes",
              "median_stay_minutes", "average_ticket_cents")


@dataclass(frozen=True)
class BreakdownRow:
    label: str
    exits: int
    revenue_cents: int


@dataclass(frozen=True)
class Row:
    """One report row (a local day or hour)."""

    bucket: Bucket
    entries: int
    exits: int
    revenue_cents: int
    stay_minutes_total: int
    peak_occupancy: int | None
    average_occupancy: float | None

    @property
    def average_stay_minutes(self) -> float | None:
        return safe_div(self.stay_minutes_total, self.exits)


@dataclass
class Report:
    period: Period
    previous: Period
    timezone: str
    total_spaces: int
    summary: Summary
    previous_summary: Summary
    by_method: list[BreakdownRow]
    by_vehicle_type: list[BreakdownRow]
    by_attendant: list[BreakdownRow]
    rows: list[Row]
    hours: list[Bucket]
    hour_events: list[HourEvents]
    occupancy: list[OccupancyPoint | None]
    changes: dict[str, float | None] = field(default_factory=dict)


# --- dialect helpers -------------------------------------------------------------------------

def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _hour_key(column: Any, tzname: str) -> Any:
    if _is_postgres():
        return sa.func.date_trunc("hour", column, tzname)
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) / QUARTER


def _epoch(column: Any) -> Any:
    if _is_postgres():
        return sa.extract("epoch", column)
    return (sa.func.julianday(column) - 2440587.5) * 86400.0


def _key_instant(key: Any) -> datetime:
    """The UTC instant a grouped key stands for (bucket start or quarter start)."""
    if isinstance(key, datetime):
        return key.astimezone(timezone.utc)
    return datetime.fromtimestamp(int(key) * QUARTER, timezone.utc)


def _in(column: Any, start: datetime, end: datetime) -> Any:
    return sa.and_(column >= start, column < end)


# --- queries ---------------------------------------------------------------------------------

def summary(start: datetime, end: datetime) -> Summary:
    exits, revenue, stay_total, stays, paid = db.session.execute(
        sa.select(sa.func.count(Ticket.id), sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0),
                  sa.func.coalesce(sa.func.sum(Ticket.duration_minutes), 0),
                  sa.func.count(Ticket.duration_minutes), sa.func.count(Ticket.amount_paid))
        .where(_in(Ticket.exit_time, start, end))
    ).one()
    entries = db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(_in(Ticket.entry_time, start, end)))
    return Summary(int(revenue), int(exits), int(entries or 0), safe_div(int(stay_total), stays),
                   median_stay(start, end, stays), safe_div(int(revenue), paid))


def median_stay(start: datetime, end: datetime, count: int) -> float | None:
    """Only the middle one or two durations leave the database."""
    offset, limit = median_window(count)
    if not limit:
        return None
    middle = db.session.scalars(
        sa.select(Ticket.duration_minutes)
        .where(_in(Ticket.exit_time, start, end), Ticket.duration_minutes.is_not(None))
        .order_by(Ticket.duration_minutes).offset(offset).limit(limit)
    ).all()
    return sum(middle) / len(middle) if middle else None


def breakdown(label: Any, start: datetime, end: datetime, join: Any = None) -> list[BreakdownRow]:
    revenue = sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0)
    query = sa.select(label, sa.func.count(Ticket.id), revenue).select_from(Ticket)
    if join is not None:
        query = query.outerjoin(*join)
    query = query.where(_in(Ticket.exit_time, start, end)).group_by(label).order_by(revenue.desc(), label)
    return [BreakdownRow(name, int(n), int(cents)) for name, n, cents in db.session.execute(query)]


def by_attendant(start: datetime, end: datetime) -> list[BreakdownRow]:
    closer = aliased(User)
    label = sa.func.coalesce(closer.username, UNKNOWN_ATTENDANT)
    return breakdown(label, start, end, join=(closer, closer.id == Ticket.closed_by_id))


def inside_at(moment: datetime) -> int:
    """Cars inside just before `moment`: inside now, minus those that came in
    since, plus those that left since. Three index-only counts over [moment, now)."""
    active = sa.select(sa.func.count(Ticket.id)).where(Ticket.status == "active").scalar_subquery()
    came = sa.select(sa.func.count(Ticket.id)).where(Ticket.entry_time >= moment).scalar_subquery()
    left = sa.select(sa.func.count(Ticket.id)).where(Ticket.exit_time >= moment).scalar_subquery()
    return int(db.session.scalar(sa.select(active - came + left)) or 0)


def hour_events(period: Period, tzname: str) -> tuple[list[Bucket], list[HourEvents], list[int], list[int]]:
    """Per local hour of the period: entries, exits, their summed times, the
    highest running (entries − exits) reached, revenue and stay minutes.

    One statement: entries (+1) and exits (−1) in the period as events, a
    running sum over them in time order (exits first at equal times), grouped
    by local hour."""
    start, end = period.bounds(tzname)
    hours = period.hour_buckets(tzname)
    ev = sa.union_all(
        sa.select(Ticket.entry_time.label("t"), sa.literal(1).label("d"),
                  sa.null().label("amount"), sa.null().label("stay"))
        .where(_in(Ticket.entry_time, start, end)),
        sa.select(Ticket.exit_time.label("t"), sa.literal(-1).label("d"),
                  Ticket.amount_paid.label("amount"), Ticket.duration_minutes.label("stay"))
        .where(_in(Ticket.exit_time, start, end)),
    ).subquery("ev")
    running = sa.func.sum(ev.c.d).over(order_by=(ev.c.t, ev.c.d), rows=(None, 0))
    run = sa.select(ev.c.t, ev.c.d, ev.c.amount, ev.c.stay, running.label("occ")).subquery("run")
    key = _hour_key(run.c.t, tzname).label("k")
    is_entry, is_exit = run.c.d == 1, run.c.d == -1
    query = sa.select(
        key,
        sa.func.sum(sa.case((is_entry, 1), else_=0)),
        sa.func.sum(sa.case((is_exit, 1), else_=0)),
        sa.func.coalesce(sa.func.sum(sa.case((is_entry, _epoch(run.c.t)))), 0),
        sa.func.coalesce(sa.func.sum(sa.case((is_exit, _epoch(run.c.t)))), 0),
        sa.func.max(run.c.occ),
        sa.func.min(_epoch(run.c.t)),
        sa.func.coalesce(sa.func.sum(run.c.amount), 0),
        sa.func.coalesce(sa.func.sum(run.c.stay), 0),
    ).group_by(key)
    index = BucketIndex(hours)
    events = [HourEvents() for _ in hours]
    revenue = [0] * len(hours)
    stays = [0] * len(hours)
    for k, entries, exits, entry_s, exit_s, max_run, first, cents, stay in db.session.execute(query):
        i = index.find(_key_instant(k))
        if i is None:  # cannot happen: events are filtered to the period
            continue
        old = events[i]  # SQLite: several quarter-hours fold into one hour
        events[i] = HourEvents(
            old.entries + int(entries), old.exits + int(exits),
            old.entry_seconds + float(entry_s), old.exit_seconds + float(exit_s),
            int(max_run) if old.max_running is None else max(old.max_running, int(max_run)),
            float(first) if old.first_seconds is None else min(old.first_seconds, float(first)))
        revenue[i] += int(cents)
        stays[i] += int(stay)
    return hours, events, revenue, stays


def _rows(period: Period, tzname: str, hours: list[Bucket], events: list[HourEvents],
          revenue: list[int], stays: list[int], occupancy: list[OccupancyPoint | None]) -> list[Row]:
    if period.group == "hour":
        return [Row(h, e.entries, e.exits, r, s, o.peak if o else None, o.average if o else None)
                for h, e, r, s, o in zip(hours, events, revenue, stays, occupancy)]
    days = period.day_buckets(tzname)
    index = BucketIndex(days)
    members: list[list[int]] = [[] for _ in days]
    for i, h in enumerate(hours):
        members[index.find(h.start)].append(i)
    rows = []
    for day, idx in zip(days, members):
        occ = [(occupancy[i], hours[i].seconds) for i in idx if occupancy[i] is not None]
        seconds = sum(s for _, s in occ)
        rows.append(Row(
            day, sum(events[i].entries for i in idx), sum(events[i].exits for i in idx),
            sum(revenue[i] for i in idx), sum(stays[i] for i in idx),
            max((o.peak for o, _ in occ), default=None),
            sum(o.average * s for o, s in occ) / seconds if seconds else None))
    return rows


def build_report(period: Period, now: datetime | None = None, *, compare: bool = True,
                 breakdowns: bool = True) -> Report:
    """Everything the report page shows. Charts and CSV rows pass
    compare=False, breakdowns=False to skip what they do not draw."""
    now = now or utcnow()
    settings = get_settings()
    tz = settings.timezone
    start, end = period.bounds(tz)
    previous = period.previous()
    hours, events, revenue, stays = hour_events(period, tz)
    occupancy = occupancy_series(inside_at(start), hours, events, now)
    current = summary(start, end) if compare or breakdowns else _summary_from(events, revenue, stays)
    report = Report(
        period=period, previous=previous, timezone=tz, total_spaces=settings.total_spaces,
        summary=current, previous_summary=summary(*previous.bounds(tz)) if compare else current,
        by_method=breakdown(sa.func.coalesce(Ticket.payment_method, "Unknown"), start, end) if breakdowns else [],
        by_vehicle_type=breakdown(Ticket.vehicle_type, start, end) if breakdowns else [],
        by_attendant=by_attendant(start, end) if breakdowns else [],
        rows=_rows(period, tz, hours, events, revenue, stays, occupancy),
        hours=hours, hour_events=events, occupancy=occupancy,
    )
    if compare:
        report.changes = {name: percent_change(getattr(report.summary, name),
                                               getattr(report.previous_summary, name))
                          for name in Summary.FIELDS}
    return report


def _summary_from(events: list[HourEvents], revenue: list[int], stays: list[int]) -> Summary:
    exits = sum(e.exits for e in events)
    total = sum(revenue)
    return Summary(total, exits, sum(e.entries for e in events), safe_div(sum(stays), exits), None,
                   safe_div(total, exits))


# --- ticket export ---------------------------------------------------------------------------

TICKET_BATCH = 2000


def tickets_in(period: Period, tzname: str) -> Iterator[sa.Row]:
    """Tickets that entered or left in the period, oldest entry first, read
    through a server-side cursor in batches (never the whole result in memory)."""
    start, end = period.bounds(tzname)
    issuer, closer = aliased(User), aliased(User)
    query = (
        sa.select(Ticket.ticket_number, Ticket.license_plate, Ticket.vehicle_type, Ticket.status,
                  Ticket.entry_time, Ticket.exit_time, Ticket.duration_minutes, Ticket.amount_paid,
                  Ticket.payment_method, issuer.username.label("issued_by"),
                  closer.username.label("closed_by"))
        .outerjoin(issuer, issuer.id == Ticket.issued_by_id)
        .outerjoin(closer, closer.id == Ticket.closed_by_id)
        .where(sa.or_(_in(Ticket.entry_time, start, end), _in(Ticket.exit_time, start, end)))
        .order_by(Ticket.entry_time, Ticket.id)
        .execution_options(stream_results=True, yield_per=TICKET_BATCH)
    )
    yield from db.session.execute(query)
