"""Observability: what each request leaves behind for operations. Installed by the app factory
(:func:`install`), before any other request hook:

- logs.py: JSON log lines, the request id (reused from nginx's `X-Request-ID`, returned in the
  answer), the app's request log (LOG_REQUESTS), gunicorn's JSON error and access logs;
- metrics.py: Prometheus metrics (requests, the connection pool, business figures), correct
  across gunicorn's workers; served by GET /metrics (garage/ops/routes.py), which is not public.

Imports nothing heavy at module level: gunicorn.conf.py loads logs.py in the master before it
decides where prometheus_client keeps its files."""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

REQUEST_LOG = "garage.request"


def install(app: Flask) -> None:
    from ..extensions import db
    from . import logs, metrics

    with app.app_context():
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        metrics.watch_pool(db.engine, options.get("pool_size", 5) + options.get("max_overflow", 10))
    request_log = logging.getLogger(REQUEST_LOG)
    config = app.config

    def start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = logs.request_id(request.headers.get(logs.HEADER))

    def finish(response: Response) -> Response:
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        rid = g.get("request_id") or logs.request_id(None)
        response.headers[logs.HEADER] = rid
        status = response.status_code
        metrics.observe_request(request.endpoint, request.method, status, seconds)
        fields = {"request_id": rid, "user": logs.current_user_name(), "route": request.endpoint,
                  "client_ip": request.remote_addr}
        request.environ[logs.ENVIRON] = fields  # for gunicorn's access log line
        if config["LOG_REQUESTS"]:
            method, path = logs.printable(request.method, 20), logs.printable(request.path)
            request_log.info("%s %s -> %d", method, path, status,
                             extra={**fields, "method": method, "path": path, "status": status,
                                    "duration_ms": round(seconds * 1000, 1)})
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, start)  # first: times every hook
    app.after_request(finish)
