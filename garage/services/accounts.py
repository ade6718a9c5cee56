"""Users, their sessions and API tokens, sign-in and its throttle."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import clock, throttle, usernames
from ..domain.clock import utcnow
from ..domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from ..extensions import db
from ..models import ApiToken, ApiTokenGarage, Garage, GarageGrant, User, UserSession
from ..observability import metrics
from ..persistence import commit_keeping_loaded, store
from . import audit
from ..domain.garages import DEFAULT_GARAGE_ID
from ..domain.locales import is_format_locale, is_language
from ..domain.words import _
from ..domain.roles import ACCOUNT_ROLES, ROLE_ADMIN, ROLE_MANAGER, ROLES
from ..identity import TOKEN_PREFIX, Actor, hash_token, stale_before

MIN_PASSWORD = 10


def check_new_password(password: str | None) -> str:
    if not password or len(password) < MIN_PASSWORD:
        raise InvalidInput(_("Use at least %(num)d characters", num=MIN_PASSWORD), field="password")
    if len(password) > 256:
        raise InvalidInput(_("Use at most %(num)d characters", num=256), field="password")
    return password


def find_user(username: str | None) -> User | None:
    """The user with this name as typed (normalised as usernames.lookup_key), if any."""
    name = usernames.lookup_key(username)
    return db.session.scalar(sa.select(User).where(User.username == name)) if name is not None else None


def get_user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise NotFound(_("No user named %(name)s", name=repr(usernames.for_display(username))))
    return user


def create_user(username: str, password: str, role: str, actor: Actor | None = None,
                must_change_password: bool = False, *, garage_id: int = DEFAULT_GARAGE_ID,
                allow_admin: bool = False) -> User:
    """A new account. `role` manager or attendant: granted at `garage_id` (the garage the staff
    page works for; the default garage elsewhere). `role` admin (only with `allow_admin`: the
    command line): the operator-wide admin, no grant needed."""
    name = usernames.clean_username(username)
    if role not in (ACCOUNT_ROLES if allow_admin else ROLES):
        raise InvalidInput(_("Role must be attendant or manager"), field="role")
    check_new_password(password)
    if db.session.scalar(sa.select(User.id).where(User.username == name)) is not None:
        raise Conflict(_("A user named %(name)s already exists", name=name), field="username")
    admin = role == ROLE_ADMIN
    if not admin and db.session.get(Garage, garage_id) is None:
        raise NotFound(_("No such garage"), field="garage")
    user = User(username=name, role=ROLE_ADMIN if admin else None, active=True,
                must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if not admin:
        db.session.add(GarageGrant(user_id=user.id, garage_id=garage_id, role=role))
    user.garage_role = ROLE_MANAGER if admin else role
    audit.record(actor, "user.created", "user", name, {"role": role}, garage_id=None if admin else garage_id)
    db.session.commit()
    return user


def list_users(garage_id: int) -> list[User]:
    """The garage's staff (a grant there) and the admins, each with `garage_role`, their role there."""
    rows = db.session.execute(
        sa.select(User, GarageGrant.role)
        .outerjoin(GarageGrant, sa.and_(GarageGrant.user_id == User.id, GarageGrant.garage_id == garage_id))
        .where(sa.or_(GarageGrant.role.is_not(None), User.role == ROLE_ADMIN))
        .order_by(User.active.desc(), User.username)).all()
    users = []
    for user, role in rows:
        user.garage_role = ROLE_MANAGER if user.is_admin else role
        users.append(user)
    return users


def _refusals(users: list[User], actor: Actor | None) -> dict[int, DomainError | None]:
    """THE rule of whose account a caller may change (deactivate, reactivate, reset the password),
    for each of `users` in one statement: None where `actor` may, else the refusal. An admin (or
    the command line) may change anyone's; a garage's manager only people all of whose grants are at
    garages they manage: someone with no grant at such a garage is not found for them (404: a garage's
    manager learns nothing of another garage's staff), someone who also works at a garage they do not
    manage is refused (403: the account is the same everywhere, and a reset would hand it over there).
    An admin's account is changed only by an admin (403: the manager sees the admins on the staff
    page, but cannot lock the operator out)."""
    if actor is None or actor.user_id is None:
        return {user.id: None for user in users}
    acting = db.session.get(User, actor.user_id)
    if acting is not None and acting.is_admin:
        return {user.id: None for user in users}
    staff = [user.id for user in users if not user.is_admin]
    counts = {}
    if staff:
        managed = (sa.select(GarageGrant.garage_id)
                   .where(GarageGrant.user_id == actor.user_id, GarageGrant.role == ROLE_MANAGER))
        here = GarageGrant.garage_id.in_(managed)
        counts = {row.user_id: (row.here, row.elsewhere) for row in db.session.execute(
            sa.select(GarageGrant.user_id, sa.func.count().filter(here).label("here"),
                      sa.func.count().filter(sa.not_(here)).label("elsewhere"))
            .where(GarageGrant.user_id.in_(staff)).group_by(GarageGrant.user_id))}
    refusals: dict[int, DomainError | None] = {}
    for user in users:
        works_here, works_elsewhere = counts.get(user.id, (0, 0))
        name = usernames.for_display(user.username)
        if user.is_admin:
            refusals[user.id] = Forbidden(_("Only an admin may change an admin's account"))
        elif not works_here:
            refusals[user.id] = NotFound(_("No user named %(name)s", name=repr(name)))
        elif works_elsewhere:
            # One account for every garage: a password reset or a deactivation here would reach the
            # garages this manager does not manage (a reset hands over the account there).
            refusals[user.id] = Forbidden(_("%(name)s also works at a garage you do not manage: an admin, or a manager "
                                            "of each of their garages, must change this account", name=name))
        else:
            refusals[user.id] = None
    return refusals


def may_manage(users: list[User], actor: Actor | None) -> set[int]:
    """The ids of those of `users` whose account `actor` may change (the staff page offers its
    actions for them only; the rule is `_refusals`)."""
    return {user_id for user_id, refusal in _refusals(users, actor).items() if refusal is None}


def _refuse_unless_may_manage(user: User, actor: Actor | None) -> None:
    refusal = _refusals([user], actor)[user.id]
    if refusal is not None:
        raise refusal


def set_active(username: str, active: bool, actor: Actor | None = None) -> User:
    """Deactivation ends the user's sessions and revokes their live API tokens (each audited
    `token.revoked`): a later reactivation revives neither, so a token handed out before is dead for good."""
    user = get_user(username)
    _refuse_unless_may_manage(user, actor)
    if not active and actor is not None and actor.user_id == user.id:
        raise Conflict(_("You cannot deactivate your own account; ask another manager"), field="username")
    if user.active == active:
        return user  # nothing changes, nothing to audit
    user.active = active
    if not active:
        end_sessions(user)
        _revoke_tokens_of(user, actor)
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
    Their open sessions end at once."""
    user = get_user(username)
    if actor is not None and actor.user_id == user.id:
        raise Conflict(_("Use Change password for your own account"), field="username")
    _refuse_unless_may_manage(user, actor)
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    end_sessions(user)
    audit.record(actor, "user.password_reset", "user", user.username)
    db.session.commit()
    return user, password


def change_password(user: User, new_password: str, actor: Actor | None = None,
                    must_change: bool = False, keep_signed_in: bool = False) -> None:
    """Every session of the user ends (whoever knew the old password is out); with
    `keep_signed_in` the user gets a fresh one (user.session_secret): the caller's
    browser stays signed in under a new session id."""
    check_new_password(new_password)
    user.set_password(new_password)
    user.must_change_password = must_change
    end_sessions(user)
    if keep_signed_in:
        open_session(user)
    audit.record(actor, "user.password_changed", "user", user.username)
    commit_keeping_loaded()


def set_preferences(user: User, language: str | None, locale: str | None, actor: Actor | None = None) -> bool:
    """The person's own language and format locale (their account page; "" each: the garage's,
    stored as NULL). One transaction, audited when something changes (before/after); whether it did."""
    language, locale = (language or "").strip(), (locale or "").strip()
    if language and not is_language(language):
        raise InvalidInput(_("Choose a language from the list."), field="language")
    if locale and not is_format_locale(locale):
        raise InvalidInput(_("Choose formats from the list."), field="locale")
    before = {"language": user.language or "", "locale": user.locale or ""}
    after = {"language": language, "locale": locale}
    if before == after:
        return False
    user.language, user.locale = language or None, locale or None
    audit.record(actor, "user.preferences_changed", "user", user.username, {"before": before, "after": after})
    commit_keeping_loaded()
    return True


# --- sessions (the server's half: one user_sessions row per signed-in browser) ------------

def open_session(user: User, now: datetime | None = None) -> str:
    """A new session row for `user` (in the caller's transaction); its secret, also left in
    user.session_secret for Flask-Login (identity.start_session)."""
    now = now or clock.utcnow()
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=hash_token(secret), created_at=now, last_seen_at=now))
    user.session_secret = secret
    return secret


def end_sessions(user: User) -> None:
    """Every session of the user ends (in the caller's transaction): every worker refuses
    their cookies from the next request on."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))


def touch_session(secret: str, now: datetime) -> None:
    """The session is in use (identity calls this every few minutes of activity, not per request)."""
    db.session.execute(sa.update(UserSession).where(UserSession.key_hash == hash_token(secret))
                       .values(last_seen_at=now))
    db.session.commit()


# --- sign-in and its throttle (policy: garage/domain/throttle.py) -------------------------

LOGIN_FAILED = "auth.login_failed"


def _throttle_keys(name: str | None, ip: str | None) -> list[tuple[str, throttle.Limit]]:
    """What one attempt counts against: its address, then the account (a name no user can
    have locks nothing and is left to the address limit)."""
    keys = []
    if ip:
        failures = current_app.config.get("SIGN_IN_ADDRESS_FAILURES", throttle.ADDRESS_FAILURES)
        keys.append((f"ip:{ip}"[:100], throttle.address_limit(failures)))
    if name is not None:
        keys.append((f"user:{name}", throttle.ACCOUNT))
    return keys


def sign_in(username: str, password: str, ip: str | None) -> User:
    """A sign-in attempt. The throttle counts it first, as a failure, and commits (so that
    every worker sees it before the password is checked): refused while its name or
    address must wait (429, nothing checked, nothing recorded). Then the password is
    checked: a wrong username or password is audited and refused (401); a success clears
    the name's failures, gives the address its attempt back, opens a session row (its
    secret in user.session_secret) and is audited; the user is returned loaded."""
    now = clock.utcnow()
    seconds = int(now.timestamp())
    name = usernames.lookup_key(username)
    counted: list[tuple[str, throttle.Limit]] = []
    for key, limit in _throttle_keys(name, ip):
        wait = store().count_attempt(key, limit, seconds)
        if wait:
            for earlier, its_limit in counted:  # not checked: it costs the address nothing
                store().forgive_attempt(earlier, its_limit, seconds)
            db.session.commit()
            raise TooManyAttempts(throttle.refused_message(wait))
        counted.append((key, limit))
    db.session.commit()
    user = authenticate(name, password)
    if user is None:
        audit.record(Actor(None, None, ip), LOGIN_FAILED, "user", usernames.for_display(username))
        db.session.commit()
        raise Unauthenticated(_("Wrong username or password."))
    for key, limit in counted:
        if key.startswith("user:"):
            store().clear_attempts(key)
        else:
            store().forgive_attempt(key, limit, seconds)
    store().prune_attempts(seconds, throttle.ACCOUNT.window)
    db.session.execute(sa.delete(UserSession).where(UserSession.last_seen_at < stale_before(now)))
    open_session(user, now)
    audit.record(Actor(user.id, user.username, ip), "auth.login", "user", user.username)
    commit_keeping_loaded()
    return user


sign_in = metrics.counted("sign_in")(sign_in)  # not `@`: mutmut 3 skips decorated functions


def sign_out(actor: Actor, secret: str | None) -> None:
    """This browser's session ends (the user's other sessions go on: a booth tablet
    signing out leaves the office PC signed in)."""
    if secret:
        db.session.execute(sa.delete(UserSession).where(UserSession.key_hash == hash_token(secret)))
    audit.record(actor, "auth.logout", "user", actor.username)
    db.session.commit()


_DUMMY_HASHES: dict[str, str] = {}  # per hash method: a check of an unknown name costs what a real one does


def _dummy_hash() -> str:
    method = current_app.config.get("PASSWORD_HASH", "scrypt")
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def authenticate(name: str | None, password: str) -> User | None:
    """The active user with this (normalised) name and password, else None, in about the same time."""
    user = db.session.scalar(sa.select(User).where(User.username == name)) if name is not None else None
    if user is None:
        check_password_hash(_dummy_hash(), password or "")  # same time as a real check
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def create_token(username: str, actor: Actor | None = None,
                 garage_ids: list[int] | None = None) -> tuple[ApiToken, str]:
    """A token for the user, scoped to `garage_ids` (default: every garage the user holds a
    grant at; an admin's, the default garage). It acts at a garage of its scope with its
    owner's role there (identity.TOKEN_OWNER)."""
    user = get_user(username)
    granted = set(db.session.scalars(sa.select(GarageGrant.garage_id).where(GarageGrant.user_id == user.id)))
    if garage_ids is None:
        garage_ids = [DEFAULT_GARAGE_ID] if user.is_admin else sorted(granted)
    elif not user.is_admin and not set(garage_ids) <= granted:
        # It could never act there (TOKEN_OWNER needs the owner's grant): say so now, not with a 404 later.
        missing = db.session.scalars(sa.select(Garage.slug).where(Garage.id.in_(set(garage_ids) - granted))
                                     .order_by(Garage.slug))
        raise InvalidInput(_("%(name)s holds no role at %(garages)s: grant one first (users grant NAME --garage "
                             "SLUG --role ...)", name=user.username, garages=", ".join(missing)), field="garage")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.flush()
    db.session.add_all(ApiTokenGarage(token_id=token.id, garage_id=garage_id) for garage_id in sorted(set(garage_ids)))
    audit.record(actor, "token.created", "token", token.id, {"user": user.username, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def _revoke_tokens_of(user: User, actor: Actor | None) -> None:
    """Every live token of the user is revoked (in the caller's transaction), each audited."""
    now = utcnow()
    for token in db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                              ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)):
        token.revoked_at = now
        audit.record(actor, "token.revoked", "token", token.id,
                     {"prefix": token.prefix, "user": user.username, "reason": "deactivated"})


def revoke_token(token_id: int, actor: Actor | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("No token with id %(id)s", id=token_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoked", "token", token.id, {"prefix": token.prefix})
        db.session.commit()
    return token
