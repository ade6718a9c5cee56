"""Money as text, and text as money. Amounts are integer cents everywhere else;
this module is the one place that turns them into what people read or type.
Pure Python: no Flask, no database.

- :func:`format_money`: cents for display, ``123450`` → ``"$1,234.50"``.
- :func:`format_major_amount`: a computed dollar figure (an average, a chart
  value) for display, ``12.345`` → ``"$12.35"``; :func:`format_whole_major`
  the same for chart ticks, without cents when there are none.
- :func:`minor_to_major`: cents as a number of dollars (JSON, chart values).
- :func:`minor_to_decimal`: cents as a plain decimal for CSV cells and form
  fields, ``123450`` → ``"1234.50"`` (no sign, no separators).
- :func:`parse_money`: what someone typed in dollars → cents.
"""
from __future__ import annotations

import re


def minor_to_major(cents: float | None) -> float | None:
    """1050 → 10.5 (a float: for JSON and charts, never for arithmetic); None → None."""
    return None if cents is None else cents / 100


def format_money(cents: int) -> str:
    """1234 → "$12.34"; 123456789 → "$1,234,567.89"; -500 → "-$5.00"."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def format_major_amount(dollars: float) -> str:
    """A dollar figure that need not be whole cents (an average ticket), to the cent; a negative one
    (net revenue after refunds) as "-$3.00", like format_money."""
    return f"-${-dollars:,.2f}" if dollars < 0 else f"${dollars:,.2f}"


def format_whole_major(dollars: float) -> str:
    """A chart tick: "$40" for a whole number of dollars, else to the cent."""
    return f"${dollars:,.0f}" if dollars == int(dollars) else format_major_amount(dollars)


def minor_to_decimal(cents: int | None) -> str:
    """1250 → "12.50" (no currency sign, no thousands separator): for CSV cells and
    the dollars a form field shows; None → ""."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


_DOLLARS = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3}){1,2}|\d{0,9})(?:\.(\d{1,2}))?$", re.ASCII)


def parse_money(text: str) -> int:
    """"10", "10.5", "10.50", ".50", "$10", "1,000.00" → cents. ValueError
    otherwise (negative amounts, more than two decimals, letters, empty)."""
    match = _DOLLARS.match((text or "").strip())
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"not an amount in dollars: {text!r}")
    whole, frac = match.groups()
    return int(whole.replace(",", "") or "0") * 100 + int((frac or "0").ljust(2, "0"))
