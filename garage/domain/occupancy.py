"""Occupancy figures and the lobby state, from counts alone."""
from __future__ import annotations

from dataclasses import dataclass

OPEN = "OPEN"
ALMOST_FULL = "ALMOST FULL"
FULL = "FULL"
DEFAULT_ALMOST_FULL_PERCENT = 90


@dataclass(frozen=True)
class Occupancy:
    total: int
    occupied: int

    @property
    def available(self) -> int:
        return max(0, self.total - self.occupied)

    @property
    def occupied_percent(self) -> int:
        """Whole percent, rounded down (the seed's occupiedSpacesPercentage)."""
        if self.total <= 0:
            return 100
        return min(100, (self.occupied * 100) // self.total)

    @property
    def available_percent(self) -> int:
        return 100 - self.occupied_percent

    def state(self, almost_full_percent: int = DEFAULT_ALMOST_FULL_PERCENT) -> str:
        if self.available == 0:
            return FULL
        if self.occupied * 100 >= almost_full_percent * self.total:
            return ALMOST_FULL
        return OPEN
