"""/healthz and /readyz (see the package's docstring; docs/operations.md, "Health checks")."""
from __future__ import annotations

from flask import Response, current_app, jsonify

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
    if error is not None:
        log_failure(error, 503)
    response = _answer(503, status="unavailable", reason=NOT_READY[reason])
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
