"""Which languages Garage speaks, and what a language setting may be. Pure Python (Babel's data).

- :data:`LANGUAGES`: the languages with a complete catalog (translations/<code>/), by code, each named
  in its own language (what a chooser shows).
- :func:`is_language`: a code Garage speaks ("" is not one: it means "the browser's").
- :func:`is_currency`, :func:`is_locale`: a garage's currency (ISO 4217) and format locale (Babel
  parses it); :data:`COMMON_CURRENCIES`, :data:`COMMON_LOCALES` what choosers offer first.
"""
from __future__ import annotations

from .words import _

LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def is_language(code: str) -> bool:
    return code in LANGUAGES


# --- A garage's currency and locale (issue 22) ---------------------------------------------------

# ISO 4217 codes that are no money a garage takes: precious metals, funds and units of account, the
# testing and "no currency" codes (Babel knows them all).
_NOT_MONEY = frozenset({"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"})

# The currencies a chooser offers first (any other code Babel knows may be typed).
COMMON_CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
                                      "PLN", "CZK", "HUF", "MXN", "BRL", "INR", "CNY", "KRW", "SGD", "ZAR", "BHD",
                                      "KWD", "AED")

# The locales a chooser offers (amounts, dates and numbers are written the locale's way).
COMMON_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_CA", "en_AU", "en_IE", "de_DE", "de_AT", "de_CH", "fr_FR",
                                   "fr_BE", "fr_CH", "fr_CA", "es_ES", "es_MX", "it_IT", "nl_NL", "nl_BE", "pt_PT",
                                   "pt_BR", "pl_PL", "cs_CZ", "sv_SE", "da_DK", "nb_NO", "fi_FI", "ja_JP", "ko_KR",
                                   "zh_Hans_CN", "ar_BH")


def is_currency(code: object) -> bool:
    """A 3-letter ISO 4217 code (upper case) Babel knows that is money: "EUR", "JPY", "BHD"."""
    from babel.numbers import is_currency as known
    return (isinstance(code, str) and len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()
            and code not in _NOT_MONEY and known(code))


def is_locale(code: object) -> bool:
    """A language and region Babel has data for, written as Babel writes it: "de_DE", "ja_JP", "en_US"
    (not "de" alone, "de_de", "DE_de" or "und": a setting is stored as typed, so one spelling per locale)."""
    from babel import Locale, UnknownLocaleError
    if not (isinstance(code, str) and 2 <= len(code) <= 16 and code.isascii()
            and all(part.isalnum() for part in code.split("_"))):
        return False
    try:
        found = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return found.territory is not None and str(found) == code and found.language != "und"


# --- The international settings of a garage (issue 22): what check_international accepts -------------

INTERNATIONAL_SETTINGS = ("currency", "locale", "language", "lobby_language", "legal_name", "tax_added")
LEGAL_NAME_MAX = 120  # garages.legal_name


def _language_or_none(code: object) -> bool:
    return isinstance(code, str) and (code == "" or is_language(code))


def check_international(changes: dict) -> dict[str, str]:
    """Problems with the international settings among `changes` (only those present), by setting name:
    the currency (ISO 4217), the format locale (Babel's), the default and lobby languages (one Garage
    speaks, or "": the browser's / none), the legal name (printable, at most 120 characters) and
    whether tax is added to prices (true/false). Empty when all are valid."""
    errors: dict[str, str] = {}
    if "currency" in changes and not is_currency(changes["currency"]):
        errors["currency"] = _("The currency must be a 3-letter ISO 4217 code in capitals, e.g. EUR or JPY")
    if "locale" in changes and not is_locale(changes["locale"]):
        errors["locale"] = _("The locale must be a language and region Garage knows, e.g. en_US or de_DE")
    spoken = ", ".join(LANGUAGES)
    if "language" in changes and not _language_or_none(changes["language"]):
        errors["language"] = _("The language must be one of %(languages)s, or empty for the browser's",
                                      languages=spoken)
    if "lobby_language" in changes and not _language_or_none(changes["lobby_language"]):
        errors["lobby_language"] = _("The lobby's second language must be one of %(languages)s, or empty for none",
                                            languages=spoken)
    if "legal_name" in changes:
        name = changes["legal_name"]
        if not (isinstance(name, str) and name.isprintable() and len(name.strip()) <= LEGAL_NAME_MAX):
            errors["legal_name"] = _("The legal name must be printable text of at most %(most)d characters",
                                        most=LEGAL_NAME_MAX)
    if "tax_added" in changes and not isinstance(changes["tax_added"], bool):
        errors["tax_added"] = _("Say whether tax is added to prices: true or false")
    return errors


# The format locales a person may choose for themselves (their account page): amounts, dates, times
# and numbers written as there. "" is not one: it means "the garage's".
FORMAT_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_IE", "de_DE", "de_AT", "de_CH", "fr_FR", "nl_NL", "it_IT", "es_ES")


def is_format_locale(code: str) -> bool:
    return code in FORMAT_LOCALES


def locale_name(code: str) -> str:
    """A format locale named in its own language: "Deutsch (Deutschland)"."""
    from babel import Locale  # Babel's data: pure Python

    return Locale.parse(code).get_display_name() or code
