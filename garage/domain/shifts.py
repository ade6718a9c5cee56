"""Shifts and the cash drawer (issue 18): the arithmetic of a close-out and what may be typed.

An attendant opens a shift with a starting float; every payment taken belongs to it. At the
close the drawer is counted (a total, or a count per denomination) and compared with what
should be there:

    expected cash = float + cash payments − cash refunds
    over/short    = counted − expected   (positive: over, negative: short)

Both are recorded with the shift and never adjusted silently: a manager's adjustment or
reopening is an audited event of its own. Money is integer cents. Pure Python.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import Conflict, InvalidInput
from .money import current_currency, exponent, format_money, format_whole_major, minor_to_major
from .words import Text, _

CASH = "Cash"  # the payment method that goes into the drawer (garage/domain/tickets.PAYMENT_METHODS)

# The notes and coins of a garage's currency, largest first, in its minor units (what a drawer is
# counted in, issue 22). USD: $100, $50, $20, $10, $5, $2, $1, 50¢, 25¢, 10¢, 5¢, 1¢. A currency not
# listed has none: its drawer is counted by amount (the total) only.
USD_DENOMINATIONS: tuple[int, ...] = (10000, 5000, 2000, 1000, 500, 200, 100, 50, 25, 10, 5, 1)
EUR_DENOMINATIONS: tuple[int, ...] = (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)
JPY_DENOMINATIONS: tuple[int, ...] = (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1)
DENOMINATIONS: dict[str, tuple[int, ...]] = {
    "USD": USD_DENOMINATIONS, "EUR": EUR_DENOMINATIONS, "JPY": JPY_DENOMINATIONS,
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "CHF": (100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
    "CAD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5),
    "AUD": (10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
}


def denominations_of(currency: str | None = None) -> tuple[int, ...]:
    """The notes and coins of `currency` (the context's: the garage's), largest first; () for a
    currency without a list: "count by amount"."""
    return DENOMINATIONS.get(currency or current_currency(), ())


MAX_FLOAT_CENTS = 10_000_00  # $10,000: a drawer's float
# A drawer's counted cash: whatever it can hold. Its cash is a sum of payments, each up to what a payment
# records (64-bit columns, migration 0021): a cap of $1,000,000 (100,000,000 minor units) left a JPY drawer of
# ¥104,400,000 closable only with a false count. A typed slip shows as over/short; a manager adjusts it.
MAX_COUNTED_CENTS = 10**15
MAX_PIECES = 100_000  # of one denomination

NO_SHIFT_MESSAGE = _("Open a shift before taking payments")
ALREADY_OPEN_MESSAGE = _("You already have an open shift at this garage")
CLOSED_MESSAGE = _("This shift is closed")
NOT_CLOSED_MESSAGE = _("Only a closed shift can be reopened or adjusted")
REASON_MESSAGE = _("Give a reason (it is kept in the audit log)")
REASON_MAX = 500


class ShiftRequired(Conflict):
    """The garage requires an open shift for payments and the payer has none (409)."""

    def __init__(self) -> None:
        super().__init__(NO_SHIFT_MESSAGE, field="shift")


class ShiftAlreadyOpen(Conflict):
    def __init__(self) -> None:
        super().__init__(ALREADY_OPEN_MESSAGE, field="shift")


class ShiftClosed(Conflict):
    def __init__(self) -> None:
        super().__init__(CLOSED_MESSAGE, field="shift")


def denomination_label(minor: int, currency: str | None = None) -> str:
    """A note or coin of the garage's currency: 10000 → "$100", 25 → "25¢" (USD); 50000 → "500 €",
    50 → "0,50 €" (EUR, de_DE); 10000 → "￥10,000" (JPY)."""
    currency = currency or current_currency()
    if currency == "USD" and minor < 100:
        return f"{minor}¢"
    return format_whole_major(minor_to_major(minor, currency), currency)


def check_float(cents: Any, field: str = "floatCents") -> int:
    """The starting float: whole cents, $0 to $10,000."""
    if isinstance(cents, bool) or not isinstance(cents, int) or not 0 <= cents <= MAX_FLOAT_CENTS:
        raise InvalidInput(_("The float must be from %(min)s to %(max)s", min=format_money(0),
                             max=format_money(MAX_FLOAT_CENTS)), field=field)
    return cents


def check_counted(cents: Any, field: str = "countedCashCents") -> int:
    """A counted total: whole cents, $0 to $1,000,000."""
    if isinstance(cents, bool) or not isinstance(cents, int) or not 0 <= cents <= MAX_COUNTED_CENTS:
        raise InvalidInput(_("The counted cash must be from %(min)s to %(max)s", min=format_money(0),
                             max=format_money(MAX_COUNTED_CENTS)), field=field)
    return cents


def count_denominations(counts: Mapping[Any, Any], denominations: tuple[int, ...] | None = None,
                        field: str = "countedByDenomination") -> tuple[dict[int, int], int]:
    """A count per denomination ({"2000": 3, "25": 8}: keys are the denomination in minor units, as
    text or a number) → (the count per denomination, every denomination listed, largest first;
    the total in minor units). `denominations`: the garage's currency's (denominations_of) unless
    given. An unknown denomination or a count that is not a whole number from 0 to 100,000 is
    refused, naming it; a currency without denominations is counted by amount only."""
    if denominations is None:
        denominations = denominations_of()
    if not denominations:
        raise InvalidInput(_("This garage's currency has no list of notes and coins: count the drawer by amount"),
                           field=field)
    if not counts:  # {}: no count at all, not an empty drawer (a shift closed so read ¥0 against ¥2.1 billion)
        raise InvalidInput(_("Give the count of at least one note or coin (0 for none), or the counted total"),
                           field=field)
    known = set(denominations)
    pieces = {d: 0 for d in denominations}
    for key, count in counts.items():
        text = str(key).strip()
        denomination = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None
        if denomination not in known:
            if exponent() != 2:  # yen, fils: no "cents"
                raise InvalidInput(_("%(key)s is not a denomination: use one of %(denominations)s",
                                     key=repr(str(key)[:20]), denominations=", ".join(map(str, denominations))),
                                   field=field)
            raise InvalidInput(_("%(key)s is not a denomination: use cents, one of %(denominations)s",
                                 key=repr(str(key)[:20]), denominations=", ".join(map(str, denominations))),
                               field=field)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_PIECES:
            raise InvalidInput(_("The count of %(denomination)s must be a whole number from 0 to %(max)s",
                                 denomination=denomination_label(denomination), max=format(MAX_PIECES, ",")),
                               field=field)
        pieces[denomination] += count
    total = sum(d * n for d, n in pieces.items())
    check_counted(total, field)
    return pieces, total


# Bidirectional embeddings, overrides and isolates: in a reason they would make the audit log show
# text in another order than it was typed (U+202A-U+202E, U+2066-U+2069).
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def _visible(ch: str) -> bool:
    """A letter, digit, punctuation mark or symbol (not a space, a format character or a filler)."""
    return unicodedata.category(ch)[0] in "LNPS" and ch not in "\u3164\u115f\u1160\uffa0\u2800"


def check_reason(reason: Any, field: str = "reason") -> str:
    """A reason someone can read in the audit log: something visible in it (blank, or only
    invisible characters such as a zero-width space, is no reason), no text-direction controls."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not any(_visible(ch) for ch in text):
        raise InvalidInput(REASON_MESSAGE, field=field)
    if any(ch in _BIDI_CONTROLS for ch in text):
        raise InvalidInput(_("The reason may not contain text-direction control characters"), field=field)
    if len(text) > REASON_MAX:
        raise InvalidInput(_("The reason may be at most %(max)d characters", max=REASON_MAX), field=field)
    return text


def expected_cash(float_cents: int, cash_payments_cents: int, cash_refunds_cents: int = 0) -> int:
    """What the drawer should hold: the float plus the cash taken, less the cash given back."""
    return float_cents + cash_payments_cents - cash_refunds_cents


def over_short(counted_cents: int, expected_cents: int) -> int:
    """Positive: more in the drawer than expected (over); negative: less (short)."""
    return counted_cents - expected_cents


def over_short_text(cents: int) -> Text:
    """+150 → "over by $1.50", -2000 → "short by $20.00", 0 → "balanced"."""
    if cents == 0:
        return _("balanced")
    if cents > 0:
        return _("over by %(amount)s", amount=format_money(cents))
    return _("short by %(amount)s", amount=format_money(-cents))


@dataclass(frozen=True)
class CloseOut:
    """A shift's close-out figures (what the close records)."""

    float_cents: int
    cash_payments_cents: int
    cash_refunds_cents: int
    counted_cents: int

    @property
    def expected_cents(self) -> int:
        return expected_cash(self.float_cents, self.cash_payments_cents, self.cash_refunds_cents)

    @property
    def over_short_cents(self) -> int:
        return over_short(self.counted_cents, self.expected_cents)
