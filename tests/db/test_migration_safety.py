"""Migrations that cannot wedge (issue 16, item 6), on PostgreSQL with a few hundred thousand
tickets: `flask db upgrade` runs on its own connection, so the app's tiny statement timeout and
reply deadline do not cut off 0003's index build; a step that cannot get its lock waits at most
MIGRATION_LOCK_TIMEOUT_MS, is rolled back and tried again, and gives up with a clear message;
an index build interrupted half-way (left INVALID) is dropped and built again by the next run."""
from __future__ import annotations

import os
import signal
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import psycopg2
import psycopg2.extras
import sqlalchemy as sa
import pytest
from alembic.script import ScriptDirectory

from bench.seed_history import psycopg2_dsn, seed
from tests.helpers.postgres import cloned_postgres, throwaway_postgres

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
TICKETS = 300_000
# The newest revision in migrations/versions (one head: test_migrations checks the chain).
HEAD = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "migrations")).get_current_head()
# The app's own limits, far too small for any migration step on this table: the migrations
# must not be using them.
TINY_APP_LIMITS = {"STATEMENT_TIMEOUT_MS": "1", "DB_REPLY_TIMEOUT": "0.1"}


APP_BUILDS_THE_INDEX = """
import sqlalchemy as sa
from garage import create_app
from garage.extensions import db
with create_app().app_context():
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE INDEX ix_by_the_app ON tickets (exit_time, amount_paid)"))
        print("built")
    except sa.exc.OperationalError as exc:
        print(type(exc.orig).__name__)
"""


def flask(url: str, *args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(8), "LOG_LEVEL": "INFO",
                   **TINY_APP_LIMITS, **env}
    return subprocess.Popen([FLASK, "--app", "garage", *args], cwd=ROOT, env=environment, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def upgrade(url: str, **env: str) -> tuple[int, str]:
    process = flask(url, "db", "upgrade", **env)
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def query(url: str, sql: str, *args):
    conn = psycopg2.connect(psycopg2_dsn(url))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def version(url: str) -> str:
    return query(url, "SELECT version_num FROM alembic_version")[0][0]


def exit_time_indexes(url: str) -> dict[str, tuple[bool, str]]:
    """Every index whose name starts with ix_tickets_exit_time: (valid, definition)."""
    return {name: (valid, definition) for name, valid, definition in query(url, """
        SELECT c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname LIKE 'ix_tickets_exit_time%%'""")}


def assert_at_head_with_a_valid_partial_index(url: str) -> None:
    assert version(url) == HEAD
    indexes = exit_time_indexes(url)
    assert list(indexes) == ["ix_tickets_exit_time"], indexes  # no half-built leftover
    valid, definition = indexes["ix_tickets_exit_time"]
    assert valid and "WHERE (exit_time IS NOT NULL)" in definition, definition
    assert not query(url, "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_tickets_plate_key'")


@pytest.fixture(scope="module")
def seeded_0002() -> Iterator[str]:
    """A database at revision 0002 with TICKETS tickets (the bench's set-based seeder)."""
    gen = throwaway_postgres()
    url = next(gen)
    try:
        code, output = upgrade(url, STATEMENT_TIMEOUT_MS="0")
        assert code == 0, output
        process = flask(url, "db", "downgrade", "0002", STATEMENT_TIMEOUT_MS="0")
        assert process.wait(timeout=60) == 0, process.stdout.read()
        seed(url, TICKETS, days=90, replace=False, do_migrate=False)
        yield url
    finally:
        gen.close()


@pytest.fixture
def old_database(seeded_0002) -> Iterator[str]:
    """A copy of the seeded database at 0002, for one test."""
    yield from cloned_postgres(seeded_0002)


class Blocker:
    """Another session in the middle of a write transaction on tickets (an attendant's exit
    that has not committed yet, a long report in a transaction): it holds ROW EXCLUSIVE on the
    table until release(). A concurrent index build must wait for it."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg2.connect(psycopg2_dsn(url))
        with self.conn.cursor() as cur:
            cur.execute("UPDATE tickets SET updated_at = updated_at WHERE id = 1")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_upgrade_with_a_tiny_app_statement_timeout_finishes_and_reruns_cleanly(old_database):
    assert query(old_database, "SELECT count(*) FROM tickets")[0][0] == TICKETS
    assert version(old_database) == "0002"
    started = time.monotonic()
    code, output = upgrade(old_database)
    assert code == 0, output
    assert_at_head_with_a_valid_partial_index(old_database)
    print(f"0002 -> {HEAD} on {TICKETS:,} tickets: {time.monotonic() - started:.1f} s")

    # the limits were really in force for the app: its own connection cannot run the build
    check = subprocess.run([sys.executable, "-c", APP_BUILDS_THE_INDEX], cwd=ROOT, text=True, capture_output=True,
                           env={**os.environ, "DATABASE_URL": old_database, "SECRET_KEY": "k", **TINY_APP_LIMITS})
    assert check.stdout.strip() == "QueryCanceled", check.stdout + check.stderr

    code, output = upgrade(old_database)  # nothing left to do
    assert code == 0, output
    assert_at_head_with_a_valid_partial_index(old_database)


def test_a_build_cut_off_by_the_lock_timeout_gives_up_clearly_and_the_next_run_rebuilds_it(old_database):
    blocker = Blocker(old_database)
    try:
        started = time.monotonic()
        code, output = upgrade(old_database, MIGRATION_LOCK_TIMEOUT_MS="200", MIGRATION_LOCK_RETRIES="3")
        elapsed = time.monotonic() - started
        assert code == 1, output
        # each refused try is logged with the statement and who holds the table, then one clear error
        assert output.count("rolled back, trying again in") == 2, output
        assert "try 1 of 3: CREATE INDEX CONCURRENTLY ix_tickets_exit_time_0003" in output, output
        assert ("migration gave up: a step waited 200 ms for a lock held by another session, 3 tries"
                in output), output
        assert "idle in transaction" in output and "UPDATE tickets SET updated_at" in output, output
        assert "Traceback" not in output, output
        # three tries of at most 200 ms, waits of 0.2 + 0.4 s in between: the upgrade did not hang (the
        # blocker holds its lock until the end; the bound leaves room for a loaded machine's start-up)
        assert elapsed < 60, elapsed
        # the step was interrupted half-way: its index exists but is INVALID; nothing recorded
        assert version(old_database) == "0002"
        assert exit_time_indexes(old_database)["ix_tickets_exit_time_0003"][0] is False
    finally:
        blocker.release()

    code, output = upgrade(old_database)
    assert code == 0, output
    assert "index ix_tickets_exit_time_0003 is INVALID (an interrupted build): dropping it" in output, output
    assert_at_head_with_a_valid_partial_index(old_database)


def test_a_migration_waiting_for_a_lock_retries_and_finishes_once_it_is_released(old_database):
    blocker = Blocker(old_database)
    process = flask(old_database, "db", "upgrade", MIGRATION_LOCK_TIMEOUT_MS="200", MIGRATION_LOCK_RETRIES="20")
    lines = []
    try:
        for line in process.stdout:  # the log says what happens: wait for the second refused try
            lines.append(line)
            if sum("trying again" in seen for seen in lines) == 2:
                break
        assert "try 2 of 20" in lines[-1], "".join(lines)
    finally:
        blocker.release()
    rest, _ = process.communicate(timeout=120)
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "gave up" not in output
    assert_at_head_with_a_valid_partial_index(old_database)


class Refused(Exception):
    """What psycopg2 raises when lock_timeout expires (SQLSTATE 55P03)."""

    pgcode = "55P03"


def test_only_a_refused_lock_is_retried_after_a_growing_pause():
    from garage.persistence.schema_changes import MigrationLocked, run_migrations

    engine = sa.create_engine("sqlite://")
    tries, pauses = [], []

    def refused_twice(connection):
        tries.append(connection)
        if len(tries) <= 2:
            raise sa.exc.OperationalError("CREATE INDEX CONCURRENTLY ix ON tickets (x)", {}, Refused())

    run_migrations(engine, refused_twice, tries=3, lock_timeout_ms=500, sleep=pauses.append)
    assert len(tries) == 3 and pauses == [0.5, 1.0]

    tries.clear(), pauses.clear()
    with pytest.raises(MigrationLocked, match=r"gave up: a step waited 500 ms .* 2 tries \(CREATE INDEX"):
        run_migrations(engine, refused_twice, tries=2, lock_timeout_ms=500, sleep=pauses.append)
    assert pauses == [0.5]

    def broken(connection):
        tries.append(connection)
        raise sa.exc.ProgrammingError("ALTER TABLE nope", {}, Exception("syntax error"))

    tries.clear(), pauses.clear()
    with pytest.raises(sa.exc.ProgrammingError):  # anything else is not retried
        run_migrations(engine, broken, tries=5, lock_timeout_ms=500, sleep=pauses.append)
    assert len(tries) == 1 and pauses == []


@pytest.fixture
def empty_0002() -> Iterator[str]:
    """A database at revision 0002 with no tickets (quick to make: for what needs only the schema)."""
    gen = throwaway_postgres()
    url = next(gen)
    try:
        process = flask(url, "db", "upgrade", "0002")
        assert process.wait(timeout=60) == 0, process.stdout.read()
        yield url
    finally:
        gen.close()


class SnapshotHolder:
    """A session running a long query in a REPEATABLE READ transaction (a long report): its
    snapshot makes CREATE INDEX CONCURRENTLY wait, lock timeout after lock timeout."""

    def __init__(self, url: str, seconds: int) -> None:
        self.conn = psycopg2.connect(psycopg2_dsn(url), async_=True)
        psycopg2.extras.wait_select(self.conn)
        self.cur = self.conn.cursor()
        self.cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM users; "
                         f"SELECT pg_sleep({seconds})")

    def release(self) -> None:
        self.conn.cancel()
        self.conn.close()


def test_ctrl_c_while_a_step_waits_for_a_lock_stops_the_upgrade_at_once(empty_0002):
    holder = SnapshotHolder(empty_0002, 90)
    try:
        process = flask(empty_0002, "db", "upgrade", MIGRATION_LOCK_TIMEOUT_MS="30000", MIGRATION_LOCK_RETRIES="3")
        lines = []
        for line in process.stdout:  # 0003's index build has started waiting behind the snapshot
            lines.append(line)
            if "Running upgrade 0002 -> 0003" in line:
                break
        time.sleep(1)
        interrupted = time.monotonic()  # from Ctrl-C on: the start-up's time is the machine's, not the rule's
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        elapsed = time.monotonic() - interrupted
        output = "".join(lines) + rest
        # The statement was cancelled on the server, not just abandoned: while the holder still holds
        # its snapshot, no session of the upgrade is left waiting (holding everyone queued behind it).
        waiting = query(empty_0002, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND query LIKE 'CREATE INDEX%%' AND state = 'active'")
    finally:
        holder.release()
    assert waiting == [(0,)], output
    assert process.returncode not in (0, None), output
    assert "interrupted" in output, output
    assert "trying again" not in output and "Traceback" not in output, output  # never retried after Ctrl-C
    # Stopped at once: not when the 30-s lock timeout ends (29 s after Ctrl-C, then retries), nor after the
    # holder's 90 s (the bound leaves room for a loaded machine).
    assert elapsed < 15, (elapsed, output)
    assert version(empty_0002) == "0002"


def test_an_interrupt_the_driver_turned_into_a_refused_lock_is_not_retried():
    """psycopg2's wait callback may hand a Ctrl-C back as a failed statement: still no retry."""
    from garage.persistence.schema_changes import MigrationInterrupted, run_migrations

    engine = sa.create_engine("sqlite://")
    tries, pauses = [], []
    # Python's own handler, or SIG_IGN when the suite was started in the background by a non-interactive
    # shell (which ignores Ctrl-C for background jobs): whichever it was comes back after the run.
    before = signal.getsignal(signal.SIGINT)

    def interrupted_while_waiting(connection):
        tries.append(connection)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except KeyboardInterrupt:
            raise sa.exc.OperationalError("ALTER TABLE users ADD x int", {}, Refused()) from None

    with pytest.raises(MigrationInterrupted, match="interrupted"):
        run_migrations(engine, interrupted_while_waiting, tries=5, lock_timeout_ms=500, sleep=pauses.append)
    assert len(tries) == 1 and pauses == []
    assert signal.getsignal(signal.SIGINT) is before  # the run's handler is gone
