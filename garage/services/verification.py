"""Checking the data's own invariants (after a restore, or whenever in doubt) and repairing
the occupancy counter: `flask --app garage verify [--repair-counter]` (garage/cli.py). The
rules are garage/domain/invariants.py; the SQL is the store's."""
from __future__ import annotations

from ..domain import invariants
from ..domain.errors import Conflict, NotFound
from ..extensions import db
from ..identity import Actor
from ..persistence import SETTINGS_ID, store
from ..persistence.base import CounterRepair
from . import audit

REPAIRED = "occupancy.repaired"


def check() -> list[invariants.Check]:
    """Every invariant with OK or FAIL and its figures (read-only: one transaction, rolled back)."""
    try:
        counts = store().invariant_counts()
    finally:
        db.session.rollback()
    return invariants.checks(counts)


def repair_counter(actor: Actor) -> CounterRepair:
    """Set the occupancy counter to the cars inside, in one transaction that locks the
    settings row, and audit the change (nothing is recorded when it was already right).
    Conflict when more cars are inside than there are spaces (nothing changed)."""
    try:
        repair = store().repair_counter()
        if repair is None:
            raise NotFound("No garage_settings row: run flask --app garage init first")
        if not repair.done:
            raise Conflict(f"{repair.inside} cars are inside but the garage has {repair.total_spaces} spaces: "
                           "the counter cannot hold them; raise the total spaces first (settings page)")
        if repair.before != repair.after:
            audit.record(actor, REPAIRED, "garage_settings", SETTINGS_ID,
                         {"before": {"occupied": repair.before}, "after": {"occupied": repair.after}})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return repair
