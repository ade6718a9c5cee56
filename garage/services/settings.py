"""The single garage_settings row."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import GarageSetting

SETTINGS_ID = 1


def ensure_settings() -> GarageSetting:
    """Create the default row if missing (idempotent, safe to race)."""
    row = db.session.get(GarageSetting, SETTINGS_ID)
    if row is not None:
        return row
    occupied = db.session.scalar(sa.text("SELECT count(*) FROM tickets WHERE status = 'active'")) or 0
    row = GarageSetting(id=SETTINGS_ID, timezone=current_app.config["GARAGE_TIMEZONE"],
                        occupied=occupied, total_spaces=max(140, occupied))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        row = db.session.get(GarageSetting, SETTINGS_ID)
    return row


def get_settings() -> GarageSetting:
    return db.session.get(GarageSetting, SETTINGS_ID) or ensure_settings()


def update_settings(actor, *, total_spaces: int | None = None, hourly_rate: int | None = None,
                    **other: object) -> GarageSetting:
    """Change settings in one audited transaction. Total spaces can never go
    below the cars inside: checked by a conditional UPDATE, so a car entering
    at the same moment cannot slip past the check."""
    from ..domain.errors import Conflict, InvalidInput
    from . import audit

    row = get_settings()
    before = {"totalSpaces": row.total_spaces, "hourlyRate": row.hourly_rate,
              **{k: getattr(row, k) for k in other}}
    values: dict[str, object] = dict(other)
    if total_spaces is not None:
        if not 1 <= total_spaces <= 100_000:
            raise InvalidInput("Total spaces must be from 1 to 100000", field="totalSpaces")
        values["total_spaces"] = total_spaces
    if hourly_rate is not None:
        if not 0 <= hourly_rate <= 100_000:
            raise InvalidInput("Hourly rate must be from 0 to 100000 cents", field="hourlyRate")
        values["hourly_rate"] = hourly_rate
    if not values:
        return row
    try:
        stmt = sa.update(GarageSetting).where(GarageSetting.id == SETTINGS_ID)
        if total_spaces is not None:
            stmt = stmt.where(GarageSetting.occupied <= total_spaces)
        changed = db.session.execute(stmt.values(**values).execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            occupied = db.session.scalar(sa.select(GarageSetting.occupied).where(GarageSetting.id == SETTINGS_ID))
            raise Conflict(f"Total spaces cannot be below the {occupied} cars inside", field="totalSpaces")
        db.session.expire(row)
        after = {"totalSpaces": row.total_spaces, "hourlyRate": row.hourly_rate,
                 **{k: getattr(row, k) for k in other}}
        audit.record(actor, "settings.changed", "garage_settings", SETTINGS_ID,
                     {"before": before, "after": after})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row
