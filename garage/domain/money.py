"""Money as text, and text as money, in the garage's currency (issue 22). Amounts are integers in
the currency's minor unit everywhere else (cents for USD and EUR, yen for JPY with no minor unit,
fils for BHD: a thousandth); this module is the one place that turns them into what people read or
type. Pure Python with Babel's CLDR data: no Flask, no database.

Which currency and locale: every function takes ``currency`` (ISO 4217) and ``locale`` (a Babel
locale or its name); left out, they are the context's: the app installs a function
(:func:`set_context`, garage/templating.py) giving the current garage's currency and the reader's
format locale (garage.i18n.format_locale), so a page or a domain message formats ``format_money(1250)``
in the garage's currency. Without one (a script, a unit test): USD and en_US.

- :func:`exponent`: the currency's decimals (Babel): JPY 0, USD/EUR 2, BHD/KWD 3.
- :func:`format_money`: minor units for display: ``123450`` → ``"$1,234.50"`` (en_US, USD),
  ``"1.234,50 €"`` (de_DE, EUR), ``"￥123,450"`` (ja_JP, JPY).
- :func:`format_major_amount`: a computed major-unit figure (an average, a chart value) for display,
  rounded to the currency's decimals; :func:`format_whole_major` the same for chart ticks, without
  decimals when there are none.
- :func:`minor_to_major`: minor units as a number of major units (JSON, chart values).
- :func:`minor_to_decimal`: minor units as a plain dot decimal for CSV cells, ``123450`` →
  ``"1234.50"`` (USD), ``"123450"`` (JPY), ``"123.450"`` (BHD): no sign, no separators.
- :func:`minor_to_input`: the same with the locale's decimal separator, for a form field
  (``"1234,50"`` in de_DE): what :func:`parse_money` reads back unambiguously in that locale.
- :func:`parse_money`: what someone typed in the major unit → minor units.
"""
from __future__ import annotations

from .words import Text, _

import re
from decimal import Decimal, localcontext
from typing import Callable

from babel import Locale
from babel import numbers as babel_numbers

DEFAULT_CURRENCY = "USD"
# The most one payment records: tickets.amount_paid is a 32-bit integer of minor units ($21,474,836.47,
# ¥2,147,483,647). A fee above it is refused before anything is written (pricing.check_recordable).
MAX_PAYMENT_MINOR = 2**31 - 1
# The largest amount a client may say it was quoted (the API's expectedAmount, the desk's hidden field): any
# quote there can be (a fee above MAX_PAYMENT_MINOR is refused by the exit with its reason, so a client that
# echoes such a quote hears that reason); past it, 422, never a float's digits in a message.
MAX_QUOTED_MINOR = 10**15
# The digits parse_money reads in an amount (whole and decimals together): far past any field's range, so a
# well-formed amount too large for its field reaches that field's check and is told the field's range
# ("from $0.00 to $1,000.00"), not a format hint; and bounded, so no typed text makes a huge integer.
WHOLE_DIGITS_READ = 30
_PRECISION = 400  # decimal digits Babel may round to: any amount a message can name, however large
DEFAULT_LOCALE = "en_US"

# () → (the currency, the locale) of the current request; set by the app (garage/templating.py).
_context: Callable[[], tuple[str, Locale | str]] | None = None


def set_context(context: Callable[[], tuple[str, Locale | str]] | None) -> None:
    global _context
    _context = context


def _resolve(currency: str | None, locale: Locale | str | None) -> tuple[str, Locale]:
    if currency is None or locale is None:
        found = _context() if _context is not None else (DEFAULT_CURRENCY, DEFAULT_LOCALE)
        currency = currency or found[0]
        locale = locale or found[1]
    return currency, locale if isinstance(locale, Locale) else Locale.parse(locale)


def current_currency() -> str:
    """The context's currency (USD without one): what a CSV's currency column says."""
    return _resolve(None, None)[0]


def currency_and_locale() -> tuple[str, Locale]:
    """The context's currency and locale, for formatting many amounts with them (reports.present)."""
    return _resolve(None, None)


def exponent(currency: str | None = None) -> int:
    """The currency's number of decimals (CLDR): JPY 0, USD 2, BHD 3; 2 for a code Babel does not know."""
    return babel_numbers.get_currency_precision(currency or current_currency())


def _major(minor: int | float | Decimal, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int, currency: str | None = None, locale: Locale | str | None = None) -> str:
    """1234 → "$12.34" (USD, en_US); 1250 → "12,50 €" (EUR, de_DE; a no-break space), "￥1,250"
    (JPY, ja_JP); -500 → "-$5.00"."""
    currency, locale = _resolve(currency, locale)
    with localcontext(prec=_PRECISION):  # any integer (a hostile "expected amount" in a message) formats
        return babel_numbers.format_currency(_major(minor, currency), currency, locale=locale)


def format_major_amount(major: float, currency: str | None = None, locale: Locale | str | None = None) -> str:
    """A major-unit figure that need not be whole minor units (an average ticket), rounded to the
    currency's decimals; a negative one (net revenue after refunds) as "-$3.00", like format_money."""
    currency, locale = _resolve(currency, locale)
    with localcontext(prec=_PRECISION):
        return babel_numbers.format_currency(Decimal(repr(float(major))), currency, locale=locale)


def format_whole_major(major: float, currency: str | None = None, locale: Locale | str | None = None) -> str:
    """A chart tick: "$40" for a whole number of major units, else to the currency's decimals."""
    currency, locale = _resolve(currency, locale)
    if major != int(major):
        return format_major_amount(major, currency, locale)
    with localcontext(prec=_PRECISION):
        return babel_numbers.format_currency(int(major), currency, locale=locale, currency_digits=False,
                                             format=_whole_pattern(locale))


def _whole_pattern(locale: Locale) -> str:
    """The locale's currency pattern without decimals ("¤#,##0" for "¤#,##0.00")."""
    pattern = locale.currency_formats["standard"].pattern
    return re.sub(r"\.0+", "", pattern)


def minor_to_major(minor: float | None, currency: str | None = None) -> float | int | None:
    """1050 → 10.5 for USD, 1050 → 1050 for JPY, 1050 → 1.05 for BHD (a number: for JSON and
    charts, never for arithmetic); None → None."""
    if minor is None:
        return None
    places = exponent(currency)
    return minor / 10 ** places if places else minor


def minor_to_decimal(minor: int | None, currency: str | None = None) -> str:
    """1250 → "12.50" (USD), "1250" (JPY), "1.250" (BHD): a dot decimal with the currency's
    decimals, no currency sign, no thousands separator (CSV cells); None → ""."""
    if minor is None:
        return ""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** places)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def minor_to_input(minor: int | None, currency: str | None = None, locale: Locale | str | None = None) -> str:
    """The amount a form field shows: minor_to_decimal with the locale's decimal separator ("12,50"
    in de_DE), never grouped, so parse_money reads it back in that locale without doubt; None → ""."""
    currency, locale = _resolve(currency, locale)
    text = minor_to_decimal(minor, currency)
    return text.replace(".", babel_numbers.get_decimal_symbol(locale))


def typed_example(whole: int = 10, fraction: str = "50", currency: str | None = None,
                  locale: Locale | str | None = None) -> str:
    """An amount as a person would type it: "10.50" (USD, en_US), "10,50" (EUR, de_DE), "10" (JPY),
    "10.500" (BHD); `fraction`: the decimals shown ("00": "100.00")."""
    currency, locale = _resolve(currency, locale)
    places = exponent(currency)
    if not places:
        return str(whole)
    return minor_to_input(whole * 10 ** places + int(fraction.ljust(places, "0")[:places]), currency, locale)


def example(whole: int = 10, fraction: str = "50", currency: str | None = None,
            locale: Locale | str | None = None) -> str:
    """How an amount is typed, for a form's message: "10 or 10.50" (USD, en_US), "10 or 10,50"
    (EUR, de_DE), "10" (JPY), "10 or 10.500" (BHD) — a Text, read in the reader's language."""
    currency_code, _locale = _resolve(currency, locale)
    if not exponent(currency_code):
        return str(whole)
    return _("%(whole)s or %(typed)s", whole=str(whole), typed=typed_example(whole, fraction, currency, locale))


def in_currency(currency: str | None = None, bare: bool = False) -> Text:
    """The currency as a form's message names it: "in dollars" (USD), "in EUR"; `bare`: "dollars", "EUR"."""
    currency = currency or current_currency()
    if bare:
        return _("dollars") if currency == "USD" else Text(currency)
    return _("in dollars") if currency == "USD" else _("in %(currency)s", currency=currency)


class MoneyError(ValueError):
    """Text that is not an amount in the currency; ``str()`` says why (in English)."""


_SPACES = "\u00a0\u202f\u2009 "


def _symbols(currency: str, locale: Locale) -> list[str]:
    """What may stand before or after the number: the currency's sign in the locale and in English,
    and its code; longest first."""
    found = {currency, babel_numbers.get_currency_symbol(currency, locale).replace("\u200f", ""),
             babel_numbers.get_currency_symbol(currency, "en")}
    if currency == "JPY":
        found |= {"¥", "￥"}
    return sorted((s for s in found if s), key=len, reverse=True)


def _readings(locale: Locale) -> list[tuple[str, str | None]]:
    """(decimal mark, group mark or None) a number may be written with: the locale's own, and a dot
    decimal always (with the locale's grouping where that is not a dot or a comma)."""
    decimal = babel_numbers.get_decimal_symbol(locale)
    group = babel_numbers.get_group_symbol(locale)
    readings = [(decimal, group if group != decimal else None)]
    if decimal != ".":
        readings.append((".", group if group not in ".," else None))
    return readings


def _group_pattern(group: str | None) -> str:
    if group is None:
        return ""
    if group in _SPACES:
        return f"[{re.escape(_SPACES)}]"
    if group in "’'":
        return "['’]"
    return re.escape(group)


def _read(text: str, decimal: str, group: str | None, places: int, max_whole: int) -> int | None:
    """The amount in minor units if `text` is a number in this reading, else None."""
    g = _group_pattern(group)
    whole = rf"[1-9][0-9]{{0,2}}(?:{g}[0-9]{{3}})+|[0-9]*" if g else r"[0-9]*"
    frac = rf"(?:{re.escape(decimal)}([0-9]{{1,{places}}}))?" if places else ""
    match = re.fullmatch(rf"({whole}){frac}", text)
    if not match:
        return None
    digits = re.sub(r"[^0-9]", "", match.group(1))
    fraction = match.group(2) if places else None
    if not digits and not fraction or len(digits.lstrip("0")) > max_whole:
        return None
    return int(digits or "0") * 10 ** places + int((fraction or "").ljust(places, "0") or "0")


def parse_money(text: str, currency: str | None = None, locale: Locale | str | None = None) -> int:
    """What a person typed in the major unit → minor units: "10", "10.5", "$10", "1,000.00" (USD,
    en_US); "12,50", "12.50", "1.234,50 €" (EUR, de_DE); "1250" but never "12.5" (JPY); up to three
    decimals for BHD. A dot decimal is always understood; the locale's own decimal and grouping
    marks too. MoneyError (a ValueError saying why) for a negative amount, more decimals than the
    currency has, letters, nothing, or text two readings would take for different amounts (de_DE,
    BHD: "1.250" is 1.25 or 1250)."""
    currency, locale = _resolve(currency, locale)
    places = exponent(currency)
    raw = (text or "").strip(_SPACES + "\t\n\r\u200f\u200e")
    for symbol in _symbols(currency, locale):
        if raw.startswith(symbol):
            raw = raw[len(symbol):]
            break
        if raw.endswith(symbol):
            raw = raw[:-len(symbol)]
            break
    raw = raw.strip(_SPACES)
    if not raw:
        raise MoneyError(f"not an amount: {text!r}")
    if raw.startswith("-"):
        raise MoneyError(f"a negative amount: {text!r}")
    max_whole = WHOLE_DIGITS_READ - places
    found = {amount for decimal, group in _readings(locale)
             if (amount := _read(raw, decimal, group, places, max_whole)) is not None}
    if len(found) > 1:
        raise MoneyError(f"{text!r} could be {' or '.join(format_money(a, currency, locale) for a in sorted(found))}: "
                         f"type it without thousands separators")
    if not found:
        decimals = f"at most {places} decimals" if places else "no decimals"
        raise MoneyError(f"not an amount in {currency} ({decimals}): {text!r}")
    return found.pop()
