"""The desk's lookup by number or plate (Store.latest_ticket) is one statement that reads indexes
only, on SQLite and PostgreSQL: the ticket number's unique index and ix_tickets_plate_latest
(migration 0006), never a scan of every ticket ever issued."""
from __future__ import annotations

import sqlalchemy as sa

from garage.extensions import db
from garage.persistence.base import LATEST_BY_NUMBER_OR_PLATE


def test_the_lookup_by_number_or_plate_reads_indexes_only(app):
    conn = db.session.connection()
    compiled = LATEST_BY_NUMBER_OR_PLATE.compile(conn)
    params = compiled.construct_params({"number": "PS-ABCD23", "key": "MÜ1"})
    args = tuple(params[k] for k in compiled.positiontup) if compiled.positional else params
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # an empty table: ask for the indexes
        explain = "EXPLAIN "
    else:
        explain = "EXPLAIN QUERY PLAN "
    plan = " ".join(str(row) for row in conn.exec_driver_sql(explain + compiled.string, args).fetchall())
    db.session.rollback()
    assert "ix_tickets_plate_latest" in plan and "ticket_number" in plan, plan
    assert "Seq Scan" not in plan and "SCAN tickets" not in plan.replace("SCAN tickets USING", ""), plan
