"""What the outside probe of the rollups found (issue 21), as the smallest reproductions, now counted right:
a run of days across a half-hour DST change (Lord Howe: hours restart at each local midnight,
Period.hour_buckets), a local day that never happened (Samoa, Tokelau 2011-12-30: no hours, no 500). And
SQLite's hour key rounding to the millisecond (an entry in the last half millisecond before a
local midnight: mended too, the stamp cut to whole seconds). Both databases unless said otherwise."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings

from garage.domain.periods import Period
from garage.identity import Actor
from garage.services import reports, rollups
from garage.services.tickets import issue_ticket, process_exit
from tests.db.test_rollups import recount
from tests.helpers.garages import add_garage
from tests.probe_rollups.harness import HALF_HOUR_SHIFTS, differences, first_lines, local, play, window_periods
from tests.probe_rollups.strategies import scenarios
from tests.probe_rollups.test_generated import SETTINGS, examples, people  # noqa: F401 (a fixture)

UTC = timezone.utc
LORD_HOWE = "Australia/Lord_Howe"  # +10:30, +11 in summer: on 2026-10-04 02:00 the clocks went to 02:30
STAFF = Actor.system("probe")


def entries(app, monkeypatch, garage_id: int, day: date) -> tuple[int, int]:
    """(the report's entries of the day, the recount's)."""
    period = Period(day, day, "hour")
    with app.test_request_context():
        got = reports.build_report(garage_id, period).summary.entries
        want = recount(monkeypatch, lambda: reports.build_report(garage_id, period)).summary.entries
    return got, want


def test_lord_howe_first_half_hour_after_the_dst_change(app, monkeypatch):
    garage_id = add_garage("lh", 50, timezone=LORD_HOWE)
    entered = local(date(2026, 10, 5), 0.25, LORD_HOWE)  # 00:15 local on the 5th (13:15 UTC on the 4th)
    number = issue_ticket(garage_id, "LH 1", "Car", STAFF, now=entered).ticket_number
    process_exit(garage_id, number, "Cash", STAFF, now=entered + timedelta(hours=2))
    rollups.build(garage_id, LORD_HOWE, [date(2026, 10, 3), date(2026, 10, 4), date(2026, 10, 5)])  # one run
    assert entries(app, monkeypatch, garage_id, date(2026, 10, 4)) == (0, 0)  # got (1, 0)
    assert entries(app, monkeypatch, garage_id, date(2026, 10, 5)) == (1, 1)  # got (0, 1)


def test_lord_howe_after_the_change_back(app, monkeypatch):
    garage_id = add_garage("lh", 50, timezone=LORD_HOWE)
    entered = local(date(2026, 4, 7), 0.2, LORD_HOWE)  # 00:12 local on the 7th
    issue_ticket(garage_id, "LH 2", "Car", STAFF, now=entered)
    rollups.catch_up(garage_id, LORD_HOWE, now=datetime(2026, 4, 20, tzinfo=UTC))  # the command: 31-day runs
    assert entries(app, monkeypatch, garage_id, date(2026, 4, 7)) == (1, 1)


@settings(max_examples=examples(4), **SETTINGS)
@given(scenario=scenarios(HALF_HOUR_SHIFTS))
def test_half_hour_shift_zones_every_figure_is_the_recount(app, monkeypatch, people, scenario):  # noqa: F811
    played = play(scenario, *people, app)
    diffs = differences(app, monkeypatch, played.garage_id, window_periods(scenario.first, scenario.last))
    assert not diffs, f"{scenario.describe()}\n{first_lines(diffs)}"


def test_sqlite_last_half_millisecond_before_midnight(app, monkeypatch, request):
    """SQLite's strftime('%s') (the hour key) rounded to the millisecond: an entry stamped in the last half
    millisecond of a local day (a quarter-hour in UTC) was put in the next day's first hour, while the
    summary counts it by its stamp (the store now cuts the stamp to whole seconds first). Both databases."""
    tz = "America/St_Johns"
    garage_id = add_garage("sj", 50, timezone=tz)
    issue_ticket(garage_id, "SJ 1", "Car", STAFF, now=datetime(2020, 3, 11, 2, 0, tzinfo=UTC))  # 23:30 local
    issue_ticket(garage_id, "SJ 2", "Car", STAFF, now=datetime(2020, 3, 11, 2, 29, 59, 999_600, tzinfo=UTC))
    day = date(2020, 3, 10)
    with app.test_request_context():
        live = recount(monkeypatch, lambda: reports.build_report(garage_id, Period(day, day, "hour")))
        assert live.summary.entries == sum(row.entries for row in live.rows) == 2  # rows: 1
    rollups.build(garage_id, tz, [day, day + timedelta(days=1)])
    assert entries(app, monkeypatch, garage_id, day) == (2, 2)  # got (1, 2)


@pytest.mark.parametrize("tz", ["Pacific/Apia", "Pacific/Fakaofo"])
def test_a_rolled_up_day_that_never_happened(app, client, monkeypatch, tz):
    from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
    from garage.extensions import db
    from garage.models import Garage
    from tests.helpers.garages import make_admin
    from tests.helpers.web import sign_in

    db.session.get(Garage, MAIN).timezone = tz
    db.session.commit()
    skipped = date(2011, 12, 30)
    assert Period(skipped, skipped).bounds(tz)[0] == Period(skipped, skipped).bounds(tz)[1]  # no such local day
    number = issue_ticket(MAIN, "SAMOA", "Car", STAFF, now=local(skipped - timedelta(days=1), 20, tz)).ticket_number
    process_exit(MAIN, number, "Cash", STAFF, now=local(skipped + timedelta(days=1), 5, tz))
    with app.test_request_context():  # the live recount answers
        assert recount(monkeypatch, lambda: reports.build_report(MAIN, Period(skipped, skipped, "hour"))).rows == []
    make_admin("root")
    assert sign_in(client, "root").status_code == 303
    for query in ("from=2011-12-30&to=2011-12-30", "from=2011-12-29&to=2011-12-30"):
        response = client.get(f"/g/main/reports?{query}")
        assert response.status_code == 200, query
