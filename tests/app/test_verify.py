"""flask --app garage verify [--repair-counter] (issue 16, item 8): after a restore the data's
own invariants are checked, each printed OK or FAIL with its figures, exit status 1 on any
failure; the counter is repaired on request, audited. Each invariant is broken on purpose."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from garage.extensions import db
from garage.models import AuditEvent, Garage, Ticket
from tests.helpers.db import audit_events, set_settings, ticket
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["verify", *args])


def lines(result) -> dict[str, str]:
    """{check name: "OK  detail" or "FAIL detail"} from the command's output."""
    found = re.findall(r"^(OK  |FAIL)  ([^:]+): (.*)$", result.output, re.M)
    return {name: f"{status.strip()} {detail}" for status, name, detail in found}


def pay(desk, number: str) -> None:
    assert desk.pay(number, "Cash", desk.quote(number)).status_code == 303


COUNTER = "occupancy counter equals the cars inside"
AUDITED = "every paid ticket has its payment audit row"
FREE = "no negative free spaces"
WITHIN = "counter within 0..total spaces"
PERMITS = "permit counter equals the permit cars inside"


def test_a_garage_in_use_passes_every_check(app, desk):
    first, _ = desk.issue("AAA111"), desk.issue("BBB222")
    pay(desk, first)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert lines(result) == {COUNTER: "OK counter 1, cars inside 1",
                             AUDITED: "OK 0 paid tickets without one",
                             FREE: "OK 140 spaces: 139 free by the counter, 139 by the cars inside",
                             WITHIN: "OK counter 1, total 140",
                             PERMITS: "OK counter 0, permit cars inside 0"}
    assert "All 5 checks passed" in result.output


def test_a_counter_out_of_step_fails_and_is_repaired_once_with_an_audit_row(app, desk):
    desk.issue("AAA111"), desk.issue("BBB222")
    set_settings(occupied=5)
    result = verify(app)
    assert result.exit_code == 1
    assert lines(result)[COUNTER] == "FAIL counter 5, cars inside 2"
    assert [name for name, line in lines(result).items() if line.startswith("FAIL")] == [COUNTER]
    assert "1 of 5 checks failed" in result.output

    result = verify(app, "--repair-counter")
    assert result.exit_code == 0, result.output
    assert "Counter repaired: 5 -> 2 (the cars inside)" in result.output
    assert lines(result)[COUNTER] == "OK counter 2, cars inside 2"
    db.session.expire_all()
    assert db.session.get(Garage, 1).occupied == 2
    [event] = audit_events("occupancy.repaired")
    assert (event.username, event.object_type, event.object_id) == ("cli", "garage_settings", "1")
    assert event.details == {"before": {"occupied": 5}, "after": {"occupied": 2}}
    # the garage works on with the repaired counter
    desk.issue("CCC333")
    assert verify(app).exit_code == 0

    again = verify(app, "--repair-counter")
    assert again.exit_code == 0 and "Counter already equals the cars inside (3): nothing changed" in again.output
    assert len(audit_events("occupancy.repaired")) == 1


def test_a_paid_ticket_without_its_audit_row_is_reported(app, desk):
    paid, other = desk.issue("AAA111"), desk.issue("BBB222")
    pay(desk, paid), pay(desk, other)
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.action == "ticket.paid", AuditEvent.object_id == paid))
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert lines(result)[AUDITED] == f"FAIL 1 paid ticket without one (e.g. {paid})"
    assert lines(result)[COUNTER].startswith("OK")
    # repairing the counter does not hide it
    assert verify(app, "--repair-counter").exit_code == 1


def test_more_cars_inside_than_spaces_is_reported_and_the_counter_is_not_forced(app, desk):
    number = desk.issue("AAA111")
    desk.issue("BBB222")
    set_settings(total_spaces=2)
    copy = ticket(number)  # a third car inside that never took a space (a restore of mixed moments)
    db.session.add(Ticket(garage_id=MAIN, ticket_number="PS-XTRA22", license_plate="CCC333", plate_key="CCC333",
                          vehicle_type="Car", entry_time=copy.entry_time, status="active",
                          last_event_at=copy.entry_time))
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert lines(result)[FREE] == "FAIL 2 spaces: 0 free by the counter, -1 by the cars inside"
    assert lines(result)[COUNTER] == "FAIL counter 2, cars inside 3"
    assert lines(result)[WITHIN] == "OK counter 2, total 2"

    refused = verify(app, "--repair-counter")
    assert refused.exit_code == 1
    assert "3 cars are inside but the garage has 2 spaces" in refused.output
    assert "OK  " not in refused.output  # refused before any check ran
    db.session.expire_all()
    assert db.session.get(Garage, 1).occupied == 2
    assert audit_events("occupancy.repaired") == []


@contextmanager
def check_constraints_off():
    """Values the database's check constraints refuse (a restore that skipped them), in the
    test's transaction: verify rolls it back when it is done (SQLite's pragma goes with the
    connections)."""
    conn = db.session.connection()
    try:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE garages DROP CONSTRAINT ck_settings_occupied_capacity"))
            conn.execute(sa.text("ALTER TABLE garages DROP CONSTRAINT ck_settings_occupied_nonneg"))
            conn.execute(sa.text("ALTER TABLE garages DROP CONSTRAINT ck_garages_occupied_permit"))
        else:
            conn.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        yield
    finally:
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_a_counter_beyond_the_total_or_below_zero_is_reported(app):
    for occupied, failing in ((142, {COUNTER: "FAIL counter 142, cars inside 0",
                                     FREE: "FAIL 140 spaces: -2 free by the counter, 140 by the cars inside",
                                     WITHIN: "FAIL counter 142, total 140"}),
                              (-1, {COUNTER: "FAIL counter -1, cars inside 0",
                                    WITHIN: "FAIL counter -1, total 140"})):
        with check_constraints_off():
            db.session.execute(sa.update(Garage).values(occupied=occupied))
            result = verify(app)
        assert result.exit_code == 1, result.output
        assert {name: line for name, line in lines(result).items() if line.startswith("FAIL")} == failing
    assert verify(app).exit_code == 0  # the row and the constraints are as they were
    assert db.session.get(Garage, 1).occupied == 0
    for occupied in (141, -1):
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.update(Garage).values(occupied=occupied))
        db.session.rollback()


def test_no_settings_row_is_reported(app):
    db.session.execute(sa.delete(Garage))
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert "FAIL  the settings row exists" in result.output
    refused = verify(app, "--repair-counter")
    assert refused.exit_code == 1 and "run flask --app garage init first" in refused.output


def test_a_permit_counter_out_of_step_fails_and_is_repaired_with_the_occupancy_counter(app, desk):
    from datetime import timedelta
    from garage.domain.clock import utcnow
    from garage.identity import Actor
    from garage.services import permits
    today = utcnow().date()
    permits.create_permit(MAIN, Actor.system(), holder="H", plates=["PERM 1"], valid_from=today,
                          valid_until=today + timedelta(days=9), price_cents=0)
    desk.issue("PERM 1"), desk.issue("BBB222")
    set_settings(occupied_permit=0)
    result = verify(app)
    assert result.exit_code == 1
    assert [name for name, line in lines(result).items() if line.startswith("FAIL")] == [PERMITS]
    assert lines(result)[PERMITS] == "FAIL counter 0, permit cars inside 1"
    result = verify(app, "--repair-counter")
    assert result.exit_code == 0, result.output
    assert "Permit counter repaired: 0 -> 1 (the permit cars inside)" in result.output
    [event] = audit_events("occupancy.repaired")
    assert event.details == {"before": {"occupied": 2, "occupiedPermit": 0}, "after": {"occupied": 2, "occupiedPermit": 1}}
