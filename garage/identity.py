"""Who the caller is, and whether they may do what they ask: the one home of identity.

Two kinds of caller reach Garage:
- **staff in a browser**: a signed session cookie (Flask-Login) whose id is a random secret
  with a row in user_sessions (models.UserSession; only its hash is stored). The row is what
  makes the session live: sign-out deletes it, deactivation and a password reset or change
  delete all of the user's rows (garage/services/accounts.py), so an old copy of the cookie
  opens nothing on any worker or instance. A deactivated user is not loaded. The idle timeout
  is enforced here, by the server, not only by the cookie's expiry.
- **integrations on the JSON API**: `Authorization: Bearer gar_...`. Only the token's SHA-256
  is stored; the token acts with its owner's role while the owner is active and the token
  is not revoked (nothing about the answer is cached: a revoked token fails on the next request).

Everything below is what the rest of the code asks about a caller:
- :class:`Actor` (who did something, for the audit log) and :class:`TokenCaller` (an API
  caller known so far only by its token's hash and the roles the operation admits);
- :func:`current_actor` / :func:`client_ip` for page views, :func:`bearer_caller` for the API;
- :func:`actor_for` (a TokenCaller looked up: 401 without a live token, 403 for a role the
  operation does not admit);
- the page decorators :func:`role_required`, :data:`staff_required`, :data:`manager_required`;
- **the garage the request works for** (:func:`current_garage`) and the caller's role there
  (:func:`caller_role`): a person's grant at that garage (garage_grants), an admin a manager
  everywhere; a token acts only at garages in its scope (api_token_garages) where its owner may;
- the session lifecycle: :func:`start_session`, :func:`end_session`
  (the rows themselves are written by garage/services/accounts.py).

The API's decorator (garage/api/operation.py) enforces and documents an operation's roles
through this module, including the rule that a stranger is told 401 before anything about the
request's body. The entry and the exit check the token inside their own statement on
PostgreSQL (garage/persistence/postgresql.py): same rule as :data:`TOKEN_OWNER`, one round trip.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable

import sqlalchemy as sa
from flask import (
    Flask, Response, current_app, g, has_request_context, make_response, redirect, render_template, request, session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from . import htmx
from .domain import clock
from .domain.errors import Forbidden, NoSuchGarage, SeveralGarages, Unauthenticated
from .domain.garages import DEFAULT_GARAGE_ID, SLUG_PATTERN
from .domain.roles import ROLE_ADMIN, ROLE_MANAGER, ROLES
from .extensions import db, login_manager
from .models import ApiToken, ApiTokenGarage, Garage, GarageGrant, User, UserSession

STAFF = ROLES  # every role works the desk
MANAGERS = (ROLE_MANAGER,)
# Operator-level API operations (no garage: /api/garages) admit by the token's owner's account:
ADMINS = (ROLE_ADMIN,)  # an admin only
ANY_ACCOUNT = (ROLE_ADMIN, *ROLES)  # any live token (an admin, or staff at some garage)


# --- who ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who does something, and from where (what the audit log records)."""

    user_id: int | None = None
    username: str | None = None
    ip: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(None, name, None)


@dataclass(frozen=True)
class TokenCaller:
    """An API caller known so far only by its token: the token's hash (None
    when the request carried no well-formed token), the roles the operation
    admits and the garage it asks to act at: its id, or the slug its URL names (resolved by
    the lookup itself: no statement of its own), or neither (the one garage of its scope where
    its owner may act, found by the lookup). :func:`actor_for` looks it up; the entry and
    the exit do the same lookup inside their own statement (one round trip fewer
    on the busiest paths)."""

    token_hash: str | None
    roles: tuple[str, ...]
    ip: str | None = None
    garage_id: int | None = None
    garage_slug: str | None = None

    @property
    def names_garage(self) -> bool:
        """The request names the garage (its URL), rather than leaving it to the token's scope."""
        return self.garage_id is not None or self.garage_slug is not None


def client_ip() -> str | None:
    return request.remote_addr


def current_actor() -> Actor:
    """The signed-in user of a page request (or an anonymous actor with the address)."""
    if current_user.is_authenticated:
        return Actor(current_user.id, current_user.username, client_ip())
    return Actor(None, None, client_ip())


# --- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "gar_"
TOKEN_MAX = 100


def hash_token(secret: str) -> str:
    """The stored form of a token (tokens are random: a fast hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_hash(secret: str | None) -> str | None:
    """The stored form of a token, or None for anything that cannot be one."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > TOKEN_MAX:
        return None
    return hash_token(secret)


def bearer_token_hash() -> str | None:
    """The hash of this request's `Authorization: Bearer ...` token (None if it has none)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return token_hash(secret.strip()) if scheme.lower() == "bearer" else None


def bearer_caller(roles: tuple[str, ...]) -> TokenCaller:
    """Who sends this API request, as far as the request itself tells (no lookup yet). The
    garage: the one the request names (its URL: the id when resolved already, else its slug, left
    to the token's lookup: garage/api/__init__.py), else its token's only garage."""
    return TokenCaller(bearer_token_hash(), roles, client_ip(), g.get("asked_garage_id"),
                       g.get("asked_garage_slug"))


def _owner_may_act_at(garage_id: Any) -> Any:
    """The token's owner may act at that garage: a grant there, or an admin (everywhere)."""
    return sa.or_(User.role == ROLE_ADMIN,
                  sa.exists().where(GarageGrant.user_id == User.id, GarageGrant.garage_id == garage_id)
                  .correlate_except(GarageGrant))


# The garage a token acts at: the one asked for (:garage_id, else the garage whose slug the request
# names, :garage_slug: resolved here, no statement of its own; NULL for an unknown slug), else the
# only garage of its scope where its owner may act (NULL when there are several: the caller must name
# one; when there is none: refused).
_SOLE = sa.orm.aliased(ApiTokenGarage, name="sole")
_ONLY_GARAGE = (sa.select(sa.func.min(_SOLE.garage_id))
                .where(_SOLE.token_id == ApiToken.id, _owner_may_act_at(_SOLE.garage_id))
                .having(sa.func.count() == 1).correlate(ApiToken, User).scalar_subquery())
_SLUG = sa.bindparam("garage_slug", type_=sa.String)
_NAMED = sa.select(Garage.id).where(Garage.slug == _SLUG).scalar_subquery()
_ASKED = sa.func.coalesce(sa.bindparam("garage_id", type_=sa.Integer),
                          sa.case((_SLUG.is_(None), _ONLY_GARAGE), else_=_NAMED))
# The token's role there: its owner's grant (an admin: a manager everywhere); "" when the token
# is not scoped there or its owner may not act there (403, not 401: the token itself is live).
_ROLE_THERE = sa.case((ApiTokenGarage.garage_id.is_(None), ""), (User.role == ROLE_ADMIN, ROLE_MANAGER),
                      else_=sa.func.coalesce(GarageGrant.role, "")).label("role")

# Built once: every API request runs it (no statement construction per request),
# and only the four columns a request needs (no ORM object to build): the owner's id, name,
# role at the garage and that garage's id. The entry's statement (persistence/postgresql.py)
# writes the same rule in SQL.
TOKEN_OWNER = (sa.select(User.id, User.username, _ROLE_THERE, ApiTokenGarage.garage_id)
               .select_from(ApiToken).join(User, User.id == ApiToken.user_id)
               .outerjoin(ApiTokenGarage, sa.and_(ApiTokenGarage.token_id == ApiToken.id,
                                                  ApiTokenGarage.garage_id == _ASKED))
               .outerjoin(GarageGrant, sa.and_(GarageGrant.user_id == User.id,
                                               GarageGrant.garage_id == ApiTokenGarage.garage_id))
               .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                      User.active.is_(True)))


def owner_of(hashed: str | None, garage_id: int | None = None, garage_slug: str | None = None) -> sa.Row | None:
    """(id, username, role, garage_id) of the active user owning this live token hash, else None;
    role and garage are the token's at `garage_id` (else the garage of `garage_slug`, else its only
    garage); role "" where it may not act (an unknown slug included)."""
    if hashed is None:
        return None
    return db.session.connection().execute(TOKEN_OWNER, token_params(hashed, garage_id, garage_slug)).first()


def token_params(hashed: str | None, garage_id: int | None, garage_slug: str | None) -> dict[str, Any]:
    """The parameters of :data:`TOKEN_OWNER` (and of the statements that embed it)."""
    return {"token_hash": hashed, "garage_id": garage_id, "garage_slug": garage_slug}


def token_owner(secret: str | None, garage_id: int | None = None) -> sa.Row | None:
    """(id, username, role, garage_id) of the active user owning this live token, else None."""
    return owner_of(token_hash(secret), garage_id)


# The garages a live token may act at: its scope, where its owner holds a grant (an admin: all of its scope).
TOKEN_GARAGES = (sa.select(Garage.slug).select_from(ApiToken).join(User, User.id == ApiToken.user_id)
                 .join(ApiTokenGarage, ApiTokenGarage.token_id == ApiToken.id)
                 .join(Garage, Garage.id == ApiTokenGarage.garage_id)
                 .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                        User.active.is_(True), _owner_may_act_at(ApiTokenGarage.garage_id))
                 .order_by(Garage.id))


def admit(role: str | None, caller: TokenCaller) -> None:
    """The one rule on a token's answer at a garage (every API path, the entry's and exit's own
    statements included): 401 when no live token was found (role None); "" (the token may not act
    at that garage): 404 "No such garage" at a garage the request names (never reveal it exists),
    400 naming its garages for a token of several garages on a path that names none, else 403;
    403 for a role the operation does not admit. Without a live token it is 401 whatever the path
    names, a garage that does not exist included: nothing about a garage before the caller is known
    (the public occupancy, checking no token, answers 404 for an unknown slug). Only a refusal
    costs the extra statement."""
    if role is None:
        raise Unauthenticated()
    if role == "" and caller.names_garage:
        raise NoSuchGarage()
    if role == "":
        slugs = list(db.session.execute(TOKEN_GARAGES, {"token_hash": caller.token_hash}).scalars())
        if len(slugs) > 1:
            raise SeveralGarages(slugs)
    if role not in caller.roles:
        raise Forbidden()


def token_garage() -> None:
    """A public operation on a garage's data (the occupancy for signage) asked with a token on a path
    that names no garage works for the token's garage, as any other seed path would: its only garage
    (:func:`admitted`, which sets it for :func:`current_garage`; any role), 401 for a token that is
    not live, 400 naming them for a token of several. Without an Authorization header, or on a path
    naming its garage, nothing is looked up (the default garage, or the path's: public)."""
    if not request.headers.get("Authorization") or asked_garage() is not None:
        return
    admitted(bearer_caller(STAFF))


def admitted(caller: TokenCaller) -> tuple[Actor, int]:
    """The caller as an Actor and the garage it acts at, or Unauthenticated (no live token of an
    active user) / Forbidden (not admitted at that garage)."""
    return owner_admitted(owner_of(caller.token_hash, caller.garage_id, caller.garage_slug), caller)


def owner_admitted(owner: Any, caller: TokenCaller) -> tuple[Actor, int]:
    """:func:`admitted` for the token's owner as another statement read it (TOKEN_OWNER's columns: id,
    username, role, garage_id; None: no live token): the keyed entry and exit's claim
    (garage/services/idempotency.py)."""
    admit(owner.role if owner is not None else None, caller)
    g.caller_name = owner.username  # for the logs (observability/logs.py)
    g.garage_id = owner.garage_id  # the request's garage (current_garage)
    g.token_role = owner.role  # the owner's role there (caller_role)
    return Actor(owner.id, owner.username, caller.ip), owner.garage_id


def actor_for(caller: TokenCaller) -> Actor:
    """The caller as an Actor (see :func:`admitted`)."""
    return admitted(caller)[0]


@dataclass(frozen=True)
class TokenHolder:
    """An API caller of an operator-level operation (no garage): who, whether an admin, which token."""

    actor: Actor
    admin: bool
    token_id: int


TOKEN_HOLDER = (sa.select(User.id, User.username, User.role, ApiToken.id.label("token_id"))
                .select_from(ApiToken).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                       User.active.is_(True)))


def holder_for(caller: TokenCaller) -> TokenHolder:
    """An operator-level caller (roles :data:`ADMINS` or :data:`ANY_ACCOUNT`): 401 without a live
    token, 403 for a non-admin where only admins are admitted."""
    row = (db.session.connection().execute(TOKEN_HOLDER, {"token_hash": caller.token_hash}).first()
           if caller.token_hash is not None else None)
    if row is None:
        raise Unauthenticated()
    admin = row.role == ROLE_ADMIN
    if not admin and not set(caller.roles) & set(ROLES):
        raise Forbidden()
    g.caller_name = row.username  # for the logs (observability/logs.py)
    return TokenHolder(Actor(row.id, row.username, caller.ip), admin, row.token_id)


# --- staff sessions ----------------------------------------------------------------------------

LAST_SEEN = "_seen"
TOUCHED = "_touched"  # when this session's row was last told it is in use
TOUCH_SECONDS = 300  # the row's last_seen_at lags the cookie's by at most this

# The garage a person with several garages chose on this tablet (garages_web.remember sets it; a
# slug): the garage of a page outside /g/<slug>/ (their password, the portfolio, sign-out, an error
# page) while it is still one of theirs, so its menu and "back to the desk" lead back there.
GARAGE_COOKIE = "desk_garage"

# The user of a live session row, with the garage the request works for and their grant there,
# in one statement (as the plain user lookup it replaces). The garage: the one the request names
# (stage 2: its URL; :garage_id), else the one remembered on this tablet (:remembered, a slug) if
# the person may work there, else the person's garage: an admin's is the default garage, anyone
# else's the garage of their grant (the lowest id when they hold several).
_HOME = (sa.select(sa.func.min(GarageGrant.garage_id)).where(GarageGrant.user_id == User.id)
         .correlate(User).scalar_subquery())
_REMEMBERED = (sa.select(Garage.id).where(Garage.slug == sa.bindparam("remembered", type_=sa.String),
                                          sa.or_(User.role == ROLE_ADMIN,
                                                 sa.exists().where(GarageGrant.user_id == User.id,
                                                                   GarageGrant.garage_id == Garage.id)
                                                 # the person's own grant: without it the EXISTS listed `users`
                                                 # itself and asked whether ANYONE works there
                                                 .correlate(User, Garage)))
               .correlate(User).scalar_subquery())
_WORKS_AT = sa.func.coalesce(sa.bindparam("garage_id", type_=sa.Integer), _REMEMBERED,
                             sa.case((User.role == ROLE_ADMIN, DEFAULT_GARAGE_ID), else_=_HOME))


def _role_at(garage_id: Any, *correlated: Any) -> Any:
    """The person's role at `garage_id` (a column expression): an admin is a manager everywhere, anyone
    else has the role of their grant there (NULL: none)."""
    grant = (sa.select(GarageGrant.role).where(GarageGrant.user_id == User.id, GarageGrant.garage_id == garage_id)
             .correlate(User, *correlated).scalar_subquery())
    return sa.case((User.role == ROLE_ADMIN, ROLE_MANAGER), else_=grant)


_ROLE_HERE = _role_at(_WORKS_AT)
# How many garages the person manages (the menu's Portfolio link: two or more; revenue is a
# manager's business, so an attendant at several garages has no portfolio).
_GRANTS = (sa.select(sa.func.count()).select_from(GarageGrant)
           .where(GarageGrant.user_id == User.id, GarageGrant.role == ROLE_MANAGER)
           .correlate(User).scalar_subquery())
SESSION_USER = (sa.select(User, _WORKS_AT, _ROLE_HERE, _GRANTS)
                .join(UserSession, UserSession.user_id == User.id)
                .where(UserSession.key_hash == sa.bindparam("key_hash"), User.active.is_(True),
                       UserSession.last_seen_at >= sa.bindparam("cutoff")))


# A garage's page (/g/<slug>/...): the garage its URL names AND the person of a live session with their
# role there, in ONE statement (garages_web.resolve, through garage_named): what SESSION_USER reads, for
# the garage of the slug. No row when the slug names no garage or the session is not live: each is then
# read alone, as SESSION_USER and services.garages.garage_by_slug do.
SESSION_USER_AT = (sa.select(User, Garage, _role_at(Garage.id, Garage), _GRANTS).select_from(User)
                   .join(UserSession, UserSession.user_id == User.id)
                   .join(Garage, Garage.slug == sa.bindparam("slug", type_=sa.String))
                   .where(UserSession.key_hash == sa.bindparam("key_hash"), User.active.is_(True),
                          UserSession.last_seen_at >= sa.bindparam("cutoff")))
SESSION_KEY = "_user_id"  # where Flask-Login keeps the session id (its loader's argument) in the cookie
READ_WITH_GARAGE = "garage.session_user"  # g: (session id, user) read by garage_named, for load_user


def idle_limit() -> float:
    return current_app.permanent_session_lifetime.total_seconds()


def stale_before(now: datetime) -> datetime:
    """Rows last seen before this belong to sessions the idle timeout has ended."""
    return now - timedelta(seconds=idle_limit() + TOUCH_SECONDS)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of a session id, if its row still exists."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > TOKEN_MAX:
        return None  # not a session id we hand out (a cookie signed with our key but not by us: signed out)
    read = g.pop(READ_WITH_GARAGE, None) if has_request_context() else None
    if read is not None and read[0] == session_id:
        return read[1]  # read with the garage of the page's URL (garage_named): no statement
    row = db.session.execute(SESSION_USER, {"key_hash": hash_token(session_id), **_garage_asked_or_remembered(),
                                            "cutoff": stale_before(clock.utcnow())}).first()
    if row is None:
        return None
    return _seated(*row, session_id)


def _seated(user: User, garage_id: int | None, role: str | None, count: int, session_id: str) -> User:
    """A session's user as SESSION_USER / SESSION_USER_AT read them: their garage, role there and number of
    garages managed set on the row, the session's secret, and their name for the logs (observability/logs.py:
    also once the row is expired)."""
    user.garage_id, user.garage_role, user.garage_count, user.session_secret = garage_id, role, count, session_id
    g.caller_name = user.username
    return user


def garage_named(slug: str) -> Garage | None:
    """The garage a page's URL names by its slug (None: no such garage), for garages_web.resolve. A
    request with a session cookie reads the person in the same statement (SESSION_USER_AT), with their
    role at that garage, and Flask-Login's loader (load_user) then takes them from there: one statement
    for the two. Without a live session, or for a slug that names nothing, as before: the garage alone
    (and the person, if asked for, by load_user)."""
    from .services.garages import garage_by_slug  # services import this module
    from .services.settings import keep

    session_id = session.get(SESSION_KEY) if SLUG_PATTERN.fullmatch(slug) else None
    if isinstance(session_id, str) and 0 < len(session_id) <= TOKEN_MAX:
        row = db.session.execute(SESSION_USER_AT, {"key_hash": hash_token(session_id), "slug": slug,
                                                   "cutoff": stale_before(clock.utcnow())}).first()
        if row is not None:
            user, garage, role, count = row
            g.setdefault(READ_WITH_GARAGE, (session_id, _seated(user, garage.id, role, count, session_id)))
            keep(garage)  # get_settings: no second read of the row
            return garage
    return garage_by_slug(slug)


def place(user: User) -> None:
    """Set `user.garage_id`, `user.garage_role` and `user.garage_count` as load_user does (for a user signed in during
    this request, who was not loaded by it)."""
    user.garage_id, user.garage_role, user.garage_count = db.session.execute(
        sa.select(_WORKS_AT, _ROLE_HERE, _GRANTS).select_from(User).where(User.id == user.id),
        _garage_asked_or_remembered()).one()
    g.caller_name = user.username  # for the logs, as load_user


def asked_garage() -> int | None:
    """The garage this request names itself (its URL), if any. A slug left to the token's lookup
    (garage/api/__init__.py) is the garage the token was admitted at (it can be no other); read
    by its slug only if something asks before the token was looked up (or on the entry, whose
    statement found it)."""
    if not has_request_context():
        return None
    if g.get("asked_garage_id") is None and g.get("asked_garage_slug") is not None:
        if g.get("garage_id") is not None:
            return g.garage_id  # admitted there: the slug's garage
        from .services.garages import garage_id  # services import this module

        g.asked_garage_id = garage_id(g.asked_garage_slug)
    return g.get("asked_garage_id")


def remembered_garage() -> str | None:
    """The slug of the garage chosen on this tablet (GARAGE_COOKIE), if the request carries one;
    whether the person may work there is SESSION_USER's question."""
    if not has_request_context():
        return None
    slug = request.cookies.get(GARAGE_COOKIE) or ""
    return slug if SLUG_PATTERN.fullmatch(slug) else None  # anything else names no garage


def _garage_asked_or_remembered() -> dict[str, Any]:
    """SESSION_USER's parameters for the person's garage (see _WORKS_AT)."""
    return {"garage_id": asked_garage(), "remembered": remembered_garage()}


def current_garage() -> int:
    """The id of the garage this request works for: the ONE place it is decided.
    - a garage the request names (stage 2: the slug in its URL) wins;
    - an API caller whose token was looked up: the garage it was admitted at (its only garage);
    - a signed-in person: the garage chosen on this tablet (GARAGE_COOKIE) while they may work
      there, else their garage (an admin: the default garage; anyone else: their grant's, the lowest id);
    - everyone else (the lobby, public occupancy): the default garage, the only one of a
      single-garage deployment.
    Whether the caller may act there is :func:`caller_role`'s answer, not this function's."""
    asked = asked_garage()
    if asked is not None:
        return asked
    if has_request_context():
        if g.get("garage_id") is not None:
            return g.garage_id
        if current_user.is_authenticated and current_user.garage_id is not None:
            return current_user.garage_id
    return DEFAULT_GARAGE_ID


def caller_role() -> str | None:
    """The caller's role at :func:`current_garage` (an admin: manager), None without one: an API
    token's owner's there (once the token was looked up), else the signed-in person's."""
    if has_request_context() and g.get("token_role"):
        return g.token_role
    return current_user.garage_role if current_user.is_authenticated else None


def _now() -> int:
    return int(clock.utcnow().timestamp())


def start_session(user: User) -> None:
    """A fresh cookie for `user`'s new session row (user.session_secret, from
    accounts.sign_in or change_password): whatever was in the old cookie is dropped (no
    fixation)."""
    session.clear()
    session.permanent = True  # cookie expiry = PERMANENT_SESSION_LIFETIME, refreshed each request
    place(user)
    login_user(user)
    session[LAST_SEEN] = session[TOUCHED] = _now()


def session_secret() -> str | None:
    """This browser's session secret (its row's key), if it is signed in."""
    return getattr(current_user, "session_secret", None) if current_user.is_authenticated else None


def end_session() -> None:
    logout_user()
    session.clear()


def end_idle_sessions() -> None:
    """Before every request: a session unused for PERMANENT_SESSION_LIFETIME is ended.
    A page's own polling is not use (a desk left open still signs out)."""
    if request.endpoint == "static" or "_user_id" not in session:
        return
    now = _now()
    seen = session.get(LAST_SEEN)
    if not isinstance(seen, int) or now - seen > idle_limit():
        end_session()  # the request goes on as anonymous: pages send it to /login
        g.session_ended = True  # ... saying why (login_redirect)
        return
    if now != seen and not htmx.is_poll():
        session[LAST_SEEN] = now
        touched = session.get(TOUCHED)
        if not isinstance(touched, int) or now - touched >= TOUCH_SECONDS:
            from .services.accounts import touch_session  # services import this module

            touch_session(session["_user_id"], clock.utcnow())
            session[TOUCHED] = now


# --- page access -------------------------------------------------------------------------------

# /login?reason=: why the sign-in page is shown. Set only by login_redirect, for a request whose
# session had ended (idle timeout, or its row gone: deactivated, password reset); the sign-in page
# shows only the messages of an allow-list (auth/routes.py LOGIN_REASONS).
SESSION_ENDED = "session-ended"


def session_ended() -> bool:
    """This request came with a session that has ended: timed out just now (end_idle_sessions),
    or a cookie naming a user whose session row is gone."""
    return bool(g.get("session_ended")) or "_user_id" in session


def login_redirect() -> Response:
    target = request.full_path if request.query_string else request.path
    reason = {"reason": SESSION_ENDED} if session_ended() else {}
    login = url_for("auth.login", next=target, **reason)
    if htmx.is_htmx():
        # A fragment must not turn into a login form inside the page: send the whole page.
        return htmx.client_redirect(login, status=401)
    return redirect(login)


ADMITS = "garage_roles_admitted"  # a page view's attribute: the roles role_required admits (() anyone signed in)


def admits(view: Callable | None, role: str | None) -> bool:
    """Whether a person whose role at a garage is `role` may open `view` there (a view with no
    role_required, the public lobby: anyone)."""
    roles = getattr(view, ADMITS, None)
    if roles is None:
        return True
    return role is not None and (not roles or role in roles)


def role_required(*roles: str) -> Callable:
    """Page views: signed in, password changed, and one of the roles at the request's garage
    (:func:`caller_role`: the person's grant there; an admin is a manager everywhere)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_redirect()
            if current_user.must_change_password:
                return redirect(url_for("auth.change_password", next=request.path))
            if roles and caller_role() not in roles:
                return make_response(render_template("errors/403.html"), 403)
            return view(*args, **kwargs)

        setattr(wrapped, ADMITS, roles)  # functools.wraps carries it to the decorators above
        return wrapped

    return decorator


staff_required = role_required(*STAFF)
manager_required = role_required(*MANAGERS)


def install(app: Flask) -> None:
    """Called by the app factory: the session user loader and the idle timeout."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(end_idle_sessions)
