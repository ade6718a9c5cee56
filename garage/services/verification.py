"""Checking the data's own invariants (after a restore, or whenever in doubt) and repairing
the occupancy counter: `flask --app garage verify [--repair-counter]` (garage/cli.py). The
rules are garage/domain/invariants.py; the SQL is the store's."""
from __future__ import annotations

import sqlalchemy as sa

from ..domain import invariants
from ..domain.errors import Conflict, NotFound
from ..domain.words import _
from ..extensions import db
from ..identity import Actor
from ..models import Garage
from ..persistence import store
from ..persistence.base import CounterRepair
from . import audit

REPAIRED = "occupancy.repaired"


def garages() -> list[tuple[int, str]]:
    """(id, slug) of every garage, in id order (the default garage first): read in the
    transaction the checks then read in (and roll back)."""
    return [(row.id, row.slug) for row in db.session.execute(sa.select(Garage.id, Garage.slug).order_by(Garage.id))]


def check(garage_id: int) -> list[invariants.Check]:
    """Every invariant of one garage with OK or FAIL and its figures (read-only: one
    transaction, rolled back)."""
    try:
        counts = store().invariant_counts(garage_id)
    finally:
        db.session.rollback()
    return invariants.checks(counts)


def repair_counter(garage_id: int, actor: Actor) -> CounterRepair:
    """Set the occupancy counter to the cars inside, in one transaction that locks the
    settings row, and audit the change (nothing is recorded when it was already right).
    Conflict when more cars are inside than there are spaces (nothing changed)."""
    try:
        repair = store().repair_counter(garage_id)
        if repair is None:
            raise NotFound(_("No such garage: run flask --app garage init first"))
        if not repair.done:
            raise Conflict(_("%(inside)d cars are inside but the garage has %(spaces)d spaces: the counter cannot hold "
                             "them; raise the total spaces first (settings page)", inside=repair.inside,
                             spaces=repair.total_spaces))
        if (repair.before, repair.permit_before) != (repair.after, repair.permit_after):
            permit = repair.permit_before != repair.permit_after
            audit.record(actor, REPAIRED, "garage_settings", garage_id,
                         {"before": {"occupied": repair.before, **({"occupiedPermit": repair.permit_before} if permit else {})},
                          "after": {"occupied": repair.after, **({"occupiedPermit": repair.permit_after} if permit else {})}},
                         garage_id=garage_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return repair
