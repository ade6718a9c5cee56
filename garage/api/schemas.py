"""Request/response schemas of the JSON API (the seed's camelCase contract).
The OpenAPI document is generated from these classes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..domain import garage_settings as limits
from ..domain.garages import SLUG_MAX, SLUG_PATTERN
from ..domain.pricing import LOST_MODES
from ..domain import shifts as drawer
from ..domain.tax import MAX_RATE_BP
from ..domain.tickets import (
    PAYMENT_METHODS, PLATE_MAX, PLATE_PATTERN, PLATE_TYPED_MAX, RECEIPT_DIGITS, RECEIPT_PREFIX, STATUSES,
    VEHICLE_TYPES,
)
from ..domain.amendments import MAX_VOID_WINDOW_MINUTES
from ..domain.locales import LANGUAGES, LEGAL_NAME_MAX
from ..domain.money import MAX_PAYMENT_MINOR, MAX_QUOTED_MINOR, current_currency
from ..domain import rate_periods as periods

VehicleType = Literal[VEHICLE_TYPES]  # type: ignore[valid-type]
PaymentMethod = Literal[PAYMENT_METHODS]  # type: ignore[valid-type]
LostMode = Literal[LOST_MODES]  # type: ignore[valid-type]
TicketStatus = Literal[STATUSES]  # type: ignore[valid-type]
RECEIPT_PATTERN = rf"^{RECEIPT_PREFIX}[0-9]{{{RECEIPT_DIGITS},}}$"
Language = Literal[("", *LANGUAGES)]  # type: ignore[valid-type]
CURRENCY_PATTERN = "^[A-Z]{3}$"
LOCALE_PATTERN = "^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8}){0,3}$"


def currency() -> Any:
    """The ``currency`` of a response that carries amounts: the garage's (ISO 4217). Its amounts named
    ...Cents, and the other integer amounts, are in the currency's minor units (cents for USD and EUR,
    yen for JPY, fils for BHD); the seed's decimal fields (hourlyRate, todaysRevenue, amount) in its
    major unit with the currency's own decimals."""
    return Field(default_factory=current_currency, examples=["USD", "EUR", "JPY"],
                 json_schema_extra={"pattern": CURRENCY_PATTERN},
                 description="ISO 4217 code of this response's amounts: the garage's currency. Integer amounts "
                             "(…Cents and the like) are in its minor units (0 decimals for JPY, 3 for BHD)")


def _whole_number(value: Any) -> Any:
    """JSON has one kind of number, and JSON Schema's "integer" is any number without a
    fraction: 1000.0 is the integer 1000. 1000.5, true and "1000" stay refused (422)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole(low: int, high: int | None = None) -> Any:
    """Every integer a request carries (cents, counts, minutes, percent): low..high, 1000.0 accepted
    as 1000. (The bounds go before the validator: after it, the schema would not show them.)"""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_whole_number)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(**details: Any) -> Any:
    """A field a partial update may leave out; sent, it must have a value: null is refused (422).
    In the schema: not required, not nullable, no default."""
    return Field(default=None, json_schema_extra=_no_default, **details)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TicketCreate(Request):
    # The plate's rules are the domain's (clean_plate refuses with its own message, 422): the
    # schema publishes a superset from the same constants (PLATE_PATTERN); pydantic checks nothing more.
    licensePlate: str = Field(
        min_length=1, examples=["ABC123"], json_schema_extra={"pattern": PLATE_PATTERN, "maxLength": PLATE_TYPED_MAX},
        description=f"Latin letters (A-Z, also with accents such as Ä, Ø or Č) and digits, 1 to {PLATE_MAX} of them, "
                    "with spaces, dashes and dots anywhere; any case. The pattern only excludes control "
                    "characters: a plate it admits may still be refused (422, the rule's message)")
    vehicleType: VehicleType = Field(examples=["Car"])


class ExitRequest(Request):
    paymentMethod: PaymentMethod = Field(examples=["Credit Card"])
    expectedAmount: whole(0, MAX_QUOTED_MINOR) | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Optional: the amount (cents) quoted to the driver; if the fee has "
                    "changed since, the exit is refused with 409 and nothing is charged. "
                    "null, or left out: no such check.")
    lost: bool = Field(default=False, description="The driver has no ticket: the lost-ticket fee applies.")
    validationCode: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="A merchant's validation code the driver hands over: the ticket is validated by it, then "
                    "paid with the discount (the same code on a retried exit changes nothing).")


# A type's rate: its bounds are published here and checked by the domain, whose message names the
# type and says the range in dollars (garage/domain/garage_settings.py).
VehicleRate = Annotated[int, BeforeValidator(_whole_number),
                        Field(json_schema_extra={"minimum": 0, "maximum": limits.MAX_RATE_CENTS})]


# Rate periods (garage/domain/rate_periods.py): the shapes are published here; what they mean and every
# rule beyond the shape (a real date, distinct names, a window that is not empty) is the domain's, which
# answers 422 naming the period ("Period 2: ...").
Clock = Annotated[str, Field(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", examples=["18:00"],
                             description="local wall-clock time in the garage's timezone, HH:MM")]
WeekDay = Literal[periods.DAYS]  # type: ignore[valid-type]
PeriodName = Annotated[str, Field(min_length=1, max_length=periods.NAME_MAX, examples=["Night rate"],
                                  description="shown on quotes and receipts; unique in the garage")]
PeriodDays = Annotated[list[WeekDay], Field(description="days of the week (empty: every day)")]  # type: ignore[valid-type]
PeriodVehicle = Annotated[VehicleType | None, Field(description="only for this vehicle type; null: every type")]  # type: ignore[valid-type]


class FlatPeriod(Request):
    """One price for the whole stay: entered within [enterFrom, enterUntil] (a window whose end is not
    after its start runs past midnight) and left by the first leaveBy after the entry (not before the
    leaveFrom that precedes it, if given). Never more than the daily maximum."""
    kind: Literal["flat"]
    name: PeriodName
    priceCents: whole(0, periods.MAX_PRICE_CENTS)  # type: ignore[valid-type]
    enterFrom: Clock
    enterUntil: Clock
    leaveFrom: Clock | None = None
    leaveBy: Clock
    days: PeriodDays = Field(default_factory=list)
    vehicleType: PeriodVehicle = None


class HourlyPeriod(Request):
    """Another rate per started hour for the hours that start within [start, end) (equal: the whole
    day) on the days given; the daily maximum still caps each 24 hours."""
    kind: Literal["hourly"]
    name: PeriodName
    rateCents: whole(0, periods.MAX_RATE_CENTS)  # type: ignore[valid-type]
    start: Clock = "00:00"
    end: Clock = "00:00"
    days: PeriodDays = Field(default_factory=list)
    vehicleType: PeriodVehicle = None


class EventPeriod(Request):
    """A flat price for the first 24 hours of a stay entering on one of the local dates; replaces every
    other rule for those entries (later hours at the usual rates)."""
    kind: Literal["event"]
    name: PeriodName
    priceCents: whole(0, periods.MAX_PRICE_CENTS)  # type: ignore[valid-type]
    dates: list[Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-31"])]] = Field(
        min_length=1, max_length=periods.MAX_DATES)
    vehicleType: PeriodVehicle = None


RatePeriod = Annotated[FlatPeriod | HourlyPeriod | EventPeriod, Field(discriminator="kind")]
PricingChoice = Literal[periods.CHOICES]  # type: ignore[valid-type]


class SettingsUpdate(Request):
    """Only the fields sent are changed. null means something only where a field says so
    (dailyMaximum, a vehicle type's rate); for any other field it is refused with 422."""
    totalSpaces: whole(1, limits.MAX_SPACES) = optional()  # type: ignore[valid-type]
    hourlyRate: whole(0, limits.MAX_RATE_CENTS) = optional(description="cents")  # type: ignore[valid-type]
    vehicleRates: dict[VehicleType, VehicleRate | None] = optional(  # type: ignore[valid-type]
        description="cents per hour by vehicle type; null: the type pays the default "
                    "rate again. Types not sent keep their rate.")
    graceMinutes: whole(0, limits.MAX_GRACE_MINUTES) = optional(description="minutes")  # type: ignore[valid-type]
    dailyMaximum: whole(1, limits.MAX_DAILY_CENTS) | None = Field(  # type: ignore[valid-type]
        default=None, description="cents per 24 hours of stay; null: no maximum")
    lostTicketFee: whole(0, limits.MAX_LOST_FEE_CENTS) = optional(  # type: ignore[valid-type]
        description="cents; 0: no fee")
    lostTicketMode: LostMode = optional(  # type: ignore[valid-type]
        description="replace: charged instead of the time fee; add: on top of it")
    garageName: str = optional(min_length=1, max_length=limits.NAME_MAX)
    timezone: str = optional(min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")
    almostFullPercent: whole(1, 100) = optional(description="percent")  # type: ignore[valid-type]
    garageAddress: str = optional(
        max_length=limits.ADDRESS_MAX,
        description=f"printed on receipts: up to {limits.ADDRESS_LINES} lines (\\n between them) of up to "
                    f"{limits.ADDRESS_LINE_MAX} characters; empty: none")
    taxRateBasisPoints: whole(0, MAX_RATE_BP) = optional(  # type: ignore[valid-type]
        description="tax included in every price, in basis points (1900 = 19 %); 0: no tax line on receipts")
    taxId: str = optional(max_length=limits.TAX_ID_MAX, description="tax/VAT id printed on receipts; empty: none")
    voidWindowMinutes: whole(0, MAX_VOID_WINDOW_MINUTES) = optional(  # type: ignore[valid-type]
        description="minutes after an entry during which an attendant may void its ticket; 0: managers only")
    paymentsRequireShift: bool = optional(description="payments (and cash refunds) need the payer's open shift")
    reservedSpaces: whole(0, limits.MAX_SPACES) = optional(  # type: ignore[valid-type]
        description="spaces kept for permit holders (at most totalSpaces): visitors see FULL when the others are taken")
    permitMaxPlates: whole(1, 10) = optional(  # type: ignore[valid-type]
        description="plates a permit may have at this garage (one of its cars inside at a time)")
    permitPolicy: Literal["visitor", "refuse"] = optional(
        description="a plate whose permit is not valid now (expired, suspended, its other car inside): "
                    "visitor: enters as a visitor; refuse: not let in")
    ratePeriods: list[RatePeriod] = optional(  # type: ignore[valid-type]
        max_length=periods.MAX_PERIODS,
        description="the garage's rate periods, in order (replacing all of them; []: none). How they compose "
                    "with grace, the daily maximum and the lost-ticket fee: docs/api.md, Rate periods")
    pricingChoice: PricingChoice = optional(  # type: ignore[valid-type]
        description="lowest: the driver pays the lowest applicable price; first: the first flat price listed "
                    "that applies, else the hourly rates")
    currency: str = optional(min_length=3, max_length=3, pattern=CURRENCY_PATTERN, examples=["EUR"],
                             description="ISO 4217 code of the garage's amounts; only while the garage has no "
                                         "ticket or permit payment (409 after): stored amounts are its minor units")
    locale: str = optional(min_length=2, max_length=16, pattern=LOCALE_PATTERN, examples=["de_DE"],
                           description="how pages write amounts, dates and numbers (a CLDR locale, e.g. de_DE)")
    language: Language = optional(  # type: ignore[valid-type]
        description="the pages' default language; empty: the browser's")
    lobbyLanguage: Language = optional(  # type: ignore[valid-type]
        description="the lobby screen's second language; empty: none")
    legalName: str = optional(max_length=LEGAL_NAME_MAX,
                              description="the company printed on receipts; empty: the garage's name")
    taxAdded: bool = optional(description="true: tax is added to prices; false: prices include it")


class GarageCreate(Request):
    # The rules are the domain's (garage/domain/garages.py, garage_settings.py): refused with their message, 422.
    slug: str = Field(min_length=1, max_length=SLUG_MAX, examples=["north"],
                      json_schema_extra={"pattern": f"^{SLUG_PATTERN.pattern}$"},
                      description="in the garage's URLs: 1-40 lower-case letters, digits and hyphens, "
                                  "starting with a letter or digit")
    name: str = Field(min_length=1, max_length=limits.NAME_MAX, examples=["North Street"])
    totalSpaces: whole(1, limits.MAX_SPACES) = Field(examples=[120])  # type: ignore[valid-type]
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"],
                          description="IANA name: the garage's local day for reports and receipts")


class GarageResponse(BaseModel):
    slug: str
    name: str
    timezone: str
    totalSpaces: int
    occupied: int
    available: int
    state: Literal["OPEN", "ALMOST FULL", "FULL"]


class TicketResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    vehicleType: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amountPaid: int | None = Field(description="cents")
    status: TicketStatus  # type: ignore[valid-type]
    paymentMethod: str | None
    lost: bool = Field(default=False, description="closed as a lost ticket")
    lostFee: int | None = Field(default=None, description="cents of amountPaid that are the lost-ticket fee")
    refundedCents: int = Field(default=0, description="cents of amountPaid given back so far (refunds)")
    voidReason: str | None = Field(default=None, description="why a voided ticket was voided")
    receiptNumber: str | None = Field(
        default=None, examples=["R-000123"], json_schema_extra={"pattern": RECEIPT_PATTERN},
        description="drawn when the ticket is paid: gap-free and sequential per garage; "
                    "null while active (and for tickets paid before receipt numbers)")
    permitId: int | None = Field(default=None, description="a permit ticket: the permit its car entered on")
    permit: "PermitMatchResponse | None" = Field(
        default=None, description="on an entry: the permit the plate is on, if any, and whether it admitted the car")
    priceRule: str | None = Field(
        default=None, examples=["Night rate"],
        description="the rule that produced the time fee of a paid ticket (\"Standard rate\", a rate period's "
                    "name, \"Grace period\", \"Lost-ticket fee\"); null while active and for tickets paid before")
    currency: str | None = Field(examples=["USD", "EUR", "JPY"], json_schema_extra={"pattern": CURRENCY_PATTERN},
                                 description="ISO 4217 code of the ticket's amounts (minor units); null on an "
                                             "entry's response, which has no amount yet")


class ValidationLineResponse(BaseModel):
    program: str
    discount: int = Field(description="cents taken off the time fee")


class QuoteResponse(BaseModel):
    ticketNumber: str
    durationMinutes: int
    billableHours: int = Field(description="0 inside the grace period")
    amountDue: int = Field(description="cents, what an exit now would charge (time fee + lost fee)")
    timeFee: int = Field(description="cents")
    lostFee: int = Field(description="cents; 0 unless lost")
    lost: bool
    discount: int = Field(default=0, description="cents taken off the time fee by validations (amountDue is after it)")
    validations: list[ValidationLineResponse] = Field(default_factory=list)
    priceRule: str | None = Field(default=None, examples=["Night rate"],
                                  description="the rule that produced the time fee (the exit records the same)")
    currency: str = currency()


class ActivityResponse(BaseModel):
    id: int
    ticketNumber: str
    licensePlate: str
    entryTime: datetime
    exitTime: datetime | None
    durationMinutes: int | None
    amount: int | float | None = Field(description="in the currency's major unit (its own decimals: JPY none, BHD 3)")
    status: TicketStatus  # type: ignore[valid-type]
    currency: str = currency()


class GarageStatsResponse(BaseModel):
    totalSpaces: int
    occupiedSpaces: int
    availableSpaces: int
    occupiedSpacesPercentage: int
    availableSpacesPercentage: int
    hourlyRate: int | float = Field(description="in the currency's major unit (its own decimals: JPY none, BHD 3)")
    todaysRevenue: int | float = Field(description="in the currency's major unit, exits since local midnight")
    vehiclesProcessedToday: int
    averageStayTime: float = Field(description="hours, one decimal, over today's exits")
    currency: str = currency()


class OccupancyResponse(BaseModel):
    total: int
    occupied: int
    available: int = Field(description="free spaces for a visitor (the reserved ones left out)")
    state: Literal["OPEN", "ALMOST FULL", "FULL"] = Field(description="for visitors")
    reservedSpaces: int = Field(default=0, description="spaces kept for permit holders")
    permitOccupied: int = Field(default=0, description="permit cars inside (part of occupied)")
    permitAvailable: int = Field(default=0, description="free spaces for a permit holder")
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
    garageAddress: str = Field(description="lines separated by \\n; empty: none")
    taxRateBasisPoints: int = Field(description="1900 = 19 %; 0: no tax line")
    taxId: str = Field(description="empty: none")
    voidWindowMinutes: int = Field(description="minutes after an entry during which an attendant may void it")
    paymentsRequireShift: bool
    reservedSpaces: int = Field(description="spaces kept for permit holders")
    permitPolicy: str = Field(description="visitor | refuse: a car whose permit is not valid now")
    permitMaxPlates: int = Field(description="plates a permit may have at this garage")
    ratePeriods: list[RatePeriod] = Field(default_factory=list)  # type: ignore[valid-type]
    pricingChoice: PricingChoice = periods.LOWEST  # type: ignore[valid-type]
    rates: list[str] = Field(description="the rules as shown to drivers")
    currency: str = currency()
    locale: str = Field(examples=["en_US", "de_DE"], description="how pages write amounts, dates and numbers")
    language: str = Field(description="the pages' default language; empty: the browser's")
    lobbyLanguage: str = Field(description="the lobby screen's second language; empty: none")
    legalName: str = Field(description="the company printed on receipts; empty: the garage's name")
    taxAdded: bool = Field(description="true: tax is added to prices; false: prices include it")


# Any currency's notes and coins (the garage's currency's are checked: 422 naming them).
DENOMINATION_KEY = "^(" + "|".join(map(str, sorted({d for ds in drawer.DENOMINATIONS.values() for d in ds},
                                                  reverse=True))) + ")$"


class ShiftOpen(Request):
    floatCents: whole(0, drawer.MAX_FLOAT_CENTS) = Field(  # type: ignore[valid-type]
        examples=[10000], description="the starting float in the drawer, cents")


class ShiftClose(Request):
    """The counted cash: a total, or a count per denomination (exactly one of the two)."""

    countedCashCents: whole(0, drawer.MAX_COUNTED_CENTS) = optional(  # type: ignore[valid-type]
        examples=[14550], description="the cash counted in the drawer, cents")
    countedByDenomination: dict[Annotated[str, Field(pattern=DENOMINATION_KEY)],  # type: ignore[valid-type]
                                whole(0, drawer.MAX_PIECES)] = optional(
        examples=[{"2000": 3, "500": 2, "25": 8}],
        description="pieces counted per denomination, keyed by its value in the currency's minor units "
                    f"(USD: {', '.join(map(str, drawer.USD_DENOMINATIONS))}; EUR: "
                    f"{', '.join(map(str, drawer.EUR_DENOMINATIONS))}; JPY: "
                    f"{', '.join(map(str, drawer.JPY_DENOMINATIONS))}); the total is their sum. A currency "
                    "without a list is counted by countedCashCents only")


class MethodTotalResponse(BaseModel):
    paymentMethod: str
    payments: int
    amountCents: int


class ShiftResponse(BaseModel):
    id: int
    status: Literal["open", "closed"]
    openedBy: str
    openedAt: datetime
    floatCents: int
    closedAt: datetime | None
    closedBy: str | None
    totals: list[MethodTotalResponse] = Field(description="payments in the shift by method (the X report)")
    totalCents: int
    cashPaymentsCents: int
    cashRefundsCents: int
    expectedCashCents: int = Field(description="float + cash payments − cash refunds (so far, while open)")
    countedCashCents: int | None = Field(description="null while open")
    countedByDenomination: dict[str, int] | None = Field(description="when counted so, pieces per denomination")
    overShortCents: int | None = Field(description="counted − expected: negative is short; null while open")
    currency: str = currency()


REASON = Field(min_length=1, max_length=drawer.REASON_MAX, examples=["typed O for 0"],
              description="why (kept in the audit log); blank is refused (422)")


def _corrected_plate(schema: dict[str, Any]) -> None:
    _no_default(schema)
    schema.update(pattern=PLATE_PATTERN, maxLength=PLATE_TYPED_MAX)


class TicketCorrection(Request):
    """A plate or vehicle type typed wrong at the entry (at least one of the two), and why."""

    licensePlate: str = Field(default=None, min_length=1, json_schema_extra=_corrected_plate,
                              description="the plate as it should be (the entry's rule)")
    vehicleType: VehicleType = optional()  # type: ignore[valid-type]
    reason: str = REASON


class TicketVoid(Request):
    reason: str = REASON


class RefundCreate(Request):
    amountCents: whole(1, MAX_PAYMENT_MINOR) = Field(  # type: ignore[valid-type]
        examples=[500], description="cents to give back; at most what was paid less earlier refunds")
    reason: str = REASON


class RefundResponse(BaseModel):
    id: int
    ticketNumber: str
    amountCents: int
    paymentMethod: str = Field(description="the payment's own method")
    reason: str
    refundedBy: str | None
    refundedAt: datetime
    shiftId: int | None = Field(description="the refunder's open shift it was taken in; null: none")
    refundedTotalCents: int = Field(description="given back of this payment so far")
    amountPaid: int = Field(description="cents, what was paid")
    currency: str = currency()


class CloseMethodResponse(BaseModel):
    paymentMethod: str
    exits: int
    revenueCents: int


class CloseShiftResponse(BaseModel):
    id: int
    openedBy: str
    status: Literal["open", "closed"]
    expectedCashCents: int | None = Field(description="null while open")
    countedCashCents: int | None
    overShortCents: int | None = Field(description="counted − expected: negative is short; null while open")


class DayFiguresResponse(BaseModel):
    """A garage's local day (its timezone), integer cents."""

    ticketsIssued: int = Field(description="tickets issued that day (voided ones too)")
    exits: int = Field(description="paid exits (a voided ticket is never one)")
    revenueCents: int
    byMethod: list[CloseMethodResponse]
    voids: int
    refunds: int = Field(description="refunds given that day, whatever day their payment was")
    refundedCents: int
    netRevenueCents: int = Field(description="revenue − refunded")
    paymentsRefundedCents: int = Field(description="refunded so far of that day's own payments, whenever given")
    lostTickets: int
    lostFeeCents: int
    carsInside: int = Field(description="at the end of the day (now, for today)")
    shiftsClosed: int
    expectedCashCents: int = Field(description="over the shifts closed that day")
    countedCashCents: int
    overShortCents: int
    shifts: list[CloseShiftResponse] = Field(description="the shifts closed that day, then those still open")


class CloseAdjustmentResponse(BaseModel):
    figure: str = Field(examples=["paymentsRefundedCents", "revenueCents:Cash"])
    label: str
    before: int
    after: int
    difference: int


class CloseResponse(BaseModel):
    date: str = Field(examples=["2026-04-10"], description="the garage's local day")
    timezone: str
    closed: bool
    closable: bool = Field(description="the day is over and not closed yet")
    closedAt: datetime | None
    closedBy: str | None
    figures: DayFiguresResponse = Field(description="as closed; the live figures while not closed")
    currentFigures: DayFiguresResponse = Field(description="computed now")
    adjustments: list[CloseAdjustmentResponse] = Field(
        description="after-close adjustments: each figure that changed since the close")
    currency: str = currency()


class ValidateRequest(Request):
    validationCode: str = Field(min_length=1, max_length=64, examples=["CINEMA-0001"],
                                description="the code the merchant handed out (only its ASCII letters and digits count; case, spaces, "
                                            "dashes and anything else do not matter)")


class ProgramCreate(Request):
    name: str = Field(min_length=1, max_length=80, examples=["Cinema"])
    merchant: str = Field(default="", max_length=80, examples=["Odeon"])
    kind: Literal["free_minutes", "flat_price", "amount_off", "percent_off"] = Field(
        description="free_minutes: value minutes free; flat_price: the time fee is at most value cents; "
                    "amount_off: value cents off; percent_off: value % off (all of the time fee only)")
    value: whole(1, 1_000_000) = Field(examples=[180])  # type: ignore[valid-type]
    validFrom: str | None = Field(default=None, description="first valid local date, YYYY-MM-DD; null: open",
                                  pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    validUntil: str | None = Field(default=None, description="last valid local date, YYYY-MM-DD; null: open",
                                   pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    usageCap: whole(1, 10_000_000) | None = Field(default=None, description="tickets it may validate; null: no cap")  # type: ignore[valid-type]
    stacks: bool = Field(default=False, description="may be given with other stacking validations on one ticket")
    codes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1000, examples=[["CIN-0001", "CIN-0002"]])
    reusable: bool = Field(default=False, description="each code may validate many tickets (else once)")


class ProgramResponse(BaseModel):
    id: int
    name: str
    merchant: str
    kind: str
    value: int
    terms: str = Field(description="the terms in words")
    validFrom: str | None
    validUntil: str | None
    usageCap: int | None
    usedCount: int = Field(description="tickets validated so far")
    stacks: bool
    active: bool
    codes: int
    codesUsed: int
    currency: str = currency()


class ProgramFiguresResponse(BaseModel):
    programId: int
    name: str
    merchant: str
    tickets: int = Field(description="validated tickets paid in the period")
    valueGiven: int = Field(description="cents taken off their fees: what the merchant is billed")
    currency: str = currency()


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PlateText = Annotated[str, Field(min_length=1, max_length=40)]


class PermitCreate(Request):
    holder: str = Field(min_length=1, max_length=80, examples=["Jane Doe"])
    contact: str = Field(default="", max_length=120, examples=["jane@example.com"])
    plates: list[PlateText] = Field(min_length=1, max_length=10, examples=[["B-XY 123"]],  # type: ignore[valid-type]
                                    description="1 to the garage's permitMaxPlates (5 unless set; at most 10); "
                                                "one car of the permit inside at a time")
    validFrom: str = Field(pattern=DATE_PATTERN, description="first local day, YYYY-MM-DD")
    validUntil: str = Field(pattern=DATE_PATTERN, description="last local day (included), YYYY-MM-DD")
    price: whole(0, 10_000_000) = Field(description="cents: the sale, recorded as revenue")  # type: ignore[valid-type]
    paymentMethod: PaymentMethod = Field(default="Cash")  # type: ignore[valid-type]


class PermitUpdate(Request):
    """Only the fields sent are changed (a renewal, which is paid, is POST /permits/<id>/renew)."""
    holder: str = optional(min_length=1, max_length=80)
    contact: str = optional(max_length=120)
    plates: list[PlateText] = optional(min_length=1, max_length=10)  # type: ignore[valid-type]
    status: Literal["active", "suspended"] = optional(description="suspended: not admitted as a permit holder")
    validFrom: str = optional(pattern=DATE_PATTERN, description="a correction of the first day")
    validUntil: str = optional(pattern=DATE_PATTERN, description="a correction of the last day")


class PermitRenew(Request):
    months: whole(1, 12) = Field(default=1, description="calendar months from the day after the current end "  # type: ignore[valid-type]
                                                       "(from today if it has ended)")
    validUntil: str | None = Field(default=None, pattern=DATE_PATTERN, description="instead of months: the new last day")
    price: whole(0, 10_000_000) | None = Field(default=None, description="cents; null: the permit's price")  # type: ignore[valid-type]
    paymentMethod: PaymentMethod = Field(default="Cash")  # type: ignore[valid-type]


class PermitResponse(BaseModel):
    id: int
    number: str = Field(examples=["P-00012"])
    holder: str
    contact: str
    plates: list[str]
    status: Literal["active", "suspended"]
    state: Literal["valid", "expired", "suspended", "not_yet_valid"] = Field(description="today, in the garage")
    validFrom: str
    validUntil: str
    price: int = Field(description="cents: its latest sale or renewal")
    carInside: str | None = Field(default=None, description="the plate of its car inside, if any")
    currency: str = currency()


class PermitMatchResponse(BaseModel):
    permitId: int
    number: str
    holder: str
    state: Literal["valid", "expired", "suspended", "not_yet_valid", "car_inside"]
    admitted: bool = Field(description="entered as a permit holder (pays nothing while the permit is valid)")
    message: str | None = Field(description="why not, in words, when not admitted")


TicketResponse.model_rebuild()  # its `permit` names PermitMatchResponse, defined above


class StatusResponse(BaseModel):
    status: str = "ok"


class ErrorResponse(BaseModel):
    message: str
