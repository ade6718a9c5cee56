"""Cross-cutting web plumbing: safe redirects, autocommit views, the API's cookie-less
sessions, security headers, error pages (503 while the database is unreachable), one more run of a
read whose database connection was lost (RetryDroppedReads) and the error log. (Who the caller is:
garage/identity.py; htmx details: garage/htmx.py.)"""
from __future__ import annotations

import logging
import time
import traceback
from functools import lru_cache, wraps
from itertools import chain
from typing import Any, Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import htmx
from .domain.errors import DomainError
from .domain.inputs import MULTILINE_FIELDS, check_text, has_control
from .domain.words import _
from .extensions import db
from .persistence import dropped, let_go, outage_number, store, unavailable


def safe_next(target: str | None) -> str | None:
    """Only local paths: no scheme, no host, no protocol-relative //evil, and no
    character a Location header cannot carry (CR, LF, any control character)."""
    if not target or has_control(target):
        return None
    target = target.replace("\\", "/").strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def next_page(target: str | None) -> str | None:
    """Where a sign-in (or a password change) goes next: a `safe_next` path, made the URL of its
    page when it names a fragment of one (htmx.page_for: /desk/inside?q= → /desk)."""
    target = safe_next(target)
    return htmx.page_for(target) if target else None


def autocommit(view: Callable) -> Callable:
    """Put outermost (right under the route): this request's statements, the
    sign-in or token check included, run without BEGIN/COMMIT round trips. Only
    for views that read, or write through a single statement (Store.autocommit)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        store().autocommit()
        return view(*args, **kwargs)

    return wrapped


def framed_by_desk(view: Callable) -> Callable:
    """Put right under the route: this page may be shown in a frame of the same site
    (frame-ancestors 'self', X-Frame-Options SAMEORIGIN). The desk prints a ticket or a
    receipt by loading its print page in a hidden frame (static/js/desk-print.js); every
    other page refuses to be framed at all (the lobby: LOBBY_FRAME_ANCESTORS)."""
    view.framed_by_desk = True  # type: ignore[attr-defined]
    return view


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors {frame}")


# Probes and scrapers (garage/ops): no session either, so a probe never touches the database.
COOKIELESS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ApiSessionInterface(SecureCookieSessionInterface):
    """The JSON API authenticates with Bearer tokens only: its requests get a
    null session (nothing parsed, never saved), so they neither read nor set
    a cookie, nor answer with Vary: Cookie (Flask-Login still asks whether a
    remember-me flag is set: a null session simply says no). So do COOKIELESS_PATHS."""

    def open_session(self, app: Flask, request):  # type: ignore[override]
        if request.path.startswith("/api/") or request.path in COOKIELESS_PATHS:
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when SESSION_COOKIE_SECURE says so, and whenever the request came over HTTPS
        (behind trusted proxies, the scheme the client used: TRUSTED_PROXY_HOPS)."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def should_set_cookie(self, app: Flask, session) -> bool:  # type: ignore[override]
        """A page's own polling (htmx.is_poll) is not activity: the session
        it carries is unchanged, so the cookie is not re-signed and re-sent on
        every poll (SESSION_REFRESH_EACH_REQUEST applies to what users do).
        A poll that changed the session (it ended an idle one) still sets it."""
        if htmx.is_poll():
            return session.modified
        return super().should_set_cookie(app, session)


RETRY_AFTER_SECONDS = 5
UNAVAILABLE = _("The garage's database is not answering. Please try again in a few seconds.")
# What an error page says for an HTTP error raised without words of ours (abort(404)): Werkzeug's
# own description is English only. An error given a description of its own shows that.
HTTP_MESSAGES = {
    400: _("The request could not be understood."),
    403: _("You may not open this page."),
    404: _("There is no page at this address. Check the link, or start again from the desk."),
    405: _("This page cannot be used that way."),
    409: _("That conflicts with what the garage has now. Reload the page and try again."),
    413: _("What you sent is too large."),
    429: _("Too many requests. Wait a moment and try again."),
}
CSRF_MESSAGE = _("Your form expired or was sent from elsewhere. Reload the page and try again.")
INTERNAL_MESSAGE = _("Something went wrong on our side. It has been logged.")


class ErrorLog:
    """The one place failed requests are logged: a line per request, and the traceback of
    each kind of error (exception types, where it was raised, which outage) at most once per
    TRACEBACK_LOG_INTERVAL seconds, per worker. During an outage every request fails the
    same way: the log shows that it goes on, not the same traceback thousands of times."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self.logger = logger
        self.interval = interval
        self._shown: dict[tuple, float] = {}  # kind -> when its traceback was last logged

    @staticmethod
    def kind(exc: BaseException) -> tuple:
        frames = traceback.extract_tb(exc.__traceback__)
        where = (frames[-1].filename, frames[-1].lineno) if frames else None
        cause = getattr(exc, "orig", None)
        return type(exc).__qualname__, type(cause).__qualname__, where, outage_number()

    def __call__(self, exc: BaseException, status: int) -> None:
        kind = self.kind(exc)
        now = time.monotonic()
        last = self._shown.get(kind)
        show = last is None or now - last >= self.interval
        if show:
            self._shown[kind] = now
        self.logger.error("%s %s -> %d: %s: %s%s", request.method, _printable(request.path, 200), status,
                          type(exc).__name__, _printable(str(exc).split("\n", 1)[0], 300),  # no DETAIL, SQL
                          f" (traceback below; next one for this error in {self.interval:g} s at the earliest)"
                          if show else "", exc_info=exc if show else None)


ERROR_LOG = "garage.error_log"


def log_failure(exc: BaseException, status: int) -> None:
    """Log a request that failed with `exc` (answered with `status`): see :class:`ErrorLog`."""
    current_app.extensions[ERROR_LOG](exc, status)


def _printable(text: str, limit: int) -> str:
    """One line of at most `limit` characters: no control characters to forge or break log lines."""
    line = " ".join(text.split())
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line if len(line) <= limit else line[:limit] + "..."


def refuse_control_characters() -> None:
    """Before every view: no query parameter, form field or path segment may hold a
    control character (garage/domain/inputs.py); 400 naming the field, nothing read or
    written. (JSON bodies: garage/api/operation.py `parse`.) On the API a stranger is
    still told 401/403 first."""
    form = () if request.blueprint == "api" else request.form.items(multi=True)  # the API reads no form
    for name, value in chain((request.view_args or {}).items(), request.args.items(multi=True), form):
        if isinstance(value, str) and has_control(value, multiline=name in MULTILINE_FIELDS):
            refuse_stranger_first()
            check_text(value, name)


def refuse_stranger_first() -> None:
    """An API operation that needs a token answers 401/403 before anything about the request."""
    from .api.operation import OPERATIONS, refuse_stranger  # the API imports this module

    blueprint, _, name = (request.endpoint or "").partition(".")
    op = OPERATIONS.get(name) if blueprint == "api" else None
    if op is not None and op.roles:
        refuse_stranger(op)


def locale_tag() -> str:
    """The format locale as a BCP 47 tag (en_US → en-US): what a page's script gives Intl to write
    times as the page does (the lobby's clock, the desk's "figures from 14:05")."""
    from . import i18n

    return str(i18n.format_locale()).replace("_", "-")


READS = ("GET", "HEAD")
RETRY_READ = "garage.retry_read"  # environ: this read lost its database connection; run it once more
READ_RETRIED = "garage.read_retried"  # environ: this is that second run (never a third)


class RetryDroppedReads:
    """The one home of the server's own retry (WSGI, around the whole app): a GET or HEAD whose database
    connection was lost while in use (persistence.dropped: the server killed, a failover to a new primary
    behind the same address) is run once more from the start, on a fresh connection (SQLAlchemy dropped
    the pool's old ones), and the client sees only the second answer (a 503 if that fails too). Reads
    only: a write (POST, PUT, PATCH, DELETE) that failed so is answered 503 and never run again here,
    since it may have been committed before the connection went; an API client retries it with its
    Idempotency-Key (docs/api.md). The request's first run is logged as a warning, and counted in the
    metrics with its 503. The second run starts from the environ as it came (a copy: a proxy fix-up
    applied by the first run is applied once again, not twice)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("REQUEST_METHOD") not in READS:
            return self.app(environ, start_response)
        pristine = dict(environ)
        heard: list[Any] = []

        def hold(status: str, headers: list, exc_info: Any = None) -> Callable:
            heard[:] = [status, headers, exc_info]
            return lambda data: None  # Flask never writes through start_response's write()

        body = self.app(environ, hold)
        if not environ.get(RETRY_READ):
            start_response(*heard)
            return body
        if hasattr(body, "close"):
            body.close()
        pristine[READ_RETRIED] = True
        return self.app(pristine, start_response)


def install(app: Flask) -> None:
    app.wsgi_app = RetryDroppedReads(app.wsgi_app)  # type: ignore[method-assign]
    app.session_interface = ApiSessionInterface()
    app.jinja_env.globals["locale_tag"] = locale_tag
    app.extensions[ERROR_LOG] = ErrorLog(app.logger, app.config["TRACEBACK_LOG_INTERVAL"])
    htmx.install(app)
    app.before_request(refuse_control_characters)

    @lru_cache(maxsize=16)
    def defaults(frame: str, no_store: bool) -> tuple[tuple[str, str, str], ...]:
        """The headers every response gets unless its view set them: (lower-case
        name, name, value). Built once per kind of response: this runs on every
        request, the entry's included."""
        csp = CSP.format(frame=frame)
        items = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
                 ("Referrer-Policy", "same-origin")]
        if frame == "'none'":
            items.append(("X-Frame-Options", "DENY"))
        elif frame == "'self'":
            items.append(("X-Frame-Options", "SAMEORIGIN"))
        if no_store:
            items.append(("Cache-Control", "no-store"))
        return tuple((name.lower(), name, value) for name, value in items)

    @app.after_request
    def security_headers(response: Response) -> Response:
        frame = "'none'"
        if request.blueprint == "lobby":
            frame = current_app.config["LOBBY_FRAME_ANCESTORS"]
        elif getattr(current_app.view_functions.get(request.endpoint or ""), "framed_by_desk", False):
            frame = "'self'"
        no_store = request.path.startswith("/api/") or response.mimetype == "text/html"
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        for lower, name, value in defaults(frame, no_store):
            if lower not in present:
                headers.add(name, value)
        return response

    def wants_json() -> bool:
        """The API, and the probes (no session: no page, which would need a CSRF token, for them)."""
        return request.path.startswith("/api/") or request.path in COOKIELESS_PATHS

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = CSRF_MESSAGE
        if wants_json():
            return jsonify(message=message), 400
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if wants_json():
            messages = {404: "Not found", 405: "Method not allowed",
                        413: "Request body too large", 400: "Bad request"}
            response = jsonify(message=messages.get(code, exc.name))
        else:
            message = exc.description
            if message == type(exc).description:  # Werkzeug's words (abort(404)): ours, translated
                message = HTTP_MESSAGES.get(code, message)
            response = make_response(render_template("errors/error.html", code=code, message=message))
        response.status_code = code
        # The exception's own headers survive our body: Allow on 405 (RFC 9110), WWW-Authenticate,
        # Retry-After, Content-Range. Only its HTML Content-Type is Werkzeug's, not ours.
        for name, value in exc.get_headers(request.environ):
            if name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return jsonify(message=exc.message), exc.status
        return render_template("errors/error.html", code=exc.status, message=exc.message), exc.status

    @app.errorhandler(sa.exc.SQLAlchemyError)
    def database_error(exc: sa.exc.SQLAlchemyError):
        """Any route: the database unreachable or timed out (persistence.unavailable) is a 503
        that says to try again, rendered without touching the database (no signed-in user
        is looked up: the page has no menu). Any other database error is a bug: 500."""
        if not unavailable(exc):
            return unexpected(exc)
        if request.method in READS and dropped(exc) and not request.environ.get(READ_RETRIED):
            request.environ[RETRY_READ] = True  # RetryDroppedReads sends this answer nowhere: it runs it again
            current_app.logger.warning("%s %s: database connection lost (%s); running it once more", request.method,
                                       _printable(request.path, 200), type(exc.orig).__name__)
        else:
            log_failure(exc, 503)
        let_go(db.session(), exc)  # its connections dropped, not rolled back: a frozen server would make it wait again
        db.session.rollback()  # that transaction is over (a request's end removes the session too)
        if wants_json():
            response = jsonify(message=UNAVAILABLE)
            response.status_code = 503
        else:
            # Nobody is looked up for this page: a signed-in person's session would be read from the
            # database that is not answering (base.html asks current_user), and this handler fail too.
            g._login_user = current_app.login_manager.anonymous_user()
            response = htmx.page_or_fragment(
                "errors/unavailable.html", "errors/_unavailable.html", 503, message=UNAVAILABLE,
                refresh=RETRY_AFTER_SECONDS if request.method == "GET" else None)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log_failure(exc, 500)
        if wants_json():
            return jsonify(message="Internal error; it has been logged"), 500
        return render_template("errors/error.html", code=500,
                               message=INTERNAL_MESSAGE), 500
