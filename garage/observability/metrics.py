"""Prometheus metrics (GET /metrics, garage/ops/routes.py): what each request cost, how full each
worker's connection pool is, and the garage's business figures.

Correct under gunicorn's several workers: gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before anything imports prometheus_client, so every worker writes its counters and
histograms to its own memory-mapped files there and a scrape, answered by any one worker, adds
them all up (prometheus_client's multiprocess mode; a worker that exits is marked dead: its
gauges leave the sum, its counters stay). Without that variable (flask run, the tests) the
process's default registry is used.

- Requests: a counter and a latency histogram labelled by route (the Flask endpoint, never the
  raw path: one label for every 404), method and status. Bounded: endpoints are a fixed list,
  methods outside the usual ones are "other".
- The pool (per worker, summed over live workers): connections open and in use, and the most
  it may open (DB_POOL_SIZE + DB_MAX_OVERFLOW), set from SQLAlchemy's pool events.
- Business counters, incremented by the services (:func:`counted`): entries, exits, revenue
  in cents, refusals of an entry or an exit by reason, failed sign-ins by reason.
- Business gauges read from the database when scraped (:func:`scrape_database`): spaces in
  total and occupied per garage (label ``garage="<slug>"``; one cheap statement for every garage:
  their rows' maintained counters), and whether the database answered."""
from __future__ import annotations

import os
import re
from functools import wraps
from typing import Any, Callable

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from ..domain import errors

disable_created_metrics()  # no *_created series: a restart shows as a counter reset already
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # a request no route matched (404, or 405 before any view)

# --- requests ----------------------------------------------------------------------------------

REQUESTS = Counter("garage_http_requests", "HTTP requests answered, by route (Flask endpoint), method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("garage_http_request_duration_seconds",
                    "Time from the request reaching Flask to its response, by route, method and status",
                    ["route", "method", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    labels = (endpoint or UNMATCHED, method if method in METHODS else "other", str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


# --- the connection pool -----------------------------------------------------------------------

POOL_OPEN = Gauge("garage_db_pool_connections_open", "Database connections open in the pools (all live workers)",
                  multiprocess_mode="livesum")
POOL_IN_USE = Gauge("garage_db_pool_connections_in_use",
                    "Database connections checked out by a request (all live workers)", multiprocess_mode="livesum")
POOL_LIMIT = Gauge("garage_db_pool_connections_limit",
                   "The most connections the pools may open: DB_POOL_SIZE + DB_MAX_OVERFLOW per live worker",
                   multiprocess_mode="livesum")


def watch_pool(engine: sa.Engine, limit: int) -> None:
    """Keep this worker's pool gauges up to date (called once per engine). Set from the pool's
    own events, so the master process (which preloads the app but serves nothing) reports nothing."""

    @sa.event.listens_for(engine, "connect")
    def opened(dbapi_connection: Any, record: Any) -> None:
        POOL_LIMIT.set(limit)
        POOL_OPEN.inc()

    @sa.event.listens_for(engine, "close")
    def closed(dbapi_connection: Any, record: Any) -> None:
        POOL_OPEN.dec()

    @sa.event.listens_for(engine, "close_detached")
    def closed_detached(dbapi_connection: Any) -> None:
        POOL_OPEN.dec()

    @sa.event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        POOL_IN_USE.inc()

    @sa.event.listens_for(engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        POOL_IN_USE.dec()


# --- business counters (the services) -----------------------------------------------------------

ENTRIES = Counter("garage_entries", "Tickets issued (cars in)")
EXITS = Counter("garage_exits", "Tickets paid and closed (cars out)")
REVENUE = Counter("garage_revenue_cents", "Money taken at the exit, in cents")
REFUSALS = Counter("garage_refusals", "Entries and exits refused, by operation and reason", ["operation", "reason"])
SIGN_IN_FAILURES = Counter("garage_sign_in_failures", "Failed sign-ins, by reason", ["reason"])
# Reads that may come from the read replica (garage/persistence/replica.py), by where they went:
# replica, primary_lagging (further behind than REPLICA_MAX_LAG_SECONDS), primary_unreachable.
REPLICA_READS = Counter("garage_replica_reads", "Reads that may use the read replica, by where they went",
                        ["source"])

# A refusal's reason: the error's kind (a fixed list: the classes in garage/domain/errors.py).
REASONS: dict[type, str] = {
    errors.GarageFull: "full", errors.AlreadyInside: "duplicate_plate", errors.AlreadyProcessed: "already_paid",
    errors.QuoteChanged: "fee_changed", errors.InvalidInput: "invalid", errors.NotFound: "not_found",
    errors.Unauthenticated: "unauthenticated", errors.Forbidden: "forbidden", errors.TooManyAttempts: "throttled",
}


def reason(exc: errors.DomainError) -> str:
    for kind in type(exc).__mro__:
        if kind in REASONS:
            return REASONS[kind]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()  # any other kind, by its name


def _entered(ticket: Any) -> None:
    ENTRIES.inc()


def _exited(ticket: Any) -> None:
    EXITS.inc()
    REVENUE.inc(ticket.amount_paid or 0)


def _refused(operation: str) -> Callable[[errors.DomainError], None]:
    return lambda exc: REFUSALS.labels(operation, reason(exc)).inc()


def _sign_in_refused(exc: errors.DomainError) -> None:
    SIGN_IN_FAILURES.labels("throttled" if isinstance(exc, errors.TooManyAttempts) else "wrong_credentials").inc()


COUNTED: dict[str, tuple[Callable[[Any], None] | None, Callable[[errors.DomainError], None]]] = {
    "entry": (_entered, _refused("entry")),
    "exit": (_exited, _refused("exit")),
    "sign_in": (None, _sign_in_refused),
}


def counted(operation: str) -> Callable[[Callable], Callable]:
    """A service's outcome in the business counters: its result once committed, or the domain
    error it refused with (``operation``: a key of :data:`COUNTED`).

    Applied by a call after the use case, ``issue_ticket = metrics.counted("entry")(issue_ticket)``,
    not with ``@``: mutmut 3 does not mutate a decorated function, and the use cases are what
    ``make mutants`` tests (docs/testing.md)."""
    success, refusal = COUNTED[operation]

    def decorator(service: Callable) -> Callable:
        @wraps(service)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                result = service(*args, **kwargs)
            except errors.DomainError as exc:
                refusal(exc)
                raise
            if success is not None:
                success(result)
            return result

        return wrapped

    return decorator


# --- exposition --------------------------------------------------------------------------------

def scrape_database() -> CollectorRegistry:
    """The figures read from the database at scrape time (a registry of their own: answered by
    whichever worker serves the scrape, never summed over workers)."""
    from ..services.stats import garages_occupancy  # services import this module

    registry = CollectorRegistry(auto_describe=False)
    up = GaugeMetricFamily("garage_database_up", "1 if the database answered this scrape, else 0")
    total = GaugeMetricFamily("garage_spaces_total", "Parking spaces in the garage", labels=["garage"])
    occupied = GaugeMetricFamily("garage_spaces_occupied", "Spaces taken by cars inside", labels=["garage"])
    try:
        board = garages_occupancy()  # every garage, one statement
    except sa.exc.SQLAlchemyError:
        from ..extensions import db

        db.session.rollback()
        up.add_metric([], 0)
        families = [up]
    else:
        up.add_metric([], 1)
        for garage in board:
            total.add_metric([garage.slug], garage.occupancy.total)
            occupied.add_metric([garage.slug], garage.occupancy.occupied)
        families = [up, total, occupied]

    class Snapshot:
        def collect(self):  # noqa: D401 - prometheus_client's collector protocol
            return families

    registry.register(Snapshot())
    return registry


def exposition() -> bytes:
    """Every metric in Prometheus' text format: all workers' (multiprocess) or this process's,
    then the database figures."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(scrape_database())
