"""The kept report pages' SQL (issue 21): table ``kept_reports`` (KeptReport in garage/models.py, migration
0020). garage/reports/cache.py decides what is kept and under which key; this module reads and writes the rows.

One row per garage and key digest; the key holds the UTC minute, so a row serves one minute only, and
keeping a report deletes the garage's rows of earlier minutes (the table holds at most the current
minute's reports of each garage, and of a garage nobody reads any more, its last minute's).

The first worker to miss a report draws it; the others wait for it (`turn`; PostgreSQL: a transaction-level
advisory lock on the key, only TRIED, in the same statement as the read, `Store.kept_report_lock`, on a
connection of its own held while the report is drawn): when the minute turns, N workers asked for the same
report read one drawing instead of drawing it N times. A waiter reads again every WAIT_STEP seconds, and
draws the report itself after WAIT_SECONDS, or when the turn ended without a body (a drawing not kept, a
failure): both cost what a report cost before. SQLite (one process) draws without waiting."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa

from ..extensions import db
from ..models import KeptReport
from . import outage, store
from .base import commit_keeping_loaded

TABLE = KeptReport.__table__
log = logging.getLogger("garage.reports")
WAIT_STEP = 0.02  # seconds between two reads of a report another worker is drawing
WAIT_SECONDS = 3.0  # then the waiter draws it itself


def _kept(garage_id: int, digest: str) -> sa.ScalarSelect:
    return (sa.select(TABLE.c.body).where(TABLE.c.garage_id == garage_id, TABLE.c.digest == digest)
            .scalar_subquery())


@contextmanager
def turn(garage_id: int, digest: str, wait: bool = True) -> Iterator[str | None]:
    """The body kept under (garage, digest) (ONE statement when it is there), else None: draw it now, inside
    the block. While the block runs, this request holds the key's turn (PostgreSQL: on a connection of its
    own, so the drawing's own commits do not end it): another worker missing the same report waits, reading
    again every WAIT_STEP seconds, and shows the body kept (`keep`, before the block ends), or draws it
    itself after WAIT_SECONDS or once the turn ends without a body (a drawing not kept, a failure).
    `wait=False`: no turn, no waiting (a replica's drawing is not kept: nobody should wait for it)."""
    body = db.session.scalar(sa.select(_kept(garage_id, digest)))
    lock = store().kept_report_lock(garage_id, digest) if wait and body is None else None
    if lock is None:
        yield body
        return
    ask = sa.select(_kept(garage_id, digest).label("body"),
                    sa.case((_kept(garage_id, digest).is_(None), lock), else_=sa.false()).label("mine"))
    with db.engine.connect() as conn:  # its transaction holds the turn; closed (rolled back) after the block
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                row = conn.execute(ask).one()
                if row.body is not None or row.mine or time.monotonic() >= deadline:
                    break
                time.sleep(WAIT_STEP)
            yield row.body
        except BaseException as exc:
            outage.let_go(conn, exc)  # the database gone: no rollback to wait for
            raise


def keep(garage_id: int, digest: str, minute: int, body: str) -> None:
    """Keep `body` under (garage, digest) for `minute`, deleting the garage's rows of earlier minutes;
    committed, inside `turn`'s block: a worker waiting for it finds it as the turn ends. Two drawings of one
    key (a waiter that gave up): the later one stays, either is right."""
    stmt = store().insert(TABLE).values(garage_id=garage_id, digest=digest, minute=minute, body=body)
    try:
        db.session.execute(sa.delete(TABLE).where(TABLE.c.garage_id == garage_id, TABLE.c.minute < minute))
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=[TABLE.c.garage_id, TABLE.c.digest],
            set_={"minute": stmt.excluded.minute, "body": stmt.excluded.body}))
        commit_keeping_loaded()
    except sa.exc.DBAPIError as exc:
        db.session.rollback()
        if not store().is_deadlock(exc):
            raise
        # two workers deleting one garage's old rows at once: the report is shown all the same, and
        # the next request keeps it
        log.info("kept report of garage %s not kept: deadlock with another worker's", garage_id)
