"""Users and API tokens."""
from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from ..extensions import db
from ..models import ApiToken, AuditEvent, User
from ..persistence import commit_keeping_loaded
from . import audit
from ..domain.roles import ROLES
from ..identity import TOKEN_PREFIX, Actor, hash_token

MIN_PASSWORD = 10


def check_new_password(password: str | None) -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Use at least {MIN_PASSWORD} characters", field="password")
    if len(password) > 256:
        raise InvalidInput("Use at most 256 characters", field="password")
    return password


def get_user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"No user named {username!r}")
    return user


def create_user(username: str, password: str, role: str, actor: Actor | None = None,
                must_change_password: bool = False) -> User:
    name = (username or "").strip().lower()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise InvalidInput("Usernames are 1-64 letters, digits, dots, dashes or underscores",
                           field="username")
    if role not in ROLES:
        raise InvalidInput("Role must be attendant or manager", field="role")
    check_new_password(password)
    if db.session.scalar(sa.select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"A user named {name} already exists", field="username")
    user = User(username=name, role=role, active=True, must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", "user", name, {"role": role})
    db.session.commit()
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.active.desc(), User.username)))


def set_active(username: str, active: bool, actor: Actor | None = None) -> User:
    """Deactivated users are signed out on their next request and their tokens stop working."""
    user = get_user(username)
    if not active and actor is not None and actor.user_id == user.id:
        raise Conflict("You cannot deactivate your own account; ask another manager", field="username")
    if user.active == active:
        return user  # nothing changes, nothing to audit
    user.active = active
    audit.record(actor, "user.activated" if active else "user.deactivated", "user", user.username)
    db.session.commit()
    return user


TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def temporary_password() -> str:
    """Random one-time password, e.g. ``k7mq-x2fp-9tza`` (about 74 bits)."""
    groups = ("".join(secrets.choice(TEMP_ALPHABET) for _ in range(5)) for _ in range(3))
    return "-".join(groups)


def reset_password(username: str, actor: Actor | None = None) -> tuple[User, str]:
    """Give the user a random temporary password to change at next sign-in.
    The password hash changes, so their open sessions end at once (see User.get_id)."""
    user = get_user(username)
    if actor is not None and actor.user_id == user.id:
        raise Conflict("Use Change password for your own account", field="username")
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    audit.record(actor, "user.password_reset", "user", user.username)
    db.session.commit()
    return user, password


def change_password(user: User, new_password: str, actor: Actor | None = None,
                    must_change: bool = False) -> None:
    check_new_password(new_password)
    user.set_password(new_password)
    user.must_change_password = must_change
    audit.record(actor, "user.password_changed", "user", user.username)
    db.session.commit()


# The sign-in throttle: failures per username and per address in a sliding window,
# counted from the audit log, so it holds across workers and restarts.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_FAILED = "auth.login_failed"


def throttled(username: str, ip: str | None) -> bool:
    """Too many failures for this username or this address in the window."""
    since = utcnow() - FAILURE_WINDOW
    failures = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == LOGIN_FAILED, AuditEvent.at >= since)
    by_name = db.session.scalar(failures.where(AuditEvent.object_id == username))
    by_ip = db.session.scalar(failures.where(AuditEvent.ip == ip)) if ip else 0
    return max(by_name or 0, by_ip or 0) >= MAX_FAILURES


def sign_in(username: str, password: str, ip: str | None) -> User:
    """A sign-in attempt, one transaction: refused while throttled (429); a wrong
    username or password is recorded (it counts towards the throttle) and refused
    (401); a success is recorded and its user returned (loaded: no re-SELECT)."""
    if throttled(username, ip):
        raise TooManyAttempts("Too many failed sign-ins. Wait 15 minutes and try again.")
    user = authenticate(username, password)
    if user is None:
        audit.record(Actor(None, None, ip), LOGIN_FAILED, "user", username)
        db.session.commit()
        raise Unauthenticated("Wrong username or password.")
    audit.record(Actor(user.id, user.username, ip), "auth.login", "user", user.username)
    commit_keeping_loaded()
    return user


def sign_out(actor: Actor) -> None:
    audit.record(actor, "auth.logout", "user", actor.username)
    db.session.commit()


_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")  # same time as a real check
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def create_token(username: str, actor: Actor | None = None) -> tuple[ApiToken, str]:
    user = get_user(username)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.created", "token", token.id, {"user": user.username, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def revoke_token(token_id: int, actor: Actor | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoked", "token", token.id, {"prefix": token.prefix})
        db.session.commit()
    return token
