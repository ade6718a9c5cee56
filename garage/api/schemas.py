"""Request/response schemas of the JSON API (the seed's camelCase contract).
The OpenAPI document is generated from these classes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.tickets import PAYMENT_METHODS, VEHICLE_TYPES

VehicleType = Literal[VEHICLE_TYPES]  # type: ignore[valid-type]
PaymentMethod = Literal[PAYMENT_METHODS]  # type: ignore[valid-type]


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


class SettingsUpdate(Request):
    totalSpaces: int | None = Field(default=None, ge=1, le=100000)
    hourlyRate: int | None = Field(default=None, ge=0, le=100000, description="cents")


class TicketResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    vehicleType: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amountPaid: int | None = Field(description="cents")
    status: Literal["active", "completed"]
    paymentMethod: str | None


class QuoteResponse(BaseModel):
    ticketNumber: str
    durationMinutes: int
    billableHours: int
    amountDue: int = Field(description="cents, what an exit now would charge")


class ActivityResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amount: float | None = Field(description="dollars")
    status: Literal["active", "completed"]


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


class StatusResponse(BaseModel):
    status: str = "ok"


class ErrorResponse(BaseModel):
    message: str
