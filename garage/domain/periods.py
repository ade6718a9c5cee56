"""Report periods: whole local days of the garage, their UTC bounds and buckets.

A period is an inclusive range of local calendar dates plus a grouping (per
day or per hour). Days and hours are the garage's local ones, so a DST day
has 23 or 25 hourly buckets and the bounds move with the offset.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Mapping

from .clock import local_day_bounds, local_today, to_local
from .errors import InvalidInput
from .words import N_, Text, _

GROUPS = ("day", "hour")
MAX_DAYS = 366
MAX_HOURLY_DAYS = 31
# Up to a month a report's occupancy is drawn per hour (720 points); a longer period grouped by day is
# drawn per day (a year of hours is 8,760 points and as many table rows: a megabyte of page for a line no
# one can read), and is counted by the day: its rolled-up days are read whole, not hour by hour (issue 21).
HOURLY_OCCUPANCY_DAYS = 31
MIN_YEAR, MAX_YEAR = 2000, 2100
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Bucket:
    """One row of a report: [start, end) in UTC, labelled in local time."""

    start: datetime
    end: datetime
    local_start: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    group: str = "day"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def single_day(self) -> bool:
        return self.first == self.last

    def previous(self) -> "Period":
        """The period of the same number of days just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.group)

    def bounds(self, tzname: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        return local_day_bounds(self.first, tzname)[0], local_day_bounds(self.last, tzname)[1]

    def query(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "group": self.group}

    def label(self, format_date: Callable[[date, str], str] | None = None) -> str:
        """The period as a heading: one day with its weekday, else first – last. `format_date`
        (day, CLDR skeleton) writes the days in the reader's locale (garage.i18n.format_date); without
        it (scripts, the domain's tests) the English "Sun 08 Mar 2026" / "01 Mar 2026 – 31 Mar 2026"."""
        if format_date is None:
            if self.single_day:
                return self.first.strftime("%a %d %b %Y")
            return f"{self.first.strftime('%d %b %Y')} – {self.last.strftime('%d %b %Y')}"
        if self.single_day:
            return format_date(self.first, "yMMMEd")
        return _("%(first)s – %(last)s", first=format_date(self.first, "yMMMd"),
                 last=format_date(self.last, "yMMMd"))

    def day_buckets(self, tzname: str) -> list[Bucket]:
        out = []
        day = self.first
        while day <= self.last:
            start, end = local_day_bounds(day, tzname)
            out.append(Bucket(start, end, to_local(start, tzname)))
            day += timedelta(days=1)
        return out

    def hour_buckets(self, tzname: str) -> list[Bucket]:
        """Every real hour of the period, counted from each day's local midnight: 23 on a
        spring-forward day, 25 on a fall-back day (01:00 happens twice). Where an offset moves by half an
        hour (Lord Howe's DST) a day's last hour is a half hour, so the next day's hours start at its
        midnight (an hour never holds two days' events). A local day that never happened (Samoa skipped
        2011-12-30) has none."""
        out = []
        for day in self.day_buckets(tzname):
            t = day.start
            while t < day.end:
                nxt = min(t + HOUR, day.end)
                out.append(Bucket(t, nxt, to_local(t, tzname)))
                t = nxt
        return out

    @property
    def by_day(self) -> bool:
        """Grouped by day over more than HOURLY_OCCUPANCY_DAYS: its occupancy per day, its days counted whole."""
        return self.group == "day" and self.days > HOURLY_OCCUPANCY_DAYS

    def buckets(self, tzname: str) -> list[Bucket]:
        return self.hour_buckets(tzname) if self.group == "hour" else self.day_buckets(tzname)


def week_start(day: date, first_weekday: int = 0) -> date:
    """The first day of `day`'s week, weeks starting on `first_weekday` (0 = Monday ... 6 = Sunday:
    the reader's locale, garage.i18n.first_weekday())."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def presets(today: date, first_weekday: int = 0) -> list[tuple[str, Period]]:
    """The period selector's shortcuts, relative to the garage's local today; the week starts on
    `first_weekday` (0 = Monday ... 6 = Sunday). The labels are English keys (N_): the page shows
    them translated (``{{ _(label) }}``)."""
    return [
        (N_("Today"), Period(today, today, "hour")),
        (N_("Yesterday"), Period(today - timedelta(days=1), today - timedelta(days=1), "hour")),
        (N_("This week"), Period(week_start(today, first_weekday), today, "day")),
        (N_("This month"), Period(today.replace(day=1), today, "day")),
        (N_("Last 30 days"), Period(today - timedelta(days=29), today, "day")),
    ]


def default_period(today: date) -> Period:
    return Period(today - timedelta(days=29), today, "day")


def spanning(periods: Iterable[Period]) -> Period:
    """The smallest period holding all of `periods` (the group of the first)."""
    periods = list(periods)
    return Period(min(p.first for p in periods), max(p.last for p in periods), periods[0].group)


@dataclass(frozen=True)
class TodayAcross:
    """"Today" for several garages at once (the portfolio), each in its own timezone. Around
    midnight somewhere their dates differ (Auckland already on the 6th, Los Angeles still on the
    5th): a period is one range of dates, each garage's own local days in it, so the rule is that
    every quick period and the default one is that period as each garage sees it, spanned: from
    the earliest garage's to the latest's. Every garage's own today (its week, its month, its
    last 30 days) is then inside; when the dates differ, "Today" covers two dates, and the page
    says so (`differ`)."""

    earliest: date
    latest: date

    @classmethod
    def at(cls, now: datetime, tznames: Iterable[str]) -> "TodayAcross":
        """At the instant `now` (UTC), for garages in `tznames` (none: UTC's date)."""
        todays = {local_today(now, tz) for tz in tznames} or {local_today(now, "UTC")}
        return cls(min(todays), max(todays))

    @property
    def differ(self) -> bool:
        return self.earliest != self.latest

    def presets(self, first_weekday: int = 0) -> list[tuple[str, Period]]:
        """The period selector's shortcuts: each spans that shortcut in every garage's timezone."""
        return [(label, spanning([early, late])) for (label, early), (_label, late)
                in zip(presets(self.earliest, first_weekday), presets(self.latest, first_weekday))]

    def default_period(self) -> Period:
        return spanning([default_period(self.earliest), default_period(self.latest)])


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_date(raw: str, field: str) -> date:
    """A date typed as YYYY-MM-DD (ASCII digits, a real calendar day) from MIN_YEAR to
    MAX_YEAR: every date parameter (reports, audit log) goes through here, so none can
    overflow a day's bounds or reach the database out of range. Else InvalidInput for `field`."""
    not_a_date = InvalidInput(_("“%(typed)s” is not a date: use YYYY-MM-DD, e.g. 2026-03-08", typed=raw[:20]),
                              field=field)
    if not _ISO_DATE.fullmatch(raw):
        raise not_a_date
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise not_a_date from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidInput(_("Dates must be between %(first)s and %(last)s", first=MIN_YEAR, last=MAX_YEAR),
                           field=field)
    return value


def parse_period(args: Mapping[str, str], today: date, default: Period | None = None) -> Period:
    """Read ?from=&to=&group= (all optional; neither date: `default`, else the 30 days to `today`).
    Raises InvalidInput with the field (rows per hour over more than MAX_HOURLY_DAYS days too: an
    address asking for hourly figures never gets daily ones)."""
    return _parse_period(args, today, default, hours_too_long="refuse")


def parse_asked_period(args: Mapping[str, str], today: date,
                       default: Period | None = None) -> tuple[Period, Text | None]:
    """parse_period for a person's form (the reports page): rows per hour asked over more than
    MAX_HOURLY_DAYS days are rows per day, with a note saying so, rather than a refusal. "Yesterday"
    leaves "Rows per" on Hour; a From typed a year back then means the year, by day. Every other
    mistake is still refused (InvalidInput)."""
    period = _parse_period(args, today, default, hours_too_long="by day")
    asked = (args.get("group") or "").strip().lower()
    if asked == "hour" and period.group == "day":
        return period, _("Rows per hour are available for up to %(days)s days: this report of %(num)s days "
                         "is by day.", days=MAX_HOURLY_DAYS, num=period.days)
    return period, None


def _parse_period(args: Mapping[str, str], today: date, default: Period | None, hours_too_long: str) -> Period:
    raw_from = (args.get("from") or "").strip()
    raw_to = (args.get("to") or "").strip()
    raw_group = (args.get("group") or "").strip().lower()
    if raw_group and raw_group not in GROUPS:
        raise InvalidInput(_("Group by must be “day” or “hour”"), field="group")
    if not raw_from and not raw_to:
        period = default or default_period(today)
    else:
        first = parse_date(raw_from, "from") if raw_from else None
        last = parse_date(raw_to, "to") if raw_to else None
        first = first or last
        last = last or first
        if first > last:
            raise InvalidInput(_("The start date must be on or before the end date"), field="to")
        period = Period(first, last)
    if period.days > MAX_DAYS:
        raise InvalidInput(_("A report covers at most %(days)s days; choose a shorter range", days=MAX_DAYS),
                           field="to")
    group = raw_group or ("hour" if period.single_day else "day")
    if group == "hour" and period.days > MAX_HOURLY_DAYS:
        if hours_too_long == "by day":
            return Period(period.first, period.last, "day")
        raise InvalidInput(_("Per-hour rows are available for up to %(days)s days; group by day or choose "
                             "a shorter range", days=MAX_HOURLY_DAYS), field="group")
    return Period(period.first, period.last, group)


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days: [(first, last), ...]."""
    out: list[list[date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(a, b) for a, b in out]


class BucketIndex:
    """Maps UTC instants to the bucket that contains them (binary search)."""

    def __init__(self, buckets: list[Bucket]) -> None:
        self.buckets = buckets
        self._starts = [b.start for b in buckets]

    def find(self, moment: datetime) -> int | None:
        i = bisect_right(self._starts, moment) - 1
        if i < 0 or moment >= self.buckets[i].end:
            return None
        return i
