"""The desk's lookup by number or plate (Store.latest_ticket) is one statement that reads indexes
only, on SQLite and PostgreSQL: the ticket number's unique index and ix_tickets_plate_latest
(migration 0006), never a scan of every ticket ever issued."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from garage.domain.errors import Conflict, InvalidInput
from garage.domain.tickets import PLATE_MAX, clean_plate
from garage.extensions import db
from garage.persistence.base import LATEST_BY_NUMBER_OR_PLATE
from garage.services import tickets as ticket_service
from garage.services.settings import ensure_settings
from tests.helpers.db import empty_tables, ticket
from garage.domain.garages import DEFAULT_GARAGE_ID as MAIN


def test_the_lookup_by_number_or_plate_reads_indexes_only(app):
    conn = db.session.connection()
    compiled = LATEST_BY_NUMBER_OR_PLATE.compile(conn)
    params = compiled.construct_params({"garage_id": MAIN, "number": "PS-ABCD23", "key": "MÜ1"})
    args = tuple(params[k] for k in compiled.positiontup) if compiled.positional else params
    if conn.dialect.name == "postgresql":
        # A garage with a history, analysed: every ticket index leads with garage_id, so on an empty
        # table the planner may read "garage_id = 1" off any of them and filter; with a history
        # it answers from the two indexes, as in production.
        conn.execute(sa.text(
            "INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time, status,"
            " lost, last_event_at, created_at, updated_at) SELECT :g, 'PS-H' || n, 'H' || n, 'H' || n, 'Car', now(),"
            " 'completed', false, now(), now(), now() FROM generate_series(1, 3000) AS n"), {"g": MAIN})
        conn.execute(sa.text("ANALYZE tickets"))
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        explain = "EXPLAIN "
    else:
        explain = "EXPLAIN QUERY PLAN "
    plan = " ".join(str(row) for row in conn.exec_driver_sql(explain + compiled.string, args).fetchall())
    db.session.rollback()
    assert "ix_tickets_plate_latest" in plan and "ticket_number" in plan, plan
    assert "Seq Scan" not in plan and "SCAN tickets" not in plan.replace("SCAN tickets USING", ""), plan


# Letters plates carry beyond A-Z, and the characters the rule folds or normalises.
TRICKY = st.sampled_from(list("AZ09ÄÖÜæøåČšŽłŞğİıßẞÐđÉñ") + ["Ａ", "ｂ", "ⅲ", "ﬀ", "Ǆ", " ", "-", ".", "–"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(TRICKY, min_size=1, max_size=PLATE_MAX + 2))
def test_the_database_sees_the_rules_key_for_every_plate_it_accepts(app, typed):
    """Whatever the rule accepts fits the columns on PostgreSQL too (VARCHAR counts characters
    there; a longer value would fail), comes back unchanged, and the partial unique index refuses
    the same plate typed another way: both databases compare the key as the rule made it."""
    try:
        shown, key = clean_plate(typed)
    except InvalidInput:
        return
    db.session.remove()  # the previous example's reads hold no lock on tickets
    empty_tables()
    ensure_settings()
    issued = ticket_service.issue_ticket(MAIN, typed, "Car")
    stored = ticket(issued.ticket_number)
    assert (stored.license_plate, stored.plate_key) == (shown, key)
    with pytest.raises(Conflict):
        ticket_service.issue_ticket(MAIN, key.lower().replace("ẞ", "ß"), "Car")
    assert ticket_service.find_active(MAIN, shown.swapcase()).ticket_number == issued.ticket_number
