"""Append-only audit trail, written in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who does something, and from where. Blueprints build it from the request."""

    user_id: int | None = None
    username: str | None = None
    ip: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(None, name, None)


def record(actor: Actor | None, action: str, object_type: str | None = None,
           object_id: Any = None, details: dict[str, Any] | None = None) -> None:
    actor = actor or Actor.system()
    db.session.add(AuditEvent(
        user_id=actor.user_id, username=actor.username, ip=actor.ip, action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        details=details,
    ))
