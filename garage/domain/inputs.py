"""What Garage accepts as typed input, whatever field or parameter it arrives in.
Pure Python: no Flask, no database. (Dates: garage/domain/periods.py `parse_date`;
amounts in dollars: garage/domain/money.py `parse_money`.)

- **A number** a person types (a form field, a query parameter such as ``page`` or
  ``limit``, a hidden field) is ASCII digits ``0-9`` only, in a stated range:
  no sign, no exponent, no ``_``, and none of the other characters Python's
  ``int()`` or ``str.isdigit()`` take for digits (``²``, ``٣``, ``８``).
  :func:`parse_whole` is the one parser; out of range is an :class:`InvalidInput`
  that says the range, never an overflow further down.
- **Text** may contain no control character (Unicode category Cc: NUL, CR, LF, TAB,
  ESC, DEL, C1) and no lone surrogate. The web layer refuses such a request before any
  view runs (garage/web.py, every query parameter, form field and path segment;
  garage/api/operation.py, every string of a JSON body), so no field can forget it.
  The one exception is the address (``MULTILINE_FIELDS``), which may also hold line breaks.
"""
from __future__ import annotations

import re

from .errors import InvalidInput, Malformed
from .words import Text, _

_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_LONGEST = 18  # digits read at all: far beyond any range below, far below a bigint
MAX_PAGE = 100_000


def parse_whole(raw: str | None, *, field: str, minimum: int, maximum: int,
                default: int | None = None, label: str | None = None) -> int:
    """`raw` (surrounding spaces ignored) as a whole number in [minimum, maximum].
    Blank gives `default` when there is one. Otherwise InvalidInput (422) for `field`:
    "<label> must be a whole number from <minimum> to <maximum>"."""
    text = (raw or "").strip()
    if text == "" and default is not None:
        return default
    if _WHOLE.fullmatch(text) and len(text) <= _LONGEST and minimum <= int(text) <= maximum:
        return int(text)
    raise InvalidInput(_("%(label)s must be a whole number from %(minimum)d to %(maximum)d",
                         label=label or field, minimum=minimum, maximum=maximum), field=field)


_SIGNED = re.compile(r"[+-]?([0-9]+)", re.ASCII)


def parse_integer(raw: str | None) -> int | None:
    """`raw` (surrounding spaces ignored) as a whole number with an optional sign, ASCII digits
    only, or None when it is not one. For a form whose limits are checked elsewhere with their
    own words ("Total spaces must be at least 1" for -5: it *is* a whole number). More than
    18 digits read as ±10**18: outside every range, never a huge int."""
    match = _SIGNED.fullmatch((raw or "").strip())
    if match is None:
        return None
    value = int(match.group(1)) if len(match.group(1)) <= _LONGEST else 10 ** _LONGEST
    return -value if raw.strip().startswith("-") else value


def parse_page(raw: str | None) -> int:
    """A ``?page=`` parameter: blank is page 1."""
    return parse_whole(raw, field="page", minimum=1, maximum=MAX_PAGE, default=1)


class PageCount:
    """For a page of a list (a dataclass with `total` and `per_page`): how many pages there are (at least 1)."""

    total: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # exactly the Cc and Cs characters


# The multi-line texts: the garage's address (settings form field, API field), a validation
# program's codes and a permit's plates (one per line on their forms). Line breaks (CR, LF) are all
# they may hold beyond other text; every other control character is refused there too. garage/domain/garage_settings.py
# `clean_address` tidies the address's lines; the codes are split on them.
MULTILINE_FIELDS = frozenset({"garage_address", "garageAddress", "codes", "plates"})
_LINE_BREAKS = str.maketrans("", "", "\r\n")


def has_control(text: str, multiline: bool = False) -> bool:
    """True if `text` holds a character no text field accepts (`multiline`: line breaks apart)."""
    return _CONTROL.search(text.translate(_LINE_BREAKS) if multiline else text) is not None


def control_message(field: str) -> Text:
    return _("%(field)s: control characters (such as NUL, line breaks or tabs) are not allowed", field=field)


CONTROL_MESSAGE = str(control_message("{field}"))  # the API's: CONTROL_MESSAGE.format(field=...) (English)


def check_text(text: str, field: str) -> str:
    """`text` unchanged, or Malformed (400) naming `field` if it holds a control character."""
    if has_control(text):
        raise Malformed(control_message(field), field=field)
    return text
