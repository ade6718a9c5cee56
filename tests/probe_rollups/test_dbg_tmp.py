from datetime import date, datetime, timedelta, timezone
import sqlalchemy as sa
from garage.domain.periods import Period
from garage.extensions import db
from garage.identity import Actor
from garage.models import ReportDay, ReportHour
from garage.services import reports, rollups
from garage.services.tickets import issue_ticket
from tests.helpers.garages import add_garage
from tests.db.test_rollups import recount

U = timezone.utc
def test_dbg(app, monkeypatch):
    tz = "America/St_Johns"
    g = add_garage("sj", 50, timezone=tz)
    staff = Actor.system("t")
    issue_ticket(g, "A1", "Car", staff, now=datetime(2020, 3, 10, 2, 0, tzinfo=U))
    rollups.build(g, tz, [date(2020, 3, 6) + timedelta(days=i) for i in range(10)])
    issue_ticket(g, "B1", "Car", staff, now=datetime(2020, 3, 11, 2, 0, tzinfo=U))
    issue_ticket(g, "B2", "Car", staff, now=datetime(2020, 3, 11, 2, 29, 59, 999999, tzinfo=U))
    print(db.session.execute(sa.select(ReportDay.day, ReportDay.dirty, ReportDay.timezone, ReportDay.entries).where(ReportDay.garage_id == g).order_by(ReportDay.day)).all())
    with app.test_request_context():
        p = Period(date(2020, 3, 10), date(2020, 3, 10), "hour")
        got = reports.build_report(g, p)
        print(db.session.execute(sa.select(ReportDay.day, ReportDay.dirty, ReportDay.timezone, ReportDay.entries).where(ReportDay.garage_id == g).order_by(ReportDay.day)).all())
        print(db.session.execute(sa.select(ReportHour.day, ReportHour.hour_start, ReportHour.entries).where(ReportHour.garage_id == g)).all())
        want = recount(monkeypatch, lambda: reports.build_report(g, p))
        print(got.summary.entries, want.summary.entries)
        assert got.summary.entries == want.summary.entries

def test_dbg2(app):
    tz = "America/St_Johns"
    g = add_garage("sj", 50, timezone=tz)
    staff = Actor.system("t")
    issue_ticket(g, "B1", "Car", staff, now=datetime(2020, 3, 11, 2, 0, tzinfo=U))
    issue_ticket(g, "B2", "Car", staff, now=datetime(2020, 3, 11, 2, 29, 59, 999999, tzinfo=U))
    for p in (Period(date(2020, 3, 10), date(2020, 3, 10), "hour"), Period(date(2020, 3, 10), date(2020, 3, 12), "hour"), Period(date(2020, 3, 9), date(2020, 3, 12), "hour")):
        hours, ev, sums = reports.hour_events(g, p, tz)
        print(p, p.bounds(tz), [(h.start.isoformat(), e) for h, e in zip(hours, ev) if e.entries or e.max_running is not None])
