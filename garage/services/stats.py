"""Live figures. Cost depends on cars inside and today's exits, never on history:
occupancy is a maintained counter, today's figures an indexed range on exit_time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..domain.clock import local_day_bounds, local_today, utcnow
from ..domain.occupancy import Occupancy
from ..extensions import db
from ..models import ApiTokenGarage, Garage, GarageGrant, Ticket
from .settings import get_settings, settings_as_committed


@dataclass(frozen=True)
class TodayFigures:
    revenue_cents: int
    exits: int
    average_stay_minutes: float | None


@dataclass(frozen=True)
class GarageStats:
    occupancy: Occupancy
    almost_full_percent: int
    hourly_rate_cents: int
    today: TodayFigures
    garage_name: str
    timezone: str
    # What the desks' live poll compares to learn that something changed anywhere (issue 15):
    # see change_mark().
    change_mark: str = ""

    @property
    def state(self) -> str:
        return self.occupancy.state(self.almost_full_percent)

    @property
    def average_stay_hours(self) -> float:
        minutes = self.today.average_stay_minutes
        return round(minutes / 60, 1) if minutes else 0.0


def occupancy_of(row: Any) -> Occupancy:
    """A garage's occupancy from its row (the counters and its reserved spaces)."""
    return Occupancy(total=row.total_spaces, occupied=row.occupied, reserved=row.reserved_spaces or 0,
                     permit_inside=row.occupied_permit or 0)


def current_occupancy(garage_id: int, as_committed: bool = False) -> tuple[Occupancy, Garage]:
    """From the garage's row as this request has it, or (`as_committed`) read again now."""
    s = settings_as_committed(garage_id) if as_committed else get_settings(garage_id)
    return occupancy_of(s), s


@dataclass(frozen=True)
class PublicOccupancy:
    """What the lobby screen and public signage may show: counts, never money or plates."""

    occupancy: Occupancy
    almost_full_percent: int
    garage_name: str
    timezone: str

    @property
    def state(self) -> str:
        return self.occupancy.state(self.almost_full_percent)


def public_occupancy(garage_id: int) -> PublicOccupancy:
    """One primary-key read of the garage's row (the maintained counter): O(1)."""
    occupancy, s = current_occupancy(garage_id)
    return PublicOccupancy(occupancy=occupancy, almost_full_percent=s.almost_full_percent,
                           garage_name=s.garage_name, timezone=s.timezone)


@dataclass(frozen=True)
class GarageOccupancy:
    """One garage's live occupancy in a list of garages (/api/garages, /metrics)."""

    id: int
    slug: str
    name: str
    timezone: str
    occupancy: Occupancy
    almost_full_percent: int

    @property
    def state(self) -> str:
        return self.occupancy.state(self.almost_full_percent)

    @classmethod
    def of(cls, garage: Any) -> "GarageOccupancy":
        """Of a Garage, or of a row of BOARD_COLUMNS."""
        return cls(garage.id, garage.slug, garage.garage_name, garage.timezone,
                   occupancy_of(garage), garage.almost_full_percent)


def garages_now(garages: list[Any]) -> list[GarageOccupancy]:
    """Each garage's occupancy and state now, from the rows already read (no other statement):
    the portfolio, the garages page, the garage chooser (Garage rows, or rows of BOARD_COLUMNS)."""
    return [GarageOccupancy.of(garage) for garage in garages]


# What a garage's line on a board needs (GarageOccupancy.of reads these of a row, or of a Garage).
BOARD_COLUMNS = (Garage.id, Garage.slug, Garage.garage_name, Garage.timezone, Garage.total_spaces,
                 Garage.occupied, Garage.almost_full_percent, Garage.reserved_spaces, Garage.occupied_permit)
_BOARD = sa.select(*BOARD_COLUMNS).order_by(Garage.id)
# A token's garages where its owner holds a grant (an admin's token: see garages_occupancy).
_TOKEN_MAY_ACT = sa.exists().where(
    ApiTokenGarage.token_id == sa.bindparam("token_id"), ApiTokenGarage.garage_id == Garage.id,
    sa.exists().where(GarageGrant.user_id == sa.bindparam("user_id"), GarageGrant.garage_id == ApiTokenGarage.garage_id))


def garages_occupancy(token_id: int | None = None, user_id: int | None = None) -> list[GarageOccupancy]:
    """Every garage's live occupancy (the maintained counters), in id order, in ONE statement
    whatever the number of garages (an admin's view, /metrics); with `token_id`, only the garages
    of that token's scope where its owner `user_id` holds a grant."""
    query, values = _BOARD, {}
    if token_id is not None:
        query, values = _BOARD.where(_TOKEN_MAY_ACT), {"token_id": token_id, "user_id": user_id}
    return [GarageOccupancy(row.id, row.slug, row.garage_name, row.timezone,
                            occupancy_of(row), row.almost_full_percent)
            for row in db.session.execute(query, values)]


# Built once (polled by the desk, the stats API and signage): [start, end) bound per call.
# count(amount_paid): every column read is in ix_tickets_exit_time (an index-only scan); a voided
# ticket (an exit_time, no amount: issue 18) is not a vehicle processed.
TODAY_FIGURES = (sa.select(sa.func.count(Ticket.amount_paid), sa.func.coalesce(sa.func.sum(Ticket.amount_paid), 0),
                           sa.func.avg(Ticket.duration_minutes))
                 .where(Ticket.garage_id == sa.bindparam("garage_id"), Ticket.exit_time >= sa.bindparam("start"),
                        Ticket.exit_time < sa.bindparam("end")))


def today_figures(garage_id: int, tzname: str, now: datetime | None = None) -> TodayFigures:
    now = now or utcnow()
    start, end = local_day_bounds(local_today(now, tzname), tzname)
    count, revenue, avg_minutes = db.session.execute(
        TODAY_FIGURES, {"garage_id": garage_id, "start": start, "end": end}).one()
    return TodayFigures(int(revenue or 0), int(count or 0),
                        float(avg_minutes) if avg_minutes is not None else None)


def change_mark(settings: Garage, today: TodayFigures) -> str:
    """Changes whenever a car enters or leaves anywhere (occupied moves, or today's exits), and
    whenever the settings row is written (every entry, exit and settings change stamps its
    updated_at; settings.update_settings stamps it for vehicle rates too). Free: both values are
    read for the live panel anyway, so the 5-s poll sends no extra statement."""
    stamp = settings.updated_at
    micros = int(stamp.timestamp() * 1_000_000) if stamp else 0
    return f"{settings.occupied}.{today.exits}.{micros}"


def garage_stats(garage_id: int, now: datetime | None = None, as_committed: bool = False) -> GarageStats:
    """`as_committed`: the counters read again now, as today's figures are (a request that loaded the
    garage's row before another booth's exit would otherwise show that car still inside beside the exit
    it already counts)."""
    occupancy, s = current_occupancy(garage_id, as_committed)
    today = today_figures(garage_id, s.timezone, now)
    return GarageStats(
        occupancy=occupancy, almost_full_percent=s.almost_full_percent,
        hourly_rate_cents=s.hourly_rate, today=today,
        garage_name=s.garage_name, timezone=s.timezone, change_mark=change_mark(s, today),
    )
