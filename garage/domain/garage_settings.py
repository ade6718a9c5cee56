"""What a garage setting may be: limits and messages, without Flask or a database.

:func:`check` returns every problem at once, keyed by the setting's name
(the model attribute), so a form can show each message next to its field."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import available_timezones

from .amendments import MAX_VOID_WINDOW_MINUTES
from .errors import InvalidInput
from .money import format_money
from .permits import MAX_PLATES as PERMIT_MAX_PLATES, POLICIES as PERMIT_POLICIES
from .pricing import LOST_MODES
from . import rate_periods
from .tax import MAX_RATE_BP
from .tickets import VEHICLE_TYPES
from .words import Text, _, listed

MAX_SPACES = 100_000
MAX_RATE_CENTS = 100_000          # $1,000 per hour
MAX_DAILY_CENTS = 1_000_000       # $10,000 per day
MAX_LOST_FEE_CENTS = 1_000_000
MAX_GRACE_MINUTES = 1440
NAME_MAX = 80
# The receipt's header: a short postal address (a few lines of an 80 mm slip) and a tax/VAT id.
ADDRESS_LINES = 4
ADDRESS_LINE_MAX = 60
ADDRESS_MAX = ADDRESS_LINES * (ADDRESS_LINE_MAX + 1)  # the column's length, line breaks included
TAX_ID_MAX = 32

# Offered in the settings form (any other IANA name may be typed).
COMMON_TIMEZONES = (
    "UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Toronto",
    "America/Vancouver", "America/Mexico_City", "America/Sao_Paulo", "Europe/London",
    "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
    "Europe/Rome", "Europe/Amsterdam", "Europe/Zurich", "Europe/Warsaw", "Europe/Athens",
    "Europe/Istanbul", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
)

SETTING_NAMES = ("total_spaces", "hourly_rate", "vehicle_rates", "grace_minutes", "daily_max_cents",
                 "lost_ticket_fee_cents", "lost_ticket_mode", "garage_name", "timezone",
                 "almost_full_percent", "garage_address", "tax_rate_bp", "tax_id", "void_window_minutes",
                 "payments_require_shift", "reserved_spaces", "permit_policy", "rate_periods", "pricing_choice",
                 "permit_max_plates")
PRICING_CHOICE_MESSAGE = _("Choose whether drivers pay the lowest price that applies (lowest) or the first "
                           "flat price listed that applies (first)")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


# Areas of the tz database that are no region: fixed offsets whose sign reads backwards (Etc/GMT+5 is
# five hours BEHIND UTC), and the copies some systems install (posix/..., right/... with leap seconds).
NOT_REGIONS = frozenset({"Etc", "posix", "right", "SystemV"})
TIMEZONE_MESSAGE = _("Unknown timezone: use UTC or a region's IANA name (Area/Location) "
                     "such as Europe/Berlin or America/New_York")


def is_timezone(name: str) -> bool:
    """THE rule of a garage's timezone: "UTC", or a region's IANA name, Area/Location (Europe/Berlin,
    America/Argentina/Salta, the old US/Eastern too) that zoneinfo knows. Refused although zoneinfo
    has them: "localtime" (the server's own clock, whatever it is set to), "Factory", POSIX rules
    ("EST5EDT", "GMT0", "CET", "MST"), countries' aliases ("Japan", "GB") and Etc/ offsets."""
    if name == "UTC":
        return True
    area, slash, _rest = name.partition("/")
    return bool(slash) and area not in NOT_REGIONS and name in _zones()


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _range(value: Any, low: int, high: int) -> bool:
    return _whole(value) and low <= value <= high


def clean_address(text: str) -> str:
    """The address as stored: each line trimmed, blank lines dropped, lines joined by "\n"
    (whatever line breaks were typed). Not a string: returned as it is, for check() to refuse."""
    if not isinstance(text, str):
        return text
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _printable_text(value: Any, most: int) -> bool:
    return isinstance(value, str) and len(value) <= most and value.isprintable()


def check(changes: Mapping[str, Any]) -> dict[str, str]:
    """Problems with the given settings (only those present); empty when all are valid.
    Vehicle-rate problems are keyed ``vehicle_rates.<type>``."""
    errors: dict[str, str] = {}
    for name in changes:
        if name not in SETTING_NAMES:
            errors[name] = _("Unknown setting %(name)s", name=name)
    if "total_spaces" in changes and not _range(changes["total_spaces"], 1, MAX_SPACES):
        spaces = changes["total_spaces"]
        errors["total_spaces"] = (_("Total spaces must be a whole number") if not _whole(spaces)
                                  else _("Total spaces must be at least 1") if spaces < 1
                                  else _("Total spaces can be at most %(most)s", most=format(MAX_SPACES, ",")))
    if "hourly_rate" in changes and not _range(changes["hourly_rate"], 0, MAX_RATE_CENTS):
        errors["hourly_rate"] = _("The hourly rate must be from %(low)s to %(high)s", low=format_money(0),
                                  high=format_money(MAX_RATE_CENTS))
    rates = changes.get("vehicle_rates")
    if "vehicle_rates" in changes and not isinstance(rates, Mapping):
        errors["vehicle_rates"] = _("Vehicle rates must map a vehicle type to cents per hour")
    elif rates:
        for kind, rate in rates.items():
            if kind not in VEHICLE_TYPES:
                errors[f"vehicle_rates.{kind}"] = _("Unknown vehicle type; use one of: %(types)s",
                                                    types=", ".join(VEHICLE_TYPES))
            elif rate is not None and not _range(rate, 0, MAX_RATE_CENTS):
                errors[f"vehicle_rates.{kind}"] = _(
                    "The %(vehicle_type)s rate must be from %(low)s to %(high)s (or empty for the default rate)",
                    vehicle_type=Text(kind), low=format_money(0), high=format_money(MAX_RATE_CENTS))
    if "grace_minutes" in changes and not _range(changes["grace_minutes"], 0, MAX_GRACE_MINUTES):
        errors["grace_minutes"] = _("The grace period must be a whole number of minutes from 0 to %(most)d",
                                    most=MAX_GRACE_MINUTES)
    daily = changes.get("daily_max_cents")
    if daily is not None and not _range(daily, 1, MAX_DAILY_CENTS):
        errors["daily_max_cents"] = _("The daily maximum must be from %(low)s to %(high)s (or empty for no maximum)",
                                      low=format_money(1), high=format_money(MAX_DAILY_CENTS))
    if "lost_ticket_fee_cents" in changes and not _range(changes["lost_ticket_fee_cents"], 0, MAX_LOST_FEE_CENTS):
        errors["lost_ticket_fee_cents"] = _("The lost-ticket fee must be from %(low)s to %(high)s",
                                            low=format_money(0), high=format_money(MAX_LOST_FEE_CENTS))
    if "lost_ticket_mode" in changes and changes["lost_ticket_mode"] not in LOST_MODES:
        errors["lost_ticket_mode"] = _("Choose whether the lost-ticket fee replaces or is added to the time fee")
    if "garage_name" in changes:
        name = changes["garage_name"]
        if not isinstance(name, str) or not name.strip():
            errors["garage_name"] = _("Enter the garage's display name")
        elif len(name) > NAME_MAX or not name.isprintable():
            errors["garage_name"] = _("The display name has at most %(most)d printable characters", most=NAME_MAX)
    if "timezone" in changes:
        zone = changes["timezone"]
        if not isinstance(zone, str) or not is_timezone(zone):
            errors["timezone"] = TIMEZONE_MESSAGE
    if "almost_full_percent" in changes and not _range(changes["almost_full_percent"], 1, 100):
        errors["almost_full_percent"] = _("The ALMOST FULL threshold must be a whole percent from 1 to 100")
    if "garage_address" in changes:
        address = clean_address(changes["garage_address"])
        lines = address.split("\n") if isinstance(address, str) else None
        if lines is None or len(lines) > ADDRESS_LINES or not all(_printable_text(ln, ADDRESS_LINE_MAX)
                                                                   for ln in lines):
            errors["garage_address"] = _("The address has at most %(lines)d lines of at most %(most)d printable "
                                         "characters each", lines=ADDRESS_LINES, most=ADDRESS_LINE_MAX)
    if "tax_rate_bp" in changes and not _range(changes["tax_rate_bp"], 0, MAX_RATE_BP):
        errors["tax_rate_bp"] = _("The tax rate must be a percentage from 0 to 100 with at most two decimals,"
                                  " e.g. 19 or 7.25 (0: no tax line)")
    if "tax_id" in changes and not _printable_text(changes["tax_id"], TAX_ID_MAX):
        errors["tax_id"] = _("The tax/VAT id has at most %(most)d printable characters (empty: none)",
                             most=TAX_ID_MAX)
    if "void_window_minutes" in changes and not _range(changes["void_window_minutes"], 0, MAX_VOID_WINDOW_MINUTES):
        errors["void_window_minutes"] = _("The void window must be a whole number of minutes from 0 to %(most)d "
                                          "(0: only managers void tickets)", most=MAX_VOID_WINDOW_MINUTES)
    if "payments_require_shift" in changes and not isinstance(changes["payments_require_shift"], bool):
        errors["payments_require_shift"] = _("Choose whether payments need an open shift")
    if "reserved_spaces" in changes and not _range(changes["reserved_spaces"], 0, MAX_SPACES):
        errors["reserved_spaces"] = _("Reserved spaces must be a whole number from 0 to the garage's spaces")
    if "permit_max_plates" in changes and not _range(changes["permit_max_plates"], 1, PERMIT_MAX_PLATES):
        errors["permit_max_plates"] = _("Plates per permit must be a whole number from 1 to %(most)d",
                                        most=PERMIT_MAX_PLATES)
    if "permit_policy" in changes and changes["permit_policy"] not in PERMIT_POLICIES:
        errors["permit_policy"] = _("Choose whether a car whose permit is not valid enters as a visitor or is "
                                    "refused")
    if "rate_periods" in changes:
        for key, message in rate_periods.parse(changes["rate_periods"])[1].items():
            errors[key if key == "rate_periods" else f"rate_periods.{key}"] = message
    if "pricing_choice" in changes and changes["pricing_choice"] not in rate_periods.CHOICES:
        errors["pricing_choice"] = PRICING_CHOICE_MESSAGE
    return errors


def check_reserved(reserved: int, total_spaces: int) -> dict[str, str]:
    """The cross-field rule: the reserved spaces are some of the garage's spaces (both as they will be)."""
    if reserved > total_spaces:
        return {"reserved_spaces": _("Reserved spaces can be at most the %(total)d spaces of the garage",
                                     total=total_spaces)}
    return {}


class InvalidSettings(InvalidInput):
    """One or more settings are invalid; ``errors`` maps each setting to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors))
        super().__init__(listed(self.errors.values()), field=first)
