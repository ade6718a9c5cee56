"""Append-only audit trail, written in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..identity import Actor
from ..models import AuditEvent


def record(actor: Actor | None, action: str, object_type: str | None = None,
           object_id: Any = None, details: dict[str, Any] | None = None, *, garage_id: int | None = None) -> None:
    """`garage_id`: the garage it happened at; None for an operator-level event (a user or a
    garage created, a sign-in)."""
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
class AuditPage:
    events: list[AuditEvent]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _at(garage_id: int, operator_events: bool) -> sa.ColumnElement[bool]:
    """A garage's trail: its own events, and with `operator_events` (an admin reading it) the
    operator-level ones (no garage: sign-ins, everyone's account changes, garages created)."""
    if not operator_events:
        return AuditEvent.garage_id == garage_id
    return sa.or_(AuditEvent.garage_id == garage_id, AuditEvent.garage_id.is_(None))


def search(garage_id: int, query: AuditQuery, page: int = 1, per_page: int = 50, *,
           operator_events: bool = False) -> AuditPage:
    """Newest first, one page of it (read-only): the garage's events, and the operator-level
    ones with `operator_events` (admins only: they are about every garage's people)."""
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


def actions(garage_id: int, *, operator_events: bool = False) -> list[str]:
    """Every action that occurs in the garage's log (as `search` reads it), for the filter's choices."""
    return list(db.session.scalars(sa.select(AuditEvent.action).where(_at(garage_id, operator_events)).distinct()
                                   .order_by(AuditEvent.action)))
