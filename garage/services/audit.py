"""Append-only audit trail, written in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..domain.inputs import PageCount
from ..extensions import db
from ..identity import Actor
from ..models import ApiToken, AuditEvent, GarageGrant, User

# Every action the application records (the persistence layer writes the tickets' two in SQL). The
# audit page's filter offers these, and the actions its trail holds, and refuses only other text.
ACTIONS = frozenset({
    "auth.login", "auth.login_failed", "auth.logout",
    "ticket.issued", "ticket.paid", "ticket.corrected", "ticket.voided", "ticket.refunded",
    "settings.changed", "occupancy.repaired", "garage.created",
    "user.created", "user.deactivated", "user.activated", "user.password_changed", "user.password_reset",
    "user.granted", "user.revoked", "user.preferences_changed",
    "token.created", "token.revoked",
    "shift.opened", "shift.closed", "shift.reopened", "shift.adjusted",
    "day.closed", "ticket.validated", "validation.program_created",
    "permit.created", "permit.updated", "permit.renewed",
})


def record(actor: Actor | None, action: str, object_type: str | None = None,
           object_id: Any = None, details: dict[str, Any] | None = None, *, garage_id: int | None = None) -> None:
    """`garage_id`: the garage it happened at; None for an operator-level event (a user or a
    garage created, a sign-in)."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an audited action: add it to audit.ACTIONS")
    actor = actor or Actor.system()
    db.session.add(AuditEvent(
        garage_id=garage_id, user_id=actor.user_id, username=actor.username, ip=actor.ip, action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        details=details,
    ))


@dataclass(frozen=True)
class AuditQuery:
    """Filters for browsing the log. `start`/`end` are UTC instants, [start, end)."""

    action: str | None = None
    username: str | None = None  # events by this user, or about them (e.g. failed sign-ins)
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AuditPage(PageCount):
    events: list[AuditEvent]
    page: int
    per_page: int
    total: int


def _people_at(garage_id: int) -> sa.Select:
    """The usernames of the people who hold a grant at the garage."""
    return (sa.select(User.username).join(GarageGrant, GarageGrant.user_id == User.id)
            .where(GarageGrant.garage_id == garage_id))


def _at(garage_id: int, operator_events: bool) -> sa.ColumnElement[bool]:
    """THE rule of a garage's trail: its own events, and of the events with no garage (sign-ins,
    failed sign-ins, sign-outs, account and token changes: one account serves every garage) those
    whose person works there: the person an event is about (a user's account; a token's owner),
    else the one who did it. So a garage's manager follows their own people's accounts, as in a
    single-garage deployment, and reads nothing of another garage's people, not even what someone
    of both garages did to an account of the other. With `operator_events` (an admin reading it):
    every event with no garage."""
    own = AuditEvent.garage_id == garage_id
    if operator_events:
        return sa.or_(own, AuditEvent.garage_id.is_(None))
    people = _people_at(garage_id)
    tokens = (sa.select(sa.cast(ApiToken.id, sa.String)).join(User, User.id == ApiToken.user_id)
              .where(User.username.in_(people)))
    about_user, about_token = AuditEvent.object_type == "user", AuditEvent.object_type == "token"
    return sa.or_(own, sa.and_(AuditEvent.garage_id.is_(None), sa.or_(
        sa.and_(about_user, AuditEvent.object_id.in_(people)),
        sa.and_(about_token, AuditEvent.object_id.in_(tokens)),
        sa.and_(sa.or_(AuditEvent.object_type.is_(None), sa.not_(about_user | about_token)),
                AuditEvent.username.in_(people)))))


def search(garage_id: int, query: AuditQuery, page: int = 1, per_page: int = 50, *,
           operator_events: bool = False) -> AuditPage:
    """Newest first, one page of it (read-only): the garage's trail (`_at`)."""
    conditions = [_at(garage_id, operator_events)]
    if query.action:
        conditions.append(AuditEvent.action == query.action)
    if query.username:
        name = query.username.strip().lower()
        conditions.append(sa.or_(AuditEvent.username == name,
                                 sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == name)))
    if query.start is not None:
        conditions.append(AuditEvent.at >= query.start)
    if query.end is not None:
        conditions.append(AuditEvent.at < query.end)
    total = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(*conditions)) or 0
    page = max(1, page)
    events = list(db.session.scalars(
        sa.select(AuditEvent).where(*conditions).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)))
    return AuditPage(events, page, per_page, total)


def history(garage_id: int, action: str, object_type: str, object_id: Any, since: datetime) -> list[AuditEvent]:
    """One object's events of one action at the garage from `since` on, oldest first (read-only)."""
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.garage_id == garage_id, AuditEvent.action == action,
                                    AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id),
                                    AuditEvent.at >= since)
        .order_by(AuditEvent.at, AuditEvent.id)))


def actions(garage_id: int, *, operator_events: bool = False) -> list[str]:
    """The filter's choices, and what it accepts: every action the application records, and any
    other that occurs in the garage's trail (as `search` reads it: rows of an older version)."""
    found = db.session.scalars(sa.select(AuditEvent.action).where(_at(garage_id, operator_events)).distinct())
    return sorted(ACTIONS | set(found))
