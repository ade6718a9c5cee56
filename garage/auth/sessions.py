"""Staff sessions: who a cookie belongs to, and when it stops being valid.

- The Flask-Login id is "<user id>:<key>" (User.get_id); the key follows the password
  hash, so a password reset ends every open session of that user at once.
- A deactivated user is not loaded (is_active), so their session ends at once too.
- Idle timeout enforced by the server, not only by the cookie's expiry (which only the
  browser honours): the last request time is kept in the signed session and checked on
  every request; after PERMANENT_SESSION_LIFETIME without a request the user is signed out.
"""
from __future__ import annotations

import hmac

from flask import current_app, request, session
from flask_login import login_user, logout_user

from ..domain import clock
from ..extensions import db, login_manager
from ..models import User
from ..htmx import POLL_HEADER
from . import bp

LAST_SEEN = "_seen"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, key = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not hmac.compare_digest(key, user.session_key):
        return None
    return user


def _now() -> int:
    return int(clock.utcnow().timestamp())


def start_session(user: User) -> None:
    """A fresh session for `user` (no fixation: whatever was in the old one is dropped)."""
    session.clear()
    session.permanent = True  # cookie expiry = PERMANENT_SESSION_LIFETIME, refreshed each request
    login_user(user)
    session[LAST_SEEN] = _now()


def refresh_session(user: User) -> None:
    """After the user changed their own password: keep them signed in with the new key."""
    login_user(user)
    session[LAST_SEEN] = _now()


def end_session() -> None:
    logout_user()
    session.clear()


@bp.before_app_request
def end_idle_sessions() -> None:
    if request.endpoint == "static" or "_user_id" not in session:
        return
    now = _now()
    seen = session.get(LAST_SEEN)
    idle_limit = current_app.permanent_session_lifetime.total_seconds()
    if not isinstance(seen, int) or now - seen > idle_limit:
        end_session()  # the request goes on as anonymous: pages send it to /login
        return
    if now != seen and request.headers.get(POLL_HEADER) != "1":
        session[LAST_SEEN] = now
