"""Configuration read from the environment (see README "Configuration")."""
from __future__ import annotations

import os
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown IANA timezone {name!r}") from exc
    return name


class Config:
    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            os.environ.get("DATABASE_URL") or "sqlite:///garage.db"
        )
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        self.GARAGE_TIMEZONE = valid_timezone(os.environ.get("GARAGE_TIMEZONE") or "UTC")
        self.LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()
        self.PORT = _int("PORT", 5001)
        # Sessions: idle timeout (a shift), cookie flags.
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=float(os.environ.get("SESSION_IDLE_HOURS") or 12))
        self.SESSION_REFRESH_EACH_REQUEST = True
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        # Sign-in throttle: failed sign-ins from one address per 15 minutes (garage/domain/throttle.py).
        self.SIGN_IN_ADDRESS_FAILURES = _int("SIGN_IN_ADDRESS_FAILURES", 100)
        if self.SIGN_IN_ADDRESS_FAILURES < 1:
            raise ValueError("SIGN_IN_ADDRESS_FAILURES must be at least 1")
        # Request bodies: nothing the app accepts is anywhere near this.
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 64 * 1024)
        self.WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
        # Lobby screen may be shown inside another page (signage players) if set,
        # e.g. LOBBY_FRAME_ANCESTORS="'self' https://signage.example".
        self.LOBBY_FRAME_ANCESTORS = os.environ.get("LOBBY_FRAME_ANCESTORS") or "'none'"
        # Lobby screen refresh: seconds between polls (tests use a fraction of a second).
        self.LOBBY_POLL_SECONDS = _seconds("LOBBY_POLL_SECONDS", 5.0)
        engine: dict = {"pool_pre_ping": True}
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # One bad query must not hold a worker forever.
            timeout_ms = _int("STATEMENT_TIMEOUT_MS", 5000)
            engine["connect_args"] = {"options": f"-c statement_timeout={timeout_ms}"}
        self.SQLALCHEMY_ENGINE_OPTIONS = engine
