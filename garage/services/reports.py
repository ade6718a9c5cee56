"""Revenue and traffic reports: every figure is aggregated in SQL over
indexed time ranges (tickets.entry_time / exit_time), so a month of a
million-ticket history answers quickly.

Local days and hours (the garage's timezone, DST included): events are grouped
by a per-database hour key (persistence: Store.hour_key, Store.key_instant) and
folded here into the local hours of the period; days are unions of their local hours.

A report's complete local days come from the rollups (services/rollups.py builds them with the
functions here, over whole days: `summary_parts`, `hour_events`, and persistence/rollups.py), its other
days (today, any day not rolled up) from the rows; `period_summary`, `period_breakdowns` and
`period_hours` add the two up, so every figure is the one the rows alone give (tests/db/test_rollups.py).
A report grouped by day over more than a month (`Period.by_day`) reads no hours: `period_days` takes its
rolled-up days' rows whole and their hours folded by hour of the week (the heat map, the traffic by hour
of day), and counts only its other days hour by hour.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..domain.clock import local_day_bounds, utcnow
from ..domain.errors import DomainError
from ..domain.words import _
from ..domain.figures import (
    HourEvents, OccupancyPoint, WeekProfile, hour_of_week_of, occupancy_series, percent_change, safe_div, weighted_median,
)
from ..domain.periods import Bucket, BucketIndex, Period, runs
from ..domain.tickets import STATUS_ACTIVE, STATUS_VOIDED
from ..extensions import db
from ..models import Garage, PermitPayment, Refund, Ticket, User
from ..persistence import TICKET_CSV_COLUMNS, lost_fee_column, store, within
from ..persistence import rollups as rollup_table
from . import rollups
from .settings import get_settings

UNKNOWN_ATTENDANT = "API/unknown"


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    revenue_cents: int
    exits: int
    entries: int
    average_stay_minutes: float | None
    median_stay_minutes: float | None
    average_ticket_cents: float | None
    lost_tickets: int = 0
    lost_fee_cents: int = 0  # lost-ticket fees (part of revenue)
    voids: int = 0  # tickets voided in the period (issued by mistake: never revenue, never an exit)
    refunds: int = 0  # refunds given in the period, whatever day their payment was
    refunded_cents: int = 0
    permit_exits: int = 0  # paid exits of permit cars (issue 19; most pay nothing): part of `exits`
    permit_sales: int = 0  # permits sold or renewed in the period (permit_payments)
    permit_sales_cents: int = 0  # their amounts: revenue beside the tickets' (not in revenue_cents)

    @property
    def time_fee_cents(self) -> int:
        """Revenue from stays: what was paid less the lost-ticket fees."""
        return self.revenue_cents - self.lost_fee_cents

    @property
    def net_revenue_cents(self) -> int:
        """What was taken less what was given back in the period."""
        return self.revenue_cents - self.refunded_cents

    FIELDS = ("revenue_cents", "time_fee_cents", "lost_fee_cents", "lost_tickets", "refunded_cents",
              "net_revenue_cents", "voids", "exits", "entries", "average_stay_minutes", "median_stay_minutes",
              "average_ticket_cents", "permit_exits", "permit_sales", "permit_sales_cents")


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
    lost_tickets: int = 0
    lost_fee_cents: int = 0
    refunded_cents: int = 0  # refunds given in it

    @property
    def average_stay_minutes(self) -> float | None:
        return safe_div(self.stay_minutes_total, self.exits)


@dataclass
class Report:
    period: Period
    previous: Period
    timezone: str
    total_spaces: int
    summary: Summary | None  # None: built for a chart or CSV only (full=False)
    previous_summary: Summary | None
    by_method: list[BreakdownRow]
    by_vehicle_type: list[BreakdownRow]
    by_attendant: list[BreakdownRow]
    rows: list[Row]
    hours: list[Bucket]
    hour_events: list[HourEvents]
    occupancy: list[OccupancyPoint | None]
    profile: WeekProfile = field(default_factory=WeekProfile)  # the traffic by hour of day, the heat map
    changes: dict[str, float | None] = field(default_factory=dict)


# --- queries ---------------------------------------------------------------------------------

def _count(garage_id: int, column: Any, start: datetime, end: datetime) -> int:
    # count(*) so PostgreSQL can answer from the index alone
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                                 .where(Ticket.garage_id == garage_id, within(column, start, end))) or 0)


@dataclass
class SummaryParts:
    """What a summary is made of, added up over parts of its period (live ranges, rolled-up days): the
    names of report_days' figures (garage/persistence/rollups.py DAY_FIGURES) and the stays' histogram."""

    entries: int = 0
    departures: int = 0  # every ticket with its exit time in the period (voids too)
    exits: int = 0  # of them, those paid (count(amount_paid))
    revenue_cents: int = 0
    lost_tickets: int = 0
    lost_fee_cents: int = 0
    permit_exits: int = 0
    permit_free_exits: int = 0
    refunds: int = 0
    refunded_cents: int = 0
    permit_sales: int = 0
    permit_sales_cents: int = 0
    stays: Counter = field(default_factory=Counter)  # minutes stayed → tickets

    def add(self, figures: Any, stays: Iterable[tuple[int, int]] = ()) -> None:
        """Add another part's figures (anything with these attributes: a report_days row) and stays."""
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + int(getattr(figures, name)))
        for minutes, n in stays:
            self.stays[minutes] += n

    def summary(self) -> Summary:
        stays = sorted(self.stays.items())
        return Summary(self.revenue_cents, self.exits, self.entries,
                       safe_div(sum(m * n for m, n in stays), sum(n for _, n in stays)), weighted_median(stays),
                       # the average ticket is of the cars that paid for their stay: a permit car let out for
                       # nothing is no ticket sold (issue 19)
                       safe_div(self.revenue_cents, self.exits - self.permit_free_exits),
                       lost_tickets=self.lost_tickets, lost_fee_cents=self.lost_fee_cents,
                       voids=self.departures - self.exits, refunds=self.refunds, refunded_cents=self.refunded_cents,
                       permit_exits=self.permit_exits, permit_sales=self.permit_sales,
                       permit_sales_cents=self.permit_sales_cents)


FIGURES = tuple(name for name in SummaryParts.__dataclass_fields__ if name != "stays")


def summary_parts(garage_id: int, start: datetime, end: datetime) -> SummaryParts:
    """The summary's parts counted from the rows of [start, end). One grouped scan of the period's exits
    by stay length: totals and the median come from the (at most a few thousand) distinct durations."""
    lost_fee = lost_fee_column()
    histogram = db.session.execute(
        sa.select(Ticket.duration_minutes, sa.func.count(), sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0),
                  sa.func.count(Ticket.amount_paid), sa.func.count(lost_fee),
                  sa.func.coalesce(sa.func.sum(lost_fee), 0),
                  sa.func.count(sa.case((Ticket.permit_id.is_not(None), Ticket.amount_paid))),
                  sa.func.count(sa.case((sa.and_(Ticket.permit_id.is_not(None), Ticket.amount_paid == 0),
                                         Ticket.amount_paid))))
        .where(Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end))
        .group_by(Ticket.duration_minutes)
    ).all()
    within_period = {"garage_id": garage_id, "start": start, "end": end}
    refunds, refunded, sales, sold = db.session.execute(REFUNDS_IN, within_period).one()
    return SummaryParts(
        entries=_count(garage_id, Ticket.entry_time, start, end),
        departures=sum(int(row[1]) for row in histogram),
        exits=sum(int(row[3]) for row in histogram),  # paid: a voided ticket has an exit time but no amount
        revenue_cents=sum(int(row[2]) for row in histogram),
        lost_tickets=sum(int(row[4]) for row in histogram), lost_fee_cents=sum(int(row[5]) for row in histogram),
        permit_exits=sum(int(row[6]) for row in histogram), permit_free_exits=sum(int(row[7]) for row in histogram),
        refunds=int(refunds), refunded_cents=int(refunded), permit_sales=int(sales), permit_sales_cents=int(sold),
        stays=Counter({int(row[0]): int(row[1]) for row in histogram if row[0] is not None}))


def summary(garage_id: int, start: datetime, end: datetime) -> Summary:
    """The summary of [start, end) from the rows (the day close; a report reads rollups too: period_summary)."""
    return summary_parts(garage_id, start, end).summary()


# Permits sold or renewed in a period (by when they were paid: issue 19), read with the refunds.
_SALES = sa.select(PermitPayment.amount_cents).where(
    PermitPayment.garage_id == sa.bindparam("garage_id"), PermitPayment.taken_at >= sa.bindparam("start"),
    PermitPayment.taken_at < sa.bindparam("end")).subquery()
# Refunds given in a period (by when they were given: a refund is that day's money going out), and the
# period's permit sales: one statement.
REFUNDS_IN = (sa.select(sa.func.count(Refund.id), sa.func.coalesce(sa.func.sum(Refund.amount_cents), 0),
                        sa.select(sa.func.count()).select_from(_SALES).scalar_subquery(),
                        sa.select(sa.func.coalesce(sa.func.sum(_SALES.c.amount_cents), 0)).scalar_subquery())
              .where(Refund.garage_id == sa.bindparam("garage_id"), Refund.refunded_at >= sa.bindparam("start"),
                     Refund.refunded_at < sa.bindparam("end")))


@dataclass(frozen=True)
class Breakdowns:
    by_method: list[BreakdownRow]
    by_vehicle_type: list[BreakdownRow]
    by_attendant: list[BreakdownRow]


def breakdown_rows(garage_id: int, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """One grouped scan of the paid exits of [start, end) by (method, vehicle type, who closed it):
    (method, vehicle type, closer's username, exits, cents)."""
    closer = aliased(User)
    return [tuple(row) for row in db.session.execute(
        sa.select(Ticket.payment_method, Ticket.vehicle_type, closer.username, sa.func.count(),
                  sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0))
        .select_from(Ticket).outerjoin(closer, closer.id == Ticket.closed_by_id)
        .where(Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end), Ticket.status != STATUS_VOIDED)
        .group_by(Ticket.payment_method, Ticket.vehicle_type, Ticket.closed_by_id, closer.username))]


def fold_breakdowns(rows: list[tuple[Any, ...]]) -> Breakdowns:
    """Breakdown rows (of live ranges and rolled-up days alike) folded into the three tables (a few dozen rows)."""

    def fold(position: int, missing: str) -> list[BreakdownRow]:
        totals: dict[str, list[int]] = {}
        for row in rows:
            entry = totals.setdefault(row[position] or missing, [0, 0])
            entry[0] += int(row[3])
            entry[1] += int(row[4])
        ordered = sorted(totals.items(), key=lambda item: (-item[1][1], item[0].lower()))
        return [BreakdownRow(label, n, cents) for label, (n, cents) in ordered]

    return Breakdowns(fold(0, "Unknown"), fold(1, "Unknown"), fold(2, UNKNOWN_ATTENDANT))


def breakdowns(garage_id: int, start: datetime, end: datetime) -> Breakdowns:
    """The three breakdown tables of [start, end) from the rows (the day close)."""
    return fold_breakdowns(breakdown_rows(garage_id, start, end))


def period_base(garage_id: int, period: Period, tzname: str, built: dict[date, Any], now: datetime) -> int:
    """Cars inside at the period's start (inside_at). A period running to `now` whose first days are
    rolled up takes their entries and departures from report_days: the cars inside now, less those that
    came since the first day not rolled up (today, usually) plus those that left since, less what the
    rolled-up days added (no count over a month of tickets, issue 21)."""
    start, end = period.bounds(tzname)
    if not start <= now < end:
        return inside_at(garage_id, start, now)
    added, since = 0, start  # Σ(entries − departures) of the rolled-up days before `since`
    for i, bucket in enumerate(period.day_buckets(tzname)):
        row = built.get(period.first + timedelta(days=i))
        if row is None or bucket.end > now:
            break
        added, since = added + row.entries - row.departures, bucket.end
    return inside_at(garage_id, since, now, from_now=True) - added


def inside_at(garage_id: int, moment: datetime, now: datetime, from_now: bool = False) -> int:
    """Cars inside just before `moment`, from index-only counts over the
    shorter side of history (`from_now`: the side from now): either everything that came in before it
    minus everything that left before it, or the cars inside now minus those that
    came in since plus those that left since."""
    count = sa.select(sa.func.count()).select_from(Ticket).where(Ticket.garage_id == garage_id)
    first_entry = None if from_now else \
        db.session.scalar(sa.select(sa.func.min(Ticket.entry_time)).where(Ticket.garage_id == garage_id))
    if first_entry is not None and moment - first_entry < now - moment:
        came = count.where(Ticket.entry_time < moment).scalar_subquery()
        left = count.where(Ticket.exit_time < moment).scalar_subquery()
        return int(db.session.scalar(sa.select(came - left)) or 0)
    active = count.where(Ticket.status == STATUS_ACTIVE).scalar_subquery()
    came = count.where(Ticket.entry_time >= moment).scalar_subquery()
    left = count.where(Ticket.exit_time >= moment).scalar_subquery()
    return int(db.session.scalar(sa.select(active - came + left)) or 0)


@dataclass
class HourSums:
    """What the period's exits in one local hour add up to."""

    revenue_cents: int = 0
    stay_minutes: int = 0
    lost_tickets: int = 0
    lost_fee_cents: int = 0
    refunded_cents: int = 0

    def add(self, revenue_cents: int, stay_minutes: int, lost_tickets: int, lost_fee_cents: int,
            refunded_cents: int = 0) -> None:
        self.revenue_cents += revenue_cents
        self.stay_minutes += stay_minutes
        self.lost_tickets += lost_tickets
        self.lost_fee_cents += lost_fee_cents
        self.refunded_cents += refunded_cents

    @classmethod
    def total(cls, parts: Iterable["HourSums"]) -> "HourSums":
        out = cls()
        for part in parts:
            out.add(part.revenue_cents, part.stay_minutes, part.lost_tickets, part.lost_fee_cents,
                    part.refunded_cents)
        return out


def hour_events(garage_id: int, period: Period,
                tzname: str) -> tuple[list[Bucket], list[HourEvents], list[HourSums]]:
    """Per local hour of the period: entries, exits, Σ ±event time, the highest
    running (entries − exits) reached, the first event's time, and the exits'
    revenue, stay minutes, lost tickets and lost-ticket fees.

    One statement: entries (+1) and exits (−1) in the period as events, a
    running sum over them in time order (exits first at equal times), grouped
    by local hour."""
    start, end = period.bounds(tzname)
    hours = period.hour_buckets(tzname)
    ev = sa.union_all(
        sa.select(Ticket.entry_time.label("t"), sa.literal(1).label("d"),
                  sa.null().label("amount"), sa.null().label("stay"), sa.null().label("lost_fee"))
        .where(Ticket.garage_id == garage_id, within(Ticket.entry_time, start, end)),
        sa.select(Ticket.exit_time.label("t"), sa.literal(-1).label("d"),
                  Ticket.amount_paid.label("amount"), Ticket.duration_minutes.label("stay"),
                  lost_fee_column().label("lost_fee"))
        .where(Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end)),
    ).subquery("ev")
    running = sa.func.sum(ev.c.d).over(order_by=(ev.c.t, ev.c.d), rows=(None, 0))
    run = sa.select(ev.c.t, ev.c.d, ev.c.amount, ev.c.stay, ev.c.lost_fee, running.label("occ")).subquery("run")
    db_store = store()
    key = db_store.hour_key(run.c.t, tzname).label("k")
    seconds = db_store.epoch(run.c.t)
    query = sa.select(
        key,
        sa.func.sum(sa.case((run.c.d == 1, 1), else_=0)),
        sa.func.count(run.c.amount),  # exits: a voided ticket frees its space (−1) but paid nothing
        sa.func.sum(sa.case((run.c.d == -1, 1), else_=0)) - sa.func.count(run.c.amount),  # voids
        sa.func.sum(run.c.d * seconds),
        sa.func.max(run.c.occ),
        sa.func.min(seconds),
        sa.func.coalesce(sa.func.sum(run.c.amount), 0),
        sa.func.coalesce(sa.func.sum(run.c.stay), 0),
        sa.func.count(run.c.lost_fee),
        sa.func.coalesce(sa.func.sum(run.c.lost_fee), 0),
    ).group_by(key)
    db_store.sort_in_memory()  # the month's events, not on disk
    index = BucketIndex(hours)
    events = [HourEvents() for _ in hours]
    sums = [HourSums() for _ in hours]
    for k, entries, exits, voids, signed, max_run, first, cents, stay, lost, lost_fee in db.session.execute(query):
        i = index.find(db_store.key_instant(k))
        if i is None:  # cannot happen: events are filtered to the period
            continue
        events[i] = events[i].merge(HourEvents(int(entries), int(exits), float(signed), int(max_run), float(first),
                                               int(voids)))
        sums[i].add(int(cents), int(stay), int(lost), int(lost_fee))
    refund_key = db_store.hour_key(Refund.refunded_at, tzname).label("k")
    for k, cents in db.session.execute(
            sa.select(refund_key, sa.func.sum(Refund.amount_cents))
            .where(Refund.garage_id == garage_id, within(Refund.refunded_at, start, end)).group_by(refund_key)):
        i = index.find(db_store.key_instant(k))
        if i is not None:
            sums[i].add(0, 0, 0, 0, int(cents))
    return hours, events, sums


# --- a period from rollups and live rows (issue 21) --------------------------------------------

def _split(period: Period, built: dict[date, Any]) -> tuple[list[date], list[tuple[date, date]]]:
    """The period's rolled-up days, and the runs of its other days (counted from the live rows)."""
    days = [period.first + timedelta(days=i) for i in range(period.days)]
    return [d for d in days if d in built], runs(d for d in days if d not in built)


def period_summary(garage_id: int, period: Period, tzname: str, built: dict[date, Any],
                   months: set[date] = frozenset()) -> Summary:
    """The period's summary: its rolled-up days' figures plus the rest counted from the rows; the stays of
    its days in `months` (summed: rollups.months_for) from their months' sums (also the breakdowns')."""
    rolled, live = _split(period, built)
    parts = SummaryParts()
    rows = [built[day] for day in rolled]
    for name in FIGURES:  # a year's days: a sum per figure
        setattr(parts, name, sum(map(attrgetter(name), rows)))
    # a day nobody left has no stays nor breakdown rows: not asked for (a quiet year before the period)
    summed = _summed(period, months)
    parts.add(SummaryParts(), rollup_table.stays_of(
        garage_id, [day for day in rolled if built[day].departures and rollup_table.month_of(day) not in summed],
        sorted(summed)))
    for first, last in live:
        counted = summary_parts(garage_id, *Period(first, last).bounds(tzname))
        parts.add(counted, counted.stays.items())
    return parts.summary()


def _summed(period: Period, months: set[date]) -> set[date]:
    """The summed months wholly in the period."""
    return {m for m in months if period.first <= m and rollup_table.month_end(m) <= period.last}


def period_breakdowns(garage_id: int, period: Period, tzname: str, built: dict[date, Any],
                      months: set[date] = frozenset()) -> Breakdowns:
    rolled, live = _split(period, built)
    summed = _summed(period, months)
    rows = rollup_table.breakdowns_of(
        garage_id, [day for day in rolled if built[day].departures and rollup_table.month_of(day) not in summed],
        sorted(summed))
    for first, last in live:
        rows += breakdown_rows(garage_id, *Period(first, last).bounds(tzname))
    return fold_breakdowns(rows)


def period_hours(garage_id: int, period: Period, tzname: str,
                 built: dict[date, Any]) -> tuple[list[Bucket], list[HourEvents], list[HourSums]]:
    """hour_events of the period, its rolled-up days read from report_hours and the rest counted from the
    rows; each part's highest running count (from its own start) is moved to count from the period's."""
    rolled, live = _split(period, built)
    if not rolled:
        return hour_events(garage_id, period, tzname)
    hours = period.hour_buckets(tzname)
    index = BucketIndex(hours)
    at = {bucket.start: i for i, bucket in enumerate(hours)}
    by_day: dict[date, list[tuple]] = {day: [] for day in rolled}
    for row in rollup_table.hours_of(garage_id, rolled):
        by_day[row[0]].append(row)
    # (the part's first hour, its rolled-up rows or its live hours), in time order
    parts: list[tuple[int, list[tuple], Any]] = [
        (index.find(local_day_bounds(day, tzname)[0]), rows, None) for day, rows in by_day.items()]
    for first, last in live:
        sub = Period(first, last, "hour")
        parts.append((index.find(sub.bounds(tzname)[0]), [], hour_events(garage_id, sub, tzname)))
    events: list[HourEvents | None] = [None] * len(hours)
    sums: list[HourSums | None] = [None] * len(hours)
    net, counted = 0, 0  # Σ(entries − departures) of the hours [0, counted)
    # (a local day that never happened, Samoa's 2011-12-30, has no hours: no first hour, nothing to add)
    for begin, rows, counted_live in sorted((part for part in parts if part[0] is not None), key=lambda part: part[0]):
        while counted < begin:
            ev = events[counted]
            if ev is not None:
                net += ev.entries - ev.departures
            counted += 1
        if counted_live is not None:
            rows = [(None, b.start, e.entries, e.exits, e.voids, e.signed_seconds, e.max_running, e.first_seconds,
                     s.revenue_cents, s.stay_minutes, s.lost_tickets, s.lost_fee_cents, s.refunded_cents)
                    for b, e, s in zip(*counted_live)]
        for _day, start, entries, exits, voids, signed, max_running, first, cents, stay, lost, fee, refunded in rows:
            i = at.get(start)
            if i is None:
                i = index.find(start)
            ev = HourEvents(entries, exits, signed, None if max_running is None else max_running + net, first, voids)
            events[i] = ev if events[i] is None else events[i].merge(ev)
            if sums[i] is None:
                sums[i] = HourSums(cents, stay, lost, fee, refunded)
            else:
                sums[i].add(cents, stay, lost, fee, refunded)
    return (hours, [HourEvents() if ev is None else ev for ev in events],
            [HourSums() if s is None else s for s in sums])


def period_days(garage_id: int, period: Period, tzname: str, built: dict[date, Any], base: int,
                now: datetime) -> tuple[list[Row], WeekProfile]:
    """The rows and the hour-of-week profile of a report counted by the day (`Period.by_day`), from
    `base` cars inside at its start: a rolled-up day over by `now` is its report_days row (its occupancy
    moved from counting from its own start to the cars inside then) and its hours' sums by hour of the
    week, in one grouped read for all of them; the other days (today, days not rolled up or not over by
    `now`) are counted hour by hour as a shorter report counts them (period_hours), a run at a time."""
    buckets = period.day_buckets(tzname)
    dates = [period.first + timedelta(days=i) for i in range(period.days)]
    whole = {d for d, b in zip(dates, buckets) if d in built and b.end <= now}
    profile = WeekProfile()
    for k, entries, exits, offsets, n in rollup_table.week_hours_of(garage_id, sorted(whole)):
        profile.add_hour_of_week(k, entries, exits, offsets, n)
    spans = dict(runs(d for d in dates if d not in whole))
    rows: list[Row] = []
    level, i = base, 0
    while i < len(dates):
        day, bucket = dates[i], buckets[i]
        if day in whole:
            f = built[day]
            rows.append(Row(bucket, f.entries, f.exits, f.revenue_cents, f.stay_minutes,
                            None if f.peak_running is None else level + f.peak_running,
                            max(0.0, level + f.occupancy_seconds / bucket.seconds) if bucket.seconds else None,
                            f.lost_tickets, f.lost_fee_cents, f.refunded_cents))
            profile.add_level(_hours_of_week(bucket, day, tzname), level)
            level += f.entries - f.departures
            i += 1
            continue
        part = Period(day, spans[day])
        hours, events, sums = period_hours(garage_id, replace(part, group="hour"), tzname, built)
        occupancy = occupancy_series(level, hours, events, now)
        rows += _rows(part, tzname, hours, events, sums, occupancy)
        profile.add_hours(hours, events, occupancy)
        level += sum(ev.entries - ev.departures for ev in events)
        i += part.days
    return rows, profile


DAY_SECONDS = 24 * 3600


def _hours_of_week(bucket: Bucket, day: date, tzname: str) -> Iterable[int]:
    """The hours of the week of a day's real hours: its weekday's midnight to 23:00, or (a DST change)
    as they were."""
    if bucket.seconds == DAY_SECONDS and bucket.local_start.hour == 0:
        first = hour_of_week_of(bucket.local_start)
        return range(first, first + 24)
    return [hour_of_week_of(b.local_start) for b in Period(day, day, "hour").hour_buckets(tzname)]


def _rows(period: Period, tzname: str, hours: list[Bucket], events: list[HourEvents],
          sums: list[HourSums], occupancy: list[OccupancyPoint | None]) -> list[Row]:
    if period.group == "hour":
        return [Row(h, e.entries, e.exits, s.revenue_cents, s.stay_minutes, o.peak if o else None,
                    o.average if o else None, s.lost_tickets, s.lost_fee_cents, s.refunded_cents)
                for h, e, s, o in zip(hours, events, sums, occupancy)]
    days = period.day_buckets(tzname)
    index = BucketIndex(days)
    members: list[list[int]] = [[] for _ in days]
    for i, h in enumerate(hours):
        members[index.find(h.start)].append(i)
    rows = []
    for day, idx in zip(days, members):
        occ = [(occupancy[i], hours[i].seconds) for i in idx if occupancy[i] is not None]
        seconds = sum(s for _, s in occ)
        day_sums = HourSums.total(sums[i] for i in idx)
        rows.append(Row(
            day, sum(events[i].entries for i in idx), sum(events[i].exits for i in idx),
            day_sums.revenue_cents, day_sums.stay_minutes,
            max((o.peak for o, _ in occ), default=None),
            sum(o.average * s for o, s in occ) / seconds if seconds else None,
            day_sums.lost_tickets, day_sums.lost_fee_cents, day_sums.refunded_cents))
    return rows


class ReportTooSlow(DomainError):
    status = 503

    def __init__(self) -> None:
        super().__init__(_("This report took too long to compute; choose a shorter period and try again"))


def build_report(garage_id: int, period: Period, now: datetime | None = None, *, full: bool = True) -> Report:
    """Everything the report page shows. Charts and CSV rows pass full=False
    to skip the figures, comparison and breakdowns they do not draw.
    A query cut off by the database's statement timeout (STATEMENT_TIMEOUT_MS)
    raises ReportTooSlow (503) rather than an internal error."""
    try:
        return _build_report(garage_id, period, now or utcnow(), full)
    except sa.exc.OperationalError as exc:
        if not store().is_statement_timeout(exc):
            raise
        db.session.rollback()
        raise ReportTooSlow() from exc


def _build_report(garage_id: int, period: Period, now: datetime, full: bool) -> Report:
    settings = get_settings(garage_id)
    tz, total_spaces = settings.timezone, settings.total_spaces
    previous = period.previous()
    built = rollups.days_for(garage_id, tz, previous.first if full else period.first, period.last, now)
    base = period_base(garage_id, period, tz, built, now)
    if period.by_day:  # no hours: its days whole
        hours, events, occupancy = [], [], []
        rows, profile = period_days(garage_id, period, tz, built, base, now)
    else:
        hours, events, sums = period_hours(garage_id, period, tz, built)
        occupancy = occupancy_series(base, hours, events, now)
        rows, profile = _rows(period, tz, hours, events, sums, occupancy), WeekProfile.of(hours, events, occupancy)
    months = rollups.months_for(garage_id, tz, previous.first, period.last, built) if full else set()
    current = period_summary(garage_id, period, tz, built, months) if full else None
    parts = period_breakdowns(garage_id, period, tz, built, months) if full else Breakdowns([], [], [])
    report = Report(
        period=period, previous=previous, timezone=tz, total_spaces=total_spaces,
        summary=current, previous_summary=period_summary(garage_id, previous, tz, built, months) if full else None,
        by_method=parts.by_method, by_vehicle_type=parts.by_vehicle_type, by_attendant=parts.by_attendant,
        rows=rows, hours=hours, hour_events=events, occupancy=occupancy, profile=profile,
    )
    if full:
        report.changes = {name: percent_change(getattr(report.summary, name),
                                               getattr(report.previous_summary, name))
                          for name in Summary.FIELDS}
    return report


# --- ticket export ---------------------------------------------------------------------------

TICKET_COLUMNS = TICKET_CSV_COLUMNS  # the header's names, in the order the store writes the cells


def ticket_csv_chunks(garage_id: int, period: Period, tzname: str) -> Iterator[str]:
    """CSV text (no header; TICKET_COLUMNS) of the garage's tickets that entered or left
    in the period, oldest entry first, a batch at a time (see Store.ticket_csv_chunks)."""
    start, end = period.bounds(tzname)
    return store().ticket_csv_chunks(garage_id, start, end, tzname)


# --- across garages (the portfolio) ----------------------------------------------------------

@dataclass
class GarageDay:
    """One garage's local day: cars in, cars out, money taken at its exits."""

    day: date
    entries: int = 0
    exits: int = 0
    revenue_cents: int = 0


@dataclass
class GarageFigures:
    """One garage's figures for a period: its local days (every day of the period, empty ones
    too) and their totals."""

    garage_id: int
    slug: str
    name: str
    timezone: str
    days: list[GarageDay]

    @property
    def entries(self) -> int:
        return sum(d.entries for d in self.days)

    @property
    def exits(self) -> int:
        return sum(d.exits for d in self.days)

    @property
    def revenue_cents(self) -> int:
        return sum(d.revenue_cents for d in self.days)


def portfolio_figures(garages: list[Garage], period: Period, now: datetime | None = None) -> list[GarageFigures]:
    """Entries, exits and revenue per garage and local day (each garage's own timezone) over the
    period: the rolled-up days from report_days (one statement for all the garages), the others in ONE
    grouped statement for all the garages whose period has such days (grouped by garage and day key),
    however many there are: the events of the widest UTC range those days cover in any of their timezones."""
    out = {g.id: GarageFigures(g.id, g.slug, g.garage_name, g.timezone,
                               [GarageDay(period.first + timedelta(days=i)) for i in range(period.days)])
           for g in garages}
    if not out:
        return []
    built = rollups.days_across(garages, period.first, period.last, now)
    ranges = []
    for figures in out.values():
        for day in figures.days:
            row = built[figures.garage_id].get(day.day)
            if row is not None:
                day.entries, day.exits, day.revenue_cents = int(row.entries), int(row.exits), int(row.revenue_cents)
        live = _split(period, built[figures.garage_id])[1]
        if live:
            ranges.append((figures.garage_id, Period(live[0][0], live[-1][1]).bounds(figures.timezone)))
    if not ranges:
        return [out[g.id] for g in garages]
    start, end = min(r[1][0] for r in ranges), max(r[1][1] for r in ranges)
    ids = [r[0] for r in ranges]
    ev = sa.union_all(
        sa.select(Ticket.garage_id, Ticket.entry_time.label("t"), sa.literal(1).label("d"),
                  sa.null().label("amount"))
        .where(Ticket.garage_id.in_(ids), within(Ticket.entry_time, start, end)),
        sa.select(Ticket.garage_id, Ticket.exit_time.label("t"), sa.literal(-1).label("d"),
                  Ticket.amount_paid.label("amount"))
        .where(Ticket.garage_id.in_(ids), within(Ticket.exit_time, start, end)),
    ).subquery("ev")
    db_store = store()
    key = db_store.day_key(ev.c.t, Garage.timezone).label("k")
    query = (sa.select(ev.c.garage_id, key, sa.func.sum(sa.case((ev.c.d == 1, 1), else_=0)),
                       sa.func.count(ev.c.amount), sa.func.coalesce(sa.func.sum(ev.c.amount), 0))
             .select_from(ev).join(Garage, Garage.id == ev.c.garage_id)
             .group_by(ev.c.garage_id, key))
    for garage_id, k, entries, exits, cents in db.session.execute(query):
        figures = out[garage_id]
        local_day = db_store.key_day(k, figures.timezone)
        i = (local_day - period.first).days
        # the wider range of another garage's timezone, or a day read from the rollups
        if not 0 <= i < period.days or local_day in built[garage_id]:
            continue
        day = figures.days[i]
        day.entries += int(entries)
        day.exits += int(exits)
        day.revenue_cents += int(cents)
    return [out[g.id] for g in garages]
