"""Time every report URL on PostgreSQL with 1,000,000 tickets over a year.

    .venv/bin/python bench/report_timing.py [--tickets 1000000] [--keep] [--prefix garage_reports]
    .venv/bin/python bench/report_timing.py --database garage_reports_<kept>   # time again, no seeding

Creates a throw-away database `<prefix>_<random>` (through
TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres),
migrates it, fills it with set-based SQL (INSERT ... SELECT generate_series;
one completed ticket in 25 is lost with a $50 fee, charged instead of the
time fee for half of them and on top of it for the other half),
then requests each report endpoint through the Flask test client as a manager
and prints the timings, followed by EXPLAIN ANALYZE of every statement one
30-day report runs. The database is dropped at the end (unless --keep).
Target: every 30-day report under one second.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from garage import create_app  # noqa: E402
from garage.config import normalise_database_url  # noqa: E402
from garage.domain.clock import local_today, utcnow  # noqa: E402
from garage.extensions import db  # noqa: E402

ADMIN_URL = normalise_database_url(
    os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres")
TZ = "America/New_York"

SEED = """
INSERT INTO tickets (ticket_number, license_plate, plate_key, vehicle_type, entry_time, exit_time,
                     duration_minutes, amount_paid, status, payment_method, last_event_at,
                     issued_by_id, closed_by_id, created_at, updated_at, lost, lost_fee_cents)
SELECT 'PS-B' || g, 'BENCH ' || g, 'BENCH' || g,
       (ARRAY['Car','Standard Vehicle','Compact Car','SUV','Motorcycle','Van'])[1 + g % 6],
       s.entry_time,
       CASE WHEN s.exit_time <= now() THEN s.exit_time END,
       CASE WHEN s.exit_time <= now() THEN s.stay END,
       CASE WHEN s.exit_time <= now() THEN
            CASE WHEN g % 50 = 0 THEN 5000                                   -- lost: fee instead of time
                 WHEN g % 50 = 25 THEN 5000 + 1000 * GREATEST(1, CEIL(s.stay / 60.0))  -- lost: fee added
                 ELSE 1000 * GREATEST(1, CEIL(s.stay / 60.0)) END END,
       CASE WHEN s.exit_time <= now() THEN 'completed' ELSE 'active' END,
       CASE WHEN s.exit_time <= now() THEN
            (ARRAY['Cash','Credit Card','Debit Card','Mobile Payment'])[1 + (g / 7) % 4] END,
       LEAST(s.exit_time, now()),
       :first_user + g % :users,
       CASE WHEN s.exit_time <= now() AND g % 10 <> 0 THEN :first_user + (g / 3) % :users END,
       s.entry_time, s.entry_time,
       s.exit_time <= now() AND g % 25 = 0,
       CASE WHEN s.exit_time <= now() AND g % 25 = 0 THEN 5000 END
FROM generate_series(1, :n) AS g
CROSS JOIN LATERAL (
    SELECT e AS entry_time, e + make_interval(mins => m) AS exit_time, m AS stay
    FROM (SELECT now() - interval '365 days' + (g * (interval '365 days' / :n))
                 + make_interval(secs => (g::bigint * 7919) % 600) AS e,
                 -- stays from 5 minutes to ~10 hours, most of them short
                 (5 + ((g::bigint * 104729) % 97) * ((g::bigint * 31) % 7))::int AS m) AS x
) AS s
"""


def database_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def create_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, database_url(name)


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(app, n: int) -> None:
    from flask_migrate import upgrade

    from garage.services import accounts
    from garage.services.settings import ensure_settings

    with app.app_context():
        upgrade()
        ensure_settings()
        users = [accounts.create_user(f"att{i}", "correct horse battery", "attendant") for i in range(4)]
        accounts.create_user("boss", "correct horse battery", "manager")
        started = time.perf_counter()
        db.session.execute(sa.text(SEED), {"n": n, "users": len(users), "first_user": users[0].id})
        active = db.session.scalar(sa.text("SELECT count(*) FROM tickets WHERE status = 'active'"))
        db.session.execute(sa.text("UPDATE garages SET timezone = :tz, occupied = :o, "
                                   "total_spaces = GREATEST(400, :o)"), {"tz": TZ, "o": active})
        db.session.commit()
        lost = db.session.scalar(sa.text("SELECT count(*) FROM tickets WHERE lost"))
        print(f"seeded {n:,} tickets ({active} inside now, {lost:,} lost) in {time.perf_counter() - started:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE tickets"))
        db.session.remove()


def manager_client(app):
    """A test client signed in as the manager: the session a sign-in writes
    (Flask-Login id: the secret of a new session row; last-seen time for the idle timeout)."""
    from garage.identity import LAST_SEEN, TOUCHED
    from garage.models import User
    from garage.services.accounts import open_session

    client = app.test_client()
    with app.app_context():
        boss = db.session.scalar(sa.select(User).where(User.username == "boss"))
        secret = open_session(boss)
        db.session.commit()
        with client.session_transaction() as s:
            s["_user_id"] = secret
            s["_fresh"] = True
            s[LAST_SEEN] = s[TOUCHED] = int(utcnow().timestamp())
        db.session.remove()
    return client


def timed(client, url: str, runs: int) -> tuple[list[float], list[float], int, int]:
    """Whole-response times and times to the first body chunk (streams)."""
    times, firsts, size, status = [], [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        r = client.get(url, buffered=False)
        chunks = iter(r.response)
        first = next(chunks, b"")
        firsts.append(time.perf_counter() - started)
        size = len(first) + sum(len(chunk) for chunk in chunks)  # consume the stream
        r.close()
        times.append(time.perf_counter() - started)
        status = r.status_code
    return times, firsts, size, status


def explain(app, client, url: str) -> None:
    """EXPLAIN ANALYZE each statement the report page runs."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and ("FROM tickets" in statement
                                                                 or "set_config" in statement):
            statements.append((statement, parameters))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        client.get(url)
        sa.event.remove(db.engine, "before_cursor_execute", capture)
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            for i, (statement, parameters) in enumerate(statements, 1):
                if "FROM tickets" not in statement:  # set_config (work_mem): replay, do not explain
                    cur.execute(statement, parameters)
                    continue
                cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + statement, parameters)
                plan = [row[0] for row in cur.fetchall()]
                first = " ".join(statement.split())[:110]
                print(f"\n[{i}] {first}...")
                for line in plan:
                    if any(w in line for w in ("Scan", "Execution Time", "Sort Method", "WindowAgg",
                                               "Aggregate")):
                        print("    " + line.strip())
            raw.rollback()
        finally:
            raw.close()
        db.session.remove()


def timing_arguments(doc: str, prefix: str) -> argparse.ArgumentParser:
    """The options this script and bench/portfolio_timing.py share."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--prefix", default=prefix, help="name of the new database: <prefix>_<random>")
    parser.add_argument("--database", help="time an existing database kept earlier (no seeding, not dropped)")
    return parser


def open_database(args) -> tuple[str, str]:
    """(name, url): the kept database named by --database (then kept again), else a new one."""
    if args.database:
        args.keep = True
        return args.database, database_url(args.database)
    return create_database(args.prefix)


def close_database(args, name: str) -> None:
    if args.keep:
        print(f"kept database {name}")
    else:
        drop_database(name)
        print(f"\ndropped database {name}")


def main() -> None:
    args = timing_arguments(__doc__, "garage_reports").parse_args()
    name, url = open_database(args)
    print(f"database {name}")
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
        if not args.database:
            seed(app, args.tickets)
        client = manager_client(app)
        today = local_today(utcnow(), TZ)
        d = lambda days: (today - timedelta(days=days)).isoformat()  # noqa: E731
        last30 = f"from={d(29)}&to={today}"
        info_only = [  # longer than 30 days: printed, not held to the target
            f"/reports?from={d(365)}&to={today}",
            f"/reports/export/tickets.csv?from={d(365)}&to={today}",  # every ticket, streamed
        ]
        urls = [
            f"/reports?{last30}",
            f"/reports?{last30}&group=hour",
            f"/reports?from={d(0)}&to={d(0)}",
            f"/reports?from={d(200)}&to={d(171)}",  # 30 days in the middle of the history
            *[f"/reports/charts/{c}.svg?{last30}" for c in ("revenue", "traffic", "occupancy", "heatmap")],
            f"/reports/export/rows.csv?{last30}",
            f"/reports/export/rows.csv?{last30}&group=hour",
            f"/reports/export/tickets.csv?{last30}",
        ] + info_only
        print(f"\n{'URL':<78} {'status':>6} {'best':>8} {'median':>8} {'1st byte':>9} {'bytes':>12}")
        worst_30, failed = 0.0, []
        for u in urls:
            times, firsts, size, status = timed(client, u, args.runs)
            best, med = min(times), statistics.median(times)
            if status != 200:
                failed.append(u)
            if u not in info_only:
                worst_30 = max(worst_30, med)
            print(f"{u:<78} {status:>6} {best * 1000:>6.0f}ms {med * 1000:>6.0f}ms "
                  f"{statistics.median(firsts) * 1000:>7.0f}ms {size:>12,}")
        verdict = "FAILED: not 200" if failed else "OK" if worst_30 < 1.0 else "TOO SLOW"
        print(f"\nslowest 30-day request (median): {worst_30 * 1000:.0f} ms -> {verdict} (target < 1000 ms)")
        print("\nEXPLAIN ANALYZE of the 30-day report page's statements:")
        explain(app, client, f"/reports?{last30}")
        with app.app_context():
            db.engine.dispose()
    finally:
        close_database(args, name)


if __name__ == "__main__":
    main()
