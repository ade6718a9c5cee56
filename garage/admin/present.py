"""How an audit event's details read on /admin/audit: words for the keys, dollars
for money, a stay as hours and minutes. The stored JSON keeps integer cents and
the API's names (exports and integrations read it as it is); only the page
translates. Plain Python: no Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from datetime import datetime

from ..domain.permits import number_of as permit_number
from ..domain.clock import format_duration, to_local
from ..domain.money import format_money
from ..domain import rate_periods
from ..domain.shifts import denomination_label
from ..domain.tax import format_percent
from ..domain.tickets import format_receipt_number

# Settings snapshots use the column names in camelCase: hourlyRate is cents there
# (unlike the seed API's dollar hourlyRate), as are every *Cents key and vehicleRates.
MONEY = frozenset({"amountCents", "timeFeeCents", "lostFeeCents", "hourlyRate", "dailyMaxCents",
                   "lostTicketFeeCents", "floatCents", "cashPaymentsCents", "cashRefundsCents", "expectedCashCents",
                   "countedCashCents", "overShortCents", "refundedTotalCents", "revenueCents", "refundedCents",
                   "priceCents", "discountCents"})
# Settings whose 0 means "no such fee" (the lost-ticket fee column stores 0 for none, while an absent
# daily maximum is stored as null): both read "none", so one kind of change reads one way
# ("none → $25.00"), in every row ever recorded.
NONE_WHEN_ZERO = frozenset({"lostTicketFeeCents"})
LABELS = {
    "amountCents": "amount", "timeFeeCents": "time fee", "lostFeeCents": "lost-ticket fee",
    "paymentMethod": "payment", "durationMinutes": "stay", "lost": "lost ticket", "vehicleType": "vehicle",
    "hourlyRate": "hourly rate", "dailyMaxCents": "daily maximum", "lostTicketFeeCents": "lost-ticket fee",
    "lostTicketMode": "lost-ticket fee mode", "graceMinutes": "grace period", "totalSpaces": "total spaces",
    "garageName": "garage name", "almostFullPercent": "almost full at", "vehicleRates": "vehicle rates",
    "prefix": "token", "garageAddress": "address", "taxRateBp": "tax rate", "taxId": "tax/VAT id",
    "receiptNumber": "receipt", "shiftId": "shift", "floatCents": "float", "cashPaymentsCents": "cash payments",
    "cashRefundsCents": "cash refunds", "expectedCashCents": "expected cash", "countedCashCents": "counted cash",
    "overShortCents": "over/short", "countedByDenomination": "counted by denomination", "closedAt": "closed at",
    "plate": "plate", "reason": "reason", "refundedTotalCents": "refunded in all", "refundId": "refund",
    "enteredAt": "entered at", "voidWindowMinutes": "void window (minutes)",
    "paymentsRequireShift": "payments need a shift", "revenueCents": "revenue", "refundedCents": "refunded",
    "permitId": "permit", "holder": "holder", "validFrom": "valid from", "validUntil": "valid until",
    "plates": "plates", "priceCents": "price", "from": "from", "until": "until", "reservedSpaces": "reserved spaces",
    "permitPolicy": "invalid permit",
    "priceRule": "price rule", "ratePeriods": "rate periods", "pricingChoice": "price chosen",
}


@dataclass(frozen=True)
class DetailLine:
    label: str
    text: str  # the value; for a change, the value before
    after: str | None = None  # for a change: the value after


# Moments stored as ISO text in the details (a shift's before/after): shown in the garage's timezone,
# as the page's "When" column shows the event's own time.
MOMENTS = frozenset({"closedAt", "enteredAt"})
MOMENT_FORMAT = "%Y-%m-%d %H:%M:%S"


def value_text(key: str, value: Any, tz: str = "UTC") -> str:
    if value is None or (key in NONE_WHEN_ZERO and value == 0 and not isinstance(value, bool)):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in MONEY and isinstance(value, int):
        return format_money(value)
    if key == "vehicleRates" and isinstance(value, Mapping):
        return ", ".join(f"{kind} {value_text('hourlyRate', rate)}" for kind, rate in value.items()) or "none"
    if key in ("durationMinutes", "graceMinutes") and isinstance(value, int):
        return format_duration(value)
    if key == "almostFullPercent" and isinstance(value, int):
        return f"{value} %"
    if key == "taxRateBp" and isinstance(value, int):
        return format_percent(value)
    if key in ("garageAddress", "taxId") and isinstance(value, str):
        return ", ".join(value.splitlines()) or "none"
    if key == "receiptNumber" and isinstance(value, int):
        return format_receipt_number(value)
    if key == "permitId" and isinstance(value, int) and not isinstance(value, bool):
        return permit_number(value)
    if key == "plates" and isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if key in MOMENTS and isinstance(value, str):
        return _moment_text(value, tz)
    if key == "countedByDenomination" and isinstance(value, Mapping):
        return _pieces_text(value)
    if key == "ratePeriods" and isinstance(value, list):
        return "; ".join(rate_periods.words(p) for p in rate_periods.parse(value)[0]) or "none"
    return str(value)


def _moment_text(value: str, tz: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return to_local(moment, tz).strftime(MOMENT_FORMAT) if moment.tzinfo else value


def _pieces_text(counts: Mapping[Any, Any]) -> str:
    """{"10000": 10, "5000": 0, "100": 3} → "10 × $100, 3 × $1": the largest first, zero counts left out."""
    pieces = []
    for key, count in counts.items():
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and isinstance(count, int)
                and not isinstance(count, bool)):
            return str(dict(counts))  # not what the app stores: shown as it is
        if count:
            pieces.append((int(key), count))
    return ", ".join(f"{n} × {denomination_label(d)}" for d, n in sorted(pieces, reverse=True)) or "none"


def label(key: str) -> str:
    return LABELS.get(key, key)


@dataclass(frozen=True)
class Details:
    lines: list[DetailLine]
    change: bool = False  # a before/after record: the lines are what changed (none: "no change")


def event_details(details: Any, tz: str = "UTC") -> Details:
    """One line per detail; for a before/after record (settings.changed, a shift adjusted or
    reopened), one line per key that changed, with both values, after the record's other details
    (a shift's reason). No lines when there is nothing to show. Moments read in `tz` (the garage's)."""
    if not isinstance(details, Mapping):  # the app stores objects; anything else is shown as it is
        return Details([DetailLine("details", str(details))] if details is not None else [])
    before, after = details.get("before"), details.get("after")
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        besides = [DetailLine(label(k), value_text(k, v, tz)) for k, v in details.items() if k not in ("before", "after")]
        return Details(besides + [DetailLine(label(k), value_text(k, old, tz), value_text(k, after.get(k), tz))
                                  for k, old in before.items() if after.get(k) != old], change=True)
    return Details([DetailLine(label(k), value_text(k, v, tz)) for k, v in details.items()])
