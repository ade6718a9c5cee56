"""Which languages Garage speaks, and what a language setting may be. Pure Python (Babel's data).

- :data:`LANGUAGES`: the languages with a complete catalog (translations/<code>/), by code, each named
  in its own language (what a chooser shows).
- :func:`is_language`: a code Garage speaks ("" is not one: it means "the browser's").
"""
from __future__ import annotations

LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def is_language(code: str) -> bool:
    return code in LANGUAGES


# The format locales a person may choose for themselves (their account page): amounts, dates, times
# and numbers written as there. "" is not one: it means "the garage's".
FORMAT_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_IE", "de_DE", "de_AT", "de_CH", "fr_FR", "nl_NL", "it_IT", "es_ES")


def is_format_locale(code: str) -> bool:
    return code in FORMAT_LOCALES


def locale_name(code: str) -> str:
    """A format locale named in its own language: "Deutsch (Deutschland)"."""
    from babel import Locale  # Babel's data: pure Python

    return Locale.parse(code).get_display_name() or code
