"""Time /portfolio across 100 garages (five timezones) on PostgreSQL: 200,000 paid tickets over 60
days, one 28-day period (the page, its CSV, the live panel, and the figures' one statement alone).

    PYTHONPATH=. .venv/bin/python bench/portfolio_page_timing.py

TICKETS=1000000 SPACING=31 (environment): a year of 1M tickets instead. Prints EXPLAIN ANALYZE of the
figures' statement. A throw-away database (tests/helpers/postgres.py), dropped at the end."""
import os
import secrets
import time

import sqlalchemy as sa
from contextlib import contextmanager

from flask_migrate import upgrade
from garage import create_app
from garage.extensions import db
from tests.helpers.postgres import throwaway_postgres
from tests.helpers.web import sign_in

TICKETS = int(os.environ.get("TICKETS", 200_000))
SPACING = int(os.environ.get("SPACING", 26))

with contextmanager(throwaway_postgres)() as url:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16),
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        from garage.services.settings import ensure_settings
        ensure_settings()
        from tests.helpers.garages import make_admin, second_garage
        tzs = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Adelaide"]
        for i in range(2, 101):
            second_garage(f"g{i}", f"Garage {i}", 500, tzs[i % 5])
        make_admin("root")
        import psycopg2
        raw = psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))
        with raw, raw.cursor() as cur:
            cur.execute("""
            INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time,
                exit_time, duration_minutes, amount_paid, status, payment_method, lost, last_event_at, created_at, updated_at)
            SELECT 1 + (n % 100), 'T' || n, 'P' || n, 'P' || n, 'Car', t, t + interval '90 minutes', 90, 500 + n % 1000,
                   'completed', 'Cash', false, t + interval '90 minutes', t, t
            FROM (SELECT n, CAST(:start AS timestamptz) + (n * interval '{spacing} seconds') AS t FROM generate_series(1, {tickets}) n) s""".replace("CAST(:start AS timestamptz)", "'2026-02-01 00:00+00'::timestamptz")
                        .format(tickets=TICKETS, spacing=SPACING))
            cur.execute("ANALYZE tickets")
        raw.close()
    client = app.test_client()
    assert sign_in(client, "root").status_code == 303
    for path in ["/portfolio?from=2026-02-01&to=2026-02-28", "/portfolio/export.csv?from=2026-02-01&to=2026-02-28",
                 "/portfolio/live"]:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = client.get(path, headers={"HX-Request": "true"} if "live" in path else {})
            r.get_data()
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, (path, r.status_code)
        print(f"{path}: median {sorted(times)[2]*1000:.0f} ms (min {min(times)*1000:.0f}), {len(r.get_data())} bytes")
    with app.app_context():
        from garage.domain.periods import Period
        from garage.services import reports, garages
        from garage.identity import Actor
        from datetime import date
        gs = garages.list_garages(Actor.system())
        ts = []
        for _ in range(5):
            t0 = time.perf_counter(); reports.portfolio_figures(gs, Period(date(2026, 2, 1), date(2026, 2, 28))); ts.append(time.perf_counter() - t0)
        print(f"portfolio_figures alone (100 garages, 28 days): median {sorted(ts)[2]*1000:.0f} ms")
        seen = []
        listen = lambda conn, cursor, statement, params, context, many: seen.append((statement, params))  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        reports.portfolio_figures(gs, Period(date(2026, 2, 1), date(2026, 2, 28)))
        sa.event.remove(db.engine, "before_cursor_execute", listen)
        statement, params = next((s, p) for s, p in seen if "GROUP BY" in s)
        cursor = db.session.connection().connection.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        print("\n".join(row[0] for row in cursor.fetchall()))
        db.session.remove(); db.engine.dispose()
