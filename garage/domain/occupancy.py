"""Occupancy figures and the lobby state, from counts alone.

With reserved spaces (issue 19, garage/domain/permits.py) what drivers are shown is the **visitors'**
availability: the spaces a visitor can still take (not the reserved ones, and none past full), FULL
when there is none, while permit holders may still have `permit_available` spaces."""
from __future__ import annotations

from dataclasses import dataclass

from .words import N_

# The states are keys (the API's `state`, data-state on pages) in English; a page shows them
# translated: {{ _(state) }}.
OPEN = N_("OPEN")
ALMOST_FULL = N_("ALMOST FULL")
FULL = N_("FULL")
DEFAULT_ALMOST_FULL_PERCENT = 90


@dataclass(frozen=True)
class Occupancy:
    total: int
    occupied: int
    reserved: int = 0       # spaces kept for permit holders
    permit_inside: int = 0  # the permit cars among `occupied`

    @property
    def available(self) -> int:
        """Free spaces for a visitor (with no reserved spaces: every free space)."""
        visitors = max(0, self.occupied - self.permit_inside)
        return max(0, min(self.total - self.reserved - visitors, self.total - self.occupied))

    @property
    def permit_available(self) -> int:
        """Free spaces for a permit holder: any free space."""
        return max(0, self.total - self.occupied)

    @property
    def occupied_percent(self) -> int:
        """Whole percent, rounded down (the seed's occupiedSpacesPercentage)."""
        if self.total <= 0:
            return 100
        return min(100, (self.occupied * 100) // self.total)

    @property
    def available_percent(self) -> int:
        """Whole percent of the spaces free for a visitor (without reserved spaces: 100 − occupied %)."""
        if self.reserved and self.total > 0:
            return (self.available * 100) // self.total
        return 100 - self.occupied_percent

    def state(self, almost_full_percent: int = DEFAULT_ALMOST_FULL_PERCENT) -> str:
        """For visitors: FULL when none of their spaces is free; ALMOST FULL when the spaces open to them
        (all but the reserved ones) are taken to the threshold."""
        if self.available == 0:
            return FULL
        capacity = self.total - self.reserved
        if (capacity - self.available) * 100 >= almost_full_percent * capacity:
            return ALMOST_FULL
        return OPEN
