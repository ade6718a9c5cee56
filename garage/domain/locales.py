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
