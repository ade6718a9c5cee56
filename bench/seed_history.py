"""Generate a year of realistic ticket history into a PostgreSQL database.

    .venv/bin/python bench/seed_history.py --database-url postgresql://postgres@127.0.0.1/garage_x \
        --tickets 1000000

Set-based SQL (INSERT ... SELECT generate_series), one transaction, one statement
per garage (so 10,000,000 tickets over 50 garages sort 200,000 rows at a time, not
10M at once: memory stays bounded and the load scales linearly, about 25 s per 1M on
the 2-core VM): 1,000,000 tickets load in well under a minute. The database is
migrated first (`flask --app garage db upgrade`). `--rollups` then builds the
reports' rollups of the whole history (`flask --app garage rollups`), timed apart.
What the history looks like:

- entries spread over the last `--days` days (default 365) in the garage's
  timezone with a weekly pattern (weekdays busier than weekends) and a daily one
  (morning and evening peaks, quiet nights), a little seasonality;
- stays: commuters arriving 7-9 on weekdays stay a working day, others a
  log-normal stay (median about 1 h 40), a few overnight;
- regulars come back (30% of entries from 2,000 regular plates);
- vehicle types and payment methods with realistic weights;
- four attendants (created if missing, unusable passwords) on shifts as
  issued_by / closed_by;
- `--garages N` (default 1) spreads the tickets over N garages: the default
  garage and garages 2..N (slugs g002..., created if missing as copies of the
  default garage's settings), the busiest about seven times the quietest
  (garage k gets the share (k/N)^(2/3) - ((k-1)/N)^(2/3), as garage_id =
  1 + floor(N * r^1.5) would); the attendants hold a grant at each.

Invariants kept: unique ticket numbers from the unambiguous PS- alphabet (an
affine permutation of the row number, base 31: no collisions by construction);
cars whose stay has not ended yet are the active tickets (one per plate), at
most total_spaces of them (total_spaces is raised to the history's peak
occupancy if it was lower); garages.occupied = the active count;
completed tickets' duration_minutes and amount_paid follow the pricing rule
(seconds rounded up to the minute, hourly_rate x started hours, at least one).
ANALYZE (and VACUUM) afterwards so the planner knows the new table.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from garage.domain.tickets import TICKET_ALPHABET, TICKET_PREFIX  # noqa: E402

ATTENDANTS = ("amira", "ben", "chen", "dana")
CODE_SPACE = len(TICKET_ALPHABET) ** 6  # 6-character codes, like the app's
MULTIPLIER = 387_420_489  # 3**18: coprime with 31**6, so i -> (a*i + b) mod 31**6 is a bijection
OFFSET = 123_456_789


def psycopg2_dsn(url: str) -> str:
    for prefix in ("postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY") or "seed-only",
           "LOG_LEVEL": "WARNING"}
    flask = Path(sys.executable).with_name("flask")
    subprocess.run([str(flask), "--app", "garage", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def code_sql(n: str) -> str:
    """SQL for the 6-character base-31 code of the bigint expression n (0 <= n < 31**6)."""
    digits = [f"substr('{TICKET_ALPHABET}', (({n}) / {31 ** k} % 31)::int + 1, 1)" for k in range(5, -1, -1)]
    return " || ".join(digits)


def plate_sql(n: str) -> str:
    """A plate like 'KDX 4821' from a number (letters and digits, unique per n < 26**3 * 10**4)."""
    letters = " || ".join(f"chr(65 + (({n}) / {10_000 * 26 ** k} % 26)::int)" for k in (2, 1, 0))
    return f"{letters} || ' ' || lpad((({n}) % 10000)::text, 4, '0')"


def garages_schema(cur) -> bool:
    """True at migration 0007 or later (garages, garage_id, grants); the seeder also fills older
    schemas (tests/db/test_migration_safety.py seeds a database at 0002)."""
    cur.execute("SELECT to_regclass('garages') IS NOT NULL")
    return bool(cur.fetchone()[0])


def ensure_attendants(cur) -> list[int]:
    from werkzeug.security import generate_password_hash

    unusable = generate_password_hash(os.urandom(24).hex(), method="scrypt")
    ids = []
    for name in ATTENDANTS:
        cur.execute("SELECT id FROM users WHERE username = %s", (name,))
        row = cur.fetchone()
        if row is None:
            garages = garages_schema(cur)
            cur.execute("INSERT INTO users (username, password_hash, role, active, must_change_password, "
                        "created_at) VALUES (%s, %s, %s, true, false, now() - interval '2 years') "
                        "RETURNING id", (name, unusable, None if garages else "attendant"))
            row = cur.fetchone()
            if garages:  # an attendant of the default garage (it exists: ensure_settings ran first)
                cur.execute("INSERT INTO garage_grants (user_id, garage_id, role) SELECT %s, id, 'attendant' "
                            "FROM garages", (row[0],))
        ids.append(row[0])
    return ids


def ensure_settings(cur) -> tuple[int, int, str]:
    table = "garages" if garages_schema(cur) else "garage_settings"
    cur.execute(f"SELECT total_spaces, hourly_rate, timezone FROM {table} WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        tz = os.environ.get("GARAGE_TIMEZONE") or "UTC"
        slug = ("slug, ", "'main', ") if table == "garages" else ("", "")
        cur.execute(f"INSERT INTO {table} (id, {slug[0]}total_spaces, hourly_rate, timezone, garage_name, "
                    f"almost_full_percent, occupied, updated_at) VALUES (1, {slug[1]}140, 1000, %s, 'Garage', 90, 0, "
                    "now())", (tz,))
        return 140, 1000, tz
    return row


def ensure_garages(cur, garages: int) -> None:
    """Garages 2..`garages` (slugs g002...), each a copy of the default garage's settings, empty."""
    cur.execute("""
        INSERT INTO garages
        SELECT (jsonb_populate_record(NULL::garages, to_jsonb(d) || jsonb_build_object(
                    'id', n, 'slug', 'g' || lpad(n::text, 3, '0'), 'garage_name', 'Garage ' || n,
                    'occupied', 0, 'receipt_seq', 0))).*
        FROM garages d, generate_series(2, %s) AS n WHERE d.id = 1
        ON CONFLICT DO NOTHING""", (garages,))
    cur.execute("INSERT INTO garage_grants (user_id, garage_id, role) SELECT g.user_id, n.id, g.role "
                "FROM garage_grants g JOIN garages n ON n.id <> 1 JOIN users u ON u.id = g.user_id "
                "WHERE g.garage_id = 1 AND u.username = ANY(%s) ON CONFLICT DO NOTHING", (list(ATTENDANTS),))


def history_sql(attendants: list[int], garage_id: bool = True) -> str:
    """One garage's share: the INSERT ... SELECT (psycopg2 parameters: tickets, days, tz, rate, now,
    garage, start: the row numbers before this garage's, so ticket numbers and the plates of cars inside
    stay unique across garages), answering (inserted, peak occupancy, cars inside now)."""
    a = attendants
    sql = f"""
WITH params AS (
    SELECT %(tickets)s::bigint AS n, %(days)s::int AS days, %(tz)s::text AS tz, %(rate)s::int AS rate,
           %(now)s::timestamptz AS now, %(start)s::bigint AS start
),
slots AS (  -- one row per local hour of the period, with its share of the traffic
    SELECT s.local_start, (s.local_start AT TIME ZONE p.tz) AS utc_start,
           extract(isodow FROM s.local_start)::int AS dow, extract(hour FROM s.local_start)::int AS hour,
           (CASE extract(isodow FROM s.local_start)::int WHEN 6 THEN 0.75 WHEN 7 THEN 0.55
                 WHEN 5 THEN 1.1 ELSE 1.0 END)
           * (CASE WHEN extract(isodow FROM s.local_start)::int < 6 THEN
                  (ARRAY[.05,.03,.02,.02,.04,.15,.6,1.6,2.0,1.3,.9,.9,1.1,1.0,.8,.8,.9,1.2,1.0,.8,.6,.4,.2,.1])
                  [extract(hour FROM s.local_start)::int + 1]
              ELSE
                  (ARRAY[.05,.03,.02,.02,.02,.05,.1,.3,.6,1.0,1.4,1.6,1.6,1.5,1.4,1.3,1.2,1.1,1.0,.9,.8,.6,.3,.1])
                  [extract(hour FROM s.local_start)::int + 1]
              END)
           * (1 + 0.15 * cos(2 * pi() * (extract(doy FROM s.local_start) - 200) / 365.0)) AS weight
    FROM params p,
         generate_series(date_trunc('day', p.now AT TIME ZONE p.tz) - make_interval(days => p.days),
                         date_trunc('hour', p.now AT TIME ZONE p.tz) - interval '1 hour',
                         interval '1 hour') AS s(local_start)
),
cumulative AS (
    SELECT *, sum(weight) OVER (ORDER BY local_start) AS upto, sum(weight) OVER () AS total FROM slots
),
counts AS (  -- whole tickets per hour, summing exactly to n
    SELECT c.*, (round(c.upto / c.total * p.n) - round((c.upto - c.weight) / c.total * p.n))::int AS cnt
    FROM cumulative c, params p
),
entries AS (
    SELECT c.utc_start + make_interval(secs => floor(random() * 3600)) AS entry_time, c.dow, c.hour,
           random() AS r_kind, random() AS r1, random() AS r2, random() AS r_plate, random() AS r_type,
           random() AS r_pay
    FROM counts c, generate_series(1, c.cnt) AS g(k)
    WHERE c.cnt > 0
),
numbered AS (
    SELECT (SELECT start FROM params) + row_number() OVER (ORDER BY entry_time) AS i, e.*,
           -- commuters: weekday 7-9 arrivals stay a working day; others log-normal (Box-Muller)
           CASE WHEN e.dow < 6 AND e.hour BETWEEN 7 AND 9 AND e.r_kind < 0.7
                THEN (8.5 * 3600 + 2700 * sqrt(-2 * ln(1 - e.r1)) * cos(2 * pi() * e.r2))
                ELSE 6000 * exp(0.9 * sqrt(-2 * ln(1 - e.r1)) * cos(2 * pi() * e.r2))
           END AS raw_secs
    FROM entries e
),
stays AS (
    SELECT n.*, greatest(120, least(3 * 86400, round(n.raw_secs)))::int AS secs FROM numbered n
),
shaped AS (
    SELECT s.*, s.entry_time + make_interval(secs => s.secs) AS exit_at,
           (s.entry_time + make_interval(secs => s.secs)) > p.now AS inside
    FROM stays s, params p
),
inserted AS (
INSERT INTO tickets ({"garage_id, " if garage_id else ""}ticket_number, license_plate, plate_key, vehicle_type, entry_time, exit_time,
                     duration_minutes, amount_paid, status, payment_method, last_event_at,
                     issued_by_id, closed_by_id, created_at, updated_at)
SELECT {"%(garage)s::int, " if garage_id else ""}'{TICKET_PREFIX}' || ({code_sql(f"(s.i * {MULTIPLIER} + {OFFSET}) % {CODE_SPACE}")}),
       plate, replace(plate, ' ', ''),
       CASE WHEN s.r_type < .45 THEN 'Car' WHEN s.r_type < .60 THEN 'Compact Car'
            WHEN s.r_type < .80 THEN 'SUV' WHEN s.r_type < .90 THEN 'Standard Vehicle'
            WHEN s.r_type < .96 THEN 'Van' ELSE 'Motorcycle' END,
       s.entry_time,
       CASE WHEN s.inside THEN NULL ELSE s.exit_at END,
       CASE WHEN s.inside THEN NULL ELSE ceil(s.secs / 60.0)::int END,
       CASE WHEN s.inside THEN NULL ELSE greatest(1, ceil(ceil(s.secs / 60.0) / 60.0))::int * p.rate END,
       CASE WHEN s.inside THEN 'active' ELSE 'completed' END,
       CASE WHEN s.inside THEN NULL WHEN s.r_pay < .45 THEN 'Credit Card' WHEN s.r_pay < .70 THEN 'Debit Card'
            WHEN s.r_pay < .85 THEN 'Cash' ELSE 'Mobile Payment' END,
       CASE WHEN s.inside THEN s.entry_time ELSE s.exit_at END,
       (ARRAY[{a[0]}, {a[1]}, {a[2]}, {a[3]}])[(extract(hour FROM s.entry_time AT TIME ZONE p.tz)::int / 8
             + extract(doy FROM s.entry_time AT TIME ZONE p.tz)::int % 2 * 2) % 4 + 1],
       CASE WHEN s.inside THEN NULL ELSE
       (ARRAY[{a[0]}, {a[1]}, {a[2]}, {a[3]}])[(extract(hour FROM s.exit_at AT TIME ZONE p.tz)::int / 8
             + extract(doy FROM s.exit_at AT TIME ZONE p.tz)::int % 2 * 2) % 4 + 1] END,
       s.entry_time,
       CASE WHEN s.inside THEN s.entry_time ELSE s.exit_at END
FROM shaped s, params p,
     LATERAL (SELECT CASE
         -- cars inside get a plate of their own (one active ticket per plate)
         WHEN s.inside THEN {plate_sql("1000000 + s.i")}
         WHEN s.r_plate < 0.3 THEN {plate_sql("(s.r_plate / 0.3 * 2000)::bigint")}
         ELSE {plate_sql("2000 + (s.r_plate * 170000000)::bigint % 170000000")} END AS plate) AS pl
RETURNING entry_time, exit_time, status
)
SELECT (SELECT count(*) FROM inserted),
       coalesce((SELECT max(inside) FROM (
           SELECT sum(delta) OVER (ORDER BY at, delta) AS inside FROM (
               SELECT entry_time AS at, 1 AS delta FROM inserted
               UNION ALL
               SELECT exit_time, -1 FROM inserted WHERE exit_time IS NOT NULL) events) running), 0),
       (SELECT count(*) FROM inserted WHERE status = 'active')
"""
    sql = sql.replace("%", "%%")  # SQL modulo, not a parameter
    for name in ("tickets", "days", "tz", "rate", "now", "garage", "start"):
        sql = sql.replace(f"%%({name})s", f"%({name})s")
    return sql


def garage_shares(tickets: int, garages: int) -> list[int]:
    """Tickets per garage (garage k = index k - 1), summing exactly to `tickets`: garage k's share is
    (k/N)^(2/3) - ((k-1)/N)^(2/3), the busiest (the default garage) about seven times the quietest
    at N = 100."""
    bounds = [round(tickets * (k / garages) ** (2 / 3)) for k in range(garages + 1)]
    return [bounds[k] - bounds[k - 1] for k in range(1, garages + 1)]


def seed(url: str, tickets: int, days: int, replace: bool, do_migrate: bool = True, garages: int = 1,
         rollups: bool = False, progress=None) -> dict:
    """Fill the database; `rollups`: build the reports' rollups afterwards (timed apart: `rollup_seconds`).
    `progress(message)` hears of each garage loaded."""
    if do_migrate:
        migrate(url)
    started = time.monotonic()
    conn = psycopg2.connect(psycopg2_dsn(url))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '64MB'; "
                        "SET LOCAL statement_timeout = 0; SET LOCAL synchronous_commit = off")
            cur.execute("SELECT count(*) FROM tickets")
            existing = cur.fetchone()[0]
            if existing and not replace:
                raise SystemExit(f"tickets already holds {existing} rows: pass --replace to start over")
            if existing:
                cur.execute("TRUNCATE tickets RESTART IDENTITY")
            total_spaces, rate, tz = ensure_settings(cur)
            multi = garages_schema(cur)
            if garages > 1:
                if not multi:
                    raise SystemExit("--garages needs migration 0007 (the garages table)")
                ensure_garages(cur, garages)
            attendants = ensure_attendants(cur)
            # Secondary indexes are dropped for the load and rebuilt afterwards (much faster);
            # their definitions come from the catalogue, so they come back exactly as migrated.
            cur.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
                           WHERE i.tablename = 'tickets' AND i.schemaname = current_schema()
                             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""")
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            cur.execute("SELECT now()")
            now = cur.fetchone()[0]
            table = "garages" if multi else "garage_settings"
            statement = history_sql(attendants, multi)
            # One statement per garage: each sorts and numbers its own share only.
            inserted, peak, active, start = 0, 0, 0, 0
            if multi:
                cur.execute("UPDATE garages SET occupied = 0")  # a garage without tickets has no car inside
            for garage_id, count in enumerate(garage_shares(tickets, garages), start=1):
                if not count:
                    continue
                cur.execute(f"SELECT timezone, hourly_rate FROM {table} WHERE id = %s", (garage_id,))
                garage_tz, garage_rate = cur.fetchone()
                cur.execute(statement, {"tickets": count, "days": days, "tz": garage_tz, "rate": garage_rate,
                                        "now": now, "garage": garage_id, "start": start})
                rows, garage_peak, inside = (int(v) for v in cur.fetchone())
                cur.execute(f"UPDATE {table} SET total_spaces = greatest(total_spaces, %s, %s), occupied = %s, "
                            "updated_at = now() WHERE id = %s", (garage_peak, inside, inside, garage_id))
                inserted, start = inserted + rows, start + rows
                peak, active = max(peak, garage_peak), active + inside
                if progress:
                    progress(f"garage {garage_id}: {rows:,} tickets ({inserted:,} of {tickets:,}, "
                             f"{time.monotonic() - started:.0f} s)")
            loaded = time.monotonic()
            for _, definition in indexes:
                cur.execute(definition)
            indexed = time.monotonic()
            cur.execute(f"SELECT total_spaces FROM {table} WHERE id = 1")
            spaces = cur.fetchone()[0]
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) tickets")
            cur.execute(f"ANALYZE users; ANALYZE {table}")
    finally:
        conn.close()
    result = {"tickets": inserted, "active": active, "peak": peak, "total_spaces": spaces,
              "seconds": round(time.monotonic() - started, 1), "load_seconds": round(loaded - started, 1),
              "index_seconds": round(indexed - loaded, 1)}
    if rollups:
        t0 = time.monotonic()
        build_rollups(url)
        result["rollup_seconds"] = round(time.monotonic() - t0, 1)
    return result


def build_rollups(url: str) -> None:
    """`flask --app garage rollups`: every garage's complete local days, as an operator would build them."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY") or "seed-only",
           "LOG_LEVEL": "WARNING"}
    flask = Path(sys.executable).with_name("flask")
    subprocess.run([str(flask), "--app", "garage", "rollups"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    # What autovacuum would do after such a bulk load (it may be off on a shared bench server): without
    # it the planner takes the new rollup tables for nearly empty and sorts a year of them on disk.
    conn = psycopg2.connect(psycopg2_dsn(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE report_days; ANALYZE report_hours; ANALYZE report_stays; ANALYZE report_breakdowns; "
                        "ANALYZE report_months; ANALYZE report_month_stays")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="PostgreSQL URL (default: $DATABASE_URL)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--replace", action="store_true", help="delete existing tickets first")
    parser.add_argument("--garages", type=int, default=1,
                        help="spread the tickets over this many garages (created if missing)")
    parser.add_argument("--no-migrate", action="store_true", help="skip `flask db upgrade`")
    parser.add_argument("--rollups", action="store_true",
                        help="then build the reports' rollups of the history (flask --app garage rollups)")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith(("postgres://", "postgresql")):
        parser.error("--database-url must be a PostgreSQL URL")
    if not 1 <= args.tickets <= 50_000_000 or not 1 <= args.days <= 3650 or not 1 <= args.garages <= 999:
        parser.error("--tickets must be 1..50,000,000, --days 1..3650 and --garages 1..999")
    result = seed(args.database_url, args.tickets, args.days, args.replace, not args.no_migrate, args.garages,
                  rollups=args.rollups, progress=lambda message: print(message, flush=True))
    print(f"seeded {result['tickets']:,} tickets over {args.garages} garage(s) in {result['seconds']} s "
          f"(load {result['load_seconds']} s, indexes {result['index_seconds']} s): "
          f"{result['active']} cars inside, peak occupancy {result['peak']} (busiest garage), "
          f"default garage's total_spaces {result['total_spaces']}")
    if "rollup_seconds" in result:
        print(f"rollups built in {result['rollup_seconds']} s")


if __name__ == "__main__":
    main()
