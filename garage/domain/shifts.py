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
from .money import format_money
from .words import Text, _

CASH = "Cash"  # the payment method that goes into the drawer (garage/domain/tickets.PAYMENT_METHODS)

# The garage's currency's notes and coins, largest first, in cents. A simple USD list for now
# (configurable per garage later): $100, $50, $20, $10, $5, $2, $1, 50¢, 25¢, 10¢, 5¢, 1¢.
USD_DENOMINATIONS: tuple[int, ...] = (10000, 5000, 2000, 1000, 500, 200, 100, 50, 25, 10, 5, 1)

MAX_FLOAT_CENTS = 10_000_00  # $10,000: a drawer's float
MAX_COUNTED_CENTS = 1_000_000_00  # $1,000,000: a drawer's counted cash
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


def denomination_label(cents: int) -> str:
    """10000 → "$100", 25 → "25¢"."""
    return f"${cents // 100}" if cents >= 100 else f"{cents}¢"


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


def count_denominations(counts: Mapping[Any, Any], denominations: tuple[int, ...] = USD_DENOMINATIONS,
                        field: str = "countedByDenomination") -> tuple[dict[int, int], int]:
    """A count per denomination ({"2000": 3, "25": 8}: keys are the denomination in cents, as
    text or a number) → (the count per denomination, every denomination listed, largest first;
    the total in cents). An unknown denomination or a count that is not a whole number from 0
    to 100,000 is refused, naming it."""
    known = set(denominations)
    pieces = {d: 0 for d in denominations}
    for key, count in counts.items():
        text = str(key).strip()
        denomination = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None
        if denomination not in known:
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
