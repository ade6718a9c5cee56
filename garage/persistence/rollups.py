"""The report rollups' SQL (issue 21), portable: both stores run it as it is (the upserts through
`Store.insert`, the local days through `Store.day_key` / `key_day`).

Tables (garage/models.py): report_days (one row per garage and local day: the marker and the
summary's figures), report_hours, report_stays, report_breakdowns (replaced with their day);
report_months with report_month_stays and report_month_breakdowns: a whole month of built days added
up (`sum_month`, its days' markers read FOR SHARE), added up again whenever one of its days is replaced,
in the same transaction (`replace`), so a month's sums are always its days' rows added up.
garage/services/rollups.py decides which days to build and when; garage/services/reports.py reads them.

Never double counted: a day is built by replacing all of its rows, after its report_days row was
locked by the upsert in `claim` (PostgreSQL: a second catch-up of the same day waits there, then finds it
built and leaves it). An amendment of a past day marks it dirty (`mark_dirty`, the same upsert): after a
catch-up that did not see the amendment, the day is dirty again and built anew by the next one."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa

from ..domain.periods import runs
from ..domain.tickets import STATUS_VOIDED
from ..extensions import db
from ..models import (
    Garage, PermitPayment, Refund, ReportBreakdown, ReportDay, ReportHour, ReportMonth, ReportMonthBreakdown, ReportMonthStay,
    ReportStay, Ticket, User,
)
from . import store
from .base import lost_fee_column, within

DAY = ReportDay.__table__
HOUR = ReportHour.__table__
STAY = ReportStay.__table__
BREAKDOWN = ReportBreakdown.__table__
PARTS = (HOUR, STAY, BREAKDOWN)  # replaced with their day
MONTH = ReportMonth.__table__
MONTH_STAY = ReportMonthStay.__table__
MONTH_BREAKDOWN = ReportMonthBreakdown.__table__
BREAKDOWN_KEY = ("payment_method", "vehicle_type", "closed_by_id")
# The summary's figures of a day (services.reports.SummaryParts has the same names).
DAY_FIGURES = ("entries", "departures", "exits", "revenue_cents", "lost_tickets", "lost_fee_cents", "permit_exits",
               "permit_free_exits", "refunds", "refunded_cents", "permit_sales", "permit_sales_cents")
# A day's report row without its hours (services.reports.period_days; migration 0018).
DAY_ROW_FIGURES = ("stay_minutes", "peak_running", "occupancy_seconds")
HOUR_FIGURES = ("entries", "exits", "voids", "signed_seconds", "max_running", "first_seconds", "revenue_cents",
                "stay_minutes", "lost_tickets", "lost_fee_cents", "refunded_cents")
DAYS = sa.bindparam("days", expanding=True)
IN_DAYS = {table: sa.and_(table.c.garage_id == sa.bindparam("garage_id"), table.c.day.in_(DAYS))
           for table in (DAY, *PARTS)}


RANGES = 4  # days in at most this many runs are read as ranges of the primary key; more as a list


def _of_days(table: sa.Table, garage_id: int, days: list[date]) -> tuple[Any, dict[str, Any]]:
    """The rows of those days: a range per run of consecutive days (a year is one range scan; 366 dates
    in a list cost the planner and every row a look-up, issue 21), else the list."""
    spans = runs(days)
    if len(spans) <= RANGES:
        return sa.and_(table.c.garage_id == garage_id, sa.or_(*(table.c.day.between(a, b) for a, b in spans))), {}
    return IN_DAYS[table], {"garage_id": garage_id, "days": days}


def _marker(garage_id: int, day: date, tz: str) -> dict[str, Any]:
    return {"garage_id": garage_id, "day": day, "timezone": tz, "dirty": True, "built_at": None,
            **dict.fromkeys(DAY_FIGURES, 0)}


def _upsert(garage_id: int, days: Iterable[date], tz: str, dirty: Any) -> Any:
    stmt = store().insert(DAY).values([_marker(garage_id, day, tz) for day in sorted(set(days))])
    return stmt.on_conflict_do_update(index_elements=[DAY.c.garage_id, DAY.c.day], set_={"dirty": dirty(stmt)})


def claim(garage_id: int, days: Iterable[date], tz: str) -> list[date]:
    """Lock the days' markers (creating the missing ones, dirty), in the order of the days, for the rest of
    the caller's transaction; the days still to build: dirty, or counted in another timezone. A day built
    by a concurrent catch-up meanwhile is not among them (PostgreSQL: its commit was waited for)."""
    days = list(days)
    if not days:
        return []
    stmt = _upsert(garage_id, days, tz, lambda s: DAY.c.dirty | (DAY.c.timezone != s.excluded.timezone))
    return sorted(day for day, dirty in db.session.execute(stmt.returning(DAY.c.day, DAY.c.dirty)) if dirty)


def revise(garage_id: int) -> None:
    """Move the garage's report revision (garages.report_revision), in the caller's transaction."""
    db.session.execute(sa.update(Garage).where(Garage.id == garage_id)
                       .values(report_revision=Garage.report_revision + 1)
                       .execution_options(synchronize_session=False))


def mark_dirty(garage_id: int, days: Iterable[date]) -> None:
    """The days' figures changed after the fact: built again by the next catch-up (a day never built gets
    a marker that says so, with no timezone: also built by the next one); their months' sums dropped."""
    days = list(days)
    if days:
        db.session.execute(_upsert(garage_id, days, "", lambda s: sa.true()))


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _sum(garage_id: int, month: date, again: bool = True) -> None:
    """The month's sums := its days' report_stays and report_breakdowns added up (in the caller's
    transaction)."""
    if again:
        for table in (MONTH_STAY, MONTH_BREAKDOWN):
            db.session.execute(sa.delete(table).where(table.c.garage_id == garage_id, table.c.month == month))
    end = month_end(month)
    db.session.execute(sa.insert(MONTH_STAY).from_select(
        ["garage_id", "month", "duration_minutes", "tickets"],
        sa.select(STAY.c.garage_id, sa.literal(month, sa.Date), STAY.c.duration_minutes, sa.func.sum(STAY.c.tickets))
        .where(STAY.c.garage_id == garage_id, STAY.c.day >= month, STAY.c.day <= end)
        .group_by(STAY.c.garage_id, STAY.c.duration_minutes)))
    key = [BREAKDOWN.c[name] for name in BREAKDOWN_KEY]
    db.session.execute(sa.insert(MONTH_BREAKDOWN).from_select(
        ["garage_id", "month", *BREAKDOWN_KEY, "exits", "revenue_cents"],
        sa.select(BREAKDOWN.c.garage_id, sa.literal(month, sa.Date), *key, sa.func.sum(BREAKDOWN.c.exits),
                  sa.func.sum(BREAKDOWN.c.revenue_cents))
        .where(BREAKDOWN.c.garage_id == garage_id, BREAKDOWN.c.day >= month, BREAKDOWN.c.day <= end)
        .group_by(BREAKDOWN.c.garage_id, *key)))


def _resum(garage_id: int, days: Iterable[date]) -> None:
    """The summed months of those days (just replaced) added up again with them: a month's sums are
    always its days' rows added up, in the transaction that changes them."""
    months = sorted({month_of(day) for day in days})
    for month in db.session.scalars(sa.select(MONTH.c.month).where(MONTH.c.garage_id == garage_id,
                                                                   MONTH.c.month.in_(months))):
        _sum(garage_id, month)


def replace(garage_id: int, tz: str, days: Mapping[date, Mapping[str, Any]], hours: Sequence[Mapping[str, Any]],
            stays: Sequence[Mapping[str, Any]], breakdowns: Sequence[Mapping[str, Any]], now: datetime) -> None:
    """Replace the claimed `days`' rollup rows with those given (each row names its day) and mark them
    built, in `tz`, in the caller's transaction."""
    if not days:
        return
    at = {"garage_id": garage_id, "days": list(days)}
    for table in PARTS:
        db.session.execute(sa.delete(table).where(IN_DAYS[table]), at)
    for table, rows in ((HOUR, hours), (STAY, stays), (BREAKDOWN, breakdowns)):
        if rows:
            db.session.execute(sa.insert(table), [{"garage_id": garage_id, **row} for row in rows])
    _resum(garage_id, days)
    done = (sa.update(DAY).where(DAY.c.garage_id == sa.bindparam("g"), DAY.c.day == sa.bindparam("d"))
            .values(timezone=tz, dirty=False, built_at=now,
                    **{k: sa.bindparam(k) for k in DAY_FIGURES + DAY_ROW_FIGURES}))
    db.session.execute(done, [{"g": garage_id, "d": day, **{k: figures[k] for k in DAY_FIGURES + DAY_ROW_FIGURES}}
                              for day, figures in days.items()])


def forget(garage_id: int) -> None:
    """Drop every rollup row of the garage (its timezone changed: every local day moved). The day markers
    are locked first, in day order, as `claim` locks them: a catch-up building a day meanwhile finishes
    first (deleting its hours before the marker would deadlock with it: the outside probe of issue 21)."""
    db.session.execute(sa.select(DAY.c.day).where(DAY.c.garage_id == garage_id).order_by(DAY.c.day)
                       .with_for_update()).all()
    for table in (MONTH_STAY, MONTH_BREAKDOWN, MONTH, *PARTS, DAY):
        db.session.execute(sa.delete(table).where(table.c.garage_id == garage_id))


def built_months(garage_id: int, tz: str, first: date, last: date) -> set[date]:
    """The months (their first days) in [first, last] whose stays and breakdowns are summed, in `tz`."""
    return set(db.session.scalars(sa.select(MONTH.c.month).where(
        MONTH.c.garage_id == garage_id, MONTH.c.month >= first, MONTH.c.month <= last, MONTH.c.timezone == tz)))


def sum_month(garage_id: int, tz: str, month: date) -> bool:
    """Add up the stays and breakdowns of the month in the caller's transaction, if every one of its days is built in `tz`
    (their markers read FOR SHARE: a catch-up rebuilding one of them waits for this one, or this one
    for it, then adds the month up again with it: `replace`) and nobody summed it meanwhile; whether it did."""
    last = month_end(month)
    days = db.session.execute(sa.select(DAY.c.day).where(
        DAY.c.garage_id == garage_id, DAY.c.day >= month, DAY.c.day <= last, DAY.c.timezone == tz,
        DAY.c.dirty.is_(False)).with_for_update(read=True)).all()
    if len(days) != (last - month).days + 1:
        return False
    claimed = db.session.execute(store().insert(MONTH).values(garage_id=garage_id, month=month, timezone=tz)
                                 .on_conflict_do_nothing(index_elements=[MONTH.c.garage_id, MONTH.c.month])
                                 .returning(MONTH.c.month)).first()
    if claimed is None:
        return False
    _sum(garage_id, month, again=False)
    return True


# --- reading ---------------------------------------------------------------------------------

def built_days(garage_id: int, tz: str, first: date, last: date) -> dict[date, Any]:
    """The garage's days in [first, last] rolled up in `tz` and not dirty: their report_days rows."""
    # all but built_at (a report reads a year of them: a timestamp read costs more than the rest)
    rows = db.session.execute(sa.select(*(c for c in DAY.c if c.name != "built_at"))
                              .where(DAY.c.garage_id == garage_id, DAY.c.day >= first, DAY.c.day <= last,
                                     DAY.c.timezone == tz, DAY.c.dirty.is_(False)))
    return {row.day: row for row in rows}


def built_days_across(garage_ids: list[int], first: date, last: date) -> list[Any]:
    """Every built day in [first, last] of those garages: (garage_id, day, timezone, entries, exits,
    revenue_cents); the caller keeps those of each garage's timezone of now."""
    return list(db.session.execute(
        sa.select(DAY.c.garage_id, DAY.c.day, DAY.c.timezone, DAY.c.entries, DAY.c.exits, DAY.c.revenue_cents)
        .where(DAY.c.garage_id.in_(garage_ids), DAY.c.day >= first, DAY.c.day <= last, DAY.c.dirty.is_(False))))


# What services.reports.period_hours reads of an hour, in this order.
HOUR_READ = ("day", "hour_start", "entries", "exits", "voids", "signed_seconds", "max_running", "first_seconds",
             "revenue_cents", "stay_minutes", "lost_tickets", "lost_fee_cents", "refunded_cents")


def hours_of(garage_id: int, days: list[date]) -> list[tuple]:
    """The hours of those days: tuples of HOUR_READ."""
    where, params = _of_days(HOUR, garage_id, days)
    return [tuple(row) for row in db.session.execute(sa.select(*(HOUR.c[name] for name in HOUR_READ)).where(where),
                                                     params)]


def week_hours_of(garage_id: int, days: list[date]) -> list[tuple[int, int, int, float, int]]:
    """(hour of the week, entries, exits, Σ average_offset, hours) over those days' hours: the heat map's
    and the traffic chart's hours of rolled-up days in one grouped read (at most 168 rows)."""
    if not days:
        return []
    where, params = _of_days(HOUR, garage_id, days)
    query = (sa.select(HOUR.c.hour_of_week, sa.func.sum(HOUR.c.entries), sa.func.sum(HOUR.c.exits),
                       sa.func.sum(HOUR.c.average_offset), sa.func.count())
             .where(where).group_by(HOUR.c.hour_of_week))
    return [(int(k), int(entries), int(exits), float(offsets), int(n))
            for k, entries, exits, offsets, n in db.session.execute(query, params)]


def stays_of(garage_id: int, days: list[date], months: list[date] = ()) -> list[tuple[int, int]]:
    """(stay in minutes, tickets) over those days and those summed months (report_month_stays)."""
    parts = []
    params: dict[str, Any] = {}
    if days:
        where, params = _of_days(STAY, garage_id, days)
        parts.append(sa.select(STAY.c.duration_minutes.label("m"), STAY.c.tickets.label("n")).where(where))
    if months:
        parts.append(sa.select(MONTH_STAY.c.duration_minutes.label("m"), MONTH_STAY.c.tickets.label("n"))
                     .where(MONTH_STAY.c.garage_id == garage_id, MONTH_STAY.c.month.in_(sorted(months))))
    if not parts:
        return []
    rows = parts[0].subquery() if len(parts) == 1 else sa.union_all(*parts).subquery()
    query = sa.select(rows.c.m, sa.func.sum(rows.c.n)).group_by(rows.c.m)
    return [(int(m), int(n)) for m, n in db.session.execute(query, params)]


def breakdowns_of(garage_id: int, days: list[date], months: list[date] = ()) -> list[tuple[Any, ...]]:
    """(method, vehicle type, closer's username, exits, cents) over those days and those summed months
    (report_month_breakdowns), as the live breakdown's rows."""
    parts = []
    params: dict[str, Any] = {}
    columns = (*BREAKDOWN_KEY, "exits", "revenue_cents")
    if days:
        where, params = _of_days(BREAKDOWN, garage_id, days)
        parts.append(sa.select(*(BREAKDOWN.c[name] for name in columns)).where(where))
    if months:
        parts.append(sa.select(*(MONTH_BREAKDOWN.c[name] for name in columns))
                     .where(MONTH_BREAKDOWN.c.garage_id == garage_id, MONTH_BREAKDOWN.c.month.in_(sorted(months))))
    if not parts:
        return []
    rows = parts[0].subquery() if len(parts) == 1 else sa.union_all(*parts).subquery()
    query = (sa.select(rows.c.payment_method, rows.c.vehicle_type, User.username, sa.func.sum(rows.c.exits),
                       sa.func.sum(rows.c.revenue_cents))
             .select_from(rows).outerjoin(User, User.id == rows.c.closed_by_id)
             .group_by(rows.c.payment_method, rows.c.vehicle_type, rows.c.closed_by_id, User.username))
    return [tuple(row) for row in db.session.execute(query, params)]


def first_marked(garage_id: int) -> date | None:
    """The garage's earliest day with a report_days row (built or marked dirty)."""
    return db.session.scalar(sa.select(sa.func.min(DAY.c.day)).where(DAY.c.garage_id == garage_id))


def first_activity(garage_id: int) -> datetime | None:
    """The garage's earliest ticket, refund or permit payment (where its history starts)."""
    return db.session.scalar(sa.select(sa.func.min(sa.union_all(
        sa.select(sa.func.min(Ticket.entry_time).label("t")).where(Ticket.garage_id == garage_id),
        sa.select(sa.func.min(Refund.refunded_at)).where(Refund.garage_id == garage_id),
        sa.select(sa.func.min(PermitPayment.taken_at)).where(PermitPayment.garage_id == garage_id),
    ).subquery().c.t)))


# --- the source rows, per local day ----------------------------------------------------------

def source_days(garage_id: int, tz: str, start: datetime, end: datetime) -> tuple[dict, dict, dict]:
    """From the ticket, refund and permit-payment rows of [start, end): per local day (in `tz`) its summary
    figures except entries (a dict of DAY_FIGURES' names), its stays {minutes: tickets} and its breakdown
    rows {(method, vehicle type, closer id): [exits, cents]}. Four grouped statements."""
    db_store = store()
    figures: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAY_FIGURES, 0))
    stays: dict[date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    parts: dict[date, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))

    def key(column: Any) -> Any:
        return db_store.day_key(column, sa.literal(tz)).label("k")

    def day(k: Any) -> date:
        return db_store.key_day(k, tz)

    lost_fee = lost_fee_column()
    k = key(Ticket.exit_time)
    left = (sa.select(k, Ticket.duration_minutes, sa.func.count(), sa.func.count(Ticket.amount_paid),
                      sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0), sa.func.count(lost_fee),
                      sa.func.coalesce(sa.func.sum(lost_fee), 0),
                      sa.func.count(sa.case((Ticket.permit_id.is_not(None), Ticket.amount_paid))),
                      sa.func.count(sa.case((sa.and_(Ticket.permit_id.is_not(None), Ticket.amount_paid == 0),
                                             Ticket.amount_paid))))
            .where(Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end))
            .group_by(k, Ticket.duration_minutes))
    for k_, minutes, n, paid, cents, lost, fees, permit, free in db.session.execute(left):
        f = figures[day(k_)]
        for name, value in (("departures", n), ("exits", paid), ("revenue_cents", cents), ("lost_tickets", lost),
                            ("lost_fee_cents", fees), ("permit_exits", permit), ("permit_free_exits", free)):
            f[name] += int(value)
        if minutes is not None:
            stays[day(k_)][int(minutes)] += int(n)
    for column, garage_column, amount, count_name, cents_name in (
            (Refund.refunded_at, Refund.garage_id, Refund.amount_cents, "refunds", "refunded_cents"),
            (PermitPayment.taken_at, PermitPayment.garage_id, PermitPayment.amount_cents, "permit_sales",
             "permit_sales_cents")):
        k = key(column)
        for k_, n, cents in db.session.execute(
                sa.select(k, sa.func.count(), sa.func.coalesce(sa.func.sum(amount), 0))
                .where(garage_column == garage_id, within(column, start, end)).group_by(k)):
            figures[day(k_)][count_name] += int(n)
            figures[day(k_)][cents_name] += int(cents)
    k = key(Ticket.exit_time)
    for k_, method, vehicle, closer, n, cents in db.session.execute(
            sa.select(k, Ticket.payment_method, Ticket.vehicle_type, Ticket.closed_by_id, sa.func.count(),
                      sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0))
            .where(Ticket.garage_id == garage_id, within(Ticket.exit_time, start, end),
                   Ticket.status != STATUS_VOIDED)
            .group_by(k, Ticket.payment_method, Ticket.vehicle_type, Ticket.closed_by_id)):
        entry = parts[day(k_)][(method, vehicle, closer)]
        entry[0] += int(n)
        entry[1] += int(cents)
    return figures, stays, parts
