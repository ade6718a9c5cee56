"""Logs: one JSON object per line (LOG_FORMAT=json, the default) or the classic text line
(LOG_FORMAT=text), for the app's own log, its request log (LOG_REQUESTS) and gunicorn's error
and access logs (gunicorn.conf.py `logger_class` = :class:`GunicornLogger`).

Every line written while a request is served carries its request id: the one nginx sent in
`X-Request-ID` when it is safe to reuse (1-128 of ``A-Z a-z 0-9 . _ -``), else a new one; the
response returns it in `X-Request-ID`. Field names: time (ISO 8601, UTC), level, logger,
message, pid (which worker), request_id, user, route (the Flask endpoint), method, path (no query
string), status, duration_ms, client_ip; and exception (a traceback) when there is one.

Nothing secret reaches a line: no header, cookie, form field, query string or body is logged
(only the method, the path and the fields above), and database errors are logged without their
parameters (``hide_parameters``, garage/config.py)."""
from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Any

HEADER = "X-Request-ID"
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
ENVIRON = "garage.log"  # what the app tells gunicorn's access log about a request (in its WSGI environ)
FIELDS = ("request_id", "user", "route", "method", "path", "status", "duration_ms", "client_ip")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def request_id(sent: str | None) -> str:
    """The id nginx (or any client) sent, when it is safe to log and return; else a new one."""
    if sent is not None and SAFE_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def printable(text: str, limit: int = 300) -> str:
    """No control characters (nothing to forge a line with), at most `limit` characters."""
    line = "".join(c if c.isprintable() else "?" for c in text)
    return line if len(line) <= limit else line[:limit] + "..."


# PostgreSQL's error context repeats values: "DETAIL:  Failing row contains (...)", "LINE 1: ... = 'x'"
# (psycopg2 sends parameters inline) and a caret line under it. Never logged (see `redact`).
_DATABASE_DETAIL = re.compile(r"^(DETAIL: .*|LINE \d+: .*)$\n?(^\s*\^\s*$\n?)?", re.MULTILINE)


def redact(text: str) -> str:
    """A traceback or error text without the values a database error may quote."""
    return _DATABASE_DETAIL.sub("(database error detail not logged)\n", text)


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RequestContext(logging.Filter):
    """Adds the current request's id, user, route, method and client address to every record
    logged while it is served (unless the record brings its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_request_context, request

        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
            record.user = current_user_name()
            record.route = request.endpoint
            record.method = request.method
            record.client_ip = request.remote_addr
        return True


def current_user_name() -> str | None:
    """Who sends this request, if already known (never a database query to find out): the
    session user Flask-Login loaded (identity.load_user also notes the name, for once its row is
    expired), or the API token's owner identity.actor_for looked up."""
    from flask import g

    user = g.get("_login_user")
    # what the user's row already holds (vars: never loaded now): after a rollback it is expired, and
    # loading it again would ask the database, which may be the very thing that failed (a 503 to log)
    name = vars(user).get("username") if user is not None else None
    return name if name is not None else g.get("caller_name")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _iso(record.created), "level": record.levelname,
                                "logger": record.name, "message": record.getMessage(), "pid": record.process}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return redact(super().format(record))  # (another handler may have cached the raw traceback)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure(level: str, kind: str) -> None:
    """The process's log: what logging.basicConfig did (a stream handler on the root logger, if
    it has none yet), in `kind` (json | text), with the request's fields on every record."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler._garage = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "_garage", False):
            handler.setFormatter(formatter(kind))
        if not any(isinstance(f, RequestContext) for f in handler.filters):
            handler.addFilter(RequestContext())
    root.setLevel(level)


# --- gunicorn ------------------------------------------------------------------------------------

try:
    from gunicorn import glogging
except ImportError:  # gunicorn is a production dependency; without it nothing below is used
    glogging = None  # type: ignore[assignment]


if glogging is not None:
    class GunicornLogger(glogging.Logger):
        """gunicorn's error and access logs in LOG_FORMAT. An access line has the same fields as
        the app's request log: what the app learnt about the request (its id, user, route,
        client address behind trusted proxies) it leaves in the WSGI environ for this logger."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            import os

            kind = (os.environ.get("LOG_FORMAT") or "json").strip().lower()
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter(kind))

        def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
            if not self.access_log_enabled:
                return
            try:
                status = int(str(resp.status).split(None, 1)[0])
                known = environ.get(ENVIRON) or {}
                method = printable(environ.get("REQUEST_METHOD", "-"), 20)
                path = printable(environ.get("PATH_INFO", ""), 300)
                fields = {"request_id": known.get("request_id") or request_id(environ.get("HTTP_X_REQUEST_ID")),
                          "user": known.get("user"), "route": known.get("route"), "method": method,
                          "path": path, "status": status,
                          "duration_ms": round(request_time.total_seconds() * 1000, 1),
                          "client_ip": known.get("client_ip") or environ.get("REMOTE_ADDR")}
                self.access_log.info("%s %s -> %d", method, path, status, extra=fields)
            except Exception:
                self.exception("access log line failed")
