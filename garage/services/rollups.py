"""Report rollups (issue 21): each garage's complete local days counted once, so a report of any period up
to a year reads a few rows per day instead of the period's tickets.

The catch-up is idempotent and can never double count: it recomputes whole local days from the ticket,
refund and permit-payment rows (the same functions the live report uses) and replaces those days' rollup
rows (garage/persistence/rollups.py: `claim` locks their markers first). It builds only days that are
complete in the garage's timezone and SETTLE old (a write stamped just before midnight may commit a moment
after it), and not built yet, dirty, or built in another timezone. It runs

- when a report is asked (`days_for`, `days_across`: at most REPORT_BATCH days, in a transaction of its
  own, before the report reads); the days left are counted from the live rows, as today always is;
- from the command line: ``flask --app garage rollups [--rebuild] [--garage SLUG]`` (`catch_up`, `rebuild`).

A whole month of built days also gets its stays and breakdowns added up (`months_for`: by the report that
reads them, or the catch-up), so a year's median stay reads ~15,000 rows, not ~200,000.

Every write of a source row is stamped `now`; a service given a `now` in a settled day (a back-dated
entry, exit, void, refund, correction or permit sale: tests, imports) marks that day dirty in its own
transaction (`touched`). A garage's timezone change drops its rollups (`forget`, services/settings.py):
every local day moved, and the next catch-up builds them again in the new timezone (a day built in
another timezone is never read: report_days.timezone)."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator

from ..domain.clock import local_day_bounds, local_today, utcnow
from ..domain.figures import HourEvents, day_occupancy, hour_of_week_of
from ..domain.periods import Bucket, BucketIndex, Period, runs
from ..extensions import db
from ..persistence import commit_keeping_loaded
from ..persistence import replica, rollups as table
from . import reports

SETTLE = timedelta(hours=1)
REPORT_BATCH = 62  # days one report request builds at most (a month and the month before it)
CLI_BATCH = 31  # days per transaction of the command


def settled(day: date, tz: str, now: datetime) -> bool:
    """The local day ended at least SETTLE before `now`: nothing stamped in it is still to commit."""
    return local_day_bounds(day, tz)[1] <= now - SETTLE


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- building --------------------------------------------------------------------------------

def _build_run(garage_id: int, tz: str, first: date, last: date, wanted: set[date], now: datetime) -> int:
    """Count the days of [first, last] (all `wanted`) from the source rows and replace their rollups: a
    row per day and per real hour of it (events or not: the heat map's hours), each day's occupancy
    counted from the cars inside at its start (domain.figures.day_occupancy)."""
    period = Period(first, last, "hour")
    start, end = period.bounds(tz)
    figures, stays, parts = table.source_days(garage_id, tz, start, end)
    hours, events, sums = reports.hour_events(garage_id, period, tz)
    day_index = BucketIndex(period.day_buckets(tz))
    by_day: dict[date, list[tuple[Bucket, HourEvents, reports.HourSums]]] = {}
    net = 0  # Σ(entries − departures) from the run's start
    for bucket, ev, s in zip(hours, events, sums):
        day = first + timedelta(days=day_index.find(bucket.start))
        if day not in by_day:
            by_day[day], day_start_net = [], net
        net += ev.entries - ev.departures
        if ev.max_running is not None:  # from the run's start → from the day's
            ev = replace(ev, max_running=ev.max_running - day_start_net)
        by_day[day].append((bucket, ev, s))
    hour_rows: list[dict[str, Any]] = []
    days: dict[date, dict[str, Any]] = {}
    for day in sorted(wanted):
        day_hours = by_day.get(day, [])
        occupancy = day_occupancy([b for b, _, _ in day_hours], [ev for _, ev, _ in day_hours])
        for (bucket, ev, s), offset in zip(day_hours, occupancy.offsets):
            hour_rows.append({"day": day, "hour_start": bucket.start, "entries": ev.entries, "exits": ev.exits,
                              "voids": ev.voids, "signed_seconds": ev.signed_seconds,
                              "max_running": ev.max_running, "first_seconds": ev.first_seconds, **asdict(s),
                              "hour_of_week": hour_of_week_of(bucket.local_start), "average_offset": offset})
        days[day] = {**figures[day], "entries": sum(ev.entries for _, ev, _ in day_hours),
                     "stay_minutes": sum(s.stay_minutes for _, _, s in day_hours),
                     "peak_running": occupancy.peak_running, "occupancy_seconds": occupancy.occupancy_seconds}
    stay_rows = [{"day": day, "duration_minutes": m, "tickets": n}
                 for day in wanted for m, n in sorted(stays[day].items())]
    breakdown_rows = [{"day": day, "payment_method": method, "vehicle_type": vehicle, "closed_by_id": closer,
                       "exits": n, "revenue_cents": cents}
                      for day in wanted for (method, vehicle, closer), (n, cents) in parts[day].items()]
    table.replace(garage_id, tz, days, hour_rows, stay_rows, breakdown_rows, now)
    return len(days)


def build(garage_id: int, tz: str, days: Iterable[date], now: datetime | None = None) -> int:
    """Build (or build again) those days in one transaction of its own; how many were built (a day a
    concurrent catch-up built meanwhile is left as it built it)."""
    now = now or utcnow()
    try:
        claimed = table.claim(garage_id, days, tz)
        built = sum(_build_run(garage_id, tz, first, last, set(_days(first, last)), now) for first, last in runs(claimed))
        commit_keeping_loaded()  # the request's garage rows stay loaded: only rollup rows were written
        return built
    except BaseException:
        db.session.rollback()
        raise


def pending(garage_id: int, tz: str, first: date, last: date, built: Iterable[date], now: datetime) -> list[date]:
    """The settled days of [first, last] not among `built`, oldest first."""
    done = set(built)
    return [day for day in _days(first, last) if day not in done and settled(day, tz, now)]


def days_for(garage_id: int, tz: str, first: date, last: date, now: datetime | None = None) -> dict[date, Any]:
    """The days of [first, last] a report may read from the rollups (report_days rows), after building at
    most REPORT_BATCH of the settled ones still missing."""
    now = min(now or utcnow(), utcnow())
    built = table.built_days(garage_id, tz, first, last)
    todo = pending(garage_id, tz, first, last, built, now)
    if not todo:
        return built
    with replica.on_primary():  # a report read on a replica builds on the primary (the replica sees them later)
        build(garage_id, tz, todo[-REPORT_BATCH:], now)  # the newest first: the period asked for, then before
    return table.built_days(garage_id, tz, first, last)


def _whole_months(first: date, last: date, built: Iterable[date]) -> list[date]:
    """The months (first days) wholly in [first, last] with every day among `built`."""
    done, out = set(built), []
    month = table.month_of(first) if first.day == 1 else table.month_end(first) + timedelta(days=1)
    while table.month_end(month) <= last:
        if all(day in done for day in _days(month, table.month_end(month))):
            out.append(month)
        month = table.month_end(month) + timedelta(days=1)
    return out


def months_for(garage_id: int, tz: str, first: date, last: date, built: Iterable[date]) -> set[date]:
    """The months wholly in [first, last] whose days are all built (`built`) and whose stays are summed
    (report_month_stays), after summing those not yet (on the primary, in a transaction of its own); as
    the reading session sees them (a replica may not see new ones yet: their days are read instead)."""
    whole = _whole_months(first, last, built)
    if not whole:
        return set()
    summed = table.built_months(garage_id, tz, whole[0], whole[-1])
    todo = [month for month in whole if month not in summed]
    if not todo:
        return summed
    with replica.on_primary():
        try:
            worked = [table.sum_month(garage_id, tz, month) for month in todo]
            commit_keeping_loaded()
        except BaseException:
            db.session.rollback()
            raise
    return table.built_months(garage_id, tz, whole[0], whole[-1]) if any(worked) else summed


def days_across(garages: list[Any], first: date, last: date, now: datetime | None = None) -> dict[int, dict]:
    """For the portfolio: per garage, its built days of [first, last] {day: row with entries, exits,
    revenue_cents}, after building at most REPORT_BATCH missing settled days over all of them."""
    now = min(now or utcnow(), utcnow())
    zones = {g.id: g.timezone for g in garages}

    def read() -> dict[int, dict]:
        out: dict[int, dict] = {g.id: {} for g in garages}
        for row in table.built_days_across(list(zones), first, last):
            if row.timezone == zones[row.garage_id]:
                out[row.garage_id][row.day] = row
        return out

    built = read()
    budget, worked = REPORT_BATCH, False
    for garage_id, tz in zones.items():
        todo = pending(garage_id, tz, first, last, built[garage_id], now)[-budget:] if budget > 0 else []
        if todo:
            with replica.on_primary():
                build(garage_id, tz, todo, now)
            budget -= len(todo)
            worked = True
    return read() if worked else built


# --- upkeep ----------------------------------------------------------------------------------

def touched(garage_id: int, now: datetime, revised: bool = False) -> None:
    """A source row was written stamped `now`, in the caller's transaction. Every write that changes
    what a report shows comes here (an entry, an exit, a void, a correction, a refund, a permit sale or
    renewal; a settings change moves the revision in services/settings.update_settings).

    - The garage's `report_revision` moves (one UPDATE, unless the caller's own statement on the garage's
      row already moved it: `revised`, the entry, the exit and the void), so a rendered report kept
      under the old one is never shown again (garage/reports/cache.py).
    - If `now` may be in a day already settled (a back-dated write), the days it may be in are marked
      dirty (the UTC date and the days either side: whatever the garage's timezone); no statement for a
      write stamped with the clock."""
    if not revised:
        table.revise(garage_id)
    if now <= utcnow() - SETTLE:
        day = local_today(now, "UTC")
        table.mark_dirty(garage_id, [day - timedelta(days=1), day, day + timedelta(days=1)])


def forget(garage_id: int) -> None:
    """The garage's rollups are wrong as a whole (its timezone changed): drop them, in the caller's
    transaction; the next catch-up builds them again."""
    table.forget(garage_id)


def catch_up(garage_id: int, tz: str, now: datetime | None = None) -> int:
    """Build every settled day of the garage's history (from its first ticket, refund, permit sale or
    marked day) not built yet, dirty or built in another timezone, CLI_BATCH days per transaction; how
    many days were built."""
    now = now or utcnow()
    starts = [local_today(t, tz) for t in (table.first_activity(garage_id),) if t is not None]
    starts += [d for d in (table.first_marked(garage_id),) if d is not None]  # a dirty day before it too
    if not starts:
        return 0
    first, last = min(starts), local_today(now, tz)
    built = table.built_days(garage_id, tz, first, last)
    todo = pending(garage_id, tz, first, last, built, now)
    db.session.commit()  # the reads' transaction: each batch is one of its own
    count = sum(build(garage_id, tz, todo[i:i + CLI_BATCH], now) for i in range(0, len(todo), CLI_BATCH))
    months_for(garage_id, tz, first, last, table.built_days(garage_id, tz, first, last))
    db.session.commit()
    return count


def rebuild(garage_id: int, tz: str, now: datetime | None = None) -> int:
    """Drop the garage's rollups and build its whole history again."""
    try:
        forget(garage_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return catch_up(garage_id, tz, now)
