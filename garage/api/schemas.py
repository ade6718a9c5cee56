"""Request/response schemas of the JSON API (the seed's camelCase contract).
The OpenAPI document is generated from these classes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain import garage_settings as limits
from ..domain.pricing import LOST_MODES
from ..domain.tickets import PAYMENT_METHODS, STATUS_ACTIVE, STATUS_COMPLETED, VEHICLE_TYPES

VehicleType = Literal[VEHICLE_TYPES]  # type: ignore[valid-type]
PaymentMethod = Literal[PAYMENT_METHODS]  # type: ignore[valid-type]
LostMode = Literal[LOST_MODES]  # type: ignore[valid-type]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TicketCreate(Request):
    licensePlate: str = Field(min_length=1, max_length=40, examples=["ABC123"])
    vehicleType: VehicleType = Field(examples=["Car"])


class ExitRequest(Request):
    paymentMethod: PaymentMethod = Field(examples=["Credit Card"])
    expectedAmount: int | None = Field(
        default=None, ge=0,
        description="Optional: the amount (cents) quoted to the driver; if the fee has "
                    "changed since, the exit is refused with 409 and nothing is charged.")
    lost: bool = Field(default=False, description="The driver has no ticket: the lost-ticket fee applies.")


class SettingsUpdate(Request):
    """Only the fields sent are changed."""
    totalSpaces: int | None = Field(default=None, ge=1, le=limits.MAX_SPACES)
    hourlyRate: int | None = Field(default=None, ge=0, le=limits.MAX_RATE_CENTS, description="cents")
    vehicleRates: dict[VehicleType, int | None] | None = Field(  # type: ignore[valid-type]
        default=None, description="cents per hour by vehicle type; null: the type pays the default "
                                  "rate again. Types not sent keep their rate.")
    graceMinutes: int | None = Field(default=None, ge=0, le=limits.MAX_GRACE_MINUTES)
    dailyMaximum: int | None = Field(default=None, ge=1, le=limits.MAX_DAILY_CENTS,
                                     description="cents per 24 hours of stay; null: no maximum")
    lostTicketFee: int | None = Field(default=None, ge=0, le=limits.MAX_LOST_FEE_CENTS,
                                      description="cents; 0: no fee")
    lostTicketMode: LostMode | None = Field(  # type: ignore[valid-type]
        default=None, description="replace: charged instead of the time fee; add: on top of it")
    garageName: str | None = Field(default=None, min_length=1, max_length=limits.NAME_MAX)
    timezone: str | None = Field(default=None, description="IANA name, e.g. Europe/Berlin")
    almostFullPercent: int | None = Field(default=None, ge=1, le=100)


class TicketResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    vehicleType: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amountPaid: int | None = Field(description="cents")
    status: Literal[STATUS_ACTIVE, STATUS_COMPLETED]
    paymentMethod: str | None
    lost: bool = Field(default=False, description="closed as a lost ticket")
    lostFee: int | None = Field(default=None, description="cents of amountPaid that are the lost-ticket fee")


class QuoteResponse(BaseModel):
    ticketNumber: str
    durationMinutes: int
    billableHours: int = Field(description="0 inside the grace period")
    amountDue: int = Field(description="cents, what an exit now would charge (time fee + lost fee)")
    timeFee: int = Field(description="cents")
    lostFee: int = Field(description="cents; 0 unless lost")
    lost: bool


class ActivityResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amount: float | None = Field(description="dollars")
    status: Literal[STATUS_ACTIVE, STATUS_COMPLETED]


class GarageStatsResponse(BaseModel):
    totalSpaces: int
    occupiedSpaces: int
    availableSpaces: int
    occupiedSpacesPercentage: int
    availableSpacesPercentage: int
    hourlyRate: float = Field(description="dollars")
    todaysRevenue: float = Field(description="dollars, exits since local midnight")
    vehiclesProcessedToday: int
    averageStayTime: float = Field(description="hours, one decimal, over today's exits")


class OccupancyResponse(BaseModel):
    total: int
    occupied: int
    available: int
    state: Literal["OPEN", "ALMOST FULL", "FULL"]
    updatedAt: datetime


class SettingsResponse(BaseModel):
    totalSpaces: int
    hourlyRate: int = Field(description="cents")
    occupiedSpaces: int
    timezone: str
    vehicleRates: dict[str, int] = Field(description="cents per hour; types not listed pay hourlyRate")
    graceMinutes: int
    dailyMaximum: int | None = Field(description="cents; null: no maximum")
    lostTicketFee: int = Field(description="cents; 0: no fee")
    lostTicketMode: LostMode  # type: ignore[valid-type]
    garageName: str
    almostFullPercent: int
    rates: list[str] = Field(description="the rules as shown to drivers")


class StatusResponse(BaseModel):
    status: str = "ok"


class ErrorResponse(BaseModel):
    message: str
