"""Shared code of the rollup probes (tests/probe_rollups): tricky timezones and their offset changes,
a played scenario of ticket events with rollup checkpoints between them, and the comparison of every
report figure with the recount from the rows (tests/db/test_rollups.py's `recount` and `same`)."""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from garage.domain.errors import DomainError
from garage.domain.periods import Period
from garage.extensions import db
from garage.identity import Actor
from garage.models import Garage, ReportDay
from garage.reports.present import report_csv
from garage.services import amendments, permits, reports, rollups, settings, validations
from garage.services.tickets import find_ticket, issue_ticket, process_exit
from tests.db.test_rollups import recount, same
from tests.helpers.garages import add_garage

UTC = timezone.utc
# Zones whose local days are hard: 30/45-minute offsets, 30-minute DST (Lord Howe), DST at midnight
# (Santiago, Havana), the date line (Apia skipped 2011-12-30, Kiritimati), Chatham (+12:45/+13:45),
# offsets changed by half an hour after 2000 (Caracas 2007/2016, Pyongyang 2015/2018).
HALF_HOUR_SHIFTS = ("Australia/Lord_Howe", "America/Caracas", "Asia/Pyongyang")
WHOLE_HOUR_ZONES = ("Asia/Kathmandu", "America/St_Johns", "Pacific/Apia", "Pacific/Kiritimati", "Pacific/Chatham",
                    "America/Santiago", "America/Havana", "Europe/Berlin", "Asia/Kolkata", "UTC")
LAST_ANCHOR = date(2026, 11, 20)  # every window ends days before the real clock (2026-12): settled
FIRST_ANCHOR = date(2005, 1, 1)
METHODS = ("Cash", "Credit Card", "Mobile Payment")
TYPES = ("Car", "SUV", "Motorcycle")


@functools.lru_cache(maxsize=None)
def offset_changes(tz: str) -> tuple[datetime, ...]:
    """Every instant (UTC) between FIRST_ANCHOR and LAST_ANCHOR where the zone's offset changes (found
    hour by hour inside the days whose noon offsets differ, then to the minute)."""
    zone = ZoneInfo(tz)

    def off(t: datetime) -> timedelta:
        return t.astimezone(zone).utcoffset()

    out = []
    t = datetime.combine(FIRST_ANCHOR, time(12), UTC)
    end = datetime.combine(LAST_ANCHOR, time(12), UTC)
    prev = off(t)
    while t < end:
        nxt = t + timedelta(days=1)
        o = off(nxt)
        if o != prev:
            lo, hi = t, nxt  # o(lo) == prev, o(hi) != prev: bisect to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    break
                if off(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            prev = o
        t = nxt
    return tuple(out)


def anchors(tz: str) -> list[date]:
    """Local dates of the zone's offset changes (the newest 24), or a few plain dates for a zone with none."""
    changes = [c.astimezone(ZoneInfo(tz)).date() for c in offset_changes(tz)]
    return changes[-24:] if changes else [date(2026, 3, 8), date(2026, 6, 30), date(2026, 11, 1)]


def local(day: date, hours: float, tz: str) -> datetime:
    """`hours` real hours after the local midnight of `day` (the midnight's instant: zoneinfo, fold 0)."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC) + timedelta(hours=hours)


def midnight(day: date, tz: str) -> datetime:
    return local(day, 0, tz)


# --- a scenario ------------------------------------------------------------------------------------

@dataclass
class Ticket:
    entered: datetime
    kind: str  # vehicle type
    fate: str  # exit | lost | void | inside
    left: datetime | None = None
    method: str = "Cash"
    correct_to: str | None = None  # a vehicle type corrected a minute after the entry
    validated: bool = False
    refund: tuple[datetime, float] | None = None  # when, and which share of what was paid
    permit_car: bool = False


@dataclass
class Scenario:
    tz: str
    first: date  # the window of days the traffic is in
    last: date
    tickets: list[Ticket]
    permit_sale: datetime | None = None
    # after how many of the played events (time order) a checkpoint runs, and what it is
    checkpoints: list[tuple[int, str, Any]] = field(default_factory=list)
    final_tz: str | None = None

    def describe(self) -> str:
        lines = [f"zone {self.tz}, window {self.first}..{self.last}"]
        for i, t in enumerate(self.tickets):
            lines.append(f"  ticket {i}: {t.kind} in {t.entered.isoformat()} {t.fate}"
                         f"{' at ' + t.left.isoformat() if t.left else ''}"
                         f"{' correct->' + t.correct_to if t.correct_to else ''}{' validated' if t.validated else ''}"
                         f"{' refund ' + t.refund[0].isoformat() if t.refund else ''}{' permit car' if t.permit_car else ''}")
        if self.permit_sale:
            lines.append(f"  permit sold {self.permit_sale.isoformat()}")
        lines.append(f"  checkpoints {self.checkpoints}")
        return "\n".join(lines)


_serial = itertools.count(1)


@dataclass
class Played:
    garage_id: int
    slug: str
    tz: str  # the garage's timezone at the end
    skipped: list[str]


def events_of(s: Scenario) -> list[tuple[datetime, int, str, int]]:
    """(when, order, what, ticket index) in time order."""
    ev: list[tuple[datetime, int, str, int]] = []
    for i, t in enumerate(s.tickets):
        ev.append((t.entered, 0, "enter", i))
        if t.correct_to:
            ev.append((t.entered + timedelta(minutes=1), 1, "correct", i))
        if t.validated:
            ev.append((t.entered + timedelta(minutes=2), 2, "validate", i))
        if t.left is not None:
            ev.append((t.left, 3, t.fate, i))
        if t.refund is not None:
            ev.append((t.refund[0], 4, "refund", i))
    if s.permit_sale is not None:
        ev.append((s.permit_sale, 5, "permit", -1))
    return sorted(ev, key=lambda e: (e[0], e[1], e[3]))


def sqlite_safe(at: datetime) -> datetime:
    """SQLite's strftime('%s') rounds to the millisecond: an instant in the last half millisecond of a
    second counts in the next second's quarter-hour (test_known_failures.py). Kept out of the generated
    runs on SQLite so they can look for anything else."""
    return at.replace(microsecond=999_000) if at.microsecond >= 999_500 else at


def play(s: Scenario, staff: Actor, boss: Actor, app=None) -> Played:
    """Play the scenario on a new garage: its events in time order (every one back-dated), the
    checkpoints between them (a catch-up, a report's own catch-up, a build of some days, a timezone
    change): whatever is played after a checkpoint is a back-dated write into rolled-up days."""
    slug = f"p{next(_serial)}"
    garage_id = add_garage(slug, 60, timezone=s.tz)
    validations.create_program(garage_id, boss, name="Cinema", kind="free_minutes", value=30, codes=["CINEMA"],
                               reusable=True)
    tz = s.tz
    numbers: dict[int, str] = {}
    paid: dict[int, int] = {}
    skipped: list[str] = []
    checkpoints = sorted(s.checkpoints, key=lambda c: c[0])
    events = events_of(s)
    if app is not None and app.config.get("DATABASE_KIND") == "sqlite":
        events = [(sqlite_safe(at), o, what, i) for at, o, what, i in events]
    cap = midnight(s.last + timedelta(days=8), s.tz)  # the command as it ran a week after the window

    def checkpoint(kind: str, arg: Any) -> None:
        nonlocal tz
        if kind == "catch_up":
            rollups.catch_up(garage_id, tz, now=cap)
        elif kind == "build":  # some days, as one report's or the command's batch would
            rollups.build(garage_id, tz, arg)
        elif kind == "report":  # a report's own bounded catch-up (runs from its previous period's start)
            with app.test_request_context():
                reports.build_report(garage_id, arg)
        elif kind == "tz":
            settings.update_settings(garage_id, Actor.system("probe"), timezone=arg)
            tz = arg
        elif kind == "rebuild":
            rollups.rebuild(garage_id, tz, now=cap)

    c = 0
    for n, (at, _o, what, i) in enumerate(events):
        while c < len(checkpoints) and checkpoints[c][0] <= n:
            checkpoint(*checkpoints[c][1:])
            c += 1
        t = s.tickets[i] if i >= 0 else None
        try:
            if what == "enter":
                plate = "PERMITCAR" if t.permit_car else f"{slug.upper()}T{i}"
                numbers[i] = issue_ticket(garage_id, plate, t.kind, staff, now=at).ticket_number
            elif i in numbers or what == "permit":
                if what == "correct":
                    amendments.correct_ticket(garage_id, numbers[i], staff, vehicle_type=t.correct_to, reason="typo",
                                              now=at)
                elif what == "validate":
                    validations.validate_ticket(garage_id, find_ticket(garage_id, numbers[i]), "CINEMA", staff,
                                                now=at)
                elif what in ("exit", "lost"):
                    paid[i] = process_exit(garage_id, numbers[i], t.method, staff, now=at,
                                           lost=what == "lost").amount_paid
                elif what == "void":
                    amendments.void_ticket(garage_id, numbers[i], boss, "pressed twice", manager=True, now=at)
                elif what == "refund":
                    if paid.get(i):
                        amount = max(1, int(paid[i] * t.refund[1]))
                        amendments.refund_ticket(garage_id, numbers[i], boss, amount, "goodwill", now=at)
                elif what == "permit":
                    permits.create_permit(garage_id, boss, holder="Ms Permit", plates=["PERMITCAR"],
                                          valid_from=s.first - timedelta(days=40), valid_until=s.last + timedelta(days=40),
                                          price_cents=9000, now=at)
        except DomainError as exc:  # a generated event the rules refuse (reported, never hidden)
            skipped.append(f"{what} {i} at {at}: {exc}")
    while c < len(checkpoints):
        checkpoint(*checkpoints[c][1:])
        c += 1
    return Played(garage_id, slug, tz, skipped)


# --- comparing -----------------------------------------------------------------------------------

REPORT_FIELDS = ("summary", "previous_summary", "changes", "by_method", "by_vehicle_type", "by_attendant", "rows",
                 "hours", "hour_events", "occupancy")


def differences(app, monkeypatch, garage_id: int, periods: list[Period], now: datetime | None = None,
                garages: list[int] | None = None) -> list[str]:
    """Every figure of each period's report (and of the portfolio of `garages` over the periods) that is
    not the recount from the rows: a list of "where: got != want" lines (empty: all equal)."""
    out: list[str] = []
    with app.test_request_context():
        for period in periods:
            got = reports.build_report(garage_id, period, now=now)
            want = recount(monkeypatch, lambda: reports.build_report(garage_id, period, now=now))
            for name in REPORT_FIELDS:
                try:
                    same(getattr(got, name), getattr(want, name), f"{period.first}..{period.last}/{period.group} {name}")
                except AssertionError as exc:
                    out.append(str(exc))
            if "".join(report_csv(got)) != "".join(report_csv(want)):
                out.append(f"{period} rows CSV differs")
        if garages:
            chosen = list(db.session.scalars(sa.select(Garage).where(Garage.id.in_(garages)).order_by(Garage.id)))
            for period in periods:
                try:
                    same(reports.portfolio_figures(chosen, period, now),
                         recount(monkeypatch, lambda: reports.portfolio_figures(chosen, period, now)),
                         f"portfolio {period.first}..{period.last}")
                except AssertionError as exc:
                    out.append(str(exc))
    return out


def window_periods(first: date, last: date) -> list[Period]:
    """Each day of the window by hour, the window by day and by hour, and wider periods around it."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return ([Period(d, d, "hour") for d in days]
            + [Period(first, last), Period(first, last, "hour"),
               Period(first - timedelta(days=3), last + timedelta(days=4)),
               Period(first + timedelta(days=1), last + timedelta(days=2), "hour")])


def built_days(garage_id: int) -> dict[date, str]:
    return dict(db.session.execute(sa.select(ReportDay.day, ReportDay.timezone)
                                   .where(ReportDay.garage_id == garage_id, ReportDay.dirty.is_(False))).all())


def first_lines(diffs: list[str], n: int = 8) -> str:
    return "\n".join(diffs[:n]) + (f"\n... {len(diffs) - n} more" if len(diffs) > n else "")


Check = Callable[[], list[str]]
