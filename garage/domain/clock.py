"""Time helpers: the database speaks UTC, people speak the garage's local time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .words import Text, _


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def local_day_bounds(day: date, tzname: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC (23 or 25 hours on DST days)."""
    tz = ZoneInfo(tzname)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def local_today(now: datetime, tzname: str) -> date:
    return now.astimezone(ZoneInfo(tzname)).date()


def to_local(moment: datetime, tzname: str) -> datetime:
    return moment.astimezone(ZoneInfo(tzname))


def format_duration(minutes: int) -> Text:
    """125 → "2 h 05 min", 5 → "5 min" (translated where a page shows it)."""
    hours, mins = divmod(max(0, minutes), 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=mins)
    return _("%(minutes)d min", minutes=mins)
