"""The many-garages scenario: `make bench BENCH_ARGS="--scenario garages"`.

One PostgreSQL database with `--garages` (100) garages created through the service
(garage/services/garages.py create_garage, as `garages create` does), an admin and one API
token per garage scoped to that garage alone. gunicorn with the production config serves it;
wrk (bench/lua/garages.lua) sends entries, then exits, each request to the next garage in
turn. Measured in rounds side by side, like bench/run.py:

- entry and exit at ONE garage and spread over ALL of them, at the same concurrency: an entry
  takes a space from its garage's counter row (garages.occupied), so if entries in different
  garages serialised on one row, "all" would be no faster than "one";
- the two references of bench/run.py (bare Flask insert, pgbench insert) in the same minutes.

The requests go to the API's per-garage paths `/api/garages/<slug>/tickets` where the server
has them, else (stage 1) to the seed path `/api/tickets`, where the token's one garage names
the garage; the output says which. `--dry-run` prints the plan (databases, wrk command lines)
and exits without touching PostgreSQL.
"""
from __future__ import annotations

import os
import random
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from bench.bare_app import TABLE_DDL
from bench.run import (RESULTS, ROOT, Result, create_database, db_url, format_row, gunicorn, log, migrate,
                       pay_code_sql, pgbench, probe, quiesce, sql, to_result, wrk)

SCRIPT = "garages.lua"
OWNER = "bench-operator"
SPACES = 100_000  # no garage fills up during a slice


def slug(number: int) -> str:
    return f"g{number:03d}"


def plan(opts) -> list[tuple[str, str, int]]:
    """(row name, mode, garages) of each measured row, in the order a round runs them."""
    return [("entry, 1 garage", "entry", 1), (f"entry, {opts.garages} garages", "entry", opts.garages),
            ("exit, 1 garage", "exit", 1), (f"exit, {opts.garages} garages", "exit", opts.garages)]


def wrk_args(mode: str, garages: int, files: dict[str, Path], path: str, tag: str = "AB") -> list[str]:
    """The arguments bench/lua/garages.lua reads (after wrk's `--`)."""
    if mode == "entry":
        return [f"mode=entry", f"file={files['garages']}", f"garages={garages}", f"tag={tag}", f"path={path}"]
    return [f"mode=exit", f"file={files[f'exit{garages}']}", f"path={path}"]


def slice_seconds(opts) -> int:
    return max(2, round(opts.duration / opts.rounds))


# --- the database -------------------------------------------------------------------------------

def prepare(opts) -> tuple[str, list[tuple[int, str, str]]]:
    """A migrated database with the garages, the operator and a token per garage: (url, [(id, slug, token)])."""
    name = f"{opts.db_prefix}_garages"
    url = db_url(opts.admin_url, name)
    create_database(opts.admin_url, name)
    migrate(url)
    sql(url, TABLE_DDL)
    from garage import create_app
    from garage.config import normalise_database_url
    from garage.extensions import db
    from garage.identity import Actor
    from garage.services import accounts, garages, shifts

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                      "LOG_LEVEL": "WARNING"})
    made = []
    with app.app_context():
        owner = accounts.create_user(OWNER, "bench-" + random.randbytes(8).hex(), "admin", allow_admin=True)
        for number in range(1, opts.garages + 1):
            garage = garages.create_garage(Actor.system("bench"), slug(number), f"Bench garage {number}", SPACES)
            # a garage created now takes payments only in an open shift (issue 18): the owner's, float $0
            shifts.open_shift(garage.id, Actor(owner.id, OWNER), 0)
            _, secret = accounts.create_token(OWNER, garage_ids=[garage.id])
            made.append((garage.id, garage.slug, secret))
        db.session.remove()
        db.engine.dispose()
    sql(url, "CREATE TABLE bench_meta AS SELECT coalesce(max(id), 0) AS max_audit_id FROM audit_log")
    sql(url, "VACUUM (ANALYZE)", autocommit=True)
    return url, made


def cars_to_pay(url: str, made: list[tuple[int, str, str]], per_garage: int, path: Path, garages: int) -> Path:
    """`per_garage` cars inside each of the first `garages` garages (entered 10 minutes to 6 hours ago),
    listed as "slug token number" in random order (so every wrk thread's slice spans the garages)."""
    chosen = made[:garages]
    ids = [garage_id for garage_id, _, _ in chosen]
    rows = sql(url, f"""
        WITH cars AS (
            INSERT INTO tickets (garage_id, ticket_number, license_plate, plate_key, vehicle_type, entry_time,
                                 status, last_event_at, created_at, updated_at)
            SELECT gid, 'PS-' || {pay_code_sql("gid::bigint * 1000000 + k")}, 'PAY ' || gid || ' ' || k,
                   'PAY' || gid || 'X' || k, 'Car', t, 'active', t, t, t
            FROM unnest(%s::int[]) AS gid, generate_series(1, %s) AS k,
                 LATERAL (SELECT now() - make_interval(secs => 600 + random() * 21000)) AS e(t)
            RETURNING garage_id, ticket_number)
        SELECT garage_id, ticket_number FROM cars
    """, (ids, per_garage))
    sql(url, "UPDATE garages SET occupied = (SELECT count(*) FROM tickets t WHERE t.garage_id = garages.id "
             "AND t.status = 'active'); ANALYZE tickets")
    by_id = {garage_id: (s, token) for garage_id, s, token in chosen}
    random.shuffle(rows)
    path.write_text("".join(f"{by_id[g][0]} {by_id[g][1]} {number}\n" for g, number in rows))
    return path


def reset(url: str) -> None:
    """Back to no tickets: what each slice wrote is deleted and vacuumed (see bench/run.py reset)."""
    quiesce(url)
    sql(url, "TRUNCATE bench_rows; DELETE FROM tickets; "
             "DELETE FROM audit_log WHERE id > (SELECT max_audit_id FROM bench_meta); UPDATE garages SET occupied = 0")
    sql(url, "VACUUM (ANALYZE) tickets, audit_log, garages", autocommit=True)


# --- the run --------------------------------------------------------------------------------------

def run(opts) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    raw, server_log = RESULTS / f"{stamp}-garages-raw.txt", RESULTS / f"{stamp}-garages-servers.log"
    seconds = slice_seconds(opts)
    files = {"garages": RESULTS / f"{stamp}-garages.txt"}
    if opts.dry_run:
        return dry_run(opts, files, seconds)
    started = time.monotonic()
    url, made = prepare(opts)
    log(f"[garages] {len(made)} garages and their tokens created through the service "
        f"in {time.monotonic() - started:.1f} s")
    files["garages"].write_text("".join(f"{s} {token}\n" for _, s, token in made))
    runs: dict[str, list[dict]] = {}
    try:
        with ExitStack() as servers:
            base = servers.enter_context(gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], url, opts.port,
                                                  "/api/status", server_log)).base
            bare = servers.enter_context(gunicorn(["-c", "bench/gunicorn_bare.conf.py", "bench.bare_app:app"],
                                                  url, opts.port + 1, "/insert", server_log)).base
            path = which_path(base, made[0])
            log(f"[garages] requests go to {'/api/garages/<slug>/tickets' if path == 'api' else '/api/tickets'}"
                + ("" if path == "api" else " (the per-garage API paths answer 404 here: each token is scoped "
                                            "to its one garage, which names the garage)"))
            wrk(opts, base, SCRIPT, wrk_args("entry", len(made), files, path), raw, "warm-up", duration=2)
            wrk(opts, bare, "bare.lua", [], raw, "bare warm-up", duration=2)
            reset(url)
            tags = iter(f"{a}{b}" for a in "ABCDEFGHJKLMNPRSTUVWXYZ" for b in "ABCDEFGHJKLMNPRSTUVWXYZ")
            for round_no in range(1, opts.rounds + 1):
                for name, mode, garages in plan(opts):
                    if mode == "exit":
                        key = f"exit{garages}"
                        files[key] = cars_to_pay(url, made, -(-seconds * opts.max_rate // garages),
                                                 RESULTS / f"{stamp}-{key}.txt", garages)
                    runs.setdefault(name, []).append(wrk(
                        opts, base, SCRIPT, wrk_args(mode, garages, files, path, next(tags)), raw,
                        f"{name} round {round_no}", duration=seconds))
                    reset(url)
                runs.setdefault("bare Flask insert", []).append(
                    wrk(opts, bare, "bare.lua", [], raw, f"bare round {round_no}", duration=seconds))
                runs.setdefault("pgbench insert", []).append(
                    pgbench(opts, url, raw, f"pgbench round {round_no}", seconds))
                reset(url)
                log(f"[garages] round {round_no}/{opts.rounds} done")
    finally:
        if not opts.keep:
            sql(opts.admin_url, f'DROP DATABASE IF EXISTS "{opts.db_prefix}_garages" WITH (FORCE)', autocommit=True)
    results = [to_result(name, rounds, {409} if name.startswith(("entry", "exit")) else set())
               for name, rounds in runs.items()]
    for result in results:
        log("[garages] " + format_row(result))
    header = (f"Garage bench, {len(made)} garages, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
              f"{os.cpu_count()} cores, {opts.rounds} rounds of wrk -t{opts.threads} -c{opts.connections} "
              f"-d{seconds}s, pgbench -c{opts.connections} -j{opts.threads}, total {time.monotonic() - started:.0f} s; "
              f"requests to {'/api/garages/<slug>/tickets' if path == 'api' else '/api/tickets (tokens scoped to one garage)'}")
    text = header + "\n\n" + table(results, len(made)) + "\n"
    (RESULTS / f"{stamp}-garages-table.md").write_text(text)
    log("\n" + text)
    log(f"raw output: {raw.relative_to(ROOT)}")


def which_path(base: str, first: tuple[int, str, str]) -> str:
    """"api" where the per-garage API paths exist (a GET of the entry's path answers 405 or 200 there,
    the router's 404 where it does not), else "seed"."""
    _, s, token = first
    return "seed" if probe(base, {"Authorization": f"Bearer {token}"}, f"/api/garages/{s}/tickets") == 404 else "api"


def table(results: list[Result], garages: int) -> str:
    rps = {r.name: r.rps for r in results}
    bare, pg = rps.get("bare Flask insert"), rps.get("pgbench insert")
    single = {"entry": rps.get("entry, 1 garage"), "exit": rps.get("exit, 1 garage")}
    lines = ["| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | 409s | vs 1 garage | vs bare Flask | vs pgbench |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    pct = lambda a, b, spec=".0f": "-" if not a or not b else format(a / b * 100, spec) + "%"  # noqa: E731
    for r in results:
        one = single.get(r.name.split(",")[0])
        lines.append(f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
                     f"{r.conflicts} | {pct(r.rps, one) if one and r.name.count(',') else '-'} | "
                     f"{pct(r.rps, bare)} | {pct(r.rps, pg, '.1f')} |")
    return "\n".join(lines)


def dry_run(opts, files: dict[str, Path], seconds: int) -> None:
    """The plan, without PostgreSQL, servers or wrk: what a run would create and the command lines."""
    files = {**files, **{f"exit{n}": RESULTS / f"exit{n}.txt" for n in (1, opts.garages)}}
    log(f"database {opts.db_prefix}_garages: {opts.garages} garages ({slug(1)}..{slug(opts.garages)}), "
        f"{SPACES:,} spaces each, one token per garage")
    for round_no in range(1, opts.rounds + 1):
        for name, mode, garages in plan(opts):
            log(f"round {round_no}: {name}: wrk -t{opts.threads} -c{opts.connections} -d{seconds}s -s bench/lua/"
                f"{SCRIPT} URL -- threads={opts.threads} {' '.join(wrk_args(mode, garages, files, 'api'))}")
        log(f"round {round_no}: bare Flask insert, pgbench insert ({seconds} s each)")
