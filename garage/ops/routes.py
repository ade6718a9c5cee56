"""/healthz and /readyz (see the package's docstring; docs/operations.md, "Health checks"), and
/metrics (garage/observability/metrics.py; docs/operations.md, "Metrics")."""
from __future__ import annotations

import hmac
import ipaddress

from flask import Response, current_app, jsonify, request

from ..identity import client_ip
from ..observability import metrics
from ..persistence import readiness
from ..web import RETRY_AFTER_SECONDS, log_failure
from . import bp

NOT_READY = {readiness.DATABASE: "database unreachable",
             readiness.MIGRATIONS_BEHIND: "database schema is not at the code's migrations head"}


def _answer(code: int, **body: str) -> Response:
    response = jsonify(**body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """The process answers: no database, no session, nothing else."""
    return _answer(200, status="ok")


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers within DB_CONNECT_TIMEOUT and its schema is at
    the migrations' head; 503 otherwise (a load balancer sends traffic elsewhere)."""
    reason, error = readiness.check(current_app.config["DB_CONNECT_TIMEOUT"])
    if reason is None:
        return _answer(200, status="ready")
    if error is not None and reason == readiness.DATABASE:
        log_failure(error, 503)  # an outage: one line, its traceback once per outage
    elif reason == readiness.MIGRATIONS_BEHIND:
        # Expected before `flask db upgrade` (never migrated included): a warning, no traceback.
        current_app.logger.warning("/readyz: the database schema is not at the migrations' head; run flask db upgrade")
    response = _answer(503, status="unavailable", reason=NOT_READY[reason])
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def metrics_allowed() -> bool:
    """From a network in METRICS_ALLOW (the client's address: behind trusted proxies, the real
    one), or with `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time)."""
    config = current_app.config
    address = client_ip()
    if address and config["METRICS_ALLOW"]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is not None and any(ip in network for network in config["METRICS_ALLOW"]):
            return True
    token = config["METRICS_TOKEN"]
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


@bp.get("/metrics", endpoint="metrics")
def metrics_view():
    """Prometheus' text format; 403 to anyone else (no hint of what is there)."""
    if not metrics_allowed():
        return _answer(403, message="Forbidden")
    response = Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
