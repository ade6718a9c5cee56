"""Time the reports of many garages sharing one database (issue 17).

    .venv/bin/python bench/portfolio_timing.py [--tickets 1000000] [--garages 100] [--runs 3] [--keep]
    .venv/bin/python bench/portfolio_timing.py --database garage_portfolio_<kept>   # time again

Creates a throw-away database `garage_portfolio_<random>` (through TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres), fills it with bench/seed_history.py's year of history
spread over --garages garages (the busiest about seven times the quietest), then times:

- one garage's 30-day report (garage/services/reports.py build_report: what /reports shows) for the
  busiest, a middle and the quietest garage, with EXPLAIN ANALYZE of the busiest one's statements;
- the portfolio figures: revenue, exits and entries per garage over the last 30 days, once as one
  GROUP BY garage_id over the period, once as the same per garage (a LATERAL join over garages),
  with EXPLAIN ANALYZE of each, so the plans say which index serves "all garages' period".
"""
from __future__ import annotations

import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report_timing import close_database, open_database, timing_arguments  # noqa: E402
from bench.seed_history import seed  # noqa: E402
from garage import create_app  # noqa: E402
from garage.domain.clock import local_today, utcnow  # noqa: E402
from garage.domain.periods import Period  # noqa: E402
from garage.extensions import db  # noqa: E402

# The portfolio's figures over [:start, :end): two statements, exits (revenue) and entries.
GROUPED = {
    "exits and revenue per garage, GROUP BY garage_id": """
        SELECT garage_id, count(*) AS exits, coalesce(sum(amount_paid), 0) AS revenue
        FROM tickets WHERE exit_time >= :start AND exit_time < :end GROUP BY garage_id""",
    "entries per garage, GROUP BY garage_id": """
        SELECT garage_id, count(*) AS entries
        FROM tickets WHERE entry_time >= :start AND entry_time < :end GROUP BY garage_id""",
}
PER_GARAGE = {
    "exits and revenue per garage, LATERAL over garages": """
        SELECT g.id, x.exits, x.revenue FROM garages g CROSS JOIN LATERAL (
            SELECT count(*) AS exits, coalesce(sum(t.amount_paid), 0) AS revenue FROM tickets t
            WHERE t.garage_id = g.id AND t.exit_time >= :start AND t.exit_time < :end) x""",
    "entries per garage, LATERAL over garages": """
        SELECT g.id, x.entries FROM garages g CROSS JOIN LATERAL (
            SELECT count(*) AS entries FROM tickets t
            WHERE t.garage_id = g.id AND t.entry_time >= :start AND t.entry_time < :end) x""",
}
PLAN_WORDS = ("Scan", "Execution Time", "Aggregate", "Sort Method", "Loop", "Rows Removed")


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def explain(statement: str, params: dict) -> list[str]:
    rows = db.session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS OFF) " + statement), params).scalars()
    return [line.strip() for line in rows if any(w in line for w in PLAN_WORDS)]


def report_statements(garage_id: int, period: Period) -> list[tuple[str, object]]:
    """Every SELECT on tickets that one report runs (captured, to explain them)."""
    from garage.services import reports

    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM tickets" in statement:
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        reports.build_report(garage_id, period)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def main() -> None:
    parser = timing_arguments(__doc__, "garage_portfolio")
    parser.add_argument("--garages", type=int, default=100)
    args = parser.parse_args()
    name, url = open_database(args)
    print(f"database {name}")
    try:
        if not args.database:
            info = seed(url, args.tickets, 365, replace=False, garages=args.garages)
            print(f"seeded {info['tickets']:,} tickets over {args.garages} garages in {info['seconds']} s "
                  f"({info['active']} cars inside)")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})
        with app.app_context():
            measure(args.runs)
            db.session.remove()
            db.engine.dispose()
    finally:
        close_database(args, name)


def measure(runs: int) -> None:
    from garage.services import reports

    counts = db.session.execute(sa.text("SELECT garage_id, count(*) FROM tickets GROUP BY garage_id "
                                        "ORDER BY count(*) DESC, garage_id")).all()
    busiest, middle, quietest = counts[0], counts[len(counts) // 2], counts[-1]
    today = local_today(utcnow(), "UTC")
    period = Period(today - timedelta(days=29), today)
    start, end = period.bounds("UTC")
    print(f"\n{len(counts)} garages; tickets per garage {quietest[1]:,}..{busiest[1]:,}")
    print("\none garage's 30-day report (build_report: figures, previous period, breakdowns, hourly rows), "
          f"median of {runs}:")
    for label, (garage_id, tickets) in (("busiest", busiest), ("middle", middle), ("quietest", quietest)):
        ms = median_ms(lambda: reports.build_report(garage_id, period), runs)
        print(f"  {label:<9} garage {garage_id:>3} ({tickets:>6,} tickets in the year): {ms:7.1f} ms")
    print(f"\nEXPLAIN ANALYZE of the busiest garage's report statements (garage {busiest[0]}):")
    raw = db.session.connection().connection.dbapi_connection.cursor()
    for i, (statement, parameters) in enumerate(report_statements(busiest[0], period), 1):
        raw.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + statement, parameters)
        print(f"[{i}] {' '.join(statement.split())[:110]}...")
        for (line,) in raw.fetchall():
            if any(w in line for w in PLAN_WORDS):
                print("    " + line.strip())
    params = {"start": start, "end": end}
    print(f"\nthe portfolio over the last 30 days, all {len(counts)} garages, median of {runs}:")
    for title, statement in {**GROUPED, **PER_GARAGE}.items():
        ms = median_ms(lambda: db.session.execute(sa.text(statement), params).all(), runs)
        print(f"\n  {title}: {ms:.1f} ms")
        for line in explain(statement, params):
            print("    " + line)
    db.session.rollback()


if __name__ == "__main__":
    main()
