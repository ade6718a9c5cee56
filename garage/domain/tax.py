"""Sales tax / VAT on receipts. Pure Python: no Flask, no database.

Prices include the tax (the default: the fee a driver pays is the total, and a receipt shows how
much of it is tax), or, where the garage says so (``garages.tax_added``, issue 22), the tax is
**added** to the price: the driver pays the price plus ``added_tax(price, rate)`` and the receipt
shows the net price, the tax and the total (``split``). A rate is stored as integer **basis points** (1 % = 100 bp, so
19 % is 1900 and 7.25 % is 725); 0 means no tax line.

The rounding rule (one place, every receipt): the tax included in a total of ``T``
cents at rate ``r`` bp is ``T * r / (10000 + r)`` cents, rounded **half-up** to the
cent (``.5`` goes up), in integer arithmetic. So it is never more than the total,
0 at a 0 rate, and never smaller for a larger total (tests/domain/test_tax.py).

- :func:`included_tax`: the tax included in a total.
- :func:`added_tax`: the tax added on top of a net price (half-up); :func:`split`: a paid total back
  into (net, tax) in either mode, exactly (the added total is strictly increasing in the net price).
- :func:`parse_percent`: what a manager typed ("19", "7.25", "19 %") → basis points.
- :func:`format_percent`: basis points for people ("19 %", "7.25 %"); :func:`percent_text`
  the same without the sign, for a form field ("19", "7.25").
- :func:`included_line`: the receipt's line, "incl. VAT 19 %: $1.60" (translated where shown: "inkl. MwSt.")
"""
from __future__ import annotations

import re

from .money import format_money
from .words import Text, _

BP_PER_PERCENT = 100
WHOLE = 100 * BP_PER_PERCENT  # 100 % in basis points
MAX_RATE_BP = WHOLE  # the settings accept 0 to 100 %

_PERCENT = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?\s*%?$", re.ASCII)


def included_tax(total_cents: int, rate_bp: int) -> int:
    """The tax included in a tax-inclusive total, in cents, rounded half-up.
    1190 at 1900 bp (19 %) → 190; 1000 at 1900 → 160 (159.66 rounds up); 0 bp → 0."""
    if total_cents < 0 or rate_bp < 0:
        raise ValueError("a total and a tax rate cannot be negative")
    if rate_bp == 0:
        return 0
    denominator = WHOLE + rate_bp
    # floor(T*r/d + 1/2) == floor((2*T*r + d) / (2*d)): exact, no float
    return (2 * total_cents * rate_bp + denominator) // (2 * denominator)


def added_tax(net_cents: int, rate_bp: int) -> int:
    """The tax added to a net price, rounded half-up: 1000 at 1900 bp → 190; 1003 at 1900 → 191
    (190.57); 0 bp → 0."""
    if net_cents < 0 or rate_bp < 0:
        raise ValueError("a price and a tax rate cannot be negative")
    return (2 * net_cents * rate_bp + WHOLE) // (2 * WHOLE)


def split(total_cents: int, rate_bp: int | None, added: bool) -> tuple[int, int]:
    """A paid total as (net, tax). Included: the tax included in it. Added: the net price whose price
    plus added tax is the total (found exactly: ``net + added_tax(net)`` grows by at least 1 per
    cent of net, so one net price gives each total it can give; a total no net price gives — not
    one this app charged — is split as included)."""
    if not rate_bp:
        return total_cents, 0
    if added:
        guess = total_cents * WHOLE // (WHOLE + rate_bp)
        for net in (guess, guess + 1, guess - 1):
            if net >= 0 and net + added_tax(net, rate_bp) == total_cents:
                return net, total_cents - net
    tax = included_tax(total_cents, rate_bp)
    return total_cents - tax, tax


def parse_percent(text: str) -> int:
    """"19", "19.5", "7.25", "7,25", "19 %", "" (none: 0) → basis points. ValueError
    for anything else: more than two decimals, a sign, letters."""
    text = (text or "").strip()
    if text == "":
        return 0
    match = _PERCENT.match(text)
    if not match:
        raise ValueError(f"not a percentage: {text!r}")
    whole, frac = match.groups()
    return int(whole) * BP_PER_PERCENT + int((frac or "0").ljust(2, "0"))


def percent_text(rate_bp: int) -> str:
    """1900 → "19", 725 → "7.25", 750 → "7.5", 0 → "0"."""
    whole, frac = divmod(rate_bp, BP_PER_PERCENT)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") if frac else str(whole)


def format_percent(rate_bp: int) -> str:
    """1900 → "19 %", 725 → "7.25 %"."""
    return f"{percent_text(rate_bp)} %"


def included_line(total_cents: int, rate_bp: int | None, added: bool = False) -> Text | None:
    """The receipt's tax line: "incl. VAT 19 %: $1.60" (prices include it) or "Net $10.00 + VAT
    19 %: $1.90" (added to the price); None without a rate (0, or a ticket paid before tax rates
    were recorded)."""
    if not rate_bp:
        return None
    net, tax = split(total_cents, rate_bp, added)
    if added:
        return _("Net %(net)s + VAT %(rate)s: %(amount)s", net=format_money(net), rate=format_percent(rate_bp),
                 amount=format_money(tax))
    return _("incl. VAT %(rate)s: %(amount)s", rate=format_percent(rate_bp), amount=format_money(tax))
