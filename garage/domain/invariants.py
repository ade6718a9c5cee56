"""What must hold in a garage's data, whatever happened to it (a restore from backup, a bug,
a hand edit): the rules `flask --app garage verify` checks, from counts alone.

- the occupancy counter (garage_settings.occupied) equals the cars inside (active tickets):
  entries and exits keep the two in step in one transaction, and the entry's capacity check
  reads only the counter;
- every paid ticket has its payment audit row (written in the exit's own transaction);
- free spaces are never negative: neither by the counter nor by the cars really inside;
- the counter is within 0..total spaces (a check constraint keeps it there; a restore that
  skipped constraints would not);
- the permit holders' counter (garages.occupied_permit, issue 19) equals the permit cars inside."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """What the database holds now (garage/persistence Store.invariant_counts)."""

    total_spaces: int | None  # None: no settings row at all
    occupied: int
    inside: int  # active tickets
    paid_without_audit: int
    examples: tuple[str, ...] = ()  # some of those tickets' numbers
    permit_occupied: int = 0  # the permit holders' counter
    permit_inside: int = 0  # active permit tickets


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def checks(counts: Counts) -> list[Check]:
    """Each rule with OK or not and the figures behind it, in a fixed order."""
    if counts.total_spaces is None:
        return [Check("the settings row exists", False, "no garage_settings row: run flask --app garage init")]
    total, occupied, inside = counts.total_spaces, counts.occupied, counts.inside
    missing = counts.paid_without_audit
    examples = f" (e.g. {', '.join(counts.examples)})" if missing and counts.examples else ""
    return [
        Check("occupancy counter equals the cars inside", occupied == inside,
              f"counter {occupied}, cars inside {inside}"),
        Check("every paid ticket has its payment audit row", missing == 0,
              f"{missing} paid ticket{'' if missing == 1 else 's'} without one{examples}"),
        Check("no negative free spaces", total - occupied >= 0 and total - inside >= 0,
              f"{total} spaces: {total - occupied} free by the counter, {total - inside} by the cars inside"),
        Check("counter within 0..total spaces", 0 <= occupied <= total, f"counter {occupied}, total {total}"),
        Check("permit counter equals the permit cars inside", counts.permit_occupied == counts.permit_inside,
              f"counter {counts.permit_occupied}, permit cars inside {counts.permit_inside}"),
    ]
