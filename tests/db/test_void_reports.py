"""A voided ticket in the reports' occupancy (issue 18): its space was taken from its entry until the
void freed it, so occupancy over time counts it inside for exactly that while (both databases)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN
from garage.domain.periods import Period
from garage.identity import Actor
from garage.services import amendments, reports
from garage.services.tickets import issue_ticket

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=timezone.utc)  # the default garage keeps UTC


def test_a_void_frees_its_space_in_occupancy_over_time_and_is_no_exit(app, make_user):
    ann = Actor(make_user("ann", "attendant").id, "ann")
    for i in range(3):
        issue_ticket(MAIN, f"STAYS {i}", "Car", ann, now=T0 + timedelta(minutes=i))
    oops = issue_ticket(MAIN, "OOPS 1", "Car", ann, now=T0 + timedelta(minutes=10)).ticket_number
    amendments.void_ticket(MAIN, oops, ann, "pressed twice", manager=True, now=T0 + timedelta(minutes=40))
    report = reports.build_report(MAIN, Period(T0.date(), T0.date(), "hour"), now=T0 + timedelta(hours=3))
    ten, eleven = report.rows[10], report.rows[11]
    assert (ten.entries, ten.exits, ten.peak_occupancy) == (4, 0, 4)
    # 3 cars for most of the hour and the voided one for 30 minutes of it: about 3.5 on average
    assert 3.3 < ten.average_occupancy < 3.6, ten.average_occupancy
    assert (eleven.peak_occupancy, eleven.average_occupancy) == (3, 3.0)
    assert report.summary.voids == 1 and report.summary.exits == 0
