"""Garages and who may work at them: creating a garage (admins), listing the garages a caller
may see, granting and revoking a person's role at a garage. Operator-level use cases: each is
one audited transaction. The slug rule is garage/domain/garages.py."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.exc import IntegrityError

from ..domain import garage_settings as rules
from ..domain.errors import Conflict, Forbidden, InvalidInput, NoSuchGarage, NotFound
from ..domain.garages import SLUG_PATTERN, clean_slug
from ..domain.roles import ROLE_MANAGER, ROLES
from ..domain.words import _
from ..extensions import db
from ..identity import Actor
from ..models import Garage, GarageGrant, User
from . import audit
from .accounts import get_user


def _caller(actor: Actor) -> User | None:
    """The person acting (None: the system itself, i.e. the server's command line)."""
    if actor.user_id is None and actor.ip is None:
        return None
    user = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active:
        raise Forbidden()
    return user


def _role_at(user: User | None, garage_id: int) -> str | None:
    if user is None or user.is_admin:
        return ROLE_MANAGER
    return db.session.scalar(sa.select(GarageGrant.role).where(GarageGrant.user_id == user.id,
                                                               GarageGrant.garage_id == garage_id))


def _require_admin(actor: Actor) -> None:
    user = _caller(actor)
    if user is not None and not user.is_admin:
        raise Forbidden(_("Only an admin may do this"))


def find_garage(slug: str | None) -> Garage:
    garage = db.session.scalar(sa.select(Garage).where(Garage.slug == (slug or "").strip()))
    if garage is None:
        raise NotFound(_("No garage %(slug)s", slug=repr(slug)), field="garage")
    return garage


def named_slug(slug: str) -> str:
    """A slug a URL names, if it could name a garage (NoSuchGarage: 404, for any other text; nothing read)."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise NoSuchGarage()
    return slug


def garage_id(slug: str) -> int:
    """The id of the garage a URL names by its slug (NoSuchGarage: 404, for any other text)."""
    found = db.session.scalar(sa.select(Garage.id).where(Garage.slug == named_slug(slug)))
    if found is None:
        raise NoSuchGarage()
    return found


def create_garage(actor: Actor, slug: str | None, name: str | None, spaces: int,
                  timezone: str = "UTC") -> Garage:
    """A new garage with the default prices and rules, payments in open shifts only (admins only;
    audited). Its id comes from
    the table's own sequence (migration 0008; SQLite: the next rowid under its write lock), so two
    garages created at the same moment both succeed; only a duplicate slug is refused (409)."""
    _require_admin(actor)
    errors: dict[str, str] = {}  # every field's problem at once, not one per attempt
    try:
        slug = clean_slug(slug)
    except InvalidInput as exc:
        errors["slug"] = exc.message
    name = (name or "").strip()
    errors.update(rules.check({"garage_name": name, "total_spaces": spaces, "timezone": timezone}))
    if errors:
        raise rules.InvalidSettings(errors)
    taken = Conflict(_("A garage %(slug)s already exists", slug=slug), field="slug")
    if db.session.scalar(sa.select(Garage.id).where(Garage.slug == slug)) is not None:
        raise taken
    # A garage created from now on takes payments only in an open shift (issue 18; the default
    # garage of a new deployment and the garages before migration 0009 do not require one).
    garage = Garage(slug=slug, garage_name=name, total_spaces=spaces, timezone=timezone, occupied=0,
                    payments_require_shift=True)
    try:
        db.session.add(garage)
        db.session.flush()
        audit.record(actor, "garage.created", "garage", slug,
                     {"name": name, "totalSpaces": spaces, "timezone": timezone})
        db.session.commit()
    except IntegrityError:  # the slug's unique key: the same slug created at the same moment
        db.session.rollback()
        raise taken from None
    return garage


def may_see_portfolio(actor: Actor, *columns: Any) -> list[Any]:
    """The garages on the caller's portfolio: an admin's every garage, anyone else's the garages
    they manage if two or more (revenue is a manager's business: an attendant at several garages,
    or a manager at one, has none); else NotFound (the page does not exist for them).
    `columns`: only those of each garage's row (plain rows: a panel polled every few seconds needs
    its counters, not 50 whole Garage objects); else the Garage rows."""
    user = _caller(actor)
    garages = _visible_to(user, *columns)
    if user is not None and not user.is_admin:
        managed = set(db.session.scalars(sa.select(GarageGrant.garage_id).where(
            GarageGrant.user_id == user.id, GarageGrant.role == ROLE_MANAGER)))
        garages = [garage for garage in garages if garage.id in managed]
        if len(garages) < 2:
            raise NotFound(_("No such page"))
    return garages


def list_garages(actor: Actor) -> list[Garage]:
    """The garages the caller may see: every garage for an admin (and the command line),
    else those where they hold a grant; in id order."""
    return _visible_to(_caller(actor))


def _visible_to(user: User | None, *columns: Any) -> list[Any]:
    query = (sa.select(*columns) if columns else sa.select(Garage)).order_by(Garage.id)
    if user is not None and not user.is_admin:
        query = query.join(GarageGrant, sa.and_(GarageGrant.garage_id == Garage.id, GarageGrant.user_id == user.id))
    return list(db.session.execute(query) if columns else db.session.scalars(query))


def grant(actor: Actor, username: str, garage_id: int, role: str) -> GarageGrant:
    """Give (or change) `username`'s role at the garage: by an admin, or a manager there."""
    if role not in ROLES:
        raise InvalidInput(_("Role must be attendant or manager"), field="role")
    if _role_at(_caller(actor), garage_id) != ROLE_MANAGER:
        raise Forbidden()
    user = get_user(username)
    if db.session.get(Garage, garage_id) is None:
        raise NotFound(_("No such garage"), field="garage")
    try:
        existing = db.session.get(GarageGrant, (user.id, garage_id))
        before = existing.role if existing is not None else None
        if existing is None:
            existing = GarageGrant(user_id=user.id, garage_id=garage_id, role=role)
            db.session.add(existing)
        existing.role = role
        if before != role:
            audit.record(actor, "user.granted", "user", user.username, {"before": before, "role": role},
                         garage_id=garage_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("The grant was changed at the same moment; try again")) from None
    return existing


def revoke(actor: Actor, username: str, garage_id: int) -> None:
    """Take `username`'s role at the garage away (nothing to do if they hold none)."""
    if _role_at(_caller(actor), garage_id) != ROLE_MANAGER:
        raise Forbidden()
    user = get_user(username)
    existing = db.session.get(GarageGrant, (user.id, garage_id))
    if existing is None:
        return
    db.session.delete(existing)
    audit.record(actor, "user.revoked", "user", user.username, {"role": existing.role}, garage_id=garage_id)
    db.session.commit()


def garage_by_slug(slug: str) -> Garage | None:
    """The garage a URL names by its slug (None: no such garage; a string that cannot be a slug
    is not looked up). Within a request the row is kept as `get_settings` keeps it, so the
    pages that read the garage's settings afterwards read no row again."""
    if not SLUG_PATTERN.fullmatch(slug):
        return None
    garage = db.session.scalar(sa.select(Garage).where(Garage.slug == slug))
    if garage is not None and has_request_context():
        g.setdefault("garage_rows", {})[garage.id] = garage
    return garage


def garages_of(user_id: int | None) -> list[Garage]:
    """The garages a person may work at (every garage for an admin), in id order; with no
    person (the public lobby), every garage."""
    return [garage for garage, _ in roles_of(user_id)]


def roles_of(user_id: int | None) -> list[tuple[Garage, str | None]]:
    """`garages_of` with the person's role at each (an admin: manager everywhere; no person: None)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.is_admin:
        return [(garage, ROLE_MANAGER if user is not None else None) for garage in _visible_to(user)]
    return [(garage, role) for garage, role in db.session.execute(
        sa.select(Garage, GarageGrant.role).join(GarageGrant, GarageGrant.garage_id == Garage.id)
        .where(GarageGrant.user_id == user.id).order_by(Garage.id))]


def slug_of(garage_id: int) -> str:
    """The slug of a garage that exists (the default garage's is created on first use)."""
    from .settings import get_settings  # settings imports nothing of this module

    return get_settings(garage_id).slug
