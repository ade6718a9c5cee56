"""Configuration read from the environment (see README "Configuration")."""
from __future__ import annotations

import ipaddress
import math
import os
import re
from datetime import timedelta
from .domain.garage_settings import is_timezone
from .domain.idempotency import DEFAULT_TTL_HOURS


def normalise_database_url(url: str) -> str:
    """Map postgres:// and postgresql:// to the psycopg2 driver we install.

    SQLAlchemy 2.1 maps a plain ``postgresql://`` URL to psycopg 3, which is
    not installed; Heroku-style ``postgres://`` is not understood at all.
    """
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _whole(name: str, default: int, low: int, high: int) -> int:
    """A whole number from `low` to `high` (ASCII digits only), else a message naming the variable."""
    value = (os.environ.get(name) or "").strip()
    if value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of networks (CIDR; a bare address is a network of one)."""
    found = []
    for part in (os.environ.get(name) or "").split(","):
        if part.strip():
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{name}: {part.strip()!r} is not an IP network such as 10.0.0.0/8") from None
    return tuple(found)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        seconds = float(value) if value not in (None, "") else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not 0.1 <= seconds <= 3600:
        raise ValueError(f"{name} must be from 0.1 to 3600 seconds, got {value!r}")
    return seconds


def valid_timezone(name: str) -> str:
    """The first garage's timezone: the garages' own rule (garage/domain/garage_settings.py)."""
    if not is_timezone(name):
        raise ValueError(f"Unknown IANA timezone {name!r}: use UTC or Area/Location, e.g. Europe/Berlin")
    return name


class Config:
    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL") or "sqlite:///garage.db"
        )
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        self.GARAGE_TIMEZONE = valid_timezone(os.environ.get("GARAGE_TIMEZONE") or "UTC")
        self.LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()
        # Logs (garage/observability/logs.py): JSON lines or text; a line per request from the app.
        self.LOG_FORMAT = _choice("LOG_FORMAT", "json", ("json", "text"))
        self.LOG_REQUESTS = _bool("LOG_REQUESTS", False)
        # GET /metrics: from these networks (CIDR, comma-separated), or with this bearer token.
        self.METRICS_ALLOW = _networks("METRICS_ALLOW")
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        if self.METRICS_TOKEN is not None and len(self.METRICS_TOKEN) < 16:
            raise ValueError("METRICS_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)")
        self.PORT = _int("PORT", 5001)
        # How passwords are hashed (werkzeug's method string): scrypt at werkzeug's cost by default.
        # The tests set a cheaper scrypt (tests/conftest.py): the same code path in a fraction of the time.
        self.PASSWORD_HASH = os.environ.get("PASSWORD_HASH") or "scrypt"
        if not re.fullmatch(r"scrypt(:\d+:\d+:\d+)?|pbkdf2(:sha256|:sha512)?(:\d+)?", self.PASSWORD_HASH):
            raise ValueError("PASSWORD_HASH must be scrypt[:N:r:p] or pbkdf2[:sha256|:sha512][:iterations]")
        # Sessions: idle timeout (a shift), cookie flags.
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=float(os.environ.get("SESSION_IDLE_HOURS") or 12))
        self.SESSION_REFRESH_EACH_REQUEST = True
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        # No automatic OPTIONS answer (nothing here needs CORS preflights): it ran no view, so no caller
        # check, and a token told 404 "No such garage" at another garage's API got 200 and the methods
        # there, while an unknown slug got 404 (tests/web/test_isolation_matrix.py). Now 405, whatever the garage.
        self.PROVIDE_AUTOMATIC_OPTIONS = False
        # Reverse proxies in front of the app whose X-Forwarded-For / -Proto are believed
        # (garage/proxies.py, installed by create_app); 0: forwarded headers are ignored.
        self.TRUSTED_PROXY_HOPS = _whole("TRUSTED_PROXY_HOPS", 0, 0, 10)
        # Sign-in throttle: failed sign-ins from one address per 15 minutes (garage/domain/throttle.py).
        self.SIGN_IN_ADDRESS_FAILURES = _int("SIGN_IN_ADDRESS_FAILURES", 100)
        if self.SIGN_IN_ADDRESS_FAILURES < 1:
            raise ValueError("SIGN_IN_ADDRESS_FAILURES must be at least 1")
        # Request bodies: nothing the app accepts is anywhere near this.
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 64 * 1024)
        self.WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
        # Rendered reports kept per worker while nothing they show changes (garage/reports/cache.py); 0: none.
        self.REPORT_CACHE_ENTRIES = _whole("REPORT_CACHE_ENTRIES", 32, 0, 10000)
        # Lobby screen may be shown inside another page (signage players) if set,
        # e.g. LOBBY_FRAME_ANCESTORS="'self' https://signage.example".
        self.LOBBY_FRAME_ANCESTORS = os.environ.get("LOBBY_FRAME_ANCESTORS") or "'none'"
        # Lobby screen refresh: seconds between polls (tests use a fraction of a second).
        self.LOBBY_POLL_SECONDS = _seconds("LOBBY_POLL_SECONDS", 5.0)
        # A database that is down or frozen must cost a request seconds, not a worker
        # (docs/operations.md, "When the database is down"; garage/persistence/outage.py).
        timeout_ms = _int("STATEMENT_TIMEOUT_MS", 5000)  # one bad query must not hold a worker
        self.DB_CONNECT_TIMEOUT = _seconds("DB_CONNECT_TIMEOUT", 3.0)  # connect, and check a pooled connection
        self.DB_REPLY_TIMEOUT = _seconds(  # any statement's answer
            "DB_REPLY_TIMEOUT", timeout_ms / 1000 + 1 if 0 < timeout_ms < 3_599_000 else 3600)
        if 0 < timeout_ms and self.DB_REPLY_TIMEOUT * 1000 <= timeout_ms:
            raise ValueError("DB_REPLY_TIMEOUT must be longer than STATEMENT_TIMEOUT_MS "
                             "(the server cuts off slow queries; the reply timeout is for a silent server)")
        # Reads where staleness is harmless (the reports, CSV exports, the portfolio's figures) go to this
        # read-only replica while it is at most REPLICA_MAX_LAG_SECONDS behind and answers within
        # REPLICA_CONNECT_TIMEOUT; else to DATABASE_URL (garage/persistence/replica.py). PostgreSQL only.
        self.DATABASE_REPLICA_URL = normalise_database_url(os.environ.get("DATABASE_REPLICA_URL") or "") or None
        self.REPLICA_MAX_LAG_SECONDS = _seconds("REPLICA_MAX_LAG_SECONDS", 30.0)
        self.REPLICA_CONNECT_TIMEOUT = _seconds("REPLICA_CONNECT_TIMEOUT", 1.0)
        # Migrations (flask db upgrade) on PostgreSQL run on their own connection, without the
        # statement timeout: a schema change waits at most this long for a lock, then is rolled back
        # and tried again, this many times in all (garage/persistence/schema_changes.py).
        self.MIGRATION_LOCK_TIMEOUT_MS = _int("MIGRATION_LOCK_TIMEOUT_MS", 5000)
        self.MIGRATION_LOCK_RETRIES = _int("MIGRATION_LOCK_RETRIES", 5)
        if self.MIGRATION_LOCK_TIMEOUT_MS < 1 or self.MIGRATION_LOCK_RETRIES < 1:
            raise ValueError("MIGRATION_LOCK_TIMEOUT_MS and MIGRATION_LOCK_RETRIES must be at least 1")
        # An API client's Idempotency-Key (issue 20): its answer is kept this long, then the key is new again
        # (expired rows: flask --app garage purge-idempotency).
        self.IDEMPOTENCY_TTL_HOURS = _whole("IDEMPOTENCY_TTL_HOURS", DEFAULT_TTL_HOURS, 1, 720)
        # An error repeating (an outage: every request fails alike) logs one line per request and
        # its traceback at most once per this many seconds (per worker and kind of error).
        self.TRACEBACK_LOG_INTERVAL = _seconds("TRACEBACK_LOG_INTERVAL", 60.0)
        # hide_parameters: a database error's text (logged) never carries the values sent with it.
        engine: dict = {"pool_pre_ping": True, "hide_parameters": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # Per worker: DB_POOL_SIZE kept open at most, DB_MAX_OVERFLOW more for a burst (docs/operations.md,
            # "Several instances": instances x workers x (size + overflow) <= max_connections).
            engine["pool_size"] = _whole("DB_POOL_SIZE", 5, 1, 100)
            engine["max_overflow"] = _whole("DB_MAX_OVERFLOW", 0, 0, 100)
            engine["pool_timeout"] = _seconds("DB_POOL_TIMEOUT", 3.0)  # waiting for a free pooled connection
            engine["connect_args"] = {
                "options": f"-c statement_timeout={timeout_ms}",
                "connect_timeout": max(2, math.ceil(self.DB_CONNECT_TIMEOUT)),  # libpq's own (whole seconds, >= 2)
                # A vanished host (not a frozen one) is noticed on idle pooled connections too.
                "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 5, "keepalives_count": 3,
            }
        self.SQLALCHEMY_ENGINE_OPTIONS = engine
