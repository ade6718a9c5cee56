"""How an audit event's details read on /admin/audit: words for the keys, dollars
for money, a stay as hours and minutes. The stored JSON keeps integer cents and
the API's names (exports and integrations read it as it is); only the page
translates: labels and words are Text (garage/domain/words.py), read in the reader's language where
the page shows them; moments in the reader's format (garage/i18n.py). No database."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from datetime import datetime

from ..domain.permits import number_of as permit_number
from ..domain.clock import format_duration
from ..domain.money import format_money
from ..domain import rate_periods
from ..domain.shifts import denomination_label
from ..domain.tax import format_percent
from ..domain.tickets import format_receipt_number
from ..domain.words import N_, _
from ..i18n import format_datetime

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
    "amountCents": N_("amount"), "timeFeeCents": N_("time fee"), "lostFeeCents": N_("lost-ticket fee"),
    "paymentMethod": N_("payment"), "durationMinutes": N_("stay"), "lost": N_("lost ticket"), "vehicleType": N_("vehicle"),
    "hourlyRate": N_("hourly rate"), "dailyMaxCents": N_("daily maximum"), "lostTicketFeeCents": N_("lost-ticket fee"),
    "lostTicketMode": N_("lost-ticket fee mode"), "graceMinutes": N_("grace period"), "totalSpaces": N_("total spaces"),
    "garageName": N_("garage name"), "almostFullPercent": N_("almost full at"), "vehicleRates": N_("vehicle rates"),
    "prefix": N_("token"), "garageAddress": N_("address"), "taxRateBp": N_("tax rate"), "taxId": N_("tax/VAT id"),
    "receiptNumber": N_("receipt"), "shiftId": N_("shift"), "floatCents": N_("float"), "cashPaymentsCents": N_("cash payments"),
    "cashRefundsCents": N_("cash refunds"), "expectedCashCents": N_("expected cash"), "countedCashCents": N_("counted cash"),
    "overShortCents": N_("over/short"), "countedByDenomination": N_("counted by denomination"), "closedAt": N_("closed at"),
    "plate": N_("plate"), "reason": N_("reason"), "refundedTotalCents": N_("refunded in all"), "refundId": N_("refund"),
    "enteredAt": N_("entered at"), "voidWindowMinutes": N_("void window (minutes)"),
    "paymentsRequireShift": N_("payments need a shift"), "revenueCents": N_("revenue"), "refundedCents": N_("refunded"),
    "permitId": N_("permit"), "holder": N_("holder"), "validFrom": N_("valid from"), "validUntil": N_("valid until"),
    "plates": N_("plates"), "priceCents": N_("price"), "from": N_("from"), "until": N_("until"), "reservedSpaces": N_("reserved spaces"),
    "permitPolicy": N_("invalid permit"),
    "language": N_("language"), "locale": N_("formats"), "user": N_("user"), "role": N_("role"),
    "priceRule": N_("price rule"), "ratePeriods": N_("rate periods"), "pricingChoice": N_("price chosen"),
}


@dataclass(frozen=True)
class DetailLine:
    label: str
    text: str  # the value; for a change, the value before
    after: str | None = None  # for a change: the value after


# Moments stored as ISO text in the details (a shift's before/after): shown in the garage's timezone,
# as the page's "When" column shows the event's own time.
MOMENTS = frozenset({"closedAt", "enteredAt"})


NONE = N_("none")
# Values that are a table's English key (payment methods and vehicle types: garage/domain/tickets.py
# marks them; a role: the top bar's words): shown translated.
TABLE_LABELS = frozenset({"paymentMethod", "vehicleType", "role"})


def value_text(key: str, value: Any, tz: str = "UTC") -> str:
    if value is None or (key in NONE_WHEN_ZERO and value == 0 and not isinstance(value, bool)):
        return _(NONE)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in TABLE_LABELS and isinstance(value, str):  # a payment method, a vehicle type: their table's label
        return _(value)
    if key in MONEY and isinstance(value, int):
        return format_money(value)
    if key == "vehicleRates" and isinstance(value, Mapping):
        return ", ".join(f"{kind} {value_text('hourlyRate', rate)}" for kind, rate in value.items()) or _(NONE)
    if key in ("durationMinutes", "graceMinutes") and isinstance(value, int):
        return format_duration(value)
    if key == "almostFullPercent" and isinstance(value, int):
        return f"{value} %"
    if key == "taxRateBp" and isinstance(value, int):
        return format_percent(value)
    if key in ("garageAddress", "taxId") and isinstance(value, str):
        return ", ".join(value.splitlines()) or _(NONE)
    if key == "receiptNumber" and isinstance(value, int):
        return format_receipt_number(value)
    if key == "permitId" and isinstance(value, int) and not isinstance(value, bool):
        return permit_number(value)
    if key == "plates" and isinstance(value, list):
        return ", ".join(map(str, value)) or _(NONE)
    if key in MOMENTS and isinstance(value, str):
        return _moment_text(value, tz)
    if key == "countedByDenomination" and isinstance(value, Mapping):
        return _pieces_text(value)
    if key == "ratePeriods" and isinstance(value, list):
        return "; ".join(rate_periods.words(p) for p in rate_periods.parse(value)[0]) or _(NONE)
    return str(value)


def _moment_text(value: str, tz: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment_text(moment, tz) if moment.tzinfo else value


def moment_text(moment: datetime, tz: str) -> str:
    """A moment of the trail in the garage's timezone, to the second, in the reader's format
    ("Dec 6, 2026, 2:45:00 PM" / "06.12.2026, 14:45:00"): the page's "When" column and the details."""
    return format_datetime(moment, tz, "yMMMdHms")


def _pieces_text(counts: Mapping[Any, Any]) -> str:
    """{"10000": 10, "5000": 0, "100": 3} → "10 × $100, 3 × $1": the largest first, zero counts left out."""
    pieces = []
    for key, count in counts.items():
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and isinstance(count, int)
                and not isinstance(count, bool)):
            return str(dict(counts))  # not what the app stores: shown as it is
        if count:
            pieces.append((int(key), count))
    return ", ".join(f"{n} × {denomination_label(d)}" for d, n in sorted(pieces, reverse=True)) or _(NONE)


def label(key: str) -> str:
    """A detail's key in words (the reader's language); a key of no label as it is."""
    return _(LABELS[key]) if key in LABELS else key


@dataclass(frozen=True)
class Details:
    lines: list[DetailLine]
    change: bool = False  # a before/after record: the lines are what changed (none: "no change")


def event_details(details: Any, tz: str = "UTC") -> Details:
    """One line per detail; for a before/after record (settings.changed, a shift adjusted or
    reopened), one line per key that changed, with both values, after the record's other details
    (a shift's reason). No lines when there is nothing to show. Moments read in `tz` (the garage's)."""
    if not isinstance(details, Mapping):  # the app stores objects; anything else is shown as it is
        return Details([DetailLine(_("details"), str(details))] if details is not None else [])
    before, after = details.get("before"), details.get("after")
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        besides = [DetailLine(label(k), value_text(k, v, tz)) for k, v in details.items() if k not in ("before", "after")]
        return Details(besides + [DetailLine(label(k), value_text(k, old, tz), value_text(k, after.get(k), tz))
                                  for k, old in before.items() if after.get(k) != old], change=True)
    return Details([DetailLine(label(k), value_text(k, v, tz)) for k, v in details.items()])
